#include <boost/json.hpp>
#include <gtest/gtest.h>

#include "manual_events.h"
#include "trace/common/epc.h"
#include "trace/common/epcis.h"
#include "trace/common/gs1.h"

namespace trace::api {
namespace {

namespace json = boost::json;

// Keys with valid check digits, company prefix 8850123 (7 digits).
const std::string kGtin = "08850123000119";   // paddy
const std::string kGtin2 = "08850123000218";  // milled rice
const std::string kFarm = "8850123000010";    // GLN
const std::string kMill = "8850456000015";
const std::string kSscc = "388501230026110015";

testing::AssertionResult ValidEvent(const Result<json::object>& e) {
  if (!e) return testing::AssertionFailure() << e.error();
  Status s = epcis::ValidateEvent(*e);
  if (!s.ok()) return testing::AssertionFailure() << s << " in " << json::serialize(*e);
  return testing::AssertionSuccess();
}

testing::AssertionResult RefusedWith(const Result<json::object>& e, std::string_view prefix) {
  if (e) return testing::AssertionFailure() << "accepted: " << json::serialize(*e);
  if (e.error().code() != StatusCode::kInvalidArgument) return testing::AssertionFailure() << e.error();
  if (!e.error().message().starts_with(prefix)) {
    return testing::AssertionFailure() << "message \"" << e.error().message() << "\" does not start with \"" << prefix
                                       << "\"";
  }
  return testing::AssertionSuccess();
}

TEST(ManualEvents, KeysUsedHereAreValid) {
  EXPECT_TRUE(gs1::HasValidCheckDigit(kGtin));
  EXPECT_TRUE(gs1::HasValidCheckDigit(kGtin2));
  EXPECT_TRUE(gs1::HasValidCheckDigit(kFarm));
  EXPECT_TRUE(gs1::HasValidCheckDigit(kMill));
  EXPECT_TRUE(gs1::HasValidCheckDigit(kSscc));
}

HarvestForm Harvest() {
  HarvestForm f;
  f.when.event_time = "2026-11-20T10:00:00+07:00";
  f.gtin = kGtin;
  f.lot = "PDY-F7-2611";
  f.quantity = 8450;
  f.site_gln = kFarm;
  f.variety = "Khao Dawk Mali 105";
  f.latitude = 15.2287;
  f.longitude = 104.8564;
  f.country = "TH";
  return f;
}

TEST(ManualEvents, HarvestIsACommissioningObjectEvent) {
  auto e = BuildHarvestEvent(Harvest());
  ASSERT_TRUE(ValidEvent(e));
  EXPECT_EQ(e->at("type"), "ObjectEvent");
  EXPECT_EQ(e->at("action"), "ADD");
  EXPECT_EQ(e->at("bizStep"), "commissioning");
  EXPECT_EQ(e->at("disposition"), "active");
  EXPECT_EQ(e->at("eventTime"), "2026-11-20T10:00:00+07:00");
  EXPECT_EQ(e->at("eventTimeZoneOffset"), "+07:00");
  const auto& q = e->at("quantityList").as_array().at(0).as_object();
  EXPECT_EQ(q.at("epcClass"), "urn:epc:class:lgtin:8850123.000011.PDY-F7-2611");
  EXPECT_EQ(q.at("quantity").to_number<double>(), 8450);
  EXPECT_EQ(q.at("uom"), "KGM");
  auto key = gs1::ProductKeyFromEpc(q.at("epcClass").as_string());
  ASSERT_TRUE(key.has_value());
  EXPECT_EQ(key->gtin, kGtin);
  EXPECT_EQ(*key->lot, "PDY-F7-2611");
  EXPECT_EQ(e->at("bizLocation").at("id"), "urn:epc:id:sgln:8850123.00001.0");
  EXPECT_EQ(e->at("readPoint").at("id"), "urn:epc:id:sgln:8850123.00001.0");
  const auto& ilmd = e->at("ilmd").as_object();
  EXPECT_EQ(ilmd.at("trace:variety"), "Khao Dawk Mali 105");
  EXPECT_EQ(ilmd.at("trace:fieldGeo"), "geo:15.228700,104.856400");
  EXPECT_EQ(ilmd.at("cbvmda:harvestEndDate"), "2026-11-20");  // the local date of the event
  EXPECT_EQ(ilmd.at("cbvmda:countryOfOrigin"), "TH");
  EXPECT_EQ(ilmd.at("cbvmda:farmList").at(0).at("cbvmda:farmID"), json::value(kFarm));
}

TEST(ManualEvents, HarvestDefaultsAndOptionalFields) {
  HarvestForm f = Harvest();
  f.when.event_time.clear();  // now, UTC
  f.latitude.reset();
  f.longitude.reset();
  f.variety.clear();
  f.country.clear();
  f.harvest_date = "2026-11-19";
  auto e = BuildHarvestEvent(f);
  ASSERT_TRUE(ValidEvent(e));
  EXPECT_EQ(e->at("eventTimeZoneOffset"), "+00:00");
  EXPECT_TRUE(e->at("eventTime").as_string().ends_with("Z"));
  EXPECT_FALSE(e->at("ilmd").as_object().contains("trace:fieldGeo"));
  EXPECT_FALSE(e->at("ilmd").as_object().contains("trace:variety"));
  EXPECT_EQ(e->at("ilmd").at("cbvmda:harvestEndDate"), "2026-11-19");

  f.when.company_prefix_length = 9;  // another split of the same keys: same GTIN and lot
  auto nine = BuildHarvestEvent(f);
  ASSERT_TRUE(ValidEvent(nine));
  auto key = gs1::ProductKeyFromEpc(nine->at("quantityList").at(0).at("epcClass").as_string());
  ASSERT_TRUE(key.has_value());
  EXPECT_EQ(key->gtin, kGtin);
}

TEST(ManualEvents, HarvestErrorsNameTheField) {
  auto with = [](auto change) {
    HarvestForm f = Harvest();
    change(f);
    return BuildHarvestEvent(f);
  };
  EXPECT_TRUE(RefusedWith(with([](HarvestForm& f) { f.gtin = "08850123000110"; }), "gtin: GTIN check digit"));
  EXPECT_TRUE(RefusedWith(with([](HarvestForm& f) { f.gtin = ""; }), "gtin: required"));
  EXPECT_TRUE(RefusedWith(with([](HarvestForm& f) { f.lot = "PDY F7"; }), "lot: character 0x20 at position 4"));
  EXPECT_TRUE(RefusedWith(with([](HarvestForm& f) { f.lot = ""; }), "lot: empty"));
  EXPECT_TRUE(RefusedWith(with([](HarvestForm& f) { f.quantity = 0; }), "quantity: required, a positive number"));
  EXPECT_TRUE(RefusedWith(with([](HarvestForm& f) { f.quantity = -3; }), "quantity: required"));
  EXPECT_TRUE(RefusedWith(with([](HarvestForm& f) { f.uom = "kilo"; }), "uom: \"kilo\" is not"));
  EXPECT_TRUE(RefusedWith(with([](HarvestForm& f) { f.site_gln = "8850123000011"; }), "site_gln:"));
  EXPECT_TRUE(RefusedWith(with([](HarvestForm& f) { f.site_gln = ""; }), "site_gln: required"));
  EXPECT_TRUE(RefusedWith(with([](HarvestForm& f) { f.longitude.reset(); }), "longitude: required with latitude"));
  EXPECT_TRUE(RefusedWith(with([](HarvestForm& f) { f.latitude = 91; }), "latitude: want -90 to 90"));
  EXPECT_TRUE(RefusedWith(with([](HarvestForm& f) { f.harvest_date = "2026-02-30"; }), "harvest_date:"));
  EXPECT_TRUE(RefusedWith(with([](HarvestForm& f) { f.country = "Thailand"; }), "country:"));
  EXPECT_TRUE(RefusedWith(with([](HarvestForm& f) { f.when.event_time = "yesterday"; }), "event_time:"));
  EXPECT_TRUE(RefusedWith(with([](HarvestForm& f) { f.when.time_zone_offset = "+7"; }), "time_zone_offset: \"+7\""));
  EXPECT_TRUE(
      RefusedWith(with([](HarvestForm& f) { f.when.company_prefix_length = 13; }), "company_prefix_length: 13"));
}

ProcessingForm Processing() {
  ProcessingForm f;
  f.when.event_time = "2026-11-22T15:00:00+07:00";
  f.site_gln = kMill;
  f.inputs = {{kGtin, "PDY-F7-2611", 8420, "KGM"}};
  f.outputs = {{kGtin2, "HM105-2611-A", 5450, "KGM"}};
  return f;
}

TEST(ManualEvents, ProcessingIsATransformationEvent) {
  auto e = BuildProcessingEvent(Processing());
  ASSERT_TRUE(ValidEvent(e));
  EXPECT_EQ(e->at("type"), "TransformationEvent");
  EXPECT_EQ(e->at("inputQuantityList").at(0).at("epcClass"), "urn:epc:class:lgtin:8850123.000011.PDY-F7-2611");
  EXPECT_EQ(e->at("outputQuantityList").at(0).at("epcClass"), "urn:epc:class:lgtin:8850123.000021.HM105-2611-A");
  EXPECT_EQ(e->at("outputQuantityList").at(0).at("quantity").to_number<double>(), 5450);
  EXPECT_EQ(e->at("bizLocation").at("id"), "urn:epc:id:sgln:8850456.00001.0");

  ProcessingForm f = Processing();
  f.inputs.push_back({kGtin, "PDY F8", 10, "KGM"});
  EXPECT_TRUE(RefusedWith(BuildProcessingEvent(f), "inputs[1].lot: character 0x20"));
  f = Processing();
  f.outputs[0].quantity = 0;
  EXPECT_TRUE(RefusedWith(BuildProcessingEvent(f), "outputs[0].quantity: required"));
  f = Processing();
  f.outputs[0].gtin = "123";
  EXPECT_TRUE(RefusedWith(BuildProcessingEvent(f), "outputs[0].gtin: GTIN: length 3"));
  f = Processing();
  f.inputs.clear();
  EXPECT_TRUE(RefusedWith(BuildProcessingEvent(f), "inputs: at least one"));
}

TEST(ManualEvents, PackingIsAnAggregationEvent) {
  PackingForm f;
  f.when.event_time = "2026-11-22T19:25:00+07:00";
  f.site_gln = kMill;
  f.parent_sscc = kSscc;
  f.child_lots = {{kGtin2, "HM105-2611-A", 40, ""}};
  f.child_serials = {{kGtin2, "100001"}, {kGtin2, "100002"}};
  auto e = BuildPackingEvent(f);
  ASSERT_TRUE(ValidEvent(e));
  EXPECT_EQ(e->at("type"), "AggregationEvent");
  EXPECT_EQ(e->at("action"), "ADD");
  EXPECT_EQ(e->at("bizStep"), "packing");
  EXPECT_EQ(e->at("parentID"), "urn:epc:id:sscc:8850123.3002611001");
  EXPECT_EQ(e->at("childEPCs").at(1), "urn:epc:id:sgtin:8850123.000021.100002");
  EXPECT_FALSE(e->at("childQuantityList").at(0).as_object().contains("uom"));  // a count of bags

  PackingForm item = f;
  item.parent_sscc.clear();
  item.parent_item = SerialItem{kGtin2, "PAL-7"};
  auto by_item = BuildPackingEvent(item);
  ASSERT_TRUE(ValidEvent(by_item));
  EXPECT_EQ(by_item->at("parentID"), "urn:epc:id:sgtin:8850123.000021.PAL-7");

  item.parent_sscc = kSscc;  // both
  EXPECT_TRUE(RefusedWith(BuildPackingEvent(item), "parent_sscc: give exactly one parent"));
  f.parent_sscc = "388501230026110016";
  EXPECT_TRUE(RefusedWith(BuildPackingEvent(f), "parent_sscc: SSCC"));
  f.parent_sscc = kSscc;
  f.child_lots.clear();
  f.child_serials.clear();
  EXPECT_TRUE(RefusedWith(BuildPackingEvent(f), "child_lots: at least one"));
  f.child_serials = {{kGtin2, ""}};
  EXPECT_TRUE(RefusedWith(BuildPackingEvent(f), "child_serials[0].serial: empty"));
}

MovementForm Move() {
  MovementForm f;
  f.when.event_time = "2026-11-21T06:00:00+07:00";
  f.site_gln = kFarm;
  f.from_gln = kFarm;
  f.to_gln = kMill;
  f.lots = {{kGtin, "PDY-F7-2611", 8450, "KGM"}};
  f.ssccs = {kSscc};
  return f;
}

TEST(ManualEvents, ShippingAndReceivingAreObserveEventsWithParties) {
  auto s = BuildShippingEvent(Move());
  ASSERT_TRUE(ValidEvent(s));
  EXPECT_EQ(s->at("type"), "ObjectEvent");
  EXPECT_EQ(s->at("action"), "OBSERVE");
  EXPECT_EQ(s->at("bizStep"), "shipping");
  EXPECT_EQ(s->at("disposition"), "in_transit");
  EXPECT_FALSE(s->contains("bizLocation"));
  EXPECT_EQ(s->at("epcList").at(0), "urn:epc:id:sscc:8850123.3002611001");
  EXPECT_EQ(s->at("quantityList").at(0).at("epcClass"), "urn:epc:class:lgtin:8850123.000011.PDY-F7-2611");
  const auto& src = s->at("sourceList").as_array();
  EXPECT_EQ(src.at(0).at("type"), "owning_party");
  EXPECT_EQ(src.at(0).at("source"), "urn:epc:id:pgln:8850123.00001");
  EXPECT_EQ(src.at(1).at("type"), "location");
  EXPECT_EQ(src.at(1).at("source"), "urn:epc:id:sgln:8850123.00001.0");
  EXPECT_EQ(s->at("destinationList").at(1).at("destination"), "urn:epc:id:sgln:8850456.00001.0");

  MovementForm r = Move();
  r.site_gln = kMill;
  r.to_party_gln = "8850456000008";
  auto recv = BuildReceivingEvent(r);
  ASSERT_TRUE(ValidEvent(recv));
  EXPECT_EQ(recv->at("bizStep"), "receiving");
  EXPECT_EQ(recv->at("disposition"), "in_progress");
  EXPECT_EQ(recv->at("bizLocation").at("id"), "urn:epc:id:sgln:8850456.00001.0");
  EXPECT_EQ(recv->at("destinationList").at(0).at("destination"), "urn:epc:id:pgln:8850456.00000");

  MovementForm bad = Move();
  bad.to_gln = "885045600001";
  EXPECT_TRUE(RefusedWith(BuildShippingEvent(bad), "to_gln: SGLN:"));
  bad = Move();
  bad.lots.clear();
  bad.ssccs.clear();
  EXPECT_TRUE(RefusedWith(BuildReceivingEvent(bad), "lots: what moves is required"));
  bad = Move();
  bad.ssccs = {"12"};
  EXPECT_TRUE(RefusedWith(BuildShippingEvent(bad), "ssccs[0]: SSCC"));
  bad = Move();
  bad.serials = {{"08850123000218", "A B"}};
  EXPECT_TRUE(RefusedWith(BuildShippingEvent(bad), "serials[0].serial:"));
}

TEST(ManualEvents, JsonFieldsGiveTheSameEventsAsTheForms) {
  // As an HTML form sends them: every value a string.
  json::object harvest{{"gtin", kGtin},
                       {"lot", "PDY-F7-2611"},
                       {"quantity", "8450"},
                       {"site_gln", kFarm},
                       {"variety", "Khao Dawk Mali 105"},
                       {"latitude", "15.2287"},
                       {"longitude", "104.8564"},
                       {"country", "TH"},
                       {"event_time", "2026-11-20T10:00:00+07:00"},
                       {"uom", ""}};
  auto from_json = BuildManualEvent("harvest", harvest);
  ASSERT_TRUE(ValidEvent(from_json));
  EXPECT_EQ(*from_json, *BuildHarvestEvent(Harvest()));

  json::object processing{
      {"event_time", "2026-11-22T15:00:00+07:00"},
      {"site_gln", kMill},
      {"inputs",
       json::array{json::object{{"gtin", kGtin}, {"lot", "PDY-F7-2611"}, {"quantity", 8420}, {"uom", "KGM"}}}},
      {"outputs",
       json::array{json::object{{"gtin", kGtin2}, {"lot", "HM105-2611-A"}, {"quantity", 5450.0}, {"uom", "KGM"}}}}};
  auto p = BuildManualEvent("processing", processing);
  ASSERT_TRUE(ValidEvent(p));
  EXPECT_EQ(*p, *BuildProcessingEvent(Processing()));

  json::object packing{{"site_gln", kMill},
                       {"parent_item", json::object{{"gtin", kGtin2}, {"serial", "PAL-7"}}},
                       {"child_serials", json::array{json::object{{"gtin", kGtin2}, {"serial", "100001"}}}}};
  auto k = BuildManualEvent("packing", packing);
  ASSERT_TRUE(ValidEvent(k));
  EXPECT_EQ(k->at("parentID"), "urn:epc:id:sgtin:8850123.000021.PAL-7");

  json::object move{{"event_time", "2026-11-21T06:00:00+07:00"},
                    {"site_gln", kFarm},
                    {"from_gln", kFarm},
                    {"to_gln", kMill},
                    {"lots", json::array{json::object{
                                 {"gtin", kGtin}, {"lot", "PDY-F7-2611"}, {"quantity", "8450"}, {"uom", "KGM"}}}},
                    {"ssccs", json::array{json::value(kSscc)}}};
  auto ship = BuildManualEvent("shipping", move);
  ASSERT_TRUE(ValidEvent(ship));
  EXPECT_EQ(*ship, *BuildShippingEvent(Move()));
  auto recv = BuildManualEvent("receiving", move);
  ASSERT_TRUE(ValidEvent(recv));
  EXPECT_EQ(recv->at("bizStep"), "receiving");

  json::object bad = harvest;
  bad["quantity"] = "lots";
  EXPECT_TRUE(RefusedWith(BuildManualEvent("harvest", bad), "quantity: \"lots\" is not a number"));
  bad = harvest;
  bad["quantitty"] = "1";
  EXPECT_TRUE(RefusedWith(BuildManualEvent("harvest", bad), "quantitty: not a field of this form"));
  bad = harvest;
  bad["lot"] = json::array();
  EXPECT_TRUE(RefusedWith(BuildManualEvent("harvest", bad), "lot: not a string"));
  json::object bad_list = processing;
  bad_list["inputs"].as_array()[0].as_object()["weight"] = 3;
  EXPECT_TRUE(RefusedWith(BuildManualEvent("processing", bad_list), "inputs[0].weight: not a field of this form"));
  bad_list = processing;
  bad_list["outputs"] = "rice";
  EXPECT_TRUE(RefusedWith(BuildManualEvent("processing", bad_list), "outputs: not a list"));
  EXPECT_TRUE(RefusedWith(BuildManualEvent("picking", harvest), "kind: \"picking\" is not one of"));
}

}  // namespace
}  // namespace trace::api
