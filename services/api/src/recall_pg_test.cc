// Recall against a real PostgreSQL (deploy/stack.sh via the test harness, schema
// applied by trace-admin migrate). Envelopes are signed with the devices' keys,
// checked by the gateway's Checker and stored by the gateway's PgEnvelopeStore,
// exactly as trace-gateway does after MQTT.
//
// Chains:
//  - rice: paddy lot (cooperative) -> milling -> rice lot of 5 kg bags (+ husk
//    lot) -> six bags commissioned, packed on two pallets -> pallets shipped to
//    the distributor -> pallet 2 unpacked, bags to two shops, pallet 1 to shop 14
//    (pallet 1 had carried other goods elsewhere before: not part of the recall).
//  - medicine: one API lot used in two tablet lots; lot A's boxes go in a case
//    shipped to a pharmacy; lot B's boxes are packed into a serialized bundle
//    commissioned into a bundle lot of its own.
//  - a cycle: lot X -> Y and Y -> X (a rework loop), and X -> X.
#include "recall.h"

#include <chrono>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include <boost/json.hpp>
#include <gtest/gtest.h>
#include <pqxx/pqxx>

#include "checker.h"
#include "harness/shared_stack.h"
#include "harness/stack.h"
#include "pg_device_directory.h"
#include "pg_envelope_store.h"
#include "trace/common/ed25519.h"
#include "trace/common/encoding.h"
#include "trace/common/envelope.h"
#include "trace/common/epc.h"
#include "trace/common/gs1.h"

namespace trace::api {
namespace {

namespace json = boost::json;
using json::array;
using json::object;

// ---------------------------------------------------------------------------
// GS1 identifiers (company prefixes of 7 digits), check digits computed.

std::string WithCheck(const std::string& body) { return body + *gs1::CheckDigit(body); }
std::string Gtin(const std::string& prefix, const std::string& item) { return WithCheck("0" + prefix + item); }
std::string Lgtin(const std::string& gtin, const std::string& lot) {
  return *gs1::LgtinUrn({.gtin = gtin, .lot = lot}, 7);
}
std::string Sgtin(const std::string& gtin, const std::string& serial) {
  return *gs1::SgtinUrn({.gtin = gtin, .serial = serial}, 7);
}
std::string Sgln(const std::string& prefix, const std::string& loc, const std::string& ext = "") {
  gs1::Location l{.gln = WithCheck(prefix + loc)};
  if (!ext.empty()) l.extension = ext;
  return *gs1::SglnUrn(l, 7);
}
std::string Pgln(const std::string& prefix) { return "urn:epc:id:pgln:" + prefix + ".00000"; }
std::string Sscc(const std::string& prefix, const std::string& ref10) {
  return "urn:epc:id:sscc:" + prefix + "." + ref10;
}

// ---------------------------------------------------------------------------
// EPCIS events, shaped like firmware-sim's scenarios.

object Base(const char* type, const std::string& time) {
  return object{{"type", type}, {"eventTime", time}, {"eventTimeZoneOffset", "+07:00"}};
}
object Id(const std::string& uri) { return object{{"id", uri}}; }
object Quantity(const std::string& cls, double q, const std::string& uom = "KGM") {
  object o{{"epcClass", cls}, {"quantity", q}};
  if (!uom.empty()) o["uom"] = uom;  // none: a count of items
  return o;
}
array Epcs(const std::vector<std::string>& v) { return array(v.begin(), v.end()); }

object Commission(const std::string& time, const char* what_key, array what, const std::string& site,
                  object ilmd) {
  object e = Base("ObjectEvent", time);
  e[what_key] = std::move(what);
  e["action"] = "ADD";
  e["bizStep"] = "commissioning";
  e["disposition"] = "active";
  e["readPoint"] = Id(site);
  e["bizLocation"] = Id(site);
  e["ilmd"] = std::move(ilmd);
  return e;
}

object Movement(const char* step, const std::string& time, const char* what_key, array what,
                const std::string& read_point, const std::string& from_party, const std::string& from_loc,
                const std::string& to_party, const std::string& to_loc) {
  object e = Base("ObjectEvent", time);
  e[what_key] = std::move(what);
  e["action"] = "OBSERVE";
  e["bizStep"] = step;
  e["disposition"] = std::string(step) == "shipping" ? "in_transit" : "in_progress";
  e["readPoint"] = Id(read_point);
  if (std::string(step) == "receiving") e["bizLocation"] = Id(to_loc);
  e["sourceList"] = array{object{{"type", "owning_party"}, {"source", from_party}},
                          object{{"type", "location"}, {"source", from_loc}}};
  e["destinationList"] = array{object{{"type", "owning_party"}, {"destination", to_party}},
                               object{{"type", "location"}, {"destination", to_loc}}};
  return e;
}

object Transform(const std::string& time, array inputs, array outputs, const std::string& site) {
  object e = Base("TransformationEvent", time);
  e["inputQuantityList"] = std::move(inputs);
  e["outputQuantityList"] = std::move(outputs);
  e["bizStep"] = "commissioning";
  e["disposition"] = "active";
  e["readPoint"] = Id(site);
  e["bizLocation"] = Id(site);
  return e;
}

object Aggregate(const char* action, const std::string& time, const std::string& parent,
                 const std::vector<std::string>& children, const std::string& site) {
  object e = Base("AggregationEvent", time);
  e["parentID"] = parent;
  e["childEPCs"] = Epcs(children);
  e["action"] = action;
  e["bizStep"] = std::string(action) == "ADD" ? "packing" : "unpacking";
  e["disposition"] = "in_progress";
  e["readPoint"] = Id(site);
  e["bizLocation"] = Id(site);
  return e;
}

// ---------------------------------------------------------------------------
// The stack, one per test executable, and the gateway's checker and store over it.

testing::SharedStack* const g_env = testing::RegisterSharedStack({.postgres = true});

std::string DbUrl() { return g_env->stack().Env("TRACE_DB_URL"); }

// Organizations with one device each, signing and storing envelopes through the gateway's code.
class Recorder {
 public:
  Recorder()
      : directory_(DbUrl(), std::chrono::milliseconds(0)),
        checker_(directory_, clock_, {}),
        store_(DbUrl()),
        db_(DbUrl()) {}

