#include "trace/common/pg_log.h"

#include <map>

#include <pqxx/pqxx>

namespace trace::pg {

Status PgError(std::string_view context, const std::exception& e) {
  std::string what = e.what();
  while (!what.empty() && (what.back() == '\n' || what.back() == ' ')) what.pop_back();
  Status s;
  if (dynamic_cast<const pqxx::broken_connection*>(&e) != nullptr ||
      dynamic_cast<const pqxx::in_doubt_error*>(&e) != nullptr) {
    s = Unavailable("database unreachable: " + what);
  } else if (dynamic_cast<const pqxx::unique_violation*>(&e) != nullptr) {
    s = AlreadyExists(what);
  } else if (dynamic_cast<const pqxx::foreign_key_violation*>(&e) != nullptr) {
    s = NotFound(what);
  } else if (dynamic_cast<const pqxx::check_violation*>(&e) != nullptr) {
    s = InvalidArgument(what);
  } else if (dynamic_cast<const pqxx::serialization_failure*>(&e) != nullptr ||
             dynamic_cast<const pqxx::deadlock_detected*>(&e) != nullptr) {
    s = Unavailable("retry: " + what);
  } else if (const auto* sql = dynamic_cast<const pqxx::sql_error*>(&e); sql != nullptr) {
    // Class 08 (connection exception) and 57P01..57P03 (admin shutdown, crash) mean "try again".
    const std::string& state = sql->sqlstate();
    if (state.rfind("08", 0) == 0 || state == "57P01" || state == "57P02" || state == "57P03") {
      s = Unavailable("database unreachable: SQLSTATE " + state + ": " + what);
    } else {
      s = Internal("SQLSTATE " + state + ": " + what);
    }
  } else {
    s = Internal(what);
  }
  return s.WithContext(context);
}

void ConnectionDeleter::operator()(pqxx::connection_base* conn) const {
  delete static_cast<pqxx::connection*>(conn);
}

Result<ConnectionPtr> Connect(const std::string& url) {
  try {
    return ConnectionPtr(new pqxx::connection(url));
  } catch (const std::exception& e) {
    return Fail(PgError("connecting to the database", e));
  }
}

std::string ByteaLiteral(std::string_view bytes) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out = "\\x";
  out.reserve(2 + 2 * bytes.size());
  for (unsigned char c : bytes) {
    out += kHex[c >> 4];
    out += kHex[c & 15];
  }
  return out;
}

Result<Hash> PgHashReader::SubtreeHash(const merkle::SubtreeId& id) const {
  auto hashes = SubtreeHashes(std::span<const merkle::SubtreeId>(&id, 1));
  if (!hashes) return Fail(hashes.error());
  return hashes->front();
}

Result<std::vector<Hash>> PgHashReader::SubtreeHashes(std::span<const merkle::SubtreeId> ids) const {
  if (ids.empty()) return std::vector<Hash>{};
  // One query: (level, idx) IN (VALUES ...), answered by primary-key lookups.
  std::string sql = "SELECT level, idx, hash FROM log_nodes WHERE (level, idx) IN (VALUES ";
  for (size_t i = 0; i < ids.size(); ++i) {
    if (ids[i].level > 63 || ids[i].index > static_cast<uint64_t>(INT64_MAX)) {
      return Fail(NotFound("log_nodes: no subtree (" + std::to_string(ids[i].level) + ", " +
                           std::to_string(ids[i].index) + ")"));
    }
    if (i > 0) sql += ",";
    sql += "(" + std::to_string(ids[i].level) + "::smallint," + std::to_string(ids[i].index) + "::bigint)";
  }
  sql += ")";
  std::map<merkle::SubtreeId, Hash> found;
  try {
    ++queries_;
    pqxx::result r = tx_.exec(sql);
    for (const auto& row : r) {
      merkle::SubtreeId id{row[0].as<uint64_t>(), row[1].as<uint64_t>()};
      pqxx::binarystring bytes(row[2]);
      if (bytes.size() != 32) {
        return Fail(DataLoss("log_nodes (" + std::to_string(id.level) + ", " + std::to_string(id.index) +
                             "): hash of " + std::to_string(bytes.size()) + " bytes"));
      }
      Hash h;
      std::copy(bytes.data(), bytes.data() + 32, h.begin());
      found[id] = h;
    }
  } catch (const std::exception& e) {
    return Fail(PgError("log_nodes", e));
  }
  std::vector<Hash> out;
  out.reserve(ids.size());
  for (const auto& id : ids) {
    auto it = found.find(id);
    if (it == found.end()) {
      return Fail(NotFound("log_nodes: no subtree (" + std::to_string(id.level) + ", " + std::to_string(id.index) +
                           ")"));
    }
    out.push_back(it->second);
  }
  return out;
}

Result<uint64_t> ReadTreeSize(pqxx::transaction_base& tx) {
  try {
    // The primary key index answers max() with one descent.
    pqxx::result r = tx.exec("SELECT coalesce(max(leaf_index) + 1, 0) FROM log_leaves");
    return r[0][0].as<uint64_t>();
  } catch (const std::exception& e) {
    return Fail(PgError("log_leaves: tree size", e));
  }
}

Status InsertSubtrees(pqxx::transaction_base& tx, std::span<const merkle::Subtree> subtrees) {
  constexpr size_t kRowsPerStatement = 1000;
  try {
    for (size_t start = 0; start < subtrees.size(); start += kRowsPerStatement) {
      size_t end = std::min(subtrees.size(), start + kRowsPerStatement);
      std::string sql = "INSERT INTO log_nodes (level, idx, hash) VALUES ";
      for (size_t i = start; i < end; ++i) {
        const auto& s = subtrees[i];
        if (i > start) sql += ",";
        sql += "(" + std::to_string(s.id.level) + "," + std::to_string(s.id.index) + ",'" +
               ByteaLiteral(HashBytes(s.hash)) + "')";
      }
      tx.exec0(sql);
    }
  } catch (const std::exception& e) {
    return PgError("log_nodes: insert", e);
  }
  return OkStatus();
}

}  // namespace trace::pg
