// GS1 Digital Link 1.2 URIs for products: https://{host}[/prefix]/01/{gtin}[/10/{lot}][/21/{serial}]
// (PROTOCOL.md §1 and the public routes of §7).
//
// Parsing rules, decided here and relied on by the HTTP server:
//  - The path is split on '/' first, then every segment is percent-decoded, so
//    "RICE%2F0703" is the lot "RICE/0703". Escapes may use either hex case. A '%'
//    not followed by two hex digits is refused, as is any literal character that
//    RFC 3986 does not allow in a path segment (space, '"', '<', '>', '%', ...).
//  - Empty segments are refused anywhere: a trailing slash ("/01/x/"), "//", and
//    an empty path. One product therefore has no slash-variant spellings.
//  - The key and its qualifiers are read as AI/value pairs from the END of the
//    path backwards, until the primary key (01; 414 and 00 for the generic
//    parser); whatever precedes it is a path prefix, which GS1 Digital Link
//    allows ("https://example.com/shop/01/..."). The prefix is kept but not
//    interpreted.
//  - Qualifiers must follow GS1's order for the primary key (for 01: 22, 10, 21;
//    any subset, no repeats). 01 alone and 01+21 without 10 are valid Digital
//    Links. trace supports only 10 and 21 after 01; 22 (CPV) and 235 (TPX) are
//    refused with a message saying so. Any other AI in the path is refused.
//  - Every value is validated: GTIN-8/12/13/14 with check digit (normalized to
//    GTIN-14, although Digital Link says URIs SHOULD use 14 digits), lot and
//    serial 1..20 characters of set 82.
//  - Query strings (ParseDigitalLinkUri only): parameters whose key is a Digital
//    Link data attribute in gs1::KnownAis() (11, 13, 15, 17, 37, ...) are validated
//    and kept in `attributes`; key qualifiers (10, 21, 22) and primary keys in the
//    query are refused; any other parameter (linkType, context, AIs we do not
//    know) is ignored. '+' is a literal plus, not a space (RFC 3986; space is not
//    in set 82 anyway). A repeated attribute is refused.
//
// Example:
//   auto link = trace::gs1::ParseDigitalLinkPath("/01/09506000134369/10/RICE%2F0703");
//   // link->gtin == "09506000134369", *link->lot == "RICE/0703"
//   std::string uri = trace::gs1::FormatDigitalLink("https://id.example.com", *link);
//   // "https://id.example.com/01/09506000134369/10/RICE%2F0703"
//
// All functions are pure and thread-safe.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "trace/common/status.h"

namespace trace::gs1 {

// A product Digital Link, decoded.
struct DigitalLink {
  std::string gtin;                   // GTIN-14
  std::optional<std::string> lot;     // AI 10, decoded
  std::optional<std::string> serial;  // AI 21, decoded
  // Data attributes from the query string, AI -> decoded value (e.g. "17" -> "261231").
  std::map<std::string, std::string> attributes;

  friend bool operator==(const DigitalLink&, const DigitalLink&) = default;
};

// Any Digital Link path, before product-specific rules: the primary key and its
// qualifiers in path order, values decoded and validated (the primary key's value
// normalized when it is a GTIN).
struct DigitalLinkElements {
  std::string prefix;  // the still-encoded path before the primary key, "" or "/shop/x"
  std::pair<std::string, std::string> primary;                   // {"01", "09506000134369"}
  std::vector<std::pair<std::string, std::string>> qualifiers;   // {{"10", "RICE/0703"}, ...}
};

// Parses the path of a Digital Link whose primary key is 00, 01 or 414 under the
// rules above. InvalidArgument with context ("Digital Link path: AI 21 before AI
// 10: ...") on failure.
Result<DigitalLinkElements> ParseDigitalLinkElements(std::string_view path);

// Parses an HTTP request path (no query, no fragment: a '?' or '#' is refused as
// an illegal literal) into a product link: primary key 01, optional 10 and 21.
Result<DigitalLink> ParseDigitalLinkPath(std::string_view path);

// Parses an absolute http or https URI with a non-empty host, any host. The
// fragment is ignored. Errors as ParseDigitalLinkPath, plus "URI: ..." for
// syntax, scheme, host and query problems.
Result<DigitalLink> ParseDigitalLinkUri(std::string_view uri);

// Returns `base` (e.g. "https://id.example.com", a trailing '/' is dropped)
// followed by "/01/{gtin}[/10/{lot}][/21/{serial}]" and, if there are attributes,
// "?{ai}={value}&..." in AI order. Values are percent-encoded with
// PercentEncodeValue. Precondition: `link` is valid (as returned by the
// parsers, or checked with ValidateDigitalLink); otherwise the output is
// well-formed but will not parse back.
std::string FormatDigitalLink(std::string_view base, const DigitalLink& link);

// OK if `link.gtin` is a GTIN-14 with a valid check digit, lot and serial (if
// present) are valid, and every attribute is a known data attribute with a valid
// value; InvalidArgument naming the field otherwise.
Status ValidateDigitalLink(const DigitalLink& link);

// Digital Link percent-encoding: every byte that is not RFC 3986 unreserved
// (A-Z a-z 0-9 - . _ ~) becomes %XX with uppercase hex, so of set 82 the
// characters ! " % & ' ( ) * + , / : ; < = > ? are encoded.
std::string PercentEncodeValue(std::string_view value);

// Decodes one path segment or query component: %XX (either case) becomes the
// byte; other characters must be RFC 3986 pchar (unreserved, sub-delims, ':'
// and '@'). InvalidArgument names the offending character and its position.
Result<std::string> PercentDecodeSegment(std::string_view segment);

}  // namespace trace::gs1
