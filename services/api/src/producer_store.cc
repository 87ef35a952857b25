#include "producer_store.h"

#include <boost/json.hpp>
#include <pqxx/pqxx>
#include <regex>
#include <set>

#include "trace/common/gs1.h"
#include "trace/common/secrets.h"
#include "trace/common/sha256.h"

namespace trace::api {
namespace {

namespace json = boost::json;

// Reads typed members of a JSON object, refusing members not in `allowed`.
class Fields {
 public:
  static Result<Fields> Of(const json::value& v, std::set<std::string> allowed) {
    if (!v.is_object()) return Fail(InvalidArgument("body: want a JSON object"));
    for (const auto& kv : v.as_object()) {
      if (!allowed.contains(std::string(kv.key()))) {
        return Fail(InvalidArgument("body." + std::string(kv.key()) + ": unknown member"));
      }
    }
    return Fields(v.as_object());
  }
  Result<std::string> Str(const char* name, bool required, size_t max = 200) const {
    auto it = o_.find(name);
    if (it == o_.end() || it->value().is_null()) {
      if (required) return Fail(InvalidArgument(std::string("body.") + name + ": required"));
      return std::string();
    }
    if (!it->value().is_string()) return Fail(InvalidArgument(std::string("body.") + name + ": want a string"));
    std::string s(it->value().as_string());
    if (required && s.empty()) return Fail(InvalidArgument(std::string("body.") + name + ": empty"));
    if (s.size() > max) {
      return Fail(InvalidArgument(std::string("body.") + name + ": at most " + std::to_string(max) + " characters"));
    }
    return s;
  }
  Result<std::optional<double>> Num(const char* name) const {
    auto it = o_.find(name);
    if (it == o_.end() || it->value().is_null()) return std::optional<double>();
    if (!it->value().is_number()) return Fail(InvalidArgument(std::string("body.") + name + ": want a number"));
    return std::optional<double>(it->value().to_number<double>());
  }
  Result<json::object> Obj(const char* name) const {
    auto it = o_.find(name);
    if (it == o_.end() || it->value().is_null()) return json::object();
    if (!it->value().is_object()) return Fail(InvalidArgument(std::string("body.") + name + ": want an object"));
    if (json::serialize(it->value()).size() > 16 * 1024) {
      return Fail(InvalidArgument(std::string("body.") + name + ": larger than 16 KiB"));
    }
    return it->value().as_object();
  }

