#include "manual_events.h"

#include <cctype>
#include <cmath>
#include <cstdio>
#include <set>

#include <boost/json.hpp>

#include "trace/common/epc.h"
#include "trace/common/epcis.h"
#include "trace/common/epcis_build.h"
#include "trace/common/gs1.h"
#include "trace/common/time.h"

namespace trace::api {
namespace {

namespace json = boost::json;

std::string Field(std::string_view list, size_t i, std::string_view member) {
  return std::string(list) + "[" + std::to_string(i) + "]." + std::string(member);
}

struct When {
  std::string time;    // eventTime
  std::string offset;  // eventTimeZoneOffset
};

Result<When> ResolveWhen(const EventWhen& w) {
  When out;
  int offset_minutes = 0;
  if (w.event_time.empty()) {
    out.time = FormatRfc3339Millis(std::chrono::system_clock::now());
  } else {
    auto parsed = ParseRfc3339(w.event_time);
    if (!parsed) return Fail(parsed.error().WithContext("event_time"));
    out.time = w.event_time;
    offset_minutes = parsed->offset_minutes;
  }
  if (!w.time_zone_offset.empty()) {
    const std::string& o = w.time_zone_offset;
    bool ok = o.size() == 6 && (o[0] == '+' || o[0] == '-') && std::isdigit(static_cast<unsigned char>(o[1])) &&
              std::isdigit(static_cast<unsigned char>(o[2])) && o[3] == ':' &&
              std::isdigit(static_cast<unsigned char>(o[4])) && std::isdigit(static_cast<unsigned char>(o[5])) &&
              (o[1] - '0') * 10 + (o[2] - '0') <= 14 && (o[4] - '0') * 10 + (o[5] - '0') <= 59;
    if (!ok) return Fail(InvalidArgument("time_zone_offset: \"" + o + "\" is not an offset like +07:00"));
    out.offset = o;
  } else {
    int m = std::abs(offset_minutes);
    char buf[8];
    std::snprintf(buf, sizeof buf, "%c%02d:%02d", offset_minutes < 0 ? '-' : '+', m / 60, m % 60);
    out.offset = buf;
  }
  return out;
}

Status CheckPrefixLength(int n) {
  if (n < 6 || n > 12) {
    return InvalidArgument("company_prefix_length: " + std::to_string(n) + ", want 6 to 12 digits");
  }
  return OkStatus();
}

Result<std::string> Sgln(std::string_view field, const std::string& gln, int prefix_length) {
  if (gln.empty()) return Fail(InvalidArgument(std::string(field) + ": required, a 13-digit GLN"));
  auto urn = gs1::SglnUrn({gln, std::nullopt}, prefix_length);
  if (!urn) return Fail(urn.error().WithContext(field));
  return urn;
}

Result<std::string> Pgln(std::string_view field, const std::string& gln, int prefix_length) {
  if (gln.empty()) return Fail(InvalidArgument(std::string(field) + ": required, a 13-digit GLN"));
  auto urn = gs1::PglnUrn(gln, prefix_length);
  if (!urn) return Fail(urn.error().WithContext(field));
  return urn;
}

Result<std::string> Gtin14(std::string_view field, const std::string& gtin) {
  if (gtin.empty()) return Fail(InvalidArgument(std::string(field) + ": required, a GTIN"));
  auto g = gs1::NormalizeGtin(gtin);
  if (!g) return Fail(g.error().WithContext(field));
  return g;
}

// `s` about the value of `field`, without the validator's own "lot: " or
// "serial: " in front ("inputs[1].lot: character 0x20 at position 4 ...").
Status InField(const std::string& field, const Status& s, std::string_view own) {
  std::string m = s.message();
  if (m.starts_with(own)) m = m.substr(own.size());
  return Status(s.code(), field + ": " + m);
}

Result<std::string> Lgtin(std::string_view prefix, const std::string& gtin, const std::string& lot, int cpl) {
  auto g = Gtin14(std::string(prefix) + "gtin", gtin);
  if (!g) return Fail(g.error());
  if (Status s = gs1::ValidateLot(lot); !s.ok()) return Fail(InField(std::string(prefix) + "lot", s, "lot: "));
  auto urn = gs1::LgtinUrn({*g, lot, std::nullopt}, cpl);
  if (!urn) return Fail(urn.error().WithContext(std::string(prefix) + "gtin"));
  return urn;
}

Result<std::string> Sgtin(std::string_view prefix, const SerialItem& item, int cpl) {
  auto g = Gtin14(std::string(prefix) + "gtin", item.gtin);
  if (!g) return Fail(g.error());
  if (Status s = gs1::ValidateSerial(item.serial); !s.ok()) {
    return Fail(InField(std::string(prefix) + "serial", s, "serial: "));
  }
  auto urn = gs1::SgtinUrn({*g, std::nullopt, item.serial}, cpl);
  if (!urn) return Fail(urn.error().WithContext(std::string(prefix) + "gtin"));
  return urn;
}

Status CheckQuantity(std::string_view field, double q) {
  if (!std::isfinite(q) || q <= 0) return InvalidArgument(std::string(field) + ": required, a positive number");
  return OkStatus();
}

Status CheckUom(std::string_view field, const std::string& uom) {
  if (uom.empty()) return OkStatus();
  bool ok = uom.size() >= 2 && uom.size() <= 3;
  for (char c : uom) ok = ok && ((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'));
  if (!ok) {
    return InvalidArgument(std::string(field) + ": \"" + uom +
                           "\" is not a UN/ECE recommendation 20 code (2 or 3 of A-Z, 0-9, such as KGM)");
  }
  return OkStatus();
}

// A quantity element for lots[i] of a list named `list`.
Result<json::object> LotElement(std::string_view list, size_t i, const LotQuantity& lq, int cpl) {
  std::string prefix = std::string(list) + "[" + std::to_string(i) + "].";
  auto cls = Lgtin(prefix, lq.gtin, lq.lot, cpl);
  if (!cls) return Fail(cls.error());
  if (Status s = CheckQuantity(Field(list, i, "quantity"), lq.quantity); !s.ok()) return Fail(s);
  if (Status s = CheckUom(Field(list, i, "uom"), lq.uom); !s.ok()) return Fail(s);
  return epcis::QuantityElement(*cls, lq.quantity, lq.uom);
}

Result<json::array> LotElements(std::string_view list, const std::vector<LotQuantity>& lots, int cpl) {
  json::array out;
  for (size_t i = 0; i < lots.size(); ++i) {
    auto q = LotElement(list, i, lots[i], cpl);
    if (!q) return Fail(q.error());
    out.push_back(std::move(*q));
  }
  return out;
}

Result<json::array> SerialUrns(std::string_view list, const std::vector<SerialItem>& items, int cpl) {
  json::array out;
  for (size_t i = 0; i < items.size(); ++i) {
    auto urn = Sgtin(std::string(list) + "[" + std::to_string(i) + "].", items[i], cpl);
    if (!urn) return Fail(urn.error());
    out.push_back(json::value(*urn));
  }
  return out;
}

// The finished event must be what the gateway accepts.
Result<json::object> Checked(json::object event) {
  if (Status s = epcis::ValidateEvent(event); !s.ok()) {
    return Fail(Internal("built an event the EPCIS checks refuse: " + s.message()));
  }
  return event;
}

Result<json::object> Movement(const MovementForm& f, std::string_view step) {
  const int cpl = f.when.company_prefix_length;
  if (Status s = CheckPrefixLength(cpl); !s.ok()) return Fail(s);
  auto when = ResolveWhen(f.when);
  if (!when) return Fail(when.error());
  auto site = Sgln("site_gln", f.site_gln, cpl);
  if (!site) return Fail(site.error());
  auto from = Sgln("from_gln", f.from_gln, cpl);
  if (!from) return Fail(from.error());
  auto from_party = Pgln(f.from_party_gln.empty() ? "from_gln" : "from_party_gln",
                         f.from_party_gln.empty() ? f.from_gln : f.from_party_gln, cpl);
  if (!from_party) return Fail(from_party.error());
  auto to = Sgln("to_gln", f.to_gln, cpl);
  if (!to) return Fail(to.error());
  auto to_party =
      Pgln(f.to_party_gln.empty() ? "to_gln" : "to_party_gln", f.to_party_gln.empty() ? f.to_gln : f.to_party_gln, cpl);
  if (!to_party) return Fail(to_party.error());
  if (f.lots.empty() && f.ssccs.empty() && f.serials.empty()) {
    return Fail(InvalidArgument("lots: what moves is required: at least one lot, SSCC or serial"));
  }
  json::array epcs;
  for (size_t i = 0; i < f.ssccs.size(); ++i) {
    auto urn = gs1::SsccUrn(f.ssccs[i], cpl);
    if (!urn) return Fail(urn.error().WithContext("ssccs[" + std::to_string(i) + "]"));
    epcs.push_back(json::value(*urn));
  }
  auto serials = SerialUrns("serials", f.serials, cpl);
  if (!serials) return Fail(serials.error());
  for (auto& v : *serials) epcs.push_back(std::move(v));
  auto lots = LotElements("lots", f.lots, cpl);
  if (!lots) return Fail(lots.error());

  json::object e = epcis::EventBase("ObjectEvent", when->time, when->offset);
  if (!epcs.empty()) e["epcList"] = std::move(epcs);
  e["action"] = "OBSERVE";
  e["bizStep"] = step;
  e["disposition"] = step == "shipping" ? "in_transit" : "in_progress";
  e["readPoint"] = epcis::IdRef(*site);
  if (step == "receiving") e["bizLocation"] = epcis::IdRef(*site);
  if (!lots->empty()) e["quantityList"] = std::move(*lots);
  e["sourceList"] = epcis::PartyList(*from_party, *from, "source");
  e["destinationList"] = epcis::PartyList(*to_party, *to, "destination");
  return Checked(std::move(e));
}

bool IsDate(const std::string& d) {
  if (d.size() != 10 || d[4] != '-' || d[7] != '-') return false;
  auto parsed = ParseRfc3339(d + "T00:00:00Z");
  return parsed.has_value();
}

}  // namespace

Result<json::object> BuildHarvestEvent(const HarvestForm& f) {
  const int cpl = f.when.company_prefix_length;
  if (Status s = CheckPrefixLength(cpl); !s.ok()) return Fail(s);
  auto when = ResolveWhen(f.when);
  if (!when) return Fail(when.error());
  auto cls = Lgtin("", f.gtin, f.lot, cpl);
  if (!cls) return Fail(cls.error());
  if (Status s = CheckQuantity("quantity", f.quantity); !s.ok()) return Fail(s);
  if (Status s = CheckUom("uom", f.uom); !s.ok()) return Fail(s);
  auto site = Sgln("site_gln", f.site_gln, cpl);
  if (!site) return Fail(site.error());
  if (f.latitude.has_value() != f.longitude.has_value()) {
    return Fail(InvalidArgument(std::string(f.latitude ? "longitude" : "latitude") + ": required with " +
                                (f.latitude ? "latitude" : "longitude")));
  }
  if (f.latitude && !(std::isfinite(*f.latitude) && *f.latitude >= -90 && *f.latitude <= 90)) {
    return Fail(InvalidArgument("latitude: want -90 to 90 degrees"));
  }
  if (f.longitude && !(std::isfinite(*f.longitude) && *f.longitude >= -180 && *f.longitude <= 180)) {
    return Fail(InvalidArgument("longitude: want -180 to 180 degrees"));
  }
  std::string date = f.harvest_date.empty() ? when->time.substr(0, 10) : f.harvest_date;
  if (!IsDate(date)) return Fail(InvalidArgument("harvest_date: \"" + date + "\" is not a date YYYY-MM-DD"));
  if (!f.country.empty() && !(f.country.size() == 2 && std::isupper(static_cast<unsigned char>(f.country[0])) &&
                              std::isupper(static_cast<unsigned char>(f.country[1])))) {
    return Fail(InvalidArgument("country: \"" + f.country + "\" is not an ISO 3166-1 alpha-2 code such as TH"));
  }
  if (f.variety.size() > 200) return Fail(InvalidArgument("variety: at most 200 characters"));

  json::object ilmd{
      {"cbvmda:harvestEndDate", date},
      {"cbvmda:farmList", json::array{json::object{{"cbvmda:farmID", f.site_gln}, {"cbvmda:farmIDType", "GLN"}}}}};
  if (!f.country.empty()) ilmd["cbvmda:countryOfOrigin"] = f.country;
  if (!f.variety.empty()) ilmd["trace:variety"] = f.variety;
  if (f.latitude) {
    char geo[96];
    std::snprintf(geo, sizeof geo, "geo:%.6f,%.6f", *f.latitude, *f.longitude);
    ilmd["trace:fieldGeo"] = geo;
  }
  json::object e = epcis::EventBase("ObjectEvent", when->time, when->offset);
  e["quantityList"] = json::array{epcis::QuantityElement(*cls, f.quantity, f.uom)};
  e["action"] = "ADD";
  e["bizStep"] = "commissioning";
  e["disposition"] = "active";
  e["readPoint"] = epcis::IdRef(*site);
  e["bizLocation"] = epcis::IdRef(*site);
  e["ilmd"] = std::move(ilmd);
  return Checked(std::move(e));
}

Result<json::object> BuildProcessingEvent(const ProcessingForm& f) {
  const int cpl = f.when.company_prefix_length;
  if (Status s = CheckPrefixLength(cpl); !s.ok()) return Fail(s);
  auto when = ResolveWhen(f.when);
  if (!when) return Fail(when.error());
  auto site = Sgln("site_gln", f.site_gln, cpl);
  if (!site) return Fail(site.error());
  if (f.inputs.empty()) return Fail(InvalidArgument("inputs: at least one input lot is required"));
  if (f.outputs.empty()) return Fail(InvalidArgument("outputs: at least one output lot is required"));
  auto inputs = LotElements("inputs", f.inputs, cpl);
  if (!inputs) return Fail(inputs.error());
  auto outputs = LotElements("outputs", f.outputs, cpl);
  if (!outputs) return Fail(outputs.error());
  json::object e = epcis::EventBase("TransformationEvent", when->time, when->offset);
  e["inputQuantityList"] = std::move(*inputs);
  e["outputQuantityList"] = std::move(*outputs);
  e["bizStep"] = "commissioning";
  e["disposition"] = "active";
  e["readPoint"] = epcis::IdRef(*site);
  e["bizLocation"] = epcis::IdRef(*site);
  return Checked(std::move(e));
}

Result<json::object> BuildPackingEvent(const PackingForm& f) {
  const int cpl = f.when.company_prefix_length;
  if (Status s = CheckPrefixLength(cpl); !s.ok()) return Fail(s);
  auto when = ResolveWhen(f.when);
  if (!when) return Fail(when.error());
  auto site = Sgln("site_gln", f.site_gln, cpl);
  if (!site) return Fail(site.error());
  if (f.parent_sscc.empty() == !f.parent_item.has_value()) {
    return Fail(InvalidArgument("parent_sscc: give exactly one parent, an SSCC or a serialised item"));
  }
  std::string parent;
  if (!f.parent_sscc.empty()) {
    auto urn = gs1::SsccUrn(f.parent_sscc, cpl);
    if (!urn) return Fail(urn.error().WithContext("parent_sscc"));
    parent = *urn;
  } else {
    auto urn = Sgtin("parent_item.", *f.parent_item, cpl);
    if (!urn) return Fail(urn.error());
    parent = *urn;
  }
  if (f.child_lots.empty() && f.child_serials.empty()) {
    return Fail(InvalidArgument("child_lots: at least one child lot or serial is required"));
  }
  auto serials = SerialUrns("child_serials", f.child_serials, cpl);
  if (!serials) return Fail(serials.error());
  auto lots = LotElements("child_lots", f.child_lots, cpl);
  if (!lots) return Fail(lots.error());
  json::object e = epcis::EventBase("AggregationEvent", when->time, when->offset);
  e["parentID"] = parent;
  if (!serials->empty()) e["childEPCs"] = std::move(*serials);
  e["action"] = "ADD";
  e["bizStep"] = "packing";
  e["disposition"] = "in_progress";
  e["readPoint"] = epcis::IdRef(*site);
  e["bizLocation"] = epcis::IdRef(*site);
  if (!lots->empty()) e["childQuantityList"] = std::move(*lots);
  return Checked(std::move(e));
}

Result<json::object> BuildShippingEvent(const MovementForm& form) { return Movement(form, "shipping"); }
Result<json::object> BuildReceivingEvent(const MovementForm& form) { return Movement(form, "receiving"); }

namespace {

// Reads form fields out of a JSON object, remembering the first error.
class Reader {
 public:
  Reader(const json::object& o, std::string prefix) : o_(o), prefix_(std::move(prefix)) {}

  std::string Str(std::string_view name) {
    seen_.insert(std::string(name));
    const json::value* v = o_.if_contains(name);
    if (v == nullptr || v->is_null()) return {};
    if (v->is_string()) return std::string(v->get_string());
    if (v->is_int64() || v->is_uint64()) return std::to_string(v->to_number<int64_t>());
    Error(name, "not a string");
    return {};
  }
  std::optional<double> Num(std::string_view name) {
    seen_.insert(std::string(name));
    const json::value* v = o_.if_contains(name);
    if (v == nullptr || v->is_null()) return std::nullopt;
    if (v->is_number()) return v->to_number<double>();
    if (v->is_string()) {
      std::string s(v->get_string());
      if (s.empty()) return std::nullopt;
      char* end = nullptr;
      double d = std::strtod(s.c_str(), &end);
      if (end != s.c_str() + s.size() || !std::isfinite(d)) {
        Error(name, "\"" + s + "\" is not a number");
        return std::nullopt;
      }
      return d;
    }
    Error(name, "not a number");
    return std::nullopt;
  }
  const json::array* List(std::string_view name) {
    seen_.insert(std::string(name));
    const json::value* v = o_.if_contains(name);
    if (v == nullptr || v->is_null()) return nullptr;
    if (!v->is_array()) {
      Error(name, "not a list");
      return nullptr;
    }
    return &v->get_array();
  }
  const json::object* Obj(std::string_view name) {
    seen_.insert(std::string(name));
    const json::value* v = o_.if_contains(name);
    if (v == nullptr || v->is_null()) return nullptr;
    if (!v->is_object()) {
      Error(name, "not an object");
      return nullptr;
    }
    return &v->get_object();
  }
  void When(EventWhen& w) {
    w.event_time = Str("event_time");
    w.time_zone_offset = Str("time_zone_offset");
    if (auto n = Num("company_prefix_length")) {
      if (*n != std::floor(*n) || *n < 0 || *n > 100) {
        Error("company_prefix_length", "not a whole number");
      } else {
        w.company_prefix_length = static_cast<int>(*n);
      }
    }
  }
  std::vector<LotQuantity> Lots(std::string_view name) {
    std::vector<LotQuantity> out;
    const json::array* list = List(name);
    if (list == nullptr) return out;
    for (size_t i = 0; i < list->size(); ++i) {
      std::string p = Field(name, i, "");
      p.pop_back();  // "lots[0]"
      if (!(*list)[i].is_object()) {
        Fail(prefix_ + p + ": not an object");
        continue;
      }
      Reader r((*list)[i].get_object(), prefix_ + p + ".");
      LotQuantity lq{r.Str("gtin"), r.Str("lot"), r.Num("quantity").value_or(0), r.Str("uom")};
      Merge(r);
      out.push_back(std::move(lq));
    }
    return out;
  }
  std::vector<SerialItem> Serials(std::string_view name) {
    std::vector<SerialItem> out;
    const json::array* list = List(name);
    if (list == nullptr) return out;
    for (size_t i = 0; i < list->size(); ++i) {
      std::string p = std::string(name) + "[" + std::to_string(i) + "]";
      if (!(*list)[i].is_object()) {
        Fail(prefix_ + p + ": not an object");
        continue;
      }
      Reader r((*list)[i].get_object(), prefix_ + p + ".");
      SerialItem item{r.Str("gtin"), r.Str("serial")};
      Merge(r);
      out.push_back(std::move(item));
    }
    return out;
  }
  std::vector<std::string> Strings(std::string_view name) {
    std::vector<std::string> out;
    const json::array* list = List(name);
    if (list == nullptr) return out;
    for (size_t i = 0; i < list->size(); ++i) {
      if (!(*list)[i].is_string()) {
        Fail(prefix_ + std::string(name) + "[" + std::to_string(i) + "]: not a string");
        continue;
      }
      out.emplace_back((*list)[i].get_string());
    }
    return out;
  }
  // The first error, or one for a member no form has.
  Status Finish() {
    if (!status_.ok()) return status_;
    for (const auto& kv : o_) {
      if (!seen_.contains(std::string(kv.key()))) {
        return InvalidArgument(prefix_ + std::string(kv.key()) + ": not a field of this form");
      }
    }
    return OkStatus();
  }

 private:
  void Error(std::string_view name, const std::string& what) { Fail(prefix_ + std::string(name) + ": " + what); }
  void Fail(std::string message) {
    if (status_.ok()) status_ = InvalidArgument(std::move(message));
  }
  void Merge(Reader& inner) {
    Status s = inner.Finish();
    if (!s.ok() && status_.ok()) status_ = s;
  }

  const json::object& o_;
  std::string prefix_;
  std::set<std::string> seen_;
  Status status_;
};

}  // namespace

Result<json::object> BuildManualEvent(std::string_view kind, const json::object& fields) {
  Reader r(fields, "");
  if (kind == "harvest") {
    HarvestForm f;
    r.When(f.when);
    f.gtin = r.Str("gtin");
    f.lot = r.Str("lot");
    f.quantity = r.Num("quantity").value_or(0);
    if (std::string uom = r.Str("uom"); !uom.empty()) f.uom = uom;
    f.site_gln = r.Str("site_gln");
    f.variety = r.Str("variety");
    f.latitude = r.Num("latitude");
    f.longitude = r.Num("longitude");
    f.harvest_date = r.Str("harvest_date");
    f.country = r.Str("country");
    if (Status s = r.Finish(); !s.ok()) return Fail(s);
    return BuildHarvestEvent(f);
  }
  if (kind == "processing") {
    ProcessingForm f;
    r.When(f.when);
    f.site_gln = r.Str("site_gln");
    f.inputs = r.Lots("inputs");
    f.outputs = r.Lots("outputs");
    if (Status s = r.Finish(); !s.ok()) return Fail(s);
    return BuildProcessingEvent(f);
  }
  if (kind == "packing") {
    PackingForm f;
    r.When(f.when);
    f.site_gln = r.Str("site_gln");
    f.parent_sscc = r.Str("parent_sscc");
    if (const json::object* item = r.Obj("parent_item")) {
      Reader ir(*item, "parent_item.");
      f.parent_item = SerialItem{ir.Str("gtin"), ir.Str("serial")};
      if (Status s = ir.Finish(); !s.ok()) return Fail(s);
    }
    f.child_lots = r.Lots("child_lots");
    f.child_serials = r.Serials("child_serials");
    if (Status s = r.Finish(); !s.ok()) return Fail(s);
    return BuildPackingEvent(f);
  }
  if (kind == "shipping" || kind == "receiving") {
    MovementForm f;
    r.When(f.when);
    f.site_gln = r.Str("site_gln");
    f.from_gln = r.Str("from_gln");
    f.from_party_gln = r.Str("from_party_gln");
    f.to_gln = r.Str("to_gln");
    f.to_party_gln = r.Str("to_party_gln");
    f.lots = r.Lots("lots");
    f.ssccs = r.Strings("ssccs");
    f.serials = r.Serials("serials");
    if (Status s = r.Finish(); !s.ok()) return Fail(s);
    return kind == "shipping" ? BuildShippingEvent(f) : BuildReceivingEvent(f);
  }
  return Fail(InvalidArgument("kind: \"" + std::string(kind) +
                              "\" is not one of harvest, processing, packing, shipping, receiving"));
}

}  // namespace trace::api
