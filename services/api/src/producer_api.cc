#include "producer_api.h"

#include <boost/json.hpp>
#include <charconv>
#include <pqxx/pqxx>

#include "commands.h"
#include "http_util.h"
#include "producer_store.h"
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
    : api_(api), auth_(auth), options_(std::move(options)) {
  Routes();
}

ProducerApi::~ProducerApi() = default;

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
  if (device == "dashboard") {
    return Fail(InvalidArgument("device: \"dashboard\" is reserved for events signed on the server"));
  }
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

  // --- Status.
  api.AddRoute("GET", "/api/v1/status", A::kProducer, [this](const HttpRequest& req, const P&, Reply reply) {
    Guarded(req, reply, Permission::kRead, "", [](pqxx::connection& c, const Principal& who) {
      pqxx::read_transaction tx(c);
      return JsonResponse(OrgStatus(tx, who.org));
    });
  });
}

}  // namespace trace::api
