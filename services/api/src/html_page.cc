#include "html_page.h"

#include <boost/json.hpp>

namespace trace::api {
namespace {

namespace json = boost::json;

std::string Str(const json::value* v) {
  if (v == nullptr) return "";
  if (v->is_string()) return std::string(v->get_string());
  if (v->is_null()) return "";
  return json::serialize(*v);
}

const json::value* At(const json::object& o, std::string_view key) { return o.if_contains(key); }

void Timeline(const json::object& lot, std::string& out) {
  out += "<ol class=\"timeline\">\n";
  const auto* events = At(lot, "events");
  if (events != nullptr && events->is_array()) {
    for (const auto& entry : events->get_array()) {
      if (!entry.is_object()) continue;
      const auto& e = entry.get_object();
      const auto* ev = At(e, "event");
      if (ev == nullptr || !ev->is_object()) continue;
      const auto& event = ev->get_object();
      std::string step = Str(At(event, "bizStep"));
      if (step.empty()) step = Str(At(event, "type"));
      const auto* signer = At(e, "signer");
      std::string who = signer && signer->is_object()
                            ? Str(At(signer->get_object(), "org")) + " / " + Str(At(signer->get_object(), "device"))
                            : "";
      const auto* anchored = At(e, "anchored");
      out += "<li><time>" + HtmlEscape(Str(At(event, "eventTime"))) + "</time> <b>" + HtmlEscape(step) +
             "</b> <span class=\"signer\">signed by " + HtmlEscape(who) + "</span> <span class=\"state\">" +
             (anchored && anchored->is_bool() && anchored->get_bool() ? "anchored" : "not yet anchored") +
             "</span></li>\n";
    }
  }
  out += "</ol>\n";
}

void Inputs(const json::object& lot, std::string& out) {
  const auto* inputs = At(lot, "inputs");
  if (inputs == nullptr || !inputs->is_array() || inputs->get_array().empty()) return;
  out += "<h2>Made from</h2>\n<ul>\n";
  for (const auto& in : inputs->get_array()) {
    if (!in.is_object()) continue;
    const auto& o = in.get_object();
    out += "<li><a href=\"" + HtmlEscape(Str(At(o, "link"))) + "\">lot " + HtmlEscape(Str(At(o, "lot"))) + "</a>";
    Timeline(o, out);
    Inputs(o, out);
    out += "</li>\n";
  }
  out += "</ul>\n";
}

}  // namespace

std::string HtmlEscape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out.push_back(c);
    }
  }
  return out;
}

std::string RenderTracePage(const json::object& trace) {
  std::string name, gtin, org;
  if (const auto* p = At(trace, "product"); p && p->is_object()) {
    name = Str(At(p->get_object(), "name"));
    gtin = Str(At(p->get_object(), "gtin"));
    org = Str(At(p->get_object(), "org"));
  }
  const std::string lot = Str(At(trace, "lot"));
  std::string out =
      "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
      "<title>" +
      HtmlEscape(name.empty() ? gtin : name) + " lot " + HtmlEscape(lot) +
      "</title>"
      "<style>body{font-family:system-ui,sans-serif;margin:1rem;max-width:40rem}"
      "ol.timeline{padding-left:1.2rem}li{margin:.4rem 0}.signer,.state{color:#555;font-size:.9em}</style>"
      "</head><body>\n<h1>" +
      HtmlEscape(name.empty() ? "Product " + gtin : name) +
      "</h1>\n"
      "<p>GTIN " +
      HtmlEscape(gtin) + " &middot; lot " + HtmlEscape(lot) +
      (At(trace, "serial") ? " &middot; item " + HtmlEscape(Str(At(trace, "serial"))) : "") + " &middot; by " +
      HtmlEscape(org) + "</p>\n<h2>Where it has been</h2>\n";
  Timeline(trace, out);
  if (const auto* s = At(trace, "sensors"); s && s->is_object()) {
    const auto* types = At(s->get_object(), "types");
    if (types && types->is_array() && !types->get_array().empty()) {
      out += "<h2>Sensors</h2>\n<ul>\n";
      for (const auto& t : types->get_array()) {
        const auto& o = t.as_object();
        out += "<li>" + HtmlEscape(Str(At(o, "type"))) + ": " + Str(At(o, "count")) + " readings, " +
               Str(At(o, "min")) + " to " + Str(At(o, "max")) + " " + HtmlEscape(Str(At(o, "uom"))) + ", " +
               Str(At(o, "excursions")) + " excursions</li>\n";
      }
      out += "</ul>\n<p><a href=\"" + HtmlEscape(Str(At(s->get_object(), "readings"))) + "\">all readings</a></p>\n";
    }
  }
  Inputs(trace, out);
  out += "<p><a href=\"" + HtmlEscape(Str(At(trace, "link"))) +
         "?linkType=linkset\">links</a> &middot; <a href=\"/api/v1/checkpoint\">checkpoint</a></p>\n</body></html>\n";
  return out;
}

}  // namespace trace::api
