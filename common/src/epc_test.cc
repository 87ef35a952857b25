#include "trace/common/epc.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <regex>
#include <set>
#include <string>

#include "trace/common/files.h"
#include "trace/common/gs1.h"

namespace trace::gs1 {
namespace {

ProductKey Key(std::string gtin, std::optional<std::string> lot, std::optional<std::string> serial) {
  return ProductKey{std::move(gtin), std::move(lot), std::move(serial)};
}

// Identifiers from GS1's EPCIS 2.0 examples (shared/testdata/epcis/examples),
// GTIN-14s worked out by hand: indicator digit (first of the item reference),
// company prefix, rest of the item reference, then the mod-10 check digit.
TEST(Epc, SgtinAndLgtinFromGs1Examples) {
  // 1 0614141 07346 -> sum 3*(6+3+4+1+4+6+1)+(4+7+0+1+1+0)... = check 4
  EXPECT_EQ(*ProductKeyFromEpc("urn:epc:id:sgtin:0614141.107346.2018"), Key("10614141073464", std::nullopt, "2018"));
  // 0 4012345 11111 -> check 8
  EXPECT_EQ(*ProductKeyFromEpc("urn:epc:id:sgtin:4012345.011111.9876"), Key("04012345111118", std::nullopt, "9876"));
  // 6-digit company prefix, 7-digit item reference: 1 952001 012345 -> check 5
  EXPECT_EQ(*ProductKeyFromEpc("urn:epc:id:sgtin:952001.1012345.22222223333"),
            Key("19520010123455", std::nullopt, "22222223333"));
  EXPECT_EQ(*ProductKeyFromEpc("urn:epc:id:sgtin:4012345.033333.AGHFG")->serial, "AGHFG");
  // 0 4012345 12345 -> check 6
  EXPECT_EQ(*ProductKeyFromEpc("urn:epc:class:lgtin:4012345.012345.998877"),
            Key("04012345123456", "998877", std::nullopt));
  // 0 4023333 02000 -> check 8
  EXPECT_EQ(*ProductKeyFromEpc("urn:epc:class:lgtin:4023333.002000.2019-10-07"),
            Key("04023333020008", "2019-10-07", std::nullopt));
  EXPECT_EQ(*ProductKeyFromEpc("urn:epc:idpat:sgtin:4012345.011111.*"),
            Key("04012345111118", std::nullopt, std::nullopt));
}

TEST(Epc, DigitalLinkUrisFromGs1Examples) {
  EXPECT_EQ(*ProductKeyFromEpc("https://id.gs1.org/01/70614141123451/21/2018"),
            Key("70614141123451", std::nullopt, "2018"));
  EXPECT_EQ(*ProductKeyFromEpc("https://id.gs1.org/01/04012345123456/10/998877"),
            Key("04012345123456", "998877", std::nullopt));
  EXPECT_EQ(*ProductKeyFromEpc("https://id.gs1.org/01/09506000134352"),
            Key("09506000134352", std::nullopt, std::nullopt));
  EXPECT_EQ(*ProductKeyFromEpc("https://id.gs1.org/01/09521234543213/21/1234"),
            Key("09521234543213", std::nullopt, "1234"));
  EXPECT_EQ(*ProductKeyFromEpc("https://example.com/01/09506000134369/10/L%2F1/21/S1"),
            Key("09506000134369", "L/1", "S1"));
}

TEST(Epc, RefusesBadIdentifiers) {
  auto expect_error = [](std::string_view epc, std::string_view needle) {
    auto r = ProductKeyFromEpc(epc);
    ASSERT_FALSE(r.has_value()) << epc;
    EXPECT_EQ(r.error().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(r.error().message().find(needle), std::string::npos) << epc << ": " << r.error();
    EXPECT_NE(r.error().message().find(std::string(epc)), std::string::npos) << "no input in context";
  };
  expect_error("urn:epc:id:sgtin:0614141.107346", "three '.'-separated components");
  expect_error("urn:epc:id:sgtin:0614141.10734.2018", "12 digits together, want 13");
  expect_error("urn:epc:id:sgtin:06141.1073466.2018", "company prefix has 5 digits");
  expect_error("urn:epc:id:sgtin:0614141.1073X6.2018", "must be digits");
  expect_error("urn:epc:id:sgtin:0614141.107346.", "serial: empty");
  expect_error("urn:epc:id:sgtin:0614141.107346.a/b", "must be percent-encoded");
  expect_error("urn:epc:id:sgtin:0614141.107346.a%2", "bad percent escape");
  expect_error("urn:epc:id:sgtin:0614141.107346.123456789012345678901", "at most 20");
  expect_error("urn:epc:class:lgtin:0614141.107346.a b", "not in GS1 character set 82");
  expect_error("urn:epc:idpat:sgtin:0614141.107346.2018", "whole-GTIN pattern");
  expect_error("urn:epc:id:sscc:0614141.1234567890", "not an SGTIN or LGTIN URN");
  expect_error("URN:EPC:ID:SGTIN:0614141.107346.2018", "not an SGTIN or LGTIN URN");
  expect_error("https://id.gs1.org/01/70614141123452/21/2018", "GTIN check digit: expected 1, got 2");
  expect_error("https://id.gs1.org/414/9506000134307", "needs AI 01");
}

TEST(Epc, EscapedSerialsDecode) {
  EXPECT_EQ(ProductKeyFromEpc("urn:epc:id:sgtin:0614141.107346.a%2Fb%25c")->serial, "a/b%c");
  ProductKey key = Key("10614141073464", std::nullopt, "a/b%c&\"<>?!");
  auto urn = SgtinUrn(key, 7);
  ASSERT_TRUE(urn.has_value()) << urn.error();
  EXPECT_EQ(*urn, "urn:epc:id:sgtin:0614141.107346.a%2Fb%25c%26%22%3C%3E%3F!");
  EXPECT_EQ(*ProductKeyFromEpc(*urn), key);
}

TEST(Epc, LocationsFromGs1Examples) {
  // 0614141 00777 -> check 6; extension "0" means none.
  EXPECT_EQ(*LocationFromEpc("urn:epc:id:sgln:0614141.00777.0"), (Location{"0614141007776", std::nullopt}));
  // 9-digit company prefix, 3-digit location reference: 952005385 011 -> check 3
  EXPECT_EQ(*LocationFromEpc("urn:epc:id:sgln:952005385.011.ts4711"), (Location{"9520053850113", "ts4711"}));
  EXPECT_EQ(*LocationFromEpc("urn:epc:id:sgln:0037000.00729.8202"), (Location{"0037000007296", "8202"}));
  EXPECT_EQ(*LocationFromEpc("https://id.gs1.org/414/9506000134307"), (Location{"9506000134307", std::nullopt}));
  EXPECT_EQ(*LocationFromEpc("https://id.example.com/414/4012345000054/254/A1"), (Location{"4012345000054", "A1"}));
  EXPECT_FALSE(LocationFromEpc("urn:epc:id:sgln:0614141.0077.0").has_value());
  EXPECT_FALSE(LocationFromEpc("urn:epc:id:pgln:0614141.00777").has_value());
  EXPECT_FALSE(LocationFromEpc("https://id.gs1.org/414/9506000134308").has_value());
  EXPECT_FALSE(LocationFromEpc("https://id.gs1.org/01/09506000134369").has_value());
  EXPECT_FALSE(LocationFromEpc("https:///414/9506000134307").has_value());         // no host
  EXPECT_FALSE(LocationFromEpc("https://h/414/9506000134307/7040/1ABC").has_value());  // 7040 not supported
  EXPECT_EQ(LocationFromEpc("https://h/414/9506000134307?linkType=all")->gln, "9506000134307");
}

TEST(Epc, UrnsFromKeys) {
  ProductKey lot_key = Key("04012345123456", "998877", std::nullopt);
  EXPECT_EQ(*LgtinUrn(lot_key, 7), "urn:epc:class:lgtin:4012345.012345.998877");
  EXPECT_EQ(*LgtinUrn(lot_key, 12), "urn:epc:class:lgtin:401234512345.0.998877");
  EXPECT_EQ(*LgtinUrn(lot_key, 6), "urn:epc:class:lgtin:401234.0512345.998877");
  EXPECT_FALSE(SgtinUrn(lot_key, 7).has_value());  // no serial
  EXPECT_FALSE(LgtinUrn(lot_key, 5).has_value());
  EXPECT_FALSE(LgtinUrn(lot_key, 13).has_value());
  EXPECT_FALSE(LgtinUrn(Key("04012345123457", "1", std::nullopt), 7).has_value());
  EXPECT_EQ(*SglnUrn({"0614141007776", std::nullopt}, 7), "urn:epc:id:sgln:0614141.00777.0");
  EXPECT_EQ(*SglnUrn({"9520053850113", "ts4711"}, 9), "urn:epc:id:sgln:952005385.011.ts4711");
  EXPECT_EQ(*SglnUrn({"9520053850113", std::nullopt}, 12), "urn:epc:id:sgln:952005385011..0");
  EXPECT_FALSE(SglnUrn({"9520053850113", "0"}, 9).has_value());
}

// The SSCC and PGLN URNs GS1's example documents use, from the keys.
TEST(Epc, SsccAndPglnUrns) {
  EXPECT_EQ(*SsccUrn("106141412345678908", 7), "urn:epc:id:sscc:0614141.1234567890");
  EXPECT_EQ(*SsccUrn("106141412345678908", 12), "urn:epc:id:sscc:061414123456.17890");
  EXPECT_FALSE(SsccUrn("106141412345678907", 7).has_value());  // check digit
  EXPECT_FALSE(SsccUrn("10614141234567890", 7).has_value());   // 17 digits
  EXPECT_FALSE(SsccUrn("106141412345678908", 5).has_value());
  EXPECT_EQ(*PglnUrn("0614141007776", 7), "urn:epc:id:pgln:0614141.00777");
  EXPECT_EQ(*PglnUrn("0614141000005", 7), "urn:epc:id:pgln:0614141.00000");
  EXPECT_FALSE(PglnUrn("0614141007777", 7).has_value());
  EXPECT_FALSE(PglnUrn("0614141007776", 13).has_value());
}

// Every SGTIN, LGTIN and SGLN URN and every product or location Digital Link in
// GS1's examples parses, and the URNs convert back to exactly the same text.
TEST(Epc, EveryIdentifierInGs1ExamplesRoundTrips) {
  const char* dir = std::getenv("TRACE_TESTDATA");
  ASSERT_NE(dir, nullptr) << "TRACE_TESTDATA not set (run through ctest)";
  std::regex pattern(R"re("((urn:epc:(id:sgtin|class:lgtin|id:sgln):[^"]+)|(https://[^/"]+/(01|414)/[^"]+))")re");
  std::set<std::string> seen;
  for (const auto& file : std::filesystem::directory_iterator(std::string(dir) + "/epcis/examples")) {
    auto text = ReadFile(file.path().string());
    ASSERT_TRUE(text.has_value()) << text.error();
    for (std::sregex_iterator it(text->begin(), text->end(), pattern), end; it != end; ++it) {
      seen.insert((*it)[1].str());
    }
  }
  ASSERT_GT(seen.size(), 50u);
  int urns = 0;
  for (const std::string& id : seen) {
    SCOPED_TRACE(id);
    bool location = id.starts_with("urn:epc:id:sgln:") || id.find("/414/") != std::string::npos;
    if (location) {
      auto loc = LocationFromEpc(id);
      ASSERT_TRUE(loc.has_value()) << loc.error();
      EXPECT_TRUE(ValidateGln(loc->gln).ok());
      if (id.starts_with("urn:")) {
        int prefix_length = static_cast<int>(id.find('.') - std::string("urn:epc:id:sgln:").size());
        EXPECT_EQ(*SglnUrn(*loc, prefix_length), id);
        ++urns;
      }
      continue;
    }
    auto key = ProductKeyFromEpc(id);
    ASSERT_TRUE(key.has_value()) << key.error();
    EXPECT_TRUE(NormalizeGtin(key->gtin).has_value());
    if (id.starts_with("urn:epc:id:sgtin:")) {
      int prefix_length = static_cast<int>(id.find('.') - std::string("urn:epc:id:sgtin:").size());
      EXPECT_EQ(*SgtinUrn(*key, prefix_length), id);
      ++urns;
    } else if (id.starts_with("urn:epc:class:lgtin:")) {
      int prefix_length = static_cast<int>(id.find('.') - std::string("urn:epc:class:lgtin:").size());
      EXPECT_EQ(*LgtinUrn(*key, prefix_length), id);
      ++urns;
    }
  }
  EXPECT_GT(urns, 40);
}

}  // namespace
}  // namespace trace::gs1
