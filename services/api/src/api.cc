#include "api.h"

#include <boost/json.hpp>
#include <charconv>
#include <chrono>
#include <pqxx/pqxx>

#include "document_stamp.h"
#include "epcis_query.h"
#include "html_page.h"
#include "http_util.h"
#include "pg_hash_reader.h"
#include "trace/common/digital_link.h"
#include "trace/common/encoding.h"
#include "trace/common/gs1.h"
#include "trace/common/jcs.h"
#include "trace/common/log.h"
#include "trace/common/merkle.h"

namespace trace::api {
namespace {

namespace json = boost::json;

constexpr char kImmutable[] = "public, max-age=31536000, immutable";
constexpr char kShort[] = "public, max-age=30";
constexpr char kGs1Voc[] = "https://gs1.org/voc/";

std::vector<std::string> SplitPath(std::string_view path) {
  std::vector<std::string> out;
  size_t start = 1;
  while (start <= path.size()) {
    size_t pos = path.find('/', start);
    if (pos == std::string_view::npos) pos = path.size();
    out.emplace_back(path.substr(start, pos - start));
    start = pos + 1;
  }
  return out;
}

std::optional<uint64_t> ParseUint(std::string_view s) {
  if (s.empty() || s.size() > 19) return std::nullopt;
  uint64_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size()) return std::nullopt;
  return v;
}

std::optional<std::string> One(const std::multimap<std::string, std::string>& q, const std::string& name) {
  auto it = q.find(name);
  if (it == q.end()) return std::nullopt;
  return it->second;
}

std::string HexToBase64(const std::string& hex) {
  auto bytes = HexDecode(hex);
  return bytes ? Base64Encode(*bytes) : "";
}

json::object AnchorJson(const pqxx::row& row) {
  // tree_size, root hex, chain_id, contract, tx_hash, block_number
  return json::object{{"treeSize", row[0].as<int64_t>()}, {"root", HexToBase64(row[1].as<std::string>())},
                      {"chainId", row[2].as<int64_t>()},  {"contract", row[3].as<std::string>()},
                      {"tx", row[4].as<std::string>()},   {"block", row[5].as<int64_t>()}};
}

struct LinkEntry {
  std::string rel;  // full URI
  std::string href, type, title;
};

}  // namespace

Api::Api(ApiOptions options, DbPool& pool, Metrics& metrics, std::function<int()> in_flight)
    : options_(std::move(options)),
      pool_(pool),
      metrics_(metrics),
      in_flight_(std::move(in_flight)),
      limiter_(options_.rate_per_second, options_.rate_burst),
      producer_limiter_(options_.producer_rate_per_second, options_.producer_rate_burst) {
  options_.trace.public_base = options_.public_base;
  Add("/api/v1/envelopes/{id}", Access::kPublic, &Api::Envelope);
  Add("/api/v1/checkpoint", Access::kPublic, &Api::CheckpointRoute);
  Add("/api/v1/proofs/consistency", Access::kPublic, &Api::Consistency);
  Add("/api/v1/anchors", Access::kPublic, &Api::Anchors);
  Add("/api/v1/keys", Access::kPublic, &Api::Keys);
  Add("/api/v1/epcis/events", Access::kPublic, &Api::Epcis);
  Add("/api/v1/lots/{gtin}/{lot}/readings", Access::kPublic, &Api::Readings);
  // The page's scripts and style: cheap and immutable, so not rate limited (a
  // page view needs them all at once).
  Add("/static/{file}", Access::kOperations, &Api::Static);
  Add("/healthz", Access::kOperations, &Api::Healthz);
  Add("/metrics", Access::kOperations, &Api::MetricsRoute);
  // Browsers ask for it when they show an image or a CSV on its own: no icon, and no 404 in their console.
  AddRoute("GET", "/favicon.ico", Access::kOperations, [](const HttpRequest&, const Params&, Reply reply) {
    HttpResponse res;
    res.status = 204;
    res.Set("Cache-Control", "public, max-age=86400");
    reply(std::move(res));
  });
}

