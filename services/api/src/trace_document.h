// The trace document of PROTOCOL.md §7 ("where did this come from") for a lot or
// one serialized item, read from the trace index the gateway fills (events,
// event_keys) and the log tables.
//
// What belongs to a lot (gtin, lot):
//  - every event with an event_keys row for (gtin, lot) (quantity lists, ilmd lot);
//  - every event about one of the lot's serials, where a serial belongs to the
//    lot when one event names both (a commissioning ObjectEvent with the serials in
//    epcList and the lot in ilmd);
//  - every event about a parent those events aggregate the lot into (a pallet's
//    shipping), one hop.
// `inputs` follows TransformationEvents upstream: an event whose output lists
// the lot brings each input lot's own trace, recursively, cycle-safe and cut at
// TraceOptions::max_depth (then "truncated": true). `recall` is {"at", "reason"}
// when the lot is recalled (lots.recalled_at), else null.
//
// Functions run on a DbPool thread with that thread's transaction. Thread-compatible.
#pragma once

#include <boost/json/object.hpp>
#include <map>
#include <optional>
#include <pqxx/transaction_base>
#include <string>
#include <string_view>

#include "trace/common/digital_link.h"
#include "trace/common/status.h"

namespace trace::api {

// Limits beyond which a sensor reading counts as an excursion.
struct SensorLimit {
  std::optional<double> min, max;
};
// By sensor type as written without a "gs1:" prefix ("Temperature").
using SensorLimits = std::map<std::string, SensorLimit>;

// Cold chain: 2..8 °C.
SensorLimits DefaultSensorLimits();
// Parses {"Temperature": {"min": 2, "max": 8}, "RelativeHumidity": {"max": 70}}.
Result<SensorLimits> ParseSensorLimits(std::string_view json);

struct TraceOptions {
  std::string public_base;  // "https://id.example.com": the base of every `link`
  SensorLimits limits = DefaultSensorLimits();
  int max_depth = 8;
};

// The trace document for `link` (lot required unless a serial names its lot).
// NotFound when nothing is recorded about the lot (or the serial).
Result<boost::json::object> BuildTrace(pqxx::transaction_base& tx, const gs1::DigitalLink& link,
                                       const TraceOptions& options);

// Whether anything is recorded about the lot: a lots row or an event.
bool LotKnown(pqxx::transaction_base& tx, const std::string& gtin, const std::string& lot);

// Every sensor reading of the lot's events: {"gtin", "lot", "readings": [{"time",
// "type", "value", "uom", "excursion", "envelope", "index", "device"}]}, in time order.
Result<boost::json::object> LotReadings(pqxx::transaction_base& tx, const std::string& gtin, const std::string& lot,
                                        const TraceOptions& options);

// The path (no host) of the readings of a lot: /api/v1/lots/{gtin}/{lot}/readings.
std::string ReadingsPath(const std::string& gtin, const std::string& lot);

}  // namespace trace::api
