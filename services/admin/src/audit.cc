#include "audit.h"

#include <algorithm>
#include <map>
#include <optional>
#include <vector>

#include <boost/json.hpp>
#include <pqxx/pqxx>

#include "trace/common/anchor_contract.h"
#include "trace/common/checkpoint.h"
#include "trace/common/encoding.h"
#include "trace/common/envelope.h"
#include "trace/common/eth_client.h"
#include "trace/common/merkle.h"
#include "trace/common/pg_log.h"
#include "trace/common/secp256k1.h"
#include "trace/common/sha256.h"

namespace trace::admin {
namespace {

using Snapshot = pqxx::transaction<pqxx::isolation_level::repeatable_read, pqxx::readwrite_policy::read_only>;

std::string Bytes(const pqxx::field& f) {
  pqxx::binarystring b(f);
  return std::string(b.get(), b.size());
}

std::string Hex(std::string_view bytes) { return HexEncode(bytes); }

// A PostgreSQL array literal of plain tokens (numbers, hex): "{a,b,c}".
template <typename T>
std::string ArrayLiteral(const std::vector<T>& items) {
  std::string out = "{";
  for (size_t i = 0; i < items.size(); ++i) {
    if (i) out += ',';
    if constexpr (std::is_same_v<T, std::string>) {
      out += items[i];
    } else {
      out += std::to_string(items[i]);
    }
  }
  return out + "}";
}
std::string Hex(const Hash& h) { return HexEncode(HashBytes(h)); }

class Audit {
 public:
  Audit(const AuditOptions& options, std::ostream& progress) : options_(options), progress_(progress) {}

  Result<boost::json::object> Run() {
    std::unique_ptr<EthClient> eth;
    std::optional<TraceAnchorContract> contract;
    if (!options_.rpc_url.empty() && !options_.contract.empty()) {
      auto address = ParseAddress(options_.contract);
      if (!address) return Fail(address.error().WithContext("--contract"));
      auto client = EthClient::Create(options_.rpc_url);
      if (!client) return Fail(client.error());
      eth = std::move(*client);
      contract.emplace(*eth, *address);
    }
    try {
      pqxx::connection conn(options_.db_url);
      Snapshot tx(conn);
      if (Status s = Envelopes(tx); !s.ok()) return Fail(s);
      if (Status s = Log(tx); !s.ok()) return Fail(s);
      if (Status s = Anchors(tx, contract ? &*contract : nullptr); !s.ok()) return Fail(s);
    } catch (const std::exception& e) {
      return Fail(pg::PgError("audit", e));
    }
    boost::json::object out{{"envelopes", envelopes_}, {"leaves", leaves_}, {"nodes", nodes_},
                            {"checkpoints", checkpoints_}, {"anchors", anchors_},
                            {"chain", contract ? "checked" : "not configured"}, {"problems", problems_}};
    return out;
  }

 private:
  void Problem(std::string_view table, std::string key, std::string what) {
    progress_ << "audit: PROBLEM " << table << " " << key << ": " << what << "\n";
    problems_.push_back(boost::json::object{{"table", table}, {"key", key}, {"what", what}});
  }

