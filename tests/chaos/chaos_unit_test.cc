#include "chaos.h"

#include <stdlib.h>

#include <gtest/gtest.h>

namespace trace::chaos {
namespace {

TEST(ChaosSchedule, SameSeedSameScheduleEveryTargetInTheWindow) {
  const auto a = MakeSchedule(42, Targets(), 4, 1.0, 200.0, 0.3, 3.0);
  const auto b = MakeSchedule(42, Targets(), 4, 1.0, 200.0, 0.3, 3.0);
  ASSERT_EQ(a.size(), 4 * Targets().size());
  std::map<std::string, int> per_target;
  for (size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i].target, b[i].target);
    EXPECT_EQ(a[i].at_s, b[i].at_s);
    EXPECT_EQ(a[i].down_s, b[i].down_s);
    EXPECT_GE(a[i].at_s, 1.0);
    EXPECT_LT(a[i].at_s, 200.0);
    EXPECT_GE(a[i].down_s, 0.3);
    EXPECT_LT(a[i].down_s, 3.0);
    if (i > 0) {
      EXPECT_LE(a[i - 1].at_s, a[i].at_s) << "sorted by time";
    }
    ++per_target[a[i].target];
  }
  for (const std::string& t : Targets()) EXPECT_EQ(per_target[t], 4) << t;
  const auto c = MakeSchedule(43, Targets(), 4, 1.0, 200.0, 0.3, 3.0);
  bool differs = false;
  for (size_t i = 0; i < a.size(); ++i) differs |= a[i].at_s != c[i].at_s;
  EXPECT_TRUE(differs) << "another seed, another schedule";
  EXPECT_TRUE(MakeSchedule(1, Targets(), 0, 1.0, 2.0, 0.3, 3.0).empty());
}

TEST(ChaosExpected, RoundRobinOverDevicesFromSeqOne) {
  auto e = ExpectedSeqs(10'003, 20);
  ASSERT_EQ(e.size(), 20u);
  EXPECT_EQ(e.at("sim-0001"), 501u);
  EXPECT_EQ(e.at("sim-0003"), 501u);
  EXPECT_EQ(e.at("sim-0004"), 500u);
  EXPECT_EQ(e.at("sim-0020"), 500u);
  uint64_t total = 0;
  for (const auto& [device, n] : e) total += n;
  EXPECT_EQ(total, 10'003u);
  EXPECT_EQ(ExpectedSeqs(3, 5).at("sim-0005"), 0u);
}

TEST(ChaosTally, LineAndVerdict) {
  Tally ok{.sent = 10000, .stored = 10000, .lost = 0, .duplicated = 0, .anchored = 10000};
  EXPECT_EQ(TallyLine(ok), "sent 10000, stored 10000, lost 0, duplicated 0, anchored 10000");
  EXPECT_TRUE(TallyPasses(ok));
  Tally lost = ok;
  lost.stored = 9999;
  lost.lost = 1;
  lost.anchored = 9999;
  EXPECT_FALSE(TallyPasses(lost));
  Tally dup = ok;
  dup.stored = 10001;
  dup.duplicated = 1;
  EXPECT_FALSE(TallyPasses(dup));
  Tally unanchored = ok;
  unanchored.anchored = 9990;
  EXPECT_FALSE(TallyPasses(unanchored));
}

TEST(ChaosConfig, ShortLongAndOverrides) {
  unsetenv("TRACE_CHAOS_LONG");
  unsetenv("TRACE_CHAOS_ENVELOPES");
  unsetenv("TRACE_CHAOS_KILLS");
  setenv("TRACE_CHAOS_SEED", "7", 1);
  std::string error;
  Config s = ConfigFromEnvironment(false, &error);
  EXPECT_TRUE(error.empty()) << error;
  EXPECT_FALSE(s.long_form);
  EXPECT_EQ(s.envelopes, 10'000u);
  EXPECT_EQ(s.kills_per_target, 1);
  EXPECT_EQ(s.seed, 7u);
  Config l = ConfigFromEnvironment(true, &error);
  EXPECT_TRUE(l.long_form);
  EXPECT_EQ(l.envelopes, 100'000u);
  EXPECT_EQ(l.kills_per_target, 4);
  setenv("TRACE_CHAOS_LONG", "1", 1);
  setenv("TRACE_CHAOS_ENVELOPES", "5000", 1);
  Config o = ConfigFromEnvironment(false, &error);
  EXPECT_TRUE(o.long_form);
  EXPECT_EQ(o.envelopes, 5000u);
  EXPECT_EQ(o.targets, Targets());
  setenv("TRACE_CHAOS_TARGETS", "anvil,postgres", 1);
  Config t = ConfigFromEnvironment(false, &error);
  EXPECT_TRUE(error.empty()) << error;
  EXPECT_EQ(t.targets, (std::vector<std::string>{"anvil", "postgres"}));
  setenv("TRACE_CHAOS_TARGETS", "anvil,the-moon", 1);
  ConfigFromEnvironment(false, &error);
  EXPECT_NE(error.find("TRACE_CHAOS_TARGETS"), std::string::npos) << error;
  error.clear();
  unsetenv("TRACE_CHAOS_TARGETS");
  setenv("TRACE_CHAOS_KILLS", "many", 1);
  ConfigFromEnvironment(false, &error);
  EXPECT_NE(error.find("TRACE_CHAOS_KILLS"), std::string::npos) << error;
  unsetenv("TRACE_CHAOS_LONG");
  unsetenv("TRACE_CHAOS_ENVELOPES");
  unsetenv("TRACE_CHAOS_KILLS");
  unsetenv("TRACE_CHAOS_SEED");
}

}  // namespace
}  // namespace trace::chaos
