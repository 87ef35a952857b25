#include "http_util.h"

#include <algorithm>
#include <boost/json.hpp>
#include <cctype>
#include <charconv>

#include "trace/common/encoding.h"
#include "trace/common/jcs.h"
#include "trace/common/sha256.h"

namespace trace::api {
namespace {

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::vector<std::string_view> Split(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  size_t start = 0;
  for (;;) {
    size_t pos = s.find(sep, start);
    out.push_back(s.substr(start, pos == std::string_view::npos ? std::string_view::npos : pos - start));
    if (pos == std::string_view::npos) break;
    start = pos + 1;
  }
  return out;
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

Result<std::string> Unescape(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '%') {
      out.push_back(s[i]);
      continue;
    }
    if (i + 2 >= s.size()) return Fail(InvalidArgument("query: truncated %-escape"));
    int hi = HexValue(s[i + 1]), lo = HexValue(s[i + 2]);
    if (hi < 0 || lo < 0) return Fail(InvalidArgument("query: bad %-escape at position " + std::to_string(i + 1)));
    out.push_back(static_cast<char>(hi * 16 + lo));
    i += 2;
  }
  return out;
}

// Specificity of a media range matching `type`: -1 no match, 0 */*, 1 a/*, 2 exact.
int MatchLevel(const std::string& range, const std::string& type) {
  if (range == "*/*") return 0;
  if (range == type) return 2;
  if (range.size() > 2 && range.ends_with("/*")) {
    std::string_view major(range.data(), range.size() - 1);  // "text/"
    if (type.starts_with(major)) return 1;
  }
  return -1;
}

// `text` with every byte that does not belong to a well-formed UTF-8 sequence
// (RFC 3629: no overlong forms, no surrogates, nothing past U+10FFFF) replaced
// by U+FFFD. Problem details quote request bytes; JSON text must be UTF-8.
std::string ValidUtf8(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  size_t i = 0;
  while (i < text.size()) {
    const auto b = static_cast<unsigned char>(text[i]);
    size_t len = 0;
    unsigned char lo = 0x80, hi = 0xbf;  // the allowed range of the second byte
    if (b < 0x80) {
      len = 1;
    } else if (b >= 0xc2 && b <= 0xdf) {
      len = 2;
    } else if (b >= 0xe0 && b <= 0xef) {
      len = 3;
      if (b == 0xe0) lo = 0xa0;  // overlong
      if (b == 0xed) hi = 0x9f;  // surrogates
    } else if (b >= 0xf0 && b <= 0xf4) {
      len = 4;
      if (b == 0xf0) lo = 0x90;  // overlong
      if (b == 0xf4) hi = 0x8f;  // beyond U+10FFFF
    }
    bool ok = len > 0 && i + len <= text.size();
    for (size_t k = 1; ok && k < len; ++k) {
      const auto c = static_cast<unsigned char>(text[i + k]);
      ok = k == 1 ? (c >= lo && c <= hi) : (c >= 0x80 && c <= 0xbf);
    }
    if (ok) {
      out.append(text.substr(i, len));
      i += len;
    } else {
      out += "\xEF\xBF\xBD";
      ++i;
    }
  }
  return out;
}

}  // namespace

std::vector<MediaRange> ParseAccept(std::string_view accept) {
  std::vector<MediaRange> out;
  if (Trim(accept).empty()) return {{"*/*", 1.0}};
  for (std::string_view part : Split(accept, ',')) {
    auto params = Split(part, ';');
    std::string type = Lower(Trim(params[0]));
    if (type.empty() || type.find('/') == std::string::npos) continue;
    MediaRange range{type, 1.0};
    bool ok = true;
    for (size_t i = 1; i < params.size(); ++i) {
      std::string_view p = Trim(params[i]);
      if (p.size() >= 2 && (p[0] == 'q' || p[0] == 'Q') && p[1] == '=') {
        std::string v(Trim(p.substr(2)));
        try {
          size_t used = 0;
          range.q = std::stod(v, &used);
          if (used != v.size() || range.q < 0 || range.q > 1) ok = false;
        } catch (...) {
          ok = false;
        }
      }
    }
    if (ok) out.push_back(std::move(range));
  }
  if (out.empty()) out.push_back({"*/*", 1.0});
  return out;
}

