// `load`: N devices in one process (one MQTT connection each), R envelopes per
// second in total, each envelope one sensor_reporting ObjectEvent with K
// temperature readings. Every envelope goes through the durable outbox like any
// other, so a load run killed midway re-sends on the next start. Prints a live
// progress line on stderr and, at the end, sent / accepted / duplicate /
// rejected and the receipt latency p50 / p99 (first publish to verified receipt).
// After sending it waits, at most `drain_timeout`, until every outbox is empty
// (every envelope has its accepted/duplicate receipt); exit 0 only then.
#pragma once

#include <chrono>
#include <ostream>
#include <string>

#include "admin_client.h"
#include "sender.h"

namespace trace::devicesim {

struct LoadOptions {
  std::string org = "load-sim";
  int devices = 10;
  double rate = 100;  // envelopes per second, all devices together
  int readings = 1;   // sensor readings per envelope
  std::chrono::duration<double> duration{10};
  uint64_t count = 0;  // when > 0: exactly this many envelopes at `rate`, whatever the duration
  std::chrono::seconds drain_timeout{60};  // after sending: wait this long for the remaining receipts
  std::string state_dir;
  bool register_devices = false;
  bool json = false;
  // With `count`: seal (sign and store durably) every envelope before the
  // clock starts, so that the timed part measures publishing and receipts
  // only (a benchmark of the platform, not of the simulator's signing).
  bool preseal = false;
};

// One envelope's events: a sensor_reporting ObjectEvent at a cold-store SGLN
// with `readings` sensor elements spaced a second apart, ending at `now`.
boost::json::array LoadEvents(int device_index, uint64_t counter, int readings,
                              std::chrono::system_clock::time_point now);

// Returns the exit code: 0 when every envelope got accepted or duplicate.
int RunLoad(const LoadOptions& options, const SenderOptions& sender_options, const AdminClient& admin,
            std::ostream& out, std::ostream& err);

}  // namespace trace::devicesim
