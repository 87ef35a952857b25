#include "pg_hash_reader.h"

#include <pqxx/pqxx>
#include <string>

#include "trace/common/encoding.h"

namespace trace::api {

Result<Hash> PgHashReader::SubtreeHash(const merkle::SubtreeId& id) const {
  auto hashes = SubtreeHashes(std::span<const merkle::SubtreeId>(&id, 1));
  if (!hashes) return Fail(hashes.error());
  return hashes->front();
}

Result<std::vector<Hash>> PgHashReader::SubtreeHashes(std::span<const merkle::SubtreeId> ids) const {
  std::vector<Hash> out;
  if (ids.empty()) return out;
  std::string levels = "{", indexes = "{";
  for (size_t i = 0; i < ids.size(); ++i) {
    if (i > 0) {
      levels += ',';
      indexes += ',';
    }
    levels += std::to_string(ids[i].level);
    indexes += std::to_string(ids[i].index);
  }
  levels += '}';
  indexes += '}';
  pqxx::result r = tx_.exec_params(
      "SELECT u.ord, encode(n.hash, 'hex') FROM unnest($1::smallint[], $2::bigint[]) WITH ORDINALITY "
      "AS u(level, idx, ord) LEFT JOIN log_nodes n ON n.level = u.level AND n.idx = u.idx ORDER BY u.ord",
      levels, indexes);
  out.reserve(ids.size());
  for (size_t i = 0; i < r.size(); ++i) {
    if (r[i][1].is_null()) {
      return Fail(NotFound("log_nodes: no subtree (level " + std::to_string(ids[i].level) + ", idx " +
                           std::to_string(ids[i].index) + ")"));
    }
    auto bytes = HexDecode(r[i][1].as<std::string>());
    if (!bytes) return Fail(DataLoss("log_nodes: bad hash"));
    auto h = merkle::HashFromBytes(*bytes);
    if (!h) return Fail(DataLoss("log_nodes: hash of " + std::to_string(bytes->size()) + " bytes"));
    out.push_back(*h);
  }
  if (out.size() != ids.size()) return Fail(Internal("log_nodes: row count mismatch"));
  return out;
}

}  // namespace trace::api
