#include "trace/common/digital_link.h"

#include <algorithm>
#include <cstdio>

#include <boost/url/parse.hpp>
#include <boost/url/url_view.hpp>

#include "trace/common/gs1.h"

namespace trace::gs1 {
namespace {

bool IsUnreserved(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
         c == '_' || c == '~';
}

bool IsSubDelim(char c) {
  switch (c) {
    case '!': case '$': case '&': case '\'': case '(': case ')': case '*': case '+': case ',': case ';': case '=':
      return true;
    default:
      return false;
  }
}

bool IsPchar(char c) { return IsUnreserved(c) || IsSubDelim(c) || c == ':' || c == '@'; }

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

bool AllDigits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

std::string Printable(std::string_view s) {
  std::string out;
  for (char c : s) {
    unsigned u = static_cast<unsigned char>(c);
    if (u >= 0x20 && u < 0x7f) {
      out += c;
    } else {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02X", u);
      out += buf;
    }
  }
  return out;
}

// Decodes %XX; other characters must satisfy `allowed`.
Result<std::string> Decode(std::string_view s, bool (*allowed)(char)) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (c == '%') {
      int hi = i + 1 < s.size() ? HexValue(s[i + 1]) : -1;
      int lo = i + 2 < s.size() ? HexValue(s[i + 2]) : -1;
      if (hi < 0 || lo < 0) {
        return Fail(InvalidArgument("bad percent escape '" + Printable(s.substr(i, 3)) + "' at position " +
                                    std::to_string(i + 1)));
      }
      out += static_cast<char>(hi * 16 + lo);
      i += 2;
    } else if (allowed(c)) {
      out += c;
    } else {
      return Fail(InvalidArgument("character '" + Printable(s.substr(i, 1)) + "' at position " +
                                  std::to_string(i + 1) + " must be percent-encoded"));
    }
  }
  return out;
}

bool IsQueryChar(char c) { return IsPchar(c) || c == '/' || c == '?'; }

Result<std::string> DecodeQueryComponent(std::string_view s) { return Decode(s, IsQueryChar); }

// Validates the value of `ai` in a Digital Link; a GTIN is normalized to 14 digits.
Result<std::string> CheckValue(const std::string& ai, const std::string& value) {
  if (ai == "01") return NormalizeGtin(value);
  if (ai == "10") {
    if (auto s = ValidateLot(value); !s.ok()) return Fail(s);
    return value;
  }
  if (ai == "21") {
    if (auto s = ValidateSerial(value); !s.ok()) return Fail(s);
    return value;
  }
  if (auto s = ValidateAiValue(ai, value); !s.ok()) return Fail(s);
  return value;
}

// Splits "a,b,c" on `sep`.
std::vector<std::string_view> Split(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  size_t start = 0;
  while (true) {
    size_t end = s.find(sep, start);
    out.push_back(s.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start));
    if (end == std::string_view::npos) break;
    start = end + 1;
  }
  return out;
}

// OK if `qualifiers` (in path order) are a subsequence of one of the primary
// key's alternative qualifier sequences (dictionary "dlpkey=22,10,21|235").
Status CheckQualifierOrder(const AiInfo& primary, const std::vector<std::pair<std::string, std::string>>& qualifiers) {
  if (qualifiers.empty()) return OkStatus();
  std::string_view spec = primary.dl_qualifiers == "-" ? std::string_view() : primary.dl_qualifiers;
  for (std::string_view alternative : Split(spec, '|')) {
    std::vector<std::string_view> order = Split(alternative, ',');
    size_t pos = 0;
    bool ok = true;
    for (const auto& [ai, value] : qualifiers) {
      while (pos < order.size() && order[pos] != ai) ++pos;
      if (pos == order.size()) {
        ok = false;
        break;
      }
      ++pos;  // each qualifier at most once
    }
    if (ok) return OkStatus();
  }
  std::string seen;
  for (const auto& q : qualifiers) seen += (seen.empty() ? "" : ",") + q.first;
  std::string allowed = spec.empty() ? "none" : std::string(spec);
  return InvalidArgument("qualifiers " + seen + " after AI " + std::string(primary.ai) +
                         " are out of order, repeated or not allowed (GS1 order: " + allowed + ")");
}

