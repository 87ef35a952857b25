#include "sequencer.h"

#include <algorithm>
#include <string>
#include <vector>

#include <pqxx/pqxx>

#include "trace/common/pg_log.h"

namespace trace::anchor {

Result<Sequencer::CycleResult> Sequencer::RunCycle(pqxx::connection_base& conn) {
  CycleResult out;
  try {
    pqxx::work tx(conn);
    tx.exec_params("SELECT pg_advisory_xact_lock($1)", kSequencerXactLockKey);
    auto size = pg::ReadTreeSize(tx);
    if (!size) return Fail(size.error());
    if (!range_ || range_->size() != *size) {
      pg::PgHashReader reader(tx);
      auto loaded = merkle::CompactRange::Load(reader, *size);
      if (!loaded) {
        Status s = loaded.error();
        if (s.code() == StatusCode::kNotFound) s = DataLoss(s.message());
        return Fail(s.WithContext("rebuilding the compact range of size " + std::to_string(*size)));
      }
      range_ = std::move(*loaded);
    }

    auto now = std::chrono::steady_clock::now();
    bool full_scan = now - last_full_scan_ >= options_.full_scan_every;
    int64_t from = full_scan ? 0 : std::max<int64_t>(0, max_stored_no_ - options_.lookback);
    // Innermost: the next batch_size unsequenced envelopes; then the running byte
    // total over just those; outermost: cut where the total passes max_batch_bytes.
    pqxx::result rows = tx.exec_params(
        "SELECT id, canonical, stored_no, n FROM ("
        "  SELECT id, canonical, stored_no, count(*) OVER () AS n, "
        "         sum(octet_length(canonical)) OVER (ORDER BY stored_no) AS upto FROM ("
        "    SELECT e.id, e.canonical, e.stored_no FROM envelopes e "
        "    WHERE e.stored_no > $1 AND NOT EXISTS (SELECT 1 FROM log_leaves l WHERE l.envelope_id = e.id) "
        "    ORDER BY e.stored_no LIMIT $2) lim) w "
        "WHERE upto - octet_length(canonical) < $3 ORDER BY stored_no",
        from, options_.batch_size, options_.max_batch_bytes);
    bool more = !rows.empty() && (rows.size() == static_cast<pqxx::result::size_type>(options_.batch_size) ||
                                  rows.size() < rows[0][3].as<pqxx::result::size_type>());

    merkle::CompactRange working = *range_;
    std::vector<merkle::Subtree> subtrees;
    subtrees.reserve(rows.size() * 2);
    std::string leaves_sql;
    int64_t max_no = max_stored_no_;
    for (pqxx::result::size_type i = 0; i < rows.size(); ++i) {
      pqxx::binarystring id(rows[i][0]);
      pqxx::binarystring canonical(rows[i][1]);
      max_no = std::max(max_no, rows[i][2].as<int64_t>());
      uint64_t index = working.size();
      std::vector<merkle::Subtree> created = working.Append(merkle::LeafHash(std::string_view(canonical.get(), canonical.size())));
      subtrees.insert(subtrees.end(), created.begin(), created.end());
      leaves_sql += (leaves_sql.empty() ? "" : ",");
      leaves_sql += "(" + std::to_string(index) + ",'" + pg::ByteaLiteral(std::string_view(id.get(), id.size())) + "')";
    }
    if (!rows.empty()) {
      tx.exec0("INSERT INTO log_leaves (leaf_index, envelope_id) VALUES " + leaves_sql);
      if (Status s = pg::InsertSubtrees(tx, subtrees); !s.ok()) {
        range_.reset();
        return Fail(s);
      }
    }
    tx.commit();
    range_ = std::move(working);
    max_stored_no_ = max_no;
    if (full_scan) last_full_scan_ = now;
    out.appended = rows.size();
    out.more = more;
  } catch (const std::exception& e) {
    range_.reset();
    return Fail(pg::PgError("sequencing", e));
  }
  out.tree_size = range_->size();
  out.root = range_->Root();
  return out;
}

}  // namespace trace::anchor
