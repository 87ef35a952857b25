#include "trace/common/epcis.h"

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <set>
#include <string>
#include <vector>

#include <boost/json.hpp>
#include <gtest/gtest.h>

#include "trace/common/files.h"

namespace trace::epcis {
namespace {

using boost::json::object;
using boost::json::value;

value J(std::string_view text) { return boost::json::parse(text); }

// OK, or InvalidArgument whose message starts with `prefix` (a JSON path and reason).
::testing::AssertionResult Refused(const Status& status, std::string_view prefix) {
  if (status.ok()) return ::testing::AssertionFailure() << "accepted, expected \"" << prefix << "...\"";
  if (status.code() != StatusCode::kInvalidArgument) return ::testing::AssertionFailure() << status;
  if (!status.message().starts_with(prefix)) {
    return ::testing::AssertionFailure() << "message \"" << status.message() << "\" does not start with \"" << prefix
                                         << "\"";
  }
  return ::testing::AssertionSuccess();
}

::testing::AssertionResult Accepted(const Status& status) {
  if (status.ok()) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << status;
}

// --- Events shaped like ours (PROTOCOL.md §3) ---------------------------------------

constexpr std::string_view kCommissioning = R"({
  "type": "ObjectEvent",
  "eventTime": "2026-07-01T06:30:00.000Z",
  "eventTimeZoneOffset": "+07:00",
  "eventID": "ni:///sha-256;a3f1c0de?ver=CBV2.0",
  "epcList": [],
  "quantityList": [
    {"epcClass": "https://id.trace.example/01/09506000134369/10/PADDY-0701", "quantity": 1200, "uom": "KGM"}
  ],
  "action": "ADD",
  "bizStep": "commissioning",
  "disposition": "active",
  "readPoint": {"id": "https://id.gs1.org/414/9506000134307"},
  "bizLocation": {"id": "https://id.gs1.org/414/9506000134307"},
  "ilmd": {
    "cbvmda:harvestStartDate": "2026-07-01",
    "cbvmda:countryOfOrigin": "TH",
    "example:fieldId": {"plot": 7}
  }
})";

constexpr std::string_view kMilling = R"({
  "type": "TransformationEvent",
  "eventTime": "2026-07-03T09:00:00+07:00",
  "eventTimeZoneOffset": "+07:00",
  "inputQuantityList": [
    {"epcClass": "https://id.trace.example/01/09506000134369/10/PADDY-0701", "quantity": 1200.0, "uom": "KGM"}
  ],
  "outputQuantityList": [
    {"epcClass": "https://id.trace.example/01/09506000134376/10/RICE-0703", "quantity": 780.5, "uom": "KGM"}
  ],
  "transformationID": "urn:uuid:6a2e52a4-5b0c-4b35-9b2a-5d5c8e4d2f10",
  "bizStep": "https://trace.example/bizstep/milling",
  "disposition": "active",
  "readPoint": {"id": "https://id.gs1.org/414/9506000134314"},
  "ilmd": {"cbvmda:bestBeforeDate": "2027-07-03"}
})";

constexpr std::string_view kPacking = R"({
  "type": "AggregationEvent",
  "eventTime": "2026-07-03T14:00:00Z",
  "eventTimeZoneOffset": "+07:00",
  "parentID": "https://id.gs1.org/00/095060001343690018",
  "childQuantityList": [
    {"epcClass": "https://id.trace.example/01/09506000134376/10/RICE-0703", "quantity": 40, "uom": "KGM"}
  ],
  "action": "ADD",
  "bizStep": "packing",
  "disposition": "in_progress",
  "readPoint": {"id": "https://id.gs1.org/414/9506000134314"}
})";

constexpr std::string_view kShipping = R"({
  "type": "ObjectEvent",
  "eventTime": "2026-07-04T05:10:00Z",
  "eventTimeZoneOffset": "+07:00",
  "epcList": ["https://id.gs1.org/00/095060001343690018"],
  "action": "OBSERVE",
  "bizStep": "shipping",
  "disposition": "in_transit",
  "readPoint": {"id": "https://id.gs1.org/414/9506000134314"},
  "bizTransactionList": [{"type": "desadv", "bizTransaction": "urn:uuid:0d6a9e4c-3b1f-4f0b-9a4e-1e7a1f2b3c4d"}],
  "sourceList": [
    {"type": "owning_party", "source": "https://id.gs1.org/417/9506000134000"},
    {"type": "location", "source": "https://id.gs1.org/414/9506000134314"}
  ],
  "destinationList": [
    {"type": "owning_party", "destination": "https://id.gs1.org/417/9506000999990"},
    {"type": "location", "destination": "https://id.gs1.org/414/9506000999983"}
  ]
})";

constexpr std::string_view kSensor = R"({
  "type": "ObjectEvent",
  "eventTime": "2026-11-23T08:15:00.000Z",
  "eventTimeZoneOffset": "+00:00",
  "epcList": [],
  "action": "OBSERVE",
  "bizStep": "sensor_reporting",
  "readPoint": {"id": "https://id.gs1.org/414/9506000134307"},
  "sensorElementList": [
    {
      "sensorMetadata": {"time": "2026-11-23T08:15:00Z", "deviceID": "urn:trace:device:green-valley-farm:field-7-soil"},
      "sensorReport": [
        {"type": "Temperature", "value": 21.5, "uom": "CEL"},
        {"type": "RelativeHumidity", "value": 64, "uom": "A93", "time": "2026-11-23T08:14:59Z"},
        {"type": "https://trace.example/measurement/SoilMoisture", "value": 0.31, "minValue": 0.2,
         "maxValue": 0.4, "component": "x", "example:probeDepthCm": 10},
        {"type": "Count", "exception": "ALARM_CONDITION", "booleanValue": true, "hexBinaryValue": "0aFF",
         "stringValue": "door open", "uriValue": "https://trace.example/alarm/1"}
      ]
    }
  ]
})";

TEST(EpcisEvent, AcceptsOurEventShapes) {
  for (std::string_view text : {kCommissioning, kMilling, kPacking, kShipping, kSensor}) {
    EXPECT_TRUE(Accepted(ValidateEvent(J(text)))) << text;
  }
}

TEST(EpcisEvent, EventTypeNames) {
  EXPECT_EQ(EventTypeFromName("TransformationEvent"), EventType::kTransformation);
  EXPECT_EQ(EventTypeName(EventType::kAssociation), "AssociationEvent");
  EXPECT_FALSE(EventTypeFromName("objectEvent").has_value());
}

}  // namespace
}  // namespace trace::epcis