  ::testing::AssertionResult Org(const std::string& org) {
    auto key = Ed25519PrivateKey::Generate();
    pqxx::work w(db_);
    w.exec_params("INSERT INTO organizations (id, name) VALUES ($1, $2)", org, "Org " + org);
    w.exec_params(
        "INSERT INTO devices (org, device, public_key, mqtt_username) VALUES ($1, 'dock', decode($2, 'hex'), $3)",
        org, HexEncode(key.public_key()), org + "/dock");
    w.commit();
    keys_.emplace(org, std::move(key));
    return ::testing::AssertionSuccess();
  }

  void Product(const std::string& gtin, const std::string& org, const std::string& name) {
    pqxx::work w(db_);
    w.exec_params("INSERT INTO products (gtin, org, name) VALUES ($1, $2, $3)", gtin, org, name);
    w.commit();
  }
  void Lot(const std::string& gtin, const std::string& lot, const std::string& org) {
    pqxx::work w(db_);
    w.exec_params("INSERT INTO lots (gtin, lot, org) VALUES ($1, $2, $3)", gtin, lot, org);
    w.commit();
  }

  // Signs one envelope of `events` as org/dock and stores it as the gateway does.
  ::testing::AssertionResult Record(const std::string& org, array events) {
    const uint64_t seq = ++seq_[org];
    object env{{"v", 1},     {"org", org},
               {"device", "dock"},
               {"seq", seq}, {"sent", "2026-11-20T00:00:00.000Z"},
               {"events", std::move(events)}};
    auto signed_env = SignEnvelope(std::move(env), keys_.at(org));
    if (!signed_env) return ::testing::AssertionFailure() << signed_env.error();
    const std::string topic = UpTopic(org, "dock");
    auto outcome = checker_.Check(topic, signed_env->canonical_bytes);
    if (!outcome) return ::testing::AssertionFailure() << outcome.error();
    if (outcome->rejection) return ::testing::AssertionFailure() << "rejected: " << outcome->rejection->detail;
    if (outcome->deferred) return ::testing::AssertionFailure() << "rejected: " << outcome->deferred->detail;
    std::vector<gateway::CheckedMessage> batch{
        {topic, signed_env->canonical_bytes, std::chrono::system_clock::now(), std::move(*outcome)}};
    auto decisions = store_.StoreBatch(batch);
    if (!decisions) return ::testing::AssertionFailure() << decisions.error();
    if ((*decisions)[0].status != ReceiptStatus::kAccepted) {
      return ::testing::AssertionFailure() << "not accepted: " << (*decisions)[0].detail;
    }
    return ::testing::AssertionSuccess();
  }

  pqxx::connection& db() { return db_; }

