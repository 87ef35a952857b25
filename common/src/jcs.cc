#include "trace/common/jcs.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include <boost/json.hpp>

namespace trace {
namespace {

namespace json = boost::json;

constexpr std::string_view kHex = "0123456789abcdef";

// Length of the well-formed UTF-8 sequence starting at s[i] (Unicode 15, table
// 3-7), or 0 when the bytes there are not one: stray continuation bytes,
// overlong forms (C0, C1, E0 80..9F, F0 80..8F), UTF-8-encoded surrogates
// (ED A0..BF), code points beyond U+10FFFF (F4 90.., F5..FF), truncation.
size_t Utf8SequenceLength(std::string_view s, size_t i) {
  const auto byte = [&](size_t k) -> int { return i + k < s.size() ? static_cast<uint8_t>(s[i + k]) : -1; };
  const auto in = [](int b, int lo, int hi) { return b >= lo && b <= hi; };
  const int b0 = byte(0);
  if (b0 < 0x80) return 1;
  if (b0 < 0xC2) return 0;
  if (b0 < 0xE0) return in(byte(1), 0x80, 0xBF) ? 2 : 0;
  if (b0 < 0xF0) {
    const int lo = b0 == 0xE0 ? 0xA0 : 0x80;
    const int hi = b0 == 0xED ? 0x9F : 0xBF;
    return in(byte(1), lo, hi) && in(byte(2), 0x80, 0xBF) ? 3 : 0;
  }
  if (b0 < 0xF5) {
    const int lo = b0 == 0xF0 ? 0x90 : 0x80;
    const int hi = b0 == 0xF4 ? 0x8F : 0xBF;
    return in(byte(1), lo, hi) && in(byte(2), 0x80, 0xBF) && in(byte(3), 0x80, 0xBF) ? 4 : 0;
  }
  return 0;
}

void AppendUtf8(std::string& out, char32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

// Converts well-formed UTF-8 to UTF-16 code units; false when `s` is not UTF-8.
bool Utf8ToUtf16(std::string_view s, std::u16string* out) {
  out->clear();
  for (size_t i = 0; i < s.size();) {
    const size_t n = Utf8SequenceLength(s, i);
    if (n == 0) return false;
    const auto b = [&](size_t k) { return static_cast<char32_t>(static_cast<uint8_t>(s[i + k])); };
    char32_t cp = 0;
    switch (n) {
      case 1: cp = b(0); break;
      case 2: cp = (b(0) & 0x1F) << 6 | (b(1) & 0x3F); break;
      case 3: cp = (b(0) & 0x0F) << 12 | (b(1) & 0x3F) << 6 | (b(2) & 0x3F); break;
      default: cp = (b(0) & 0x07) << 18 | (b(1) & 0x3F) << 12 | (b(2) & 0x3F) << 6 | (b(3) & 0x3F); break;
    }
    if (cp >= 0x10000) {
      cp -= 0x10000;
      out->push_back(static_cast<char16_t>(0xD800 + (cp >> 10)));
      out->push_back(static_cast<char16_t>(0xDC00 + (cp & 0x3FF)));
    } else {
      out->push_back(static_cast<char16_t>(cp));
    }
    i += n;
  }
  return true;
}

bool IsIdentifierKey(std::string_view key) {
  if (key.empty()) return false;
  for (size_t i = 0; i < key.size(); ++i) {
    const char c = key[i];
    const bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == '@' || c == '$';
    const bool digit = c >= '0' && c <= '9';
    if (!alpha && !(digit && i > 0)) return false;
  }
  return true;
}

// Appends `s` as an RFC 8785 string literal. Returns false, leaving `out` partly
// written, when `s` is not well-formed UTF-8.
bool AppendJsonString(std::string& out, std::string_view s) {
  out += '"';
  for (size_t i = 0; i < s.size();) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    if (c >= 0x80) {
      const size_t n = Utf8SequenceLength(s, i);
      if (n == 0) return false;
      out.append(s.substr(i, n));
      i += n;
      continue;
    }
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (c < 0x20) {
          out += "\\u00";
          out += kHex[c >> 4];
          out += kHex[c & 15];
        } else {
          out += static_cast<char>(c);
        }
    }
    ++i;
  }
  out += '"';
  return true;
}

// ---------------------------------------------------------------------------
// Strict parser: recursive descent over the bytes, building boost::json values.

class StrictParser {
 public:
  explicit StrictParser(std::string_view text) : text_(text) {}

