#include "recall.h"

#include <algorithm>
#include <charconv>
#include <deque>
#include <functional>
#include <map>
#include <set>
#include <utility>

#include <boost/json.hpp>
#include <pqxx/pqxx>

#include "trace/common/digital_link.h"
#include "trace/common/envelope.h"
#include "trace/common/gs1.h"
#include "trace_document.h"

namespace trace::api {
namespace {

namespace json = boost::json;

// Prepared once per connection, as trace_document.cc does: these statements join event_keys several
// times and planning them costs more than running them.
template <typename... Args>
pqxx::result Exec(pqxx::transaction_base& tx, const std::string& sql, Args&&... args) {
  const std::string name = "recall_" + std::to_string(std::hash<std::string>{}(sql));
  tx.conn().prepare(name, sql);
  return tx.exec_prepared(name, std::forward<Args>(args)...);
}

// $1 gtin, $2 lot. lot_serials: the lot's serials. lot_keys: the index rows naming the lot or one of
// its serials. containers: parents of aggregations (ADD, OBSERVE) of lot_keys children, and parents
// of those parents, with the time and event of each aggregation; container_since: each container's
// first one. Unreferenced CTEs are not evaluated, so every query shares this prefix.
const char kLotCtes[] = R"(
WITH RECURSIVE lot_serials(serial) AS (
  SELECT k2.serial FROM event_keys k1
  JOIN event_keys k2 ON k2.envelope_id = k1.envelope_id AND k2.idx = k1.idx
  WHERE k1.kind = 'lot' AND k1.gtin = $1 AND k1.lot = $2
    AND k2.kind = 'epc' AND k2.gtin = $1 AND k2.serial IS NOT NULL
  UNION
  SELECT serial FROM event_keys WHERE gtin = $1 AND lot = $2 AND serial IS NOT NULL),
lot_keys AS (
  SELECT k.* FROM event_keys k WHERE k.gtin = $1 AND k.lot = $2
  UNION ALL
  SELECT k.* FROM event_keys k JOIN lot_serials s ON k.gtin = $1 AND k.serial = s.serial AND k.lot IS NULL),
containers(value, gtin, serial, since, envelope_id, idx) AS (
  SELECT p.value, p.gtin, p.serial, e.event_time, e.envelope_id, e.idx FROM lot_keys c
  JOIN events e ON e.envelope_id = c.envelope_id AND e.idx = c.idx
  JOIN event_keys p ON p.envelope_id = c.envelope_id AND p.idx = c.idx AND p.kind = 'parent'
  WHERE c.kind IN ('child', 'child_class') AND e.event_type = 'AggregationEvent' AND e.action IN ('ADD', 'OBSERVE')
  UNION
  SELECT p.value, p.gtin, p.serial, e.event_time, e.envelope_id, e.idx FROM containers ct
  JOIN event_keys c ON c.kind = 'child' AND c.value = ct.value
  JOIN events e ON e.envelope_id = c.envelope_id AND e.idx = c.idx
  JOIN event_keys p ON p.envelope_id = c.envelope_id AND p.idx = c.idx AND p.kind = 'parent'
  WHERE e.event_type = 'AggregationEvent' AND e.action IN ('ADD', 'OBSERVE') AND e.event_time >= ct.since),
container_since AS (SELECT value, min(since) AS since FROM containers GROUP BY value))";

std::string WithCtes(const char* body) { return std::string(kLotCtes) + "\n" + body; }

const std::string& SerialsSql() {
  static const std::string sql = WithCtes("SELECT DISTINCT serial FROM lot_serials ORDER BY 1");
  return sql;
}

const std::string& ContainersSql() {
  static const std::string sql = WithCtes("SELECT value FROM container_since ORDER BY 1");
  return sql;
}

// Lots made from the lot: outputs of TransformationEvents with the lot (or a serial of it) among
// the inputs; output serials through the lot they were commissioned into.
const std::string& TransformedSql() {
  static const std::string sql = WithCtes(R"(,
tev AS (
  SELECT DISTINCT k.envelope_id, k.idx, e.event_time FROM lot_keys k
  JOIN events e ON e.envelope_id = k.envelope_id AND e.idx = k.idx
  WHERE k.kind IN ('input', 'input_class') AND e.event_type = 'TransformationEvent'),
outs AS (
  SELECT o.gtin, o.lot, t.envelope_id, t.idx, t.event_time FROM tev t
  JOIN event_keys o ON o.envelope_id = t.envelope_id AND o.idx = t.idx
  WHERE o.kind IN ('output', 'output_class') AND o.gtin IS NOT NULL AND o.lot IS NOT NULL
  UNION
  SELECT l.gtin, l.lot, t.envelope_id, t.idx, t.event_time FROM tev t
  JOIN event_keys o ON o.envelope_id = t.envelope_id AND o.idx = t.idx AND o.kind = 'output' AND o.serial IS NOT NULL
  JOIN event_keys s ON s.kind = 'epc' AND s.gtin = o.gtin AND s.serial = o.serial
  JOIN event_keys l ON l.envelope_id = s.envelope_id AND l.idx = s.idx AND l.kind = 'lot' AND l.gtin = s.gtin)
SELECT DISTINCT ON (gtin, lot) gtin, lot, encode(envelope_id, 'hex'), idx FROM outs
ORDER BY gtin, lot, event_time, envelope_id, idx)");
  return sql;
}

// Lots whose serialized items (cases, bags of another product) the lot's items were packed into.
const std::string& AggregatedSql() {
  static const std::string sql = WithCtes(R"(
SELECT DISTINCT ON (l.gtin, l.lot) l.gtin, l.lot, encode(c.envelope_id, 'hex'), c.idx FROM containers c
JOIN event_keys s ON s.kind = 'epc' AND s.gtin = c.gtin AND s.serial = c.serial
JOIN event_keys l ON l.envelope_id = s.envelope_id AND l.idx = s.idx AND l.kind = 'lot' AND l.gtin = s.gtin
WHERE c.serial IS NOT NULL
ORDER BY l.gtin, l.lot, c.since, c.envelope_id, c.idx)");
  return sql;
}

// Movements of the lot by class, of its serials, and of its containers since they held lot items.
const std::string& MovementsSql() {
  static const std::string sql = WithCtes(R"(,
subjects AS (
  SELECT k.envelope_id, k.idx, k.serial, NULL::text AS container, k.quantity, k.uom FROM lot_keys k
  WHERE k.kind IN ('epc', 'epc_class')
  UNION ALL
  SELECT k.envelope_id, k.idx, NULL, cs.value, NULL, NULL FROM container_since cs
  JOIN event_keys k ON k.kind = 'epc' AND k.value = cs.value
  JOIN events e2 ON e2.envelope_id = k.envelope_id AND e2.idx = k.idx AND e2.event_time >= cs.since)
SELECT encode(e.envelope_id, 'hex'), e.idx, e.event_type, e.body->>'eventTime', e.event_time_zone_offset,
       coalesce(e.biz_step, ''), coalesce(e.action, ''), coalesce(e.disposition, ''),
       coalesce(e.read_point, ''), coalesce(e.biz_location, ''), env.org, env.device,
       s.serial, s.container, s.quantity, coalesce(s.uom, ''),
       coalesce(e.body->'sourceList', '[]')::text, coalesce(e.body->'destinationList', '[]')::text
FROM subjects s
JOIN events e ON e.envelope_id = s.envelope_id AND e.idx = s.idx
JOIN envelopes env ON env.id = e.envelope_id AND env.received_at = e.received_at
WHERE e.event_type IN ('ObjectEvent', 'TransactionEvent')
  AND (regexp_replace(coalesce(e.biz_step, ''), '^(urn:epcglobal:cbv:bizstep:|https?://ref\.gs1\.org/cbv/BizStep-)', '')
         IN ('shipping', 'receiving', 'departing', 'arriving')
       OR e.body ? 'sourceList' OR e.body ? 'destinationList')
ORDER BY e.event_time, e.envelope_id, e.idx, s.serial NULLS FIRST, s.container NULLS FIRST)");
  return sql;
}

std::vector<RecallParty> Parties(const std::string& list_json, const char* id_name) {
  std::vector<RecallParty> out;
  boost::system::error_code ec;
  json::value v = json::parse(list_json, ec);
  if (ec || !v.is_array()) return out;
  for (const auto& e : v.get_array()) {
    const auto* o = e.if_object();
    if (o == nullptr) continue;
    const auto* type = o->if_contains("type");
    const auto* id = o->if_contains(id_name);
    if (id == nullptr || !id->is_string()) continue;
    out.push_back({type != nullptr && type->is_string() ? std::string(type->get_string()) : "",
                   std::string(id->get_string())});
  }
  return out;
}

std::string LinkOf(const RecallOptions& options, const std::string& gtin, const std::string& lot) {
  gs1::DigitalLink link;
  link.gtin = gtin;
  link.lot = lot;
  return gs1::FormatDigitalLink(options.public_base, link);
}

void FillLot(pqxx::transaction_base& tx, RecallLot& l) {
  for (const auto& row : Exec(tx, SerialsSql(), l.gtin, l.lot)) l.serials.push_back(row[0].as<std::string>());
  for (const auto& row : Exec(tx, ContainersSql(), l.gtin, l.lot)) l.containers.push_back(row[0].as<std::string>());
  if (auto p = Exec(tx, "SELECT name, org FROM products WHERE gtin = $1", l.gtin); !p.empty()) {
    l.product_name = p[0][0].as<std::string>();
    l.product_org = p[0][1].as<std::string>();
  }
  auto r = Exec(tx,
                "SELECT org, to_char(recalled_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"') "
                "FROM lots WHERE gtin = $1 AND lot = $2",
                l.gtin, l.lot);
  if (!r.empty()) {
    l.lot_org = r[0][0].as<std::string>();
    if (!r[0][1].is_null()) l.recalled_at = r[0][1].as<std::string>();
  }
  for (const auto& row : Exec(tx, MovementsSql(), l.gtin, l.lot)) {
    RecallMovement m;
    m.envelope = row[0].as<std::string>();
    m.index = row[1].as<int>();
    m.event_type = row[2].as<std::string>();
    m.time = row[3].is_null() ? "" : row[3].as<std::string>();
    m.time_offset = row[4].as<std::string>();
    m.biz_step = row[5].as<std::string>();
    m.action = row[6].as<std::string>();
    m.disposition = row[7].as<std::string>();
    m.read_point = row[8].as<std::string>();
    m.biz_location = row[9].as<std::string>();
    m.org = row[10].as<std::string>();
    m.device = row[11].as<std::string>();
    if (!row[12].is_null()) m.serial = row[12].as<std::string>();
    if (!row[13].is_null()) m.container = row[13].as<std::string>();
    if (!row[14].is_null()) m.quantity = row[14].as<double>();
    m.uom = row[15].as<std::string>();
    m.sources = Parties(row[16].as<std::string>(), "source");
    m.destinations = Parties(row[17].as<std::string>(), "destination");
    l.movements.push_back(std::move(m));
  }
}

Status FromPqxx(const std::exception& e, const std::string& what) {
  if (dynamic_cast<const pqxx::broken_connection*>(&e) != nullptr) {
    return Unavailable(what + ": database connection lost: " + e.what());
  }
  return Internal(what + ": " + e.what());
}

// CSV (RFC 4180) field: quoted when it holds , " CR or LF; a leading = + - @ (a formula to a
// spreadsheet) gets a ' first.
std::string CsvField(std::string_view v) {
  std::string s;
  if (!v.empty() && (v[0] == '=' || v[0] == '+' || v[0] == '-' || v[0] == '@')) s = "'";
  s += v;
  if (s.find_first_of(",\"\r\n") == std::string::npos) return s;
  std::string out = "\"";
  for (char c : s) {
    if (c == '"') out += '"';
    out += c;
  }
  out += '"';
  return out;
}

std::string JoinParties(const std::vector<RecallParty>& parties) {
  std::string out;
  for (const auto& p : parties) {
    if (!out.empty()) out += "; ";
    out += p.type + "=" + p.id;
  }
  return out;
}

// Shortest form that reads back as the same double: "8450", "12.5".
std::string FormatQuantity(double q) {
  char buf[64];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, q);
  return ec == std::errc() ? std::string(buf, end) : std::string();
}

