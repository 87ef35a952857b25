#include "audit.h"

#include <algorithm>
#include <cstdio>
#include <iterator>
#include <map>
#include <optional>
#include <vector>

#include <boost/json.hpp>
#include <pqxx/pqxx>

#include "event_index.h"

#include "trace/common/abi.h"
#include "trace/common/anchor_contract.h"
#include "trace/common/checkpoint.h"
#include "trace/common/encoding.h"
#include "trace/common/envelope.h"
#include "trace/common/eth_client.h"
#include "trace/common/merkle.h"
#include "trace/common/pg_log.h"
#include "trace/common/secp256k1.h"
#include "trace/common/sha256.h"
#include "trace/common/time.h"

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
      if (Status s = Anchors(tx, eth.get(), contract ? &*contract : nullptr); !s.ok()) return Fail(s);
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
      std::map<std::string, std::vector<StoredEvent>> events;  // envelope id -> its rows by idx
      for (const auto& e : tx.exec_params(
               "SELECT envelope_id, idx, event_type, body::text, org, action, biz_step, disposition, "
               "(extract(epoch FROM event_time) * 1000000)::bigint, event_time_zone_offset, event_id, read_point, "
               "biz_location, to_char(event_time AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"') FROM events "
               "WHERE envelope_id IN (SELECT decode(x, 'hex') FROM unnest($1::text[]) x) "
               "ORDER BY envelope_id, idx",
               ArrayLiteral(ids))) {
        StoredEvent row;
        row.idx = e[1].as<int>();
        row.columns.event_type = e[2].as<std::string>();
        row.body = e[3].as<std::string>();
        row.org = e[4].as<std::string>();
        row.columns.action = Optional(e[5]);
        row.columns.biz_step = Optional(e[6]);
        row.columns.disposition = Optional(e[7]);
        row.event_time_micros = e[8].as<int64_t>();
        row.columns.event_time_zone_offset = e[9].as<std::string>();
        row.columns.event_id = Optional(e[10]);
        row.columns.read_point = Optional(e[11]);
        row.columns.biz_location = Optional(e[12]);
        row.columns.event_time = e[13].as<std::string>();
        events[Bytes(e[0])].push_back(std::move(row));
      }
      // event_keys of this batch: envelope id -> idx -> rows (as comparable text)
      std::map<std::string, std::map<int, std::vector<std::string>>> keys;
      for (const auto& k : tx.exec_params(
               "SELECT envelope_id, idx, kind, value, gtin, lot, serial, quantity, uom, detail FROM event_keys "
               "WHERE envelope_id IN (SELECT decode(x, 'hex') FROM unnest($1::text[]) x)",
               ArrayLiteral(ids))) {
        gateway::EventKeyRow row;
        row.kind = k[2].as<std::string>();
        row.value = k[3].as<std::string>();
        row.gtin = Optional(k[4]);
        row.lot = Optional(k[5]);
        row.serial = Optional(k[6]);
        if (!k[7].is_null()) row.quantity = k[7].as<double>();
        row.uom = Optional(k[8]);
        row.detail = Optional(k[9]);
        keys[Bytes(k[0])][k[1].as<int>()].push_back(KeyText(row));
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
        auto& keys_of = keys[id];
        for (size_t i = 0; i < rows_of.size() && i < env->events.size(); ++i) {
          const auto& event = env->events[i].as_object();
          const StoredEvent& stored = rows_of[i];
          std::string where = key + "/" + std::to_string(stored.idx);
          if (stored.idx != static_cast<int>(i)) Problem("events", where, "idx out of order");
          boost::system::error_code ec;
          boost::json::value body = boost::json::parse(stored.body, ec);
          if (ec || body != boost::json::value(event)) {
            Problem("events", where, "body differs from the envelope's event " + std::to_string(i));
          }
          // The columns are derived from the signed event exactly as the gateway derives them.
          for (const auto& diff : ColumnDiffs(stored, env->org, gateway::EventRowFor(event))) {
            Problem("events", where, diff + " differs from the envelope's event " + std::to_string(i));
          }
          std::vector<std::string> derived;
          for (const auto& k : gateway::EventKeysFor(event)) derived.push_back(KeyText(k));
          std::vector<std::string> stored_keys = std::move(keys_of[stored.idx]);
          keys_of.erase(stored.idx);
          CompareKeys(where, std::move(derived), std::move(stored_keys));
        }
        for (const auto& [idx, extra] : keys_of) {
          if (extra.empty()) continue;
          Problem("event_keys", key + "/" + std::to_string(idx),
                  std::to_string(extra.size()) + " rows for an event the envelope does not have, first: " + extra[0]);
        }
      }
      progress_ << "audit: envelopes " << envelopes_ << "/" << total << "\n";
    }
    // Rows that hang off no envelope (the foreign keys can be bypassed like the triggers).
    for (const auto& o : tx.exec(
             "SELECT 'events', encode(envelope_id, 'hex'), idx FROM events v WHERE NOT EXISTS "
             "(SELECT 1 FROM envelopes e WHERE e.id = v.envelope_id) "
             "UNION ALL SELECT 'event_keys', encode(envelope_id, 'hex'), idx FROM event_keys k WHERE NOT EXISTS "
             "(SELECT 1 FROM envelopes e WHERE e.id = k.envelope_id) ORDER BY 1, 2, 3 LIMIT 100")) {
      Problem(o[0].as<std::string>(), o[1].as<std::string>() + "/" + o[2].as<std::string>(), "no such envelope");
    }
    // envelope_ids (migration 0006) holds every envelope's identity once, for the
    // uniqueness the partitioned envelopes cannot enforce across months.
    for (const auto& o : tx.exec(
             "SELECT encode(coalesce(i.id, e.id), 'hex'), CASE WHEN i.id IS NULL THEN 'the envelope has no row here' "
             "WHEN e.id IS NULL THEN 'no such envelope' "
             "ELSE 'org, device, seq or received_at differs from the envelope''s' END "
             "FROM envelope_ids i FULL JOIN envelopes e ON e.id = i.id "
             "WHERE i.id IS NULL OR e.id IS NULL "
             "OR (i.org, i.device, i.seq, i.received_at) IS DISTINCT FROM (e.org, e.device, e.seq, e.received_at) "
             "ORDER BY 1 LIMIT 100")) {
      Problem("envelope_ids", o[0].as<std::string>(), o[1].as<std::string>());
    }
    return OkStatus();
  }

  struct StoredEvent {
    int idx = 0;
    std::string org, body;
    int64_t event_time_micros = 0;
    gateway::EventRow columns;
  };

  static std::optional<std::string> Optional(const pqxx::field& f) {
    if (f.is_null()) return std::nullopt;
    return f.as<std::string>();
  }

  // The names (and stored vs derived values) of the events columns that differ.
  static std::vector<std::string> ColumnDiffs(const StoredEvent& stored, const std::string& org,
                                              const gateway::EventRow& derived) {
    std::vector<std::string> out;
    auto show = [](const std::optional<std::string>& v) { return v ? "\"" + *v + "\"" : std::string("null"); };
    auto check = [&](const char* name, const std::optional<std::string>& s, const std::optional<std::string>& d) {
      if (s != d) out.push_back(std::string(name) + " " + show(s) + " (derived " + show(d) + ")");
    };
    check("org", stored.org, org);
    check("event_type", stored.columns.event_type, derived.event_type);
    check("action", stored.columns.action, derived.action);
    check("biz_step", stored.columns.biz_step, derived.biz_step);
    check("disposition", stored.columns.disposition, derived.disposition);
    check("event_time_zone_offset", stored.columns.event_time_zone_offset, derived.event_time_zone_offset);
    check("event_id", stored.columns.event_id, derived.event_id);
    check("read_point", stored.columns.read_point, derived.read_point);
    check("biz_location", stored.columns.biz_location, derived.biz_location);
    auto when = ParseRfc3339(derived.event_time);
    if (!when) {
      out.push_back("event_time (the envelope's eventTime \"" + derived.event_time + "\" does not parse)");
    } else if (when->utc.time_since_epoch().count() != stored.event_time_micros) {
      out.push_back("event_time " + stored.columns.event_time + " (signed " + derived.event_time + ")");
    }
    return out;
  }

  // One event_keys row as text, so derived and stored rows compare as multisets.
  static std::string KeyText(const gateway::EventKeyRow& k) {
    auto opt = [](const std::optional<std::string>& v) { return v ? "\"" + *v + "\"" : std::string("null"); };
    std::string q = "null";
    if (k.quantity) {
      char buf[64];
      std::snprintf(buf, sizeof buf, "%.17g", *k.quantity);
      q = buf;
    }
    // gtin is char(14): always 14 digits when present.
    return "(" + k.kind + " \"" + k.value + "\" gtin " + opt(k.gtin) + " lot " + opt(k.lot) + " serial " +
           opt(k.serial) + " quantity " + q + " uom " + opt(k.uom) + " detail " + opt(k.detail) + ")";
  }

  void CompareKeys(const std::string& where, std::vector<std::string> derived, std::vector<std::string> stored) {
    std::sort(derived.begin(), derived.end());
    std::sort(stored.begin(), stored.end());
    std::vector<std::string> missing, extra;
    std::set_difference(derived.begin(), derived.end(), stored.begin(), stored.end(), std::back_inserter(missing));
    std::set_difference(stored.begin(), stored.end(), derived.begin(), derived.end(), std::back_inserter(extra));
    for (const auto& m : missing) Problem("event_keys", where, "row " + m + " derived from the envelope is missing");
    for (const auto& x : extra) Problem("event_keys", where, "row " + x + " stored is not derived from the envelope");
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
          "SELECT l.leaf_index, e.canonical, l.envelope_id FROM log_leaves l LEFT JOIN envelopes e ON e.id = l.envelope_id "
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
        if (r[1].is_null()) {
          Problem("log_leaves", std::to_string(index),
                  "envelope_id " + Hex(Bytes(r[2])) + " names no stored envelope");
          return OkStatus();  // the leaf hash cannot be recomputed, nor anything after it
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

  // Each confirmed anchor: its root is its checkpoint's; with the chain configured, also
  // rootAt(tree_size) on the chain, and its transaction's receipt (in the block the row
  // names, successful, with the contract's Anchored(tree_size, root) event).
  Status Anchors(Snapshot& tx, EthClient* eth, TraceAnchorContract* contract) {
    std::optional<uint64_t> chain_id;
    if (eth) {
      auto id = eth->ChainId();
      if (!id) return id.error().WithContext("eth_chainId");
      chain_id = *id;
    }
    for (const auto& r : tx.exec(
             "SELECT a.id, a.tree_size, a.root, c.root, a.tx_hash, a.block_number, a.block_hash, a.chain_id, "
             "a.contract FROM anchors a LEFT JOIN checkpoints c "
             "ON c.tree_size = a.tree_size WHERE a.state = 'confirmed' ORDER BY a.id")) {
      ++anchors_;
      std::string key = "id " + r[0].as<std::string>() + " tree size " + r[1].as<std::string>();
      std::string root = Bytes(r[2]);
      if (r[3].is_null()) {
        Problem("anchors", key, "no checkpoint of that size");
      } else if (Bytes(r[3]) != root) {
        Problem("anchors", key, "root " + Hex(root) + " differs from the checkpoint's " + Hex(Bytes(r[3])));
      }
      if (!contract) continue;
      const uint64_t tree_size = r[1].as<uint64_t>();
      auto on_chain = contract->RootAt(tree_size);
      if (!on_chain) return on_chain.error().WithContext("rootAt on the chain");
      if (*on_chain != root) {
        Problem("anchors", key, "rootAt on the chain is " + Hex(*on_chain) + ", stored root " + Hex(root));
      }
      if (r[7].as<uint64_t>() != *chain_id || r[8].as<std::string>() != "0x" + Hex(contract->address())) {
        Problem("anchors", key, "chain " + r[7].as<std::string>() + " contract " + r[8].as<std::string>() +
                                    " is not the audited chain " + std::to_string(*chain_id) + " contract 0x" +
                                    Hex(contract->address()));
        continue;
      }
      const std::string tx_text = r[4].as<std::string>();
      auto tx_hash = FromHexData(tx_text, 32);
      if (!tx_hash) {
        Problem("anchors", key, "tx_hash " + tx_text + " is not a transaction hash");
        continue;
      }
      auto receipt = eth->GetTransactionReceipt(*tx_hash);
      if (!receipt) return receipt.error().WithContext("eth_getTransactionReceipt " + tx_text);
      if (!*receipt) {
        Problem("anchors", key, "tx_hash " + tx_text + ": no such transaction mined on the chain");
        continue;
      }
      const TxReceipt& got = **receipt;
      if (!got.success) Problem("anchors", key, "tx_hash " + tx_text + ": the transaction reverted");
      if (got.block_number != r[5].as<uint64_t>() || "0x" + Hex(got.block_hash) != r[6].as<std::string>()) {
        Problem("anchors", key, "tx_hash " + tx_text + " was mined in block " + std::to_string(got.block_number) +
                                    " 0x" + Hex(got.block_hash) + ", the row says block " + r[5].as<std::string>() +
                                    " " + r[6].as<std::string>());
      }
      bool event = false;
      for (const auto& log : got.logs) {
        if (log.removed || log.address != contract->address()) continue;
        auto anchored = DecodeAnchoredEvent(log.topics, log.data);
        if (anchored && anchored->tree_size == tree_size && anchored->root == root) event = true;
      }
      if (!event) {
        Problem("anchors", key, "tx_hash " + tx_text + " emitted no Anchored(" + std::to_string(tree_size) + ", " +
                                    Hex(root) + ") from the contract");
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
