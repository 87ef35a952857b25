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
// Other modules add theirs with AddRoute (the producer API and dashboard:
// producer_api.h, dashboard.h).
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
  // Producer API and dashboard, per client (a packing-house tablet or a
  // capture client does more than a phone).
  double producer_rate_per_second = 50;
  double producer_rate_burst = 100;
  // When set, the public read routes run on this pool (a streaming replica, run.cc
  // --read-db-url); /healthz and anything else stay on the primary pool. Not owned.
  DbPool* read_pool = nullptr;
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
  using RouteFn = std::function<void(const HttpRequest&, const Params&, Reply)>;

  // Who may call a route and how it is limited.
  enum class Access {
    kPublic,      // anyone; rate limited per client (PROTOCOL.md §7)
    kOperations,  // /healthz, /metrics, static assets: not rate limited
    kProducer,    // producer API and dashboard: rate limited with the producer budget;
                  // the handler authenticates (auth.h)
  };

  // Adds a route before the first request. `pattern` is a path whose segments
  // are literals or "{name}" parameters, optionally with a literal suffix
  // ("{lot}.png"); parameters arrive percent-decoded and non-empty. A path that
  // matches a pattern but not its method answers 405 with Allow.
  void AddRoute(std::string method, std::string pattern, Access access, RouteFn fn);

  // Runs `job` on the pool (or on `pool` when given) and replies with its answer
  // (503 when the pool is full or the database unavailable, 500 when the job throws).
  void Db(Reply reply, std::function<HttpResponse(pqxx::connection&)> job, DbPool* pool = nullptr);
  // Db on options_.read_pool when set: for read-only jobs that may see a lagging replica.
  void ReadDb(Reply reply, std::function<HttpResponse(pqxx::connection&)> job) {
    Db(std::move(reply), std::move(job), options_.read_pool);
  }

  const ApiOptions& options() const { return options_; }

 private:
  struct Route {
    std::string method;
    std::string name;  // the pattern, for metrics
    std::vector<std::string> segments;
    Access access;
    RouteFn fn;
  };
  // Member routes of this class, bound to `this`.
  void Add(std::string pattern, Access access, void (Api::*fn)(const HttpRequest&, const Params&, Reply));

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
  RateLimiter producer_limiter_;
  std::vector<Route> routes_;
};

}  // namespace trace::api