void Api::Add(std::string pattern, Access access, void (Api::*fn)(const HttpRequest&, const Params&, Reply)) {
  AddRoute("GET", std::move(pattern), access,
           [this, fn](const HttpRequest& req, const Params& p, Reply reply) { (this->*fn)(req, p, std::move(reply)); });
}

void Api::AddRoute(std::string method, std::string pattern, Access access, RouteFn fn) {
  auto segments = SplitPath(pattern);
  routes_.push_back({std::move(method), std::move(pattern), std::move(segments), access, std::move(fn)});
}

std::string Api::AnchorFilter() const {
  std::string f = " AND state = 'confirmed'";
  if (options_.chain_id) f += " AND chain_id = " + std::to_string(*options_.chain_id);
  // contract was checked against ^0x[0-9a-f]{40}$ at startup.
  if (!options_.contract.empty()) f += " AND contract = '" + options_.contract + "'";
  return f;
}

void Api::Handle(HttpRequest req, Reply reply) {
  const auto start = std::chrono::steady_clock::now();
  // Find the route: the first whose pattern and method match; the methods of
  // routes whose pattern alone matches answer 405.
  const Route* route = nullptr;
  Params params;
  std::string route_name = "other";
  std::string allowed;
  bool digital_link = req.path.starts_with("/01/");
  if (digital_link) {
    route_name = "/01/{gtin}/10/{lot}";
  } else {
    auto segments = SplitPath(req.path);
    for (const auto& r : routes_) {
      if (r.segments.size() != segments.size()) continue;
      Params p;
      bool ok = true;
      for (size_t i = 0; i < segments.size() && ok; ++i) {
        const auto& s = r.segments[i];
        const size_t close = s.find('}');
        if (s.size() > 2 && s.front() == '{' && close != std::string::npos) {
          // "{name}" or "{name}.suffix": the segment must end with the suffix.
          std::string_view suffix = std::string_view(s).substr(close + 1);
          std::string_view seg = segments[i];
          if (seg.size() <= suffix.size() || !seg.ends_with(suffix)) {
            ok = false;
            continue;
          }
          auto decoded = gs1::PercentDecodeSegment(seg.substr(0, seg.size() - suffix.size()));
          if (!decoded || decoded->empty()) {
            ok = false;
          } else {
            p[s.substr(1, close - 1)] = *decoded;
          }
        } else {
          ok = s == segments[i];
        }
      }
      if (!ok) continue;
      if (r.method != req.method) {
        if (allowed.find(r.method) == std::string::npos) allowed += (allowed.empty() ? "" : ", ") + r.method;
        continue;
      }
      route = &r;
      params = std::move(p);
      route_name = r.name;
      break;
    }
  }

  // Everything leaves through here: ETag, 304, metrics.
  auto finish = [this, start, route_name, inm = req.Header("if-none-match"), reply](HttpResponse res) {
    if (res.status == 200 && res.Get("ETag").empty() && res.Get("Cache-Control") != "no-store") {
      res.Set("ETag", StrongEtag(res.body));
    }
    if (res.status == 200 && !inm.empty() && IfNoneMatchMatches(inm, res.Get("ETag"))) {
      res.status = 304;
      res.body.clear();
      std::erase_if(res.headers, [](const auto& h) { return h.first == "Content-Type"; });
    }
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    metrics_.Record(route_name, res.status, seconds);
    reply(std::move(res));
  };

  if (!digital_link && route == nullptr && !allowed.empty()) {
    HttpResponse res = Problem(405, "this resource allows " + allowed);
    res.Set("Allow", allowed);
    return finish(std::move(res));
  }
  if (!digital_link && route == nullptr) return finish(Problem(404, "no route " + req.path));
  const Access access = digital_link ? Access::kPublic : route->access;
  if (access != Access::kOperations) {
    RateLimiter& limiter = access == Access::kPublic ? limiter_ : producer_limiter_;
    if (int retry = limiter.Take(req.client); retry > 0) {
      metrics_.RecordRateLimited();
      const double rate = access == Access::kPublic ? options_.rate_per_second : options_.producer_rate_per_second;
      HttpResponse res =
          Problem(429, "rate limit: at most " + std::to_string(rate) + " requests per second per client");
      res.Set("Retry-After", std::to_string(retry));
      return finish(std::move(res));
    }
  }
  if (digital_link) {
    if (req.method != "GET") {
      HttpResponse res = Problem(405, "only GET is served here");
      res.Set("Allow", "GET");
      return finish(std::move(res));
    }
    return DigitalLink(req, params, finish);
  }
  route->fn(req, params, finish);
}