 private:
  gateway::PgDeviceDirectory directory_;
  gateway::SystemClock clock_;
  gateway::Checker checker_;
  gateway::PgEnvelopeStore store_;
  pqxx::connection db_;
  std::map<std::string, Ed25519PrivateKey> keys_;
  std::map<std::string, uint64_t> seq_;
};

const RecallOptions kOptions{.public_base = "https://id.example.com"};

const RecallLot* FindLot(const RecallReport& r, const std::string& gtin, const std::string& lot) {
  for (const auto& l : r.lots) {
    if (l.gtin == gtin && l.lot == lot) return &l;
  }
  return nullptr;
}

// The "location" destinations of a lot's movements with this bizStep.
std::set<std::string> Destinations(const RecallLot& l, const std::string& step) {
  std::set<std::string> out;
  for (const auto& m : l.movements) {
    if (m.biz_step != step) continue;
    for (const auto& d : m.destinations) {
      if (d.type == "location") out.insert(d.id);
    }
  }
  return out;
}

// A strict RFC 4180 reader for the checks: rows of fields.
std::vector<std::vector<std::string>> ParseCsv(const std::string& text) {
  std::vector<std::vector<std::string>> rows(1);
  std::string field;
  bool quoted = false, was_quoted = false;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (quoted) {
      if (c == '"' && i + 1 < text.size() && text[i + 1] == '"') {
        field += '"';
        ++i;
      } else if (c == '"') {
        quoted = false;
      } else {
        field += c;
      }
    } else if (c == '"') {
      EXPECT_TRUE(field.empty() && !was_quoted) << "quote inside an unquoted field at " << i;
      quoted = was_quoted = true;
    } else if (c == ',') {
      rows.back().push_back(field);
      field.clear();
      was_quoted = false;
    } else if (c == '\r') {
      EXPECT_EQ(text[i + 1], '\n') << "CR without LF at " << i;
      rows.back().push_back(field);
      field.clear();
      was_quoted = false;
      rows.emplace_back();
      ++i;
    } else {
      EXPECT_NE(c, '\n') << "bare LF outside quotes at " << i;
      field += c;
    }
  }
  EXPECT_FALSE(quoted);
  EXPECT_TRUE(rows.back().empty() && field.empty()) << "last line without CRLF";
  rows.pop_back();
  return rows;
}

std::map<std::string, std::string> Row(const std::vector<std::vector<std::string>>& csv, size_t i) {
  std::map<std::string, std::string> out;
  for (size_t c = 0; c < csv[0].size(); ++c) out[csv[0][c]] = csv[i].at(c);
  return out;
}

// ---------------------------------------------------------------------------

class RiceRecall : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    Recorder rec;
    for (const char* org : {"ubon-coop", "mun-mill", "siam-dist", "baan-shops"}) ASSERT_TRUE(rec.Org(org));
    const std::string coop = "8850123", mill = "8850456", dist = "8850789", shops = "8851234";
    paddy_gtin_ = Gtin(coop, "00011");
    bag_gtin_ = Gtin(mill, "00021");
    husk_gtin_ = Gtin(mill, "00031");
    rec.Product(bag_gtin_, "mun-mill", "Hom Mali \"jasmine\" rice, 5 kg");
    rec.Product(paddy_gtin_, "ubon-coop", "Paddy KDML105");
    rec.Lot(paddy_gtin_, "PDY-F7-2611", "ubon-coop");
    rec.Lot(bag_gtin_, "HM105-2611-A", "mun-mill");
    const std::string paddy = Lgtin(paddy_gtin_, "PDY-F7-2611"), rice = Lgtin(bag_gtin_, "HM105-2611-A"),
                      husk = Lgtin(husk_gtin_, "HM105-2611-A");
    const std::string farm = Sgln(coop, "00001"), mill_site = Sgln(mill, "00001"),
                      mill_dock = Sgln(mill, "00001", "DOCK");
    dc_ = Sgln(dist, "00010");
    shop14_ = Sgln(shops, "00014");
    shop22_ = Sgln(shops, "00022");
    for (int i = 1; i <= 6; ++i) bags_.push_back(Sgtin(bag_gtin_, std::to_string(100000 + i)));
    pallets_ = {Sscc(mill, "3002611001"), Sscc(mill, "3002611002")};
    const std::vector<std::string> p1(bags_.begin(), bags_.begin() + 3), p2(bags_.begin() + 3, bags_.end());

