#include "trace/common/gs1.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "trace/common/files.h"

namespace trace::gs1 {
namespace {

// The 82 characters, as listed in the GS1 General Specifications (figure 7.11-1).
constexpr std::string_view kCset82 =
    "!\"%&'()*+,-./0123456789:;<=>?ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz";

TEST(Gs1, CheckDigitOfKnownKeys) {
  // Weights 3,1,3,... from the right over 0950600013436:
  // 6*3+3*1+4*3+3*1+1*3+0+0+0+6*3+0+5*3+9*1+0 = 81 -> check 9.
  EXPECT_EQ(*CheckDigit("0950600013436"), '9');
  EXPECT_EQ(*CheckDigit("400638133393"), '1');   // 4006381333931, a GTIN-13
  EXPECT_EQ(*CheckDigit("61414112345"), '2');    // 614141123452, a GTIN-12 (UPC-A)
  EXPECT_EQ(*CheckDigit("950600013430"), '7');   // GLN 9506000134307 from GS1's EPCIS examples
  EXPECT_EQ(*CheckDigit("0"), '0');
  EXPECT_FALSE(CheckDigit("").has_value());
  EXPECT_FALSE(CheckDigit("12a").has_value());
  EXPECT_TRUE(HasValidCheckDigit("09506000134369"));
  EXPECT_FALSE(HasValidCheckDigit("09506000134363"));
  EXPECT_FALSE(HasValidCheckDigit("9"));
}

TEST(Gs1, NormalizeGtinPadsValidGtinsTo14) {
  EXPECT_EQ(*NormalizeGtin("09506000134369"), "09506000134369");
  EXPECT_EQ(*NormalizeGtin("4006381333931"), "04006381333931");
  EXPECT_EQ(*NormalizeGtin("614141123452"), "00614141123452");
  EXPECT_EQ(*NormalizeGtin("96385074"), "00000096385074");  // GTIN-8: from the right 7*3+0+5*3+8+3*3+6+9*3=86 -> 4
  EXPECT_EQ(*NormalizeGtin("70614141123451"), "70614141123451");
}

TEST(Gs1, NormalizeGtinSaysWhichRuleFailed) {
  auto bad_check = NormalizeGtin("09506000134363");
  ASSERT_FALSE(bad_check.has_value());
  EXPECT_EQ(bad_check.error().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(bad_check.error().message(), "GTIN check digit: expected 9, got 3");

  auto bad_length = NormalizeGtin("12345678901");
  ASSERT_FALSE(bad_length.has_value());
  EXPECT_NE(bad_length.error().message().find("length 11"), std::string::npos) << bad_length.error();

  auto bad_char = NormalizeGtin("40063813339A1");
  ASSERT_FALSE(bad_char.has_value());
  EXPECT_NE(bad_char.error().message().find("position 12 is not a digit"), std::string::npos) << bad_char.error();

  EXPECT_FALSE(NormalizeGtin("").has_value());
  EXPECT_FALSE(NormalizeGtin(" 4006381333931").has_value());
  EXPECT_FALSE(NormalizeGtin("4006381333932").has_value());
  EXPECT_FALSE(NormalizeGtin("614141123453").has_value());
}

TEST(Gs1, ValidateGln) {
  EXPECT_TRUE(ValidateGln("9506000134307").ok());
  EXPECT_TRUE(ValidateGln("4012345000054").ok());
  Status bad = ValidateGln("9506000134308");
  EXPECT_EQ(bad.message(), "GLN check digit: expected 7, got 8");
  EXPECT_FALSE(ValidateGln("09506000134307").ok());  // 14 digits
  EXPECT_FALSE(ValidateGln("950600013430X").ok());
}

TEST(Gs1, Cset82AcceptsExactlyTheEightyTwo) {
  ASSERT_EQ(kCset82.size(), 82u);
  int accepted = 0;
  for (int c = 0; c < 256; ++c) {
    bool in_set = kCset82.find(static_cast<char>(c)) != std::string_view::npos;
    EXPECT_EQ(IsCset82(static_cast<char>(c)), in_set) << "byte " << c;
    accepted += IsCset82(static_cast<char>(c)) ? 1 : 0;
  }
  EXPECT_EQ(accepted, 82);
  for (char c : kCset82) {
    EXPECT_TRUE(ValidateLot(std::string(1, c)).ok()) << c;
    EXPECT_TRUE(ValidateSerial(std::string(1, c)).ok()) << c;
  }
}

TEST(Gs1, LotAndSerialErrorsNameCharacterAndPosition) {
  EXPECT_TRUE(ValidateLot("RICE/0703").ok());
  EXPECT_TRUE(ValidateLot("12345678901234567890").ok());
  EXPECT_EQ(ValidateLot("").message(), "lot: empty");
  EXPECT_EQ(ValidateLot("123456789012345678901").message(), "lot: 21 characters, at most 20");
  EXPECT_EQ(ValidateLot("AB C").message(), "lot: character 0x20 at position 3 is not in GS1 character set 82");
  EXPECT_EQ(ValidateSerial("a#b").message(),
            "serial: character '#' (0x23) at position 2 is not in GS1 character set 82");
  EXPECT_EQ(ValidateSerial("caf\xC3\xA9").message(),  // "café" in UTF-8
            "serial: character 0xC3 at position 4 is not in GS1 character set 82");
  for (std::string_view bad : {"a b", "x$", "~", "a@b", "[1]", "\\", "a\tb", "{", "|", "^", "`"}) {
    EXPECT_FALSE(ValidateLot(bad).ok()) << bad;
  }
}

TEST(Gs1, ValidateAiValueUsesTheTable) {
  EXPECT_TRUE(ValidateAiValue("01", "09506000134369").ok());
  EXPECT_FALSE(ValidateAiValue("01", "9506000134369").ok());  // AI 01 itself is N14
  EXPECT_TRUE(ValidateAiValue("00", "106141412345678908").ok());
  EXPECT_TRUE(ValidateAiValue("17", "261231").ok());
  EXPECT_TRUE(ValidateAiValue("17", "260200").ok());  // day 00: end of month
  EXPECT_TRUE(ValidateAiValue("15", "280229").ok());  // 2028 is a leap year
  EXPECT_FALSE(ValidateAiValue("15", "270229").ok());
  EXPECT_FALSE(ValidateAiValue("17", "261331").ok());
  EXPECT_FALSE(ValidateAiValue("11", "260431").ok());
  EXPECT_FALSE(ValidateAiValue("11", "26043").ok());
  EXPECT_TRUE(ValidateAiValue("37", "12").ok());
  EXPECT_FALSE(ValidateAiValue("37", "123456789").ok());
  EXPECT_TRUE(ValidateAiValue("254", "ts4711").ok());
  EXPECT_TRUE(ValidateAiValue("414", "9506000134307").ok());
  EXPECT_EQ(ValidateAiValue("99", "x").message(), "AI 99: not supported");
  EXPECT_EQ(ValidateAiValue("10", "a b").message(),
            "AI 10: character 0x20 at position 2 is not in GS1 character set 82");
}

// ---- Agreement with GS1's Barcode Syntax Dictionary ----

struct DictEntry {
  std::string flags;
  std::vector<std::string> spec;        // components, e.g. {"N14,csum,gcppos2"}
  std::vector<std::string> attributes;  // e.g. {"ex=255,37", "dlpkey=22,10,21|235"}
  std::string title;
};

std::string Trim(std::string s) {
  size_t b = s.find_first_not_of(" \t");
  size_t e = s.find_last_not_of(" \t\r");
  return b == std::string::npos ? "" : s.substr(b, e - b + 1);
}

// Parses the dictionary per its header: "AIs [Flags] Specification [Attributes...] [# Title]".
// Returns the entries for single AIs and ranges expanded.
std::map<std::string, DictEntry> ParseDictionary(const std::string& text) {
  std::map<std::string, DictEntry> out;
  std::istringstream lines(text);
  std::string line;
  while (std::getline(lines, line)) {
    if (line.empty() || line[0] == '#' || Trim(line).empty()) continue;
    DictEntry entry;
    size_t hash = line.find('#');
    if (hash != std::string::npos) {
      entry.title = Trim(line.substr(hash + 1));
      line = line.substr(0, hash);
    }
    std::istringstream tokens(line);
    std::string ais, token;
    tokens >> ais;
    std::vector<std::string> rest;
    while (tokens >> token) rest.push_back(token);
    size_t i = 0;
    auto is_spec = [](const std::string& t) { return t[0] == 'N' || t[0] == 'X' || t[0] == 'Y' || t[0] == 'Z' || t[0] == '['; };
    if (i < rest.size() && !is_spec(rest[i])) entry.flags = rest[i++];
    while (i < rest.size() && is_spec(rest[i])) entry.spec.push_back(rest[i++]);
    while (i < rest.size()) entry.attributes.push_back(rest[i++]);
    size_t dash = ais.find('-');
    if (dash == std::string::npos) {
      out[ais] = entry;
    } else {
      std::string lo = ais.substr(0, dash), hi = ais.substr(dash + 1);
      for (long n = std::stol(lo); n <= std::stol(hi); ++n) {
        std::string ai = std::to_string(n);
        ai.insert(0, lo.size() - ai.size(), '0');
        out[ai] = entry;
      }
    }
  }
  return out;
}

std::vector<std::string> SplitOn(const std::string& s, char sep) {
  std::vector<std::string> out;
  std::string part;
  std::istringstream in(s);
  while (std::getline(in, part, sep)) out.push_back(part);
  return out;
}

// The value of attribute `key` ("dlpkey=..." -> "..."), "" for a solitary key,
// nullopt if absent.
std::optional<std::string> Attribute(const DictEntry& e, const std::string& key) {
  for (const std::string& a : e.attributes) {
    if (a == key) return std::string();
    if (a.starts_with(key + "=")) return a.substr(key.size() + 1);
  }
  return std::nullopt;
}

class Gs1Dictionary : public ::testing::Test {
 protected:
  void SetUp() override {
    const char* dir = std::getenv("TRACE_TESTDATA");
    ASSERT_NE(dir, nullptr) << "TRACE_TESTDATA not set (run through ctest)";
    auto text = ReadFile(std::string(dir) + "/gs1/gs1-syntax-dictionary.txt");
    ASSERT_TRUE(text.has_value()) << text.error();
    dict_ = ParseDictionary(*text);
    ASSERT_GT(dict_.size(), 400u) << "dictionary parse found too few AIs";
  }
  std::map<std::string, DictEntry> dict_;
};

TEST_F(Gs1Dictionary, OurTableAgreesWithGs1) {
  ASSERT_FALSE(KnownAis().empty());
  std::string previous;
  for (const AiInfo& ours : KnownAis()) {
    SCOPED_TRACE("AI " + std::string(ours.ai));
    EXPECT_LT(previous, ours.ai) << "table not in lexical order";
    previous = ours.ai;
    auto it = dict_.find(std::string(ours.ai));
    ASSERT_NE(it, dict_.end()) << "not in GS1's dictionary";
    const DictEntry& gs1 = it->second;

    EXPECT_EQ(gs1.title, ours.title);
    EXPECT_EQ(gs1.flags.find('*') != std::string::npos, ours.predefined_length);
    EXPECT_EQ(gs1.flags.find('?') != std::string::npos, ours.dl_data_attribute);

    // Our table models single-component formats only.
    ASSERT_EQ(gs1.spec.size(), 1u);
    std::vector<std::string> parts = SplitOn(gs1.spec[0], ',');
    const std::string& type = parts[0];
    EXPECT_EQ(type[0] == 'N' ? AiCharset::kNumeric : type[0] == 'X' ? AiCharset::kCset82 : AiCharset(-1),
              ours.charset);
    if (type.substr(1, 2) == "..") {
      EXPECT_EQ(ours.min_length, 1);
      EXPECT_EQ(ours.max_length, std::stoi(type.substr(3)));
    } else {
      EXPECT_EQ(ours.min_length, std::stoi(type.substr(1)));
      EXPECT_EQ(ours.max_length, std::stoi(type.substr(1)));
    }
    AiLinter linter = AiLinter::kNone;
    for (size_t i = 1; i < parts.size(); ++i) {
      if (parts[i] == "csum") {
        linter = AiLinter::kCheckDigit;
      } else if (parts[i] == "yymmd0") {
        linter = AiLinter::kDateYymmdd0;
      } else {
        // gcppos1/2 only say where a GS1 Company Prefix starts; anything else
        // would be a content rule our table does not know.
        EXPECT_TRUE(parts[i].starts_with("gcppos")) << "unmodelled linter " << parts[i];
      }
    }
    EXPECT_EQ(linter, ours.linter);

    auto dlpkey = Attribute(gs1, "dlpkey");
    if (!dlpkey) {
      EXPECT_EQ(ours.dl_qualifiers, "");
    } else if (dlpkey->empty()) {
      EXPECT_EQ(ours.dl_qualifiers, "-");
    } else {
      EXPECT_EQ(ours.dl_qualifiers, *dlpkey);
    }
  }
}

TEST_F(Gs1Dictionary, RelationsTheParsersRelyOn) {
  // Digital Link: 01 takes 22, 10, 21 in that order (or 235); 414 takes 254 or 7040.
  EXPECT_EQ(Attribute(dict_.at("01"), "dlpkey"), "22,10,21|235");
  EXPECT_EQ(Attribute(dict_.at("414"), "dlpkey"), "254|7040");
  // Lot and serial need a GTIN; 254 needs a GLN; 01 excludes 37 (so product
  // links refuse a COUNT attribute).
  for (const char* ai : {"10", "21"}) {
    auto req = Attribute(dict_.at(ai), "req");
    ASSERT_TRUE(req.has_value()) << ai;
    auto alternatives = SplitOn(*req, ',');
    EXPECT_NE(std::find(alternatives.begin(), alternatives.end(), "01"), alternatives.end()) << ai;
  }
  EXPECT_EQ(Attribute(dict_.at("254"), "req"), "414");
  auto ex = SplitOn(*Attribute(dict_.at("01"), "ex"), ',');
  EXPECT_NE(std::find(ex.begin(), ex.end(), "37"), ex.end());
  // Lot and serial: up to 20 characters of set 82, as PROTOCOL.md §1 says.
  EXPECT_EQ(dict_.at("10").spec, std::vector<std::string>{"X..20"});
  EXPECT_EQ(dict_.at("21").spec, std::vector<std::string>{"X..20"});
}

}  // namespace
}  // namespace trace::gs1