json::value StrOrNull(const std::string& s) { return s.empty() ? json::value(nullptr) : json::value(s); }

template <typename T>
json::value OptOrNull(const std::optional<T>& v) {
  return v ? json::value(*v) : json::value(nullptr);
}

json::array PartiesJson(const std::vector<RecallParty>& parties) {
  json::array out;
  for (const auto& p : parties) out.push_back(json::object{{"type", p.type}, {"id", p.id}});
  return out;
}

}  // namespace

Result<RecallReport> BuildRecall(pqxx::connection& conn, const std::string& gtin, const std::string& lot,
                                 const RecallOptions& options) {
  if (gtin.size() != 14 || !gs1::HasValidCheckDigit(gtin)) {
    return Fail(InvalidArgument("recall: GTIN \"" + gtin + "\" is not a GTIN-14 with a valid check digit"));
  }
  if (Status s = gs1::ValidateLot(lot); !s.ok()) return Fail(s.WithContext("recall"));
  if (options.max_depth < 0) return Fail(InvalidArgument("recall: max_depth < 0"));
  try {
    pqxx::transaction<pqxx::repeatable_read, pqxx::read_only> tx(conn, "recall");
    if (!LotKnown(tx, gtin, lot)) return Fail(NotFound("nothing recorded about lot " + lot + " of " + gtin));
    RecallReport report;
    report.gtin = gtin;
    report.lot = lot;
    std::set<std::pair<std::string, std::string>> seen{{gtin, lot}};
    std::deque<RecallLot> queue;
    RecallLot first;
    first.gtin = gtin;
    first.lot = lot;
    queue.push_back(std::move(first));
    while (!queue.empty()) {
      RecallLot l = std::move(queue.front());
      queue.pop_front();
      l.link = LinkOf(options, l.gtin, l.lot);
      FillLot(tx, l);
      // Children sorted by (gtin, lot) within each kind, transformations first.
      std::vector<RecallLot> children;
      auto add = [&](const pqxx::result& rows, const char* via) {
        for (const auto& row : rows) {
          RecallLot c;
          c.gtin = row[0].as<std::string>();
          c.lot = row[1].as<std::string>();
          if (seen.contains({c.gtin, c.lot})) continue;  // a cycle, or reached another way already
          if (l.depth + 1 > options.max_depth || seen.size() >= options.max_lots) {
            report.truncated = true;
            continue;
          }
          seen.emplace(c.gtin, c.lot);
          c.depth = l.depth + 1;
          c.via = via;
          c.via_gtin = l.gtin;
          c.via_lot = l.lot;
          c.via_envelope = row[2].as<std::string>();
          c.via_index = row[3].as<int>();
          children.push_back(std::move(c));
        }
      };
      add(Exec(tx, TransformedSql(), l.gtin, l.lot), "transformation");
      add(Exec(tx, AggregatedSql(), l.gtin, l.lot), "aggregation");
      for (auto& c : children) queue.push_back(std::move(c));
      report.lots.push_back(std::move(l));
    }
    tx.commit();
    return report;
  } catch (const std::exception& e) {
    return Fail(FromPqxx(e, "recall of " + gtin + " lot " + lot));
  }
}

