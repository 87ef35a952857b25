#include "trace_document.h"

#include <algorithm>
#include <boost/json.hpp>
#include <cmath>
#include <functional>
#include <limits>
#include <pqxx/pqxx>
#include <set>
#include <utility>
#include <vector>

#include "http_util.h"
#include "trace/common/encoding.h"
#include "trace/common/jcs.h"

namespace trace::api {
namespace {

namespace json = boost::json;

// Runs `sql` as a statement prepared on the transaction's connection, so PostgreSQL plans it
// once per connection rather than on every call: the lot queries join event_keys up to four
// times and planning them took ~7 ms each on a 2-core machine, far more than running them
// (bench/trace.sh). libpqxx 6 registers the statement on first use, again after a reconnect,
// and prepare() with the same text is a no-op.
template <typename... Args>
pqxx::result Exec(pqxx::transaction_base& tx, const std::string& sql, Args&&... args) {
  const std::string name = "trace_doc_" + std::to_string(std::hash<std::string>{}(sql));
  tx.conn().prepare(name, sql);
  return tx.exec_prepared(name, std::forward<Args>(args)...);
}

// The events chosen by `direct` (a CTE body yielding envelope_id, idx), plus the
// events about any parent those events aggregate into, with signer and leaf.
std::string EventsSql(std::string_view direct) {
  return std::string("WITH direct AS (") + std::string(direct) + R"(),
parents AS (
  SELECT DISTINCT p.value FROM event_keys p
  JOIN direct d ON d.envelope_id = p.envelope_id AND d.idx = p.idx WHERE p.kind = 'parent'),
chosen AS (
  SELECT envelope_id, idx FROM direct
  UNION
  SELECT k.envelope_id, k.idx FROM event_keys k JOIN parents p ON k.value = p.value
  WHERE k.kind IN ('epc', 'parent'))
SELECT encode(e.envelope_id, 'hex'), e.idx, e.body::text, env.org, env.device,
       encode(d.public_key, 'hex'), l.leaf_index, e.event_type
FROM chosen c
JOIN events e ON e.envelope_id = c.envelope_id AND e.idx = c.idx
JOIN envelopes env ON env.id = e.envelope_id AND env.received_at = e.received_at
JOIN devices d ON d.org = env.org AND d.device = env.device
LEFT JOIN log_leaves l ON l.envelope_id = e.envelope_id
ORDER BY e.event_time, e.envelope_id, e.idx)";
}

// A lot's own events, and those of the serials commissioned into it.
const std::string& LotEventsSql() {
  static const std::string sql = EventsSql(R"(
  WITH lot_serials AS (
    SELECT DISTINCT k2.gtin, k2.serial FROM event_keys k1
    JOIN event_keys k2 ON k2.envelope_id = k1.envelope_id AND k2.idx = k1.idx
    WHERE k1.kind = 'lot' AND k1.gtin = $1 AND k1.lot = $2
      AND k2.kind = 'epc' AND k2.gtin = $1 AND k2.serial IS NOT NULL)
  SELECT envelope_id, idx FROM event_keys WHERE gtin = $1 AND lot = $2
  UNION
  SELECT k.envelope_id, k.idx FROM event_keys k JOIN lot_serials s ON k.gtin = s.gtin AND k.serial = s.serial)");
  return sql;
}

// One item's events ($1 gtin, $2 serial).
const std::string& ItemEventsSql() {
  static const std::string sql = EventsSql("SELECT envelope_id, idx FROM event_keys WHERE gtin = $1 AND serial = $2");
  return sql;
}

struct Context {
  pqxx::transaction_base& tx;
  const TraceOptions& options;
  std::optional<int64_t> anchored_size;  // tree size of the newest confirmed anchor
  std::set<std::pair<std::string, std::string>> visited;
};

struct EventRow {
  std::string envelope;
  int index = 0;
  json::object event;
  std::string org, device, key_b64url;
  std::optional<int64_t> leaf;
  std::string type;
};

std::vector<EventRow> ReadEvents(Context& ctx, const std::string& sql, const std::string& a, const std::string& b) {
  std::vector<EventRow> out;
  pqxx::result r = Exec(ctx.tx, sql, a, b);
  for (const auto& row : r) {
    EventRow e;
    e.envelope = row[0].as<std::string>();
    e.index = row[1].as<int>();
    auto parsed = json::parse(row[2].as<std::string>());
    if (parsed.is_object()) e.event = std::move(parsed.get_object());
    e.org = row[3].as<std::string>();
    e.device = row[4].as<std::string>();
    auto key = HexDecode(row[5].as<std::string>());
    e.key_b64url = key ? Base64UrlEncode(*key) : "";
    if (!row[6].is_null()) e.leaf = row[6].as<int64_t>();
    e.type = row[7].as<std::string>();
    out.push_back(std::move(e));
  }
  return out;
}

json::object EventEntry(const Context& ctx, const EventRow& e) {
  json::object o;
  o["event"] = e.event;
  o["envelope"] = e.envelope;
  o["index"] = e.index;
  o["signer"] = json::object{{"org", e.org}, {"device", e.device}, {"key", e.key_b64url}};
  o["leaf"] = e.leaf ? json::value(*e.leaf) : json::value(nullptr);
  o["anchored"] = e.leaf.has_value() && ctx.anchored_size.has_value() && *e.leaf < *ctx.anchored_size;
  o["href"] = ctx.options.public_base + "/api/v1/envelopes/" + e.envelope;
  return o;
}

std::string NormalizeSensorType(std::string_view type) {
  for (std::string_view prefix : {"gs1:", "https://gs1.org/voc/", "http://gs1.org/voc/"}) {
    if (type.starts_with(prefix)) return std::string(type.substr(prefix.size()));
  }
  return std::string(type);
}

struct Reading {
  std::string time, type, uom;
  double value = 0;
  bool excursion = false;
  const EventRow* event = nullptr;
};

std::optional<std::string> StringAt(const json::object& o, std::string_view key) {
  const auto* v = o.if_contains(key);
  if (v == nullptr || !v->is_string()) return std::nullopt;
  return std::string(v->get_string());
}

std::vector<Reading> ReadingsOf(const std::vector<EventRow>& events, const SensorLimits& limits) {
  std::vector<Reading> out;
  for (const auto& e : events) {
    const auto* list = e.event.if_contains("sensorElementList");
    if (list == nullptr || !list->is_array()) continue;
    const std::string event_time = StringAt(e.event, "eventTime").value_or("");
    for (const auto& element : list->get_array()) {
      if (!element.is_object()) continue;
      std::string element_time = event_time;
      if (const auto* meta = element.get_object().if_contains("sensorMetadata"); meta && meta->is_object()) {
        element_time = StringAt(meta->get_object(), "time").value_or(event_time);
      }
      const auto* reports = element.get_object().if_contains("sensorReport");
      if (reports == nullptr || !reports->is_array()) continue;
      for (const auto& report : reports->get_array()) {
        if (!report.is_object()) continue;
        const auto& r = report.get_object();
        auto type = StringAt(r, "type");
        const auto* value = r.if_contains("value");
        if (!type || value == nullptr || !value->is_number()) continue;
        Reading reading;
        reading.type = NormalizeSensorType(*type);
        reading.value = value->to_number<double>();
        reading.uom = StringAt(r, "uom").value_or("");
        reading.time = StringAt(r, "time").value_or(element_time);
        reading.event = &e;
        if (auto it = limits.find(reading.type); it != limits.end()) {
          reading.excursion = (it->second.min && reading.value < *it->second.min) ||
                              (it->second.max && reading.value > *it->second.max);
        }
        out.push_back(std::move(reading));
      }
    }
  }
  std::stable_sort(out.begin(), out.end(), [](const Reading& a, const Reading& b) { return a.time < b.time; });
  return out;
}

json::object SensorSummary(const Context& ctx, const std::vector<EventRow>& events, const std::string& gtin,
                           const std::string& lot) {
  struct Acc {
    uint64_t count = 0, excursions = 0;
    double min = std::numeric_limits<double>::infinity(), max = -std::numeric_limits<double>::infinity(), sum = 0;
    std::string uom;
  };
  std::map<std::string, Acc> by_type;
  for (const auto& r : ReadingsOf(events, ctx.options.limits)) {
    Acc& a = by_type[r.type];
    ++a.count;
    a.min = std::min(a.min, r.value);
    a.max = std::max(a.max, r.value);
    a.sum += r.value;
    if (r.excursion) ++a.excursions;
    if (a.uom.empty()) a.uom = r.uom;
  }
  json::array types;
  for (const auto& [type, a] : by_type) {
    json::object t{{"type", type},
                   {"uom", a.uom},
                   {"count", a.count},
                   {"min", a.min},
                   {"max", a.max},
                   {"mean", a.sum / static_cast<double>(a.count)},
                   {"excursions", a.excursions}};
    if (auto it = ctx.options.limits.find(type); it != ctx.options.limits.end()) {
      json::object limit;
      if (it->second.min) limit["min"] = *it->second.min;
      if (it->second.max) limit["max"] = *it->second.max;
      t["limits"] = std::move(limit);
    } else {
      t["limits"] = nullptr;
    }
    types.push_back(std::move(t));
  }
  return json::object{{"types", std::move(types)}, {"readings", ctx.options.public_base + ReadingsPath(gtin, lot)}};
}

json::array Aggregations(const std::vector<EventRow>& events) {
  json::array out;
  for (const auto& e : events) {
    if (e.type != "AggregationEvent") continue;
    json::object a;
    a["parent"] = e.event.contains("parentID") ? e.event.at("parentID") : json::value(nullptr);
    a["action"] = e.event.contains("action") ? e.event.at("action") : json::value(nullptr);
    a["children"] = e.event.contains("childEPCs") ? e.event.at("childEPCs") : json::array();
    if (e.event.contains("childQuantityList")) a["childQuantityList"] = e.event.at("childQuantityList");
    a["envelope"] = e.envelope;
    a["index"] = e.index;
    out.push_back(std::move(a));
  }
  return out;
}

json::value Product(Context& ctx, const std::string& gtin, const std::vector<EventRow>& events) {
  pqxx::result r = Exec(ctx.tx, "SELECT name, org FROM products WHERE gtin = $1", gtin);
  if (!r.empty()) {
    return json::object{{"gtin", gtin}, {"name", r[0][0].as<std::string>()}, {"org", r[0][1].as<std::string>()}};
  }
  // Not registered by a producer yet: the organization that recorded it first.
  return json::object{{"gtin", gtin},
                      {"name", nullptr},
                      {"org", events.empty() ? json::value(nullptr) : json::value(events.front().org)}};
}

std::string LinkOf(const TraceOptions& options, const std::string& gtin, const std::optional<std::string>& lot,
                   const std::optional<std::string>& serial = std::nullopt) {
  gs1::DigitalLink link;
  link.gtin = gtin;
  link.lot = lot;
  link.serial = serial;
  return gs1::FormatDigitalLink(options.public_base, link);
}

// The lot's members shared by the top level and every input.
json::object LotTrace(Context& ctx, const std::string& gtin, const std::string& lot, int depth,
                      std::vector<EventRow>* events_out = nullptr) {
  ctx.visited.emplace(gtin, lot);
  std::vector<EventRow> events = ReadEvents(ctx, LotEventsSql(), gtin, lot);
  json::object o;
  o["gtin"] = gtin;
  o["lot"] = lot;
  o["link"] = LinkOf(ctx.options, gtin, lot);
  o["product"] = Product(ctx, gtin, events);
  json::array list;
  for (const auto& e : events) list.push_back(EventEntry(ctx, e));
  o["events"] = std::move(list);
  o["aggregations"] = Aggregations(events);
  o["sensors"] = SensorSummary(ctx, events, gtin, lot);

  json::array inputs;
  pqxx::result in = Exec(ctx.tx, 
      "SELECT DISTINCT i.gtin, i.lot FROM event_keys o "
      "JOIN events e ON e.envelope_id = o.envelope_id AND e.idx = o.idx "
      "JOIN event_keys i ON i.envelope_id = o.envelope_id AND i.idx = o.idx "
      "WHERE e.event_type = 'TransformationEvent' AND o.kind IN ('output', 'output_class') "
      "AND o.gtin = $1 AND o.lot = $2 AND i.kind IN ('input', 'input_class') "
      "AND i.gtin IS NOT NULL AND i.lot IS NOT NULL "
      // Inputs named by serial: the lot each serial was commissioned into.
      "UNION "
      "SELECT DISTINCT l.gtin, l.lot FROM event_keys o "
      "JOIN events e ON e.envelope_id = o.envelope_id AND e.idx = o.idx "
      "JOIN event_keys i ON i.envelope_id = o.envelope_id AND i.idx = o.idx "
      "JOIN event_keys s ON s.kind = 'epc' AND s.gtin = i.gtin AND s.serial = i.serial "
      "JOIN event_keys l ON l.envelope_id = s.envelope_id AND l.idx = s.idx AND l.kind = 'lot' AND l.gtin = s.gtin "
      "WHERE e.event_type = 'TransformationEvent' AND o.kind IN ('output', 'output_class') "
      "AND o.gtin = $1 AND o.lot = $2 AND i.kind = 'input' AND i.serial IS NOT NULL ORDER BY 1, 2",
      gtin, lot);
  bool truncated = false;
  for (const auto& row : in) {
    std::string in_gtin = row[0].as<std::string>(), in_lot = row[1].as<std::string>();
    if (ctx.visited.contains({in_gtin, in_lot})) continue;  // a cycle, or a lot already shown
    if (depth + 1 > ctx.options.max_depth) {
      truncated = true;
      continue;
    }
    inputs.push_back(LotTrace(ctx, in_gtin, in_lot, depth + 1));
  }
  o["inputs"] = std::move(inputs);
  if (truncated) o["truncated"] = true;
  if (events_out != nullptr) *events_out = std::move(events);
  return o;
}

}  // namespace

