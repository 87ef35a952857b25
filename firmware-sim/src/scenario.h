// Scenarios: plans of realistic EPCIS 2.0 events (PROTOCOL.md §3 mapping) from
// several organizations, each with its own devices, in the order they happen.
//
//   rice      a Thai jasmine-rice chain: cooperative (field soil and weather
//             sensors, harvest, truck), mill (receiving, milling, packing 5 kg
//             bags onto pallets, dispatch), distributor (receiving, warehouse
//             climate, unpacking, shipping to shops), two shops (receiving).
//   medicine  a refrigerated tablet (chlorambucil 2 mg): an API supplier in
//             India and an excipient supplier in Germany, formulation and
//             serialised packaging at a German plant, a refrigerated carrier
//             whose logger records one excursion above 8 °C, pharmacy receiving.
//
// Identifiers are GS1 keys computed with trace::gs1 (check digits included):
// GTINs as LGTIN/SGTIN URNs, GLNs as SGLN URNs, SSCCs and PGLNs as EPC URNs.
// Lot master data sits in `ilmd` under CBV master-data names (cbvmda:) where CBV
// 2.0 has one, and under the `trace:` prefix otherwise (variety, grade, ...).
//
// Plans are pure data: building one touches no disk and no network, so tests
// check every event of every step offline. Deterministic for a given `end`.
#pragma once

#include <chrono>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json/array.hpp>

#include "trace/common/status.h"

namespace trace::devicesim {

struct PlanOrg {
  std::string id;    // organization id (PROTOCOL.md §1)
  std::string name;  // display name
};

struct PlanDevice {
  std::string org;
  std::string device;
  std::string role;  // what it is, for people
};

// One envelope's worth of events from one device.
struct PlanStep {
  std::string org;
  std::string device;
  std::string what;  // a short description for the progress output
  boost::json::array events;
};

struct Plan {
  std::string name;
  std::vector<PlanOrg> orgs;
  std::vector<PlanDevice> devices;
  std::vector<PlanStep> steps;
};

// The names RunScenario knows: "rice", "medicine".
std::vector<std::string_view> ScenarioNames();

// Builds the named plan with all event times before `end` (the last event a
// few minutes before it), so that no eventTime lies in the future.
// InvalidArgument for an unknown name.
Result<Plan> BuildScenario(std::string_view name, std::chrono::system_clock::time_point end);

Plan RiceScenario(std::chrono::system_clock::time_point end);
Plan MedicineScenario(std::chrono::system_clock::time_point end);

}  // namespace trace::devicesim