void Api::Db(Reply reply, std::function<HttpResponse(pqxx::connection&)> job, DbPool* pool) {
  bool queued = (pool != nullptr ? *pool : pool_).Submit(
      [reply, job = std::move(job)](pqxx::connection& c) {
        HttpResponse res = job(c);  // may throw; then on_error replies instead
        reply(std::move(res));
      },
      [reply](const Status& s) {
        HttpResponse res = s.code() == StatusCode::kUnavailable ? Problem(503, "database unavailable")
                                                                : Problem(500, "internal error");
        if (res.status == 503) res.Set("Retry-After", "1");
        reply(std::move(res));
      });
  if (!queued) {
    HttpResponse res = Problem(503, "too many requests in progress");
    res.Set("Retry-After", "1");
    reply(std::move(res));
  }
}

// ---------------------------------------------------------------------------
// The Digital Link resolver.

void Api::DigitalLink(const HttpRequest& req, const Params&, Reply reply) {
  auto query = ParseQuery(req.query);
  if (!query) return reply(ProblemFor(query.error()));
  auto link = gs1::ParseDigitalLinkPath(req.path);
  if (!link) return reply(ProblemFor(link.error()));
  // One spelling per product: short GTINs, lowercase escapes and over-escaped
  // characters are sent to the canonical path.
  const std::string canonical_path = gs1::FormatDigitalLink("", *link);
  if (canonical_path != req.path) {
    HttpResponse res;
    res.status = 301;
    res.Set("Location", canonical_path + (req.query.empty() ? "" : "?" + req.query));
    res.Set("Cache-Control", "public, max-age=86400");
    return reply(std::move(res));
  }
  if (!link->lot && !link->serial) return reply(Problem(404, "a trace needs a lot (/10/) or a serial (/21/)"));

  const std::string self = gs1::FormatDigitalLink(options_.public_base, *link);
  std::vector<LinkEntry> links;
  links.push_back({std::string(kGs1Voc) + "traceability", self, "application/json", "Trace document"});
  {
    gs1::DigitalLink lot_link{link->gtin, link->lot, std::nullopt, {}};
    std::string epcis = options_.public_base + "/api/v1/epcis/events?";
    epcis += link->serial ? "MATCH_epc=" + QueryEscape(self)
                          : "MATCH_epcClass=" + QueryEscape(gs1::FormatDigitalLink(options_.public_base, lot_link));
    links.push_back({std::string(kGs1Voc) + "epcis", epcis, "application/json", "EPCIS events"});
  }
  links.push_back({std::string(kGs1Voc) + "pip", self, "text/html", "Product information page"});
  links.push_back({std::string(kGs1Voc) + "defaultLink", self, "text/html", "Product information page"});
  std::string link_header;
  for (const auto& l : links) {
    link_header += (link_header.empty() ? "" : ", ") +
                   ("<" + l.href + ">; rel=\"" + l.rel + "\"; type=\"" + l.type + "\"; title=\"" + l.title + "\"");
  }
  link_header += ", <" + self + "?linkType=linkset>; rel=\"linkset\"; type=\"application/linkset+json\"";

  // What is asked for: a linkType, or else the Accept header.
  std::string mode;
  if (auto lt = One(*query, "linkType")) {
    std::string type = *lt;
    if (type.starts_with("gs1:")) type = std::string(kGs1Voc) + type.substr(4);
    if (type == "linkset" || type == "all" || type == std::string(kGs1Voc) + "linkset") {
      mode = "application/linkset+json";
    } else {
      auto it = std::find_if(links.begin(), links.end(), [&](const LinkEntry& l) { return l.rel == type; });
      if (it == links.end()) return reply(Problem(404, "no link of type " + *lt + " for this product"));
      mode = "redirect:" + it->href;
    }
  } else {
    static const std::vector<std::string> kOffered = {"text/html", "application/json", "application/linkset+json"};
    auto chosen = Negotiate(req.Header("accept"), kOffered);
    if (!chosen) return reply(Problem(406, "available: text/html, application/json, application/linkset+json"));
    mode = *chosen;
  }

  // Trace documents go through the cache (document_cache.h): a hit is answered here, on the I/O thread.
  std::shared_ptr<DocumentCache::Fill> fill;
  if (options_.documents != nullptr && (mode == "application/json" || mode == "text/html")) {
    fill = options_.documents->Lookup(mode + " " + req.path, reply);
    if (!fill) return;
    reply = fill->reply();
  }
  ReadDb(reply, [this, link = *link, mode, self, links, link_header, fill](pqxx::connection& c) {
    const auto stamp_read_at = std::chrono::steady_clock::now();
    pqxx::read_transaction tx(c);
    if (fill) fill->SetStamp(ReadDocumentStamp(tx), stamp_read_at);  // before the document's queries
    HttpResponse res;
    if (mode == "application/json" || mode == "text/html") {
      auto trace = BuildTrace(tx, link, options_.trace);
      if (!trace) return ProblemFor(trace.error());
      if (mode == "application/json") {
        res = JsonResponse(*trace);
      } else {
        res.body = RenderTracePage(*trace);
        res.Set("Content-Type", "text/html; charset=utf-8");
        res.Set("Content-Security-Policy", std::string(PageContentSecurityPolicy()));
        res.Set("X-Content-Type-Options", "nosniff");
        res.Set("Referrer-Policy", "no-referrer");
      }
    } else {
      // The product must exist for its links to.
      bool known = link.lot ? LotKnown(tx, link.gtin, *link.lot)
                            : !tx.exec_params("SELECT 1 FROM event_keys WHERE gtin = $1 AND serial = $2 LIMIT 1",
                                              link.gtin, *link.serial)
                                   .empty();
      if (!known) return Problem(404, "nothing recorded about " + self);
      if (mode.starts_with("redirect:")) {
        res.status = 307;
        res.Set("Location", mode.substr(9));
        res.Set("Cache-Control", "no-cache");
      } else {
        json::object set{{"anchor", self}};
        for (const auto& l : links) {
          json::array& targets = set[l.rel].is_array() ? set[l.rel].get_array() : set[l.rel].emplace_array();
          targets.push_back(json::object{{"href", l.href}, {"type", l.type}, {"title", l.title}});
        }
        res = JsonResponse(json::object{{"linkset", json::array{std::move(set)}}}, "application/linkset+json");
      }
    }
    res.Set("Link", link_header);
    res.Set("Vary", "Accept");
    if (res.Get("Cache-Control").empty()) res.Set("Cache-Control", "public, max-age=60");
    return res;
  });
}