json::value RecallJson(const RecallReport& report) {
  json::array lots;
  for (const auto& l : report.lots) {
    json::array movements;
    for (const auto& m : l.movements) {
      movements.push_back(json::object{{"envelope", m.envelope},
                                       {"index", m.index},
                                       {"type", m.event_type},
                                       {"time", m.time},
                                       {"timeZoneOffset", m.time_offset},
                                       {"bizStep", StrOrNull(m.biz_step)},
                                       {"action", StrOrNull(m.action)},
                                       {"disposition", StrOrNull(m.disposition)},
                                       {"readPoint", StrOrNull(m.read_point)},
                                       {"bizLocation", StrOrNull(m.biz_location)},
                                       {"sources", PartiesJson(m.sources)},
                                       {"destinations", PartiesJson(m.destinations)},
                                       {"signer", json::object{{"org", m.org}, {"device", m.device}}},
                                       {"serial", OptOrNull(m.serial)},
                                       {"container", OptOrNull(m.container)},
                                       {"quantity", OptOrNull(m.quantity)},
                                       {"uom", StrOrNull(m.uom)}});
    }
    json::value via = nullptr;
    if (l.depth > 0) {
      via = json::object{{"kind", l.via},
                         {"gtin", l.via_gtin},
                         {"lot", l.via_lot},
                         {"envelope", l.via_envelope},
                         {"index", l.via_index}};
    }
    json::array serials(l.serials.begin(), l.serials.end());
    json::array containers(l.containers.begin(), l.containers.end());
    lots.push_back(json::object{
        {"gtin", l.gtin},
        {"lot", l.lot},
        {"link", l.link},
        {"depth", l.depth},
        {"via", std::move(via)},
        {"product", json::object{{"name", StrOrNull(l.product_name)}, {"org", StrOrNull(l.product_org)}}},
        {"lotOrg", OptOrNull(l.lot_org)},
        {"recalledAt", OptOrNull(l.recalled_at)},
        {"serials", std::move(serials)},
        {"containers", std::move(containers)},
        {"movements", std::move(movements)}});
  }
  return json::object{
      {"gtin", report.gtin}, {"lot", report.lot}, {"truncated", report.truncated}, {"lots", std::move(lots)}};
}

