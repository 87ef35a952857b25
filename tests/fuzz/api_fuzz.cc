// HTTP request routing of trace-api: Api::Handle (services/api/src/api.h), the
// code behind every route, on requests built from the input, with a DbPool
// whose queue holds nothing. Every route that needs the database therefore
// answers 503 at once, on this thread, without a connection being tried; all
// that comes before the database runs for real: routing and path parameters,
// percent-decoding, query strings, Digital Link parsing and its canonical
// redirects, the EPCIS query's parameters, content negotiation, static files,
// ETag and If-None-Match, problem documents, metrics. The pure pieces of
// http_util.h (ParseAccept, Negotiate, ParseQuery, IfNoneMatchMatches,
// QueryEscape) also run directly on the request's header values and query.
//
// Input: "<METHOD> <target>\n" then header lines "<name>: <value>\n". Bytes
// that Beast refuses in a request line or a header (controls other than tab in
// values) make the input uninteresting (-1), since the server never hands such
// a request to the handler.
//
// Properties:
//   - the reply comes exactly once, synchronously, with a status from 200 to 599;
//   - every error answer is a problem document that parses as strict JSON;
//   - no response header holds CR, LF or NUL;
//   - a 301 (a Digital Link's canonical spelling) points to a path that
//     answers without another 301;
//   - a parsed query re-escaped with QueryEscape parses to the same pairs, and
//     Negotiate picks one of the offered types.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "api.h"
#include "db_pool.h"
#include "fuzz_support.h"
#include "http_util.h"
#include "metrics.h"
#include "trace/common/jcs.h"

namespace {

using trace::fuzz::Require;
namespace api = trace::api;

struct World {
  World()
      // No queue: Submit refuses every job, so nothing ever connects to "nowhere".
      : pool("postgresql://nowhere.invalid/none", 1, 0),
        handler(api::ApiOptions{.public_base = "https://id.example.com",
                                .page_token_secret = "fuzz page token secret",
                                .rate_per_second = 0},
                pool, metrics, [] { return 0; }) {}
  api::DbPool pool;
  api::Metrics metrics;
  api::Api handler;
};

bool BeastWouldRefuseTarget(std::string_view s) {
  if (s.empty()) return true;
  for (unsigned char c : s) {
    if (c <= 0x20 || c == 0x7f) return true;
  }
  return false;
}

bool BeastWouldRefuseValue(std::string_view s) {
  for (unsigned char c : s) {
    if ((c < 0x20 && c != '\t') || c == 0x7f) return true;
  }
  return false;
}

api::HttpResponse Answer(World& world, const api::HttpRequest& req) {
  std::optional<api::HttpResponse> answer;
  int replies = 0;
  world.handler.Handle(req, [&](api::HttpResponse res) {
    ++replies;
    answer = std::move(res);
  });
  Require(replies == 1, "Handle did not reply exactly once, synchronously");
  const api::HttpResponse& res = *answer;
  Require(res.status >= 200 && res.status <= 599, "status out of range");
  for (const auto& [name, value] : res.headers) {
    Require(name.find_first_of(std::string_view("\r\n\0", 3)) == std::string::npos &&
                value.find_first_of(std::string_view("\r\n\0", 3)) == std::string::npos,
            "a response header holds CR, LF or NUL");
  }
  if (res.status >= 400) {
    Require(res.Get("Content-Type") == "application/problem+json", "an error answer is not a problem document");
    Require(trace::ParseJsonStrict(res.body).has_value(), "a problem document is not strict JSON");
  }
  return res;
}

api::HttpRequest WithTarget(api::HttpRequest req, std::string target) {
  req.target = std::move(target);
  const size_t q = req.target.find('?');
  req.path = req.target.substr(0, q);
  req.query = q == std::string::npos ? "" : req.target.substr(q + 1);
  return req;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static World world;
  std::string_view input(reinterpret_cast<const char*>(data), size);

  // The request line.
  const size_t eol = input.find('\n');
  std::string_view line = input.substr(0, eol);
  input = eol == std::string_view::npos ? std::string_view() : input.substr(eol + 1);
  const size_t space = line.find(' ');
  if (space == std::string_view::npos || space == 0) return -1;
  api::HttpRequest req;
  req.method = std::string(line.substr(0, space));
  if (BeastWouldRefuseTarget(req.method) || BeastWouldRefuseTarget(line.substr(space + 1))) return -1;
  req.client = "127.0.0.1";
  // Header lines, names lowercased as the server does.
  while (!input.empty()) {
    const size_t end = input.find('\n');
    std::string_view header = input.substr(0, end);
    input = end == std::string_view::npos ? std::string_view() : input.substr(end + 1);
    const size_t colon = header.find(':');
    if (colon == std::string_view::npos || colon == 0) return -1;
    std::string name(header.substr(0, colon));
    if (BeastWouldRefuseTarget(name)) return -1;
    for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    std::string_view value = header.substr(colon + 1);
    while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
    while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) value.remove_suffix(1);
    if (BeastWouldRefuseValue(value)) return -1;
    req.headers.emplace_back(std::move(name), std::string(value));
  }
  req = WithTarget(std::move(req), std::string(line.substr(space + 1)));

  const api::HttpResponse res = Answer(world, req);
  if (res.status == 301) {
    const std::string location = res.Get("Location");
    Require(location.starts_with("/"), "a 301 without a path in Location");
    const api::HttpResponse again = Answer(world, WithTarget(req, location));
    Require(again.status != 301, "the canonical Digital Link redirects again");
  }

  // The pure pieces on the same bytes.
  if (auto query = api::ParseQuery(req.query)) {
    std::string rebuilt;
    for (const auto& [k, v] : *query) rebuilt += (rebuilt.empty() ? "" : "&") + api::QueryEscape(k) + "=" + api::QueryEscape(v);
    auto again = api::ParseQuery(rebuilt);
    Require(again.has_value() && *again == *query, "a re-escaped query parses to other pairs");
  }
  static const std::vector<std::string> kOffered = {"text/html", "application/json", "application/linkset+json"};
  const std::string accept = req.Header("accept");
  (void)api::ParseAccept(accept);
  if (auto chosen = api::Negotiate(accept, kOffered)) {
    Require(std::find(kOffered.begin(), kOffered.end(), *chosen) != kOffered.end(), "Negotiate chose an unoffered type");
  }
  const std::string etag = api::StrongEtag(req.target);
  Require(api::IfNoneMatchMatches(etag, etag), "an ETag does not match itself");
  (void)api::IfNoneMatchMatches(req.Header("if-none-match"), etag);
  return 0;
}
