// Checks that schemas/json/{envelope,receipt}.schema.json say what the code enforces.
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <boost/json.hpp>
#include <gtest/gtest.h>

#include "trace/common/encoding.h"
#include "trace/common/envelope.h"
#include "trace/common/jcs.h"
#include "trace/common/receipt.h"
#include "trace/common/time.h"

namespace trace {
namespace {

namespace json = boost::json;

json::object LoadSchema(std::string_view name) {
  const char* src = std::getenv("TRACE_SOURCE_DIR");
  EXPECT_NE(src, nullptr) << "TRACE_SOURCE_DIR not set";
  if (src == nullptr) return {};
  std::ifstream in(std::filesystem::path(src) / "schemas" / "json" / name, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  auto v = ParseJsonStrict(ss.str());
  EXPECT_TRUE(v.has_value()) << name << ": " << v.error();
  if (!v || !v->is_object()) return {};
  return v->as_object();
}

std::set<std::string> Strings(const json::array& a) {
  std::set<std::string> out;
  for (const auto& v : a) out.emplace(v.as_string());
  return out;
}

std::set<std::string> Keys(const json::object& o) {
  std::set<std::string> out;
  for (const auto& kv : o) out.emplace(kv.key());
  return out;
}

bool Matches(const json::object& property, std::string_view s) {
  const std::regex re(std::string(property.at("pattern").as_string()), std::regex::ECMAScript);
  return std::regex_search(std::string(s), re);
}

const std::vector<std::string> kIdSamples = {
    "", "a", "ab", "a-", "-a", "a.b", "a_b", "A1", "green-valley-farm", "field-7-soil", "x", "9",
    std::string(31, 'a'), std::string(32, 'a'), std::string(33, 'a'), std::string(64, 'd'), std::string(65, 'd'),
    "a/b", "a b", "é1", "ab\n",
};

TEST(SchemaFiles, EnvelopeSchemaMatchesCode) {
  const json::object s = LoadSchema("envelope.schema.json");
  ASSERT_FALSE(s.empty());
  EXPECT_EQ(s.at("$schema").as_string(), "https://json-schema.org/draft/2020-12/schema");
  EXPECT_FALSE(s.at("additionalProperties").as_bool());
  const json::object& props = s.at("properties").as_object();
  const std::set<std::string> members = {"v", "org", "device", "seq", "sent", "events", "sig"};
  EXPECT_EQ(Strings(s.at("required").as_array()), members);
  EXPECT_EQ(Keys(props), members);
  EXPECT_EQ(props.at("v").at("const").as_int64(), kEnvelopeVersion);
  EXPECT_EQ(props.at("seq").at("minimum").as_int64(), 1);
  EXPECT_EQ(static_cast<uint64_t>(props.at("seq").at("maximum").as_int64()), kMaxSeq);
  EXPECT_EQ(static_cast<size_t>(props.at("events").at("maxItems").as_int64()), kMaxEventsPerEnvelope);
  EXPECT_EQ(props.at("events").at("minItems").as_int64(), 1);
  for (const std::string& id : kIdSamples) {
    EXPECT_EQ(Matches(props.at("org").as_object(), id), IsOrgId(id)) << "org " << id;
    EXPECT_EQ(Matches(props.at("device").as_object(), id), IsDeviceId(id)) << "device " << id;
  }
  // Signature text: a real one, and every variant of its last character.
  const std::string sig = Base64UrlEncode(std::string(64, '\x5a'));
  const std::string alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_=+/";
  for (char c : alphabet) {
    std::string s2 = sig;
    s2.back() = c;
    auto decoded = Base64UrlDecode(s2);
    EXPECT_EQ(Matches(props.at("sig").as_object(), s2), decoded && decoded->size() == 64) << s2;
  }
  EXPECT_FALSE(Matches(props.at("sig").as_object(), sig + "A"));
  for (std::string_view t : {"2026-11-23T08:15:30.250Z", "2026-11-23T08:15:30Z", "2026-11-23T08:15:30.250+00:00",
                             "2026-11-23 08:15:30.250Z", "2026-11-23T08:15:30.2500Z"}) {
    // The pattern is the form; the code checks the calendar as well (format: date-time).
    EXPECT_EQ(Matches(props.at("sent").as_object(), t), IsRfc3339UtcMillis(t)) << t;
  }
}

TEST(SchemaFiles, ReceiptSchemaMatchesCode) {
  const json::object s = LoadSchema("receipt.schema.json");
  ASSERT_FALSE(s.empty());
  const json::object& props = s.at("properties").as_object();
  EXPECT_EQ(Keys(props), (std::set<std::string>{"v", "org", "device", "seq", "envelope", "status", "reason", "detail",
                                                "at", "key", "sig"}));
  EXPECT_EQ(Strings(s.at("required").as_array()),
            (std::set<std::string>{"v", "org", "device", "envelope", "status", "at", "key", "sig"}));
  std::set<std::string> reasons;
  for (int i = 0; i <= static_cast<int>(Reason::kClockSkew); ++i) reasons.emplace(ReasonName(static_cast<Reason>(i)));
  EXPECT_EQ(Strings(props.at("reason").at("enum").as_array()), reasons);
  EXPECT_EQ(Strings(props.at("status").at("enum").as_array()),
            (std::set<std::string>{"accepted", "duplicate", "rejected"}));
  EXPECT_EQ(props.at("org").at("pattern"), LoadSchema("envelope.schema.json").at("properties").at("org").at("pattern"));

  // The key and envelope patterns against what ValidateReceipt accepts.
  Receipt r;
  r.org = "green-valley-farm";
  r.device = "d";
  r.envelope = std::string(64, 'a');
  r.status = ReceiptStatus::kAccepted;
  r.at = "2026-11-23T08:15:30.391Z";
  for (const std::string& key : std::vector<std::string>{"receipt-2026", "k", "a.b_c:d-E9", "", "has space", "é", std::string(64, 'k'),
                          std::string(65, 'k')}) {
    r.key = key;
    EXPECT_EQ(Matches(props.at("key").as_object(), key), ValidateReceipt(r, false).ok()) << key;
  }
  r.key = "k";
  for (std::string env : {std::string(64, 'a'), std::string(64, 'A'), std::string(63, 'a'), std::string(65, 'a'),
                          std::string(64, 'g')}) {
    r.envelope = env;
    EXPECT_EQ(Matches(props.at("envelope").as_object(), env), ValidateReceipt(r, false).ok()) << env;
  }
}

}  // namespace
}  // namespace trace