// ---------------------------------------------------------------------------
// Envelopes and the log.

void Api::Envelope(const HttpRequest& req, const Params& p, Reply reply) {
  std::string id = p.at("id");
  for (char& ch : id) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  if (id.size() != 64 || !HexDecode(id)) return reply(Problem(400, "envelope id: want 64 hex digits"));
  auto query = ParseQuery(req.query);
  if (!query) return reply(ProblemFor(query.error()));
  std::optional<uint64_t> tree_size;
  if (auto ts = One(*query, "treeSize")) {
    tree_size = ParseUint(*ts);
    if (!tree_size || *tree_size == 0) return reply(Problem(400, "treeSize: want a positive integer"));
  }
  ReadDb(reply, [this, id, tree_size](pqxx::connection& c) {
    pqxx::read_transaction tx(c);
    pqxx::result r = tx.exec_params(
        "SELECT convert_from(env.canonical, 'UTF8'), env.org, env.device, encode(d.public_key, 'hex'), l.leaf_index "
        "FROM envelopes env JOIN devices d ON d.org = env.org AND d.device = env.device "
        "LEFT JOIN log_leaves l ON l.envelope_id = env.id WHERE env.id = decode($1, 'hex')",
        id);
    if (r.empty()) return Problem(404, "no envelope " + id);
    auto envelope = ParseJsonStrict(r[0][0].as<std::string>());
    if (!envelope) return Problem(500, "stored envelope does not parse");
    json::object doc;
    doc["envelope"] = std::move(*envelope);
    doc["signer"] = json::object{{"org", r[0][1].as<std::string>()},
                                 {"device", r[0][2].as<std::string>()},
                                 {"key", Base64UrlEncode(HexDecode(r[0][3].as<std::string>()).value_or(""))}};
    doc["proof"] = nullptr;
    doc["anchor"] = nullptr;
    bool fixed = false;
    if (!r[0][4].is_null()) {
      const auto leaf = r[0][4].as<int64_t>();
      std::string sql =
          "SELECT tree_size, encode(root, 'hex'), chain_id, contract, tx_hash, block_number FROM anchors WHERE "
          "tree_size > $1" +
          AnchorFilter();
      pqxx::result a = tree_size
                           ? tx.exec_params(sql + " AND tree_size = $2 LIMIT 1", leaf, static_cast<int64_t>(*tree_size))
                           : tx.exec_params(sql + " ORDER BY tree_size DESC LIMIT 1", leaf);
      if (tree_size && a.empty()) {
        return Problem(404, "no confirmed anchor of tree size " + std::to_string(*tree_size) + " covers this envelope");
      }
      if (!a.empty()) {
        const auto size = a[0][0].as<int64_t>();
        PgHashReader reader(tx);
        auto proof = merkle::InclusionProof(reader, static_cast<uint64_t>(leaf), static_cast<uint64_t>(size));
        if (!proof) return ProblemFor(proof.error().WithContext("inclusion proof"));
        json::array hashes;
        for (const auto& h : *proof) hashes.push_back(json::string(Base64Encode(HashBytes(h))));
        doc["proof"] = json::object{{"leafIndex", leaf}, {"treeSize", size}, {"hashes", std::move(hashes)}};
        doc["anchor"] = AnchorJson(a[0]);
        fixed = tree_size.has_value();
      }
    } else if (tree_size) {
      return Problem(404, "envelope " + id + " has no leaf yet");
    }
    HttpResponse res = JsonResponse(doc);
    res.Set("Cache-Control", fixed ? kImmutable : kShort);
    return res;
  });
}