    ASSERT_TRUE(rec.Record("ubon-coop", array{Commission("2026-11-01T10:00:00.000+07:00", "quantityList",
                                                         array{Quantity(paddy, 8450)}, farm,
                                                         object{{"cbvmda:countryOfOrigin", "TH"}})}));
    ASSERT_TRUE(rec.Record("ubon-coop", array{Movement("shipping", "2026-11-02T06:00:00.000+07:00", "quantityList",
                                                       array{Quantity(paddy, 8450)}, farm, Pgln(coop), farm,
                                                       Pgln(mill), mill_site)}));
    ASSERT_TRUE(rec.Record("mun-mill", array{Movement("receiving", "2026-11-02T09:40:00.000+07:00", "quantityList",
                                                      array{Quantity(paddy, 8420)}, mill_site, Pgln(coop), farm,
                                                      Pgln(mill), mill_site)}));
    ASSERT_TRUE(rec.Record("mun-mill", array{Transform("2026-11-04T14:00:00.000+07:00", array{Quantity(paddy, 8420)},
                                                       array{Quantity(rice, 5450), Quantity(husk, 1680)}, mill_site)}));
    // Pallet 1 carried something else the day before the bags went on it: not part of the recall.
    ASSERT_TRUE(rec.Record("mun-mill", array{Movement("shipping", "2026-11-03T08:00:00.000+07:00", "epcList",
                                                      Epcs({pallets_[0]}), mill_dock, Pgln(mill), mill_site,
                                                      Pgln(dist), Sgln(dist, "00099"))}));
    ASSERT_TRUE(rec.Record(
        "mun-mill",
        array{Commission("2026-11-04T18:00:00.000+07:00", "epcList", Epcs(bags_), mill_site,
                         object{{"cbvmda:lotNumber", "HM105-2611-A"}}),
              Aggregate("ADD", "2026-11-04T18:05:00.000+07:00", pallets_[0], p1, mill_site),
              Aggregate("ADD", "2026-11-04T18:30:00.000+07:00", pallets_[1], p2, mill_site)}));
    ASSERT_TRUE(rec.Record("mun-mill", array{Movement("shipping", "2026-11-05T16:00:00.000+07:00", "epcList",
                                                      Epcs(pallets_), mill_dock, Pgln(mill), mill_site, Pgln(dist),
                                                      dc_)}));
    ASSERT_TRUE(rec.Record("siam-dist", array{Movement("receiving", "2026-11-06T01:15:00.000+07:00", "epcList",
                                                       Epcs(pallets_), dc_, Pgln(mill), mill_site, Pgln(dist), dc_)}));
    ASSERT_TRUE(rec.Record(
        "siam-dist",
        array{Aggregate("DELETE", "2026-11-07T01:20:00.000+07:00", pallets_[1], p2, dc_),
              Movement("shipping", "2026-11-07T02:00:00.000+07:00", "epcList", Epcs({bags_[3], bags_[4]}), dc_,
                       Pgln(dist), dc_, Pgln(shops), shop14_),
              Movement("shipping", "2026-11-07T02:10:00.000+07:00", "epcList", Epcs({bags_[5]}), dc_, Pgln(dist),
                       dc_, Pgln(shops), shop22_),
              Movement("shipping", "2026-11-07T02:20:00.000+07:00", "epcList", Epcs({pallets_[0]}), dc_,
                       Pgln(dist), dc_, Pgln(shops), shop14_)}));
    ASSERT_TRUE(rec.Record(
        "baan-shops",
        array{Movement("receiving", "2026-11-07T04:00:00.000+07:00", "epcList",
                       Epcs({bags_[3], bags_[4], pallets_[0]}), shop14_, Pgln(dist), dc_, Pgln(shops), shop14_),
              Movement("receiving", "2026-11-07T05:05:00.000+07:00", "epcList", Epcs({bags_[5]}), shop22_,
                       Pgln(dist), dc_, Pgln(shops), shop22_)}));
  }

  static inline std::string paddy_gtin_, bag_gtin_, husk_gtin_, dc_, shop14_, shop22_;
  static inline std::vector<std::string> bags_, pallets_;
};

