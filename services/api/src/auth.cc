#include "auth.h"

#include <algorithm>
#include <pqxx/pqxx>

#include "trace/common/encoding.h"
#include "trace/common/pg_log.h"
#include "trace/common/secrets.h"
#include "trace/common/sha256.h"

namespace trace::api {
namespace {

constexpr std::string_view kSessionPrefix = "trs_";
constexpr std::string_view kTokenPrefix = "trc_";

void SplitScopes(const std::string& csv, std::vector<std::string>& out) {
  size_t start = 0;
  while (start < csv.size()) {
    size_t pos = csv.find(',', start);
    if (pos == std::string::npos) pos = csv.size();
    if (pos > start) out.push_back(csv.substr(start, pos - start));
    start = pos + 1;
  }
}

bool Allows(Role role, Permission p) {
  switch (p) {
    case Permission::kRead:
      return true;
    case Permission::kWrite:
      return role != Role::kViewer;
    case Permission::kDevices:
    case Permission::kRecall:
    case Permission::kAdmin:
      return role == Role::kAdmin;
  }
  return false;
}

std::string OriginOf(std::string_view url) {
  // scheme://host[:port] of an absolute URL.
  auto scheme = url.find("://");
  if (scheme == std::string_view::npos) return std::string(url);
  auto path = url.find('/', scheme + 3);
  return std::string(url.substr(0, path));
}

}  // namespace

std::string_view RoleName(Role role) {
  switch (role) {
    case Role::kViewer:
      return "viewer";
    case Role::kOperator:
      return "operator";
    case Role::kAdmin:
      return "admin";
  }
  return "viewer";
}

Result<Role> ParseRole(std::string_view name) {
  if (name == "viewer") return Role::kViewer;
  if (name == "operator") return Role::kOperator;
  if (name == "admin") return Role::kAdmin;
  return Fail(InvalidArgument("role: want admin, operator or viewer, not \"" + std::string(name) + "\""));
}

std::string_view PermissionName(Permission p) {
  switch (p) {
    case Permission::kRead:
      return "read";
    case Permission::kWrite:
      return "write";
    case Permission::kDevices:
      return "devices";
    case Permission::kRecall:
      return "recall";
    case Permission::kAdmin:
      return "admin";
  }
  return "read";
}

Status Authorize(const Principal& who, Permission p) {
  if (!Allows(who.role, p)) {
    return PermissionDenied("the " + std::string(RoleName(who.role)) + " role may not do this (needs " +
                            std::string(PermissionName(p)) + ")");
  }
  if (!who.scopes.empty() &&
      std::find(who.scopes.begin(), who.scopes.end(), PermissionName(p)) == who.scopes.end()) {
    return PermissionDenied("the token's scopes do not include \"" + std::string(PermissionName(p)) + "\"");
  }
  return OkStatus();
}

// ---------------------------------------------------------------------------

int GuessLimiter::Blocked(const std::string& key) {
  std::lock_guard lock(mu_);
  auto now = std::chrono::steady_clock::now();
  auto it = entries_.find(key);
  if (it == entries_.end()) return 0;
  auto age = now - it->second.first;
  if (age >= window_) {
    entries_.erase(it);
    return 0;
  }
  if (it->second.failures < max_failures_) return 0;
  return static_cast<int>(std::chrono::duration_cast<std::chrono::seconds>(window_ - age).count()) + 1;
}

void GuessLimiter::Failed(const std::string& key) {
  std::lock_guard lock(mu_);
  auto now = std::chrono::steady_clock::now();
  if (entries_.size() > 100'000) PruneLocked(now);
  auto& e = entries_[key];
  if (e.failures == 0 || now - e.first >= window_) e = Entry{0, now};
  ++e.failures;
}

void GuessLimiter::Succeeded(const std::string& key) {
  std::lock_guard lock(mu_);
  entries_.erase(key);
}

void GuessLimiter::PruneLocked(std::chrono::steady_clock::time_point now) {
  std::erase_if(entries_, [&](const auto& kv) { return now - kv.second.first >= window_; });
}

// ---------------------------------------------------------------------------

std::string CookieValue(std::string_view header, std::string_view name) {
  size_t pos = 0;
  while (pos < header.size()) {
    size_t end = header.find(';', pos);
    if (end == std::string_view::npos) end = header.size();
    std::string_view pair = header.substr(pos, end - pos);
    while (!pair.empty() && pair.front() == ' ') pair.remove_prefix(1);
    auto eq = pair.find('=');
    if (eq != std::string_view::npos && pair.substr(0, eq) == name) return std::string(pair.substr(eq + 1));
    pos = end + 1;
  }
  return "";
}

Authenticator::Authenticator(AuthOptions options)
    : options_(std::move(options)),
      by_client_(options_.max_failures, options_.failure_window),
      by_email_(options_.max_failures, options_.failure_window) {
  // Cheap parameters would tell an unknown e-mail by its speed: use the real ones.
  auto dummy = HashPassword("not a password of anyone");
  dummy_hash_ = dummy ? *dummy : "";
}

std::string Authenticator::CsrfFor(std::string_view session_secret) {
  return Base64UrlEncode(HmacSha256("trace csrf v1", session_secret)).substr(0, 32);
}

Result<Principal> Authenticator::Authenticate(pqxx::connection& conn, const HttpRequest& req) {
  const std::string client = req.client;
  if (int wait = by_client_.Blocked(client); wait > 0) {
    return Fail(ResourceExhausted("too many failed sign-ins from this client; retry in " + std::to_string(wait) +
                                  " s"));
  }
  std::string authorization = req.Header("authorization");
  if (!authorization.empty()) {
    constexpr std::string_view kBearer = "Bearer ";
    if (authorization.size() <= kBearer.size() ||
        !std::equal(kBearer.begin(), kBearer.end(), authorization.begin(),
                    [](char a, char b) { return std::tolower(a) == std::tolower(b); })) {
      return Fail(Unauthenticated("Authorization: want \"Bearer trc_...\""));
    }
    return FromToken(conn, std::string_view(authorization).substr(kBearer.size()), client);
  }
  std::string cookie = CookieValue(req.Header("cookie"), kCookieName);
  if (!cookie.empty()) return FromSession(conn, cookie, client);
  return Fail(Unauthenticated("sign in, or send Authorization: Bearer with an API token"));
}

Result<Principal> Authenticator::FromToken(pqxx::connection& conn, std::string_view token, const std::string& client) {
  if (!token.starts_with(kTokenPrefix) || token.size() > 128) {
    by_client_.Failed(client);
    return Fail(Unauthenticated("not an API token"));
  }
  try {
    pqxx::work tx(conn);
    pqxx::result r = tx.exec_params(
        "SELECT id, org, role, array_to_string(scopes, ','), prefix, "
        "  (last_used_at IS NULL OR last_used_at < now() - interval '1 minute') "
        "FROM api_tokens WHERE token_hash = $1 AND revoked_at IS NULL",
        pqxx::binarystring(HashBytes(Sha256(token))));
    if (r.empty()) {
      by_client_.Failed(client);
      return Fail(Unauthenticated("unknown or revoked API token"));
    }
    Principal p;
    p.token_id = r[0][0].as<int64_t>();
    p.org = r[0][1].as<std::string>();
    auto role = ParseRole(r[0][2].as<std::string>());
    if (!role) return Fail(Internal("api_tokens.role: " + role.error().message()));
    p.role = *role;
    SplitScopes(r[0][3].is_null() ? "" : r[0][3].as<std::string>(), p.scopes);
    p.actor = "token:" + r[0][4].as<std::string>();
    if (r[0][5].as<bool>()) tx.exec_params("UPDATE api_tokens SET last_used_at = now() WHERE id = $1", *p.token_id);
    tx.commit();
    return p;
  } catch (const std::exception& e) {
    return Fail(pg::PgError("authenticate", e));
  }
}

Result<Principal> Authenticator::FromSession(pqxx::connection& conn, std::string_view secret,
                                             const std::string& client) {
  if (!secret.starts_with(kSessionPrefix) || secret.size() > 128) {
    return Fail(Unauthenticated("no valid session; sign in again"));
  }
  try {
    pqxx::work tx(conn);
    pqxx::result r = tx.exec_params(
        "SELECT s.org, u.role, u.email, u.id, s.last_seen_at < now() - interval '1 minute' "
        "FROM sessions s JOIN users u ON u.id = s.user_id "
        "WHERE s.id_hash = $1 AND s.revoked_at IS NULL AND s.expires_at > now() AND u.disabled_at IS NULL",
        pqxx::binarystring(HashBytes(Sha256(secret))));
    if (r.empty()) {
      by_client_.Failed(client);
      return Fail(Unauthenticated("the session has ended; sign in again"));
    }
    Principal p;
    p.org = r[0][0].as<std::string>();
    auto role = ParseRole(r[0][1].as<std::string>());
    if (!role) return Fail(Internal("users.role: " + role.error().message()));
    p.role = *role;
    p.actor = "user:" + r[0][2].as<std::string>();
    p.user_id = r[0][3].as<int64_t>();
    p.via_session = true;
    p.csrf = CsrfFor(secret);
    if (r[0][4].as<bool>()) {
      tx.exec_params("UPDATE sessions SET last_seen_at = now() WHERE id_hash = $1",
                     pqxx::binarystring(HashBytes(Sha256(secret))));
    }
    tx.commit();
    return p;
  } catch (const std::exception& e) {
    return Fail(pg::PgError("authenticate", e));
  }
}

Status Authenticator::CheckCsrf(const Principal& who, const HttpRequest& req, std::string_view form_token) const {
  if (!who.via_session) return OkStatus();
  if (req.method == "GET" || req.method == "HEAD") return OkStatus();
  std::string origin = req.Header("origin");
  if (!origin.empty() && !options_.public_origin.empty() && origin != OriginOf(options_.public_origin)) {
    return PermissionDenied("cross-origin request refused (Origin " + origin + ")");
  }
  std::string token = form_token.empty() ? req.Header("x-csrf-token") : std::string(form_token);
  if (token.empty() || !ConstantTimeEquals(token, who.csrf)) {
    return PermissionDenied("missing or wrong CSRF token; reload the page and try again");
  }
  return OkStatus();
}

Result<LoginResult> Authenticator::Login(pqxx::connection& conn, std::string_view email_in, std::string_view password,
                                         const std::string& client) {
  std::string email(email_in);
  std::transform(email.begin(), email.end(), email.begin(), [](unsigned char c) { return std::tolower(c); });
  for (const std::string& key : {client, "email:" + email}) {
    GuessLimiter& limiter = key == client ? by_client_ : by_email_;
    if (int wait = limiter.Blocked(key); wait > 0) {
      return Fail(ResourceExhausted("too many failed sign-ins; retry in " + std::to_string(wait) + " s"));
    }
  }
  const auto refused = Unauthenticated("wrong e-mail or password");
  if (email.empty() || email.size() > 254 || password.empty() || password.size() > 1024) {
    by_client_.Failed(client);
    return Fail(refused);
  }
  try {
    pqxx::work tx(conn);
    pqxx::result r = tx.exec_params(
        "SELECT id, org, role, password_hash FROM users WHERE email = $1 AND disabled_at IS NULL", email);
    bool ok = false;
    if (r.empty()) {
      VerifyPassword(password, dummy_hash_);
    } else {
      ok = VerifyPassword(password, r[0][3].as<std::string>());
    }
    if (!ok) {
      by_client_.Failed(client);
      by_email_.Failed("email:" + email);
      return Fail(refused);
    }
    auto secret = NewBearerSecret(kSessionPrefix);
    if (!secret) return Fail(secret.error());
    Principal p;
    p.user_id = r[0][0].as<int64_t>();
    p.org = r[0][1].as<std::string>();
    auto role = ParseRole(r[0][2].as<std::string>());
    if (!role) return Fail(Internal("users.role: " + role.error().message()));
    p.role = *role;
    p.actor = "user:" + email;
    p.via_session = true;
    p.csrf = CsrfFor(*secret);
    const auto ttl = std::chrono::duration_cast<std::chrono::seconds>(options_.session_ttl).count();
    tx.exec_params(
        "INSERT INTO sessions (id_hash, user_id, org, expires_at, client) "
        "VALUES ($1, $2, $3, now() + make_interval(secs => $4), $5)",
        pqxx::binarystring(HashBytes(Sha256(*secret))), *p.user_id, p.org, static_cast<double>(ttl), client);
    tx.commit();
    by_client_.Succeeded(client);
    by_email_.Succeeded("email:" + email);
    std::string cookie = std::string(kCookieName) + "=" + *secret + "; Path=/; HttpOnly; SameSite=Strict; Max-Age=" +
                         std::to_string(ttl);
    if (options_.secure_cookies) cookie += "; Secure";
    return LoginResult{std::move(cookie), std::move(p)};
  } catch (const std::exception& e) {
    return Fail(pg::PgError("sign in", e));
  }
}

std::string Authenticator::Logout(pqxx::connection& conn, const HttpRequest& req) {
  std::string secret = CookieValue(req.Header("cookie"), kCookieName);
  if (secret.starts_with(kSessionPrefix)) {
    pqxx::work tx(conn);
    tx.exec_params("UPDATE sessions SET revoked_at = now() WHERE id_hash = $1 AND revoked_at IS NULL",
                   pqxx::binarystring(HashBytes(Sha256(secret))));
    tx.commit();
  }
  std::string cookie = std::string(kCookieName) + "=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0";
  if (options_.secure_cookies) cookie += "; Secure";
  return cookie;
}

}  // namespace trace::api
