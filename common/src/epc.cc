#include "trace/common/epc.h"

#include <algorithm>
#include <vector>

#include <boost/url/parse.hpp>
#include <boost/url/url_view.hpp>

#include "trace/common/digital_link.h"
#include "trace/common/gs1.h"

namespace trace::gs1 {
namespace {

constexpr std::string_view kSgtin = "urn:epc:id:sgtin:";
constexpr std::string_view kLgtin = "urn:epc:class:lgtin:";
constexpr std::string_view kSgtinPattern = "urn:epc:idpat:sgtin:";
constexpr std::string_view kSgln = "urn:epc:id:sgln:";

bool AllDigits(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// TDS escapes these set-82 characters in URNs; a literal one is malformed.
bool MustEscape(char c) {
  return c == '"' || c == '%' || c == '&' || c == '/' || c == '<' || c == '>' || c == '?';
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

// Decodes the TDS-escaped last component of a URN (serial, lot, extension).
Result<std::string> UnescapeComponent(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%') {
      int hi = i + 1 < s.size() ? HexValue(s[i + 1]) : -1;
      int lo = i + 2 < s.size() ? HexValue(s[i + 2]) : -1;
      if (hi < 0 || lo < 0) {
        return Fail(InvalidArgument("bad percent escape at position " + std::to_string(i + 1)));
      }
      out += static_cast<char>(hi * 16 + lo);
      i += 2;
    } else if (MustEscape(s[i])) {
      return Fail(InvalidArgument(std::string("character '") + s[i] + "' at position " + std::to_string(i + 1) +
                                  " must be percent-encoded in an EPC URN"));
    } else {
      out += s[i];
    }
  }
  return out;
}

std::string EscapeComponent(std::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (char c : s) {
    if (MustEscape(c)) {
      unsigned u = static_cast<unsigned char>(c);
      out += '%';
      out += kHex[u >> 4];
      out += kHex[u & 0xF];
    } else {
      out += c;
    }
  }
  return out;
}

// "a.b.c" -> {"a","b","c"}; exactly three parts.
Result<std::vector<std::string_view>> SplitThree(std::string_view body) {
  std::vector<std::string_view> parts;
  size_t first = body.find('.');
  size_t second = first == std::string_view::npos ? first : body.find('.', first + 1);
  if (second == std::string_view::npos) {
    return Fail(InvalidArgument("want three '.'-separated components"));
  }
  parts.push_back(body.substr(0, first));
  parts.push_back(body.substr(first + 1, second - first - 1));
  parts.push_back(body.substr(second + 1));
  return parts;
}

// Company prefix + second component as the digits of a key of `total` digits
// without check digit; checks the TDS length rules.
Status CheckPrefixAndRef(std::string_view what, std::string_view prefix, std::string_view ref, size_t total) {
  if (!AllDigits(prefix) || !AllDigits(ref)) {
    return InvalidArgument(std::string(what) + ": company prefix and reference must be digits");
  }
  if (prefix.size() < 6 || prefix.size() > 12) {
    return InvalidArgument(std::string(what) + ": company prefix has " + std::to_string(prefix.size()) +
                           " digits, want 6..12");
  }
  if (prefix.size() + ref.size() != total) {
    return InvalidArgument(std::string(what) + ": company prefix and reference have " +
                           std::to_string(prefix.size() + ref.size()) + " digits together, want " +
                           std::to_string(total));
  }
  return OkStatus();
}

// GTIN-14 from the company prefix and item reference (indicator digit first).
Result<std::string> GtinFromParts(std::string_view prefix, std::string_view item_ref) {
  if (item_ref.empty()) return Fail(InvalidArgument("item reference is empty (it carries the indicator digit)"));
  std::string body;
  body += item_ref[0];
  body.append(prefix);
  body.append(item_ref.substr(1));
  auto check = CheckDigit(body);
  if (!check) return Fail(check.error());
  body += *check;
  return body;
}

Result<ProductKey> ParseGtinUrn(std::string_view scheme, std::string_view body) {
  auto parts = SplitThree(body);
  if (!parts) return Fail(parts.error());
  std::string_view what = scheme == kLgtin ? "LGTIN" : "SGTIN";
  if (auto s = CheckPrefixAndRef(what, (*parts)[0], (*parts)[1], 13); !s.ok()) return Fail(s);
  ProductKey key;
  auto gtin = GtinFromParts((*parts)[0], (*parts)[1]);
  if (!gtin) return Fail(gtin.error());
  key.gtin = std::move(*gtin);
  std::string_view last = (*parts)[2];
  if (scheme == kSgtinPattern) {
    if (last != "*") return Fail(InvalidArgument("SGTIN pattern: only the whole-GTIN pattern '.*' is supported"));
    return key;
  }
  auto value = UnescapeComponent(last);
  if (!value) return Fail(value.error().WithContext(scheme == kLgtin ? "lot" : "serial"));
  if (scheme == kLgtin) {
    if (auto s = ValidateLot(*value); !s.ok()) return Fail(s);
    key.lot = std::move(*value);
  } else {
    if (auto s = ValidateSerial(*value); !s.ok()) return Fail(s);
    key.serial = std::move(*value);
  }
  return key;
}

// "'text'". Built by appending: `"'" + std::string(...)` trips g++ 12's false
// -Wrestrict positive (GCC bug 105329).
std::string Quote(std::string_view text) {
  std::string out;
  out.reserve(text.size() + 2);
  out += '\'';
  out.append(text);
  out += '\'';
  return out;
}

bool IsHttpUri(std::string_view s) { return s.starts_with("https://") || s.starts_with("http://"); }

Status CheckPrefixLength(int company_prefix_length) {
  if (company_prefix_length < 6 || company_prefix_length > 12) {
    return InvalidArgument("company prefix length " + std::to_string(company_prefix_length) + ", want 6..12");
  }
  return OkStatus();
}

// "CompanyPrefix.ItemRef" of a valid GTIN-14.
Result<std::string> GtinUrnBody(const ProductKey& key, int company_prefix_length) {
  if (auto s = CheckPrefixLength(company_prefix_length); !s.ok()) return Fail(s);
  if (key.gtin.size() != 14) return Fail(InvalidArgument("GTIN: want 14 digits, got " + std::to_string(key.gtin.size())));
  if (auto g = NormalizeGtin(key.gtin); !g) return Fail(g.error());
  std::string_view g = key.gtin;
  std::string out(g.substr(1, company_prefix_length));
  out += '.';
  out += g[0];
  out.append(g.substr(1 + company_prefix_length, 12 - company_prefix_length));
  return out;
}

}  // namespace

Result<ProductKey> ProductKeyFromEpc(std::string_view epc_or_class) {
  auto context = [&](const Status& s) { return Fail(s.WithContext(Quote(epc_or_class))); };
  if (IsHttpUri(epc_or_class)) {
    auto link = ParseDigitalLinkUri(epc_or_class);
    if (!link) return context(link.error());
    return ProductKey{link->gtin, link->lot, link->serial};
  }
  for (std::string_view scheme : {kSgtin, kLgtin, kSgtinPattern}) {
    if (epc_or_class.starts_with(scheme)) {
      auto key = ParseGtinUrn(scheme, epc_or_class.substr(scheme.size()));
      if (!key) return context(key.error());
      return key;
    }
  }
  return context(InvalidArgument("not an SGTIN or LGTIN URN, nor an http(s) Digital Link"));
}

Result<Location> LocationFromEpc(std::string_view epc) {
  auto context = [&](const Status& s) { return Fail(s.WithContext(Quote(epc))); };
  Location location;
  if (IsHttpUri(epc)) {
    auto uri = boost::urls::parse_uri(epc);
    if (!uri) return context(InvalidArgument("Digital Link URI: not a URI: " + uri.error().message()));
    if (!uri->has_authority() || uri->encoded_host().empty()) {
      return context(InvalidArgument("Digital Link URI: no host"));
    }
    std::string_view path = uri->encoded_path();
    auto elements = ParseDigitalLinkElements(path);
    if (!elements) return context(elements.error());
    if (elements->primary.first != "414") {
      return context(InvalidArgument("primary key is AI " + elements->primary.first + ", a location needs AI 414"));
    }
    location.gln = elements->primary.second;
    for (const auto& [ai, value] : elements->qualifiers) {
      if (ai != "254") return context(InvalidArgument("AI " + ai + " after 414 is not supported (only 254)"));
      location.extension = value;
    }
    return location;
  }
  if (!epc.starts_with(kSgln)) return context(InvalidArgument("not an SGLN URN, nor an http(s) Digital Link"));
  auto parts = SplitThree(epc.substr(kSgln.size()));
  if (!parts) return context(parts.error().WithContext("SGLN"));
  if (auto s = CheckPrefixAndRef("SGLN", (*parts)[0], (*parts)[1], 12); !s.ok()) return context(s);
  std::string gln((*parts)[0]);
  gln.append((*parts)[1]);
  auto check = CheckDigit(gln);
  if (!check) return context(check.error());
  gln += *check;
  location.gln = std::move(gln);
  if ((*parts)[2] != "0") {
    auto ext = UnescapeComponent((*parts)[2]);
    if (!ext) return context(ext.error().WithContext("SGLN extension"));
    if (auto s = ValidateAiValue("254", *ext); !s.ok()) return context(s.WithContext("SGLN extension"));
    location.extension = std::move(*ext);
  }
  return location;
}

Result<std::string> SgtinUrn(const ProductKey& key, int company_prefix_length) {
  if (!key.serial) return Fail(InvalidArgument("SGTIN: the key has no serial"));
  if (auto s = ValidateSerial(*key.serial); !s.ok()) return Fail(s.WithContext("SGTIN"));
  auto body = GtinUrnBody(key, company_prefix_length);
  if (!body) return Fail(body.error().WithContext("SGTIN"));
  return std::string(kSgtin) + *body + "." + EscapeComponent(*key.serial);
}

Result<std::string> LgtinUrn(const ProductKey& key, int company_prefix_length) {
  if (!key.lot) return Fail(InvalidArgument("LGTIN: the key has no lot"));
  if (auto s = ValidateLot(*key.lot); !s.ok()) return Fail(s.WithContext("LGTIN"));
  auto body = GtinUrnBody(key, company_prefix_length);
  if (!body) return Fail(body.error().WithContext("LGTIN"));
  return std::string(kLgtin) + *body + "." + EscapeComponent(*key.lot);
}

Result<std::string> SglnUrn(const Location& location, int company_prefix_length) {
  if (auto s = CheckPrefixLength(company_prefix_length); !s.ok()) return Fail(s.WithContext("SGLN"));
  if (auto s = ValidateGln(location.gln); !s.ok()) return Fail(s.WithContext("SGLN"));
  std::string ext = "0";
  if (location.extension) {
    // TDS reserves the extension "0" for "no extension".
    if (*location.extension == "0") return Fail(InvalidArgument("SGLN: extension \"0\" cannot be written as a URN"));
    if (auto s = ValidateAiValue("254", *location.extension); !s.ok()) return Fail(s.WithContext("SGLN extension"));
    ext = EscapeComponent(*location.extension);
  }
  std::string_view g = location.gln;
  return std::string(kSgln) + std::string(g.substr(0, company_prefix_length)) + "." +
         std::string(g.substr(company_prefix_length, 12 - company_prefix_length)) + "." + ext;
}

Result<std::string> SsccUrn(std::string_view sscc, int company_prefix_length) {
  if (auto s = CheckPrefixLength(company_prefix_length); !s.ok()) return Fail(s.WithContext("SSCC"));
  if (auto s = ValidateAiValue("00", sscc); !s.ok()) return Fail(s.WithContext("SSCC"));
  return std::string("urn:epc:id:sscc:") + std::string(sscc.substr(1, company_prefix_length)) + "." + sscc[0] +
         std::string(sscc.substr(1 + company_prefix_length, 16 - company_prefix_length));
}

Result<std::string> PglnUrn(std::string_view gln, int company_prefix_length) {
  if (auto s = CheckPrefixLength(company_prefix_length); !s.ok()) return Fail(s.WithContext("PGLN"));
  if (auto s = ValidateGln(gln); !s.ok()) return Fail(s.WithContext("PGLN"));
  return std::string("urn:epc:id:pgln:") + std::string(gln.substr(0, company_prefix_length)) + "." +
         std::string(gln.substr(company_prefix_length, 12 - company_prefix_length));
}

}  // namespace trace::gs1
