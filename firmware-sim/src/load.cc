#include "load.h"

#include <cmath>
#include <cstdio>
#include <iomanip>
#include <memory>
#include <vector>

#include <boost/json.hpp>

#include "trace/common/jcs.h"
#include "trace/common/time.h"

namespace trace::devicesim {

boost::json::array LoadEvents(int device_index, uint64_t counter, int readings,
                              std::chrono::system_clock::time_point now) {
  boost::json::array elements;
  for (int i = 0; i < readings; ++i) {
    auto t = now - std::chrono::seconds(readings - 1 - i);
    double temp = 3.0 + 0.1 * ((counter * 7 + i * 3 + device_index) % 20);
    elements.push_back(boost::json::object{
        {"sensorMetadata", {{"time", FormatRfc3339Millis(t)}}},
        {"sensorReport", boost::json::array{{{"type", "Temperature"}, {"value", std::round(temp * 10) / 10},
                                             {"uom", "CEL"}}}}});
  }
  char read_point[64];
  // One cold room per device at a fixed test GLN (0614141 is GS1's example prefix).
  std::snprintf(read_point, sizeof read_point, "urn:epc:id:sgln:0614141.00777.R%d", device_index);
  return boost::json::array{boost::json::object{{"type", "ObjectEvent"},
                                                {"eventTime", FormatRfc3339Millis(now)},
                                                {"eventTimeZoneOffset", "+00:00"},
                                                {"action", "OBSERVE"},
                                                {"bizStep", "sensor_reporting"},
                                                {"readPoint", {{"id", read_point}}},
                                                {"sensorElementList", std::move(elements)}}};
}

int RunLoad(const LoadOptions& o, const SenderOptions& sender_options, const AdminClient& admin, std::ostream& out,
            std::ostream& err) {
  using Clock = std::chrono::steady_clock;
  if (o.devices < 1 || o.rate <= 0 || o.readings < 1 || o.duration.count() <= 0) {
    err << "trace-devicesim load: need --devices >= 1, --rate > 0, --readings >= 1, --duration > 0\n";
    return 2;
  }
  if (o.register_devices) {
    auto r = admin.OrgCreate(o.org, "Load simulation");
    if (!r && r.error().code() != StatusCode::kAlreadyExists) {
      err << "trace-devicesim: " << r.error().message() << "\n";
      return 1;
    }
  }
  std::vector<std::unique_ptr<DeviceState>> devices;
  Sender sender(sender_options);
  for (int i = 0; i < o.devices; ++i) {
    char name[32];
    std::snprintf(name, sizeof name, "sim-%04d", i + 1);
    auto key = DeviceState::Keygen(o.state_dir, o.org, name);
    // Seq numbers reserved 1000 at a time: one seq-file write per 1000 envelopes.
    auto dev = key ? DeviceState::Open(o.state_dir, o.org, name, 1000) : Fail(key.error());
    if (dev && o.register_devices && !(*dev)->ReadCredentials()) {
      if (auto c = admin.DeviceRegister(**dev); !c) dev = Fail(c.error());
    }
    if (!dev) {
      err << "trace-devicesim: " << o.org << "/" << name << ": " << dev.error().message() << "\n";
      return 1;
    }
    devices.push_back(std::move(*dev));
  }
  std::vector<DeviceState*> raw;
  for (auto& d : devices) raw.push_back(d.get());
  if (Status s = sender.AddDevices(raw); !s.ok()) {
    err << "trace-devicesim: " << s.message() << "\n";
    return 1;
  }
  uint64_t leftovers = sender.pending();
  std::vector<std::pair<DeviceState*, Envelope>> sealed;
  if (o.preseal && o.count > 0) {
    sealed.reserve(o.count);
    for (uint64_t i = 0; i < o.count; ++i) {
      DeviceState& dev = *devices[i % devices.size()];
      auto env = dev.Seal(LoadEvents(static_cast<int>(i % devices.size()), i, o.readings,
                                     std::chrono::system_clock::now()),
                          std::chrono::system_clock::now(), /*sync=*/false);
      if (!env) {
        err << "trace-devicesim: " << env.error().message() << "\n";
        return 1;
      }
      sealed.emplace_back(&dev, std::move(*env));
    }
    if (Status s = SyncFileSystem(o.state_dir); !s.ok()) {
      err << "trace-devicesim: " << s.message() << "\n";
      return 1;
    }
  }
  auto start = Clock::now();
  auto stop = start + std::chrono::duration_cast<Clock::duration>(o.duration);
  auto interval = std::chrono::duration<double>(1.0 / o.rate);
  auto next_progress = start;
  auto progress = [&](bool final) {
    const SendStats& s = sender.stats();
    double secs = std::chrono::duration<double>(Clock::now() - start).count();
    err << "\r" << std::fixed << std::setprecision(1) << secs << "s sent " << s.sent << " accepted " << s.accepted
        << " duplicate " << s.duplicate << " rejected " << s.rejected << " pending " << sender.pending()
        << " resent " << s.resent << "   " << (final ? "\n" : "") << std::flush;
  };
  uint64_t n = 0;
  const uint64_t count = o.count;  // 0: paced by duration only
  std::vector<std::pair<DeviceState*, Envelope>> burst;
  for (;;) {
    auto now = Clock::now();
    if (count > 0 ? n >= count : now >= stop) break;
    auto due = start + std::chrono::duration_cast<Clock::duration>(interval * static_cast<double>(n));
    // Everything due now is sealed first and made durable with one syncfs
    // (group commit), then published: an fsync per envelope capped a run at a
    // few hundred envelopes per second.
    burst.clear();
    while (due <= now && (count > 0 ? n < count : due < stop) && burst.size() < 512) {
      if (!sealed.empty()) {
        burst.push_back(std::move(sealed[n]));
        ++n;
        due = start + std::chrono::duration_cast<Clock::duration>(interval * static_cast<double>(n));
        continue;
      }
      DeviceState& dev = *devices[n % devices.size()];
      auto env = dev.Seal(LoadEvents(static_cast<int>(n % devices.size()), n, o.readings,
                                     std::chrono::system_clock::now()),
                          std::chrono::system_clock::now(), /*sync=*/false);
      if (!env) {
        err << "\ntrace-devicesim: " << env.error().message() << "\n";
        return 1;
      }
      burst.emplace_back(&dev, std::move(*env));
      ++n;
      due = start + std::chrono::duration_cast<Clock::duration>(interval * static_cast<double>(n));
    }
    if (!burst.empty()) {
      if (Status s = sealed.empty() ? SyncFileSystem(o.state_dir) : OkStatus(); !s.ok()) {
        err << "\ntrace-devicesim: " << s.message() << "\n";
        return 1;
      }
      for (auto& [dev, env] : burst) sender.Send(*dev, env);
    }
    if (now >= next_progress) {
      progress(false);
      next_progress = now + std::chrono::milliseconds(500);
    }
    sender.RunUntil([] { return false; }, count > 0 ? due : std::min(due, stop));
  }
  auto drain_deadline = Clock::now() + o.drain_timeout;
  while (sender.pending() > 0 && Clock::now() < drain_deadline) {
    sender.RunUntil([&] { return sender.pending() == 0; }, std::min(drain_deadline, Clock::now() + std::chrono::milliseconds(500)));
    progress(false);
  }
  progress(true);
  const SendStats& s = sender.stats();
  double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
  double p50 = std::round(Percentile(s.latency_ms, 50) * 10) / 10, p99 = std::round(Percentile(s.latency_ms, 99) * 10) / 10;
  elapsed = std::round(elapsed * 1000) / 1000;
  if (o.json) {
    boost::json::object rejected;
    for (const auto& [reason, count] : s.rejected_by_reason) rejected[reason] = count;
    out << Canonicalize(boost::json::object{{"devices", o.devices},
                                                      {"rate", o.rate},
                                                      {"readings", o.readings},
                                                      {"seconds", elapsed},
                                                      {"sent", s.sent},
                                                      {"leftovers_resent", leftovers},
                                                      {"resent", s.resent},
                                                      {"accepted", s.accepted},
                                                      {"duplicate", s.duplicate},
                                                      {"rejected", s.rejected},
                                                      {"rejected_by_reason", rejected},
                                                      {"pending", sender.pending()},
                                                      {"latency_ms_p50", p50},
                                                      {"latency_ms_p99", p99}})
               .value_or("{}")
        << "\n";
  } else {
    out << "sent " << s.sent << " accepted " << s.accepted << " duplicate " << s.duplicate << " rejected "
        << s.rejected << " pending " << sender.pending() << " resent " << s.resent << "\n"
        << std::fixed << std::setprecision(1) << "receipt latency p50 " << p50 << " ms p99 " << p99 << " ms over "
        << elapsed << " s\n";
  }
  return s.rejected == 0 && sender.pending() == 0 ? 0 : 1;
}

}  // namespace trace::devicesim
