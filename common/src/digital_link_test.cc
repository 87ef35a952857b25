#include "trace/common/digital_link.h"

#include <gtest/gtest.h>

#include <random>
#include <string>

#include "trace/common/gs1.h"

namespace trace::gs1 {
namespace {

constexpr std::string_view kCset82 =
    "!\"%&'()*+,-./0123456789:;<=>?ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz";

// Success when `path` fails to parse with InvalidArgument and a message containing `needle`;
// checked with EXPECT_TRUE at each call, so a failure names the line of the path that failed.
::testing::AssertionResult PathRefused(std::string_view path, std::string_view needle) {
  auto link = ParseDigitalLinkPath(path);
  if (link.has_value()) return ::testing::AssertionFailure() << path << " parsed";
  if (link.error().code() != StatusCode::kInvalidArgument) {
    return ::testing::AssertionFailure() << path << ": code " << link.error();
  }
  if (link.error().message().find(needle) == std::string::npos) {
    return ::testing::AssertionFailure() << path << ": " << link.error().message() << " lacks '" << needle << "'";
  }
  return ::testing::AssertionSuccess();
}

TEST(DigitalLink, ParsesLotWithEncodedSlash) {
  auto link = ParseDigitalLinkPath("/01/09506000134369/10/RICE%2F0703");
  ASSERT_TRUE(link.has_value()) << link.error();
  EXPECT_EQ(link->gtin, "09506000134369");
  EXPECT_EQ(link->lot, "RICE/0703");
  EXPECT_EQ(link->serial, std::nullopt);
  EXPECT_TRUE(link->attributes.empty());
}

TEST(DigitalLink, ParsesLotContainingPercent) {
  auto link = ParseDigitalLinkPath("/01/09506000134369/10/50%25OFF/21/a%2fb");  // lowercase hex accepted
  ASSERT_TRUE(link.has_value()) << link.error();
  EXPECT_EQ(link->lot, "50%OFF");
  EXPECT_EQ(link->serial, "a/b");
  EXPECT_EQ(FormatDigitalLink("https://example.com", *link),
            "https://example.com/01/09506000134369/10/50%25OFF/21/a%2Fb");
}

TEST(DigitalLink, KeyAloneAndSerialWithoutLotAreValid) {
  auto key_only = ParseDigitalLinkPath("/01/09506000134369");
  ASSERT_TRUE(key_only.has_value()) << key_only.error();
  EXPECT_FALSE(key_only->lot.has_value());
  EXPECT_FALSE(key_only->serial.has_value());

  auto serial_only = ParseDigitalLinkPath("/01/70614141123451/21/2018");
  ASSERT_TRUE(serial_only.has_value()) << serial_only.error();
  EXPECT_EQ(serial_only->gtin, "70614141123451");
  EXPECT_FALSE(serial_only->lot.has_value());
  EXPECT_EQ(serial_only->serial, "2018");
}

TEST(DigitalLink, NormalizesShortGtins) {
  EXPECT_EQ(ParseDigitalLinkPath("/01/4006381333931/10/A1")->gtin, "04006381333931");
  EXPECT_EQ(ParseDigitalLinkPath("/01/614141123452")->gtin, "00614141123452");
  EXPECT_EQ(ParseDigitalLinkPath("/01/96385074")->gtin, "00000096385074");
}

TEST(DigitalLink, AcceptsPathPrefixBeforeKey) {
  auto elements = ParseDigitalLinkElements("/shop/products/01/09506000134369/10/L1");
  ASSERT_TRUE(elements.has_value()) << elements.error();
  EXPECT_EQ(elements->prefix, "/shop/products");
  EXPECT_EQ(elements->primary.first, "01");
  // A prefix that itself looks like AI/value pairs: pairs are read from the end.
  auto tricky = ParseDigitalLinkElements("/01/x/10/01/09506000134369/10/01");
  ASSERT_TRUE(tricky.has_value()) << tricky.error();
  EXPECT_EQ(tricky->prefix, "/01/x/10");
  ASSERT_EQ(tricky->qualifiers.size(), 1u);
  EXPECT_EQ(tricky->qualifiers[0].second, "01");
  auto link = ParseDigitalLinkPath("/a%20b/01/09506000134369");  // prefix kept encoded, not interpreted
  ASSERT_TRUE(link.has_value()) << link.error();
}

TEST(DigitalLink, ParsesLocationAndSsccKeys) {
  auto gln = ParseDigitalLinkElements("/414/9506000134307/254/ts4711");
  ASSERT_TRUE(gln.has_value()) << gln.error();
  EXPECT_EQ(gln->primary, (std::pair<std::string, std::string>{"414", "9506000134307"}));
  EXPECT_EQ(gln->qualifiers.at(0), (std::pair<std::string, std::string>{"254", "ts4711"}));
  EXPECT_TRUE(ParseDigitalLinkElements("/00/106141412345678908").has_value());
  EXPECT_FALSE(ParseDigitalLinkElements("/00/106141412345678908/10/x").has_value());  // SSCC takes no qualifiers
  EXPECT_FALSE(ParseDigitalLinkElements("/414/9506000134308").has_value());
  // A product path parser refuses other primary keys.
  EXPECT_TRUE(PathRefused("/414/9506000134307", "needs AI 01"));
}

TEST(DigitalLink, RefusesBadPaths) {
  EXPECT_TRUE(PathRefused("/01/09506000134369/21/S1/10/L1", "out of order"));
  EXPECT_TRUE(PathRefused("/01/09506000134369/10/L1/10/L2", "out of order"));
  EXPECT_TRUE(PathRefused("/01/09506000134369/99/x", "AI 99 is not supported"));
  EXPECT_TRUE(PathRefused("/01/09506000134369/17/261231", "qualifiers 17 after AI 01"));  // a data attribute, not a qualifier
  EXPECT_TRUE(PathRefused("/01/09506000134369/22/V1/10/L1", "AI 22 is a valid Digital Link qualifier of 01 but not supported"));
  EXPECT_TRUE(PathRefused("/01/09506000134369/10/L1/", "trailing '/'"));
  EXPECT_TRUE(PathRefused("/01//10/L1", "segment 2 is empty"));
  EXPECT_TRUE(PathRefused("//01/09506000134369", "segment 1 is empty"));
  EXPECT_TRUE(PathRefused("/01/09506000134369/10/", "trailing"));
  EXPECT_TRUE(PathRefused("", "must start with '/'"));
  EXPECT_TRUE(PathRefused("01/09506000134369", "must start with '/'"));
  EXPECT_TRUE(PathRefused("/", "segment 1 is empty"));
  EXPECT_TRUE(PathRefused("/01/09506000134369/10", "no primary key"));
  EXPECT_TRUE(PathRefused("/products/x", "no primary key"));
  EXPECT_TRUE(PathRefused("/01/09506000134363", "GTIN check digit: expected 9, got 3"));
  EXPECT_TRUE(PathRefused("/01/0950600013436", "GTIN check digit: expected 9, got 6"));  // read as a GTIN-13
  EXPECT_TRUE(PathRefused("/01/09506000134369/10/A%2", "bad percent escape '%2'"));
  EXPECT_TRUE(PathRefused("/01/09506000134369/10/A%G0", "bad percent escape '%G0'"));
  EXPECT_TRUE(PathRefused("/01/09506000134369/10/A B", "character ' ' at position 2 must be percent-encoded"));
  EXPECT_TRUE(PathRefused("/01/09506000134369/10/A\"B", "must be percent-encoded"));
  EXPECT_TRUE(PathRefused("/01/09506000134369/10/A%20B", "not in GS1 character set 82"));
  EXPECT_TRUE(PathRefused("/01/09506000134369/10/caf%C3%A9", "not in GS1 character set 82"));
  EXPECT_TRUE(PathRefused("/01/09506000134369/10/123456789012345678901", "21 characters, at most 20"));
  EXPECT_TRUE(PathRefused("/01/09506000134369/10/L1?linkType=all", "'?' at position 3 must be percent-encoded"));
}

TEST(DigitalLink, ErrorsCarryContext) {
  auto link = ParseDigitalLinkPath("/01/09506000134369/10/A%20B");
  ASSERT_FALSE(link.has_value());
  EXPECT_EQ(link.error().message(),
            "Digital Link path: AI 10: lot: character 0x20 at position 2 is not in GS1 character set 82");
}

TEST(DigitalLink, PercentEncodingFollowsDigitalLink) {
  EXPECT_EQ(PercentEncodeValue("AZaz09-._"), "AZaz09-._");
  EXPECT_EQ(PercentEncodeValue("!\"%&'()*+,/:;<=>?"), "%21%22%25%26%27%28%29%2A%2B%2C%2F%3A%3B%3C%3D%3E%3F");
  EXPECT_EQ(PercentEncodeValue("RICE/0703"), "RICE%2F0703");
  // Every set-82 character that is not unreserved is encoded; the rest stay literal.
  for (char c : kCset82) {
    std::string encoded = PercentEncodeValue(std::string(1, c));
    bool unreserved = std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.' || c == '_';
    EXPECT_EQ(encoded.size(), unreserved ? 1u : 3u) << c;
  }
  EXPECT_EQ(*PercentDecodeSegment("A%2fb%2F"), "A/b/");
  EXPECT_FALSE(PercentDecodeSegment("%").has_value());
}

TEST(DigitalLink, FormatsTheProtocolForm) {
  DigitalLink link{"09506000134369", "RICE/0703", "S 1", {}};
  link.serial = "7*8";
  EXPECT_EQ(FormatDigitalLink("https://trace.example.org/", link),
            "https://trace.example.org/01/09506000134369/10/RICE%2F0703/21/7%2A8");
  link.lot.reset();
  EXPECT_EQ(FormatDigitalLink("https://h", link), "https://h/01/09506000134369/21/7%2A8");
  link.attributes["17"] = "261231";
  link.attributes["11"] = "260101";
  EXPECT_EQ(FormatDigitalLink("https://h", link), "https://h/01/09506000134369/21/7%2A8?11=260101&17=261231");
}

TEST(DigitalLink, ParsesFullUris) {
  auto link = ParseDigitalLinkUri("https://id.gs1.org/01/09506000134369/10/RICE%2F0703?17=261231&linkType=gs1:epcis#x");
  ASSERT_TRUE(link.has_value()) << link.error();
  EXPECT_EQ(link->gtin, "09506000134369");
  EXPECT_EQ(link->lot, "RICE/0703");
  EXPECT_EQ(link->attributes, (std::map<std::string, std::string>{{"17", "261231"}}));
  EXPECT_TRUE(ParseDigitalLinkUri("http://example.com:8080/x/01/09506000134369").has_value());

  auto expect_error = [](std::string_view uri, std::string_view needle) {
    auto r = ParseDigitalLinkUri(uri);
    ASSERT_FALSE(r.has_value()) << uri;
    EXPECT_NE(r.error().message().find(needle), std::string::npos) << uri << ": " << r.error();
  };
  expect_error("ftp://example.com/01/09506000134369", "scheme 'ftp'");
  expect_error("https:/01/09506000134369", "no host");
  expect_error("not a uri", "not a URI");
  expect_error("https://h/01/09506000134369?17=261331", "AI 17: month 13");
  expect_error("https://h/01/09506000134369?10=L1", "AI 10 is not a Digital Link data attribute");
  expect_error("https://h/01/09506000134369?37=5", "AI 37 is not a Digital Link data attribute");
  expect_error("https://h/01/09506000134369?17=261231&17=261230", "AI 17 repeated");
  expect_error("https://h/01/09506000134369/21/S%ZZ", "not a URI");  // Boost.URL refuses it first
  // Unknown parameters and AIs we do not use are ignored.
  auto ignored = ParseDigitalLinkUri("https://h/01/09506000134369?3103=000500&linkType=all&context");
  ASSERT_TRUE(ignored.has_value()) << ignored.error();
  EXPECT_TRUE(ignored->attributes.empty());
}

TEST(DigitalLink, ValidateDigitalLink) {
  EXPECT_TRUE(ValidateDigitalLink({"09506000134369", "L1", std::nullopt, {}}).ok());
  EXPECT_FALSE(ValidateDigitalLink({"9506000134369", "L1", std::nullopt, {}}).ok());  // not 14 digits
  EXPECT_FALSE(ValidateDigitalLink({"09506000134369", "L 1", std::nullopt, {}}).ok());
  EXPECT_FALSE(ValidateDigitalLink({"09506000134369", std::nullopt, "", {}}).ok());
  EXPECT_FALSE(ValidateDigitalLink({"09506000134369", std::nullopt, std::nullopt, {{"21", "x"}}}).ok());
}

// Property: for random valid lots and serials over all 82 characters, the
// formatted URI parses back to the same link, by path and as a full URI.
TEST(DigitalLink, RoundTripsRandomValuesOverAllOfSet82) {
  std::mt19937 rng(20240607);
  std::uniform_int_distribution<size_t> pick(0, kCset82.size() - 1);
  std::uniform_int_distribution<int> length(1, 20);
  std::bernoulli_distribution coin(0.5);
  auto random_value = [&] {
    std::string s(length(rng), ' ');
    for (char& c : s) c = kCset82[pick(rng)];
    return s;
  };
  const std::string gtins[] = {"09506000134369", "04006381333931", "00614141123452", "70614141123451"};
  for (int i = 0; i < 5000; ++i) {
    DigitalLink link;
    link.gtin = gtins[i % 4];
    if (coin(rng)) link.lot = random_value();
    if (coin(rng) || !link.lot) link.serial = random_value();
    ASSERT_TRUE(ValidateDigitalLink(link).ok());
    std::string uri = FormatDigitalLink("https://id.example.com", link);
    auto back = ParseDigitalLinkUri(uri);
    ASSERT_TRUE(back.has_value()) << uri << ": " << back.error();
    ASSERT_EQ(*back, link) << uri;
    auto path = ParseDigitalLinkPath(std::string_view(uri).substr(std::string_view("https://id.example.com").size()));
    ASSERT_TRUE(path.has_value()) << uri << ": " << path.error();
    ASSERT_EQ(*path, link) << uri;
  }
}

// Found by tests/fuzz/digital_link_fuzz.cc: one character after "scheme:" that cannot start a
// path ("P:\xa5", "x:#") makes Boost.URL 1.81's parser count one segment in an empty path,
// which trips a BOOST_ASSERT inside Boost (path_segments) in builds with assertions; with
// NDEBUG, as the project builds, Boost answers correctly. Both must be refused here.
TEST(DigitalLink, RefusesSchemeFollowedByOneOddCharacter) {
  for (std::string_view uri : {"P:\xa5", "x:#", "x:?", "https:#", "http:?"}) {
    auto link = ParseDigitalLinkUri(uri);
    EXPECT_FALSE(link.has_value()) << uri;
    if (!link) EXPECT_NE(link.error().message().find("URI"), std::string::npos) << link.error();
  }
}

}  // namespace
}  // namespace trace::gs1
