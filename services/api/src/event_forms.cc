#include "event_forms.h"

#include <boost/json.hpp>
#include <optional>
#include <vector>

#include "html_page.h"
#include "manual_events.h"

namespace trace::api {
namespace {

namespace json = boost::json;

std::string H(std::string_view s) { return HtmlEscape(s); }

// "2026-12-06T09:30" (an HTML datetime-local) and "+07:00" -> RFC 3339; "" stays "" (now).
Result<std::string> EventTime(const FieldGetter& get) {
  std::string t = get("event_time");
  std::string tz = get("time_zone_offset");
  if (t.empty()) return std::string();
  if (tz.empty()) tz = "+00:00";
  if (tz.size() != 6 || (tz[0] != '+' && tz[0] != '-') || tz[3] != ':') {
    return Fail(InvalidArgument("time_zone_offset: want +HH:MM or -HH:MM"));
  }
  if (t.size() == 16) t += ":00";
  if (t.size() != 19 || t[10] != 'T') return Fail(InvalidArgument("event_time: want YYYY-MM-DDTHH:MM"));
  return t + tz;
}

// {gtin, lot, quantity, uom} from the fields PREFIXgtin, ...; nullopt when gtin and lot are empty.
std::optional<json::object> LotOf(const FieldGetter& get, const std::string& prefix) {
  if (get(prefix + "gtin").empty() && get(prefix + "lot").empty()) return std::nullopt;
  json::object o{{"gtin", get(prefix + "gtin")}, {"lot", get(prefix + "lot")}};
  if (!get(prefix + "quantity").empty()) o["quantity"] = get(prefix + "quantity");
  if (!get(prefix + "uom").empty()) o["uom"] = get(prefix + "uom");
  return o;
}

// Words of a text area: newline, space or comma separated.
std::vector<std::string> Words(const std::string& text) {
  std::vector<std::string> out;
  std::string cur;
  for (char c : text + "\n") {
    if (c == ',' || c == ' ' || c == '\n' || c == '\r' || c == '\t') {
      if (!cur.empty()) out.push_back(cur);
      cur.clear();
    } else {
      cur += c;
    }
  }
  return out;
}

// Form controls.
std::string Text(std::string_view label, std::string_view name, const FieldGetter& v, std::string_view extra = "") {
  return "<label>" + H(label) + "<input name=\"" + std::string(name) + "\" value=\"" + H(v(std::string(name))) +
         "\" " + std::string(extra) + "></label>";
}

std::string ProductSelect(std::string_view label, const std::string& name, const json::array& products,
                          const FieldGetter& v) {
  std::string out = "<label>" + H(label) + "<select name=\"" + name + "\"><option value=\"\"></option>";
  for (const auto& p : products) {
    const std::string g(p.at("gtin").as_string());
    out += "<option value=\"" + g + "\"" + (v(name) == g || v(name) == g.substr(1) ? " selected" : "") + ">" +
           H(p.at("name").as_string()) + " (" + g + ")</option>";
  }
  return out + "</select></label>";
}

std::string SiteSelect(std::string_view label, const std::string& name, const json::array& sites,
                       const FieldGetter& v) {
  std::string out = "<label>" + H(label) + "<input name=\"" + name + "\" list=\"sites\" inputmode=\"numeric\" value=\"" +
                    H(v(name)) + "\" placeholder=\"GLN\"></label>";
  (void)sites;
  return out;
}

std::string LotFields(std::string_view title, const std::string& prefix, const json::array& products,
                      const FieldGetter& v) {
  return "<fieldset class=\"wide stack\"><legend>" + H(title) + "</legend>" +
         ProductSelect("Product", prefix + "gtin", products, v) +
         Text("Lot", prefix + "lot", v, "maxlength=\"20\"") +
         Text("Quantity", prefix + "quantity", v, "inputmode=\"decimal\"") +
         Text("Unit (KGM, LTR; empty: items)", prefix + "uom", v) + "</fieldset>";
}

}  // namespace

Result<json::object> EventFromFields(std::string_view kind, const FieldGetter& get) {
  auto time = EventTime(get);
  if (!time) return Fail(time.error());
  json::object f;
  auto copy = [&](std::initializer_list<const char*> names) {
    for (const char* n : names) {
      if (!get(n).empty()) f[n] = get(n);
    }
  };
  if (!time->empty()) {
    f["event_time"] = *time;
    f["time_zone_offset"] = get("time_zone_offset");
  }
  copy({"site_gln", "company_prefix_length"});
  if (kind == "harvest") {
    copy({"gtin", "lot", "quantity", "uom", "variety", "latitude", "longitude", "harvest_date", "country"});
  } else if (kind == "processing") {
    json::array inputs, outputs;
    for (int i = 1; i <= 3; ++i) {
      if (auto lot = LotOf(get, "input" + std::to_string(i) + "_")) inputs.push_back(std::move(*lot));
    }
    if (auto lot = LotOf(get, "output_")) outputs.push_back(std::move(*lot));
    f["inputs"] = std::move(inputs);
    f["outputs"] = std::move(outputs);
  } else if (kind == "packing") {
    copy({"parent_sscc"});
    json::array lots, serials;
    if (auto lot = LotOf(get, "child_")) lots.push_back(std::move(*lot));
    for (const auto& s : Words(get("child_serials"))) {
      serials.push_back(json::object{{"gtin", get("child_gtin")}, {"serial", s}});
    }
    if (!lots.empty()) f["child_lots"] = std::move(lots);
    if (!serials.empty()) f["child_serials"] = std::move(serials);
  } else if (kind == "shipping" || kind == "receiving") {
    copy({"from_gln", "from_party_gln", "to_gln", "to_party_gln"});
    json::array lots, ssccs;
    if (auto lot = LotOf(get, "")) lots.push_back(std::move(*lot));
    for (const auto& s : Words(get("ssccs"))) ssccs.emplace_back(s);
    if (!lots.empty()) f["lots"] = std::move(lots);
    if (!ssccs.empty()) f["ssccs"] = std::move(ssccs);
  }
  return BuildManualEvent(kind, f);
}

EventLot LotOfFields(std::string_view kind, const FieldGetter& get) {
  if (kind == "processing") return {get("output_gtin"), get("output_lot")};
  if (kind == "packing") return {get("child_gtin"), get("child_lot")};
  return {get("gtin"), get("lot")};
}

std::string EventFormHtml(std::string_view kind, std::string_view action, std::string_view csrf,
                          const json::array& products, const json::array& sites, const FieldGetter& v) {
  std::string out = "<nav class=\"actions\">";
  for (auto k : kManualEventKinds) {
    out += "<a class=\"button" + std::string(k == kind ? "" : " secondary") + "\" href=\"?kind=" + std::string(k) +
           "\">" + std::string(1, static_cast<char>(std::toupper(k[0]))) + std::string(k.substr(1)) + "</a>";
  }
  out += "</nav><datalist id=\"sites\">";
  for (const auto& s : sites) {
    out += "<option value=\"" + H(s.at("gln").as_string()) + "\">" + H(s.at("name").as_string()) + "</option>";
  }
  out += "</datalist><section class=\"card\"><form class=\"stack\" method=\"post\" action=\"" + std::string(action) +
         "\"><input type=\"hidden\" name=\"csrf\" value=\"" + H(csrf) + "\"><input type=\"hidden\" name=\"kind\" "
         "value=\"" + H(kind) + "\">" +
         Text("When (local time)", "event_time", v, "type=\"datetime-local\"") +
         Text("Time zone", "time_zone_offset", v, "placeholder=\"+07:00\" pattern=\"[+\\-][0-9]{2}:[0-9]{2}\"") +
         SiteSelect(kind == "harvest" ? "Farm (site GLN)" : "Site (GLN)", "site_gln", sites, v);
  if (kind == "harvest") {
    out += ProductSelect("Product", "gtin", products, v) + Text("Lot", "lot", v, "maxlength=\"20\" required") +
           Text("Quantity", "quantity", v, "inputmode=\"decimal\" required") + Text("Unit", "uom", v,
                                                                                  "placeholder=\"KGM\"") +
           Text("Variety", "variety", v) + Text("Field latitude", "latitude", v, "inputmode=\"decimal\"") +
           Text("Field longitude", "longitude", v, "inputmode=\"decimal\"") +
           Text("Harvest date", "harvest_date", v, "type=\"date\"") +
           Text("Country (ISO code)", "country", v, "maxlength=\"2\" placeholder=\"TH\"");
  } else if (kind == "processing") {
    for (int i = 1; i <= 3; ++i) {
      out += LotFields("Input " + std::to_string(i) + (i == 1 ? "" : " (optional)"),
                       "input" + std::to_string(i) + "_", products, v);
    }
    out += LotFields("Output", "output_", products, v);
  } else if (kind == "packing") {
    out += Text("Pallet or case (SSCC, 18 digits)", "parent_sscc", v, "inputmode=\"numeric\"") +
           LotFields("What was packed", "child_", products, v) +
           "<label class=\"wide\">Serial numbers of the packed items (one a line)<textarea name=\"child_serials\">" +
           H(v("child_serials")) + "</textarea></label>";
  } else {
    out += Text("From (location GLN)", "from_gln", v, "inputmode=\"numeric\"") +
           Text("To (location GLN)", "to_gln", v, "inputmode=\"numeric\"") +
           ProductSelect("Product", "gtin", products, v) + Text("Lot", "lot", v, "maxlength=\"20\"") +
           Text("Quantity", "quantity", v, "inputmode=\"decimal\"") + Text("Unit", "uom", v) +
           "<label class=\"wide\">Pallets or cases (SSCCs)<textarea name=\"ssccs\">" + H(v("ssccs")) +
           "</textarea></label>";
  }
  out += "<button type=\"submit\" class=\"wide\">Sign and record</button></form></section>";
  return out;
}

}  // namespace trace::api
