#include "trace/common/rlp.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "trace/common/encoding.h"

namespace trace {
namespace {

namespace json = boost::json;

// Cases from ethereum/tests RLPTests/rlptest.json (commit 0d2c026f), copied verbatim except
// longList2 and longstring2, rebuilt in LongCasesFromRlptestJson from their structure
// (listofbinaries is left out).
// "in": a string is its bytes, "0x..." strings are hex binaries, "#..." big decimal
// integers, numbers are integers, arrays are lists.
constexpr const char* kValidCases = R"json({
  "emptystring": { "in": "", "out": "0x80" },
  "bytestring00": { "in": "\u0000", "out": "0x00" },
  "bytestring01": { "in": "\u0001", "out": "0x01" },
  "bytestring7F": { "in": "\u007F", "out": "0x7f" },
  "shortstring": { "in": "dog", "out": "0x83646f67" },
  "shortstring2": { "in": "Lorem ipsum dolor sit amet, consectetur adipisicing eli",
    "out": "0xb74c6f72656d20697073756d20646f6c6f722073697420616d65742c20636f6e7365637465747572206164697069736963696e6720656c69" },
  "longstring": { "in": "Lorem ipsum dolor sit amet, consectetur adipisicing elit",
    "out": "0xb8384c6f72656d20697073756d20646f6c6f722073697420616d65742c20636f6e7365637465747572206164697069736963696e6720656c6974" },
  "zero": { "in": 0, "out": "0x80" },
  "smallint": { "in": 1, "out": "0x01" },
  "smallint2": { "in": 16, "out": "0x10" },
  "smallint3": { "in": 79, "out": "0x4f" },
  "smallint4": { "in": 127, "out": "0x7f" },
  "mediumint1": { "in": 128, "out": "0x8180" },
  "mediumint2": { "in": 1000, "out": "0x8203e8" },
  "mediumint3": { "in": 100000, "out": "0x830186a0" },
  "mediumint4": { "in": "#83729609699884896815286331701780722", "out": "0x8f102030405060708090a0b0c0d0e0f2" },
  "mediumint5": { "in": "#105315505618206987246253880190783558935785933862974822347068935681",
    "out": "0x9c0100020003000400050006000700080009000a000b000c000d000e01" },
  "emptylist": { "in": [], "out": "0xc0" },
  "stringlist": { "in": [ "dog", "god", "cat" ], "out": "0xcc83646f6783676f6483636174" },
  "multilist": { "in": [ "zw", [ 4 ], 1 ], "out": "0xc6827a77c10401" },
  "shortListMax1": { "in": [ "asdf", "qwer", "zxcv", "asdf","qwer", "zxcv", "asdf", "qwer", "zxcv", "asdf", "qwer"],
    "out": "0xf784617364668471776572847a78637684617364668471776572847a78637684617364668471776572847a78637684617364668471776572" },
  "longList1" : { "in" : [ ["asdf","qwer","zxcv"], ["asdf","qwer","zxcv"], ["asdf","qwer","zxcv"], ["asdf","qwer","zxcv"] ],
    "out": "0xf840cf84617364668471776572847a786376cf84617364668471776572847a786376cf84617364668471776572847a786376cf84617364668471776572847a786376" },
  "listsoflists": { "in": [ [ [], [] ], [] ], "out": "0xc4c2c0c0c0" },
  "listsoflists2": { "in": [ [], [[]], [ [], [[]] ] ], "out": "0xc7c0c1c0c3c0c1c0" },
  "dictTest1" : { "in" : [ ["key1", "val1"], ["key2", "val2"], ["key3", "val3"], ["key4", "val4"] ],
    "out" : "0xecca846b6579318476616c31ca846b6579328476616c32ca846b6579338476616c33ca846b6579348476616c34" },
  "bigint": { "in": "#115792089237316195423570985008687907853269984665640564039457584007913129639936",
    "out": "0xa1010000000000000000000000000000000000000000000000000000000000000000" }
})json";

// ethereum/tests RLPTests/invalidRLPTest.json (commit 16806bfc), all cases.
constexpr const char* kInvalidCases = R"json({
  "int32Overflow": "0xbf0f000000000000021111",
  "int32Overflow2": "0xff0f000000000000021111",
  "wrongSizeList": "0xf80180",
  "wrongSizeList2": "0xf80100",
  "incorrectLengthInArray": "0xb9002100dc2b275d0f74e8a53e6f4ec61b27f24278820be3f82ea2110e582081b0565df0",
  "randomRLP": "0xf861f83eb9002100dc2b275d0f74e8a53e6f4ec61b27f24278820be3f82ea2110e582081b0565df027b90015002d5ef8325ae4d034df55d4b58d0dfba64d61ddd17be00000b9001a00dae30907045a2f66fa36f2bb8aa9029cbb0b8a7b3b5c435ab331",
  "bytesShouldBeSingleByte00": "0x8100",
  "bytesShouldBeSingleByte01": "0x8101",
  "bytesShouldBeSingleByte7F": "0x817F",
  "leadingZerosInLongLengthArray1": "b90040000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f",
  "leadingZerosInLongLengthArray2": "b800",
  "leadingZerosInLongLengthList1": "fb00000040000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f",
  "leadingZerosInLongLengthList2": "f800",
  "nonOptimalLongLengthArray1": "b81000112233445566778899aabbccddeeff",
  "nonOptimalLongLengthArray2": "b801ff",
  "nonOptimalLongLengthList1": "f810000102030405060708090a0b0c0d0e0f",
  "nonOptimalLongLengthList2": "f803112233"
})json";

