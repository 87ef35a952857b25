// The trace index of one EPCIS event: the rows of the events and event_keys
// tables (schemas/migrations/0002_envelopes.sql) that the store writes.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <boost/json/object.hpp>

namespace trace::gateway {

struct EventRow {
  std::string event_type;
  std::optional<std::string> action, biz_step, disposition;
  std::string event_time;              // as written (RFC 3339); PostgreSQL parses it
  std::string event_time_zone_offset;  // "+09:00"
  std::optional<std::string> event_id, read_point, biz_location;
};

struct EventKeyRow {
  std::string kind;  // epc, epc_class, parent, child, child_class, input, input_class,
                     // output, output_class, lot, source, destination
  std::string value;
  std::optional<std::string> gtin, lot, serial;
  std::optional<double> quantity;
  std::optional<std::string> uom, detail;
};

// The columns of `event` (an event that passed epcis::ValidateEvent).
EventRow EventRowFor(const boost::json::object& event);

// Every identifier `event` names, one row each, in member order: epcList (epc),
// quantityList (epc_class), parentID (parent), childEPCs (child),
// childQuantityList (child_class), inputEPCList / inputQuantityList (input,
// input_class), outputEPCList / outputQuantityList (output, output_class),
// sourceList / destinationList (source, destination; detail = the type), and
// a lot named in ilmd (a member whose name ends in "lotNumber"; gtin from the
// event's first product identifier that has one). gtin, lot and serial are
// filled when the identifier names a GTIN (trace::gs1::ProductKeyFromEpc).
std::vector<EventKeyRow> EventKeysFor(const boost::json::object& event);

}  // namespace trace::gateway
