// Schema migrations: plain SQL files NNNN_name.sql in one folder, applied in
// order of NNNN, each in its own transaction together with its row in
// schema_migrations(version, name, sha256, applied_at).
//
// Applying twice does nothing. A file whose SHA-256 differs from the one
// recorded when it was applied is refused (FailedPrecondition naming the file):
// a migration, once applied somewhere, is never edited — add a new file.
// Concurrent migrators serialize on a PostgreSQL advisory lock.
#pragma once

#include <string>
#include <vector>

#include "trace/common/status.h"

namespace trace::admin {

struct MigrationFile {
  int version = 0;       // the NNNN prefix
  std::string name;      // the file name, "0001_core.sql"
  std::string sql;       // its contents
  std::string sha256;    // raw 32-byte SHA-256 of the contents
};

// Reads every *.sql file of `dir`, sorted by version. InvalidArgument for a
// .sql file not named NNNN_name.sql or two files with one version; NotFound
// when `dir` does not exist or holds no migration.
Result<std::vector<MigrationFile>> ReadMigrations(const std::string& dir);

struct MigrateOutcome {
  std::vector<std::string> applied;  // file names applied by this call, in order
  int current = 0;                   // highest version applied after this call
};

// Applies the files of `dir` not yet recorded in the database at `db_url`.
// Stops at the first failing file (its transaction rolls back; earlier files
// stay applied) and returns its error with the file name.
Result<MigrateOutcome> Migrate(const std::string& db_url, const std::string& dir);

}  // namespace trace::admin
