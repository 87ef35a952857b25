#include "producer_api.h"

#include <boost/json.hpp>
#include <charconv>
#include <pqxx/pqxx>

#include "capture.h"
#include "commands.h"
#include "event_submitter.h"
#include "manual_events.h"
#include "http_util.h"
#include "labels.h"
#include "producer_store.h"
#include "recall.h"
#include "trace/common/digital_link.h"
#include "trace/common/gs1.h"
#include "trace/common/log.h"

namespace trace::api {
namespace {

namespace json = boost::json;

HttpResponse Created(const json::value& body, const std::string& location) {
  HttpResponse res = JsonResponse(body);
  res.status = 201;
  if (!location.empty()) res.Set("Location", location);
  return res;
}

// Producer answers are private to the caller and change: never cached.
HttpResponse Private(HttpResponse res) {
  res.Set("Cache-Control", "no-store");
  return res;
}

HttpResponse Answer(const Result<json::object>& r, int status = 200, const std::string& location = "") {
  if (!r) return ProblemFor(r.error());
  HttpResponse res = status == 201 ? Created(*r, location) : JsonResponse(*r);
  return res;
}

std::vector<std::string> StringList(const json::value* v) {
  std::vector<std::string> out;
  if (v && v->is_array()) {
    for (const auto& s : v->as_array()) {
      if (s.is_string()) out.emplace_back(s.as_string());
    }
  }
  return out;
}

}  // namespace

Result<json::value> JsonBody(const HttpRequest& req) {
  std::string type = req.Header("content-type");
  if (!type.starts_with("application/json")) {
    return Fail(InvalidArgument("Content-Type: want application/json"));
  }
  boost::system::error_code ec;
  json::value v = json::parse(req.body, ec);
  if (ec) return Fail(InvalidArgument("body: not JSON (" + ec.message() + ")"));
  return v;
}

ProducerApi::ProducerApi(Api& api, Authenticator& auth, ProducerOptions options)
    : api_(api), auth_(auth), options_(std::move(options)), signer_(options_.keys_dir) {
  Routes();
  capture_thread_ = std::thread([this] { CaptureWorker(); });
}

ProducerApi::~ProducerApi() {
  {
    std::lock_guard lock(capture_mu_);
    stopping_ = true;
  }
  capture_cv_.notify_all();
  if (capture_thread_.joinable()) capture_thread_.join();
}

void ProducerApi::CaptureWorker() {
  std::unique_ptr<pqxx::connection> conn;
  auto next_sweep = std::chrono::steady_clock::now();
  for (;;) {
    std::string id;
    {
      std::unique_lock lock(capture_mu_);
      capture_cv_.wait_until(lock, next_sweep, [this] { return stopping_ || !capture_queue_.empty(); });
      if (stopping_) return;
      if (!capture_queue_.empty()) {
        id = capture_queue_.front();
        capture_queue_.pop_front();
      }
    }
    try {
      if (!conn || !conn->is_open()) conn = std::make_unique<pqxx::connection>(options_.db_url);
      if (!id.empty()) {
        if (Status s = ProcessCaptureJob(*conn, signer_, id); !s.ok()) {
          log::Warn("capture job not processed", {{"capture", id}, {"error", s.ToString()}});
        }
      } else {
        // Jobs a crashed process left behind, and any this one could not queue.
        auto n = ProcessPendingCaptureJobs(*conn, signer_);
        if (!n) log::Warn("capture sweep failed", {{"error", n.error().ToString()}});
        next_sweep = std::chrono::steady_clock::now() + std::chrono::seconds(60);
      }
    } catch (const std::exception& e) {
      log::Warn("capture worker: database", {{"error", e.what()}});
      conn.reset();
      std::unique_lock lock(capture_mu_);
      if (!id.empty()) capture_queue_.push_back(id);
      capture_cv_.wait_for(lock, std::chrono::seconds(1), [this] { return stopping_; });
    }
  }
}

HttpResponse ProducerApi::SubmitEventsFor(pqxx::connection& c, const Principal& who, const json::array& events) {
  if (options_.keys_dir.empty()) {
    return Problem(503, "this trace-api has no --keys-dir: it cannot sign events for organizations");
  }
  auto result = SubmitEvents(c, signer_, who.org, events);
  if (!result) return ProblemFor(result.error());
  if (!result->errors.empty() || !result->complete()) {
    HttpResponse res = Problem(400, result->errors.empty() ? "an envelope was refused; see envelopes"
                                                           : "events refused; nothing was stored (see errors)");
    // The problem document with the per-event errors and envelopes as extension members.
    boost::system::error_code ec;
    json::value doc = json::parse(res.body, ec);
    if (!ec && doc.is_object()) {
      json::object extra = result->ToJson();
      doc.as_object()["errors"] = extra["errors"];
      doc.as_object()["envelopes"] = extra["envelopes"];
      res.body = json::serialize(doc);
    }
    return res;
  }
  {
    pqxx::work tx(c);
    std::string ids;
    for (const auto& e : result->envelopes) ids += (ids.empty() ? "" : ",") + e.id;
    RecordAction(tx, who, "events.sign", ids, {{"events", events.size()}});
    tx.commit();
  }
  HttpResponse res = JsonResponse(result->ToJson());
  res.status = 201;
  if (!result->envelopes.empty()) res.Set("Location", "/api/v1/envelopes/" + result->envelopes.front().id);
  return res;
}

void ProducerApi::Guarded(const HttpRequest& req, Reply reply, Permission permission, std::string form_token,
                          GuardedFn fn) {
  api_.Db(reply, [this, req, permission, form_token = std::move(form_token), fn = std::move(fn)](
                     pqxx::connection& c) -> HttpResponse {
    auto who = auth_.Authenticate(c, req);
    if (!who) {
      HttpResponse res = ProblemFor(who.error());
      if (res.status == 401) res.Set("WWW-Authenticate", "Bearer realm=\"trace\"");
      if (res.status == 429) res.Set("Retry-After", "60");
      return Private(std::move(res));
    }
    if (Status s = Authorize(*who, permission); !s.ok()) return Private(ProblemFor(s));
    if (Status s = auth_.CheckCsrf(*who, req, form_token); !s.ok()) return Private(ProblemFor(s));
    return Private(fn(c, *who));
  });
}

Result<json::object> ProducerApi::RegisterDevice(const Principal& who, const std::string& device,
                                                 const std::string& public_key, const std::string& name) {
  if (name.size() > 200) return Fail(InvalidArgument("name: at most 200 characters"));
  auto out = admin::DeviceRegisterCommand(options_.db_url, options_.broker, who.org, device, public_key);
  if (!out) return out;
  try {
    pqxx::connection c(options_.db_url);
    pqxx::work tx(c);
    if (!name.empty()) tx.exec_params("UPDATE devices SET name = $1 WHERE org = $2 AND device = $3", name, who.org, device);
    RecordAction(tx, who, "device.register", device);
    tx.commit();
  } catch (const std::exception& e) {
    // The device is registered; only its name or the action record is missing.
    log::Warn("device registered, action not recorded", {{"org", who.org}, {"device", device}, {"error", e.what()}});
  }
  (*out)["name"] = name;
  return out;
}

Result<json::object> ProducerApi::RevokeDevice(const Principal& who, const std::string& device) {
  if (device == "dashboard") return Fail(InvalidArgument("device: the server signer is not revoked this way"));
  auto out = admin::DeviceRevokeCommand(options_.db_url, options_.broker, who.org, device);
  if (!out) return out;
  try {
    pqxx::connection c(options_.db_url);
    pqxx::work tx(c);
    RecordAction(tx, who, "device.revoke", device);
    tx.commit();
  } catch (const std::exception& e) {
    log::Warn("device revoked, action not recorded", {{"org", who.org}, {"device", device}, {"error", e.what()}});
  }
  return out;
}

Result<LabelSheetQuery> ProducerApi::LabelSheetRequest(const HttpRequest& req, const std::string& gtin,
                                                       const std::string& lot) const {
  auto q = ParseQuery(req.query);
  if (!q) return Fail(q.error());
  LabelSheetQuery out{gtin, lot, {}, 12, 3};
  auto number = [&](const char* name, int lo, int hi, int& into) -> Status {
    auto it = q->find(name);
    if (it == q->end() || it->second.empty()) return OkStatus();
    int v = 0;
    auto [ptr, ec] = std::from_chars(it->second.data(), it->second.data() + it->second.size(), v);
    if (ec != std::errc() || ptr != it->second.data() + it->second.size() || v < lo || v > hi) {
      return InvalidArgument(std::string(name) + ": want a number from " + std::to_string(lo) + " to " +
                             std::to_string(hi));
    }
    into = v;
    return OkStatus();
  };
  if (Status s = number("copies", 1, static_cast<int>(kMaxSheetLabels), out.copies); !s.ok()) return Fail(s);
  if (Status s = number("columns", 1, 6, out.columns); !s.ok()) return Fail(s);
  // serials=A,B,C or serials=A&serials=B (whitespace and commas separate).
  for (auto [it, end] = q->equal_range("serials"); it != end; ++it) {
    std::string cur;
    for (char ch : it->second + ",") {
      if (ch == ',' || ch == ' ' || ch == '\n' || ch == '\r') {
        if (!cur.empty()) out.serials.push_back(cur);
        cur.clear();
      } else {
        cur += ch;
      }
    }
  }
  return out;
}

HttpResponse ProducerApi::LabelSheet(pqxx::connection& c, const Principal& who, const LabelSheetQuery& q) {
  pqxx::read_transaction tx(c);
  auto name = OwnedLot(tx, who.org, q.gtin, q.lot);
  if (!name) return ProblemFor(name.error());
  auto sheet = LotLabelSheet(api_.options().public_base, *gs1::NormalizeGtin(q.gtin), q.lot, *name, q.serials,
                             q.copies);
  if (!sheet) return ProblemFor(sheet.error());
  sheet->columns = q.columns;
  auto html = LabelSheetHtml(*sheet);
  if (!html) return ProblemFor(html.error());
  HttpResponse res;
  res.body = std::move(*html);
  res.Set("Content-Type", "text/html; charset=utf-8");
  res.Set("Content-Security-Policy", "default-src 'none'; style-src " + LabelSheetStyleSource() +
                                         "; img-src 'self' data:; base-uri 'none'; form-action 'none'; "
                                         "frame-ancestors 'none'");
  res.Set("X-Content-Type-Options", "nosniff");
  return res;
}

Result<RecallReport> ProducerApi::Recall(pqxx::connection& c, const Principal& who, const std::string& gtin,
                                         const std::string& lot) {
  {
    pqxx::read_transaction tx(c);
    auto owned = OwnedLot(tx, who.org, gtin, lot);
    if (!owned) return Fail(owned.error());
  }
  return BuildRecall(c, *gs1::NormalizeGtin(gtin), lot, {.public_base = api_.options().public_base});
}

Result<json::object> ProducerApi::MarkLotRecalled(pqxx::connection& c, const Principal& who, const std::string& gtin,
                                                  const std::string& lot, const std::string& reason) {
  auto report = Recall(c, who, gtin, lot);
  if (!report) return Fail(report.error());
  auto marked = MarkRecalled(c, who.org, *report, reason);
  if (!marked) return Fail(marked.error());
  {
    pqxx::work tx(c);
    RecordAction(tx, who, "lot.recall", report->gtin + "/" + report->lot,
                 {{"reason", reason}, {"marked", *marked}, {"affected", report->lots.size()}});
    tx.commit();
  }
  // Lots of other organizations are reported for their owners to recall.
  json::array others;
  for (const auto& l : report->lots) {
    if (l.lot_org && *l.lot_org != who.org) others.push_back(json::object{{"gtin", l.gtin}, {"lot", l.lot}, {"org", *l.lot_org}});
  }
  return json::object{{"marked", *marked}, {"affected", report->lots.size()}, {"otherOrganizations", std::move(others)}};
}

void ProducerApi::Routes() {
  using A = Api::Access;
  using P = Api::Params;
  auto& api = api_;

  // --- Sessions.
  api.AddRoute("POST", "/api/v1/session", A::kProducer, [this](const HttpRequest& req, const P&, Reply reply) {
    auto body = JsonBody(req);
    if (!body) return reply(ProblemFor(body.error()));
    if (!body->is_object()) return reply(Problem(400, "body: want {\"email\", \"password\"}"));
    const auto& o = body->as_object();
    const auto* email = o.if_contains("email");
    const auto* password = o.if_contains("password");
    if (!email || !email->is_string() || !password || !password->is_string()) {
      return reply(Problem(400, "body: want {\"email\", \"password\"} as strings"));
    }
    api_.Db(reply, [this, req, email = std::string(email->as_string()),
                    password = std::string(password->as_string())](pqxx::connection& c) {
      auto login = auth_.Login(c, email, password, req.client);
      if (!login) return Private(ProblemFor(login.error()));
      HttpResponse res = JsonResponse(json::object{{"org", login->principal.org},
                                                   {"role", RoleName(login->principal.role)},
                                                   {"actor", login->principal.actor},
                                                   {"csrf", login->principal.csrf}});
      res.Set("Set-Cookie", login->set_cookie);
      return Private(std::move(res));
    });
  });
  api.AddRoute("GET", "/api/v1/session", A::kProducer, [this](const HttpRequest& req, const P&, Reply reply) {
    Guarded(req, reply, Permission::kRead, "", [](pqxx::connection&, const Principal& who) {
      return JsonResponse(json::object{
          {"org", who.org}, {"role", RoleName(who.role)}, {"actor", who.actor}, {"csrf", who.csrf}});
    });
  });
  api.AddRoute("DELETE", "/api/v1/session", A::kProducer, [this](const HttpRequest& req, const P&, Reply reply) {
    Guarded(req, reply, Permission::kRead, "", [this, req](pqxx::connection& c, const Principal&) {
      HttpResponse res;
      res.status = 204;
      res.Set("Set-Cookie", auth_.Logout(c, req));
      return res;
    });
  });

  // --- Sites, products, lots.
  api.AddRoute("GET", "/api/v1/sites", A::kProducer, [this](const HttpRequest& req, const P&, Reply reply) {
    Guarded(req, reply, Permission::kRead, "", [](pqxx::connection& c, const Principal& who) {
      pqxx::read_transaction tx(c);
      return JsonResponse(json::object{{"sites", ListSites(tx, who.org)}});
    });
  });
  api.AddRoute("POST", "/api/v1/sites", A::kProducer, [this](const HttpRequest& req, const P&, Reply reply) {
    auto body = JsonBody(req);
    if (!body) return reply(ProblemFor(body.error()));
    auto in = SiteFromJson(*body);
    if (!in) return reply(ProblemFor(in.error()));
    Guarded(req, reply, Permission::kWrite, "", [in = *in](pqxx::connection& c, const Principal& who) {
      pqxx::work tx(c);
      auto out = CreateSite(tx, who, in);
      if (out) tx.commit();
      return Answer(out, 201, out ? "/api/v1/sites" : "");
    });
  });
  api.AddRoute("GET", "/api/v1/products", A::kProducer, [this](const HttpRequest& req, const P&, Reply reply) {
    Guarded(req, reply, Permission::kRead, "", [](pqxx::connection& c, const Principal& who) {
      pqxx::read_transaction tx(c);
      return JsonResponse(json::object{{"products", ListProducts(tx, who.org)}});
    });
  });
  api.AddRoute("GET", "/api/v1/products/{gtin}", A::kProducer, [this](const HttpRequest& req, const P& p, Reply reply) {
    Guarded(req, reply, Permission::kRead, "", [gtin = p.at("gtin")](pqxx::connection& c, const Principal& who) {
      pqxx::read_transaction tx(c);
      return Answer(GetProduct(tx, who.org, gtin));
    });
  });
  api.AddRoute("POST", "/api/v1/products", A::kProducer, [this](const HttpRequest& req, const P&, Reply reply) {
    auto body = JsonBody(req);
    if (!body) return reply(ProblemFor(body.error()));
    auto in = ProductFromJson(*body);
    if (!in) return reply(ProblemFor(in.error()));
    Guarded(req, reply, Permission::kWrite, "", [in = *in](pqxx::connection& c, const Principal& who) {
      pqxx::work tx(c);
      auto out = CreateProduct(tx, who, in);
      if (!out) return ProblemFor(out.error());
      tx.commit();
      return Created(*out, "/api/v1/products/" + std::string(out->at("gtin").as_string()));
    });
  });
  api.AddRoute("GET", "/api/v1/lots", A::kProducer, [this](const HttpRequest& req, const P&, Reply reply) {
    auto q = ParseQuery(req.query);
    if (!q) return reply(ProblemFor(q.error()));
    std::string gtin;
    if (auto it = q->find("gtin"); it != q->end()) {
      auto g = gs1::NormalizeGtin(it->second);
      if (!g) return reply(ProblemFor(g.error().WithContext("gtin")));
      gtin = *g;
    }
    Guarded(req, reply, Permission::kRead, "", [gtin](pqxx::connection& c, const Principal& who) {
      pqxx::read_transaction tx(c);
      return JsonResponse(json::object{{"lots", ListLots(tx, who.org, gtin)}});
    });
  });
  api.AddRoute("GET", "/api/v1/lots/{gtin}/{lot}", A::kProducer, [this](const HttpRequest& req, const P& p, Reply reply) {
    Guarded(req, reply, Permission::kRead, "",
            [gtin = p.at("gtin"), lot = p.at("lot")](pqxx::connection& c, const Principal& who) {
              pqxx::read_transaction tx(c);
              return Answer(GetLot(tx, who.org, gtin, lot));
            });
  });
  api.AddRoute("POST", "/api/v1/lots", A::kProducer, [this](const HttpRequest& req, const P&, Reply reply) {
    auto body = JsonBody(req);
    if (!body) return reply(ProblemFor(body.error()));
    auto in = LotFromJson(*body);
    if (!in) return reply(ProblemFor(in.error()));
    Guarded(req, reply, Permission::kWrite, "", [in = *in](pqxx::connection& c, const Principal& who) {
      pqxx::work tx(c);
      auto out = CreateLot(tx, who, in);
      if (!out) return ProblemFor(out.error());
      tx.commit();
      return Created(*out, "/api/v1/lots/" + std::string(out->at("gtin").as_string()) + "/" +
                               gs1::PercentEncodeValue(in.lot));
    });
  });

  // --- Devices.
  api.AddRoute("GET", "/api/v1/devices", A::kProducer, [this](const HttpRequest& req, const P&, Reply reply) {
    Guarded(req, reply, Permission::kRead, "", [](pqxx::connection& c, const Principal& who) {
      pqxx::read_transaction tx(c);
      return JsonResponse(json::object{{"devices", ListDevices(tx, who.org)}});
    });
  });
  api.AddRoute("POST", "/api/v1/devices", A::kProducer, [this](const HttpRequest& req, const P&, Reply reply) {
    auto body = JsonBody(req);
    if (!body) return reply(ProblemFor(body.error()));
    const auto* o = body->if_object();
    auto str = [&](const char* k) -> std::optional<std::string> {
      const auto* v = o ? o->if_contains(k) : nullptr;
      if (!v) return std::string();
      if (!v->is_string()) return std::nullopt;
      return std::string(v->as_string());
    };
    auto device = str("device"), key = str("publicKey"), name = str("name");
    if (!o || !device || !key || !name || device->empty() || key->empty()) {
      return reply(Problem(400, "body: want {\"device\", \"publicKey\" (base64url Ed25519), \"name\"?} as strings"));
    }
    Guarded(req, reply, Permission::kDevices, "",
            [this, device = *device, key = *key, name = *name](pqxx::connection&, const Principal& who) {
              auto out = RegisterDevice(who, device, key, name);
              return Answer(out, 201, "/api/v1/devices");
            });
  });
  api.AddRoute("POST", "/api/v1/devices/{device}/revoke", A::kProducer,
               [this](const HttpRequest& req, const P& p, Reply reply) {
                 Guarded(req, reply, Permission::kDevices, "",
                         [this, device = p.at("device")](pqxx::connection&, const Principal& who) {
                           return Answer(RevokeDevice(who, device));
                         });
               });

  // --- Tokens and users.
  api.AddRoute("GET", "/api/v1/tokens", A::kProducer, [this](const HttpRequest& req, const P&, Reply reply) {
    Guarded(req, reply, Permission::kAdmin, "", [](pqxx::connection& c, const Principal& who) {
      pqxx::read_transaction tx(c);
      return JsonResponse(json::object{{"tokens", ListTokens(tx, who.org)}});
    });
  });
  api.AddRoute("POST", "/api/v1/tokens", A::kProducer, [this](const HttpRequest& req, const P&, Reply reply) {
    auto body = JsonBody(req);
    if (!body) return reply(ProblemFor(body.error()));
    const auto* o = body->if_object();
    const auto* role = o ? o->if_contains("role") : nullptr;
    const auto* name = o ? o->if_contains("name") : nullptr;
    if (!o || !role || !role->is_string() || (name && !name->is_string())) {
      return reply(Problem(400, "body: want {\"role\", \"name\"?, \"scopes\"?: [...]}"));
    }
    auto r = ParseRole(role->as_string());
    if (!r) return reply(ProblemFor(r.error()));
    Guarded(req, reply, Permission::kAdmin, "",
            [role = *r, name = name ? std::string(name->as_string()) : std::string(),
             scopes = StringList(o->if_contains("scopes"))](pqxx::connection& c, const Principal& who) {
              pqxx::work tx(c);
              auto out = CreateToken(tx, who, name, role, scopes);
              if (!out) return ProblemFor(out.error());
              tx.commit();
              return Created(*out, "/api/v1/tokens");
            });
  });
  api.AddRoute("DELETE", "/api/v1/tokens/{id}", A::kProducer, [this](const HttpRequest& req, const P& p, Reply reply) {
    int64_t id = 0;
    const std::string& s = p.at("id");
    auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), id);
    if (ec != std::errc() || ptr != s.data() + s.size()) return reply(Problem(400, "token id: want an integer"));
    Guarded(req, reply, Permission::kAdmin, "", [id](pqxx::connection& c, const Principal& who) {
      pqxx::work tx(c);
      if (Status st = RevokeToken(tx, who, id); !st.ok()) return ProblemFor(st);
      tx.commit();
      HttpResponse res;
      res.status = 204;
      return res;
    });
  });
  api.AddRoute("GET", "/api/v1/users", A::kProducer, [this](const HttpRequest& req, const P&, Reply reply) {
    Guarded(req, reply, Permission::kAdmin, "", [](pqxx::connection& c, const Principal& who) {
      pqxx::read_transaction tx(c);
      return JsonResponse(json::object{{"users", ListUsers(tx, who.org)}});
    });
  });
  api.AddRoute("POST", "/api/v1/users", A::kProducer, [this](const HttpRequest& req, const P&, Reply reply) {
    auto body = JsonBody(req);
    if (!body) return reply(ProblemFor(body.error()));
    const auto* o = body->if_object();
    auto get = [&](const char* k) -> std::string {
      const auto* v = o ? o->if_contains(k) : nullptr;
      return v && v->is_string() ? std::string(v->as_string()) : std::string();
    };
    auto role = ParseRole(get("role"));
    if (!role) return reply(ProblemFor(role.error()));
    Guarded(req, reply, Permission::kAdmin, "",
            [email = get("email"), password = get("password"), role = *role](pqxx::connection& c,
                                                                              const Principal& who) {
              pqxx::work tx(c);
              auto out = CreateUser(tx, who, email, password, role);
              if (!out) return ProblemFor(out.error());
              tx.commit();
              return Created(*out, "/api/v1/users");
            });
  });

  // --- Manual events: {"kind": "harvest", ...form fields} or {"events": [EPCIS events]}.
  api.AddRoute("POST", "/api/v1/events", A::kProducer, [this](const HttpRequest& req, const P&, Reply reply) {
    auto body = JsonBody(req);
    if (!body) return reply(ProblemFor(body.error()));
    if (!body->is_object()) return reply(Problem(400, "body: want {\"kind\", ...} or {\"events\": [...]}"));
    json::array events;
    json::object fields = body->as_object();
    if (const auto* list = fields.if_contains("events")) {
      if (!list->is_array() || list->as_array().empty() || fields.size() != 1) {
        return reply(Problem(400, "events: want a non-empty array of EPCIS events, alone in the body"));
      }
      events = list->as_array();
    } else {
      const auto* kind = fields.if_contains("kind");
      if (!kind || !kind->is_string()) return reply(Problem(400, "kind: want one of harvest, processing, packing, "
                                                                 "shipping, receiving (or send \"events\")"));
      const std::string k(kind->as_string());
      fields.erase("kind");
      auto event = BuildManualEvent(k, fields);
      if (!event) return reply(ProblemFor(event.error()));
      events.push_back(std::move(*event));
    }
    Guarded(req, reply, Permission::kWrite, "", [this, events](pqxx::connection& c, const Principal& who) {
      return SubmitEventsFor(c, who, events);
    });
  });

  // --- EPCIS 2.0 capture (GS1 REST binding): 202 with a job; the job lists per-event errors.
  api.AddRoute("POST", "/api/v1/epcis/capture", A::kProducer, [this](const HttpRequest& req, const P&, Reply reply) {
    auto behaviour = ParseCaptureErrorBehaviour(req.Header("gs1-capture-error-behaviour"));
    if (!behaviour) return reply(ProblemFor(behaviour.error()));
    std::string type = req.Header("content-type");
    if (!type.starts_with("application/json") && !type.starts_with("application/ld+json")) {
      return reply(Problem(415, "Content-Type: want application/json or application/ld+json"));
    }
    Guarded(req, reply, Permission::kWrite, "",
            [this, body = req.body, b = *behaviour](pqxx::connection& c, const Principal& who) {
              if (options_.keys_dir.empty()) {
                return Problem(503, "this trace-api has no --keys-dir: it cannot sign events for organizations");
              }
              auto id = CreateCaptureJob(c, who.org, body, b);
              if (!id) {
                return id.error().code() == StatusCode::kResourceExhausted ? Problem(413, id.error().message())
                                                                           : ProblemFor(id.error());
              }
              {
                std::lock_guard lock(capture_mu_);
                capture_queue_.push_back(*id);
              }
              capture_cv_.notify_one();
              HttpResponse res;
              res.status = 202;
              res.Set("Location", "/api/v1/epcis/capture/" + *id);
              res.Set("GS1-EPCIS-Version", "2.0.0");
              return res;
            });
  });
  api.AddRoute("GET", "/api/v1/epcis/capture/{id}", A::kProducer, [this](const HttpRequest& req, const P& p, Reply reply) {
    Guarded(req, reply, Permission::kRead, "", [id = p.at("id")](pqxx::connection& c, const Principal& who) {
      auto job = CaptureJobJson(c, who.org, id);
      if (!job) return ProblemFor(job.error());
      return JsonResponse(*job);
    });
  });
  api.AddRoute("GET", "/api/v1/epcis/capture", A::kProducer, [this](const HttpRequest& req, const P&, Reply reply) {
    Guarded(req, reply, Permission::kRead, "", [](pqxx::connection& c, const Principal& who) {
      pqxx::read_transaction tx(c);
      json::array jobs;
      for (const auto& r : tx.exec_params(
               "SELECT id FROM capture_jobs WHERE org = $1 ORDER BY created_at DESC LIMIT 50", who.org)) {
        jobs.emplace_back(r[0].as<std::string>());
      }
      return JsonResponse(json::object{{"captureJobs", std::move(jobs)}});
    });
  });

  // --- QR labels: the lot's (or one item's) Digital Link, PNG or SVG, and a printable sheet.
  for (const std::string ext : {"png", "svg"}) {
    for (const bool serial : {false, true}) {
      const std::string pattern = serial ? "/api/v1/labels/{gtin}/{lot}/21/{serial}." + ext
                                         : "/api/v1/labels/{gtin}/{lot}." + ext;
      api.AddRoute("GET", pattern, A::kProducer, [this, ext, serial](const HttpRequest& req, const P& p, Reply reply) {
        gs1::DigitalLink link{p.at("gtin"), p.at("lot"), std::nullopt, {}};
        if (serial) link.serial = p.at("serial");
        Guarded(req, reply, Permission::kRead, "", [this, ext, link](pqxx::connection& c, const Principal& who) {
          pqxx::read_transaction tx(c);
          auto name = OwnedLot(tx, who.org, link.gtin, *link.lot);
          if (!name) return ProblemFor(name.error());
          gs1::DigitalLink normalized = link;
          normalized.gtin = *gs1::NormalizeGtin(link.gtin);
          auto spec = ProductLabelSpec(api_.options().public_base, normalized, *name);
          if (!spec) return ProblemFor(spec.error());
          auto image = ext == "png" ? LabelPng(*spec) : LabelSvg(*spec);
          if (!image) return ProblemFor(image.error());
          HttpResponse res;
          res.body = std::move(*image);
          res.Set("Content-Type", ext == "png" ? "image/png" : "image/svg+xml");
          res.Set("Content-Disposition", "inline; filename=\"label-" + normalized.gtin + "-" +
                                             gs1::PercentEncodeValue(*link.lot) + "." + ext + "\"");
          return res;
        });
      });
    }
  }
  api.AddRoute("GET", "/api/v1/labels/{gtin}/{lot}/sheet", A::kProducer,
               [this](const HttpRequest& req, const P& p, Reply reply) {
                 auto sheet = LabelSheetRequest(req, p.at("gtin"), p.at("lot"));
                 if (!sheet) return reply(ProblemFor(sheet.error()));
                 Guarded(req, reply, Permission::kRead, "",
                         [this, sheet = *sheet](pqxx::connection& c, const Principal& who) {
                           return LabelSheet(c, who, sheet);
                         });
               });

  // --- Recall: the report (JSON, CSV) and marking the lots recalled.
  api.AddRoute("GET", "/api/v1/recall/{gtin}/{lot}.csv", A::kProducer,
               [this](const HttpRequest& req, const P& p, Reply reply) {
                 Guarded(req, reply, Permission::kRead, "",
                         [this, gtin = p.at("gtin"), lot = p.at("lot")](pqxx::connection& c, const Principal& who) {
                           auto report = Recall(c, who, gtin, lot);
                           if (!report) return ProblemFor(report.error());
                           HttpResponse res;
                           res.body = RecallCsv(*report);
                           res.Set("Content-Type", "text/csv; charset=utf-8; header=present");
                           res.Set("Content-Disposition", "attachment; filename=\"recall-" + report->gtin + "-" +
                                                              gs1::PercentEncodeValue(report->lot) + ".csv\"");
                           return res;
                         });
               });
  api.AddRoute("GET", "/api/v1/recall/{gtin}/{lot}", A::kProducer, [this](const HttpRequest& req, const P& p, Reply reply) {
    Guarded(req, reply, Permission::kRead, "",
            [this, gtin = p.at("gtin"), lot = p.at("lot")](pqxx::connection& c, const Principal& who) {
              auto report = Recall(c, who, gtin, lot);
              if (!report) return ProblemFor(report.error());
              return JsonResponse(RecallJson(*report));
            });
  });
  api.AddRoute("POST", "/api/v1/recall/{gtin}/{lot}", A::kProducer, [this](const HttpRequest& req, const P& p, Reply reply) {
    auto body = JsonBody(req);
    if (!body) return reply(ProblemFor(body.error()));
    const auto* reason = body->is_object() ? body->as_object().if_contains("reason") : nullptr;
    if (!reason || !reason->is_string()) return reply(Problem(400, "body: want {\"reason\": \"...\"}"));
    Guarded(req, reply, Permission::kRecall, "",
            [this, gtin = p.at("gtin"), lot = p.at("lot"), reason = std::string(reason->as_string())](
                pqxx::connection& c, const Principal& who) {
              auto marked = MarkLotRecalled(c, who, gtin, lot, reason);
              if (!marked) return ProblemFor(marked.error());
              return JsonResponse(*marked);
            });
  });

  // --- Status.
  api.AddRoute("GET", "/api/v1/status", A::kProducer, [this](const HttpRequest& req, const P&, Reply reply) {
    Guarded(req, reply, Permission::kRead, "", [](pqxx::connection& c, const Principal& who) {
      pqxx::read_transaction tx(c);
      return JsonResponse(OrgStatus(tx, who.org));
    });
  });
}

}  // namespace trace::api