  Result<json::value> Run() {
    SkipWhitespace();
    auto v = ParseValue(0);
    if (!v) return v;
    SkipWhitespace();
    if (pos_ != text_.size()) return Fail(Error("unexpected " + Describe() + " after the JSON value"));
    return v;
  }

 private:
  Status Error(std::string what) const { return ErrorAt(pos_, std::move(what)); }
  Status ErrorAt(size_t pos, std::string what) const {
    return InvalidArgument(path_ + ": " + what + " (at byte " + std::to_string(pos) + ")");
  }

  // Names the byte at pos_ for error messages.
  std::string Describe() const {
    if (pos_ >= text_.size()) return "end of input";
    const unsigned char c = static_cast<unsigned char>(text_[pos_]);
    if (c >= 0x21 && c < 0x7F) return std::string("character '") + static_cast<char>(c) + "'";
    return std::string("byte 0x") + kHex[c >> 4] + kHex[c & 15];
  }

  void SkipWhitespace() {
    while (pos_ < text_.size()) {
      const char c = text_[pos_];
      if (c != ' ' && c != '\t' && c != '\n' && c != '\r') break;
      ++pos_;
    }
  }

  bool AtEnd() const { return pos_ >= text_.size(); }
  char Peek() const { return text_[pos_]; }

  Result<json::value> ParseValue(int depth) {
    if (AtEnd()) return Fail(Error("unexpected end of input, expected a value"));
    switch (Peek()) {
      case '{': return ParseObject(depth + 1);
      case '[': return ParseArray(depth + 1);
      case '"': {
        auto s = ParseString();
        if (!s) return Fail(s.error());
        return json::value(json::string(*s));
      }
      case 't': return ParseLiteral("true", json::value(true));
      case 'f': return ParseLiteral("false", json::value(false));
      case 'n': return ParseLiteral("null", json::value(nullptr));
      case 'N': case 'I': return Fail(Error("NaN and Infinity are not JSON numbers"));
      default:
        if (Peek() == '-' || (Peek() >= '0' && Peek() <= '9')) return ParseNumber();
        if (pos_ == 0 && text_.starts_with("\xEF\xBB\xBF")) return Fail(Error("byte order mark not allowed"));
        return Fail(Error("unexpected " + Describe() + ", expected a value"));
    }
  }

  Result<json::value> ParseLiteral(std::string_view word, json::value v) {
    if (text_.substr(pos_, word.size()) != word) return Fail(Error("invalid literal, expected " + std::string(word)));
    pos_ += word.size();
    return v;
  }

  Result<json::value> ParseObject(int depth) {
    if (depth > kMaxJsonDepth) return Fail(Error("nesting deeper than " + std::to_string(kMaxJsonDepth)));
    ++pos_;  // '{'
    json::object obj;
    SkipWhitespace();
    if (!AtEnd() && Peek() == '}') {
      ++pos_;
      return json::value(std::move(obj));
    }
    while (true) {
      if (AtEnd() || Peek() != '"') return Fail(Error("unexpected " + Describe() + ", expected a member name"));
      const size_t key_pos = pos_;
      auto key = ParseString();
      if (!key) return Fail(key.error());
      SkipWhitespace();
      if (AtEnd() || Peek() != ':') return Fail(Error("unexpected " + Describe() + ", expected ':'"));
      ++pos_;
      SkipWhitespace();
      const size_t saved = path_.size();
      path_ = JsonPathMember(path_, *key);
      if (obj.contains(*key)) return Fail(ErrorAt(key_pos, "duplicate key"));
      auto v = ParseValue(depth);
      if (!v) return v;
      path_.resize(saved);
      obj.emplace(*key, std::move(*v));
      SkipWhitespace();
      if (AtEnd()) return Fail(Error("unexpected end of input, expected ',' or '}'"));
      if (Peek() == '}') {
        ++pos_;
        return json::value(std::move(obj));
      }
      if (Peek() != ',') return Fail(Error("unexpected " + Describe() + ", expected ',' or '}'"));
      ++pos_;
      SkipWhitespace();
    }
  }