TEST_F(RiceRecall, PaddyLotReachesMilledRiceBagsDistributorAndBothShops) {
  pqxx::connection conn(DbUrl());
  auto report = BuildRecall(conn, paddy_gtin_, "PDY-F7-2611", kOptions);
  ASSERT_TRUE(report.has_value()) << report.error();
  EXPECT_FALSE(report->truncated);
  ASSERT_EQ(report->lots.size(), 3u);

  const RecallLot& paddy = report->lots[0];
  EXPECT_EQ(paddy.gtin, paddy_gtin_);
  EXPECT_EQ(paddy.depth, 0);
  EXPECT_EQ(paddy.lot_org, "ubon-coop");
  EXPECT_EQ(paddy.link, "https://id.example.com/01/" + paddy_gtin_ + "/10/PDY-F7-2611");
  ASSERT_EQ(paddy.movements.size(), 2u);
  EXPECT_EQ(paddy.movements[0].biz_step, "shipping");
  EXPECT_EQ(paddy.movements[0].quantity, 8450);
  EXPECT_EQ(paddy.movements[0].uom, "KGM");
  EXPECT_EQ(paddy.movements[0].org, "ubon-coop");
  EXPECT_EQ(paddy.movements[1].biz_step, "receiving");
  EXPECT_EQ(paddy.movements[1].quantity, 8420);
  EXPECT_EQ(paddy.movements[1].time, "2026-11-02T09:40:00.000+07:00");

  // Transformation outputs, by GTIN: the bag GTIN (rice) sorts before husk.
  const RecallLot& rice = report->lots[1];
  EXPECT_EQ(rice.gtin, bag_gtin_);
  EXPECT_EQ(rice.lot, "HM105-2611-A");
  EXPECT_EQ(rice.depth, 1);
  EXPECT_EQ(rice.via, "transformation");
  EXPECT_EQ(rice.via_gtin, paddy_gtin_);
  EXPECT_EQ(rice.via_lot, "PDY-F7-2611");
  EXPECT_EQ(rice.via_envelope.size(), 64u);
  EXPECT_EQ(rice.product_name, "Hom Mali \"jasmine\" rice, 5 kg");
  EXPECT_EQ(rice.lot_org, "mun-mill");
  EXPECT_EQ(rice.serials, (std::vector<std::string>{"100001", "100002", "100003", "100004", "100005", "100006"}));
  EXPECT_EQ(rice.containers, pallets_);
  const RecallLot& husk = report->lots[2];
  EXPECT_EQ(husk.gtin, husk_gtin_);
  EXPECT_EQ(husk.via, "transformation");
  EXPECT_FALSE(husk.lot_org.has_value());
  EXPECT_TRUE(husk.movements.empty());

  // Where the rice went: pallets to the DC, then bags and pallet 1 to both shops.
  EXPECT_EQ(Destinations(rice, "shipping"), (std::set<std::string>{dc_, shop14_, shop22_}));
  EXPECT_EQ(Destinations(rice, "receiving"), (std::set<std::string>{dc_, shop14_, shop22_}));
  std::map<std::string, std::set<std::string>> received_at;  // bag serial or pallet -> where received
  for (const auto& m : rice.movements) {
    if (m.biz_step != "receiving") continue;
    received_at[m.serial ? *m.serial : *m.container].insert(m.biz_location);
  }
  EXPECT_EQ(received_at["100004"], (std::set<std::string>{shop14_}));
  EXPECT_EQ(received_at["100006"], (std::set<std::string>{shop22_}));
  EXPECT_EQ(received_at[pallets_[0]], (std::set<std::string>{dc_, shop14_}));
  EXPECT_EQ(received_at[pallets_[1]], (std::set<std::string>{dc_}));
  // 2 pallets shipped + received at the DC, 3 bags shipped + received, pallet 1 shipped + received.
  EXPECT_EQ(rice.movements.size(), 2u + 2u + 3u + 3u + 1u + 1u);
  for (size_t i = 1; i < rice.movements.size(); ++i) {
    EXPECT_LE(rice.movements[i - 1].time, rice.movements[i].time);  // same offset everywhere: text order is time order
  }
  for (const auto& m : rice.movements) {
    EXPECT_TRUE(m.serial.has_value() != m.container.has_value()) << m.envelope;
    ASSERT_EQ(m.sources.size(), 2u);
    EXPECT_EQ(m.sources[0].type, "owning_party");
  }

  // JSON mirrors the report.
  json::value doc = RecallJson(*report);
  const auto& lots = doc.at("lots").as_array();
  ASSERT_EQ(lots.size(), 3u);
  EXPECT_TRUE(lots[0].at("via").is_null());
  EXPECT_EQ(lots[1].at("via").at("kind"), "transformation");
  EXPECT_EQ(lots[1].at("product").at("name"), "Hom Mali \"jasmine\" rice, 5 kg");
  EXPECT_EQ(lots[1].at("movements").as_array().size(), rice.movements.size());
  EXPECT_EQ(lots[2].at("lotOrg"), nullptr);
  EXPECT_EQ(doc.at("truncated"), false);

  // CSV: one row per (lot, movement), one row for the lot without movements.
  auto csv = ParseCsv(RecallCsv(*report));
  ASSERT_EQ(csv.size(), 1u + 2u + rice.movements.size() + 1u);
  for (const auto& row : csv) EXPECT_EQ(row.size(), 22u);
  auto r = Row(csv, 3);
  EXPECT_EQ(r["gtin"], bag_gtin_);
  EXPECT_EQ(r["product"], "Hom Mali \"jasmine\" rice, 5 kg");
  EXPECT_EQ(r["via"], "transformation");
  EXPECT_EQ(r["container"], pallets_[0]);
  EXPECT_EQ(r["destinations"], "owning_party=" + Pgln("8850789") + "; location=" + dc_);
  auto last = Row(csv, csv.size() - 1);
  EXPECT_EQ(last["gtin"], husk_gtin_);
  EXPECT_EQ(last["event_time"], "");
  EXPECT_EQ(last["depth"], "1");
}

TEST_F(RiceRecall, DepthLimitTruncates) {
  pqxx::connection conn(DbUrl());
  RecallOptions options = kOptions;
  options.max_depth = 0;
  auto report = BuildRecall(conn, paddy_gtin_, "PDY-F7-2611", options);
  ASSERT_TRUE(report.has_value()) << report.error();
  EXPECT_TRUE(report->truncated);
  ASSERT_EQ(report->lots.size(), 1u);
  EXPECT_EQ(report->lots[0].movements.size(), 2u);
}