Result<DigitalLinkElements> ParseElements(std::string_view path) {
  if (path.empty() || path.front() != '/') return Fail(InvalidArgument("must start with '/'"));
  std::vector<std::string_view> raw = Split(path.substr(1), '/');
  std::vector<std::string> decoded;
  decoded.reserve(raw.size());
  for (size_t i = 0; i < raw.size(); ++i) {
    if (raw[i].empty()) {
      return Fail(InvalidArgument("segment " + std::to_string(i + 1) + " is empty" +
                                  (i + 1 == raw.size() ? " (trailing '/')" : "")));
    }
    auto d = Decode(raw[i], IsPchar);
    if (!d) return Fail(d.error().WithContext("segment " + std::to_string(i + 1)));
    decoded.push_back(std::move(*d));
  }

  // Read AI/value pairs from the end until the primary key.
  std::vector<std::pair<std::string, std::string>> reversed;
  size_t i = decoded.size();
  const AiInfo* primary = nullptr;
  while (i >= 2) {
    const std::string& ai = decoded[i - 2];
    const AiInfo* info = FindAi(ai);
    if (info != nullptr && !info->dl_qualifiers.empty()) {
      primary = info;
      break;
    }
    if (!AllDigits(ai)) break;  // not an AI: the pairs end here without a primary key
    reversed.emplace_back(ai, decoded[i - 1]);
    i -= 2;
  }
  if (primary == nullptr) {
    return Fail(InvalidArgument("no primary key: expected /01/{gtin}, /414/{gln} or /00/{sscc} followed by AI/value "
                                "pairs"));
  }

  DigitalLinkElements out;
  size_t prefix_segments = i - 2;
  for (size_t k = 0; k < prefix_segments; ++k) {
    out.prefix += '/';
    out.prefix += raw[k];
  }
  auto primary_value = CheckValue(std::string(primary->ai), decoded[i - 1]);
  if (!primary_value) return Fail(primary_value.error().WithContext("AI " + std::string(primary->ai)));
  out.primary = {std::string(primary->ai), std::move(*primary_value)};
  out.qualifiers.assign(reversed.rbegin(), reversed.rend());
  for (auto& [ai, value] : out.qualifiers) {
    if (FindAi(ai) == nullptr) {
      return Fail(InvalidArgument("AI " + ai + " is not supported in a Digital Link path"));
    }
  }
  if (auto s = CheckQualifierOrder(*primary, out.qualifiers); !s.ok()) return Fail(s);
  for (auto& [ai, value] : out.qualifiers) {
    auto v = CheckValue(ai, value);
    if (!v) return Fail(v.error().WithContext("AI " + ai));
    value = std::move(*v);
  }
  return out;
}

// True if `ai` is one of the Digital Link qualifiers of `primary_ai`: such an AI
// belongs in the path, never in the query.
bool IsQualifierOf(std::string_view primary_ai, std::string_view ai) {
  const AiInfo* primary = FindAi(primary_ai);
  if (primary == nullptr) return false;
  for (std::string_view alternative : Split(primary->dl_qualifiers, '|')) {
    for (std::string_view q : Split(alternative, ',')) {
      if (q == ai) return true;
    }
  }
  return false;
}

// A data attribute a product link may carry in its query. 37 (COUNT) is a data
// attribute in general but the dictionary forbids it with 01 ("ex=255,37").
bool IsProductAttribute(std::string_view ai) {
  const AiInfo* info = FindAi(ai);
  return info != nullptr && info->dl_data_attribute && info->dl_qualifiers.empty() && !IsQualifierOf("01", ai) &&
         ai != "37";
}

// Applies the product rules to parsed elements.
Result<DigitalLink> ToProductLink(const DigitalLinkElements& elements) {
  if (elements.primary.first != "01") {
    return Fail(InvalidArgument("primary key is AI " + elements.primary.first + ", a product link needs AI 01"));
  }
  DigitalLink link;
  link.gtin = elements.primary.second;
  for (const auto& [ai, value] : elements.qualifiers) {
    if (ai == "10") {
      link.lot = value;
    } else if (ai == "21") {
      link.serial = value;
    } else {
      return Fail(InvalidArgument("AI " + ai + " is a valid Digital Link qualifier of 01 but not supported by trace "
                                  "(only 10 and 21)"));
    }
  }
  return link;
}