void Api::CheckpointRoute(const HttpRequest&, const Params&, Reply reply) {
  ReadDb(reply, [](pqxx::connection& c) {
    pqxx::read_transaction tx(c);
    pqxx::result r = tx.exec("SELECT note FROM checkpoints ORDER BY tree_size DESC LIMIT 1");
    if (r.empty()) return Problem(404, "no checkpoint yet");
    HttpResponse res;
    res.body = r[0][0].as<std::string>();
    res.Set("Content-Type", "text/plain; charset=utf-8");
    res.Set("Cache-Control", "public, max-age=5");
    return res;
  });
}

void Api::Consistency(const HttpRequest& req, const Params&, Reply reply) {
  auto query = ParseQuery(req.query);
  if (!query) return reply(ProblemFor(query.error()));
  auto from_text = One(*query, "from"), to_text = One(*query, "to");
  if (!from_text || !to_text) return reply(Problem(400, "want from and to"));
  auto from = ParseUint(*from_text), to = ParseUint(*to_text);
  if (!from || !to) return reply(Problem(400, "from and to must be non-negative integers"));
  if (*from == 0) return reply(Problem(400, "from must be at least 1 (no proof from the empty tree)"));
  if (*from > *to) return reply(Problem(400, "from must not exceed to"));
  ReadDb(reply, [from = *from, to = *to](pqxx::connection& c) {
    pqxx::read_transaction tx(c);
    pqxx::result r = tx.exec("SELECT coalesce(max(tree_size), 0) FROM checkpoints");
    const auto size = r[0][0].as<int64_t>();
    if (to > static_cast<uint64_t>(size)) {
      return Problem(
          400, "to " + std::to_string(to) + " is beyond the log's newest checkpoint (" + std::to_string(size) + ")");
    }
    PgHashReader reader(tx);
    auto proof = merkle::ConsistencyProof(reader, from, to);
    if (!proof) return ProblemFor(proof.error());
    json::array hashes;
    for (const auto& h : *proof) hashes.push_back(json::string(Base64Encode(HashBytes(h))));
    HttpResponse res = JsonResponse(json::object{{"from", from}, {"to", to}, {"hashes", std::move(hashes)}});
    res.Set("Cache-Control", kImmutable);
    return res;
  });
}