SensorLimits DefaultSensorLimits() { return {{"Temperature", SensorLimit{2.0, 8.0}}}; }

Result<SensorLimits> ParseSensorLimits(std::string_view text) {
  auto v = ParseJsonStrict(text);
  if (!v) return Fail(v.error().WithContext("thresholds"));
  if (!v->is_object()) return Fail(InvalidArgument("thresholds: not a JSON object"));
  SensorLimits out;
  for (const auto& [type, limit] : v->get_object()) {
    if (!limit.is_object()) return Fail(InvalidArgument("thresholds." + std::string(type) + ": not an object"));
    SensorLimit l;
    for (const auto& [k, n] : limit.get_object()) {
      if (!n.is_number() || (k != "min" && k != "max")) {
        return Fail(InvalidArgument("thresholds." + std::string(type) + ": want numbers min and/or max"));
      }
      (k == "min" ? l.min : l.max) = n.to_number<double>();
    }
    out[NormalizeSensorType(type)] = l;
  }
  return out;
}

std::string ReadingsPath(const std::string& gtin, const std::string& lot) {
  return "/api/v1/lots/" + gtin + "/" + gs1::PercentEncodeValue(lot) + "/readings";
}

bool LotKnown(pqxx::transaction_base& tx, const std::string& gtin, const std::string& lot) {
  pqxx::result r = Exec(tx, 
      "SELECT EXISTS (SELECT 1 FROM lots WHERE gtin = $1 AND lot = $2) "
      "OR EXISTS (SELECT 1 FROM event_keys WHERE gtin = $1 AND lot = $2)",
      gtin, lot);
  return r[0][0].as<bool>();
}