std::optional<std::string> Negotiate(std::string_view accept, std::span<const std::string> offered) {
  auto ranges = ParseAccept(accept);
  std::optional<std::string> best;
  double best_q = 0;
  for (const auto& type : offered) {
    int level = -1;
    double q = 0;
    for (const auto& r : ranges) {
      int l = MatchLevel(r.type, type);
      if (l > level) {
        level = l;
        q = r.q;
      }
    }
    if (level >= 0 && q > best_q) {
      best = type;
      best_q = q;
    }
  }
  return best;
}

Result<std::multimap<std::string, std::string>> ParseQuery(std::string_view query) {
  std::multimap<std::string, std::string> out;
  if (query.empty()) return out;
  for (std::string_view pair : Split(query, '&')) {
    if (pair.empty()) continue;
    auto eq = pair.find('=');
    auto name = Unescape(pair.substr(0, eq));
    if (!name) return Fail(name.error());
    auto value = Unescape(eq == std::string_view::npos ? std::string_view() : pair.substr(eq + 1));
    if (!value) return Fail(value.error().WithContext(*name));
    out.emplace(std::move(*name), std::move(*value));
  }
  return out;
}

std::string QueryEscape(std::string_view value) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : value) {
    if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out;
}

std::string StrongEtag(std::string_view body) {
  std::string tag = "\"";
  tag += std::string_view(HashHex(Sha256(body))).substr(0, 32);
  tag += '"';
  return tag;
}

bool IfNoneMatchMatches(std::string_view if_none_match, std::string_view etag) {
  auto strip = [](std::string_view t) {
    t = Trim(t);
    if (t.starts_with("W/")) t.remove_prefix(2);
    return t;
  };
  for (std::string_view candidate : Split(if_none_match, ',')) {
    candidate = Trim(candidate);
    if (candidate == "*") return true;
    if (!candidate.empty() && strip(candidate) == strip(etag)) return true;
  }
  return false;
}

std::string_view ReasonPhrase(int status) {
  switch (status) {
    case 200:
      return "OK";
    case 301:
      return "Moved Permanently";
    case 304:
      return "Not Modified";
    case 307:
      return "Temporary Redirect";
    case 308:
      return "Permanent Redirect";
    case 400:
      return "Bad Request";
    case 401:
      return "Unauthorized";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 406:
      return "Not Acceptable";
    case 408:
      return "Request Timeout";
    case 409:
      return "Conflict";
    case 412:
      return "Precondition Failed";
    case 413:
      return "Content Too Large";
    case 429:
      return "Too Many Requests";
    case 431:
      return "Request Header Fields Too Large";
    case 500:
      return "Internal Server Error";
    case 503:
      return "Service Unavailable";
    case 504:
      return "Gateway Timeout";
    default:
      return "Error";
  }
}

HttpResponse Problem(int status, std::string_view detail) {
  boost::json::object doc;
  doc["type"] = "about:blank";
  doc["title"] = ReasonPhrase(status);
  doc["status"] = status;
  doc["detail"] = ValidUtf8(detail);
  HttpResponse res = JsonResponse(doc, "application/problem+json");
  res.status = status;
  res.Set("Cache-Control", "no-store");
  return res;
}

Result<std::multimap<std::string, std::string>> ParseForm(std::string_view body) {
  std::string spaced;
  spaced.reserve(body.size());
  for (char c : body) {
    if (c == '+') {
      spaced += "%20";
    } else {
      spaced += c;
    }
  }
  return ParseQuery(spaced);
}

HttpResponse ProblemFor(const Status& status) { return Problem(HttpStatusFor(status.code()), status.message()); }

HttpResponse JsonResponse(const boost::json::value& value, std::string_view content_type) {
  HttpResponse res;
  auto text = Canonicalize(value);
  res.body = text ? std::move(*text) : boost::json::serialize(value);
  res.Set("Content-Type", std::string(content_type));
  return res;
}

}  // namespace trace::api
