// trace-verify's checks, apart from how documents and chain roots are fetched: everything
// the tool trusts comes through two seams, Fetcher (the untrusted API server) and
// ChainReader (the chain, the one thing trusted), plus a folder of remembered checkpoints.
//
// What Verify() checks for a product link (PROTOCOL.md §3, §5, §6, §7):
//  - the trace document is about the lot the link names;
//  - the log key from /api/v1/keys signed the newest checkpoint (/api/v1/checkpoint), and
//    the note's signature line carries that key's id;
//  - the checkpoint the cache remembers for the log's origin is a prefix of the new one
//    (a smaller size is a rollback, a failed consistency proof a fork); the key is pinned;
//  - for every event, upstream lots included (`inputs`, recursively): the envelope from
//    /api/v1/envelopes/{id} hashes to that id, its Ed25519 signature verifies under the
//    signer key of the envelope document, which equals the trace document's; the event
//    equals events[index] of the signed envelope (RFC 8785 comparison); the inclusion proof
//    leads from the leaf hash to the anchor's root; that root is the chain's own
//    rootAt(treeSize) on the expected chain id and contract; the checkpoint and the anchor
//    are consistent (same size and root, or a verified consistency proof); the anchor's
//    transaction (its `tx`) is mined on the chain and emitted Anchored(treeSize, root) from
//    the contract, so the transaction shown to the consumer is the one that anchored.
//
// Failures are collected, never short-circuited across events, so one bad event does not
// hide the state of the others. A fetch that fails for network reasons (Unavailable,
// DeadlineExceeded, ResourceExhausted, HTTP 5xx) is recorded as such, apart from failed
// checks: the CLI maps the first to exit code 3, the second to 1.
//
// Thread-compatible: one Verify() at a time per set of seams.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "trace/common/sha256.h"
#include "trace/common/status.h"

namespace trace::verify {

// GETs documents from the (untrusted) API server.
class Fetcher {
 public:
  virtual ~Fetcher() = default;
  // The body of a 200 answer to GET `url` with `accept` as the Accept header. NotFound for
  // 404 and 410, InvalidArgument for other 4xx, Unavailable for 5xx or the network,
  // ResourceExhausted for a too large answer.
  virtual Result<std::string> Get(const std::string& url, std::string_view accept) = 0;
};

// Reads the chain (trusted).
class ChainReader {
 public:
  virtual ~ChainReader() = default;
  virtual Result<uint64_t> ChainId() = 0;
  // The root the anchor contract holds for exactly `tree_size`: 32 zero bytes when none.
  virtual Result<Hash> RootAt(uint64_t tree_size) = 0;
  // The contract's address as 20 raw bytes.
  virtual std::string contract() const = 0;
  // Checks that transaction `tx_hash` (32 raw bytes) is mined, succeeded, and emitted the
  // contract's Anchored(tree_size, root): OK, or NotFound (no such mined transaction) or
  // DataLoss (reverted, anchored something else, or from another contract) saying why;
  // Unavailable when the chain cannot be read.
  virtual Status CheckAnchorTx(std::string_view tx_hash, uint64_t tree_size, const Hash& root) = 0;
};

struct VerifyOptions {
  // Where the /api/v1 routes and the trace document are fetched: "" means the link's own
  // scheme://host[:port]; otherwise the link's path is fetched from this base.
  std::string api_base;
  // Folder of remembered checkpoints, one file per log origin. "" disables the cache (the
  // rollback check is then skipped, and said so in `notes`).
  std::string cache_dir;
  int max_depth = 16;  // upstream lots deeper than this are not followed (said so in `notes`)
  // The log key as known out of band, as a note verifier key "<name>+<id>+<base64>"
  // (checkpoint.h). When set, a keys document naming another log key is a failure; when
  // empty, the keys document's key is trusted on first use and pinned in the cache.
  std::string log_key;
};

// The verdict on one event of the trace.
struct EventResult {
  std::string lot;       // "09506000134369/RICE-0703" (gtin/lot of the trace it belongs to)
  int depth = 0;         // 0 for the link's own lot, 1 for its inputs, ...
  std::string envelope;  // hex id as the trace document gave it
  int64_t index = -1;    // position in the envelope's events
  std::string type, biz_step, event_time;
  std::string signer;  // "org/device"
  std::optional<uint64_t> leaf;
  std::optional<uint64_t> anchor_size;
  std::string anchor_tx;
  std::vector<std::string> failures;     // empty when verified
  std::vector<std::string> unavailable;  // what could not be fetched
  bool ok() const { return failures.empty() && unavailable.empty(); }
};

struct Report {
  std::string link;
  std::string origin;  // the checkpoint's origin line
  std::optional<uint64_t> checkpoint_size;
  std::string checkpoint_root;  // base64
  std::vector<EventResult> events;
  std::vector<std::string> failures;     // not tied to one event (document, keys, checkpoint, cache)
  std::vector<std::string> unavailable;  // not tied to one event
  std::vector<std::string> notes;        // facts worth saying that are not failures

  bool any_failure() const;
  bool any_unavailable() const;
  bool verified() const { return !any_failure() && !any_unavailable(); }
};

// Verifies the trace of `link` (a GS1 Digital Link URI). The report says what failed;
// the Result itself fails only for a link that is not a product Digital Link with a lot,
// an api_base that is not an http(s) URL, or a log_key that is not a verifier key
// (InvalidArgument).
Result<Report> Verify(std::string_view link, Fetcher& fetcher, ChainReader& chain, const VerifyOptions& options);

// True for the codes a Fetcher or ChainReader uses when it could not get an answer.
bool IsUnavailable(const Status& status);

// The cache file of a log origin under `cache_dir` (origin with every byte outside
// [A-Za-z0-9._-] escaped as %XX, plus ".json").
std::string CacheFileFor(const std::string& cache_dir, std::string_view origin);

}  // namespace trace::verify