void Api::Anchors(const HttpRequest& req, const Params&, Reply reply) {
  auto query = ParseQuery(req.query);
  if (!query) return reply(ProblemFor(query.error()));
  uint64_t limit = 20;
  if (auto l = One(*query, "limit")) {
    auto v = ParseUint(*l);
    if (!v || *v < 1 || *v > 100) return reply(Problem(400, "limit: want 1 to 100"));
    limit = *v;
  }
  std::optional<uint64_t> before;
  if (auto b = One(*query, "before")) {
    before = ParseUint(*b);
    if (!before) return reply(Problem(400, "before: want a tree size"));
  }
  ReadDb(reply, [this, limit, before](pqxx::connection& c) {
    pqxx::read_transaction tx(c);
    std::string sql =
        "SELECT tree_size, encode(root, 'hex'), chain_id, contract, tx_hash, block_number FROM anchors "
        "WHERE tree_size < $1" +
        AnchorFilter() + " ORDER BY tree_size DESC LIMIT $2";
    pqxx::result r =
        tx.exec_params(sql, static_cast<int64_t>(before.value_or(INT64_MAX)), static_cast<int64_t>(limit + 1));
    json::array list;
    for (size_t i = 0; i < r.size() && i < limit; ++i) list.push_back(AnchorJson(r[i]));
    json::value next = nullptr;
    HttpResponse res;
    if (r.size() > limit) {
      next = json::string(options_.public_base + "/api/v1/anchors?limit=" + std::to_string(limit) +
                          "&before=" + std::to_string(r[limit - 1][0].as<int64_t>()));
    }
    res = JsonResponse(json::object{{"anchors", std::move(list)}, {"next", next}});
    if (next.is_string()) res.Set("Link", "<" + std::string(next.get_string()) + ">; rel=\"next\"");
    res.Set("Cache-Control", before ? "public, max-age=300" : kShort);
    return res;
  });
}

void Api::Keys(const HttpRequest&, const Params&, Reply reply) {
  ReadDb(reply, [](pqxx::connection& c) {
    pqxx::read_transaction tx(c);
    pqxx::result r = tx.exec(
        "SELECT kind, name, id, encode(public_key, 'hex'), retired_at IS NULL FROM platform_keys "
        "ORDER BY created_at, id");
    json::value log = nullptr;
    json::array receipt;
    for (const auto& row : r) {
      std::string key = Base64UrlEncode(HexDecode(row[3].as<std::string>()).value_or(""));
      if (row[0].as<std::string>() == "log") {
        if (row[4].as<bool>()) log = json::object{{"name", row[1].as<std::string>()}, {"public_key", key}};
      } else {
        receipt.push_back(json::object{{"id", row[2].as<std::string>()}, {"public_key", key}});
      }
    }
    if (log.is_null() && receipt.empty()) return Problem(404, "no platform keys registered (trace-admin keys)");
    HttpResponse res = JsonResponse(json::object{{"log", log}, {"receipt", std::move(receipt)}});
    res.Set("Cache-Control", "public, max-age=300");
    return res;
  });
}

