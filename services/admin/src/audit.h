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
//              type, body)
//   log        leaf indexes 0..n-1, one envelope each, every envelope in the log; every
//              leaf hash and interior node recomputed from the canonical bytes and
//              compared with log_nodes (and no node beyond the tree)
//   checkpoints  signature under the log key, the note's size and root are the row's, and
//              the root is the recomputed root at that size
//   anchors    each confirmed anchor's root is its checkpoint's and rootAt(treeSize) on
//              the chain
// Progress lines go to `progress`. Returns the summary
//   {"envelopes", "leaves", "nodes", "checkpoints", "anchors", "chain": "checked"|"not configured",
//    "problems": [{"table", "key", "what"}...]}
// with every mismatch found (not only the first); errors only when the database or
// the chain cannot be read (Unavailable) or the options are bad (InvalidArgument).
Result<boost::json::object> AuditCommand(const AuditOptions& options, std::ostream& progress);

}  // namespace trace::admin