 private:
  explicit Fields(const json::object& o) : o_(o) {}
  const json::object& o_;
};

std::optional<int64_t> AnchoredSize(pqxx::transaction_base& tx) {
  pqxx::result r = tx.exec("SELECT max(tree_size) FROM anchors WHERE state = 'confirmed'");
  if (r.empty() || r[0][0].is_null()) return std::nullopt;
  return r[0][0].as<int64_t>();
}

json::value Nullable(const pqxx::field& f) {
  if (f.is_null()) return nullptr;
  return json::value(f.as<std::string>());
}

json::object ProductRow(const pqxx::row& r) {
  // gtin, name, description, category, attributes, created_at, lots
  return json::object{{"gtin", r[0].as<std::string>()},        {"name", r[1].as<std::string>()},
                      {"description", r[2].as<std::string>()}, {"category", r[3].as<std::string>()},
                      {"attributes", json::parse(r[4].as<std::string>())}, {"created", r[5].as<std::string>()},
                      {"lots", r[6].as<int64_t>()}};
}

const std::regex& EmailPattern() {
  static const std::regex re(R"(^[a-z0-9._%+-]+@[a-z0-9.-]+\.[a-z]{2,}$)");
  return re;
}

}  // namespace

// ---------------------------------------------------------------------------
// Inputs.

Result<SiteInput> SiteFromJson(const json::value& body) {
  auto f = Fields::Of(body, {"gln", "name", "kind", "address", "latitude", "longitude"});
  if (!f) return Fail(f.error());
  SiteInput in;
  auto gln = f->Str("gln", true, 13);
  auto name = f->Str("name", true);
  auto kind = f->Str("kind", true, 32);
  auto address = f->Str("address", false, 500);
  auto lat = f->Num("latitude");
  auto lon = f->Num("longitude");
  for (const Status* s : {gln ? nullptr : &gln.error(), name ? nullptr : &name.error(), kind ? nullptr : &kind.error(),
                          address ? nullptr : &address.error(), lat ? nullptr : &lat.error(),
                          lon ? nullptr : &lon.error()}) {
    if (s) return Fail(*s);
  }
  in.gln = *gln, in.name = *name, in.kind = *kind, in.address = *address, in.latitude = *lat, in.longitude = *lon;
  return in;
}

Result<ProductInput> ProductFromJson(const json::value& body) {
  auto f = Fields::Of(body, {"gtin", "name", "description", "category", "attributes"});
  if (!f) return Fail(f.error());
  auto gtin = f->Str("gtin", true, 14);
  if (!gtin) return Fail(gtin.error());
  auto name = f->Str("name", true);
  if (!name) return Fail(name.error());
  auto description = f->Str("description", false, 2000);
  if (!description) return Fail(description.error());
  auto category = f->Str("category", false);
  if (!category) return Fail(category.error());
  auto attributes = f->Obj("attributes");
  if (!attributes) return Fail(attributes.error());
  return ProductInput{*gtin, *name, *description, *category, *attributes};
}

Result<LotInput> LotFromJson(const json::value& body) {
  auto f = Fields::Of(body, {"gtin", "lot", "attributes"});
  if (!f) return Fail(f.error());
  auto gtin = f->Str("gtin", true, 14);
  if (!gtin) return Fail(gtin.error());
  auto lot = f->Str("lot", true, 20);
  if (!lot) return Fail(lot.error());
  auto attributes = f->Obj("attributes");
  if (!attributes) return Fail(attributes.error());
  return LotInput{*gtin, *lot, *attributes};
}

// ---------------------------------------------------------------------------
// Sites.

Result<json::object> CreateSite(pqxx::transaction_base& tx, const Principal& who, const SiteInput& in) {
  if (Status s = gs1::ValidateGln(in.gln); !s.ok()) return Fail(s.WithContext("gln"));
  if (in.name.empty()) return Fail(InvalidArgument("name: required"));
  static const std::regex kind_re("^[a-z][a-z_]{0,31}$");
  if (!std::regex_match(in.kind, kind_re)) {
    return Fail(InvalidArgument("kind: lowercase letters and _, like farm, mill, warehouse, shop"));
  }
  if (in.latitude.has_value() != in.longitude.has_value()) {
    return Fail(InvalidArgument("latitude and longitude: give both or neither"));
  }
  if (in.latitude && (*in.latitude < -90 || *in.latitude > 90)) return Fail(InvalidArgument("latitude: -90..90"));
  if (in.longitude && (*in.longitude < -180 || *in.longitude > 180)) {
    return Fail(InvalidArgument("longitude: -180..180"));
  }
  // ON CONFLICT rather than catching the unique violation: the caller's
  // transaction stays usable for the error page.
  if (tx.exec_params("INSERT INTO sites (gln, org, name, kind, latitude, longitude, address) "
                     "VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING RETURNING gln",
                     in.gln, who.org, in.name, in.kind, in.latitude, in.longitude, in.address)
          .empty()) {
    return Fail(AlreadyExists("GLN " + in.gln + " is registered already"));
  }
  RecordAction(tx, who, "site.create", in.gln);
  json::object out{{"gln", in.gln}, {"name", in.name}, {"kind", in.kind}, {"address", in.address}};
  out["latitude"] = in.latitude ? json::value(*in.latitude) : json::value(nullptr);
  out["longitude"] = in.longitude ? json::value(*in.longitude) : json::value(nullptr);
  return out;
}

json::array ListSites(pqxx::transaction_base& tx, const std::string& org) {
  json::array out;
  for (const auto& r : tx.exec_params(
           "SELECT gln, name, kind, address, latitude, longitude FROM sites WHERE org = $1 ORDER BY name, gln", org)) {
    json::object o{{"gln", r[0].as<std::string>()},
                   {"name", r[1].as<std::string>()},
                   {"kind", r[2].as<std::string>()},
                   {"address", r[3].as<std::string>()}};
    o["latitude"] = r[4].is_null() ? json::value(nullptr) : json::value(r[4].as<double>());
    o["longitude"] = r[5].is_null() ? json::value(nullptr) : json::value(r[5].as<double>());
    out.push_back(std::move(o));
  }
  return out;
}

// ---------------------------------------------------------------------------
// Products and lots.

Result<json::object> CreateProduct(pqxx::transaction_base& tx, const Principal& who, const ProductInput& in) {
  auto gtin = gs1::NormalizeGtin(in.gtin);
  if (!gtin) return Fail(gtin.error().WithContext("gtin"));
  if (in.name.empty()) return Fail(InvalidArgument("name: required"));
  if (tx.exec_params("INSERT INTO products (gtin, org, name, description, category, attributes) "
                     "VALUES ($1, $2, $3, $4, $5, $6::jsonb) ON CONFLICT DO NOTHING RETURNING gtin",
                     *gtin, who.org, in.name, in.description, in.category, json::serialize(in.attributes))
          .empty()) {
    return Fail(AlreadyExists("GTIN " + *gtin + " is registered already"));
  }
  RecordAction(tx, who, "product.create", *gtin);
  return json::object{{"gtin", *gtin},           {"name", in.name},          {"description", in.description},
                      {"category", in.category}, {"attributes", in.attributes}, {"lots", 0}};
}

json::array ListProducts(pqxx::transaction_base& tx, const std::string& org) {
  json::array out;
  for (const auto& r : tx.exec_params(
           "SELECT p.gtin, p.name, p.description, p.category, p.attributes::text, p.created_at::text, "
           "  (SELECT count(*) FROM lots l WHERE l.gtin = p.gtin) "
           "FROM products p WHERE p.org = $1 ORDER BY p.name, p.gtin",
           org)) {
    out.push_back(ProductRow(r));
  }
  return out;
}

Result<json::object> GetProduct(pqxx::transaction_base& tx, const std::string& org, const std::string& gtin_in) {
  auto gtin = gs1::NormalizeGtin(gtin_in);
  if (!gtin) return Fail(gtin.error().WithContext("gtin"));
  pqxx::result r = tx.exec_params(
      "SELECT p.gtin, p.name, p.description, p.category, p.attributes::text, p.created_at::text, "
      "  (SELECT count(*) FROM lots l WHERE l.gtin = p.gtin) "
      "FROM products p WHERE p.org = $1 AND p.gtin = $2",
      org, *gtin);
  if (r.empty()) return Fail(NotFound("no product " + *gtin + " in your organization"));
  return ProductRow(r[0]);
}

Result<json::object> CreateLot(pqxx::transaction_base& tx, const Principal& who, const LotInput& in) {
  auto gtin = gs1::NormalizeGtin(in.gtin);
  if (!gtin) return Fail(gtin.error().WithContext("gtin"));
  if (Status s = gs1::ValidateLot(in.lot); !s.ok()) return Fail(s);
  pqxx::result p = tx.exec_params("SELECT name FROM products WHERE gtin = $1 AND org = $2", *gtin, who.org);
  if (p.empty()) return Fail(NotFound("no product " + *gtin + " in your organization; create the product first"));
  if (tx.exec_params("INSERT INTO lots (gtin, lot, org, attributes) VALUES ($1, $2, $3, $4::jsonb) "
                     "ON CONFLICT DO NOTHING RETURNING lot",
                     *gtin, in.lot, who.org, json::serialize(in.attributes))
          .empty()) {
    return Fail(AlreadyExists("lot " + in.lot + " of " + *gtin + " exists already"));
  }
  RecordAction(tx, who, "lot.create", *gtin + "/" + in.lot);
  return json::object{{"gtin", *gtin},   {"lot", in.lot}, {"product", p[0][0].as<std::string>()},
                      {"attributes", in.attributes},      {"events", 0},
                      {"anchored", 0},   {"recall", nullptr}};
}

json::array ListLots(pqxx::transaction_base& tx, const std::string& org, const std::string& gtin) {
  const auto anchored = AnchoredSize(tx).value_or(0);
  json::array out;
  for (const auto& r : tx.exec_params(
           "SELECT l.gtin, l.lot, p.name, l.attributes::text, l.created_at::text, l.recalled_at::text, "
           "  l.recall_reason, coalesce(ev.n, 0), coalesce(ev.anchored, 0) "
           "FROM lots l JOIN products p ON p.gtin = l.gtin "
           "LEFT JOIN LATERAL ("
           "  SELECT count(*) AS n, count(*) FILTER (WHERE lf.leaf_index < $3) AS anchored FROM ("
           "    SELECT DISTINCT k.envelope_id, k.idx FROM event_keys k WHERE k.gtin = l.gtin AND k.lot = l.lot"
           "  ) e LEFT JOIN log_leaves lf ON lf.envelope_id = e.envelope_id"
           ") ev ON true "
           "WHERE l.org = $1 AND ($2 = '' OR l.gtin = $2) ORDER BY l.created_at DESC, l.gtin, l.lot LIMIT 1000",
           org, gtin, anchored)) {
    json::object o{{"gtin", r[0].as<std::string>()},
                   {"lot", r[1].as<std::string>()},
                   {"product", r[2].as<std::string>()},
                   {"attributes", json::parse(r[3].as<std::string>())},
                   {"created", r[4].as<std::string>()},
                   {"events", r[7].as<int64_t>()},
                   {"anchored", r[8].as<int64_t>()}};
    o["recall"] = r[5].is_null() ? json::value(nullptr)
                                 : json::value(json::object{{"at", r[5].as<std::string>()},
                                                            {"reason", r[6].is_null() ? "" : r[6].as<std::string>()}});
    out.push_back(std::move(o));
  }
  return out;
}

Result<json::object> GetLot(pqxx::transaction_base& tx, const std::string& org, const std::string& gtin_in,
                            const std::string& lot) {
  auto gtin = gs1::NormalizeGtin(gtin_in);
  if (!gtin) return Fail(gtin.error().WithContext("gtin"));
  if (Status s = gs1::ValidateLot(lot); !s.ok()) return Fail(s);
  json::array lots = ListLots(tx, org, *gtin);
  json::object out;
  for (auto& l : lots) {
    if (l.as_object().at("lot").as_string() == lot) out = l.as_object();
  }
  if (out.empty()) return Fail(NotFound("no lot " + lot + " of " + *gtin + " in your organization"));
  const auto anchored = AnchoredSize(tx).value_or(0);
  json::array events;
  for (const auto& r : tx.exec_params(
           "SELECT ev.event_time::text, ev.event_type, ev.action, ev.biz_step, encode(ev.envelope_id, 'hex'), ev.idx, "
           "  en.org, en.device, en.source, lf.leaf_index, ev.biz_location "
           "FROM (SELECT DISTINCT envelope_id, idx FROM event_keys WHERE gtin = $1 AND lot = $2) k "
           "JOIN events ev ON ev.envelope_id = k.envelope_id AND ev.idx = k.idx "
           "JOIN envelopes en ON en.id = ev.envelope_id AND en.received_at = ev.received_at "
           "LEFT JOIN log_leaves lf ON lf.envelope_id = ev.envelope_id "
           "ORDER BY ev.event_time, en.stored_no, ev.idx LIMIT 2000",
           *gtin, lot)) {
    json::object e{{"time", r[0].as<std::string>()},   {"type", r[1].as<std::string>()},
                   {"action", Nullable(r[2])},         {"bizStep", Nullable(r[3])},
                   {"envelope", r[4].as<std::string>()}, {"index", r[5].as<int>()},
                   {"signer", json::object{{"org", r[6].as<std::string>()}, {"device", r[7].as<std::string>()}}},
                   {"source", r[8].as<std::string>()}, {"bizLocation", Nullable(r[10])}};
    e["leaf"] = r[9].is_null() ? json::value(nullptr) : json::value(r[9].as<int64_t>());
    e["anchored"] = !r[9].is_null() && r[9].as<int64_t>() < anchored;
    events.push_back(std::move(e));
  }
  out["eventList"] = std::move(events);
  return out;
}

Result<std::string> OwnedLot(pqxx::transaction_base& tx, const std::string& org, const std::string& gtin_in,
                             const std::string& lot) {
  auto gtin = gs1::NormalizeGtin(gtin_in);
  if (!gtin) return Fail(gtin.error().WithContext("gtin"));
  if (Status s = gs1::ValidateLot(lot); !s.ok()) return Fail(s);
  pqxx::result r = tx.exec_params(
      "SELECT coalesce(p.name, ''), "
      "  CASE WHEN l.org IS NOT NULL THEN l.org = $3 "
      "       ELSE EXISTS (SELECT 1 FROM event_keys k JOIN envelopes e ON e.id = k.envelope_id AND e.received_at = k.received_at "
      "                    WHERE k.gtin = $1 AND k.lot = $2 AND (e.org = $3 OR p.org = $3)) END "
      "FROM (SELECT $1::text AS gtin) q LEFT JOIN lots l ON l.gtin = q.gtin AND l.lot = $2 "
      "LEFT JOIN products p ON p.gtin = q.gtin",
      *gtin, lot, org);
  if (r.empty() || r[0][1].is_null() || !r[0][1].as<bool>()) {
    return Fail(NotFound("no lot " + lot + " of " + *gtin + " in your organization"));
  }
  return r[0][0].as<std::string>();
}

// ---------------------------------------------------------------------------
// Devices.

json::array ListDevices(pqxx::transaction_base& tx, const std::string& org) {
  std::map<std::string, json::object> rejections;
  for (const auto& r : tx.exec_params(
           "SELECT device, reason, count(*) FROM rejected_messages WHERE org = $1 AND device IS NOT NULL "
           "GROUP BY device, reason",
           org)) {
    rejections[r[0].as<std::string>()][r[1].as<std::string>()] = r[2].as<int64_t>();
  }
  json::array out;
  for (const auto& r : tx.exec_params(
           "SELECT d.device, d.name, d.status, d.created_at::text, d.revoked_at::text, d.last_seen_at::text, "
           "  d.last_seq, encode(d.public_key, 'base64'), coalesce(s.n, 0), s.min_seq "
           "FROM devices d LEFT JOIN LATERAL ("
           "  SELECT count(*) AS n, min(seq) AS min_seq FROM envelopes e WHERE e.org = d.org AND e.device = d.device"
           ") s ON true WHERE d.org = $1 ORDER BY d.device",
           org)) {
    const std::string device = r[0].as<std::string>();
    const int64_t count = r[8].as<int64_t>();
    const int64_t last_seq = r[6].as<int64_t>();
    // Seqs never stored between the first and the last (PROTOCOL.md §3 allows gaps; they are reported).
    const int64_t gaps = count == 0 ? 0 : last_seq - r[9].as<int64_t>() + 1 - count;
    std::string key = r[7].as<std::string>();
    for (char& c : key) c = c == '+' ? '-' : c == '/' ? '_' : c;
    while (!key.empty() && key.back() == '=') key.pop_back();
    json::object o{{"device", device},
                   {"name", r[1].as<std::string>()},
                   {"status", r[2].as<std::string>()},
                   {"created", r[3].as<std::string>()},
                   {"revoked", Nullable(r[4])},
                   {"lastSeen", Nullable(r[5])},
                   {"lastSeq", last_seq},
                   {"publicKey", key},
                   {"envelopes", count},
                   {"seqGaps", gaps},
                   {"serverSigner", device == "dashboard"}};
    auto it = rejections.find(device);
    o["rejections"] = it == rejections.end() ? json::object() : it->second;
    out.push_back(std::move(o));
  }
  return out;
}

// ---------------------------------------------------------------------------
// Tokens and users.

Result<json::object> CreateToken(pqxx::transaction_base& tx, const Principal& who, const std::string& name,
                                 Role role, const std::vector<std::string>& scopes) {
  if (name.size() > 200) return Fail(InvalidArgument("name: at most 200 characters"));
  if (static_cast<int>(role) > static_cast<int>(who.role)) {
    return Fail(PermissionDenied("a token cannot have more rights than its creator"));
  }
  std::string array = "{";
  for (const auto& s : scopes) {
    static const std::set<std::string> known = {"read", "write", "devices", "recall", "admin"};
    if (!known.contains(s)) return Fail(InvalidArgument("scopes: \"" + s + "\" is not one of read, write, devices, recall, admin"));
    array += (array.size() > 1 ? "," : "") + s;
  }
  array += "}";
  auto token = NewBearerSecret("trc_");
  if (!token) return Fail(token.error());
  pqxx::result r = tx.exec_params(
      "INSERT INTO api_tokens (org, token_hash, prefix, name, role, scopes) VALUES ($1, $2, $3, $4, $5, $6::text[]) "
      "RETURNING id",
      who.org, pqxx::binarystring(HashBytes(Sha256(*token))), token->substr(0, 10), name, std::string(RoleName(role)),
      array);
  const int64_t id = r[0][0].as<int64_t>();
  RecordAction(tx, who, "token.create", std::to_string(id), {{"role", RoleName(role)}});
  json::array sc;
  for (const auto& s : scopes) sc.emplace_back(s);
  return json::object{{"id", id},   {"token", *token}, {"prefix", token->substr(0, 10)},
                      {"name", name}, {"role", RoleName(role)}, {"scopes", std::move(sc)}};
}

json::array ListTokens(pqxx::transaction_base& tx, const std::string& org) {
  json::array out;
  for (const auto& r : tx.exec_params(
           "SELECT id, prefix, name, role, array_to_string(scopes, ','), created_at::text, last_used_at::text, "
           "  revoked_at::text FROM api_tokens WHERE org = $1 ORDER BY id",
           org)) {
    json::array scopes;
    std::string csv = r[4].is_null() ? "" : r[4].as<std::string>();
    for (size_t start = 0; start < csv.size();) {
      size_t pos = csv.find(',', start);
      if (pos == std::string::npos) pos = csv.size();
      scopes.emplace_back(csv.substr(start, pos - start));
      start = pos + 1;
    }
    out.push_back(json::object{{"id", r[0].as<int64_t>()},      {"prefix", r[1].as<std::string>()},
                               {"name", r[2].as<std::string>()}, {"role", r[3].as<std::string>()},
                               {"scopes", std::move(scopes)},     {"created", r[5].as<std::string>()},
                               {"lastUsed", Nullable(r[6])},      {"revoked", Nullable(r[7])}});
  }
  return out;
}

Status RevokeToken(pqxx::transaction_base& tx, const Principal& who, int64_t id) {
  pqxx::result r = tx.exec_params(
      "UPDATE api_tokens SET revoked_at = coalesce(revoked_at, now()) WHERE id = $1 AND org = $2 RETURNING id", id,
      who.org);
  if (r.empty()) return NotFound("no token " + std::to_string(id) + " in your organization");
  RecordAction(tx, who, "token.revoke", std::to_string(id));
  return OkStatus();
}

Result<json::object> CreateUser(pqxx::transaction_base& tx, const Principal& who, const std::string& email_in,
                                const std::string& password, Role role) {
  std::string email = email_in;
  std::transform(email.begin(), email.end(), email.begin(), [](unsigned char c) { return std::tolower(c); });
  if (email.size() > 254 || !std::regex_match(email, EmailPattern())) {
    return Fail(InvalidArgument("email: not an e-mail address"));
  }
  if (password.size() < 10) return Fail(InvalidArgument("password: at least 10 characters"));
  auto hash = HashPassword(password);
  if (!hash) return Fail(hash.error().WithContext("password"));
  pqxx::result r = tx.exec_params(
      "INSERT INTO users (org, email, password_hash, role) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING "
      "RETURNING id",
      who.org, email, *hash, std::string(RoleName(role)));
  if (r.empty()) return Fail(AlreadyExists("a user with e-mail " + email + " exists already"));
  const int64_t id = r[0][0].as<int64_t>();
  RecordAction(tx, who, "user.create", email, {{"role", RoleName(role)}});
  return json::object{{"id", id}, {"email", email}, {"role", RoleName(role)}};
}

json::array ListUsers(pqxx::transaction_base& tx, const std::string& org) {
  json::array out;
  for (const auto& r : tx.exec_params(
           "SELECT id, email, role, created_at::text, disabled_at::text FROM users WHERE org = $1 ORDER BY email",
           org)) {
    out.push_back(json::object{{"id", r[0].as<int64_t>()},
                               {"email", r[1].as<std::string>()},
                               {"role", r[2].as<std::string>()},
                               {"created", r[3].as<std::string>()},
                               {"disabled", Nullable(r[4])}});
  }
  return out;
}

// ---------------------------------------------------------------------------
// Status.

json::object OrgStatus(pqxx::transaction_base& tx, const std::string& org) {
  json::object ingest;
  for (const auto& r : tx.exec_params(
           "SELECT source, count(*) FILTER (WHERE received_at > now() - interval '1 minute'), "
           "  count(*) FILTER (WHERE received_at > now() - interval '1 hour'), count(*) "
           "FROM envelopes WHERE org = $1 AND received_at > now() - interval '1 day' GROUP BY source",
           org)) {
    ingest[r[0].as<std::string>()] = json::object{
        {"lastMinute", r[1].as<int64_t>()}, {"lastHour", r[2].as<int64_t>()}, {"lastDay", r[3].as<int64_t>()}};
  }
  json::object rejected;
  for (const auto& r : tx.exec_params(
           "SELECT reason, count(*) FROM rejected_messages WHERE org = $1 AND received_at > now() - interval '1 day' "
           "GROUP BY reason ORDER BY reason",
           org)) {
    rejected[r[0].as<std::string>()] = r[1].as<int64_t>();
  }
  const auto anchored = AnchoredSize(tx);
  pqxx::result log = tx.exec_params(
      "SELECT count(*), count(l.leaf_index), count(*) FILTER (WHERE l.leaf_index < $2) "
      "FROM envelopes e LEFT JOIN log_leaves l ON l.envelope_id = e.id WHERE e.org = $1",
      org, anchored.value_or(0));
  json::object out{{"org", org},
                   {"ingest", std::move(ingest)},
                   {"rejectedLastDay", std::move(rejected)},
                   {"envelopes", json::object{{"stored", log[0][0].as<int64_t>()},
                                              {"sequenced", log[0][1].as<int64_t>()},
                                              {"anchored", log[0][2].as<int64_t>()}}},
                   {"lots", ListLots(tx, org)}};
  out["anchoredTreeSize"] = anchored ? json::value(*anchored) : json::value(nullptr);
  return out;
}

void RecordAction(pqxx::transaction_base& tx, const Principal& who, std::string_view action, std::string_view object,
                  const json::object& detail) {
  tx.exec_params("INSERT INTO producer_actions (org, actor, action, object, detail) VALUES ($1, $2, $3, $4, $5::jsonb)",
                 who.org, who.actor, std::string(action), std::string(object), json::serialize(detail));
}

}  // namespace trace::api