void Api::Epcis(const HttpRequest& req, const Params&, Reply reply) {
  auto params = ParseQuery(req.query);
  if (!params) return reply(ProblemFor(params.error()));
  auto query = ParseEpcisQuery(*params, options_.page_token_secret);
  if (!query) return reply(ProblemFor(query.error()));
  // The query string without the token, for the next page's link.
  std::string rest;
  for (const auto& [k, v] : *params) {
    if (k == "nextPageToken") continue;
    rest += (rest.empty() ? "" : "&") + QueryEscape(k) + "=" + QueryEscape(v);
  }
  ReadDb(reply, [this, query = *query, rest](pqxx::connection& c) {
    pqxx::read_transaction tx(c);
    auto page = RunEpcisQuery(tx, query, options_.page_token_secret);
    if (!page) return ProblemFor(page.error());
    HttpResponse res = JsonResponse(page->document);
    res.Set("GS1-EPCIS-Version", "2.0.0");
    res.Set("GS1-CBV-Version", "2.0.0");
    if (page->next_token) {
      res.Set("Link", "<" + options_.public_base + "/api/v1/epcis/events?" + rest + (rest.empty() ? "" : "&") +
                          "nextPageToken=" + QueryEscape(*page->next_token) + ">; rel=\"next\"");
    }
    res.Set("Cache-Control", "no-cache");
    return res;
  });
}

void Api::Readings(const HttpRequest&, const Params& p, Reply reply) {
  auto gtin = gs1::NormalizeGtin(p.at("gtin"));
  if (!gtin) return reply(ProblemFor(gtin.error()));
  const std::string lot = p.at("lot");
  if (auto s = gs1::ValidateLot(lot); !s.ok()) return reply(ProblemFor(s));
  ReadDb(reply, [this, gtin = *gtin, lot](pqxx::connection& c) {
    pqxx::read_transaction tx(c);
    auto doc = LotReadings(tx, gtin, lot, options_.trace);
    if (!doc) return ProblemFor(doc.error());
    HttpResponse res = JsonResponse(*doc);
    res.Set("Cache-Control", "public, max-age=60");
    return res;
  });
}

void Api::Static(const HttpRequest&, const Params& p, Reply reply) {
  auto asset = FindStaticAsset(p.at("file"));
  if (!asset) return reply(Problem(404, "no file " + p.at("file")));
  HttpResponse res;
  res.body = std::string(asset->body);
  res.Set("Content-Type", std::string(asset->content_type));
  res.Set("ETag", asset->etag);
  res.Set("Cache-Control", kImmutable);
  res.Set("X-Content-Type-Options", "nosniff");
  reply(std::move(res));
}

// ---------------------------------------------------------------------------
// Operations.

void Api::Healthz(const HttpRequest&, const Params&, Reply reply) {
  Db(reply, [](pqxx::connection& c) {
    pqxx::read_transaction tx(c);
    tx.exec("SELECT 1");
    HttpResponse res = JsonResponse(json::object{{"status", "ok"}, {"database", "ok"}});
    res.Set("Cache-Control", "no-store");
    return res;
  });
}

void Api::MetricsRoute(const HttpRequest&, const Params&, Reply reply) {
  HttpResponse res;
  res.body = metrics_.Render(in_flight_ ? in_flight_() : 0, pool_.queued());
  res.Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8");
  res.Set("Cache-Control", "no-store");
  reply(std::move(res));
}

}  // namespace trace::api