TEST_F(RiceRecall, RecallOfTheRiceLotStartsThere) {
  pqxx::connection conn(DbUrl());
  auto report = BuildRecall(conn, bag_gtin_, "HM105-2611-A", kOptions);
  ASSERT_TRUE(report.has_value()) << report.error();
  ASSERT_EQ(report->lots.size(), 1u);  // nothing upstream comes in
  EXPECT_EQ(report->lots[0].serials.size(), 6u);
}

TEST(Recall, UnknownLotIsNotFoundAndBadKeysAreInvalid) {
  pqxx::connection conn(DbUrl());
  auto r = BuildRecall(conn, "09506000134369", "NOPE-1", kOptions);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), StatusCode::kNotFound);
  r = BuildRecall(conn, "09506000134368", "NOPE-1", kOptions);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), StatusCode::kInvalidArgument);
  r = BuildRecall(conn, "9506000134369", "NOPE-1", kOptions);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), StatusCode::kInvalidArgument);
  r = BuildRecall(conn, "09506000134369", "BAD LOT", kOptions);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), StatusCode::kInvalidArgument);
}

TEST(Recall, MedicineIngredientLotInTwoTabletLotsAndMarking) {
  Recorder rec;
  for (const char* org : {"deccan-api", "rhein-excip", "alpen-pharma", "stadt-apo"}) ASSERT_TRUE(rec.Org(org));
  const std::string api_co = "8901234", excip = "4012345", pharma = "4098765", pharmacy = "4034567";
  const std::string api_gtin = Gtin(api_co, "00005"), mcc_gtin = Gtin(excip, "10102"),
                    box_gtin = Gtin(pharma, "00233"), bundle_gtin = Gtin(pharma, "00240");
  rec.Product(api_gtin, "deccan-api", "Chlorambucil API");
  rec.Product(box_gtin, "alpen-pharma", "Chlorambucil 2 mg, 25 tablets");
  rec.Lot(api_gtin, "CHL-26-0417", "deccan-api");
  rec.Lot(box_gtin, "LK2-26K014", "alpen-pharma");
  rec.Lot(box_gtin, "LK2-26K015", "alpen-pharma");
  const std::string api = Lgtin(api_gtin, "CHL-26-0417"), mcc = Lgtin(mcc_gtin, "MCC102-6611");
  const std::string plant = Sgln(pharma, "00001"), shop = Sgln(pharmacy, "00001");
  const std::string kase = Sscc(pharma, "14600731"  "00");
  std::vector<std::string> boxes_a, boxes_b;
  for (int i = 1; i <= 4; ++i) boxes_a.push_back(Sgtin(box_gtin, "K731000" + std::to_string(i)));
  for (int i = 1; i <= 3; ++i) boxes_b.push_back(Sgtin(box_gtin, "K741000" + std::to_string(i)));
  const std::string bundle = Sgtin(bundle_gtin, "BND-1");

  ASSERT_TRUE(rec.Record("deccan-api", array{Commission("2026-10-01T09:00:00.000+05:30", "quantityList",
                                                        array{Quantity(api, 2.5)}, Sgln(api_co, "00007"),
                                                        object{{"cbvmda:countryOfOrigin", "IN"}})}));
  ASSERT_TRUE(rec.Record("rhein-excip", array{Commission("2026-10-02T07:00:00.000+01:00", "quantityList",
                                                         array{Quantity(mcc, 400)}, Sgln(excip, "00003"),
                                                         object{{"cbvmda:countryOfOrigin", "DE"}})}));
  ASSERT_TRUE(rec.Record(
      "alpen-pharma",
      array{Transform("2026-10-10T14:00:00.000+01:00", array{Quantity(api, 0.4), Quantity(mcc, 12.1)},
                      array{Quantity(Lgtin(box_gtin, "LK2-26K014"), 8000, "")}, plant),
            Transform("2026-10-11T14:00:00.000+01:00", array{Quantity(api, 0.3), Quantity(mcc, 9.0)},
                      array{Quantity(Lgtin(box_gtin, "LK2-26K015"), 6000, "")}, plant)}));
  // Lot A: boxes into a case, shipped to the pharmacy and received there.
  ASSERT_TRUE(rec.Record(
      "alpen-pharma",
      array{Commission("2026-10-12T09:00:00.000+01:00", "epcList", Epcs(boxes_a), plant,
                       object{{"cbvmda:lotNumber", "LK2-26K014"}}),
            Aggregate("ADD", "2026-10-12T09:06:00.000+01:00", kase, boxes_a, plant),
            Movement("shipping", "2026-10-13T06:00:00.000+01:00", "epcList", Epcs({kase}), plant, Pgln(pharma), plant,
                     Pgln(pharmacy), shop)}));
  ASSERT_TRUE(rec.Record("stadt-apo", array{Movement("receiving", "2026-10-13T12:20:00.000+01:00", "epcList",
                                                     Epcs({kase}), shop, Pgln(pharma), plant, Pgln(pharmacy), shop)}));
  // Lot B: boxes into a serialized bundle that is commissioned into a bundle lot of its own.
  ASSERT_TRUE(rec.Record(
      "alpen-pharma",
      array{Commission("2026-10-12T10:00:00.000+01:00", "epcList", Epcs(boxes_b), plant,
                       object{{"cbvmda:lotNumber", "LK2-26K015"}}),
            Commission("2026-10-12T10:01:00.000+01:00", "epcList", Epcs({bundle}), plant,
                       object{{"cbvmda:lotNumber", "BND-LOT-9"}}),
            Aggregate("ADD", "2026-10-12T10:02:00.000+01:00", bundle, boxes_b, plant)}));

  pqxx::connection conn(DbUrl());
  auto report = BuildRecall(conn, api_gtin, "CHL-26-0417", kOptions);
  ASSERT_TRUE(report.has_value()) << report.error();
  ASSERT_EQ(report->lots.size(), 4u);
  EXPECT_EQ(report->lots[0].lot, "CHL-26-0417");
  EXPECT_EQ(report->lots[1].lot, "LK2-26K014");
  EXPECT_EQ(report->lots[2].lot, "LK2-26K015");
  for (int i : {1, 2}) {
    EXPECT_EQ(report->lots[i].via, "transformation");
    EXPECT_EQ(report->lots[i].via_lot, "CHL-26-0417");
    EXPECT_EQ(report->lots[i].product_name, "Chlorambucil 2 mg, 25 tablets");
  }
  const RecallLot& bundle_lot = report->lots[3];
  EXPECT_EQ(bundle_lot.gtin, bundle_gtin);
  EXPECT_EQ(bundle_lot.lot, "BND-LOT-9");
  EXPECT_EQ(bundle_lot.depth, 2);
  EXPECT_EQ(bundle_lot.via, "aggregation");
  EXPECT_EQ(bundle_lot.via_lot, "LK2-26K015");
  EXPECT_EQ(FindLot(*report, mcc_gtin, "MCC102-6611"), nullptr) << "an input is not downstream";
  // The case with lot A went to the pharmacy.
  const RecallLot& a = report->lots[1];
  EXPECT_EQ(a.containers, std::vector<std::string>{kase});
  EXPECT_EQ(Destinations(a, "shipping"), std::set<std::string>{shop});
  ASSERT_EQ(a.movements.size(), 2u);
  EXPECT_EQ(a.movements[1].biz_location, shop);
  EXPECT_EQ(a.movements[1].org, "stadt-apo");

  // Marking: the plant may change its own two tablet lots; the API lot (another org) and the
  // bundle lot (no lots row) stay as they were.
  auto marked = MarkRecalled(conn, "alpen-pharma", *report, "API lot CHL-26-0417 out of specification");
  ASSERT_TRUE(marked.has_value()) << marked.error();
  EXPECT_EQ(*marked, 2);
  {
    pqxx::read_transaction r(conn);
    auto rows = r.exec_params(
        "SELECT lot, recalled_at IS NOT NULL, coalesce(recall_reason, '') FROM lots WHERE gtin IN ($1, $2) "
        "ORDER BY lot",
        api_gtin, box_gtin);
    ASSERT_EQ(rows.size(), 3u);
    EXPECT_EQ(rows[0][0].as<std::string>(), "CHL-26-0417");
    EXPECT_FALSE(rows[0][1].as<bool>());
    EXPECT_TRUE(rows[1][1].as<bool>());
    EXPECT_EQ(rows[1][2].as<std::string>(), "API lot CHL-26-0417 out of specification");
    EXPECT_TRUE(rows[2][1].as<bool>());
  }
  // A second marking changes nothing and keeps the first reason.
  marked = MarkRecalled(conn, "alpen-pharma", *report, "again");
  ASSERT_TRUE(marked.has_value());
  EXPECT_EQ(*marked, 0);
  auto again = BuildRecall(conn, api_gtin, "CHL-26-0417", kOptions);
  ASSERT_TRUE(again.has_value());
  EXPECT_FALSE(again->lots[0].recalled_at.has_value());
  ASSERT_TRUE(again->lots[1].recalled_at.has_value());
  EXPECT_EQ(again->lots[1].recalled_at->size(), 24u) << *again->lots[1].recalled_at;  // 2026-12-06T11:22:33.456Z
  // The owner of the API lot can mark it.
  marked = MarkRecalled(conn, "deccan-api", {{api_gtin, "CHL-26-0417"}}, "assay below 98%");
  ASSERT_TRUE(marked.has_value());
  EXPECT_EQ(*marked, 1);

  for (const auto& [org, reason] : std::vector<std::pair<std::string, std::string>>{
           {"Bad Org", "x"}, {"alpen-pharma", ""}, {"alpen-pharma", std::string(501, 'x')},
           {"alpen-pharma", "bell\x07"}}) {
    auto bad = MarkRecalled(conn, org, *report, reason);
    ASSERT_FALSE(bad.has_value()) << org << " " << reason;
    EXPECT_EQ(bad.error().code(), StatusCode::kInvalidArgument);
  }
}

