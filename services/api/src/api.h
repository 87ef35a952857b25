// The routes of trace-api (PROTOCOL.md §7) on top of HttpServer: routing with
// path parameters, per-client rate limits on public routes, database work on the
// DbPool, ETag / If-None-Match, Cache-Control, metrics. Free of Beast.
//
// Routes (all GET):
//   /01/{gtin}/10/{lot}[/21/{serial}]   Digital Link resolver: trace document,
//                                       consumer page, linkset, linkType redirects
//   /api/v1/envelopes/{id}[?treeSize=N] envelope, signer, inclusion proof, anchor
//   /api/v1/checkpoint                  newest checkpoint (signed note)
//   /api/v1/proofs/consistency?from&to  RFC 9162 consistency proof
//   /api/v1/anchors[?limit&before]      confirmed anchors, newest first
//   /api/v1/keys                        log and receipt public keys
//   /api/v1/epcis/events?...            EPCIS 2.0 query (epcis_query.h)
//   /api/v1/lots/{gtin}/{lot}/readings  every sensor reading of a lot
//   /static/{hashed name}               the page's CSS and scripts (html_page.h)
//   /healthz, /metrics                  operations (not rate limited)
//
// Thread-safe: Handle is called from the I/O threads concurrently.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "db_pool.h"
#include "document_cache.h"
#include "http_server.h"
#include "metrics.h"
#include "rate_limiter.h"
#include "trace_document.h"

namespace trace::api {

struct ApiOptions {
  std::string public_base;  // "https://id.example.com", no trailing slash
  TraceOptions trace;       // its public_base is set from public_base
  // When set, only anchors on this chain and contract count (proofs, anchors list).
  std::optional<int64_t> chain_id;
  std::string contract;  // "0x..." lowercase, or ""
  std::string page_token_secret;
  double rate_per_second = 20;  // per client on public routes; <= 0: no limit
  double rate_burst = 40;
  // Trace documents (JSON and the page) are answered from here while valid; not owned; nullptr:
  // every request renders.
  DocumentCache* documents = nullptr;
};

class Api {
 public:
  Api(ApiOptions options, DbPool& pool, Metrics& metrics, std::function<int()> in_flight);

  // Answers `req` through `reply`, exactly once, possibly from a pool thread.
  void Handle(HttpRequest req, Reply reply);

  using Params = std::map<std::string, std::string>;

 private:
  using RouteFn = void (Api::*)(const HttpRequest&, const Params&, Reply);
  struct Route {
    std::string name;  // the pattern, for metrics
    std::vector<std::string> segments;
    bool is_public;
    RouteFn fn;
  };

  // Runs `job` on the pool and replies with its answer (503 when the pool is full).
  void Db(Reply reply, std::function<HttpResponse(pqxx::connection&)> job);

  void DigitalLink(const HttpRequest& req, const Params& p, Reply reply);
  void Envelope(const HttpRequest& req, const Params& p, Reply reply);
  void CheckpointRoute(const HttpRequest& req, const Params& p, Reply reply);
  void Consistency(const HttpRequest& req, const Params& p, Reply reply);
  void Anchors(const HttpRequest& req, const Params& p, Reply reply);
  void Keys(const HttpRequest& req, const Params& p, Reply reply);
  void Epcis(const HttpRequest& req, const Params& p, Reply reply);
  void Readings(const HttpRequest& req, const Params& p, Reply reply);
  void Static(const HttpRequest& req, const Params& p, Reply reply);
  void Healthz(const HttpRequest& req, const Params& p, Reply reply);
  void MetricsRoute(const HttpRequest& req, const Params& p, Reply reply);

  std::string AnchorFilter() const;

  ApiOptions options_;
  DbPool& pool_;
  Metrics& metrics_;
  std::function<int()> in_flight_;
  RateLimiter limiter_;
  std::vector<Route> routes_;
};

}  // namespace trace::api
