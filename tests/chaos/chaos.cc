#include "chaos.h"

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <cstdlib>

namespace trace::chaos {
namespace {

std::string GetEnv(const char* name) {
  const char* v = std::getenv(name);
  return v ? v : "";
}

// Parses the whole of `text` as a number in [lo, hi].
template <typename T>
bool ParseIn(const std::string& text, T lo, T hi, T* out) {
  T v{};
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || end != text.data() + text.size() || v < lo || v > hi) return false;
  *out = v;
  return true;
}

}  // namespace

Config ConfigFromEnvironment(bool long_form, std::string* error) {
  Config c;
  if (long_form || GetEnv("TRACE_CHAOS_LONG") == "1") {
    c.long_form = true;
    c.envelopes = 100'000;
    c.rate = 300;
    c.kills_per_target = 4;
    c.drain_timeout_s = 600;
    c.anchor_timeout_s = 300;
  }
  auto bad = [&](const char* name, const std::string& value) {
    if (error->empty()) *error = std::string(name) + "=\"" + value + "\": out of range or not a number";
  };
  if (std::string v = GetEnv("TRACE_CHAOS_ENVELOPES"); !v.empty()) {
    if (!ParseIn<uint64_t>(v, 1, 10'000'000, &c.envelopes)) bad("TRACE_CHAOS_ENVELOPES", v);
  }
  if (std::string v = GetEnv("TRACE_CHAOS_KILLS"); !v.empty()) {
    if (!ParseIn<int>(v, 0, 100, &c.kills_per_target)) bad("TRACE_CHAOS_KILLS", v);
  }
  if (std::string v = GetEnv("TRACE_CHAOS_DEVICES"); !v.empty()) {
    if (!ParseIn<int>(v, 1, 1000, &c.devices)) bad("TRACE_CHAOS_DEVICES", v);
  }
  if (std::string v = GetEnv("TRACE_CHAOS_RATE"); !v.empty()) {
    int rate = 0;
    if (ParseIn<int>(v, 1, 100'000, &rate)) {
      c.rate = rate;
    } else {
      bad("TRACE_CHAOS_RATE", v);
    }
  }
  c.targets = Targets();
  if (std::string v = GetEnv("TRACE_CHAOS_TARGETS"); !v.empty()) {
    c.targets.clear();
    for (size_t start = 0; start <= v.size();) {
      size_t comma = v.find(',', start);
      if (comma == std::string::npos) comma = v.size();
      std::string name = v.substr(start, comma - start);
      if (std::find(Targets().begin(), Targets().end(), name) == Targets().end()) {
        bad("TRACE_CHAOS_TARGETS", v);
        c.targets = Targets();
        break;
      }
      c.targets.push_back(name);
      start = comma + 1;
    }
  }
  if (std::string v = GetEnv("TRACE_CHAOS_SEED"); !v.empty()) {
    if (!ParseIn<uint64_t>(v, 0, UINT64_MAX, &c.seed)) bad("TRACE_CHAOS_SEED", v);
  } else {
    std::random_device rd;
    c.seed = (static_cast<uint64_t>(rd()) << 32) ^ rd();
  }
  return c;
}

std::vector<KillEvent> MakeSchedule(uint64_t seed, const std::vector<std::string>& targets, int per_target,
                                    double window_start_s, double window_end_s, double min_down_s,
                                    double max_down_s) {
  // mt19937_64 and the distributions below are fully specified by the standard for the
  // engine; uniform_real_distribution is not, so draw from the engine directly.
  std::mt19937_64 rng(seed);
  auto uniform = [&](double lo, double hi) {
    double u = static_cast<double>(rng() >> 11) * 0x1.0p-53;  // [0, 1)
    return lo + (hi - lo) * u;
  };
  std::vector<KillEvent> events;
  for (const std::string& target : targets) {
    for (int i = 0; i < per_target; ++i) {
      KillEvent e;
      e.target = target;
      e.at_s = uniform(window_start_s, window_end_s);
      e.down_s = uniform(min_down_s, max_down_s);
      events.push_back(e);
    }
  }
  std::stable_sort(events.begin(), events.end(),
                   [](const KillEvent& a, const KillEvent& b) { return a.at_s < b.at_s; });
  return events;
}

std::map<std::string, uint64_t> ExpectedSeqs(uint64_t envelopes, int devices) {
  std::map<std::string, uint64_t> out;
  const uint64_t n = static_cast<uint64_t>(devices);
  for (uint64_t d = 0; d < n; ++d) {
    char name[32];
    std::snprintf(name, sizeof name, "sim-%04llu", static_cast<unsigned long long>(d + 1));
    out[name] = envelopes / n + (d < envelopes % n ? 1 : 0);
  }
  return out;
}

std::string TallyLine(const Tally& t) {
  return "sent " + std::to_string(t.sent) + ", stored " + std::to_string(t.stored) + ", lost " +
         std::to_string(t.lost) + ", duplicated " + std::to_string(t.duplicated) + ", anchored " +
         std::to_string(t.anchored);
}

bool TallyPasses(const Tally& t) {
  return t.lost == 0 && t.duplicated == 0 && t.stored == t.sent && t.anchored == t.sent;
}

}  // namespace trace::chaos
