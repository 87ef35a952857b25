#include "trace/common/config.h"

#include <cstdlib>

#include <gtest/gtest.h>

#include "trace/common/time.h"

namespace trace {
namespace {

Flags MakeFlags() {
  Flags f("prog", "test");
  f.Add("db-url", "TRACE_TEST_DB_URL", "postgresql:///default", "database");
  f.Add("port", "", "8080", "port");
  f.AddBool("json", "", "json output");
  return f;
}

TEST(Flags, FlagOverridesEnvironmentOverridesDefault) {
  ::unsetenv("TRACE_TEST_DB_URL");
  {
    Flags f = MakeFlags();
    const char* argv[] = {"prog"};
    ASSERT_TRUE(f.Parse(1, argv).has_value());
    EXPECT_EQ(f.Get("db-url"), "postgresql:///default");
    EXPECT_FALSE(f.IsSet("db-url"));
  }
  ::setenv("TRACE_TEST_DB_URL", "postgresql:///env", 1);
  {
    Flags f = MakeFlags();
    const char* argv[] = {"prog"};
    ASSERT_TRUE(f.Parse(1, argv).has_value());
    EXPECT_EQ(f.Get("db-url"), "postgresql:///env");
  }
  {
    Flags f = MakeFlags();
    const char* argv[] = {"prog", "--db-url=postgresql:///flag"};
    ASSERT_TRUE(f.Parse(2, argv).has_value());
    EXPECT_EQ(f.Get("db-url"), "postgresql:///flag");
  }
  ::unsetenv("TRACE_TEST_DB_URL");
}

TEST(Flags, PositionalsSwitchesAndSeparateValues) {
  Flags f = MakeFlags();
  const char* argv[] = {"prog", "org", "--json", "create", "--port", "9000", "acme"};
  auto args = f.Parse(7, argv);
  ASSERT_TRUE(args.has_value());
  EXPECT_EQ(*args, (std::vector<std::string>{"org", "create", "acme"}));
  EXPECT_TRUE(f.GetBool("json"));
  EXPECT_EQ(*f.GetInt("port"), 9000);
}

TEST(Flags, ErrorsNameTheFlag) {
  Flags f = MakeFlags();
  const char* argv[] = {"prog", "--nope"};
  auto r = f.Parse(2, argv);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().message(), "unknown flag --nope");

  Flags g = MakeFlags();
  const char* argv2[] = {"prog", "--port"};
  EXPECT_FALSE(g.Parse(2, argv2).has_value());

  Flags h = MakeFlags();
  const char* argv3[] = {"prog", "--port=x"};
  ASSERT_TRUE(h.Parse(2, argv3).has_value());
  auto port = h.GetInt("port");
  ASSERT_FALSE(port.has_value());
  EXPECT_NE(port.error().message().find("--port"), std::string::npos);
}

TEST(Time, FormatsUtcWithMilliseconds) {
  using namespace std::chrono;
  sys_days d = year{2026} / 11 / 23;
  auto t = d + hours{8} + minutes{15} + seconds{30} + milliseconds{250};
  EXPECT_EQ(FormatRfc3339Millis(t), "2026-11-23T08:15:30.250Z");
}

TEST(Time, ParsesOffsetsAndRefusesNonsense) {
  auto a = ParseRfc3339("2026-11-23T08:15:30.250Z");
  auto b = ParseRfc3339("2026-11-23T10:15:30.25+02:00");
  ASSERT_TRUE(a.has_value());
  ASSERT_TRUE(b.has_value());
  EXPECT_EQ(a->utc, b->utc);
  EXPECT_EQ(b->offset_minutes, 120);
  EXPECT_TRUE(ParseRfc3339("2005-04-03T20:33:31.116-06:00").has_value());
  EXPECT_FALSE(ParseRfc3339("2026-02-30T00:00:00Z").has_value());
  EXPECT_FALSE(ParseRfc3339("2026-11-23T24:00:00Z").has_value());
  EXPECT_FALSE(ParseRfc3339("2026-11-23T08:15:30").has_value());
  EXPECT_FALSE(ParseRfc3339("2026-11-23 08:15:30Z").has_value());
  EXPECT_FALSE(ParseRfc3339("2026-11-23T08:15:30.Z").has_value());
  EXPECT_TRUE(IsRfc3339UtcMillis("2026-11-23T08:15:30.250Z"));
  EXPECT_FALSE(IsRfc3339UtcMillis("2026-11-23T08:15:30.25Z"));
  EXPECT_FALSE(IsRfc3339UtcMillis("2026-11-23T08:15:30.250+00:00"));
}

}  // namespace
}  // namespace trace