Bytes FromHex(std::string_view hex) {
  if (hex.starts_with("0x")) hex.remove_prefix(2);
  auto b = HexDecode(hex);
  EXPECT_TRUE(b.has_value()) << hex;
  return b.value_or("");
}

// Encodes a test case's "in" value following rlptest.json's conventions.
std::string Encode(const json::value& in) {
  if (in.is_array()) {
    std::vector<std::string> items;
    for (const auto& v : in.as_array()) items.push_back(Encode(v));
    return RlpList(items);
  }
  if (in.is_int64()) return RlpUint(static_cast<uint64_t>(in.as_int64()));
  std::string_view s = in.as_string();
  if (s.starts_with("#")) {
    auto v = Uint256::FromDecimal(s.substr(1));
    if (v) return RlpUint(*v);
    // 2^256 does not fit a Uint256: encode its decimal digits' bytes by hand below.
    EXPECT_EQ(s, "#115792089237316195423570985008687907853269984665640564039457584007913129639936");
    return RlpBytes(std::string(1, '\x01') + std::string(32, '\0'));
  }
  if (s.starts_with("0x")) return RlpBytes(FromHex(s));
  return RlpBytes(s);
}

// Checks that decoding `encoded` and re-encoding the tree gives it back.
std::string Reencode(const RlpItem& item) {
  if (!item.is_list) return RlpBytes(item.bytes);
  std::vector<std::string> items;
  for (const auto& c : item.list) items.push_back(Reencode(c));
  return RlpList(items);
}

TEST(Rlp, ValidCasesFromEthereumTests) {
  json::object cases = json::parse(kValidCases).as_object();
  ASSERT_EQ(cases.size(), 26u);
  for (const auto& [name, c] : cases) {
    std::string want = FromHex(c.at("out").as_string());
    EXPECT_EQ(HexEncode(Encode(c.at("in"))), HexEncode(want)) << name;
    auto decoded = RlpDecode(want);
    ASSERT_TRUE(decoded) << name << ": " << decoded.error();
    EXPECT_EQ(Reencode(*decoded), want) << name;
  }
}

TEST(Rlp, LongCasesFromRlptestJson) {
  // longList2: 32 copies of ["asdf","qwer","zxcv"]; "out" is f90200 then 32 copies of the item.
  std::string item = RlpList({RlpBytes("asdf"), RlpBytes("qwer"), RlpBytes("zxcv")});
  EXPECT_EQ(HexEncode(item), "cf84617364668471776572847a786376");
  std::vector<std::string> items(32, item);
  std::string want = FromHex("f90200");
  for (int i = 0; i < 32; ++i) want += item;
  EXPECT_EQ(RlpList(items), want);

  // longstring2: a 1024-byte string, "out" starts b90400.
  std::string text(1024, 'L');
  EXPECT_EQ(HexEncode(RlpBytes(text).substr(0, 3)), "b90400");
}

TEST(Rlp, InvalidCasesFromEthereumTests) {
  json::object cases = json::parse(kInvalidCases).as_object();
  ASSERT_EQ(cases.size(), 17u);
  for (const auto& [name, c] : cases) {
    auto decoded = RlpDecode(FromHex(c.as_string()));
    EXPECT_FALSE(decoded) << name << " decoded";
  }
}

TEST(Rlp, RefusesTrailingBytesAndNonCanonicalIntegers) {
  EXPECT_FALSE(RlpDecode(FromHex("8080")));
  EXPECT_FALSE(RlpDecode(""));
  auto zero_led = RlpDecode(FromHex("820001"));
  ASSERT_TRUE(zero_led);
  EXPECT_FALSE(RlpToUint(*zero_led));
  auto v = RlpDecode(FromHex("8203e8"));
  ASSERT_TRUE(v);
  EXPECT_EQ(RlpToUint(*v)->Low64(), 1000u);
  std::string deep;
  for (int i = 0; i < 100; ++i) deep = RlpList({deep});
  EXPECT_FALSE(RlpDecode(deep));
}

TEST(Uint256, ParsesAndFormats) {
  auto ether = Uint256::FromDecimal("1000000000000000000");
  ASSERT_TRUE(ether);
  EXPECT_EQ(ether->ToHexQuantity(), "0xde0b6b3a7640000");
  EXPECT_EQ(HexEncode(ether->ToMinimalBigEndian()), "0de0b6b3a7640000");
  auto max = Uint256::FromDecimal("115792089237316195423570985008687907853269984665640564039457584007913129639935");
  ASSERT_TRUE(max);
  EXPECT_EQ(max->ToHexQuantity(), "0x" + std::string(64, 'f'));
  EXPECT_EQ(max->ToDecimal(), "115792089237316195423570985008687907853269984665640564039457584007913129639935");
  EXPECT_FALSE(max->Add(1));
  EXPECT_FALSE(Uint256::FromDecimal("115792089237316195423570985008687907853269984665640564039457584007913129639936"));
  EXPECT_EQ(Uint256::FromHex("0x0")->ToHexQuantity(), "0x0");
  EXPECT_EQ(Uint256::FromHex("0x00ff")->Low64(), 255u);
  EXPECT_FALSE(Uint256::FromHex("ff"));
  EXPECT_FALSE(Uint256::FromDecimal("12a"));
  EXPECT_LT(Uint256(5), *ether);
  EXPECT_EQ(Uint256(20'000'000'000).MulSmall(21000)->ToDecimal(), "420000000000000");
}

}  // namespace
}  // namespace trace