  // Envelopes by stored_no, with their device key and events.
  Status Envelopes(Snapshot& tx) {
    uint64_t total = tx.exec("SELECT count(*) FROM envelopes")[0][0].as<uint64_t>();
    int64_t after = -1;
    while (true) {
      pqxx::result rows = tx.exec_params(
          "SELECT e.stored_no, e.id, e.org, e.device, e.seq, e.canonical, e.event_count, d.public_key "
          "FROM envelopes e LEFT JOIN devices d ON d.org = e.org AND d.device = e.device "
          "WHERE e.stored_no > $1 ORDER BY e.stored_no LIMIT $2",
          after, static_cast<int64_t>(options_.batch));
      if (rows.empty()) break;
      std::vector<std::string> ids;
      for (const auto& r : rows) ids.push_back(Hex(Bytes(r[1])));
      // events of this batch, grouped by envelope id
      std::map<std::string, std::vector<std::pair<std::string, std::string>>> events;  // id -> (type, body)
      std::map<std::string, std::vector<int>> event_idx;
      for (const auto& e : tx.exec_params("SELECT envelope_id, idx, event_type, body::text FROM events "
                                          "WHERE envelope_id IN (SELECT decode(x, 'hex') FROM unnest($1::text[]) x) "
                                          "ORDER BY envelope_id, idx",
                                          ArrayLiteral(ids))) {
        std::string id = Bytes(e[0]);
        event_idx[id].push_back(e[1].as<int>());
        events[id].emplace_back(e[2].as<std::string>(), e[3].as<std::string>());
      }
      for (const auto& r : rows) {
        after = r[0].as<int64_t>();
        ++envelopes_;
        std::string id = Bytes(r[1]);
        std::string key = Hex(id);
        std::string canonical = Bytes(r[5]);
        if (HashBytes(Sha256(canonical)) != id) {
          Problem("envelopes", key, "id is not SHA-256 of canonical (which hashes to " + Hex(Sha256(canonical)) + ")");
        }
        auto env = ParseEnvelope(canonical);
        if (!env) {
          Problem("envelopes", key, "canonical is not a valid envelope: " + env.error().detail);
          continue;
        }
        if (env->canonical_bytes != canonical) Problem("envelopes", key, "canonical is not in RFC 8785 form");
        if (env->org != r[2].as<std::string>() || env->device != r[3].as<std::string>() ||
            env->seq != r[4].as<uint64_t>()) {
          Problem("envelopes", key, "org/device/seq columns differ from the envelope's");
        }
        if (r[7].is_null()) {
          Problem("envelopes", key, "no registered device " + env->org + "/" + env->device);
        } else if (!VerifyEnvelopeSignature(*env, Bytes(r[7]))) {
          Problem("envelopes", key, "signature does not verify under the registered key of " + env->org + "/" +
                                        env->device);
        }
        const auto& rows_of = events[id];
        if (rows_of.size() != env->events.size() || r[6].as<size_t>() != env->events.size()) {
          Problem("events", key,
                  std::to_string(rows_of.size()) + " events rows and event_count " + r[6].as<std::string>() +
                      " for an envelope of " + std::to_string(env->events.size()) + " events");
        }
        for (size_t i = 0; i < rows_of.size() && i < env->events.size(); ++i) {
          const auto& event = env->events[i].as_object();
          std::string where = key + "/" + std::to_string(event_idx[id][i]);
          if (event_idx[id][i] != static_cast<int>(i)) Problem("events", where, "idx out of order");
          const auto* type = event.if_contains("type");
          if (!type || !type->is_string() || rows_of[i].first != type->as_string().c_str()) {
            Problem("events", where, "event_type " + rows_of[i].first + " differs from the envelope's");
          }
          boost::system::error_code ec;
          boost::json::value body = boost::json::parse(rows_of[i].second, ec);
          if (ec || body != boost::json::value(event)) {
            Problem("events", where, "body differs from the envelope's event " + std::to_string(i));
          }
        }
      }
      progress_ << "audit: envelopes " << envelopes_ << "/" << total << "\n";
    }
    return OkStatus();
  }