  Result<json::value> ParseArray(int depth) {
    if (depth > kMaxJsonDepth) return Fail(Error("nesting deeper than " + std::to_string(kMaxJsonDepth)));
    ++pos_;  // '['
    json::array arr;
    SkipWhitespace();
    if (!AtEnd() && Peek() == ']') {
      ++pos_;
      return json::value(std::move(arr));
    }
    while (true) {
      const size_t saved = path_.size();
      path_ = JsonPathIndex(path_, arr.size());
      auto v = ParseValue(depth);
      if (!v) return v;
      path_.resize(saved);
      arr.push_back(std::move(*v));
      SkipWhitespace();
      if (AtEnd()) return Fail(Error("unexpected end of input, expected ',' or ']'"));
      if (Peek() == ']') {
        ++pos_;
        return json::value(std::move(arr));
      }
      if (Peek() != ',') return Fail(Error("unexpected " + Describe() + ", expected ',' or ']'"));
      ++pos_;
      SkipWhitespace();
    }
  }

  // Reads four hex digits at pos_ as one UTF-16 code unit.
  Result<char32_t> ParseHex4() {
    if (pos_ + 4 > text_.size()) return Fail(Error("truncated \\u escape"));
    char32_t unit = 0;
    for (int k = 0; k < 4; ++k) {
      const char c = text_[pos_ + k];
      int d = -1;
      if (c >= '0' && c <= '9') d = c - '0';
      else if (c >= 'a' && c <= 'f') d = c - 'a' + 10;
      else if (c >= 'A' && c <= 'F') d = c - 'A' + 10;
      if (d < 0) return Fail(ErrorAt(pos_ + k, "invalid hex digit in \\u escape"));
      unit = unit << 4 | static_cast<char32_t>(d);
    }
    pos_ += 4;
    return unit;
  }

  Result<std::string> ParseString() {
    ++pos_;  // opening quote
    std::string out;
    while (true) {
      if (AtEnd()) return Fail(Error("unterminated string"));
      const unsigned char c = static_cast<unsigned char>(Peek());
      if (c == '"') {
        ++pos_;
        return out;
      }
      if (c < 0x20) return Fail(Error("unescaped control character in string"));
      if (c >= 0x80) {
        const size_t n = Utf8SequenceLength(text_, pos_);
        if (n == 0) return Fail(Error("invalid UTF-8"));
        out.append(text_.substr(pos_, n));
        pos_ += n;
        continue;
      }
      if (c != '\\') {
        out += static_cast<char>(c);
        ++pos_;
        continue;
      }
      const size_t escape_pos = pos_;
      ++pos_;
      if (AtEnd()) return Fail(Error("unterminated string"));
      const char e = Peek();
      ++pos_;
      switch (e) {
        case '"': out += '"'; break;
        case '\\': out += '\\'; break;
        case '/': out += '/'; break;
        case 'b': out += '\b'; break;
        case 'f': out += '\f'; break;
        case 'n': out += '\n'; break;
        case 'r': out += '\r'; break;
        case 't': out += '\t'; break;
        case 'u': {
          auto unit = ParseHex4();
          if (!unit) return Fail(unit.error());
          char32_t cp = *unit;
          if (cp >= 0xDC00 && cp <= 0xDFFF) return Fail(ErrorAt(escape_pos, "lone low surrogate in \\u escape"));
          if (cp >= 0xD800 && cp <= 0xDBFF) {
            if (text_.substr(pos_, 2) != "\\u") return Fail(ErrorAt(escape_pos, "lone high surrogate in \\u escape"));
            pos_ += 2;
            auto low = ParseHex4();
            if (!low) return Fail(low.error());
            if (*low < 0xDC00 || *low > 0xDFFF) return Fail(ErrorAt(escape_pos, "lone high surrogate in \\u escape"));
            cp = 0x10000 + ((cp - 0xD800) << 10) + (*low - 0xDC00);
          }
          AppendUtf8(out, cp);
          break;
        }
        default:
          return Fail(ErrorAt(escape_pos, "invalid escape sequence"));
      }
    }
  }

  static bool IsDigit(char c) { return c >= '0' && c <= '9'; }

