// Who is calling the producer routes (issue 6): API tokens (Authorization:
// Bearer trc_...), dashboard sessions (the trace_session cookie, with a CSRF
// token on every form), roles and scopes, and limits on guessing.
//
// Roles: viewer reads; operator also writes products, lots, sites, events,
// capture jobs; admin also manages devices, tokens, users and recalls. A token
// may narrow its role with scopes (read, write, devices, recall, admin); an
// empty scope list means everything its role allows.
//
// Example (on a DbPool thread):
//   auto who = auth.Authenticate(conn, req);          // Unauthenticated -> 401
//   if (!who) return ProblemFor(who.error());
//   if (Status s = Authorize(*who, Permission::kWrite); !s.ok()) return ProblemFor(s);  // 403
//   if (Status s = auth.CheckCsrf(*who, req, form["csrf"]); !s.ok()) return ProblemFor(s);
//
// Thread-safe.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <pqxx/connection>
#include <string>
#include <string_view>
#include <vector>

#include "http_server.h"
#include "trace/common/status.h"

namespace trace::api {

enum class Role { kViewer, kOperator, kAdmin };
enum class Permission { kRead, kWrite, kDevices, kRecall, kAdmin };

std::string_view RoleName(Role role);
Result<Role> ParseRole(std::string_view name);
std::string_view PermissionName(Permission p);  // also the scope's name

struct Principal {
  std::string org;
  Role role = Role::kViewer;
  std::vector<std::string> scopes;  // tokens only; empty: all the role allows
  std::string actor;                // "user:alice@example.com" or "token:trc_AbCdEf"
  std::optional<int64_t> user_id;   // sessions
  std::optional<int64_t> token_id;  // tokens
  bool via_session = false;         // cookie: unsafe requests need the CSRF token
  std::string csrf;                 // the session's CSRF token ("" for tokens)
};

// OkStatus when `who` may do what `p` covers; PermissionDenied naming the
// permission otherwise.
Status Authorize(const Principal& who, Permission p);

// Counts failures per key (a client address, an e-mail) in a sliding window
// and refuses further attempts once `max_failures` are reached, until the
// window has passed. Thread-safe; memory bounded by pruning old keys.
class GuessLimiter {
 public:
  GuessLimiter(int max_failures, std::chrono::seconds window) : max_failures_(max_failures), window_(window) {}
  // Seconds to wait when `key` is locked out, else 0.
  int Blocked(const std::string& key);
  void Failed(const std::string& key);
  void Succeeded(const std::string& key);

 private:
  struct Entry {
    int failures = 0;
    std::chrono::steady_clock::time_point first;
  };
  void PruneLocked(std::chrono::steady_clock::time_point now);
  const int max_failures_;
  const std::chrono::seconds window_;
  std::mutex mu_;
  std::map<std::string, Entry> entries_;
};

struct AuthOptions {
  std::chrono::hours session_ttl{12};
  bool secure_cookies = false;  // Secure attribute (set when the public base is https)
  std::string public_origin;    // "https://id.example.com": unsafe cookie requests must come from it
  int max_failures = 10;        // bad tokens or passwords per client (and per e-mail) ...
  std::chrono::seconds failure_window{300};  // ... in this window, then 429
};

struct LoginResult {
  std::string set_cookie;  // the Set-Cookie header value
  Principal principal;
};

class Authenticator {
 public:
  explicit Authenticator(AuthOptions options);

  static constexpr std::string_view kCookieName = "trace_session";

  // The principal of `req`: a bearer token if there is an Authorization header,
  // else the session cookie. Unauthenticated when there is neither or it is not
  // valid (revoked, expired, unknown); ResourceExhausted when the client has
  // failed too often lately. Touches last_used_at / last_seen_at at most once a
  // minute. Unavailable when the database is.
  Result<Principal> Authenticate(pqxx::connection& conn, const HttpRequest& req);

  // For requests authenticated by cookie with an unsafe method: the CSRF token
  // (a form's `csrf` field, or the X-CSRF-Token header) must be the session's,
  // and an Origin header, when sent, must be the public origin. PermissionDenied
  // otherwise. Always OK for tokens (no ambient credential to abuse).
  Status CheckCsrf(const Principal& who, const HttpRequest& req, std::string_view form_token) const;

  // Checks e-mail and password and opens a session. Unauthenticated with one
  // message for every kind of failure (no account enumeration);
  // ResourceExhausted once the client or the e-mail has failed too often.
  Result<LoginResult> Login(pqxx::connection& conn, std::string_view email, std::string_view password,
                            const std::string& client);

  // Ends the session of `req`'s cookie (if any) and returns the Set-Cookie that clears it.
  std::string Logout(pqxx::connection& conn, const HttpRequest& req);

  // The CSRF token of a session secret.
  static std::string CsrfFor(std::string_view session_secret);

 private:
  Result<Principal> FromToken(pqxx::connection& conn, std::string_view token, const std::string& client);
  Result<Principal> FromSession(pqxx::connection& conn, std::string_view secret, const std::string& client);

  AuthOptions options_;
  GuessLimiter by_client_;
  GuessLimiter by_email_;
  std::string dummy_hash_;  // verified when the e-mail is unknown, so timing tells nothing
};

// The value of cookie `name` in a Cookie header, "" when absent.
std::string CookieValue(std::string_view cookie_header, std::string_view name);

}  // namespace trace::api