std::string RecallCsv(const RecallReport& report) {
  static constexpr std::string_view kHeader =
      "gtin,lot,product,depth,via,via_gtin,via_lot,serial,container,quantity,uom,event_time,biz_step,disposition,"
      "read_point,biz_location,sources,destinations,org,device,envelope,index\r\n";
  std::string out(kHeader);
  for (const auto& l : report.lots) {
    const std::string via = l.depth == 0 ? "" : l.via;
    auto lot_fields = [&]() {
      std::string s;
      for (std::string_view f : {std::string_view(l.gtin), std::string_view(l.lot), std::string_view(l.product_name)}) {
        s += CsvField(f) + ",";
      }
      s += std::to_string(l.depth) + "," + CsvField(via) + "," + CsvField(l.via_gtin) + "," + CsvField(l.via_lot);
      return s;
    };
    if (l.movements.empty()) {
      out += lot_fields() + std::string(15, ',') + "\r\n";
      continue;
    }
    for (const auto& m : l.movements) {
      out += lot_fields();
      for (const std::string& f :
           {m.serial.value_or(""), m.container.value_or(""), m.quantity ? FormatQuantity(*m.quantity) : std::string(),
            m.uom, m.time, m.biz_step, m.disposition, m.read_point, m.biz_location, JoinParties(m.sources),
            JoinParties(m.destinations), m.org, m.device, m.envelope}) {
        out += "," + CsvField(f);
      }
      out += "," + std::to_string(m.index) + "\r\n";
    }
  }
  return out;
}