TEST(Recall, CyclesEndWhereTheyMeetALotAlreadyFound) {
  Recorder rec;
  ASSERT_TRUE(rec.Org("loop-mill"));
  const std::string gtin = Gtin("8859999", "00077");
  const std::string x = Lgtin(gtin, "X-1"), y = Lgtin(gtin, "Y-1"), site = Sgln("8859999", "00001");
  ASSERT_TRUE(rec.Record("loop-mill", array{Commission("2026-11-01T08:00:00.000+07:00", "quantityList",
                                                       array{Quantity(x, 100)}, site, object{})}));
  ASSERT_TRUE(rec.Record(
      "loop-mill",
      array{Transform("2026-11-01T09:00:00.000+07:00", array{Quantity(x, 100)}, array{Quantity(y, 98)}, site),
            Transform("2026-11-01T10:00:00.000+07:00", array{Quantity(y, 20)}, array{Quantity(x, 20)}, site),
            Transform("2026-11-01T11:00:00.000+07:00", array{Quantity(x, 5)}, array{Quantity(x, 5)}, site)}));
  pqxx::connection conn(DbUrl());
  auto report = BuildRecall(conn, gtin, "X-1", kOptions);
  ASSERT_TRUE(report.has_value()) << report.error();
  ASSERT_EQ(report->lots.size(), 2u);
  EXPECT_EQ(report->lots[0].lot, "X-1");
  EXPECT_EQ(report->lots[1].lot, "Y-1");
  EXPECT_EQ(report->lots[1].depth, 1);
  EXPECT_FALSE(report->truncated);
  report = BuildRecall(conn, gtin, "Y-1", kOptions);
  ASSERT_TRUE(report.has_value());
  ASSERT_EQ(report->lots.size(), 2u);
  EXPECT_EQ(report->lots[1].lot, "X-1");
}

