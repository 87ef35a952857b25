#include "migrations.h"

#include <algorithm>
#include <filesystem>
#include <map>

#include <pqxx/pqxx>

#include "pg.h"
#include "trace/common/encoding.h"
#include "trace/common/files.h"
#include "trace/common/sha256.h"

namespace trace::admin {
namespace {

// Any constant shared by every trace-admin: serializes concurrent `migrate`.
constexpr long kMigrateLockKey = 0x7472616365;  // "trace"

// "0001_core.sql" -> 1; -1 when the name does not fit NNNN_name.sql.
int VersionOf(const std::string& file) {
  if (file.size() < 10 || file.substr(file.size() - 4) != ".sql" || file[4] != '_') return -1;
  for (int i = 0; i < 4; ++i) {
    if (file[i] < '0' || file[i] > '9') return -1;
  }
  for (size_t i = 5; i + 4 < file.size(); ++i) {
    char c = file[i];
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_')) return -1;
  }
  return std::stoi(file.substr(0, 4));
}

}  // namespace

Result<std::vector<MigrationFile>> ReadMigrations(const std::string& dir) {
  std::error_code ec;
  if (!std::filesystem::is_directory(dir, ec)) return Fail(NotFound(dir + ": no migrations directory"));
  std::vector<MigrationFile> files;
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
    std::string name = entry.path().filename().string();
    if (entry.path().extension() != ".sql") continue;
    int version = VersionOf(name);
    if (version < 0) {
      return Fail(InvalidArgument(dir + "/" + name + ": migration files are named NNNN_name.sql (name: a-z, 0-9, _)"));
    }
    auto sql = ReadFile(entry.path().string());
    if (!sql) return Fail(sql.error());
    files.push_back({version, name, *sql, HashBytes(Sha256(*sql))});
  }
  if (ec) return Fail(Unavailable(dir + ": " + ec.message()));
  if (files.empty()) return Fail(NotFound(dir + ": no NNNN_name.sql migration files"));
  std::sort(files.begin(), files.end(), [](const auto& a, const auto& b) { return a.version < b.version; });
  for (size_t i = 1; i < files.size(); ++i) {
    if (files[i].version == files[i - 1].version) {
      return Fail(InvalidArgument(dir + ": " + files[i - 1].name + " and " + files[i].name + " share a version"));
    }
  }
  return files;
}

Result<MigrateOutcome> Migrate(const std::string& db_url, const std::string& dir) {
  auto files = ReadMigrations(dir);
  if (!files) return Fail(files.error());
  MigrateOutcome outcome;
  std::string step = "connect";
  try {
    pqxx::connection conn(db_url);
    step = "lock";
    {
      pqxx::nontransaction n(conn);
      n.exec("SET client_min_messages = warning");
      n.exec_params("SELECT pg_advisory_lock($1)", kMigrateLockKey);
      n.exec(
          "CREATE TABLE IF NOT EXISTS schema_migrations ("
          " version integer PRIMARY KEY,"
          " name text NOT NULL,"
          " sha256 bytea NOT NULL CHECK (length(sha256) = 32),"
          " applied_at timestamptz NOT NULL DEFAULT now())");
    }
    step = "read schema_migrations";
    std::map<int, std::pair<std::string, std::string>> applied;  // version -> (name, sha256)
    {
      pqxx::read_transaction r(conn);
      for (const auto& row : r.exec("SELECT version, name, sha256 FROM schema_migrations")) {
        applied[row[0].as<int>()] = {row[1].as<std::string>(), pqxx::binarystring(row[2]).str()};
      }
    }
    // Check every applied file before applying anything new.
    for (const auto& f : *files) {
      auto it = applied.find(f.version);
      if (it == applied.end()) continue;
      if (it->second.second != f.sha256) {
        return Fail(FailedPrecondition(
            dir + "/" + f.name + " changed after it was applied (recorded sha256 " + HexEncode(it->second.second) +
            ", file now " + HexEncode(f.sha256) + "); never edit an applied migration, add a new one"));
      }
    }
    for (const auto& f : *files) {
      if (applied.contains(f.version)) continue;
      step = f.name;
      pqxx::work w(conn);
      w.exec(f.sql);
      w.exec_params("INSERT INTO schema_migrations (version, name, sha256) VALUES ($1, $2, $3)", f.version, f.name,
                    pqxx::binarystring(f.sha256));
      w.commit();
      outcome.applied.push_back(f.name);
      applied[f.version] = {f.name, f.sha256};
    }
    outcome.current = applied.empty() ? 0 : applied.rbegin()->first;
    // The advisory lock ends with the connection.
  } catch (const std::exception& e) {
    return Fail(PgError("migrate: " + step, e));
  }
  return outcome;
}

}  // namespace trace::admin
