// Small file helpers with Status errors (leveldb's Env, reduced to what we need).
#pragma once

#include <string>

#include "trace/common/status.h"

namespace trace {

Result<std::string> ReadFile(const std::string& path);

// Writes `data` to `path` atomically: a temporary file in the same folder, fsync,
// rename, fsync of the folder. `mode` applies from creation (no window where a
// secret is world-readable).
Status WriteFileAtomic(const std::string& path, std::string_view data, unsigned mode = 0644);

// The file's permission bits (st_mode & 0777).
Result<unsigned> FileMode(const std::string& path);

}  // namespace trace
