// trace-admin audit: checks the whole store against itself and against the chain,
// trusting nothing that can be recomputed.
#pragma once

#include <ostream>
#include <string>

#include <boost/json/object.hpp>

#include "trace/common/status.h"

namespace trace::admin {

struct AuditOptions {
  std::string db_url;
  std::string rpc_url;   // empty: anchors are checked against checkpoints only
  std::string contract;  // 0x address of TraceAnchor
  std::string log_name;  // the checkpoints' key name
  size_t batch = 2000;   // rows read per query
};

// Reads everything in one repeatable-read, read-only snapshot, in batches (memory is
// O(batch + log n), however large the store):
//   envelopes  id = SHA-256(canonical); canonical is the RFC 8785 form of a valid envelope
//              whose org/device/seq are the row's; the signature verifies under the
//              registered device key; its events rows are exactly its events (count,
//              body, and every column re-derived from the signed event the way the
//              gateway derives it: org, type, action, bizStep, disposition, eventTime,
//              offset, eventID, readPoint, bizLocation), its event_keys rows exactly the
//              keys re-derived from each event (gateway/event_index.h), and no events or
//              event_keys row hangs off a missing envelope
//   log        leaf indexes 0..n-1, one envelope each, every envelope in the log; every
//              leaf hash and interior node recomputed from the canonical bytes and
//              compared with log_nodes (and no node beyond the tree)
//   checkpoints  signature under the log key, the note's size and root are the row's, and
//              the root is the recomputed root at that size
//   anchors    each confirmed anchor's root is its checkpoint's; with the chain: rootAt(treeSize)
//              on the chain, the row's chain id and contract are the audited ones, and its
//              tx_hash is a successful transaction mined in the row's block (number and
//              hash) that emitted the contract's Anchored(treeSize, root)
// Progress lines go to `progress`. Returns the summary
//   {"envelopes", "leaves", "nodes", "checkpoints", "anchors", "chain": "checked"|"not configured",
//    "problems": [{"table", "key", "what"}...]}
// where key names the object: envelopes and events by envelope id in hex (events and
// event_keys as "ID/IDX"), log_leaves by leaf index, log_nodes as "level L idx I",
// checkpoints by tree size, anchors as "id N tree size S".
// with every mismatch found (not only the first); errors only when the database or
// the chain cannot be read (Unavailable) or the options are bad (InvalidArgument).
Result<boost::json::object> AuditCommand(const AuditOptions& options, std::ostream& progress);

}  // namespace trace::admin