Result<int> MarkRecalled(pqxx::connection& conn, const std::string& org,
                         const std::vector<std::pair<std::string, std::string>>& lots, const std::string& reason) {
  if (!IsOrgId(org)) return Fail(InvalidArgument("recall: \"" + org + "\" is not an organization id"));
  if (reason.empty()) return Fail(InvalidArgument("recall reason: empty"));
  if (reason.size() > 2000) return Fail(InvalidArgument("recall reason: longer than 500 characters"));
  size_t chars = 0;
  for (size_t i = 0; i < reason.size(); ++i) {
    const auto c = static_cast<unsigned char>(reason[i]);
    if ((c < 0x20 && c != '\n' && c != '\t') || c == 0x7F) {
      return Fail(InvalidArgument("recall reason: control character at byte " + std::to_string(i + 1)));
    }
    if ((c & 0xC0) != 0x80) ++chars;
  }
  if (chars > 500) return Fail(InvalidArgument("recall reason: longer than 500 characters"));
  if (lots.size() > 10000) return Fail(InvalidArgument("recall: more than 10000 lots"));
  try {
    pqxx::work tx(conn, "mark_recalled");
    // PostgreSQL refuses invalid UTF-8 in text parameters, so the reason is checked there too.
    int changed = 0;
    for (const auto& [gtin, lot] : lots) {
      pqxx::result r = Exec(tx,
                            "UPDATE lots SET recalled_at = now(), recall_reason = $4 "
                            "WHERE gtin = $1 AND lot = $2 AND org = $3 AND recalled_at IS NULL",
                            gtin, lot, org, reason);
      changed += static_cast<int>(r.affected_rows());
    }
    tx.commit();
    return changed;
  } catch (const pqxx::data_exception& e) {
    return Fail(InvalidArgument(std::string("recall: ") + e.what()));
  } catch (const std::exception& e) {
    return Fail(FromPqxx(e, "marking lots recalled"));
  }
}

Result<int> MarkRecalled(pqxx::connection& conn, const std::string& org, const RecallReport& report,
                         const std::string& reason) {
  std::vector<std::pair<std::string, std::string>> lots;
  for (const auto& l : report.lots) lots.emplace_back(l.gtin, l.lot);
  return MarkRecalled(conn, org, lots, reason);
}

}  // namespace trace::api
