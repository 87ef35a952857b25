// Pieces of HTTP that trace-api's routes share, free of Beast: content
// negotiation, query strings, entity tags, RFC 9457 problem documents and JSON
// answers. All functions are pure and thread-safe.
#pragma once

#include <boost/json/value.hpp>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "http_server.h"
#include "trace/common/status.h"

namespace trace::api {

// One media range of an Accept header: "text/html;q=0.8" -> {"text/html", 0.8}.
struct MediaRange {
  std::string type;  // lowercase, "*/*", "text/*" or "type/subtype"
  double q = 1.0;
};

// Parses an Accept header (RFC 9110 §12.5.1). Malformed ranges are skipped;
// an empty header yields {"*/*", 1}.
std::vector<MediaRange> ParseAccept(std::string_view accept);

// Picks the first of `offered` (in the server's order of preference) with the
// highest q that the Accept header allows; more specific ranges override less
// specific ones. nullopt when none is acceptable (q = 0 for all) -> 406.
std::optional<std::string> Negotiate(std::string_view accept, std::span<const std::string> offered);

// Parses "a=1&b=x%20y" into decoded name -> values (in order). '+' stays a
// literal plus. InvalidArgument for a bad %-escape.
Result<std::multimap<std::string, std::string>> ParseQuery(std::string_view query);

// Parses an application/x-www-form-urlencoded body: as ParseQuery, but '+'
// stands for a space (HTML forms).
Result<std::multimap<std::string, std::string>> ParseForm(std::string_view body);

// Percent-encodes a query component: all but RFC 3986 unreserved characters.
std::string QueryEscape(std::string_view value);

// A strong entity tag of `body`: "\"" + 32 hex digits of SHA-256 + "\"".
std::string StrongEtag(std::string_view body);

// True when an If-None-Match header matches `etag` (weak comparison, "*" matches).
bool IfNoneMatchMatches(std::string_view if_none_match, std::string_view etag);

// An RFC 9457 problem document (type about:blank, title the reason phrase).
// Bytes of `detail` that are not well-formed UTF-8 become U+FFFD, so the
// document is valid JSON whatever request text the detail quotes.
HttpResponse Problem(int status, std::string_view detail);
// The problem for `status`, its HTTP status from HttpStatusFor.
HttpResponse ProblemFor(const Status& status);

// `value` as RFC 8785 canonical JSON (sorted members, ECMAScript numbers), so the
// same document always has the same bytes and so the same ETag.
HttpResponse JsonResponse(const boost::json::value& value, std::string_view content_type = "application/json");

// The reason phrase of an HTTP status ("Not Found").
std::string_view ReasonPhrase(int status);

}  // namespace trace::api
