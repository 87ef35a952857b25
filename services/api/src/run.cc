#include "run.h"

#include <openssl/rand.h>

#include <atomic>
#include <iostream>
#include <regex>

#include "api.h"
#include "auth.h"
#include "dashboard.h"
#include "db_pool.h"
#include "document_cache.h"
#include "document_stamp.h"
#include "http_server.h"
#include "http_util.h"
#include "metrics.h"
#include "producer_api.h"
#include "trace/common/config.h"
#include "trace/common/encoding.h"
#include "trace/common/log.h"

namespace trace::api {

int Run(int argc, char** argv, const sigset_t& stop_signals) {
  log::SetService("trace-api");
  Flags flags("trace-api", "public trace and proof routes, GS1 Digital Link resolver, EPCIS query");
  flags.Add("db-url", "TRACE_DB_URL", "", "libpq URI of the database");
  flags.Add("read-db-url", "TRACE_API_READ_DB_URL", "",
            "libpq URI of a streaming replica that the public read routes use (default: --db-url)");
  flags.Add("listen", "TRACE_API_LISTEN", "127.0.0.1:8080", "address:port to serve on (port 0: a free one)");
  flags.Add("public-base-url", "TRACE_PUBLIC_URL", "", "https://host used in links (default http://LISTEN as bound)");
  flags.Add("chain-id", "TRACE_CHAIN_ID", "", "only anchors on this chain id count (default: any)");
  flags.Add("contract", "TRACE_CONTRACT", "", "only anchors by this TraceAnchor address count (default: any)");
  flags.Add("thresholds", "TRACE_API_THRESHOLDS", "",
            R"(sensor limits as JSON, e.g. {"Temperature":{"min":2,"max":8}} (the default))");
  flags.Add("io-threads", "TRACE_API_IO_THREADS", "2", "HTTP I/O threads");
  flags.Add("db-threads", "TRACE_API_DB_THREADS", "4", "database threads (one connection each)");
  flags.Add("db-queue", "TRACE_API_DB_QUEUE", "512", "database jobs waiting at most (then 503)");
  flags.Add("rate-limit", "TRACE_API_RATE_LIMIT", "20", "requests per second per client on public routes (0: off)");
  flags.Add("rate-burst", "TRACE_API_RATE_BURST", "40", "requests a client may make at once");
  flags.Add("body-limit", "TRACE_API_BODY_LIMIT", "65536", "largest request body, bytes (then 413)");
  flags.Add("header-limit", "TRACE_API_HEADER_LIMIT", "8192", "largest request header, bytes (then 431)");
  flags.Add("read-timeout-ms", "TRACE_API_READ_TIMEOUT_MS", "10000", "time to receive a request (then 408)");
  flags.Add("max-depth", "TRACE_API_MAX_DEPTH", "8", "upstream lots followed at most");
  flags.Add("page-token-secret", "TRACE_API_PAGE_TOKEN_SECRET", "",
            "key of the EPCIS nextPageToken tags (default: random per process)");
  flags.Add("producer-rate-limit", "TRACE_API_PRODUCER_RATE_LIMIT", "50",
            "requests per second per client on producer routes and the dashboard (0: off)");
  flags.Add("producer-rate-burst", "TRACE_API_PRODUCER_RATE_BURST", "100", "producer requests a client may make at once");
  flags.Add("session-hours", "TRACE_API_SESSION_HOURS", "12", "dashboard sessions last this long");
  flags.Add("max-auth-failures", "TRACE_API_MAX_AUTH_FAILURES", "10",
            "bad passwords or tokens per client or e-mail in 5 minutes before 429");
  flags.Add("capture-body-limit", "TRACE_API_CAPTURE_BODY_LIMIT", "16777216", "largest EPCIS capture document, bytes");
  flags.Add("keys-dir", "TRACE_KEYS_DIR", "", "folder of the platform keys; orgs/ holds the orgs' signing keys");
  flags.Add("mqtt-url", "TRACE_MQTT_URL", "", "broker for device logins, tcp://host:port (unset: database only)");
  flags.Add("mqtt-admin-username", "TRACE_MQTT_ADMIN_USERNAME", "", "dynamic-security admin user");
  flags.Add("mqtt-admin-password", "TRACE_MQTT_ADMIN_PASSWORD", "", "its password");
  flags.Add("document-cache-mb", "TRACE_API_DOCUMENT_CACHE_MB", "64",
            "rendered trace documents kept, MB (0: off; see src/document_cache.h)");
  flags.Add("document-stamp-ms", "TRACE_API_DOCUMENT_STAMP_MS", "250",
            "how often the document cache reads the database's change stamp, ms");
  flags.Add("document-max-age-ms", "TRACE_API_DOCUMENT_MAX_AGE_MS", "1000",
            "longest a changed trace document may still be served from the cache, ms");
  flags.Add("drain-timeout", "TRACE_API_DRAIN_TIMEOUT", "20", "seconds to finish requests on SIGTERM");
  flags.Add("log-level", "TRACE_LOG_LEVEL", "info", "debug, info, warn or error");
  auto args = flags.Parse(argc, argv);
  if (!args) {
    std::cerr << args.error().message() << "\n";
    if (args.error().code() != StatusCode::kFailedPrecondition) std::cerr << flags.Usage();
    return args.error().code() == StatusCode::kFailedPrecondition ? 0 : 2;
  }
  log::SetLevel(flags.Get("log-level"));
  auto bad = [&](const std::string& message) {
    std::cerr << "trace-api: " << message << "\n";
    return 2;
  };
  if (flags.Get("db-url").empty()) return bad("--db-url (TRACE_DB_URL) is required");

  std::map<std::string, int64_t> ints;
  for (const char* name : {"io-threads", "db-threads", "db-queue", "body-limit", "header-limit", "read-timeout-ms",
                           "max-depth", "drain-timeout", "session-hours", "max-auth-failures",
                           "capture-body-limit", "document-stamp-ms", "document-max-age-ms"}) {
    auto v = flags.GetInt(name);
    if (!v || *v < 1) return bad(std::string("--") + name + ": want a positive integer");
    ints[name] = *v;
  }
  auto cache_mb = flags.GetInt("document-cache-mb");
  if (!cache_mb || *cache_mb < 0) return bad("--document-cache-mb: want a non-negative integer");
  if (ints["document-stamp-ms"] >= ints["document-max-age-ms"]) {
    return bad("--document-stamp-ms must be below --document-max-age-ms (else the cache never answers)");
  }
  auto rate = flags.GetDouble("rate-limit");
  auto burst = flags.GetDouble("rate-burst");
  if (!rate || !burst || *rate < 0 || *burst < 1) return bad("--rate-limit/--rate-burst: want numbers (burst >= 1)");
  auto producer_rate = flags.GetDouble("producer-rate-limit");
  auto producer_burst = flags.GetDouble("producer-rate-burst");
  if (!producer_rate || !producer_burst || *producer_rate < 0 || *producer_burst < 1) {
    return bad("--producer-rate-limit/--producer-rate-burst: want numbers (burst >= 1)");
  }

  const std::string listen = flags.Get("listen");
  auto colon = listen.rfind(':');
  if (colon == std::string::npos) return bad("--listen: want address:port");
  HttpServerOptions http;
  http.address = listen.substr(0, colon);
  try {
    http.port = std::stoi(listen.substr(colon + 1));
  } catch (...) {
    return bad("--listen: bad port");
  }
  http.io_threads = static_cast<int>(ints["io-threads"]);
  http.body_limit = static_cast<size_t>(ints["body-limit"]);
  http.header_limit = static_cast<size_t>(ints["header-limit"]);
  http.read_timeout = std::chrono::milliseconds(ints["read-timeout-ms"]);
  http.large_body_paths = {"/api/v1/epcis/capture"};
  http.large_body_limit = static_cast<size_t>(ints["capture-body-limit"]);

  ApiOptions options;
  if (!flags.Get("thresholds").empty()) {
    auto limits = ParseSensorLimits(flags.Get("thresholds"));
    if (!limits) return bad(limits.error().message());
    options.trace.limits = *limits;
  }
  options.trace.max_depth = static_cast<int>(ints["max-depth"]);
  if (!flags.Get("chain-id").empty()) {
    auto id = flags.GetInt("chain-id");
    if (!id) return bad("--chain-id: want an integer");
    options.chain_id = *id;
  }
  options.contract = flags.Get("contract");
  for (char& c : options.contract) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (!options.contract.empty() && !std::regex_match(options.contract, std::regex("^0x[0-9a-f]{40}$"))) {
    return bad("--contract: want 0x and 40 hex digits");
  }
  options.page_token_secret = flags.Get("page-token-secret");
  if (options.page_token_secret.empty()) {
    unsigned char buf[32];
    RAND_bytes(buf, sizeof buf);
    options.page_token_secret.assign(reinterpret_cast<char*>(buf), sizeof buf);
  }
  options.rate_per_second = *rate;
  options.rate_burst = *burst;
  options.producer_rate_per_second = *producer_rate;
  options.producer_rate_burst = *producer_burst;

  ProducerOptions producer;
  producer.db_url = flags.Get("db-url");
  producer.keys_dir = flags.Get("keys-dir");
  if (!flags.Get("mqtt-url").empty()) {
    if (flags.Get("mqtt-admin-username").empty()) return bad("--mqtt-url needs --mqtt-admin-username");
    producer.broker = admin::BrokerConfig{flags.Get("mqtt-url"), flags.Get("mqtt-admin-username"),
                                          flags.Get("mqtt-admin-password")};
  }

  // Declared in dependency order, destroyed in reverse: server, api, watcher, pools, cache.
  Metrics metrics;
  DocumentCacheOptions cache_options;
  cache_options.max_bytes = static_cast<size_t>(*cache_mb) << 20;
  cache_options.max_stamp_age = std::chrono::milliseconds(ints["document-max-age-ms"]);
  DocumentCache documents(cache_options);
  DbPool pool(flags.Get("db-url"), static_cast<int>(ints["db-threads"]), static_cast<size_t>(ints["db-queue"]));
  // The replica's pool, as large as the primary's: the public routes are nearly all the load.
  std::unique_ptr<DbPool> read_pool;
  if (!flags.Get("read-db-url").empty()) {
    read_pool = std::make_unique<DbPool>(flags.Get("read-db-url"), static_cast<int>(ints["db-threads"]),
                                         static_cast<size_t>(ints["db-queue"]));
    options.read_pool = read_pool.get();
  }
  // The watcher reads the database the documents are rendered from (the replica when there is
  // one), so every stamp it adopts describes the same data the renders see.
  std::unique_ptr<StampWatcher> watcher;
  if (*cache_mb > 0) {
    watcher = std::make_unique<StampWatcher>(read_pool ? flags.Get("read-db-url") : flags.Get("db-url"), documents,
                                             std::chrono::milliseconds(ints["document-stamp-ms"]));
    options.documents = &documents;
    metrics.AddSource([&documents] { return DocumentCacheMetrics(documents.stats()); });
  }
  HttpServer server;
  std::unique_ptr<Api> api;
  std::unique_ptr<Authenticator> auth;
  std::unique_ptr<ProducerApi> producer_api;
  std::unique_ptr<Dashboard> dashboard;
  // The public base may name the port just bound, so the Api comes after Start;
  // until it is there, requests get 503.
  std::atomic<Api*> ready{nullptr};
  auto port = server.Start(http, [&ready](HttpRequest req, Reply reply) {
    Api* a = ready.load();
    if (a == nullptr) {
      HttpResponse res = Problem(503, "starting");
      res.Set("Retry-After", "1");
      return reply(std::move(res));
    }
    a->Handle(std::move(req), std::move(reply));
  });
  if (!port) {
    log::Error("cannot listen", {{"error", port.error().ToString()}});
    return 1;
  }
  options.public_base = flags.Get("public-base-url");
  if (options.public_base.empty()) options.public_base = "http://" + http.address + ":" + std::to_string(*port);
  while (!options.public_base.empty() && options.public_base.back() == '/') options.public_base.pop_back();
  api = std::make_unique<Api>(options, pool, metrics, [&server] { return server.in_flight(); });
  auth = std::make_unique<Authenticator>(AuthOptions{
      .session_ttl = std::chrono::hours(ints["session-hours"]),
      .secure_cookies = options.public_base.starts_with("https://"),
      .public_origin = options.public_base,
      .max_failures = static_cast<int>(ints["max-auth-failures"]),
  });
  producer_api = std::make_unique<ProducerApi>(*api, *auth, producer);
  dashboard = std::make_unique<Dashboard>(*producer_api);
  ready = api.get();
  log::Info("listening", {{"address", http.address},
                          {"port", *port},
                          {"public_base", options.public_base},
                          {"read_replica", read_pool != nullptr}});

  int sig = 0;
  sigwait(&stop_signals, &sig);
  log::Info("draining", {{"signal", sig}});
  const int left = server.Drain(std::chrono::seconds(ints["drain-timeout"]));
  if (read_pool) read_pool->Stop();
  pool.Stop();
  log::Info("stopped", {{"unanswered", left}});
  return 0;
}

}  // namespace trace::api
