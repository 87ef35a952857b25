#include "scenario.h"

#include <cmath>
#include <random>

#include <boost/json.hpp>

#include "trace/common/epc.h"
#include "trace/common/epcis_build.h"
#include "trace/common/gs1.h"
#include "trace/common/time.h"

namespace trace::devicesim {
namespace {

using boost::json::array;
using boost::json::object;
using std::chrono::days;
using std::chrono::hours;
using std::chrono::minutes;
using TimePoint = std::chrono::system_clock::time_point;

std::string T(TimePoint t) { return FormatRfc3339Millis(t); }

// Data digits + their GS1 check digit. The digits are fixed in this file, so a
// failure is a bug here and throws (the scenario tests catch it).
std::string WithCheckDigit(const std::string& digits) { return digits + gs1::CheckDigit(digits).value(); }

// A GS1 company prefix and the keys it issues.
struct Company {
  std::string prefix;

  int len() const { return static_cast<int>(prefix.size()); }
  // GTIN-14 with indicator 0: prefix + item reference = 12 digits.
  std::string Gtin14(const std::string& item) const { return WithCheckDigit("0" + prefix + item); }
  // GLN: prefix + location reference = 12 digits.
  std::string Gln(const std::string& loc) const { return WithCheckDigit(prefix + loc); }
  std::string Sgln(const std::string& loc, const std::string& ext = "0") const {
    return gs1::SglnUrn({Gln(loc), ext == "0" ? std::nullopt : std::optional<std::string>(ext)}, len()).value();
  }
  // Party GLN (TDS 2.x PGLN): urn:epc:id:pgln:{prefix}.{party reference}.
  std::string Pgln(const std::string& loc) const { return gs1::PglnUrn(Gln(loc), len()).value(); }
  std::string Lgtin(const std::string& item, const std::string& lot) const {
    return gs1::LgtinUrn({Gtin14(item), lot, std::nullopt}, len()).value();
  }
  std::string Sgtin(const std::string& item, const std::string& serial) const {
    return gs1::SgtinUrn({Gtin14(item), std::nullopt, serial}, len()).value();
  }
  // SSCC: extension digit + prefix + serial reference = 17 digits (+ check digit
  // in the barcode); the URN carries extension digit and serial reference
  // together after the prefix.
  std::string Sscc(int extension, uint64_t serial) const {
    std::string ref = std::to_string(serial);
    size_t width = 16 - prefix.size();
    ref = std::string(width - std::min(width, ref.size()), '0') + ref;
    return gs1::SsccUrn(WithCheckDigit(std::to_string(extension) + prefix + ref), len()).value();
  }
  // An individual asset (a sensor, a truck): GIAI.
  std::string Giai(const std::string& asset) const { return "urn:epc:id:giai:" + prefix + "." + asset; }
};

double Round1(double v) { return std::round(v * 10.0) / 10.0; }

object Report(std::string_view type, double value, std::string_view uom) {
  return object{{"type", type}, {"value", Round1(value)}, {"uom", uom}};
}

object SensorElement(TimePoint t, const std::string& device_id, array reports) {
  return object{{"sensorMetadata", {{"time", T(t)}, {"deviceID", device_id}}}, {"sensorReport", std::move(reports)}};
}

// The shapes come from trace/common/epcis_build.h, shared with trace-api's manual events.
object Base(std::string_view type, TimePoint t, std::string_view offset) { return epcis::EventBase(type, T(t), offset); }
using epcis::IdRef;
using epcis::PartyList;
using epcis::QuantityElement;

// Shipping or receiving of `what` (epcList or quantityList) between two parties.
object Movement(std::string_view step, TimePoint t, std::string_view offset, std::string_view what_key, array what,
                const std::string& read_point, const std::string& from_party, const std::string& from_loc,
                const std::string& to_party, const std::string& to_loc, std::string_view disposition) {
  object e = Base("ObjectEvent", t, offset);
  e[what_key] = std::move(what);
  e["action"] = "OBSERVE";
  e["bizStep"] = step;
  e["disposition"] = disposition;
  e["readPoint"] = IdRef(read_point);
  if (step == "receiving") e["bizLocation"] = IdRef(to_loc);
  e["sourceList"] = PartyList(from_party, from_loc, "source");
  e["destinationList"] = PartyList(to_party, to_loc, "destination");
  return e;
}

}  // namespace

std::vector<std::string_view> ScenarioNames() { return {"rice", "medicine"}; }

Result<Plan> BuildScenario(std::string_view name, TimePoint end) {
  if (name == "rice") return RiceScenario(end);
  if (name == "medicine") return MedicineScenario(end);
  return Fail(InvalidArgument("unknown scenario \"" + std::string(name) + "\" (rice, medicine)"));
}

// ---------------------------------------------------------------------------
// rice: Hom Mali jasmine rice from Ubon Ratchathani to Bangkok shops (UTC+7).

Plan RiceScenario(TimePoint end) {
  std::mt19937 rng(20261123);
  std::normal_distribution<double> noise(0.0, 1.0);
  constexpr std::string_view kTz = "+07:00";
  // Whole hours, so events land on tidy local times.
  TimePoint base = std::chrono::floor<hours>(end) - days(24);

  const Company coop{"8850123"};    // cooperative
  const Company mill{"8850456"};    // rice mill
  const Company dist{"8850789"};    // distributor
  const Company shops{"8851234"};   // retail chain

  Plan plan;
  plan.name = "rice";
  plan.orgs = {{"ubon-jasmine-coop", "Ubon Jasmine Rice Farmers Cooperative"},
               {"mun-river-mill", "Mun River Rice Mill Co."},
               {"siam-fresh-dist", "Siam Fresh Distribution"},
               {"baan-market", "Baan Market Stores"}};
  plan.devices = {{"ubon-jasmine-coop", "field-7-soil", "paddy field 7 soil probe (moisture, temperature)"},
                  {"ubon-jasmine-coop", "field-7-weather", "paddy field 7 weather station"},
                  {"ubon-jasmine-coop", "harvest-scale", "harvest weighbridge and lot labeller"},
                  {"ubon-jasmine-coop", "truck-12", "truck 12 cargo temperature and humidity logger"},
                  {"mun-river-mill", "intake-dock", "paddy intake dock scanner"},
                  {"mun-river-mill", "mill-line-1", "milling line 1 controller"},
                  {"mun-river-mill", "packing-line-1", "5 kg bagging and palletising line"},
                  {"mun-river-mill", "dispatch-dock", "dispatch dock scanner"},
                  {"siam-fresh-dist", "dc-dock", "Bangkok DC dock scanner"},
                  {"siam-fresh-dist", "dc-climate", "Bangkok DC dry store climate sensor"},
                  {"baan-market", "store-014-dock", "store 14 back-door scanner"},
                  {"baan-market", "store-022-dock", "store 22 back-door scanner"}};

  // Products: paddy (unmilled), the 5 kg retail bag, and the by-products.
  const std::string kPaddy = "00011", kBag5 = "00021", kHusk = "00031", kBran = "00041";
  const std::string paddy_lot = "PDY-F7-2611";
  const std::string rice_lot = "HM105-2611-A";
  const std::string farm = coop.Sgln("00001"), field7 = coop.Sgln("00001", "F7");
  const std::string mill_site = mill.Sgln("00001"), mill_intake = mill.Sgln("00001", "INTAKE");
  const std::string mill_line = mill.Sgln("00001", "LINE1"), mill_pack = mill.Sgln("00001", "PACK1");
  const std::string mill_dock = mill.Sgln("00001", "DOCK");
  const std::string dc = dist.Sgln("00010"), dc_dock = dist.Sgln("00010", "DOCK2"), dc_dry = dist.Sgln("00010", "DRY");
  const std::string store14 = shops.Sgln("00014"), store22 = shops.Sgln("00022");
  const std::string p_coop = coop.Pgln("00000"), p_mill = mill.Pgln("00000"), p_dist = dist.Pgln("00000"),
                    p_shops = shops.Pgln("00000");
  const std::string paddy_class = coop.Lgtin(kPaddy, paddy_lot);
  const std::string rice_class = mill.Lgtin(kBag5, rice_lot);

  // 1. Field sensors: four readings a day, one envelope per two days, before the harvest.
  for (int block = 0; block < 3; ++block) {
    array soil, weather;
    for (int i = 0; i < 8; ++i) {
      TimePoint t = base + days(block * 2) + hours(6 * i);
      double hour = std::fmod(6.0 * i, 24.0);
      double diurnal = std::sin((hour - 9.0) / 24.0 * 2 * M_PI);
      // Fields are drained ten days before harvest: moisture falls.
      double moisture = 41.0 - 2.2 * (block * 2 + i / 4.0) + 0.6 * noise(rng);
      object s = Base("ObjectEvent", t, kTz);
      s["action"] = "OBSERVE";
      s["bizStep"] = "sensor_reporting";
      s["readPoint"] = IdRef(field7);
      s["sensorElementList"] = array{SensorElement(
          t, coop.Giai("F7-SOIL-01"),
          array{Report("VolumeFraction", moisture, "P1"), Report("Temperature", 27.5 + 2.5 * diurnal, "CEL")})};
      soil.push_back(std::move(s));
      object w = Base("ObjectEvent", t, kTz);
      w["action"] = "OBSERVE";
      w["bizStep"] = "sensor_reporting";
      w["readPoint"] = IdRef(field7);
      double rain = (block == 0 && i == 3) ? 12.4 : 0.0;
      w["sensorElementList"] = array{SensorElement(
          t, coop.Giai("F7-WX-01"),
          array{Report("Temperature", 29.0 + 4.5 * diurnal + 0.4 * noise(rng), "CEL"),
                Report("RelativeHumidity", 72.0 - 12.0 * diurnal + noise(rng), "P1"), Report("Length", rain, "MMT"),
                Report("Speed", 2.1 + 0.5 * std::abs(noise(rng)), "MTS")})};
      weather.push_back(std::move(w));
    }
    plan.steps.push_back({"ubon-jasmine-coop", "field-7-soil", "field 7 soil readings", std::move(soil)});
    plan.steps.push_back({"ubon-jasmine-coop", "field-7-weather", "field 7 weather readings", std::move(weather)});
  }

  // 2. Harvest: a new paddy lot, commissioned at the farm with the field's place and variety.
  TimePoint harvest_end = base + days(8) + hours(10);
  {
    object e = Base("ObjectEvent", harvest_end, kTz);
    e["quantityList"] = array{QuantityElement(paddy_class, 8450, "KGM")};
    e["action"] = "ADD";
    e["bizStep"] = "commissioning";
    e["disposition"] = "active";
    e["readPoint"] = IdRef(field7);
    e["bizLocation"] = IdRef(farm);
    e["ilmd"] = object{{"cbvmda:countryOfOrigin", "TH"},
                       {"cbvmda:harvestStartDate", T(harvest_end - days(1)).substr(0, 10)},
                       {"cbvmda:harvestEndDate", T(harvest_end).substr(0, 10)},
                       {"cbvmda:farmList", array{object{{"cbvmda:farmID", coop.Gln("00001")},
                                                        {"cbvmda:farmIDType", "GLN"}}}},
                       {"trace:variety", "Khao Dawk Mali 105 (Hom Mali)"},
                       {"trace:fieldId", "F7"},
                       {"trace:fieldGeo", "geo:15.2287,104.8564;u=30"},
                       {"trace:fieldAreaHa", 2.6},
                       {"trace:moisturePercent", 17.8}};
    plan.steps.push_back({"ubon-jasmine-coop", "harvest-scale", "harvest: paddy lot commissioned", array{e}});
  }

  // 3. Shipping to the mill, and the truck's logger on the way.
  TimePoint depart = harvest_end + hours(20);
  plan.steps.push_back(
      {"ubon-jasmine-coop", "harvest-scale", "paddy shipped to the mill",
       array{Movement("shipping", depart, kTz, "quantityList", array{QuantityElement(paddy_class, 8450, "KGM")}, farm,
                      p_coop, farm, p_mill, mill_site, "in_transit")}});
  {
    array readings;
    for (int i = 0; i < 6; ++i) {
      TimePoint t = depart + minutes(30 * (i + 1));
      object e = Base("ObjectEvent", t, kTz);
      e["quantityList"] = array{QuantityElement(paddy_class, 8450, "KGM")};
      e["action"] = "OBSERVE";
      e["bizStep"] = "transporting";
      e["disposition"] = "in_transit";
      e["readPoint"] = IdRef(coop.Giai("TRUCK-12"));
      e["sensorElementList"] = array{SensorElement(
          t, coop.Giai("TRUCK-12-LOG"),
          array{Report("Temperature", 31.0 + 0.3 * i + 0.3 * noise(rng), "CEL"),
                Report("RelativeHumidity", 64.0 + 0.8 * noise(rng), "P1")})};
      readings.push_back(std::move(e));
    }
    plan.steps.push_back({"ubon-jasmine-coop", "truck-12", "truck 12 cargo readings", std::move(readings)});
  }

  // 4. The mill receives the paddy (weighed again), mills it, bags it.
  TimePoint arrive = depart + hours(3) + minutes(40);
  plan.steps.push_back(
      {"mun-river-mill", "intake-dock", "paddy received at the mill",
       array{Movement("receiving", arrive, kTz, "quantityList", array{QuantityElement(paddy_class, 8420, "KGM")},
                      mill_intake, p_coop, farm, p_mill, mill_site, "in_progress")}});
  TimePoint milled = arrive + days(2) + hours(5);
  {
    object e = Base("TransformationEvent", milled, kTz);
    e["inputQuantityList"] = array{QuantityElement(paddy_class, 8420, "KGM")};
    e["outputQuantityList"] = array{QuantityElement(rice_class, 5450, "KGM"),
                                    QuantityElement(mill.Lgtin(kHusk, rice_lot), 1680, "KGM"),
                                    QuantityElement(mill.Lgtin(kBran, rice_lot), 840, "KGM")};
    e["transformationID"] = "urn:uuid:6f1c2a9e-3b4d-4e8f-9a51-2c7d8e0b4f11";
    e["bizStep"] = "commissioning";
    e["disposition"] = "active";
    e["readPoint"] = IdRef(mill_line);
    e["bizLocation"] = IdRef(mill_site);
    e["ilmd"] = object{{"cbvmda:countryOfOrigin", "TH"},
                       {"cbvmda:bestBeforeDate", T(milled + days(365)).substr(0, 10)},
                       {"trace:variety", "Khao Dawk Mali 105 (Hom Mali)"},
                       {"trace:grade", "Thai Hom Mali Rice 100% Grade A"},
                       {"trace:millingYieldPercent", 64.7}};
    plan.steps.push_back({"mun-river-mill", "mill-line-1", "milling: paddy lot -> rice lot", array{e}});
  }
  // 1,090 bags of 5 kg; two pallets of 40 bags are recorded bag by bag here.
  std::vector<std::string> pallets = {mill.Sscc(3, 2611001), mill.Sscc(3, 2611002)};
  std::vector<array> pallet_bags(2);
  {
    array events;
    for (int p = 0; p < 2; ++p) {
      for (int b = 1; b <= 40; ++b) {
        pallet_bags[p].push_back(boost::json::value(mill.Sgtin(kBag5, std::to_string(100000 + p * 40 + b))));
      }
      // The bags are filled from the rice lot: commissioning them with the lot number in ilmd
      // is what ties a bag's serial (the consumer's QR code) to the lot and its history.
      object fill = Base("ObjectEvent", milled + hours(4) + minutes(25 * p) - minutes(5), kTz);
      fill["epcList"] = pallet_bags[p];
      fill["action"] = "ADD";
      fill["bizStep"] = "commissioning";
      fill["disposition"] = "active";
      fill["readPoint"] = IdRef(mill_pack);
      fill["bizLocation"] = IdRef(mill_site);
      fill["ilmd"] = object{{"cbvmda:lotNumber", rice_lot},
                            {"cbvmda:bestBeforeDate", T(milled + days(365)).substr(0, 10)}};
      events.push_back(std::move(fill));
      object e = Base("AggregationEvent", milled + hours(4) + minutes(25 * p), kTz);
      e["parentID"] = pallets[p];
      e["childEPCs"] = pallet_bags[p];
      e["action"] = "ADD";
      e["bizStep"] = "packing";
      e["disposition"] = "in_progress";
      e["readPoint"] = IdRef(mill_pack);
      e["bizLocation"] = IdRef(mill_site);
      events.push_back(std::move(e));
    }
    plan.steps.push_back({"mun-river-mill", "packing-line-1", "5 kg bags filled from the rice lot and packed onto two pallets", events});
  }
  TimePoint shipped = milled + days(1) + hours(2);
  plan.steps.push_back({"mun-river-mill", "dispatch-dock", "pallets shipped to the distributor",
                        array{Movement("shipping", shipped, kTz, "epcList", array{pallets[0], pallets[1]}, mill_dock,
                                       p_mill, mill_site, p_dist, dc, "in_transit")}});

  // 5. Distributor: receiving, dry-store climate, unpacking, shipping to two shops.
  TimePoint at_dc = shipped + hours(9) + minutes(15);
  plan.steps.push_back({"siam-fresh-dist", "dc-dock", "pallets received at the Bangkok DC",
                        array{Movement("receiving", at_dc, kTz, "epcList", array{pallets[0], pallets[1]}, dc_dock,
                                       p_mill, mill_site, p_dist, dc, "sellable_not_accessible")}});
  {
    array readings;
    for (int i = 0; i < 12; ++i) {
      TimePoint t = at_dc + hours(2 * (i + 1));
      object e = Base("ObjectEvent", t, kTz);
      e["action"] = "OBSERVE";
      e["bizStep"] = "sensor_reporting";
      e["readPoint"] = IdRef(dc_dry);
      e["sensorElementList"] = array{SensorElement(
          t, dist.Giai("DRY-CLIMATE-3"), array{Report("Temperature", 26.0 + 0.5 * noise(rng), "CEL"),
                                               Report("RelativeHumidity", 58.0 + 1.5 * noise(rng), "P1")})};
      readings.push_back(std::move(e));
    }
    plan.steps.push_back({"siam-fresh-dist", "dc-climate", "DC dry store readings", std::move(readings)});
  }
  TimePoint to_shops = at_dc + days(1) + hours(1);
  {
    object unpack = Base("AggregationEvent", to_shops - minutes(40), kTz);
    unpack["parentID"] = pallets[1];
    unpack["childEPCs"] = pallet_bags[1];
    unpack["action"] = "DELETE";
    unpack["bizStep"] = "unpacking";
    unpack["disposition"] = "sellable_not_accessible";
    unpack["readPoint"] = IdRef(dc_dock);
    unpack["bizLocation"] = IdRef(dc);
    array first(pallet_bags[1].begin(), pallet_bags[1].begin() + 20);
    array second(pallet_bags[1].begin() + 20, pallet_bags[1].end());
    plan.steps.push_back(
        {"siam-fresh-dist", "dc-dock", "pallet 2 unpacked; 20 bags each to stores 14 and 22",
         array{unpack,
               Movement("shipping", to_shops, kTz, "epcList", first, dc_dock, p_dist, dc, p_shops, store14,
                        "in_transit"),
               Movement("shipping", to_shops + minutes(10), kTz, "epcList", second, dc_dock, p_dist, dc, p_shops,
                        store22, "in_transit")}});
    plan.steps.push_back({"baan-market", "store-014-dock", "store 14 receives 20 bags",
                          array{Movement("receiving", to_shops + hours(2), kTz, "epcList", first, store14, p_dist, dc,
                                         p_shops, store14, "sellable_accessible")}});
    plan.steps.push_back({"baan-market", "store-022-dock", "store 22 receives 20 bags",
                          array{Movement("receiving", to_shops + hours(3) + minutes(5), kTz, "epcList", second,
                                         store22, p_dist, dc, p_shops, store22, "sellable_accessible")}});
  }
  return plan;
}

// ---------------------------------------------------------------------------
// medicine: chlorambucil 2 mg film-coated tablets (stored at 2-8 °C), Europe (UTC+1).

Plan MedicineScenario(TimePoint end) {
  std::mt19937 rng(20261124);
  std::normal_distribution<double> noise(0.0, 1.0);
  TimePoint base = std::chrono::floor<hours>(end) - days(30);

  const Company api{"8901234"};     // API maker, Hyderabad
  const Company excip{"4012345"};   // excipient maker, Rhineland
  const Company pharma{"4098765"};  // formulation and packaging plant
  const Company carrier{"4023456"}; // refrigerated carrier
  const Company pharmacy{"4034567"};

  Plan plan;
  plan.name = "medicine";
  plan.orgs = {{"deccan-api-labs", "Deccan API Laboratories Pvt. Ltd."},
               {"rhein-excipients", "Rhein Excipients GmbH"},
               {"alpen-pharma", "Alpen Pharma Werke AG"},
               {"kuehl-logistik", "Kühl-Logistik Süd GmbH"},
               {"stadt-apotheke", "Stadt-Apotheke am Markt"}};
  plan.devices = {{"deccan-api-labs", "qa-release", "QA batch release terminal"},
                  {"deccan-api-labs", "dispatch", "dispatch scanner"},
                  {"rhein-excipients", "qa-release", "QA batch release terminal"},
                  {"rhein-excipients", "dispatch", "dispatch scanner"},
                  {"alpen-pharma", "goods-in", "goods-in and quarantine scanner"},
                  {"alpen-pharma", "granulation-2", "granulation and compression suite 2 MES"},
                  {"alpen-pharma", "packaging-3", "serialisation and case packer, line 3"},
                  {"alpen-pharma", "dispatch", "cold-room dispatch scanner"},
                  {"kuehl-logistik", "reefer-07", "reefer trailer 07 temperature logger"},
                  {"stadt-apotheke", "goods-in", "pharmacy goods-in scanner"}};

  const std::string kApi = "00005", kMcc = "10102", kLactose = "10205", kBox = "00233";
  const std::string api_lot = "CHL-26-0417", mcc_lot = "MCC102-6611", lac_lot = "LMH-6652";
  const std::string tab_lot = "LK2-26K014";
  const std::string api_site = api.Sgln("00007"), excip_site = excip.Sgln("00003");
  const std::string plant = pharma.Sgln("00001"), goods_in = pharma.Sgln("00001", "GI"),
                    suite2 = pharma.Sgln("00001", "GRAN2"), line3 = pharma.Sgln("00001", "PACK3"),
                    cold_dock = pharma.Sgln("00001", "COLD");
  const std::string shop = pharmacy.Sgln("00001");
  const std::string p_api = api.Pgln("00000"), p_excip = excip.Pgln("00000"), p_pharma = pharma.Pgln("00000"),
                    p_carrier = carrier.Pgln("00000"), p_pharmacy = pharmacy.Pgln("00000");
  const std::string api_class = api.Lgtin(kApi, api_lot), mcc_class = excip.Lgtin(kMcc, mcc_lot),
                    lac_class = excip.Lgtin(kLactose, lac_lot), box_class = pharma.Lgtin(kBox, tab_lot);

  auto release = [&](TimePoint t, std::string_view tz, const std::string& cls, double kg, const std::string& site,
                     object ilmd) {
    object e = Base("ObjectEvent", t, tz);
    e["quantityList"] = array{QuantityElement(cls, kg, "KGM")};
    e["action"] = "ADD";
    e["bizStep"] = "commissioning";
    e["disposition"] = "active";
    e["readPoint"] = IdRef(site);
    e["bizLocation"] = IdRef(site);
    e["ilmd"] = std::move(ilmd);
    return e;
  };

  // 1. Ingredient lots from two suppliers.
  TimePoint api_made = base + hours(9);
  plan.steps.push_back(
      {"deccan-api-labs", "qa-release", "chlorambucil API lot released",
       array{release(api_made, "+05:30", api_class, 2.5, api_site,
                     object{{"cbvmda:countryOfOrigin", "IN"},
                            {"cbvmda:itemExpirationDate", T(api_made + days(3 * 365)).substr(0, 10)},
                            {"trace:ingredient", "chlorambucil"},
                            {"trace:casNumber", "305-03-3"},
                            {"trace:grade", "Ph. Eur. 11 / USP-NF"},
                            {"trace:assayPercent", 99.6},
                            {"trace:manufacturingSite", "Genome Valley, Hyderabad, Telangana, IN"}})}});
  TimePoint excip_made = base + days(1) + hours(7);
  plan.steps.push_back(
      {"rhein-excipients", "qa-release", "MCC and lactose lots released",
       array{release(excip_made, "+01:00", mcc_class, 400, excip_site,
                     object{{"cbvmda:countryOfOrigin", "DE"},
                            {"cbvmda:itemExpirationDate", T(excip_made + days(5 * 365)).substr(0, 10)},
                            {"trace:ingredient", "microcrystalline cellulose"},
                            {"trace:grade", "Ph. Eur. / USP-NF, type 102"},
                            {"trace:manufacturingSite", "Ludwigshafen, DE"}}),
             release(excip_made + minutes(45), "+01:00", lac_class, 600, excip_site,
                     object{{"cbvmda:countryOfOrigin", "NL"},
                            {"cbvmda:itemExpirationDate", T(excip_made + days(3 * 365)).substr(0, 10)},
                            {"trace:ingredient", "lactose monohydrate"},
                            {"trace:grade", "Ph. Eur. / USP-NF, spray-dried"},
                            {"trace:manufacturingSite", "Veghel, NL (repacked Ludwigshafen, DE)"}})}});
  TimePoint api_ship = api_made + days(2);
  plan.steps.push_back({"deccan-api-labs", "dispatch", "API shipped to the plant",
                        array{Movement("shipping", api_ship, "+05:30", "quantityList",
                                       array{QuantityElement(api_class, 2.5, "KGM")}, api_site, p_api, api_site, p_pharma,
                                       plant, "in_transit")}});
  TimePoint excip_ship = excip_made + days(1);
  plan.steps.push_back(
      {"rhein-excipients", "dispatch", "excipients shipped to the plant",
       array{Movement("shipping", excip_ship, "+01:00", "quantityList",
                      array{QuantityElement(mcc_class, 400, "KGM"), QuantityElement(lac_class, 600, "KGM")}, excip_site, p_excip,
                      excip_site, p_pharma, plant, "in_transit")}});
  TimePoint received = api_ship + days(5);
  plan.steps.push_back(
      {"alpen-pharma", "goods-in", "ingredient lots received into quarantine",
       array{Movement("receiving", excip_ship + days(1), "+01:00", "quantityList",
                      array{QuantityElement(mcc_class, 400, "KGM"), QuantityElement(lac_class, 600, "KGM")}, goods_in, p_excip,
                      excip_site, p_pharma, plant, "non_sellable_other"),
             Movement("receiving", received, "+01:00", "quantityList", array{QuantityElement(api_class, 2.5, "KGM")},
                      goods_in, p_api, api_site, p_pharma, plant, "non_sellable_other")}});

  // 2. Formulation: 200,000 tablets of 100 mg (2 mg API), 8,000 boxes of 25.
  TimePoint made = received + days(6) + hours(14);
  TimePoint started = made - hours(11);
  {
    object e = Base("TransformationEvent", made, "+01:00");
    e["inputQuantityList"] = array{QuantityElement(api_class, 0.4, "KGM"), QuantityElement(mcc_class, 12.1, "KGM"),
                                   QuantityElement(lac_class, 7.5, "KGM")};
    e["outputQuantityList"] = array{QuantityElement(box_class, 8000)};
    e["transformationID"] = "urn:uuid:0b7e3f52-8c1d-4a66-b2f4-7d9e1a3c5e20";
    e["bizStep"] = "commissioning";
    e["disposition"] = "active";
    e["readPoint"] = IdRef(suite2);
    e["bizLocation"] = IdRef(plant);
    e["ilmd"] = object{{"cbvmda:itemExpirationDate", T(made + days(2 * 365)).substr(0, 10)},
                       {"cbvmda:countryOfOrigin", "DE"},
                       {"trace:productionStart", T(started)},
                       {"trace:productionEnd", T(made)},
                       {"trace:productionSite", plant},
                       {"trace:dosageForm", "film-coated tablet, 2 mg chlorambucil"},
                       {"trace:storage", "2-8 °C, do not freeze"},
                       {"trace:batchSizeTablets", 200000}};
    plan.steps.push_back({"alpen-pharma", "granulation-2", "formulation: ingredient lots -> tablet lot", array{e}});
  }
  // 3. Serialised boxes (EU FMD): 48 recorded here, commissioned then packed into one case.
  std::string kase = pharma.Sscc(1, 4600731);
  array boxes;
  for (int i = 1; i <= 48; ++i) boxes.push_back(boost::json::value(pharma.Sgtin(kBox, "K" + std::to_string(7310000 + i))));
  {
    TimePoint t = made + days(1) + hours(3);
    object commission = Base("ObjectEvent", t, "+01:00");
    commission["epcList"] = boxes;
    commission["action"] = "ADD";
    commission["bizStep"] = "commissioning";
    commission["disposition"] = "active";
    commission["readPoint"] = IdRef(line3);
    commission["bizLocation"] = IdRef(plant);
    commission["ilmd"] = object{{"cbvmda:lotNumber", tab_lot},
                                {"cbvmda:itemExpirationDate", T(made + days(2 * 365)).substr(0, 10)}};
    object pack = Base("AggregationEvent", t + minutes(6), "+01:00");
    pack["parentID"] = kase;
    pack["childEPCs"] = boxes;
    pack["action"] = "ADD";
    pack["bizStep"] = "packing";
    pack["disposition"] = "in_progress";
    pack["readPoint"] = IdRef(line3);
    pack["bizLocation"] = IdRef(plant);
    plan.steps.push_back({"alpen-pharma", "packaging-3", "48 serialised boxes commissioned and packed into a case",
                          array{commission, pack}});
  }
  // 4. Cold chain to the pharmacy, with one excursion above 8 °C.
  TimePoint shipped = made + days(3) + hours(6);
  {
    object e = Movement("shipping", shipped, "+01:00", "epcList", array{kase}, cold_dock, p_pharma, plant,
                        p_pharmacy, shop, "in_transit");
    e["destinationList"].as_array().push_back(object{{"type", "possessing_party"}, {"destination", p_carrier}});
    plan.steps.push_back({"alpen-pharma", "dispatch", "case shipped by refrigerated carrier", array{e}});
  }
  for (int block = 0; block < 2; ++block) {
    array readings;
    for (int i = 0; i < 12; ++i) {
      int n = block * 12 + i;
      TimePoint t = shipped + minutes(15 * (n + 1));
      double temp = 5.0 + 0.4 * noise(rng);
      bool excursion = (n == 13 || n == 14);  // door left open at a cross-dock
      if (excursion) temp = n == 13 ? 9.4 : 8.6;
      object report = Report("Temperature", temp, "CEL");
      if (excursion) report["exception"] = "ALARM_CONDITION";
      object e = Base("ObjectEvent", t, "+01:00");
      e["epcList"] = array{kase};
      e["action"] = "OBSERVE";
      e["bizStep"] = "transporting";
      e["disposition"] = "in_transit";
      e["readPoint"] = IdRef(carrier.Giai("REEFER-07"));
      object element = SensorElement(t, carrier.Giai("REEFER-07-LOG"), array{report});
      element["sensorMetadata"].as_object()["bizRules"] = "https://kuehl-logistik.example/sop/gdp-2-8c";
      e["sensorElementList"] = array{element};
      readings.push_back(std::move(e));
    }
    plan.steps.push_back({"kuehl-logistik", "reefer-07",
                          block == 0 ? "reefer readings (first 3 h)" : "reefer readings (next 3 h, excursion 9.4 °C)",
                          std::move(readings)});
  }
  // 5. Pharmacy: case received, unpacked, boxes on the refrigerated shelf.
  TimePoint at_pharmacy = shipped + hours(6) + minutes(20);
  {
    object receive = Movement("receiving", at_pharmacy, "+01:00", "epcList", array{kase}, shop, p_pharma, plant,
                              p_pharmacy, shop, "sellable_not_accessible");
    object unpack = Base("AggregationEvent", at_pharmacy + minutes(12), "+01:00");
    unpack["parentID"] = kase;
    unpack["childEPCs"] = boxes;
    unpack["action"] = "DELETE";
    unpack["bizStep"] = "unpacking";
    unpack["disposition"] = "sellable_accessible";
    unpack["readPoint"] = IdRef(shop);
    unpack["bizLocation"] = IdRef(shop);
    plan.steps.push_back({"stadt-apotheke", "goods-in", "pharmacy receives and unpacks the case",
                          array{receive, unpack}});
  }
  return plan;
}

}  // namespace trace::devicesim