  Result<json::value> ParseNumber() {
    const size_t start = pos_;
    const bool negative = Peek() == '-';
    if (negative) ++pos_;
    if (AtEnd() || !IsDigit(Peek())) {
      if (!AtEnd() && Peek() == 'I') return Fail(ErrorAt(start, "NaN and Infinity are not JSON numbers"));
      return Fail(Error("invalid number: expected a digit"));
    }
    if (Peek() == '0') {
      ++pos_;
      if (!AtEnd() && IsDigit(Peek())) return Fail(ErrorAt(start, "invalid number: leading zero"));
    } else {
      while (!AtEnd() && IsDigit(Peek())) ++pos_;
    }
    bool integral = true;
    if (!AtEnd() && Peek() == '.') {
      integral = false;
      ++pos_;
      if (AtEnd() || !IsDigit(Peek())) return Fail(Error("invalid number: expected a digit after '.'"));
      while (!AtEnd() && IsDigit(Peek())) ++pos_;
    }
    if (!AtEnd() && (Peek() == 'e' || Peek() == 'E')) {
      integral = false;
      ++pos_;
      if (!AtEnd() && (Peek() == '+' || Peek() == '-')) ++pos_;
      if (AtEnd() || !IsDigit(Peek())) return Fail(Error("invalid number: expected a digit in the exponent"));
      while (!AtEnd() && IsDigit(Peek())) ++pos_;
    }
    const std::string_view literal = text_.substr(start, pos_ - start);
    if (integral) {
      const std::string_view digits = literal.substr(negative ? 1 : 0);
      uint64_t magnitude = 0;
      // 2^53 has 16 digits; anything longer is beyond it (and might overflow uint64).
      const bool too_long = digits.size() > 16;
      if (!too_long) std::from_chars(digits.data(), digits.data() + digits.size(), magnitude);
      if (too_long || magnitude > static_cast<uint64_t>(kMaxSafeJsonInteger)) {
        return Fail(ErrorAt(start, "integer beyond 2^53"));
      }
      const int64_t value = static_cast<int64_t>(magnitude);
      return json::value(negative ? -value : value);
    }
    double d = 0;
    const auto [end, ec] = std::from_chars(literal.data(), literal.data() + literal.size(), d);
    if (ec != std::errc() || end != literal.data() + literal.size() || !std::isfinite(d)) {
      return Fail(ErrorAt(start, "number outside the range of IEEE-754 doubles"));
    }
    // Every double in (2^53, 1e21) is an integer and RFC 8785 prints it as an
    // integer literal ("1e20" becomes "100000000000000000000"), which this parser
    // refuses; refusing it here keeps canonical bytes re-parsable.
    if (std::fabs(d) > static_cast<double>(kMaxSafeJsonInteger) && std::fabs(d) < 1e21) {
      return Fail(ErrorAt(start, "integer beyond 2^53"));
    }
    return json::value(d);
  }

  std::string_view text_;
  size_t pos_ = 0;
  std::string path_ = "$";
};

// ---------------------------------------------------------------------------
// Canonical writer.

class CanonicalWriter {
 public:
  Status Write(const json::value& v, std::string& path) {
    switch (v.kind()) {
      case json::kind::null: out_ += "null"; return OkStatus();
      case json::kind::bool_: out_ += v.get_bool() ? "true" : "false"; return OkStatus();
      case json::kind::int64: {
        const int64_t i = v.get_int64();
        if (i > kMaxSafeJsonInteger || i < -kMaxSafeJsonInteger) return InvalidArgument(path + ": integer beyond 2^53");
        AppendInteger(i);
        return OkStatus();
      }
      case json::kind::uint64: {
        const uint64_t u = v.get_uint64();
        if (u > static_cast<uint64_t>(kMaxSafeJsonInteger)) return InvalidArgument(path + ": integer beyond 2^53");
        AppendInteger(static_cast<int64_t>(u));
        return OkStatus();
      }
      case json::kind::double_: {
        auto text = FormatJsonNumber(v.get_double());
        if (!text) return InvalidArgument(path + ": " + text.error().message());
        out_ += *text;
        return OkStatus();
      }
      case json::kind::string: {
        const json::string& s = v.get_string();
        if (!AppendJsonString(out_, std::string_view(s.data(), s.size()))) {
          return InvalidArgument(path + ": string is not valid UTF-8");
        }
        return OkStatus();
      }
      case json::kind::array: {
        const json::array& arr = v.get_array();
        out_ += '[';
        for (size_t i = 0; i < arr.size(); ++i) {
          if (i > 0) out_ += ',';
          const size_t saved = path.size();
          path = JsonPathIndex(path, i);
          if (Status s = Write(arr[i], path); !s.ok()) return s;
          path.resize(saved);
        }
        out_ += ']';
        return OkStatus();
      }
      case json::kind::object:
        return WriteObject(v.get_object(), path);
    }
    return Internal(path + ": unknown JSON kind");
  }

  std::string Take() { return std::move(out_); }

 private:
  void AppendInteger(int64_t i) {
    char buf[24];
    const auto r = std::to_chars(buf, buf + sizeof(buf), i);
    out_.append(buf, r.ptr);
  }

