#include "html_page.h"

#include <boost/json.hpp>

#include <map>

#include "web_assets.h"

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

// The embedded file named `name` ("trace.html"); nullptr when none.
const WebFile* FindFile(std::string_view name) {
  for (const auto& f : WebFiles()) {
    if (f.name == name) return &f;
  }
  return nullptr;
}

// `tmpl` with each {{key}} replaced by values[key] (already HTML); unknown keys stay.
std::string Fill(std::string_view tmpl, const std::map<std::string, std::string, std::less<>>& values) {
  std::string out;
  out.reserve(tmpl.size() + 4096);
  size_t pos = 0;
  while (pos < tmpl.size()) {
    size_t open = tmpl.find("{{", pos);
    size_t close = open == std::string_view::npos ? open : tmpl.find("}}", open + 2);
    if (close == std::string_view::npos) break;
    out.append(tmpl.substr(pos, open - pos));
    auto it = values.find(tmpl.substr(open + 2, close - open - 2));
    if (it != values.end()) {
      out += it->second;
    } else {
      out.append(tmpl.substr(open, close + 2 - open));
    }
    pos = close + 2;
  }
  out.append(tmpl.substr(std::min(pos, tmpl.size())));
  return out;
}

std::string_view ContentTypeOf(std::string_view name) {
  if (name.ends_with(".css")) return "text/css; charset=utf-8";
  if (name.ends_with(".js")) return "text/javascript; charset=utf-8";
  if (name.ends_with(".html")) return "text/html; charset=utf-8";
  return "application/octet-stream";
}

// The server-rendered part: the timeline, sensors and inputs as plain HTML.
std::string Fallback(const json::object& trace) {
  std::string out = "<h2>Where it has been</h2>\n";
  Timeline(trace, out);
  if (const auto* s = At(trace, "sensors"); s && s->is_object()) {
    const auto* types = At(s->get_object(), "types");
    if (types && types->is_array() && !types->get_array().empty()) {
      out += "<h2>Sensors</h2>\n<ul>\n";
      for (const auto& t : types->get_array()) {
        if (!t.is_object()) continue;
        const auto& o = t.get_object();
        out += "<li>" + HtmlEscape(Str(At(o, "type"))) + ": " + HtmlEscape(Str(At(o, "count"))) + " readings, " +
               HtmlEscape(Str(At(o, "min"))) + " to " + HtmlEscape(Str(At(o, "max"))) + " " +
               HtmlEscape(Str(At(o, "uom"))) + ", " + HtmlEscape(Str(At(o, "excursions"))) + " excursions</li>\n";
      }
      out += "</ul>\n<p><a href=\"" + HtmlEscape(Str(At(s->get_object(), "readings"))) + "\">all readings</a></p>\n";
    }
  }
  Inputs(trace, out);
  return out;
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

std::string_view PageContentSecurityPolicy() {
  return "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; "
         "base-uri 'none'; form-action 'none'; frame-ancestors 'none'";
}

std::string StaticPath(std::string_view name) {
  const WebFile* f = FindFile(name);
  return f == nullptr ? "" : "/static/" + std::string(f->hashed_name);
}

std::optional<StaticAsset> FindStaticAsset(std::string_view hashed_name) {
  for (const auto& f : WebFiles()) {
    if (f.hashed_name == hashed_name && f.name != "trace.html") {
      return StaticAsset{f.body, ContentTypeOf(f.name), "\"" + std::string(f.sha256_hex.substr(0, 32)) + "\""};
    }
  }
  return std::nullopt;
}

std::string RenderTracePage(const json::object& trace) {
  std::string name, gtin, org;
  if (const auto* p = At(trace, "product"); p && p->is_object()) {
    name = Str(At(p->get_object(), "name"));
    gtin = Str(At(p->get_object(), "gtin"));
    org = Str(At(p->get_object(), "org"));
  }
  const std::string lot = Str(At(trace, "lot"));
  std::string meta = "GTIN " + gtin + " · lot " + lot;
  if (At(trace, "serial")) meta += " · item " + Str(At(trace, "serial"));
  if (!org.empty()) meta += " · by " + org;
  std::string recall;
  if (const auto* r = At(trace, "recall"); r && r->is_object()) {
    const std::string reason = Str(At(r->get_object(), "reason"));
    recall = "<div class=\"recall\" id=\"recall\" role=\"alert\">This lot has been recalled (" +
             HtmlEscape(Str(At(r->get_object(), "at"))) + "). Do not use it." +
             (reason.empty() ? "" : "<small>" + HtmlEscape(reason) + "</small>") + "</div>";
  }
  const std::map<std::string, std::string, std::less<>> values = {
      {"title", HtmlEscape(name.empty() ? "GTIN " + gtin : name) + " · lot " + HtmlEscape(lot)},
      {"name", HtmlEscape(name.empty() ? "Product " + gtin : name)},
      {"meta", HtmlEscape(meta)},
      {"recall", recall},
      {"fallback", Fallback(trace)},
      {"link", HtmlEscape(Str(At(trace, "link")))},
      {"trace.css", StaticPath("trace.css")},
      {"trace.js", StaticPath("trace.js")},
      {"verify.js", StaticPath("verify.js")},
  };
  const WebFile* tmpl = FindFile("trace.html");
  return tmpl == nullptr ? "" : Fill(tmpl->body, values);
}

}  // namespace trace::api
