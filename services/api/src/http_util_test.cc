#include "http_util.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "trace/common/jcs.h"

namespace trace::api {
namespace {

const std::vector<std::string> kOffered = {"text/html", "application/json", "application/linkset+json"};

TEST(Negotiate, PicksHighestQThenServerPreference) {
  EXPECT_EQ(Negotiate("application/json", kOffered), "application/json");
  EXPECT_EQ(Negotiate("", kOffered), "text/html");
  EXPECT_EQ(Negotiate("*/*", kOffered), "text/html");
  EXPECT_EQ(Negotiate("text/html;q=0.5, application/json", kOffered), "application/json");
  EXPECT_EQ(Negotiate("application/*;q=0.9, text/html;q=0.1", kOffered), "application/json");
  EXPECT_EQ(Negotiate("application/linkset+json, application/json;q=0.9", kOffered), "application/linkset+json");
  EXPECT_EQ(Negotiate("text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", kOffered), "text/html");
}

TEST(Negotiate, QZeroRefusesAndSpecificOverridesWildcard) {
  EXPECT_EQ(Negotiate("image/png", kOffered), std::nullopt);
  EXPECT_EQ(Negotiate("*/*;q=0.5, text/html;q=0", kOffered), "application/json");
  EXPECT_EQ(Negotiate("application/json;q=0", std::vector<std::string>{"application/json"}), std::nullopt);
}

TEST(Query, DecodesAndRefusesBadEscapes) {
  auto q = ParseQuery("a=1&b=x%20y&a=2&flag&c=1+1");
  ASSERT_TRUE(q.has_value());
  EXPECT_EQ(q->count("a"), 2u);
  EXPECT_EQ(q->find("b")->second, "x y");
  EXPECT_EQ(q->find("flag")->second, "");
  EXPECT_EQ(q->find("c")->second, "1+1");
  EXPECT_FALSE(ParseQuery("a=%zz").has_value());
  EXPECT_FALSE(ParseQuery("a=%4").has_value());
  EXPECT_EQ(QueryEscape("https://x/01/1?a=b c"), "https%3A%2F%2Fx%2F01%2F1%3Fa%3Db%20c");
}

TEST(Etag, StrongAndComparedWeakly) {
  std::string tag = StrongEtag("hello");
  EXPECT_EQ(tag.size(), 34u);
  EXPECT_EQ(tag.front(), '"');
  EXPECT_NE(tag, StrongEtag("hello!"));
  EXPECT_TRUE(IfNoneMatchMatches(tag, tag));
  EXPECT_TRUE(IfNoneMatchMatches("\"x\", W/" + tag, tag));
  EXPECT_TRUE(IfNoneMatchMatches("*", tag));
  EXPECT_FALSE(IfNoneMatchMatches("\"other\"", tag));
}

TEST(Problem, IsRfc9457) {
  HttpResponse res = ProblemFor(InvalidArgument("GTIN check digit: expected 9, got 3"));
  EXPECT_EQ(res.status, 400);
  EXPECT_EQ(res.Get("content-type"), "application/problem+json");
  auto doc = boost::json::parse(res.body).as_object();
  EXPECT_EQ(doc.at("status").as_int64(), 400);
  EXPECT_EQ(doc.at("title").as_string(), "Bad Request");
  EXPECT_EQ(doc.at("type").as_string(), "about:blank");
  EXPECT_EQ(doc.at("detail").as_string(), "GTIN check digit: expected 9, got 3");
  EXPECT_EQ(ProblemFor(NotFound("x")).status, 404);
}

// Found by tests/fuzz/api_fuzz.cc: "GET /static/tra\xa7\x9a..." answered a 404 whose detail
// quoted the raw path, and the body was not JSON (Canonicalize refused the string and
// JsonResponse fell back to Boost's serializer, which copies the bytes).
TEST(Problem, DetailWithInvalidUtf8IsStillJson) {
  const std::string detail = "no file tra\xa7\x9a\xd1\xce\xc9\xce\xc7\x9b" "58b6a8d.js";
  HttpResponse res = Problem(404, detail);
  auto doc = ParseJsonStrict(res.body);
  ASSERT_TRUE(doc.has_value()) << doc.error();
  // a7, 9a: stray continuation bytes; d1, ce, c9, ce: leads whose next byte is no
  // continuation; c7 9b: U+01DB, kept.
  const std::string r = "\xEF\xBF\xBD";
  EXPECT_EQ(doc->at("detail").as_string(), "no file tra" + r + r + r + r + r + r + "\xC7\x9B" "58b6a8d.js");
  // Overlong forms, surrogates, code points past U+10FFFF and truncated sequences too;
  // well-formed text, 4-byte sequences included, is kept as it is.
  for (std::string_view bad : {"\xc0\xaf", "\xed\xa0\x80", "\xf4\x90\x80\x80", "\xe2\x82", "\xff"}) {
    auto d = ParseJsonStrict(Problem(400, bad).body);
    ASSERT_TRUE(d.has_value()) << d.error();
    EXPECT_EQ(d->at("detail").as_string().find_first_not_of("\xEF\xBF\xBD"), std::string::npos);
  }
  auto fine = ParseJsonStrict(Problem(400, "lot \"RICE\xC3\xA9\xF0\x9F\x8D\x9A\"").body);
  ASSERT_TRUE(fine.has_value());
  EXPECT_EQ(fine->at("detail").as_string(), "lot \"RICE\xC3\xA9\xF0\x9F\x8D\x9A\"");
}

}  // namespace
}  // namespace trace::api

namespace trace::api {
namespace {

TEST(Form, PlusIsSpaceAndEscapedPlusIsPlus) {
  auto f = ParseForm("name=Jasmine+rice&note=a%2Bb&csrf=x");
  ASSERT_TRUE(f) << f.error().ToString();
  EXPECT_EQ(f->find("name")->second, "Jasmine rice");
  EXPECT_EQ(f->find("note")->second, "a+b");
  EXPECT_EQ(f->find("csrf")->second, "x");
  EXPECT_FALSE(ParseForm("a=%zz"));
}

}  // namespace
}  // namespace trace::api
