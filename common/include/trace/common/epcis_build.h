// Small builders of EPCIS 2.0 event members in GS1's JSON form, shared by
// everything that makes events: the simulator's scenarios (firmware-sim) and
// the producer dashboard's manual events (trace-api). They build shapes only;
// the values (URIs, times) are the caller's, and epcis::ValidateEvent checks
// the finished event.
//
// Example:
//   auto e = trace::epcis::EventBase("ObjectEvent", "2026-11-23T08:15:30.250Z", "+07:00");
//   e["quantityList"] = boost::json::array{trace::epcis::QuantityElement(lgtin, 8450, "KGM")};
//   e["readPoint"] = trace::epcis::IdRef(sgln);
//
// All functions are pure and thread-safe.
#pragma once

#include <string_view>

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

namespace trace::epcis {

// {"type": type, "eventTime": event_time, "eventTimeZoneOffset": offset}.
boost::json::object EventBase(std::string_view type, std::string_view event_time, std::string_view offset);

// A quantity element {"epcClass", "quantity"[, "uom"]}; no "uom" when `uom` is empty.
boost::json::object QuantityElement(std::string_view epc_class, double quantity, std::string_view uom = "");

// A readPoint or bizLocation: {"id": uri}.
boost::json::object IdRef(std::string_view uri);

// A sourceList or destinationList with the owning party and the location:
// [{"type": "owning_party", key: party}, {"type": "location", key: location}],
// where `key` is "source" or "destination".
boost::json::array PartyList(std::string_view party, std::string_view location, std::string_view key);

}  // namespace trace::epcis