  Status WriteObject(const json::object& obj, std::string& path) {
    struct Member {
      std::u16string sort_key;
      const json::key_value_pair* kv;
    };
    std::vector<Member> members;
    members.reserve(obj.size());
    for (const auto& kv : obj) {
      Member m{{}, &kv};
      if (!Utf8ToUtf16(std::string_view(kv.key().data(), kv.key().size()), &m.sort_key)) {
        return InvalidArgument(path + ": member name is not valid UTF-8");
      }
      members.push_back(std::move(m));
    }
    // std::u16string compares code units as unsigned 16-bit values: RFC 8785 §3.2.3.
    std::sort(members.begin(), members.end(),
              [](const Member& a, const Member& b) { return a.sort_key < b.sort_key; });
    out_ += '{';
    for (size_t i = 0; i < members.size(); ++i) {
      const std::string_view key(members[i].kv->key().data(), members[i].kv->key().size());
      if (i > 0) {
        if (members[i].sort_key == members[i - 1].sort_key) {
          return InvalidArgument(JsonPathMember(path, key) + ": duplicate key");
        }
        out_ += ',';
      }
      AppendJsonString(out_, key);
      out_ += ':';
      const size_t saved = path.size();
      path = JsonPathMember(path, key);
      if (Status s = Write(members[i].kv->value(), path); !s.ok()) return s;
      path.resize(saved);
    }
    out_ += '}';
    return OkStatus();
  }

  std::string out_;
};

}  // namespace

std::string JsonPathMember(std::string_view path, std::string_view key) {
  std::string out(path);
  if (IsIdentifierKey(key)) {
    out += '.';
    out.append(key);
  } else {
    out += '[';
    if (!AppendJsonString(out, key)) out += "\"<invalid UTF-8>\"";
    out += ']';
  }
  return out;
}

std::string JsonPathIndex(std::string_view path, size_t index) {
  std::string out(path);
  out += '[';
  out += std::to_string(index);
  out += ']';
  return out;
}

Result<std::string> FormatJsonNumber(double d) {
  if (std::isnan(d)) return Fail(InvalidArgument("NaN is not representable in JSON"));
  if (std::isinf(d)) return Fail(InvalidArgument("infinity is not representable in JSON"));
  if (d == 0) return std::string("0");  // both +0 and -0
  std::string out;
  if (d < 0) {
    out += '-';
    d = -d;
  }
  // Shortest round-trip digits, closest to d on ties: the same s, k, n as
  // ECMAScript's Number::toString (ECMA-262 §6.1.6.1.20).
  char buf[64];
  const auto r = std::to_chars(buf, buf + sizeof(buf), d, std::chars_format::scientific);
  const std::string_view sci(buf, r.ptr - buf);  // "d[.ddd]e±XX"
  const size_t e_pos = sci.find('e');
  std::string digits;
  for (char c : sci.substr(0, e_pos))
    if (c != '.') digits += c;
  int exponent = 0;
  std::string_view exp_text = sci.substr(e_pos + 1);
  if (!exp_text.empty() && exp_text.front() == '+') exp_text.remove_prefix(1);
  std::from_chars(exp_text.data(), exp_text.data() + exp_text.size(), exponent);
  const int k = static_cast<int>(digits.size());
  const int n = exponent + 1;  // d = 0.digits × 10^n
  if (k <= n && n <= 21) {
    out += digits;
    out.append(static_cast<size_t>(n - k), '0');
  } else if (0 < n && n <= 21) {
    out.append(digits, 0, static_cast<size_t>(n));
    out += '.';
    out.append(digits, static_cast<size_t>(n));
  } else if (-6 < n && n <= 0) {
    out += "0.";
    out.append(static_cast<size_t>(-n), '0');
    out += digits;
  } else {
    out += digits[0];
    if (k > 1) {
      out += '.';
      out.append(digits, 1);
    }
    out += 'e';
    out += n - 1 >= 0 ? '+' : '-';
    out += std::to_string(std::abs(n - 1));
  }
  return out;
}

Result<json::value> ParseJsonStrict(std::string_view text) { return StrictParser(text).Run(); }

Result<std::string> Canonicalize(const json::value& value) {
  CanonicalWriter writer;
  std::string path = "$";
  if (Status s = writer.Write(value, path); !s.ok()) return Fail(std::move(s));
  return writer.Take();
}

Result<std::string> CanonicalizeText(std::string_view text) {
  auto v = ParseJsonStrict(text);
  if (!v) return Fail(v.error());
  return Canonicalize(*v);
}

}  // namespace trace
