// Helpers of the anchor's PostgreSQL tests: one stack (PostgreSQL only) per
// test executable, fresh migrated databases, envelopes inserted with SQL.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "harness/stack.h"
#include "trace/common/platform_keys.h"

namespace trace::anchor::test {

testing::Stack& TheStack();

// A new database `name` (dropped first if it exists), migrated, with the stack's
// platform keys registered (trace-admin keys). Returns its URL.
std::string NewDatabase(const std::string& name);

// The stack's platform keys (TRACE_KEYS_DIR).
const PlatformKeys& Keys();

// Inserts envelopes seq first..last for org "test-org", device "dev-1" (both
// created when missing). canonical = {"n":seq,"salt":"<salt>"}, id = SHA-256 of it.
void InsertEnvelopes(const std::string& url, int64_t first, int64_t last, const std::string& salt = "a");

struct LogCheck {
  uint64_t envelopes = 0;
  uint64_t leaves = 0;
};
// Checks the log in `url` with gtest assertions: leaf indexes are exactly
// 0..n-1, each envelope at most once, log_nodes give RootOf(leaf hashes of the
// canonical bytes in leaf order), every inclusion proof read through
// PgHashReader verifies, the newest checkpoint signs that root, consistency
// proofs between every pair of stored checkpoints verify.
LogCheck CheckLog(const std::string& url, bool all_proofs = true);

}  // namespace trace::anchor::test
