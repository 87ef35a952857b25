// The producer dashboard's forms for the common business steps, turned into
// EPCIS 2.0 events as PROTOCOL.md §3 maps them (the same shapes the simulator's
// scenarios send, firmware-sim/src/scenario.cc, built with the same helpers in
// trace/common/epcis_build.h):
//
//   harvest     ObjectEvent ADD, bizStep commissioning, disposition active: the
//               lot as an LGTIN quantity; readPoint and bizLocation the site's
//               SGLN; ilmd: cbvmda:harvestEndDate, cbvmda:countryOfOrigin,
//               trace:variety, trace:fieldGeo ("geo:lat,lon") and the site's
//               GLN in cbvmda:farmList
//   processing  TransformationEvent, bizStep commissioning: input lot
//               quantities -> output lot quantities, a fresh transformationID
//   packing     AggregationEvent ADD, bizStep packing, disposition in_progress:
//               parent SSCC (or SGTIN), children as lot quantities and/or SGTINs
//   shipping    ObjectEvent OBSERVE, bizStep shipping, disposition in_transit
//   receiving   ObjectEvent OBSERVE, bizStep receiving, disposition in_progress
//               (both: what moves as lot quantities, SSCCs and/or SGTINs;
//               sourceList/destinationList with owning_party (PGLN) and
//               location (SGLN); receiving has the receiving site as
//               bizLocation)
//
// EPC URNs need the length of the GS1 company prefix inside each GTIN and GLN
// (a GTIN alone does not say where the prefix ends); the forms carry it
// (`company_prefix_length`, default 7). Whatever the split, the trace index
// finds the same GTIN, lot and serial (trace::gs1::ProductKeyFromEpc).
//
// Errors are InvalidArgument naming the form field first, e.g.
//   "gtin: GTIN check digit: expected 9, got 3"
//   "inputs[1].lot: character 0x20 at position 4 is not in GS1 character set 82"
//   "quantity: required, a positive number"
//
// All functions are pure and thread-safe; each output passes
// epcis::ValidateEvent (an Internal error otherwise: a bug here).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json/object.hpp>

#include "trace/common/status.h"

namespace trace::api {

// When the event happened, and how to write identifiers.
struct EventWhen {
  // RFC 3339 with an offset ("2026-11-23T15:15:30+07:00"); empty: now, in UTC.
  std::string event_time;
  // "+07:00"; empty: the offset written in event_time ("Z" is "+00:00").
  std::string time_zone_offset;
  // Digits of the GS1 company prefix in the GTINs and GLNs (6..12).
  int company_prefix_length = 7;
};

// An amount of one lot of one product.
struct LotQuantity {
  std::string gtin;     // GTIN-8/12/13/14 with a valid check digit
  std::string lot;      // AI 10: 1..20 characters of set 82
  double quantity = 0;  // > 0
  std::string uom;      // UN/ECE rec. 20 code ("KGM", "LTR"); empty: a count of items
};

// One serialised item.
struct SerialItem {
  std::string gtin;
  std::string serial;  // AI 21
};

struct HarvestForm {
  EventWhen when;
  std::string gtin, lot;
  double quantity = 0;
  std::string uom = "KGM";
  std::string site_gln;                       // the farm: readPoint and bizLocation
  std::string variety;                        // optional
  std::optional<double> latitude, longitude;  // the field; both or neither
  std::string harvest_date;                   // YYYY-MM-DD; empty: the event's local date
  std::string country;                        // ISO 3166-1 alpha-2, optional ("TH")
};

struct ProcessingForm {
  EventWhen when;
  std::string site_gln;              // readPoint and bizLocation
  std::vector<LotQuantity> inputs;   // at least one
  std::vector<LotQuantity> outputs;  // at least one
};

struct PackingForm {
  EventWhen when;
  std::string site_gln;
  // The parent: an SSCC (18 digits) or a serialised item; exactly one.
  std::string parent_sscc;
  std::optional<SerialItem> parent_item;
  std::vector<LotQuantity> child_lots;  // children: at least one lot or serial
  std::vector<SerialItem> child_serials;
};

// Shipping and receiving.
struct MovementForm {
  EventWhen when;
  std::string site_gln;           // where it was read (the shipping or receiving site)
  std::string from_gln;           // source location
  std::string from_party_gln;     // source owning party; empty: from_gln
  std::string to_gln;             // destination location
  std::string to_party_gln;       // destination owning party; empty: to_gln
  std::vector<LotQuantity> lots;  // what moves: at least one lot, SSCC or serial
  std::vector<std::string> ssccs;
  std::vector<SerialItem> serials;
};

[[nodiscard]] Result<boost::json::object> BuildHarvestEvent(const HarvestForm& form);
[[nodiscard]] Result<boost::json::object> BuildProcessingEvent(const ProcessingForm& form);
[[nodiscard]] Result<boost::json::object> BuildPackingEvent(const PackingForm& form);
[[nodiscard]] Result<boost::json::object> BuildShippingEvent(const MovementForm& form);
[[nodiscard]] Result<boost::json::object> BuildReceivingEvent(const MovementForm& form);

// The kinds of manual event: "harvest", "processing", "packing", "shipping", "receiving".
inline constexpr std::string_view kManualEventKinds[] = {"harvest", "processing", "packing", "shipping", "receiving"};

// One entry point for the JSON API and the HTML forms: builds the event of
// `kind` from `fields`, whose members are the form structs' field names
// (gtin, lot, quantity, uom, site_gln, variety, latitude, longitude,
// harvest_date, country, event_time, time_zone_offset,
// company_prefix_length, inputs, outputs, parent_sscc, parent_item,
// child_lots, child_serials, from_gln, from_party_gln, to_gln,
// to_party_gln, lots, ssccs, serials). Numbers may be JSON numbers or
// decimal strings (as an HTML form sends them); lists are arrays of objects
// ({"gtin", "lot", "quantity", "uom"} for lots, {"gtin", "serial"} for
// serials) or, for ssccs, of strings; empty strings count as absent. Unknown
// members are refused, so a misspelt field is not silently dropped.
// InvalidArgument naming the field, e.g. "quantity: not a number",
// "kind: \"picking\" is not one of harvest, processing, ...".
//
// Example (a JSON route):
//   auto event = BuildManualEvent("harvest", body.as_object());
//   if (!event) return Problem(event.error());                 // 400
//   auto stored = SubmitEvents(conn, signer, org, boost::json::array{*event});
[[nodiscard]] Result<boost::json::object> BuildManualEvent(std::string_view kind, const boost::json::object& fields);

}  // namespace trace::api
