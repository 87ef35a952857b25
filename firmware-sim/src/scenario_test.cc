#include "scenario.h"

#include <set>

#include <boost/json.hpp>
#include <gtest/gtest.h>

#include "device_state.h"
#include "trace/common/envelope.h"
#include "trace/common/epc.h"
#include "trace/common/epcis.h"
#include "trace/common/time.h"

namespace trace::devicesim {
namespace {

using std::chrono::system_clock;

const system_clock::time_point kEnd = system_clock::from_time_t(1795424130);  // 2026-11-23T08:15:30Z

// Calls fn(event) for every event of every step.
template <typename Fn>
void ForEachEvent(const Plan& plan, Fn fn) {
  for (const auto& step : plan.steps) {
    for (const auto& e : step.events) fn(step, e.as_object());
  }
}

class ScenarioTest : public ::testing::TestWithParam<std::string> {};

TEST_P(ScenarioTest, EveryEventIsValidEpcisAndEveryEnvelopeParses) {
  auto plan = BuildScenario(GetParam(), kEnd);
  ASSERT_TRUE(plan) << plan.error();
  ASSERT_GE(plan->steps.size(), 10u);
  std::set<std::string> orgs, devices;
  for (const auto& o : plan->orgs) {
    EXPECT_TRUE(IsOrgId(o.id)) << o.id;
    orgs.insert(o.id);
  }
  EXPECT_GE(orgs.size(), 4u);
  for (const auto& d : plan->devices) {
    EXPECT_TRUE(orgs.contains(d.org)) << d.org;
    EXPECT_TRUE(IsDeviceId(d.device)) << d.device;
    devices.insert(d.org + "/" + d.device);
  }
  std::map<std::string, Ed25519PrivateKey> keys;
  std::map<std::string, uint64_t> seqs;
  std::set<std::string> used_devices;
  for (size_t i = 0; i < plan->steps.size(); ++i) {
    const PlanStep& step = plan->steps[i];
    std::string who = step.org + "/" + step.device;
    SCOPED_TRACE("step " + std::to_string(i) + " " + who + ": " + step.what);
    ASSERT_TRUE(devices.contains(who));
    used_devices.insert(who);
    ASSERT_FALSE(step.events.empty());
    for (size_t j = 0; j < step.events.size(); ++j) {
      Status s = epcis::ValidateEvent(step.events[j], "$.events[" + std::to_string(j) + "]");
      EXPECT_TRUE(s.ok()) << s << "\n" << boost::json::serialize(step.events[j]);
      auto t = ParseRfc3339(step.events[j].as_object().at("eventTime").as_string());
      ASSERT_TRUE(t);
      EXPECT_LT(t->utc, std::chrono::time_point_cast<std::chrono::microseconds>(kEnd)) << "event in the future";
    }
    auto key = keys.try_emplace(who, Ed25519PrivateKey::Generate()).first->second;
    auto env = SignEnvelope(UnsignedEnvelope(step.org, step.device, ++seqs[who], kEnd, step.events), key);
    ASSERT_TRUE(env) << env.error();
    auto parsed = ParseEnvelope(env->canonical_bytes);
    ASSERT_TRUE(parsed) << parsed.error().detail;
    EXPECT_EQ(parsed->id, env->id);
    EXPECT_TRUE(VerifyEnvelopeSignature(*parsed, key.public_key()));
    EXPECT_LT(env->canonical_bytes.size(), kMaxEnvelopeBytes);
  }
  EXPECT_EQ(used_devices.size(), devices.size()) << "every declared device publishes something";
}

TEST_P(ScenarioTest, EveryProductAndLocationIdentifierIsAValidGs1Key) {
  auto plan = BuildScenario(GetParam(), kEnd);
  ASSERT_TRUE(plan);
  int products = 0, locations = 0;
  auto check_product = [&](const boost::json::value& v) {
    std::string epc(v.as_string());
    auto key = gs1::ProductKeyFromEpc(epc);
    EXPECT_TRUE(key) << epc << ": " << key.error();
    ++products;
  };
  ForEachEvent(*plan, [&](const PlanStep&, const boost::json::object& e) {
    for (const char* list : {"quantityList", "inputQuantityList", "outputQuantityList"}) {
      if (auto* q = e.if_contains(list)) {
        for (const auto& item : q->as_array()) check_product(item.as_object().at("epcClass"));
      }
    }
    for (const char* list : {"epcList", "childEPCs"}) {
      if (auto* q = e.if_contains(list)) {
        for (const auto& item : q->as_array()) {
          if (!item.as_string().starts_with("urn:epc:id:sscc:")) check_product(item);
        }
      }
    }
    for (const char* where : {"bizLocation"}) {
      if (auto* l = e.if_contains(where)) {
        auto loc = gs1::LocationFromEpc(l->as_object().at("id").as_string());
        EXPECT_TRUE(loc) << loc.error();
        ++locations;
      }
    }
  });
  EXPECT_GT(products, 50);
  EXPECT_GT(locations, 5);
}

// Finds the events of a type and bizStep.
std::vector<boost::json::object> Find(const Plan& plan, std::string_view type, std::string_view biz_step) {
  std::vector<boost::json::object> out;
  ForEachEvent(plan, [&](const PlanStep&, const boost::json::object& e) {
    if (e.at("type").as_string() == type && e.at("bizStep").as_string() == biz_step) out.push_back(e);
  });
  return out;
}

TEST(RiceScenario, FollowsTheChainFromFieldToShop) {
  Plan plan = RiceScenario(kEnd);
  // Commissioning: the harvest (a paddy lot, by quantity), then the bags of each pallet
  // (serials, filled from the rice lot).
  auto commissioning = Find(plan, "ObjectEvent", "commissioning");
  ASSERT_EQ(commissioning.size(), 3u);
  std::vector<boost::json::object> harvest, bag_fills;
  for (auto& e : commissioning) (e.contains("epcList") ? bag_fills : harvest).push_back(e);
  ASSERT_EQ(harvest.size(), 1u);
  ASSERT_EQ(bag_fills.size(), 2u);
  EXPECT_EQ(harvest[0].at("action"), "ADD");
  const auto& ilmd = harvest[0].at("ilmd").as_object();
  EXPECT_EQ(ilmd.at("trace:variety"), "Khao Dawk Mali 105 (Hom Mali)");
  EXPECT_TRUE(ilmd.at("trace:fieldGeo").as_string().starts_with("geo:15."));
  std::string paddy(harvest[0].at("quantityList").at(0).at("epcClass").as_string());

  auto milling = Find(plan, "TransformationEvent", "commissioning");
  ASSERT_EQ(milling.size(), 1u);
  EXPECT_EQ(milling[0].at("inputQuantityList").at(0).at("epcClass").as_string(), paddy);
  std::string rice(milling[0].at("outputQuantityList").at(0).at("epcClass").as_string());
  EXPECT_NE(rice, paddy);
  auto rice_key = gs1::ProductKeyFromEpc(rice);
  ASSERT_TRUE(rice_key);

  auto packing = Find(plan, "AggregationEvent", "packing");
  ASSERT_EQ(packing.size(), 2u);
  EXPECT_EQ(packing[0].at("action"), "ADD");
  EXPECT_TRUE(packing[0].at("parentID").as_string().starts_with("urn:epc:id:sscc:8850456."));
  auto bag = gs1::ProductKeyFromEpc(packing[0].at("childEPCs").at(0).as_string());
  ASSERT_TRUE(bag);
  EXPECT_EQ(bag->gtin, rice_key->gtin) << "the bags are the milled product";
  // Every packed bag was first commissioned with the rice lot's number.
  for (size_t p = 0; p < 2; ++p) {
    EXPECT_EQ(bag_fills[p].at("ilmd").at("cbvmda:lotNumber").as_string(), rice_key->lot);
    EXPECT_EQ(bag_fills[p].at("epcList"), packing[p].at("childEPCs"));
  }

  auto shipping = Find(plan, "ObjectEvent", "shipping");
  auto receiving = Find(plan, "ObjectEvent", "receiving");
  EXPECT_EQ(shipping.size(), 4u);   // farm->mill, mill->DC, DC->store 14, DC->store 22
  EXPECT_EQ(receiving.size(), 4u);  // mill, DC, store 14, store 22
  for (const auto& e : shipping) {
    EXPECT_EQ(e.at("sourceList").at(0).at("type"), "owning_party");
    EXPECT_EQ(e.at("destinationList").at(1).at("type"), "location");
  }
  auto sensors = Find(plan, "ObjectEvent", "sensor_reporting");
  EXPECT_GE(sensors.size(), 40u);
  auto transport = Find(plan, "ObjectEvent", "transporting");
  ASSERT_FALSE(transport.empty());
  const auto& reports = transport[0].at("sensorElementList").at(0).at("sensorReport").as_array();
  EXPECT_EQ(reports.at(0).at("type"), "Temperature");
  EXPECT_EQ(reports.at(1).at("type"), "RelativeHumidity");
}

TEST(MedicineScenario, FormulationIngredientsAndOneColdChainExcursion) {
  Plan plan = MedicineScenario(kEnd);
  auto released = Find(plan, "ObjectEvent", "commissioning");
  int ingredients = 0;
  for (const auto& e : released) {
    if (!e.contains("quantityList")) continue;
    const auto& ilmd = e.at("ilmd").as_object();
    EXPECT_TRUE(ilmd.contains("trace:ingredient"));
    EXPECT_TRUE(ilmd.contains("trace:grade"));
    EXPECT_TRUE(ilmd.contains("cbvmda:countryOfOrigin"));
    ++ingredients;
  }
  EXPECT_EQ(ingredients, 3);
  auto formulation = Find(plan, "TransformationEvent", "commissioning");
  ASSERT_EQ(formulation.size(), 1u);
  EXPECT_EQ(formulation[0].at("inputQuantityList").as_array().size(), 3u);
  EXPECT_TRUE(formulation[0].at("ilmd").as_object().contains("trace:productionSite"));
  EXPECT_TRUE(formulation[0].at("ilmd").as_object().contains("trace:productionStart"));

  int readings = 0, above8 = 0, alarms = 0;
  for (const auto& e : Find(plan, "ObjectEvent", "transporting")) {
    for (const auto& el : e.at("sensorElementList").as_array()) {
      for (const auto& r : el.at("sensorReport").as_array()) {
        ++readings;
        double v = r.at("value").to_number<double>();
        EXPECT_GE(v, 2.0);
        if (v > 8.0) ++above8;
        if (r.as_object().contains("exception")) ++alarms;
      }
    }
  }
  EXPECT_EQ(readings, 24);
  EXPECT_EQ(above8, 2);  // one excursion, two readings long
  EXPECT_EQ(alarms, 2);
  EXPECT_EQ(Find(plan, "AggregationEvent", "packing").size(), 1u);
  EXPECT_EQ(Find(plan, "ObjectEvent", "receiving").size(), 3u);
}

TEST(Scenario, UnknownNameAndDeterminism) {
  EXPECT_EQ(BuildScenario("coffee", kEnd).error().code(), StatusCode::kInvalidArgument);
  Plan a = RiceScenario(kEnd), b = RiceScenario(kEnd);
  ASSERT_EQ(a.steps.size(), b.steps.size());
  for (size_t i = 0; i < a.steps.size(); ++i) EXPECT_EQ(a.steps[i].events, b.steps[i].events);
}

INSTANTIATE_TEST_SUITE_P(All, ScenarioTest, ::testing::Values("rice", "medicine"));

}  // namespace
}  // namespace trace::devicesim