Status ParseQuery(std::string_view query, DigitalLink& link) {
  if (query.empty()) return OkStatus();
  for (std::string_view param : Split(query, '&')) {
    if (param.empty()) continue;  // "a=1&&b=2": harmless
    size_t eq = param.find('=');
    auto key = DecodeQueryComponent(param.substr(0, eq));
    if (!key) return key.error().WithContext("query");
    if (!AllDigits(*key)) continue;  // linkType, context, ...: for the resolver, not the identity
    const AiInfo* info = FindAi(*key);
    if (info == nullptr) continue;  // a GS1 AI we do not use
    if (!IsProductAttribute(*key)) {
      return InvalidArgument("query: AI " + *key + " is not a Digital Link data attribute of a product (keys and "
                             "qualifiers belong in the path)");
    }
    if (eq == std::string_view::npos) return InvalidArgument("query: AI " + *key + " has no value");
    auto value = DecodeQueryComponent(param.substr(eq + 1));
    if (!value) return value.error().WithContext("query: AI " + *key);
    if (auto s = ValidateAiValue(*key, *value); !s.ok()) return s.WithContext("query");
    if (!link.attributes.emplace(*key, std::move(*value)).second) {
      return InvalidArgument("query: AI " + *key + " repeated");
    }
  }
  return OkStatus();
}

}  // namespace

std::string PercentEncodeValue(std::string_view value) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(value.size());
  for (char c : value) {
    if (IsUnreserved(c)) {
      out += c;
    } else {
      unsigned u = static_cast<unsigned char>(c);
      out += '%';
      out += kHex[u >> 4];
      out += kHex[u & 0xF];
    }
  }
  return out;
}

Result<std::string> PercentDecodeSegment(std::string_view segment) { return Decode(segment, IsPchar); }

Result<DigitalLinkElements> ParseDigitalLinkElements(std::string_view path) {
  auto elements = ParseElements(path);
  if (!elements) return Fail(elements.error().WithContext("Digital Link path"));
  return elements;
}

Result<DigitalLink> ParseDigitalLinkPath(std::string_view path) {
  auto elements = ParseDigitalLinkElements(path);
  if (!elements) return Fail(elements.error());
  auto link = ToProductLink(*elements);
  if (!link) return Fail(link.error().WithContext("Digital Link path"));
  return link;
}

Result<DigitalLink> ParseDigitalLinkUri(std::string_view uri) {
  auto parsed = boost::urls::parse_uri(uri);
  if (!parsed) return Fail(InvalidArgument("Digital Link URI: not a URI: " + parsed.error().message()));
  const boost::urls::url_view& u = *parsed;
  if (u.scheme_id() != boost::urls::scheme::https && u.scheme_id() != boost::urls::scheme::http) {
    return Fail(InvalidArgument("Digital Link URI: scheme '" + std::string(u.scheme()) + "', want https or http"));
  }
  if (!u.has_authority() || u.encoded_host().empty()) return Fail(InvalidArgument("Digital Link URI: no host"));
  auto link = ParseDigitalLinkPath(std::string_view(u.encoded_path()));
  if (!link) return Fail(link.error().WithContext("Digital Link URI"));
  if (u.has_query()) {
    if (auto s = ParseQuery(std::string_view(u.encoded_query()), *link); !s.ok()) {
      return Fail(s.WithContext("Digital Link URI"));
    }
  }
  return link;
}

std::string FormatDigitalLink(std::string_view base, const DigitalLink& link) {
  while (!base.empty() && base.back() == '/') base.remove_suffix(1);
  std::string out(base);
  out += "/01/";
  out += link.gtin;
  if (link.lot) out += "/10/" + PercentEncodeValue(*link.lot);
  if (link.serial) out += "/21/" + PercentEncodeValue(*link.serial);
  char sep = '?';
  for (const auto& [ai, value] : link.attributes) {
    out += sep;
    out += PercentEncodeValue(ai) + "=" + PercentEncodeValue(value);
    sep = '&';
  }
  return out;
}

Status ValidateDigitalLink(const DigitalLink& link) {
  if (link.gtin.size() != 14) {
    return InvalidArgument("Digital Link gtin: length " + std::to_string(link.gtin.size()) + ", want 14 digits");
  }
  if (auto g = NormalizeGtin(link.gtin); !g) return g.error().WithContext("Digital Link");
  if (link.lot) {
    if (auto s = ValidateLot(*link.lot); !s.ok()) return s.WithContext("Digital Link");
  }
  if (link.serial) {
    if (auto s = ValidateSerial(*link.serial); !s.ok()) return s.WithContext("Digital Link");
  }
  for (const auto& [ai, value] : link.attributes) {
    if (!IsProductAttribute(ai)) {
      return InvalidArgument("Digital Link attributes: AI " + ai + " is not a supported data attribute");
    }
    if (auto s = ValidateAiValue(ai, value); !s.ok()) return s.WithContext("Digital Link attributes");
  }
  return OkStatus();
}

}  // namespace trace::gs1
