#include "dashboard.h"

#include <algorithm>
#include <boost/json.hpp>
#include <charconv>
#include <pqxx/pqxx>

#include "event_forms.h"
#include "html_page.h"
#include "http_util.h"
#include "producer_store.h"
#include "recall.h"
#include "trace/common/digital_link.h"
#include "trace/common/gs1.h"

namespace trace::api {
namespace {

namespace json = boost::json;
using Form = std::multimap<std::string, std::string>;

std::string H(std::string_view s) { return HtmlEscape(s); }

std::string Str(const json::value& v) {
  if (v.is_string()) return std::string(v.as_string());
  if (v.is_null()) return "";
  if (v.is_int64()) return std::to_string(v.as_int64());
  if (v.is_double()) {
    std::string s = json::serialize(v);
    return s;
  }
  if (v.is_bool()) return v.as_bool() ? "yes" : "no";
  return json::serialize(v);
}

std::string Field(const Form& f, const std::string& name) {
  auto it = f.find(name);
  return it == f.end() ? "" : it->second;
}

// Short, readable times: "2026-12-06 11:09" from PostgreSQL's text form.
std::string When(const json::value& v) {
  std::string s = Str(v);
  return s.size() >= 16 ? s.substr(0, 16) : s;
}

struct Nav {
  std::string path, title;
};

std::string Layout(std::string_view title, const Principal& who, std::string_view active, std::string_view body,
                   std::string_view notice = "", std::string_view error = "") {
  static const std::vector<Nav> kNav = {{"/dashboard", "Overview"},      {"/dashboard/lots", "Lots"},
                                        {"/dashboard/products", "Products"}, {"/dashboard/events/new", "Record event"},
                                        {"/dashboard/sites", "Sites"},    {"/dashboard/devices", "Devices"},
                                        {"/dashboard/tokens", "Tokens"},  {"/dashboard/users", "Users"}};
  std::string out =
      "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">"
      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><link rel=\"icon\" href=\"data:,\">"
      "<title>" + H(title) + " · trace</title><link rel=\"stylesheet\" href=\"" + StaticPath("dashboard.css") +
      "\"></head><body><header><span class=\"brand\">trace</span><nav>";
  for (const auto& n : kNav) {
    out += "<a href=\"" + n.path + "\"" + (n.path == active ? " class=\"on\" aria-current=\"page\"" : "") + ">" +
           n.title + "</a>";
  }
  out += "</nav><span class=\"who\">" + H(who.actor.substr(who.actor.find(':') + 1)) + " · " + H(who.org) + " · " +
         std::string(RoleName(who.role)) +
         "</span><form method=\"post\" action=\"/dashboard/logout\"><input type=\"hidden\" name=\"csrf\" value=\"" +
         H(who.csrf) + "\"><button class=\"secondary\" type=\"submit\">Sign out</button></form></header><main>";
  if (!notice.empty()) out += "<div class=\"notice\" role=\"status\">" + H(notice) + "</div>";
  if (!error.empty()) out += "<div class=\"error\" role=\"alert\">" + H(error) + "</div>";
  out += "<h1>" + H(title) + "</h1>";
  out += body;
  out += "</main></body></html>";
  return out;
}

HttpResponse Html(std::string body, int status = 200) {
  HttpResponse res;
  res.status = status;
  res.body = std::move(body);
  res.Set("Content-Type", "text/html; charset=utf-8");
  res.Set("Content-Security-Policy", std::string(DashboardContentSecurityPolicy()));
  res.Set("X-Content-Type-Options", "nosniff");
  res.Set("X-Frame-Options", "DENY");
  res.Set("Referrer-Policy", "same-origin");
  res.Set("Cache-Control", "no-store");
  return res;
}

HttpResponse SeeOther(const std::string& location) {
  HttpResponse res;
  res.status = 303;
  res.Set("Location", location);
  res.Set("Cache-Control", "no-store");
  return res;
}

std::string Csrf(const Principal& who) {
  return "<input type=\"hidden\" name=\"csrf\" value=\"" + H(who.csrf) + "\">";
}

std::string Input(std::string_view label, std::string_view name, std::string_view value = "",
                  std::string_view extra = "") {
  return "<label>" + H(label) + "<input name=\"" + std::string(name) + "\" value=\"" + H(value) + "\" " +
         std::string(extra) + "></label>";
}

std::string Query(const HttpRequest& req, const std::string& name) {
  auto q = ParseQuery(req.query);
  if (!q) return "";
  auto it = q->find(name);
  return it == q->end() ? "" : it->second;
}

std::string LotPath(const std::string& gtin, const std::string& lot) {
  return "/dashboard/lots/" + gtin + "/" + gs1::PercentEncodeValue(lot);
}

std::string AnchorBadge(int64_t events, int64_t anchored) {
  if (events == 0) return "<span class=\"badge\">no events yet</span>";
  if (anchored == events) return "<span class=\"badge ok\">all " + std::to_string(events) + " anchored</span>";
  return "<span class=\"badge wait\">" + std::to_string(anchored) + " of " + std::to_string(events) +
         " anchored</span>";
}

std::string LotsTable(const json::array& lots) {
  if (lots.empty()) return "<p>No lots yet.</p>";
  std::string out =
      "<div class=\"table-wrap\"><table><thead><tr><th>Lot</th><th>Product</th><th>GTIN</th><th>Events</th>"
      "<th>State</th></tr></thead><tbody>";
  for (const auto& v : lots) {
    const auto& l = v.as_object();
    const std::string gtin = Str(l.at("gtin")), lot = Str(l.at("lot"));
    out += "<tr><td><a href=\"" + LotPath(gtin, lot) + "\">" + H(lot) + "</a></td><td>" + H(Str(l.at("product"))) +
           "</td><td class=\"mono\">" + gtin + "</td><td>" + AnchorBadge(l.at("events").as_int64(),
                                                                           l.at("anchored").as_int64()) +
           "</td><td>" +
           (l.at("recall").is_null() ? std::string("<span class=\"badge ok\">on sale</span>")
                                     : "<span class=\"badge bad\">recalled</span>") +
           "</td></tr>";
  }
  return out + "</tbody></table></div>";
}

}  // namespace

std::string_view DashboardContentSecurityPolicy() {
  return "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; "
         "base-uri 'none'";
}

Dashboard::Dashboard(ProducerApi& producer) : producer_(producer) { Routes(); }

namespace {

// What a page handler builds: the response, given the connection and principal.
using PageFn = std::function<HttpResponse(pqxx::connection&, const Principal&, const Form&)>;

}  // namespace

void Dashboard::Routes() {
  using A = Api::Access;
  using P = Api::Params;
  Api& api = producer_.api();

  // Runs a page: sign-in required (else 303 to the login form), the permission
  // checked, POST bodies parsed as forms with their CSRF token. Problems from
  // the checks become HTML pages.
  auto page = [this](const HttpRequest& req, Reply reply, Permission perm, PageFn fn) {
    Form form;
    if (req.method == "POST") {
      if (!req.Header("content-type").starts_with("application/x-www-form-urlencoded")) {
        return reply(Html("<p>Send this form from the dashboard.</p>", 415));
      }
      auto f = ParseForm(req.body);
      if (!f) return reply(Html("<p>" + H(f.error().message()) + "</p>", 400));
      form = std::move(*f);
    }
    const std::string path = req.path;
    Reply html_reply = [reply, path](HttpResponse res) {
      if (res.status == 401) return reply(SeeOther("/dashboard/login?next=" + QueryEscape(path)));
      if (res.status >= 400 && res.Get("Content-Type").starts_with("application/problem+json")) {
        boost::system::error_code ec;
        json::value p = json::parse(res.body, ec);
        std::string detail = !ec && p.is_object() && p.as_object().contains("detail")
                                 ? Str(p.as_object().at("detail"))
                                 : std::string(ReasonPhrase(res.status));
        HttpResponse page = Html(
            "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" "
            "content=\"width=device-width, initial-scale=1\"><link rel=\"icon\" href=\"data:,\"><title>" +
                std::string(ReasonPhrase(res.status)) +
                "</title><link rel=\"stylesheet\" href=\"" + StaticPath("dashboard.css") +
                "\"></head><body><main><div class=\"error\" role=\"alert\">" + H(detail) +
                "</div><p><a href=\"/dashboard\">Back to the dashboard</a></p></main></body></html>",
            res.status);
        for (const auto& h : res.headers) {
          if (h.first == "Retry-After") page.Set(h.first, h.second);
        }
        return reply(std::move(page));
      }
      reply(std::move(res));
    };
    std::string token = Field(form, "csrf");
    producer_.Guarded(req, html_reply, perm, token,
                      [fn, form = std::move(form)](pqxx::connection& c, const Principal& who) {
                        return fn(c, who, form);
                      });
  };

  // --- Sign in and out.
  auto login_page = [](std::string_view next, std::string_view email, std::string_view error, int status) {
    return Html(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" "
        "content=\"width=device-width, initial-scale=1\"><link rel=\"icon\" href=\"data:,\">"
        "<title>Sign in · trace</title><link rel=\"stylesheet\" "
        "href=\"" + StaticPath("dashboard.css") + "\"></head><body><main class=\"login\"><section class=\"card\">"
        "<h1>Sign in to trace</h1>" +
            (error.empty() ? std::string() : "<div class=\"error\" role=\"alert\">" + H(error) + "</div>") +
            "<form class=\"stack\" method=\"post\" action=\"/dashboard/login\"><input type=\"hidden\" "
            "name=\"next\" value=\"" + H(next) + "\">" +
            Input("E-mail", "email", email, "type=\"email\" autocomplete=\"username\" required class=\"wide\"") +
            "<label class=\"wide\">Password<input name=\"password\" type=\"password\" "
            "autocomplete=\"current-password\" required></label>"
            "<button type=\"submit\" class=\"wide\">Sign in</button></form></section></main></body></html>",
        status);
  };
  api.AddRoute("GET", "/dashboard/login", A::kProducer, [login_page](const HttpRequest& req, const P&, Reply reply) {
    reply(login_page(Query(req, "next"), "", "", 200));
  });
  api.AddRoute("POST", "/dashboard/login", A::kProducer,
               [this, login_page](const HttpRequest& req, const P&, Reply reply) {
                 auto f = ParseForm(req.body);
                 if (!f) return reply(login_page("", "", f.error().message(), 400));
                 std::string next = Field(*f, "next");
                 // Only paths of the dashboard: never an open redirect.
                 if (!next.starts_with("/dashboard") || next.starts_with("//")) next = "/dashboard";
                 producer_.api().Db(reply, [this, req, next, email = Field(*f, "email"),
                                            password = Field(*f, "password"), login_page](pqxx::connection& c) {
                   auto login = producer_.auth().Login(c, email, password, req.client);
                   if (!login) {
                     HttpResponse res = login_page(next, email, login.error().message(),
                                                   HttpStatusFor(login.error().code()));
                     if (res.status == 429) res.Set("Retry-After", "60");
                     return res;
                   }
                   HttpResponse res = SeeOther(next);
                   res.Set("Set-Cookie", login->set_cookie);
                   return res;
                 });
               });
  api.AddRoute("POST", "/dashboard/logout", A::kProducer, [this, page](const HttpRequest& req, const P&, Reply reply) {
    page(req, reply, Permission::kRead, [this, req](pqxx::connection& c, const Principal&, const Form&) {
      HttpResponse res = SeeOther("/dashboard/login");
      res.Set("Set-Cookie", producer_.auth().Logout(c, req));
      return res;
    });
  });

  // --- Overview.
  api.AddRoute("GET", "/dashboard", A::kProducer, [page](const HttpRequest& req, const P&, Reply reply) {
    page(req, reply, Permission::kRead, [](pqxx::connection& c, const Principal& who, const Form&) {
      pqxx::read_transaction tx(c);
      json::object s = OrgStatus(tx, who.org);
      const auto& env = s.at("envelopes").as_object();
      std::string body = "<div class=\"grid\">";
      auto stat = [](std::string_view label, const std::string& value) {
        return "<div class=\"stat\"><b>" + value + "</b>" + H(label) + "</div>";
      };
      int64_t minute = 0, hour = 0;
      for (const auto& kv : s.at("ingest").as_object()) {
        minute += kv.value().as_object().at("lastMinute").as_int64();
        hour += kv.value().as_object().at("lastHour").as_int64();
      }
      int64_t rejected = 0;
      for (const auto& kv : s.at("rejectedLastDay").as_object()) rejected += kv.value().as_int64();
      body += stat("envelopes stored", Str(env.at("stored")));
      body += stat("anchored on the chain", Str(env.at("anchored")));
      body += stat("received in the last minute", std::to_string(minute));
      body += stat("received in the last hour", std::to_string(hour));
      body += stat("rejected in the last day", std::to_string(rejected));
      body += "</div>";
      if (rejected > 0) {
        body += "<h2>Rejections in the last day</h2><table><thead><tr><th>Reason</th><th>Messages</th></tr></thead>"
                "<tbody>";
        for (const auto& kv : s.at("rejectedLastDay").as_object()) {
          body += "<tr><td>" + H(kv.key()) + "</td><td>" + Str(kv.value()) + "</td></tr>";
        }
        body += "</tbody></table>";
      }
      body += "<h2>Lots and their anchoring</h2>" + LotsTable(s.at("lots").as_array());
      return Html(Layout("Overview", who, "/dashboard", body));
    });
  });

  // --- Products.
  auto products_page = [](pqxx::transaction_base& tx, const Principal& who, std::string_view notice,
                          std::string_view error, const Form& form) {
    std::string body;
    if (who.role != Role::kViewer) {
      body += "<section class=\"card\"><h2>New product</h2><form class=\"stack\" method=\"post\" "
              "action=\"/dashboard/products\">" +
              Csrf(who) + Input("GTIN", "gtin", Field(form, "gtin"), "inputmode=\"numeric\" required") +
              Input("Name", "name", Field(form, "name"), "required") +
              Input("Category", "category", Field(form, "category")) +
              Input("Variety or ingredients", "attributes", Field(form, "attributes"),
                    "placeholder=\"variety=Jasmine; origin=Thailand\"") +
              "<label class=\"wide\">Description<textarea name=\"description\">" + H(Field(form, "description")) +
              "</textarea></label><button type=\"submit\">Create product</button></form></section>";
    }
    json::array products = ListProducts(tx, who.org);
    body += "<h2>Products</h2>";
    if (products.empty()) {
      body += "<p>No products yet.</p>";
    } else {
      body += "<div class=\"table-wrap\"><table><thead><tr><th>Name</th><th>GTIN</th><th>Category</th>"
              "<th>Attributes</th><th>Lots</th></tr></thead><tbody>";
      for (const auto& v : products) {
        const auto& p = v.as_object();
        std::string attrs;
        for (const auto& kv : p.at("attributes").as_object()) {
          attrs += (attrs.empty() ? "" : "; ") + H(kv.key()) + "=" + H(Str(kv.value()));
        }
        body += "<tr><td>" + H(Str(p.at("name"))) + "</td><td class=\"mono\">" + Str(p.at("gtin")) + "</td><td>" +
                H(Str(p.at("category"))) + "</td><td>" + attrs + "</td><td><a href=\"/dashboard/lots?gtin=" +
                Str(p.at("gtin")) + "\">" + Str(p.at("lots")) + "</a></td></tr>";
      }
      body += "</tbody></table></div>";
    }
    return Html(Layout("Products", who, "/dashboard/products", body, notice, error), error.empty() ? 200 : 400);
  };
  api.AddRoute("GET", "/dashboard/products", A::kProducer,
               [page, products_page](const HttpRequest& req, const P&, Reply reply) {
                 page(req, reply, Permission::kRead,
                      [products_page, notice = Query(req, "notice")](pqxx::connection& c, const Principal& who,
                                                                     const Form& f) {
                        pqxx::read_transaction tx(c);
                        return products_page(tx, who, notice, "", f);
                      });
               });
  api.AddRoute("POST", "/dashboard/products", A::kProducer,
               [page, products_page](const HttpRequest& req, const P&, Reply reply) {
                 page(req, reply, Permission::kWrite,
                      [products_page](pqxx::connection& c, const Principal& who, const Form& f) {
                        ProductInput in{Field(f, "gtin"), Field(f, "name"), Field(f, "description"),
                                        Field(f, "category"), {}};
                        // "variety=Jasmine; origin=Thailand" -> {"variety": "Jasmine", "origin": "Thailand"}
                        std::string attrs = Field(f, "attributes");
                        for (size_t start = 0; start < attrs.size();) {
                          size_t end = attrs.find(';', start);
                          if (end == std::string::npos) end = attrs.size();
                          std::string pair = attrs.substr(start, end - start);
                          start = end + 1;
                          auto eq = pair.find('=');
                          auto trim = [](std::string s) {
                            while (!s.empty() && s.front() == ' ') s.erase(0, 1);
                            while (!s.empty() && s.back() == ' ') s.pop_back();
                            return s;
                          };
                          if (eq == std::string::npos) continue;
                          std::string k = trim(pair.substr(0, eq));
                          if (!k.empty()) in.attributes[k] = trim(pair.substr(eq + 1));
                        }
                        pqxx::work tx(c);
                        auto out = CreateProduct(tx, who, in);
                        if (!out) return products_page(tx, who, "", out.error().message(), f);
                        tx.commit();
                        return SeeOther("/dashboard/products?notice=" +
                                        QueryEscape("Product " + in.name + " created"));
                      });
               });

  // --- Lots.
  auto lots_page = [](pqxx::transaction_base& tx, const Principal& who, const std::string& gtin,
                      std::string_view notice, std::string_view error, const Form& form) {
    std::string body;
    json::array products = ListProducts(tx, who.org);
    if (who.role != Role::kViewer) {
      body += "<section class=\"card\"><h2>New lot</h2><form class=\"stack\" method=\"post\" "
              "action=\"/dashboard/lots\">" + Csrf(who) + "<label>Product<select name=\"gtin\" required>";
      const std::string chosen = Field(form, "gtin").empty() ? gtin : Field(form, "gtin");
      for (const auto& v : products) {
        const auto& p = v.as_object();
        const std::string g = Str(p.at("gtin"));
        body += "<option value=\"" + g + "\"" + (g == chosen ? " selected" : "") + ">" + H(Str(p.at("name"))) +
                " (" + g + ")</option>";
      }
      body += "</select></label>" + Input("Lot number", "lot", Field(form, "lot"), "required maxlength=\"20\"") +
              Input("Note", "note", Field(form, "note")) + "<button type=\"submit\">Create lot</button></form>"
              "</section>";
    }
    body += "<h2>Lots</h2>" + LotsTable(ListLots(tx, who.org, gtin));
    return Html(Layout("Lots", who, "/dashboard/lots", body, notice, error), error.empty() ? 200 : 400);
  };
  api.AddRoute("GET", "/dashboard/lots", A::kProducer, [page, lots_page](const HttpRequest& req, const P&, Reply reply) {
    std::string gtin = Query(req, "gtin");
    if (!gtin.empty()) {
      auto g = gs1::NormalizeGtin(gtin);
      gtin = g ? *g : "";
    }
    page(req, reply, Permission::kRead,
         [lots_page, gtin, notice = Query(req, "notice")](pqxx::connection& c, const Principal& who, const Form& f) {
           pqxx::read_transaction tx(c);
           return lots_page(tx, who, gtin, notice, "", f);
         });
  });
  api.AddRoute("POST", "/dashboard/lots", A::kProducer, [page, lots_page](const HttpRequest& req, const P&, Reply reply) {
    page(req, reply, Permission::kWrite, [lots_page](pqxx::connection& c, const Principal& who, const Form& f) {
      LotInput in{Field(f, "gtin"), Field(f, "lot"), {}};
      if (!Field(f, "note").empty()) in.attributes["note"] = Field(f, "note");
      pqxx::work tx(c);
      auto out = CreateLot(tx, who, in);
      if (!out) return lots_page(tx, who, "", "", out.error().message(), f);
      tx.commit();
      return SeeOther(LotPath(Str(out->at("gtin")), in.lot) + "?notice=" + QueryEscape("Lot " + in.lot + " created"));
    });
  });
  api.AddRoute("GET", "/dashboard/lots/{gtin}/{lot}", A::kProducer,
               [this, page](const HttpRequest& req, const P& p, Reply reply) {
                 page(req, reply, Permission::kRead,
                      [this, gtin = p.at("gtin"), lot = p.at("lot"), notice = Query(req, "notice")](
                          pqxx::connection& c, const Principal& who, const Form&) {
                        pqxx::read_transaction tx(c);
                        auto l = GetLot(tx, who.org, gtin, lot);
                        if (!l) return ProblemFor(l.error());
                        const std::string g = Str(l->at("gtin"));
                        gs1::DigitalLink link{g, lot, std::nullopt, {}};
                        const std::string consumer = gs1::FormatDigitalLink(producer_.api().options().public_base, link);
                        const std::string label = "/api/v1/labels/" + g + "/" + gs1::PercentEncodeValue(lot);
                        std::string body = "<section class=\"card\"><p><b>" + H(Str(l->at("product"))) +
                                           "</b> · GTIN <span class=\"mono\">" + g + "</span> · lot <b>" + H(lot) +
                                           "</b> " + AnchorBadge(l->at("events").as_int64(), l->at("anchored").as_int64()) +
                                           "</p>";
                        if (!l->at("recall").is_null()) {
                          body += "<div class=\"error\">Recalled " + When(l->at("recall").as_object().at("at")) +
                                  ": " + H(Str(l->at("recall").as_object().at("reason"))) + "</div>";
                        }
                        body += "<p>Consumer link: <a class=\"mono\" href=\"" + H(consumer) + "\">" + H(consumer) +
                                "</a></p><div class=\"actions\"><a class=\"button\" href=\"" + label +
                                ".png\">Label (PNG)</a><a class=\"button secondary\" href=\"" + label +
                                ".svg\">Label (SVG)</a><a class=\"button secondary\" href=\"/dashboard/labels/" + g +
                                "/" + gs1::PercentEncodeValue(lot) +
                                "\">Printable sheet</a><a class=\"button secondary\" href=\"/dashboard/recall/" + g +
                                "/" + gs1::PercentEncodeValue(lot) + "\">Recall…</a>";
                        if (who.role != Role::kViewer) {
                          body += "<a class=\"button secondary\" href=\"/dashboard/events/new?kind=harvest&amp;gtin=" +
                                  g + "&amp;lot=" + QueryEscape(lot) + "\">Record an event</a>";
                        }
                        body += "</div></section><h2>Events</h2>";
                        const auto& events = l->at("eventList").as_array();
                        if (events.empty()) {
                          body += "<p>No events recorded for this lot yet.</p>";
                        } else {
                          body += "<div class=\"table-wrap\"><table><thead><tr><th>When</th><th>Step</th>"
                                  "<th>Event</th><th>Signed by</th><th>Log</th></tr></thead><tbody>";
                          for (const auto& v : events) {
                            const auto& e = v.as_object();
                            const auto& signer = e.at("signer").as_object();
                            std::string step = Str(e.at("bizStep"));
                            if (auto pos = step.rfind('/'); pos != std::string::npos) step = step.substr(pos + 1);
                            body += "<tr><td>" + When(e.at("time")) + "</td><td>" + H(step) + "</td><td>" +
                                    H(Str(e.at("type"))) + " " + H(Str(e.at("action"))) + "</td><td>" +
                                    H(Str(signer.at("org"))) + " / " + H(Str(signer.at("device"))) + "</td><td>" +
                                    (e.at("anchored").as_bool()
                                         ? "<span class=\"badge ok\">anchored</span>"
                                         : e.at("leaf").is_null() ? "<span class=\"badge wait\">waiting</span>"
                                                                  : "<span class=\"badge wait\">in log, anchoring"
                                                                    "</span>") +
                                    "</td></tr>";
                          }
                          body += "</tbody></table></div>";
                        }
                        return Html(Layout("Lot " + lot, who, "/dashboard/lots", body, notice));
                      });
               });

  // --- Manual events: a form per business step, signed with the org's key on the server.
  auto events_page = [](pqxx::transaction_base& tx, const Principal& who, const std::string& kind,
                        const FieldGetter& values, std::string_view error, int status) {
    std::string body = EventFormHtml(kind, "/dashboard/events", who.csrf, ListProducts(tx, who.org),
                                     ListSites(tx, who.org), values);
    return Html(Layout("Record an event", who, "/dashboard/events/new", body, "", error), status);
  };
  api.AddRoute("GET", "/dashboard/events/new", A::kProducer,
               [page, events_page](const HttpRequest& req, const P&, Reply reply) {
                 auto q = ParseQuery(req.query);
                 Form values = q ? Form(q->begin(), q->end()) : Form();
                 std::string kind = Field(values, "kind").empty() ? "harvest" : Field(values, "kind");
                 if (std::find(std::begin(kManualEventKinds), std::end(kManualEventKinds), kind) ==
                     std::end(kManualEventKinds)) {
                   kind = "harvest";
                 }
                 page(req, reply, Permission::kWrite,
                      [events_page, kind, values](pqxx::connection& c, const Principal& who, const Form&) {
                        pqxx::read_transaction tx(c);
                        return events_page(tx, who, kind, [&values](const std::string& n) { return Field(values, n); },
                                           "", 200);
                      });
               });
  api.AddRoute("POST", "/dashboard/events", A::kProducer,
               [this, page, events_page](const HttpRequest& req, const P&, Reply reply) {
                 page(req, reply, Permission::kWrite,
                      [this, events_page](pqxx::connection& c, const Principal& who, const Form& f) {
                        const std::string kind = Field(f, "kind");
                        FieldGetter get = [&f](const std::string& n) { return Field(f, n); };
                        auto event = EventFromFields(kind, get);
                        if (!event) {
                          pqxx::read_transaction tx(c);
                          return events_page(tx, who, kind, get, event.error().message(), 400);
                        }
                        HttpResponse stored = producer_.SubmitEventsFor(c, who, json::array{*event});
                        if (stored.status != 201) {
                          boost::system::error_code ec;
                          json::value doc = json::parse(stored.body, ec);
                          std::string why = !ec && doc.is_object() ? Str(doc.as_object()["detail"]) : stored.body;
                          if (!ec && doc.is_object() && doc.as_object().contains("errors")) {
                            for (const auto& e : doc.as_object()["errors"].as_array()) {
                              why += "; " + Str(e.as_object().at("path")) + ": " + Str(e.as_object().at("message"));
                            }
                          }
                          pqxx::read_transaction tx(c);
                          return events_page(tx, who, kind, get, why, stored.status);
                        }
                        boost::system::error_code ec;
                        json::value doc = json::parse(stored.body, ec);
                        std::string envelope =
                            !ec ? Str(doc.as_object()["envelopes"].as_array()[0].as_object()["id"]) : "";
                        EventLot lot = LotOfFields(kind, get);
                        auto gtin = gs1::NormalizeGtin(lot.gtin);
                        std::string notice = "Signed and stored as envelope " + envelope.substr(0, 12) +
                                             "…; it is anchored on the chain within seconds";
                        if (!gtin || lot.lot.empty()) {
                          return SeeOther("/dashboard?notice=" + QueryEscape(notice));
                        }
                        return SeeOther(LotPath(*gtin, lot.lot) + "?notice=" + QueryEscape(notice));
                      });
               });

  // --- Labels: the printable sheet of a lot (its own page and CSP: no dashboard chrome in print).
  api.AddRoute("GET", "/dashboard/labels/{gtin}/{lot}", A::kProducer,
               [this, page](const HttpRequest& req, const P& p, Reply reply) {
                 auto sheet = producer_.LabelSheetRequest(req, p.at("gtin"), p.at("lot"));
                 if (!sheet) return reply(Html("<p>" + H(sheet.error().message()) + "</p>", 400));
                 page(req, reply, Permission::kRead,
                      [this, sheet = *sheet](pqxx::connection& c, const Principal& who, const Form&) {
                        return producer_.LabelSheet(c, who, sheet);
                      });
               });

  // --- Recall: every downstream lot and where it went; marking the lots recalled.
  auto recall_page = [this](pqxx::connection& c, const Principal& who, const std::string& gtin,
                            const std::string& lot, std::string_view notice, std::string_view error) {
    auto report = producer_.Recall(c, who, gtin, lot);
    if (!report) return ProblemFor(report.error());
    const std::string base = "/" + report->gtin + "/" + gs1::PercentEncodeValue(report->lot);
    std::string body = "<section class=\"card\"><p>Lot <b>" + H(report->lot) + "</b> of <span class=\"mono\">" +
                       report->gtin + "</span> reaches <b>" + std::to_string(report->lots.size()) +
                       "</b> lot(s) downstream" + (report->truncated ? " (the search stopped at its limits)" : "") +
                       ".</p><div class=\"actions\"><a class=\"button secondary\" href=\"/api/v1/recall" + base +
                       ".csv\">Download CSV</a><a class=\"button secondary\" href=\"/dashboard/lots" + base +
                       "\">Back to the lot</a></div>";
    if (who.role == Role::kAdmin) {
      body += "<form class=\"stack\" method=\"post\" action=\"/dashboard/recall" + base + "\">" + Csrf(who) +
              "<label class=\"wide\">Reason (shown to consumers)<input name=\"reason\" required maxlength=\"500\" "
              "placeholder=\"Possible contamination; do not eat\"></label><button class=\"danger\" type=\"submit\">"
              "Mark your lots recalled</button></form>";
    }
    body += "</section><div class=\"table-wrap\"><table><thead><tr><th>Lot</th><th>Reached by</th><th>Owner</th>"
            "<th>Where it went</th><th>State</th></tr></thead><tbody>";
    for (const auto& l : report->lots) {
      std::string moves;
      for (const auto& m : l.movements) {
        std::string step = m.biz_step;
        if (auto pos = step.rfind('/'); pos != std::string::npos) step = step.substr(pos + 1);
        std::string to;
        for (const auto& d : m.destinations) to += (to.empty() ? "" : ", ") + d.id;
        if (to.empty()) to = m.biz_location.empty() ? m.read_point : m.biz_location;
        moves += "<div>" + H(m.time.substr(0, 16)) + " " + H(step) + (to.empty() ? "" : " → " + H(to)) + "</div>";
      }
      body += "<tr><td><b>" + H(l.lot) + "</b><br><span class=\"mono\">" + l.gtin + "</span><br>" +
              H(l.product_name) + "</td><td>" + H(l.via) + (l.via_lot.empty() ? "" : " of " + H(l.via_lot)) +
              "</td><td>" + H(l.lot_org.value_or(l.product_org)) + "</td><td>" + (moves.empty() ? "—" : moves) +
              "</td><td>" +
              (l.recalled_at ? "<span class=\"badge bad\">recalled</span>" : "<span class=\"badge ok\">on sale</span>") +
              "</td></tr>";
    }
    body += "</tbody></table></div>";
    return Html(Layout("Recall of lot " + report->lot, who, "/dashboard/lots", body, notice, error));
  };
  api.AddRoute("GET", "/dashboard/recall/{gtin}/{lot}", A::kProducer,
               [page, recall_page](const HttpRequest& req, const P& p, Reply reply) {
                 page(req, reply, Permission::kRead,
                      [recall_page, gtin = p.at("gtin"), lot = p.at("lot"), notice = Query(req, "notice")](
                          pqxx::connection& c, const Principal& who, const Form&) {
                        return recall_page(c, who, gtin, lot, notice, "");
                      });
               });
  api.AddRoute("POST", "/dashboard/recall/{gtin}/{lot}", A::kProducer,
               [this, page, recall_page](const HttpRequest& req, const P& p, Reply reply) {
                 page(req, reply, Permission::kRecall,
                      [this, recall_page, gtin = p.at("gtin"), lot = p.at("lot")](pqxx::connection& c,
                                                                                  const Principal& who, const Form& f) {
                        auto marked = producer_.MarkLotRecalled(c, who, gtin, lot, Field(f, "reason"));
                        if (!marked) return recall_page(c, who, gtin, lot, "", marked.error().message());
                        std::string notice = Str(marked->at("marked")) + " lot(s) marked recalled";
                        if (!marked->at("otherOrganizations").as_array().empty()) {
                          notice += "; " + std::to_string(marked->at("otherOrganizations").as_array().size()) +
                                    " lot(s) of other organizations are listed for their owners";
                        }
                        return SeeOther("/dashboard/recall/" + *gs1::NormalizeGtin(gtin) + "/" +
                                        gs1::PercentEncodeValue(lot) + "?notice=" + QueryEscape(notice));
                      });
               });

  // --- Sites.
  auto sites_page = [](pqxx::transaction_base& tx, const Principal& who, std::string_view notice,
                       std::string_view error, const Form& form) {
    std::string body;
    if (who.role != Role::kViewer) {
      body += "<section class=\"card\"><h2>New site</h2><form class=\"stack\" method=\"post\" "
              "action=\"/dashboard/sites\">" + Csrf(who) +
              Input("GLN", "gln", Field(form, "gln"), "inputmode=\"numeric\" required") +
              Input("Name", "name", Field(form, "name"), "required") +
              Input("Kind", "kind", Field(form, "kind"), "placeholder=\"farm, mill, warehouse, shop\" required") +
              Input("Latitude", "latitude", Field(form, "latitude"), "inputmode=\"decimal\"") +
              Input("Longitude", "longitude", Field(form, "longitude"), "inputmode=\"decimal\"") +
              Input("Address", "address", Field(form, "address")) +
              "<button type=\"submit\">Create site</button></form></section>";
    }
    json::array sites = ListSites(tx, who.org);
    body += "<h2>Sites</h2>";
    if (sites.empty()) {
      body += "<p>No sites yet.</p>";
    } else {
      body += "<div class=\"table-wrap\"><table><thead><tr><th>Name</th><th>GLN</th><th>Kind</th><th>Where</th>"
              "</tr></thead><tbody>";
      for (const auto& v : sites) {
        const auto& s = v.as_object();
        std::string where = H(Str(s.at("address")));
        if (!s.at("latitude").is_null()) {
          where += (where.empty() ? "" : " · ") + Str(s.at("latitude")) + ", " + Str(s.at("longitude"));
        }
        body += "<tr><td>" + H(Str(s.at("name"))) + "</td><td class=\"mono\">" + Str(s.at("gln")) + "</td><td>" +
                H(Str(s.at("kind"))) + "</td><td>" + where + "</td></tr>";
      }
      body += "</tbody></table></div>";
    }
    return Html(Layout("Sites", who, "/dashboard/sites", body, notice, error), error.empty() ? 200 : 400);
  };
  api.AddRoute("GET", "/dashboard/sites", A::kProducer, [page, sites_page](const HttpRequest& req, const P&, Reply reply) {
    page(req, reply, Permission::kRead,
         [sites_page, notice = Query(req, "notice")](pqxx::connection& c, const Principal& who, const Form& f) {
           pqxx::read_transaction tx(c);
           return sites_page(tx, who, notice, "", f);
         });
  });
  api.AddRoute("POST", "/dashboard/sites", A::kProducer, [page, sites_page](const HttpRequest& req, const P&, Reply reply) {
    page(req, reply, Permission::kWrite, [sites_page](pqxx::connection& c, const Principal& who, const Form& f) {
      SiteInput in{Field(f, "gln"), Field(f, "name"), Field(f, "kind"), Field(f, "address"), {}, {}};
      auto number = [](const std::string& s) -> std::optional<double> {
        if (s.empty()) return std::nullopt;
        double v = 0;
        auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
        if (ec != std::errc() || p != s.data() + s.size()) return std::nullopt;
        return v;
      };
      pqxx::work tx(c);
      in.latitude = number(Field(f, "latitude"));
      in.longitude = number(Field(f, "longitude"));
      if ((!Field(f, "latitude").empty() && !in.latitude) || (!Field(f, "longitude").empty() && !in.longitude)) {
        return sites_page(tx, who, "", "latitude and longitude: decimal degrees, like 14.35 and 100.57", f);
      }
      auto out = CreateSite(tx, who, in);
      if (!out) return sites_page(tx, who, "", out.error().message(), f);
      tx.commit();
      return SeeOther("/dashboard/sites?notice=" + QueryEscape("Site " + in.name + " created"));
    });
  });

  // --- Devices.
  auto devices_page = [](pqxx::transaction_base& tx, const Principal& who, std::string_view notice,
                         std::string_view error, const std::string& secret_html, const Form& form) {
    std::string body = secret_html;
    if (who.role == Role::kAdmin) {
      body += "<section class=\"card\"><h2>Register a device</h2><form class=\"stack\" method=\"post\" "
              "action=\"/dashboard/devices\">" + Csrf(who) +
              Input("Device id", "device", Field(form, "device"), "required pattern=\"[a-z0-9][a-z0-9._\\-]{0,63}\"") +
              Input("Name", "name", Field(form, "name")) +
              "<label class=\"wide\">Ed25519 public key (base64url)<input name=\"publicKey\" required value=\"" +
              H(Field(form, "publicKey")) + "\"></label><button type=\"submit\">Register</button></form></section>";
    }
    json::array devices = ListDevices(tx, who.org);
    body += "<h2>Devices</h2>";
    if (devices.empty()) {
      body += "<p>No devices yet.</p>";
    } else {
      body += "<div class=\"table-wrap\"><table><thead><tr><th>Device</th><th>Status</th><th>Last seen</th>"
              "<th>Envelopes</th><th>Seq gaps</th><th>Rejections</th><th></th></tr></thead><tbody>";
      for (const auto& v : devices) {
        const auto& d = v.as_object();
        const std::string id = Str(d.at("device"));
        std::string rejections;
        for (const auto& kv : d.at("rejections").as_object()) {
          rejections += (rejections.empty() ? "" : ", ") + H(kv.key()) + " " + Str(kv.value());
        }
        const bool active = Str(d.at("status")) == "active";
        body += "<tr><td><b>" + H(id) + "</b><br>" + H(Str(d.at("name"))) +
                (d.at("serverSigner").as_bool() ? " <span class=\"badge\">dashboard signer</span>" : "") +
                "</td><td><span class=\"badge " + (active ? "ok" : "bad") + "\">" + H(Str(d.at("status"))) +
                "</span></td><td>" + (d.at("lastSeen").is_null() ? "never" : When(d.at("lastSeen"))) + "</td><td>" +
                Str(d.at("envelopes")) + "</td><td>" + Str(d.at("seqGaps")) + "</td><td>" +
                (rejections.empty() ? "none" : rejections) + "</td><td>";
        if (active && who.role == Role::kAdmin && !d.at("serverSigner").as_bool()) {
          body += "<form method=\"post\" action=\"/dashboard/devices/" + gs1::PercentEncodeValue(id) + "/revoke\">" +
                  Csrf(who) + "<button class=\"danger\" type=\"submit\">Revoke</button></form>";
        }
        body += "</td></tr>";
      }
      body += "</tbody></table></div>";
    }
    return Html(Layout("Devices", who, "/dashboard/devices", body, notice, error), error.empty() ? 200 : 400);
  };
  api.AddRoute("GET", "/dashboard/devices", A::kProducer,
               [page, devices_page](const HttpRequest& req, const P&, Reply reply) {
                 page(req, reply, Permission::kRead,
                      [devices_page, notice = Query(req, "notice")](pqxx::connection& c, const Principal& who,
                                                                    const Form& f) {
                        pqxx::read_transaction tx(c);
                        return devices_page(tx, who, notice, "", "", f);
                      });
               });
  api.AddRoute("POST", "/dashboard/devices", A::kProducer,
               [this, page, devices_page](const HttpRequest& req, const P&, Reply reply) {
                 page(req, reply, Permission::kDevices,
                      [this, devices_page](pqxx::connection& c, const Principal& who, const Form& f) {
                        auto out = producer_.RegisterDevice(who, Field(f, "device"), Field(f, "publicKey"),
                                                            Field(f, "name"));
                        pqxx::read_transaction tx(c);
                        if (!out) return devices_page(tx, who, "", out.error().message(), "", f);
                        std::string secret =
                            "<section class=\"card\"><h2>MQTT credentials of " + H(Field(f, "device")) +
                            "</h2><p>Copy them into the device now: the password is shown only this once.</p>"
                            "<p>Username</p><p class=\"secret\">" + H(Str(out->at("mqtt_username"))) +
                            "</p><p>Password</p><p class=\"secret\">" +
                            (out->at("mqtt_password").is_null() ? std::string("(no broker configured)")
                                                                 : H(Str(out->at("mqtt_password")))) +
                            "</p><p>Publish to <span class=\"mono\">trace/v1/" + H(who.org) + "/" +
                            H(Field(f, "device")) + "/up</span>, receipts on <span class=\"mono\">trace/v1/" +
                            H(who.org) + "/" + H(Field(f, "device")) + "/receipt</span>.</p></section>";
                        return devices_page(tx, who, "Device " + Field(f, "device") + " registered", "", secret, {});
                      });
               });
  api.AddRoute("POST", "/dashboard/devices/{device}/revoke", A::kProducer,
               [this, page](const HttpRequest& req, const P& p, Reply reply) {
                 page(req, reply, Permission::kDevices,
                      [this, device = p.at("device")](pqxx::connection&, const Principal& who, const Form&) {
                        auto out = producer_.RevokeDevice(who, device);
                        if (!out) return ProblemFor(out.error());
                        return SeeOther("/dashboard/devices?notice=" + QueryEscape("Device " + device + " revoked"));
                      });
               });

  // --- Tokens and users (admin).
  auto tokens_page = [](pqxx::transaction_base& tx, const Principal& who, std::string_view notice,
                        std::string_view error, const std::string& secret_html) {
    std::string body = secret_html +
                       "<section class=\"card\"><h2>New API token</h2><form class=\"stack\" method=\"post\" "
                       "action=\"/dashboard/tokens\">" + Csrf(who) + Input("Name", "name", "", "required") +
                       "<label>Role<select name=\"role\"><option>viewer</option><option selected>operator</option>"
                       "<option>admin</option></select></label><label>Scopes (empty: all of the role)<input "
                       "name=\"scopes\" placeholder=\"read write\"></label><button type=\"submit\">Create token"
                       "</button></form></section><h2>Tokens</h2><div class=\"table-wrap\"><table><thead><tr>"
                       "<th>Token</th><th>Name</th><th>Role</th><th>Scopes</th><th>Last used</th><th></th></tr></thead>"
                       "<tbody>";
    for (const auto& v : ListTokens(tx, who.org)) {
      const auto& t = v.as_object();
      std::string scopes;
      for (const auto& s : t.at("scopes").as_array()) scopes += (scopes.empty() ? "" : " ") + H(Str(s));
      body += "<tr><td class=\"mono\">" + H(Str(t.at("prefix"))) + "…</td><td>" + H(Str(t.at("name"))) + "</td><td>" +
              H(Str(t.at("role"))) + "</td><td>" + (scopes.empty() ? "all" : scopes) + "</td><td>" +
              (t.at("lastUsed").is_null() ? "never" : When(t.at("lastUsed"))) + "</td><td>";
      if (t.at("revoked").is_null()) {
        body += "<form method=\"post\" action=\"/dashboard/tokens/" + Str(t.at("id")) + "/revoke\">" + Csrf(who) +
                "<button class=\"danger\" type=\"submit\">Revoke</button></form>";
      } else {
        body += "<span class=\"badge bad\">revoked</span>";
      }
      body += "</td></tr>";
    }
    body += "</tbody></table></div>";
    return Html(Layout("API tokens", who, "/dashboard/tokens", body, notice, error), error.empty() ? 200 : 400);
  };
  api.AddRoute("GET", "/dashboard/tokens", A::kProducer, [page, tokens_page](const HttpRequest& req, const P&, Reply reply) {
    page(req, reply, Permission::kAdmin,
         [tokens_page, notice = Query(req, "notice")](pqxx::connection& c, const Principal& who, const Form&) {
           pqxx::read_transaction tx(c);
           return tokens_page(tx, who, notice, "", "");
         });
  });
  api.AddRoute("POST", "/dashboard/tokens", A::kProducer, [page, tokens_page](const HttpRequest& req, const P&, Reply reply) {
    page(req, reply, Permission::kAdmin, [tokens_page](pqxx::connection& c, const Principal& who, const Form& f) {
      pqxx::work tx(c);
      auto role = ParseRole(Field(f, "role"));
      if (!role) return tokens_page(tx, who, "", role.error().message(), "");
      std::vector<std::string> scopes;
      std::string list = Field(f, "scopes");
      for (size_t start = 0; start < list.size();) {
        size_t end = list.find_first_of(" ,", start);
        if (end == std::string::npos) end = list.size();
        if (end > start) scopes.push_back(list.substr(start, end - start));
        start = end + 1;
      }
      auto out = CreateToken(tx, who, Field(f, "name"), *role, scopes);
      if (!out) return tokens_page(tx, who, "", out.error().message(), "");
      tx.commit();
      pqxx::read_transaction rtx(c);
      return tokens_page(rtx, who, "Token created", "",
                         "<section class=\"card\"><h2>Your new token</h2><p>Copy it now: it is shown only this "
                         "once.</p><p class=\"secret\">" + H(Str(out->at("token"))) + "</p></section>");
    });
  });
  api.AddRoute("POST", "/dashboard/tokens/{id}/revoke", A::kProducer,
               [page](const HttpRequest& req, const P& p, Reply reply) {
                 int64_t id = 0;
                 const std::string& s = p.at("id");
                 auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), id);
                 if (ec != std::errc() || ptr != s.data() + s.size()) return reply(Problem(404, "no such token"));
                 page(req, reply, Permission::kAdmin, [id](pqxx::connection& c, const Principal& who, const Form&) {
                   pqxx::work tx(c);
                   if (Status st = RevokeToken(tx, who, id); !st.ok()) return ProblemFor(st);
                   tx.commit();
                   return SeeOther("/dashboard/tokens?notice=" + QueryEscape("Token revoked"));
                 });
               });
  auto users_page = [](pqxx::transaction_base& tx, const Principal& who, std::string_view notice,
                       std::string_view error) {
    std::string body = "<section class=\"card\"><h2>New user</h2><form class=\"stack\" method=\"post\" "
                       "action=\"/dashboard/users\">" + Csrf(who) +
                       Input("E-mail", "email", "", "type=\"email\" required") +
                       "<label>Password (10 characters or more)<input name=\"password\" type=\"password\" "
                       "autocomplete=\"new-password\" required minlength=\"10\"></label><label>Role<select "
                       "name=\"role\"><option>viewer</option><option selected>operator</option><option>admin"
                       "</option></select></label><button type=\"submit\">Create user</button></form></section>"
                       "<h2>Users</h2><table><thead><tr><th>E-mail</th><th>Role</th><th>Since</th></tr></thead><tbody>";
    for (const auto& v : ListUsers(tx, who.org)) {
      const auto& u = v.as_object();
      body += "<tr><td>" + H(Str(u.at("email"))) + "</td><td>" + H(Str(u.at("role"))) + "</td><td>" +
              When(u.at("created")) + "</td></tr>";
    }
    body += "</tbody></table>";
    return Html(Layout("Users", who, "/dashboard/users", body, notice, error), error.empty() ? 200 : 400);
  };
  api.AddRoute("GET", "/dashboard/users", A::kProducer, [page, users_page](const HttpRequest& req, const P&, Reply reply) {
    page(req, reply, Permission::kAdmin,
         [users_page, notice = Query(req, "notice")](pqxx::connection& c, const Principal& who, const Form&) {
           pqxx::read_transaction tx(c);
           return users_page(tx, who, notice, "");
         });
  });
  api.AddRoute("POST", "/dashboard/users", A::kProducer, [page, users_page](const HttpRequest& req, const P&, Reply reply) {
    page(req, reply, Permission::kAdmin, [users_page](pqxx::connection& c, const Principal& who, const Form& f) {
      pqxx::work tx(c);
      auto role = ParseRole(Field(f, "role"));
      if (!role) return users_page(tx, who, "", role.error().message());
      auto out = CreateUser(tx, who, Field(f, "email"), Field(f, "password"), *role);
      if (!out) return users_page(tx, who, "", out.error().message());
      tx.commit();
      return SeeOther("/dashboard/users?notice=" + QueryEscape("User " + Str(out->at("email")) + " created"));
    });
  });
}

}  // namespace trace::api
