// Recall of a lot (issue 6 item 4): everything made from it or packed with it,
// downstream, and where each of those went; then marking the lots recalled.
//
// Read from the trace index the gateway fills (events, event_keys; see
// schemas/migrations/0002_envelopes.sql and services/gateway/src/event_index.h),
// the mirror image of trace_document.h's upstream `inputs`:
//
//  - A lot's serials: the serials named in an event's epcList together with the
//    lot in its ilmd (a commissioning ObjectEvent; gtin of the lot key = the
//    serials' GTIN).
//  - Downstream lots through TransformationEvents: an event whose inputs
//    (inputQuantityList / inputEPCList) name the lot or one of its serials makes
//    every lot among its outputs affected: outputQuantityList classes with a lot
//    (LGTIN), and outputEPCList serials through the lot they were commissioned
//    into. Followed recursively, breadth first, each lot once (a cycle ends
//    where it meets a lot already found), at most RecallOptions::max_depth
//    transformations away (then `truncated`).
//  - Aggregations: an AggregationEvent (ADD or OBSERVE) whose children
//    (childEPCs / childQuantityList) are the lot's serials or the lot's class
//    puts them in its parent. A parent that is a serialized trade item (SGTIN)
//    commissioned into a lot of its own brings that lot in as a downstream lot
//    (one level deeper, `via` "aggregation"); any other parent (an SSCC pallet or
//    case, an SGTIN with no lot) is a container of the lot. Containers nest:
//    the parents of a container are containers too.
//  - Movements, "where each went": every ObjectEvent or TransactionEvent whose
//    bizStep is shipping, receiving, departing or arriving (bare CBV names,
//    urn:epcglobal:cbv:bizstep:, or https://ref.gs1.org/cbv/BizStep- forms), or
//    that carries a sourceList or destinationList, and that names the lot's class,
//    one of its serials, or one of its containers. A container's movement counts
//    from the time of the first aggregation of the lot into it; later unpacking
//    (DELETE) is not subtracted, so a reused container may over-report; a recall
//    prefers that to missing a shipment.
//
// Functions block on PostgreSQL: run them on a DbPool thread. Thread-compatible
// (one call per connection at a time). Database errors come back as
// Unavailable (connection lost; the connection is then closed) or Internal,
// never as exceptions.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <boost/json/value.hpp>
#include <pqxx/connection>

#include "trace/common/status.h"

namespace trace::api {

struct RecallOptions {
  std::string public_base;  // "https://id.example.com": the base of every `link`
  int max_depth = 8;        // transformation / aggregation steps followed from the recalled lot
  size_t max_lots = 2000;   // affected lots beyond this are not followed (then `truncated`)
};

// A party or location of a sourceList / destinationList entry.
struct RecallParty {
  std::string type;  // "owning_party", "location", ... as written (CBV prefixes kept)
  std::string id;    // usually a PGLN or SGLN URN
  friend bool operator==(const RecallParty&, const RecallParty&) = default;
};

// One event that moved the affected goods.
struct RecallMovement {
  std::string envelope;  // hex id
  int index = 0;         // position in the envelope's events
  std::string event_type;
  std::string time;         // eventTime as written (RFC 3339)
  std::string time_offset;  // eventTimeZoneOffset
  std::string biz_step;     // as written
  std::string action, disposition;
  std::string read_point, biz_location;  // "" when absent
  std::vector<RecallParty> sources, destinations;
  std::string org, device;  // who signed it
  // What of the affected lot moved: at least one is set. `serial`: this item of
  // the lot (by SGTIN); `container`: a container holding lot items (parent id
  // as written); neither: the lot itself by class (quantityList).
  std::optional<std::string> serial, container;
  std::optional<double> quantity;  // for the lot by class
  std::string uom;
};

struct RecallLot {
  std::string gtin, lot;
  std::string link;  // the lot's Digital Link
  int depth = 0;     // 0: the recalled lot
  // How it was reached: "recalled" (depth 0), "transformation" or "aggregation",
  // from lot (via_gtin, via_lot) by event (via_envelope, via_index).
  std::string via = "recalled";
  std::string via_gtin, via_lot, via_envelope;
  int via_index = 0;
  // From products and lots when registered; "" / nullopt otherwise.
  std::string product_name, product_org;
  std::optional<std::string> lot_org;     // lots.org; nullopt when the lot has no lots row
  std::optional<std::string> recalled_at;  // lots.recalled_at (RFC 3339 UTC), when already recalled
  std::vector<std::string> serials;        // sorted
  std::vector<std::string> containers;     // parent ids as written, sorted
  std::vector<RecallMovement> movements;   // in event time order
};

struct RecallReport {
  std::string gtin, lot;      // what was asked
  std::vector<RecallLot> lots;  // lots[0] is the recalled lot; then breadth first, by (gtin, lot)
  bool truncated = false;       // max_depth or max_lots stopped the walk somewhere
};

// The recall report of lot (gtin, lot). `gtin` must be a GTIN-14 with a valid
// check digit and `lot` a valid AI 10 value (InvalidArgument otherwise);
// NotFound when nothing is recorded about the lot (no lots row, no event). Reads
// in one REPEATABLE READ, read-only transaction of its own on `conn`.
Result<RecallReport> BuildRecall(pqxx::connection& conn, const std::string& gtin, const std::string& lot,
                                 const RecallOptions& options);

// The report as JSON: {"gtin", "lot", "truncated", "lots": [{"gtin", "lot",
// "link", "depth", "via": {"kind", "gtin", "lot", "envelope", "index"} | null,
// "product": {"name", "org"}, "lotOrg", "recalledAt", "serials", "containers",
// "movements": [{"envelope", "index", "type", "time", "timeZoneOffset",
// "bizStep", "action", "disposition", "readPoint", "bizLocation", "sources":
// [{"type", "id"}], "destinations": [...], "signer": {"org", "device"},
// "serial", "container", "quantity", "uom"}]}]}. Absent values are null.
boost::json::value RecallJson(const RecallReport& report);

// The report as CSV (RFC 4180: CRLF line ends, every field that holds a comma,
// a double quote, CR or LF quoted, quotes doubled; UTF-8). A header line, then
// one row per (affected lot, movement): gtin, lot, product, depth, via, via_gtin,
// via_lot, serial, container, quantity, uom, event_time, biz_step, disposition,
// read_point, biz_location, sources, destinations, org, device, envelope,
// index. sources/destinations are "type=id" joined with "; ". A lot with no
// movement still gets one row with the movement fields empty, so every
// affected lot appears. Fields that start with = + - @ (a spreadsheet formula)
// are prefixed with a single quote so that opening the file runs nothing.
std::string RecallCsv(const RecallReport& report);

// Marks lots recalled: sets recalled_at = now() and recall_reason = `reason`
// on the lots rows named in `lots` (gtin, lot) whose org is `org` and that are
// not recalled yet (an earlier recall keeps its time and reason). Lots of other
// organizations, and lots without a lots row, are left unchanged and are not an
// error: the caller shows them as reported-only (each RecallLot carries lot_org)
// so that their owners recall them. Returns how many rows changed. One
// transaction. InvalidArgument for a bad org id, a reason that is empty, longer
// than 500 characters or not valid UTF-8 text, or more than 10000 lots;
// Unavailable / Internal for database errors.
Result<int> MarkRecalled(pqxx::connection& conn, const std::string& org,
                         const std::vector<std::pair<std::string, std::string>>& lots, const std::string& reason);

// The same for every lot of `report`.
Result<int> MarkRecalled(pqxx::connection& conn, const std::string& org, const RecallReport& report,
                         const std::string& reason);

}  // namespace trace::api
