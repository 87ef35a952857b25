#include "trace/common/jcs.h"

#include <bit>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <limits>
#include <sstream>
#include <string>

#include <boost/json.hpp>
#include <gtest/gtest.h>

namespace trace {
namespace {

namespace fs = std::filesystem;

fs::path TestData() {
  const char* dir = std::getenv("TRACE_TESTDATA");
  return dir ? fs::path(dir) : fs::path();
}

std::string ReadAll(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Success when `text` is refused with InvalidArgument and a message that starts with
// `path + ": "` and contains `what`; checked with EXPECT_TRUE at each call, so a failure names
// the line of the text that failed.
::testing::AssertionResult Rejected(std::string_view text, std::string_view path, std::string_view what) {
  auto v = ParseJsonStrict(text);
  if (v.has_value()) return ::testing::AssertionFailure() << "accepted: " << text;
  if (v.error().code() != StatusCode::kInvalidArgument) {
    return ::testing::AssertionFailure() << "code " << v.error() << " for: " << text;
  }
  const std::string& m = v.error().message();
  if (!m.starts_with(std::string(path) + ": ")) {
    return ::testing::AssertionFailure() << "message: " << m << "\nwanted path: " << path;
  }
  if (m.find(what) == std::string::npos) {
    return ::testing::AssertionFailure() << "message: " << m << "\nwanted: " << what;
  }
  return ::testing::AssertionSuccess();
}

TEST(Jcs, CyberphoneVectorsByteForByte) {
  ASSERT_FALSE(TestData().empty()) << "TRACE_TESTDATA not set";
  const fs::path input = TestData() / "jcs" / "input";
  int checked = 0;
  for (const auto& entry : fs::directory_iterator(input)) {
    const fs::path out = TestData() / "jcs" / "output" / entry.path().filename();
    ASSERT_TRUE(fs::exists(out)) << out;
    auto got = CanonicalizeText(ReadAll(entry.path()));
    ASSERT_TRUE(got.has_value()) << entry.path() << ": " << got.error();
    EXPECT_EQ(*got, ReadAll(out)) << entry.path();
    ++checked;
  }
  EXPECT_EQ(checked, 6);
}

TEST(Jcs, NumbersMatchEcmaScript) {
  ASSERT_FALSE(TestData().empty()) << "TRACE_TESTDATA not set";
  std::ifstream in(TestData() / "jcs" / "numbers.txt");
  ASSERT_TRUE(in) << "numbers.txt missing";
  std::string line;
  int checked = 0, skipped = 0, lines = 0, mismatches = 0, unsafe_integers = 0;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    ++lines;
    const size_t comma = line.find(',');
    ASSERT_NE(comma, std::string::npos) << line;
    const uint64_t bits = std::stoull(line.substr(0, comma), nullptr, 16);
    const std::string expected = line.substr(comma + 1);
    const double d = std::bit_cast<double>(bits);
    if (!std::isfinite(d)) {
      EXPECT_FALSE(FormatJsonNumber(d).has_value()) << line;
      ++skipped;
      continue;
    }
    auto got = FormatJsonNumber(d);
    ASSERT_TRUE(got.has_value()) << line;
    if (*got != expected && ++mismatches <= 20) ADD_FAILURE() << line << " printed as " << *got;
    // The same through a JSON value, and back: the printed text parses to the same bits.
    auto canonical = Canonicalize(boost::json::value(d));
    ASSERT_TRUE(canonical.has_value()) << line;
    EXPECT_EQ(*canonical, expected);
    auto back = ParseJsonStrict(expected);
    if (std::fabs(d) > 9007199254740992.0 && std::fabs(d) < 1e21) {
      // Canonical text is an integer literal beyond 2^53, which the strict parser refuses.
      EXPECT_FALSE(back.has_value()) << line;
      ++checked;
      ++unsafe_integers;
      continue;
    }
    ASSERT_TRUE(back.has_value()) << line << ": " << back.error();
    const double reparsed = back->is_int64() ? static_cast<double>(back->get_int64()) : back->get_double();
    EXPECT_EQ(std::bit_cast<uint64_t>(reparsed), d == 0 ? uint64_t{0} : bits) << line;
    ++checked;
  }
  EXPECT_EQ(mismatches, 0);
  EXPECT_EQ(lines, 30013);
  EXPECT_EQ(checked + skipped, 30013);
  EXPECT_EQ(checked, 30013);  // the file holds no NaN or infinity lines
  EXPECT_GT(unsafe_integers, 0);
}

TEST(Jcs, NumberFormattingEdges) {
  EXPECT_EQ(FormatJsonNumber(-0.0).value(), "0");
  EXPECT_EQ(FormatJsonNumber(1e21).value(), "1e+21");
  EXPECT_EQ(FormatJsonNumber(1e20).value(), "100000000000000000000");
  EXPECT_EQ(FormatJsonNumber(1e-7).value(), "1e-7");
  EXPECT_EQ(FormatJsonNumber(0.000001).value(), "0.000001");
  EXPECT_EQ(FormatJsonNumber(-1.5e-10).value(), "-1.5e-10");
  EXPECT_EQ(FormatJsonNumber(123.456).value(), "123.456");
  EXPECT_EQ(FormatJsonNumber(5e-324).value(), "5e-324");
  EXPECT_EQ(FormatJsonNumber(9007199254740992.0).value(), "9007199254740992");
}

TEST(Jcs, IntegersKeepTheirKindAndPrintPlainly) {
  auto v = ParseJsonStrict(R"({"a": 9007199254740992, "b": -9007199254740992, "c": -0, "d": 7.0})");
  ASSERT_TRUE(v.has_value()) << v.error();
  EXPECT_TRUE(v->at("a").is_int64());
  EXPECT_TRUE(v->at("d").is_double());
  EXPECT_EQ(Canonicalize(*v).value(), R"({"a":9007199254740992,"b":-9007199254740992,"c":0,"d":7})");
}

TEST(Jcs, SortsByUtf16CodeUnitsNotCodePoints) {
  // U+FF61 (one code unit 0xFF61) sorts after U+1F600 (0xD83D 0xDE00) in UTF-16,
  // although its code point is smaller; UTF-8 byte order would put it first.
  boost::json::object o;
  o["\xEF\xBD\xA1"] = 1;
  o["\xF0\x9F\x98\x80"] = 2;
  EXPECT_EQ(Canonicalize(o).value(), "{\"\xF0\x9F\x98\x80\":2,\"\xEF\xBD\xA1\":1}");
}

TEST(Jcs, EscapesOnlyWhatRfc8785Says) {
  auto got = CanonicalizeText(R"(["\u0000\u001f\u007f\u00e9\/\b\f\n\r\t\"\\"])");
  ASSERT_TRUE(got.has_value()) << got.error();
  EXPECT_EQ(*got, "[\"\\u0000\\u001f\x7f\xC3\xA9/\\b\\f\\n\\r\\t\\\"\\\\\"]");
}

TEST(Jcs, RejectsNaNAndInfinity) {
  EXPECT_TRUE(Rejected(R"({"a": [1, NaN]})", "$.a[1]", "NaN and Infinity"));
  EXPECT_TRUE(Rejected(R"({"a": Infinity})", "$.a", "NaN and Infinity"));
  EXPECT_TRUE(Rejected(R"({"a": -Infinity})", "$.a", "NaN and Infinity"));
  EXPECT_TRUE(Rejected(R"({"x": {"y": 1e400}})", "$.x.y", "outside the range"));
  EXPECT_TRUE(Rejected(R"({"x": -1e400})", "$.x", "outside the range"));
  EXPECT_TRUE(Rejected(R"([1e-400])", "$[0]", "outside the range"));

  boost::json::object o;
  o["q"] = boost::json::array{1.0, std::numeric_limits<double>::quiet_NaN()};
  auto c = Canonicalize(o);
  ASSERT_FALSE(c.has_value());
  EXPECT_TRUE(c.error().message().starts_with("$.q[1]: NaN")) << c.error();
  o["q"] = std::numeric_limits<double>::infinity();
  c = Canonicalize(o);
  ASSERT_FALSE(c.has_value());
  EXPECT_TRUE(c.error().message().starts_with("$.q: infinity")) << c.error();
}

TEST(Jcs, RejectsIntegersBeyond2To53) {
  EXPECT_TRUE(Rejected(R"({"events": [{}, {}, {"quantity": 9007199254740993}]})", "$.events[2].quantity",
                 "integer beyond 2^53"));
  EXPECT_TRUE(Rejected(R"([-9007199254740993])", "$[0]", "integer beyond 2^53"));
  EXPECT_TRUE(Rejected(R"([123456789012345678901234567890])", "$[0]", "integer beyond 2^53"));
  // Written with an exponent or fraction, but canonical form would be such a literal.
  EXPECT_TRUE(Rejected(R"({"n": 1e20})", "$.n", "integer beyond 2^53"));
  EXPECT_TRUE(Rejected(R"({"n": -9007199254740994.0})", "$.n", "integer beyond 2^53"));
  EXPECT_EQ(CanonicalizeText(R"([1e21, 9007199254740992.0, 1E30])").value(), "[1e+21,9007199254740992,1e+30]");

  boost::json::object o;
  o["seq"] = int64_t{9007199254740993};
  auto c = Canonicalize(o);
  ASSERT_FALSE(c.has_value());
  EXPECT_EQ(c.error().message(), "$.seq: integer beyond 2^53");
  o["seq"] = uint64_t{18446744073709551615u};
  c = Canonicalize(o);
  ASSERT_FALSE(c.has_value());
  EXPECT_EQ(c.error().message(), "$.seq: integer beyond 2^53");
}

TEST(Jcs, RejectsDuplicateKeys) {
  EXPECT_TRUE(Rejected(R"({"a": {"b": 1, "b": 2}})", "$.a.b", "duplicate key"));
  // Equal after unescaping.
  EXPECT_TRUE(Rejected(R"({"ab": 1, "a\u0062": 2})", "$.ab", "duplicate key"));
  EXPECT_TRUE(Rejected(R"({"odd key": 1, "odd key": 2})", R"($["odd key"])", "duplicate key"));
}

TEST(Jcs, RejectsInvalidUtf8) {
  EXPECT_TRUE(Rejected("{\"a\": \"\xC0\xAF\"}", "$.a", "invalid UTF-8"));              // overlong '/'
  EXPECT_TRUE(Rejected("{\"a\": \"\xE0\x80\xAF\"}", "$.a", "invalid UTF-8"));          // overlong, 3 bytes
  EXPECT_TRUE(Rejected("{\"a\": \"\xF0\x80\x80\xAF\"}", "$.a", "invalid UTF-8"));      // overlong, 4 bytes
  EXPECT_TRUE(Rejected("{\"a\": [\"\xED\xA0\x80\"]}", "$.a[0]", "invalid UTF-8"));     // U+D800 encoded
  EXPECT_TRUE(Rejected("{\"a\": \"\xED\xBF\xBF\"}", "$.a", "invalid UTF-8"));          // U+DFFF encoded
  EXPECT_TRUE(Rejected("{\"a\": \"\xE2\x82\"}", "$.a", "invalid UTF-8"));              // truncated euro sign
  EXPECT_TRUE(Rejected("{\"a\": \"\xF4\x90\x80\x80\"}", "$.a", "invalid UTF-8"));      // beyond U+10FFFF
  EXPECT_TRUE(Rejected("{\"a\": \"\x80\"}", "$.a", "invalid UTF-8"));                  // stray continuation
  EXPECT_TRUE(Rejected("{\"a\": \"\xFF\"}", "$.a", "invalid UTF-8"));
  EXPECT_TRUE(Rejected("{\"\xC3\"  : 1}", "$", "invalid UTF-8"));                      // in a key
  EXPECT_TRUE(Rejected("\xEF\xBB\xBF{}", "$", "byte order mark"));
  EXPECT_TRUE(Rejected("{\"a\": 1} \xC3\xA9", "$", "after the JSON value"));

  boost::json::object o;
  o["s"] = "\xC0\xAF";
  auto c = Canonicalize(o);
  ASSERT_FALSE(c.has_value());
  EXPECT_EQ(c.error().message(), "$.s: string is not valid UTF-8");
}

TEST(Jcs, RejectsLoneSurrogates) {
  EXPECT_TRUE(Rejected(R"({"a": "\ud800"})", "$.a", "lone high surrogate"));
  EXPECT_TRUE(Rejected(R"({"a": "x\ud800y"})", "$.a", "lone high surrogate"));
  EXPECT_TRUE(Rejected(R"({"a": "\ud800\u0041"})", "$.a", "lone high surrogate"));
  EXPECT_TRUE(Rejected(R"({"a": ["\udc00"]})", "$.a[0]", "lone low surrogate"));
  EXPECT_TRUE(Rejected(R"({"\ud800": 1})", "$", "lone high surrogate"));
  auto ok = CanonicalizeText(R"(["\ud83d\ude02"])");
  ASSERT_TRUE(ok.has_value()) << ok.error();
  EXPECT_EQ(*ok, "[\"\xF0\x9F\x98\x82\"]");
}

TEST(Jcs, RejectsMalformedText) {
  EXPECT_TRUE(Rejected(R"({"a": 1} x)", "$", "after the JSON value"));
  EXPECT_TRUE(Rejected(R"({"a": 1}{})", "$", "after the JSON value"));
  EXPECT_TRUE(Rejected(R"({"a": 01})", "$.a", "leading zero"));
  EXPECT_TRUE(Rejected(R"({"a": +1})", "$.a", "expected a value"));
  EXPECT_TRUE(Rejected(R"({"a": 1.})", "$.a", "after '.'"));
  EXPECT_TRUE(Rejected(R"({"a": 1e})", "$.a", "exponent"));
  EXPECT_TRUE(Rejected(R"({"a": [1, 2,]})", "$.a[2]", "expected a value"));
  EXPECT_TRUE(Rejected(R"({"a": 1,})", "$", "member name"));
  EXPECT_TRUE(Rejected(R"({"a" 1})", "$", "expected ':'"));
  EXPECT_TRUE(Rejected(R"({"a": tru})", "$.a", "invalid literal"));
  EXPECT_TRUE(Rejected("{\"a\": \"x\ty\"}", "$.a", "control character"));
  EXPECT_TRUE(Rejected(R"({"a": "\x"})", "$.a", "invalid escape"));
  EXPECT_TRUE(Rejected(R"({"a": "\u12G4"})", "$.a", "hex digit"));
  EXPECT_TRUE(Rejected(R"({"a": "abc)", "$.a", "unterminated"));
  EXPECT_TRUE(Rejected("", "$", "end of input"));
  EXPECT_TRUE(Rejected("  ", "$", "end of input"));
}

TEST(Jcs, DepthLimit) {
  std::string ok(kMaxJsonDepth, '['), deep(kMaxJsonDepth + 1, '[');
  ok += std::string(kMaxJsonDepth, ']');
  deep += std::string(kMaxJsonDepth + 1, ']');
  EXPECT_TRUE(ParseJsonStrict(ok).has_value());
  auto v = ParseJsonStrict(deep);
  ASSERT_FALSE(v.has_value());
  EXPECT_NE(v.error().message().find("nesting deeper than 64"), std::string::npos) << v.error();
  EXPECT_TRUE(v.error().message().starts_with("$[0][0]")) << v.error();
}

TEST(Jcs, ScalarsAtTopLevelAndWhitespace) {
  EXPECT_EQ(CanonicalizeText(" \t\r\n\"x\" \n").value(), "\"x\"");
  EXPECT_EQ(CanonicalizeText("null").value(), "null");
  EXPECT_EQ(CanonicalizeText("-0.0").value(), "0");
  EXPECT_EQ(CanonicalizeText("[1E+2, 0.5e-6]").value(), "[100,5e-7]");
}

TEST(Jcs, PathsQuoteOddKeys) {
  EXPECT_EQ(JsonPathMember("$", "events"), "$.events");
  EXPECT_EQ(JsonPathMember("$", "@context"), "$.@context");
  EXPECT_EQ(JsonPathMember("$", "a b"), R"($["a b"])");
  EXPECT_EQ(JsonPathMember("$", "a\"b"), R"($["a\"b"])");
  EXPECT_EQ(JsonPathMember("$", ""), R"($[""])");
  EXPECT_EQ(JsonPathIndex("$.x", 12), "$.x[12]");
}

}  // namespace
}  // namespace trace
