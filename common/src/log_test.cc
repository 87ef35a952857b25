#include "trace/common/log.h"

#include <boost/json/parse.hpp>

#include <gtest/gtest.h>

namespace trace::log {
namespace {

TEST(Log, LineIsOneJsonObjectWithFields) {
  SetService("trace-test");
  std::string line = FormatLine(Level::kWarn, "said \"hi\"\n", {{"org", "acme"}, {"seq", 7}, {"ok", true}});
  ASSERT_EQ(line.back(), '\n');
  EXPECT_EQ(line.find('\n'), line.size() - 1);  // exactly one line, newline in msg escaped
  auto v = boost::json::parse(line).as_object();
  EXPECT_EQ(v.at("level").as_string(), "warn");
  EXPECT_EQ(v.at("service").as_string(), "trace-test");
  EXPECT_EQ(v.at("msg").as_string(), "said \"hi\"\n");
  EXPECT_EQ(v.at("org").as_string(), "acme");
  EXPECT_EQ(v.at("seq").as_int64(), 7);
  EXPECT_EQ(v.at("ok").as_bool(), true);
  EXPECT_EQ(v.at("ts").as_string().size(), 24u);
}

TEST(Log, LevelFromText) {
  EXPECT_TRUE(SetLevel("debug"));
  EXPECT_FALSE(SetLevel("loud"));
  SetLevel(Level::kInfo);
}

}  // namespace
}  // namespace trace::log