  // Leaves in order; every complete subtree recomputed and compared with log_nodes;
  // checkpoints checked when the stream reaches their size.
  Status Log(Snapshot& tx) {
    uint64_t total = tx.exec("SELECT count(*) FROM log_leaves")[0][0].as<uint64_t>();
    uint64_t unsequenced =
        tx.exec("SELECT count(*) FROM envelopes e WHERE NOT EXISTS "
                "(SELECT 1 FROM log_leaves l WHERE l.envelope_id = e.id)")[0][0]
            .as<uint64_t>();
    // Sizes of the checkpoints (8 bytes each), and the log key(s).
    std::vector<uint64_t> sizes;
    for (const auto& r : tx.exec("SELECT tree_size FROM checkpoints ORDER BY tree_size")) {
      sizes.push_back(r[0].as<uint64_t>());
    }
    std::map<std::string, std::string> log_keys;  // id -> public key
    std::string active_key;
    for (const auto& r : tx.exec("SELECT id, public_key, retired_at IS NULL FROM platform_keys WHERE kind = 'log'")) {
      log_keys[r[0].as<std::string>()] = Bytes(r[1]);
      if (r[2].as<bool>()) active_key = r[0].as<std::string>();
    }
    size_t next_cp = 0;
    auto check_checkpoints_at = [&](uint64_t size) -> Status {
      while (next_cp < sizes.size() && sizes[next_cp] <= size) {
        if (sizes[next_cp] == size) {
          if (Status s = Checkpoint(tx, size, log_keys, active_key); !s.ok()) return s;
        }
        ++next_cp;
      }
      return OkStatus();
    };
    if (Status s = check_checkpoints_at(0); !s.ok()) return s;

    int64_t after = -1;
    while (true) {
      pqxx::result rows = tx.exec_params(
          "SELECT l.leaf_index, e.canonical FROM log_leaves l JOIN envelopes e ON e.id = l.envelope_id "
          "WHERE l.leaf_index > $1 ORDER BY l.leaf_index LIMIT $2",
          after, static_cast<int64_t>(options_.batch));
      if (rows.empty()) break;
      uint64_t first = leaves_;
      uint64_t end = first + rows.size();
      // Stored nodes completed by leaves [first, end): level L, idx in [ceil((first+1)/2^L)-1, end/2^L-1].
      std::vector<int> levels;
      std::vector<int64_t> lo, hi;
      for (int l = 0; l < 63 && (end >> l) > 0; ++l) {
        int64_t a = static_cast<int64_t>(((first + 1 + (uint64_t{1} << l) - 1) >> l)) - 1;
        int64_t b = static_cast<int64_t>(end >> l) - 1;
        if (a <= b) {
          levels.push_back(l);
          lo.push_back(a);
          hi.push_back(b);
        }
      }
      std::map<std::pair<int, int64_t>, Hash> stored;
      for (const auto& n : tx.exec_params(
               "SELECT n.level, n.idx, n.hash FROM unnest($1::int[], $2::bigint[], $3::bigint[]) r(l, lo, hi) "
               "JOIN log_nodes n ON n.level = r.l AND n.idx BETWEEN r.lo AND r.hi",
               ArrayLiteral(levels), ArrayLiteral(lo), ArrayLiteral(hi))) {
        auto h = merkle::HashFromBytes(Bytes(n[2]));
        stored[{n[0].as<int>(), n[1].as<int64_t>()}] = h ? *h : Hash{};
      }
      for (const auto& r : rows) {
        uint64_t index = r[0].as<uint64_t>();
        after = static_cast<int64_t>(index);
        if (index != leaves_) {
          Problem("log_leaves", std::to_string(leaves_), "missing: the next leaf index is " + std::to_string(index));
          return OkStatus();  // nothing after a gap can be recomputed
        }
        std::string canonical = Bytes(r[1]);
        Push(0, index, merkle::LeafHash(canonical), stored);
        ++leaves_;
        if (Status s = check_checkpoints_at(leaves_); !s.ok()) return s;
      }
      progress_ << "audit: leaves and nodes " << leaves_ << "/" << total << "\n";
    }
    if (unsequenced > 0) progress_ << "audit: " << unsequenced << " envelopes not yet in the log\n";
    uint64_t expected_nodes = 0;
    for (int l = 0; l < 64 && (leaves_ >> l) > 0; ++l) expected_nodes += leaves_ >> l;
    uint64_t rows = tx.exec("SELECT count(*) FROM log_nodes")[0][0].as<uint64_t>();
    if (rows != expected_nodes) {
      Problem("log_nodes", "count", std::to_string(rows) + " rows for a tree of " + std::to_string(leaves_) +
                                        " leaves, which has " + std::to_string(expected_nodes) + " complete subtrees");
    }
    for (; next_cp < sizes.size(); ++next_cp) {
      Problem("checkpoints", std::to_string(sizes[next_cp]), "tree size beyond the log (" + std::to_string(leaves_) +
                                                                  " leaves)");
    }
    return OkStatus();
  }

