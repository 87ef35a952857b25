#include "checkpointer.h"

#include <pqxx/pqxx>

#include "trace/common/merkle.h"
#include "trace/common/pg_log.h"

namespace trace::anchor {

Result<std::optional<Checkpoint>> Checkpointer::MaybeCheckpoint(pqxx::connection_base& conn, bool force,
                                                                std::optional<Expected> expected) {
  auto now = std::chrono::steady_clock::now();
  if (!force && now - last_ < options_.interval) return std::nullopt;
  try {
    pqxx::work tx(conn);
    auto size = pg::ReadTreeSize(tx);
    if (!size) return Fail(size.error());
    int64_t newest = tx.exec("SELECT coalesce(max(tree_size), 0) FROM checkpoints")[0][0].as<int64_t>();
    if (*size == 0 || *size <= static_cast<uint64_t>(newest)) return std::nullopt;

    pg::PgHashReader reader(tx);
    auto root = merkle::RootHash(reader, *size);
    if (!root) {
      Status s = root.error();
      if (s.code() == StatusCode::kNotFound) s = DataLoss(s.message());
      return Fail(s.WithContext("checkpoint root of size " + std::to_string(*size)));
    }
    if (expected && expected->tree_size == *size && expected->root != *root) {
      return Fail(DataLoss("log_nodes give root " + HashHex(*root) + " for size " + std::to_string(*size) +
                           ", the sequencer computed " + HashHex(expected->root) + "; not signing"));
    }
    Checkpoint cp{.origin = options_.log_name, .tree_size = *size, .root = *root};
    auto note = SignCheckpoint(cp, options_.log_name, key_);
    if (!note) return Fail(note.error().WithContext("signing checkpoint"));
    pqxx::result r = tx.exec_params(
        "INSERT INTO checkpoints (tree_size, root, note, key_id) "
        "VALUES ($1, $2, $3, (SELECT id FROM platform_keys WHERE id = $4)) "
        "ON CONFLICT (tree_size) DO NOTHING RETURNING tree_size",
        static_cast<int64_t>(*size), pqxx::binarystring(root->data(), root->size()), *note, options_.key_id);
    tx.commit();
    last_ = now;
    if (r.empty()) return std::nullopt;
    return cp;
  } catch (const std::exception& e) {
    return Fail(pg::PgError("checkpoint", e));
  }
}

}  // namespace trace::anchor