TEST(RecallCsv, QuotesAndNeutralizesFieldsPerRfc4180) {
  RecallReport report{.gtin = "09506000134369", .lot = "Q\"1,2"};
  RecallLot l{.gtin = "09506000134369", .lot = "Q\"1,2", .depth = 0, .product_name = "Rice, \"premium\"\r\nline 2"};
  RecallMovement m;
  m.envelope = "ab";
  m.index = 3;
  m.time = "2026-11-07T02:00:00.000+07:00";
  m.biz_step = "shipping";
  m.serial = "=cmd|' /C calc'!A0";
  m.quantity = 12.5;
  m.uom = "KGM";
  m.sources = {{"owning_party", "urn:epc:id:pgln:8850789.00000"}, {"location", "a,b"}};
  m.org = "siam-dist";
  m.device = "dock";
  l.movements.push_back(m);
  report.lots.push_back(l);
  RecallLot empty{.gtin = "09506000134376", .lot = "-5", .depth = 1, .via = "transformation",
                  .via_gtin = "09506000134369", .via_lot = "Q\"1,2"};
  report.lots.push_back(empty);
  const std::string csv = RecallCsv(report);
  EXPECT_EQ(csv.substr(0, csv.find("\r\n")),
            "gtin,lot,product,depth,via,via_gtin,via_lot,serial,container,quantity,uom,event_time,biz_step,"
            "disposition,read_point,biz_location,sources,destinations,org,device,envelope,index");
  EXPECT_NE(csv.find("\r\n09506000134369,\"Q\"\"1,2\",\"Rice, \"\"premium\"\"\r\nline 2\",0,,,,'=cmd|' /C "
                     "calc'!A0,,12.5,KGM,2026-11-07T02:00:00.000+07:00,shipping,,,,\"owning_party=urn:epc:id:pgln:"
                     "8850789.00000; location=a,b\",,siam-dist,dock,ab,3\r\n"),
            std::string::npos)
      << csv;
  auto rows = ParseCsv(csv);
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rows[1][1], "Q\"1,2");
  EXPECT_EQ(rows[1][2], "Rice, \"premium\"\r\nline 2");
  EXPECT_EQ(rows[2][1], "'-5");  // a formula to a spreadsheet, neutralized
  EXPECT_EQ(rows[2][6], "Q\"1,2");
  EXPECT_EQ(rows[2].size(), 22u);
  EXPECT_EQ(rows[2][21], "");
}

}  // namespace
}  // namespace trace::api