  // Appends a complete subtree to the right edge, merging equal levels; each subtree made
  // is compared with its stored row.
  void Push(int level, uint64_t idx, Hash hash, const std::map<std::pair<int, int64_t>, Hash>& stored) {
    while (true) {
      ++nodes_;
      auto it = stored.find({level, static_cast<int64_t>(idx)});
      std::string key = "level " + std::to_string(level) + " idx " + std::to_string(idx);
      if (it == stored.end()) {
        Problem("log_nodes", key, "missing");
      } else if (it->second != hash) {
        Problem("log_nodes", key, "hash " + Hex(it->second) + " stored, " + Hex(hash) + " recomputed");
      }
      if (!edge_.empty() && edge_.back().level == level) {
        Hash merged = merkle::NodeHash(edge_.back().hash, hash);
        edge_.pop_back();
        ++level;
        idx >>= 1;
        hash = merged;
        continue;
      }
      edge_.push_back({level, idx, hash});
      return;
    }
  }

  // The root of the tree so far, from the right edge.
  Hash Root() const {
    if (edge_.empty()) return merkle::EmptyRoot();
    Hash h = edge_.back().hash;
    for (size_t i = edge_.size() - 1; i-- > 0;) h = merkle::NodeHash(edge_[i].hash, h);
    return h;
  }

  Status Checkpoint(Snapshot& tx, uint64_t size, const std::map<std::string, std::string>& log_keys,
                    const std::string& active_key) {
    ++checkpoints_;
    auto r = tx.exec_params("SELECT root, note, key_id FROM checkpoints WHERE tree_size = $1",
                            static_cast<int64_t>(size))[0];
    std::string key = std::to_string(size);
    std::string key_id = r[2].is_null() ? active_key : r[2].as<std::string>();
    auto pub = log_keys.find(key_id);
    Hash recomputed = Root();
    if (Bytes(r[0]) != HashBytes(recomputed)) {
      Problem("checkpoints", key, "root " + Hex(Bytes(r[0])) + " stored, " + Hex(recomputed) + " recomputed");
    }
    if (pub == log_keys.end()) {
      Problem("checkpoints", key, "signed by unknown log key " + key_id);
      return OkStatus();
    }
    auto cp = VerifyCheckpointNote(r[1].as<std::string>(), options_.log_name, pub->second);
    if (!cp) {
      Problem("checkpoints", key, "note does not verify: " + cp.error().message());
    } else if (cp->tree_size != size || cp->root != recomputed) {
      Problem("checkpoints", key, "note says size " + std::to_string(cp->tree_size) + " root " + Hex(cp->root));
    }
    return OkStatus();
  }

  Status Anchors(Snapshot& tx, TraceAnchorContract* contract) {
    for (const auto& r : tx.exec(
             "SELECT a.id, a.tree_size, a.root, c.root FROM anchors a LEFT JOIN checkpoints c "
             "ON c.tree_size = a.tree_size WHERE a.state = 'confirmed' ORDER BY a.id")) {
      ++anchors_;
      std::string key = "id " + r[0].as<std::string>() + " tree size " + r[1].as<std::string>();
      std::string root = Bytes(r[2]);
      if (r[3].is_null()) {
        Problem("anchors", key, "no checkpoint of that size");
      } else if (Bytes(r[3]) != root) {
        Problem("anchors", key, "root " + Hex(root) + " differs from the checkpoint's " + Hex(Bytes(r[3])));
      }
      if (contract) {
        auto on_chain = contract->RootAt(r[1].as<uint64_t>());
        if (!on_chain) return on_chain.error().WithContext("rootAt on the chain");
        if (*on_chain != root) {
          Problem("anchors", key, "rootAt on the chain is " + Hex(*on_chain) + ", stored root " + Hex(root));
        }
      }
    }
    progress_ << "audit: anchors " << anchors_ << (contract ? " checked against the chain" : " (chain not configured)")
              << "\n";
    return OkStatus();
  }

  struct EdgeNode {
    int level;
    uint64_t idx;
    Hash hash;
  };

  const AuditOptions& options_;
  std::ostream& progress_;
  boost::json::array problems_;
  std::vector<EdgeNode> edge_;
  uint64_t envelopes_ = 0, leaves_ = 0, nodes_ = 0, checkpoints_ = 0, anchors_ = 0;
};

}  // namespace

Result<boost::json::object> AuditCommand(const AuditOptions& options, std::ostream& progress) {
  if (options.db_url.empty()) return Fail(InvalidArgument("--db-url (TRACE_DB_URL) is required"));
  if (options.batch == 0) return Fail(InvalidArgument("batch must be positive"));
  return Audit(options, progress).Run();
}

}  // namespace trace::admin