Result<boost::json::object> BuildTrace(pqxx::transaction_base& tx, const gs1::DigitalLink& link,
                                       const TraceOptions& options) {
  Context ctx{tx, options, std::nullopt, {}};
  pqxx::result a = Exec(tx, 
      "SELECT a.tree_size, c.note FROM anchors a JOIN checkpoints c ON c.tree_size = a.tree_size "
      "WHERE a.state = 'confirmed' ORDER BY a.tree_size DESC LIMIT 1");
  json::value checkpoint = nullptr;
  if (!a.empty()) {
    ctx.anchored_size = a[0][0].as<int64_t>();
    checkpoint = json::string(a[0][1].as<std::string>());
  }

  std::optional<std::string> lot = link.lot;
  std::string lot_gtin = link.gtin;  // the lot's product; another one for a bag of a bulk lot
  std::vector<EventRow> item_events;
  if (link.serial) {
    item_events = ReadEvents(ctx, ItemEventsSql(), link.gtin, *link.serial);
    if (item_events.empty()) {
      return Fail(NotFound("nothing recorded about item " + link.gtin + " serial " + *link.serial));
    }
    if (!lot) {
      // The lot it was commissioned into (same GTIN); else, for a case or bag
      // that aggregates a lot of another product, that lot.
      pqxx::result r = Exec(tx, 
          "SELECT * FROM ("
          " SELECT 0 AS rank, k1.gtin, k1.lot FROM event_keys k1 JOIN event_keys k2 "
          " ON k2.envelope_id = k1.envelope_id AND k2.idx = k1.idx "
          " WHERE k1.kind = 'lot' AND k1.gtin = $1 AND k2.kind = 'epc' AND k2.gtin = $1 AND k2.serial = $2 "
          " UNION "
          " SELECT 1, c.gtin, c.lot FROM event_keys p JOIN event_keys c "
          " ON c.envelope_id = p.envelope_id AND c.idx = p.idx "
          " WHERE p.kind = 'parent' AND p.gtin = $1 AND p.serial = $2 AND c.kind = 'child_class' "
          " AND c.gtin IS NOT NULL AND c.lot IS NOT NULL) AS candidates ORDER BY 1, 2, 3 LIMIT 1",
          link.gtin, *link.serial);
      if (r.empty()) return Fail(NotFound("the lot of item " + link.gtin + " serial " + *link.serial + " is unknown"));
      lot_gtin = r[0][1].as<std::string>();
      lot = r[0][2].as<std::string>();
    }
  }
  if (!lot) return Fail(NotFound("a trace needs a lot (/10/) or a known serial (/21/)"));
  if (!LotKnown(tx, lot_gtin, *lot)) return Fail(NotFound("nothing recorded about lot " + *lot + " of " + lot_gtin));

  json::object lot_trace = LotTrace(ctx, lot_gtin, *lot, 0);
  json::object doc;
  // A bag of a bulk lot is its own product.
  doc["product"] = lot_gtin == link.gtin ? lot_trace["product"] : Product(ctx, link.gtin, item_events);
  doc["lot"] = *lot;
  if (lot_gtin != link.gtin) doc["lotGtin"] = lot_gtin;
  // The canonical link names the lot when the item belongs to a lot of its own GTIN (AI 10
  // qualifies AI 01); a bag of another product's bulk lot keeps its GTIN + serial only.
  const std::optional<std::string> link_lot = lot_gtin == link.gtin ? lot : link.lot;
  doc["link"] = LinkOf(options, link.gtin, link_lot, link.serial);
  doc["events"] = lot_trace["events"];
  doc["aggregations"] = lot_trace["aggregations"];
  doc["sensors"] = lot_trace["sensors"];
  doc["inputs"] = lot_trace["inputs"];
  if (lot_trace.contains("truncated")) doc["truncated"] = true;
  doc["checkpoint"] = checkpoint;
  {
    pqxx::result r = tx.exec_params(
        "SELECT to_char(recalled_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"'), recall_reason "
        "FROM lots WHERE gtin = $1 AND lot = $2 AND recalled_at IS NOT NULL",
        lot_gtin, *lot);
    doc["recall"] = r.empty() ? json::value(nullptr)
                              : json::value(json::object{{"at", r[0][0].as<std::string>()},
                                                         {"reason", r[0][1].is_null() ? json::value(nullptr)
                                                                                      : json::value(r[0][1].as<std::string>())}});
  }
  if (link.serial) {
    json::array events;
    for (const auto& e : item_events) events.push_back(EventEntry(ctx, e));
    doc["serial"] = *link.serial;
    doc["item"] = json::object{{"serial", *link.serial},
                               {"link", LinkOf(options, link.gtin, link_lot, link.serial)},
                               {"events", std::move(events)},
                               {"aggregations", Aggregations(item_events)}};
  }
  return doc;
}

Result<boost::json::object> LotReadings(pqxx::transaction_base& tx, const std::string& gtin, const std::string& lot,
                                        const TraceOptions& options) {
  if (!LotKnown(tx, gtin, lot)) return Fail(NotFound("nothing recorded about lot " + lot + " of " + gtin));
  Context ctx{tx, options, std::nullopt, {}};
  std::vector<EventRow> events = ReadEvents(ctx, LotEventsSql(), gtin, lot);
  json::array readings;
  for (const auto& r : ReadingsOf(events, options.limits)) {
    readings.push_back(json::object{{"time", r.time},
                                    {"type", r.type},
                                    {"value", r.value},
                                    {"uom", r.uom},
                                    {"excursion", r.excursion},
                                    {"envelope", r.event->envelope},
                                    {"index", r.event->index},
                                    {"device", r.event->org + "/" + r.event->device}});
  }
  return json::object{
      {"gtin", gtin}, {"lot", lot}, {"link", LinkOf(options, gtin, lot)}, {"readings", std::move(readings)}};
}

}  // namespace trace::api
