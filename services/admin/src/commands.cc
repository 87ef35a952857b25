#include "commands.h"

#include <boost/json.hpp>
#include <pqxx/pqxx>

#include "ids.h"
#include "migrations.h"
#include "pg.h"
#include "trace/common/encoding.h"
#include "trace/common/platform_keys.h"
#include "trace/common/secrets.h"
#include "trace/common/sha256.h"

namespace trace::admin {
namespace {

Status RequireDb(const std::string& db_url) {
  if (db_url.empty()) return InvalidArgument("no database: set TRACE_DB_URL or pass --db-url");
  return OkStatus();
}

}  // namespace

Result<boost::json::object> MigrateCommand(const std::string& db_url, const std::string& migrations_dir) {
  if (Status s = RequireDb(db_url); !s.ok()) return Fail(s);
  auto outcome = Migrate(db_url, migrations_dir);
  if (!outcome) return Fail(outcome.error());
  boost::json::array applied;
  for (const auto& name : outcome->applied) applied.emplace_back(name);
  return boost::json::object{{"applied", std::move(applied)}, {"current", outcome->current}};
}

Result<boost::json::object> OrgCreateCommand(const std::string& db_url, const std::string& org,
                                             const std::string& name) {
  if (Status s = ValidateOrgId(org); !s.ok()) return Fail(s);
  if (name.size() > 200) return Fail(InvalidArgument("--name: at most 200 characters"));
  if (Status s = RequireDb(db_url); !s.ok()) return Fail(s);
  auto secret = NewBearerSecret("trc_");
  if (!secret) return Fail(secret.error());
  const std::string& token = *secret;
  std::string display_name = name.empty() ? org : name;
  try {
    pqxx::connection conn(db_url);
    pqxx::work w(conn);
    try {
      w.exec_params("INSERT INTO organizations (id, name) VALUES ($1, $2)", org, display_name);
    } catch (const pqxx::unique_violation&) {
      return Fail(AlreadyExists("organization \"" + org + "\" already exists"));
    }
    w.exec_params(
        "INSERT INTO api_tokens (org, token_hash, prefix, name, role, scopes) "
        "VALUES ($1, $2, $3, 'created by trace-admin org create', 'admin', '{}')",
        org, pqxx::binarystring(HashBytes(Sha256(token))), token.substr(0, 10));
    w.commit();
  } catch (const std::exception& e) {
    return Fail(PgError("org create", e));
  }
  return boost::json::object{{"org", org}, {"name", display_name}, {"token", token}};
}

Result<boost::json::object> UserCreateCommand(const std::string& db_url, const std::string& org,
                                              const std::string& email_in, const std::string& password,
                                              const std::string& role) {
  if (Status s = ValidateOrgId(org); !s.ok()) return Fail(s);
  std::string email = email_in;
  for (char& c : email) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  const auto at = email.find('@');
  if (email.size() > 254 || at == std::string::npos || at == 0 || email.find('.', at) == std::string::npos) {
    return Fail(InvalidArgument("EMAIL: not an e-mail address"));
  }
  if (role != "admin" && role != "operator" && role != "viewer") {
    return Fail(InvalidArgument("--role: want admin, operator or viewer"));
  }
  if (password.size() < 10) return Fail(InvalidArgument("password: at least 10 characters"));
  if (Status s = RequireDb(db_url); !s.ok()) return Fail(s);
  auto hash = HashPassword(password);
  if (!hash) return Fail(hash.error());
  try {
    pqxx::connection conn(db_url);
    pqxx::work w(conn);
    if (w.exec_params("SELECT 1 FROM organizations WHERE id = $1", org).empty()) {
      return Fail(NotFound("no organization \"" + org + "\""));
    }
    if (w.exec_params("INSERT INTO users (org, email, password_hash, role) VALUES ($1, $2, $3, $4) "
                      "ON CONFLICT DO NOTHING RETURNING id",
                      org, email, *hash, role)
            .empty()) {
      return Fail(AlreadyExists("a user with e-mail " + email + " exists already"));
    }
    w.commit();
  } catch (const std::exception& e) {
    return Fail(PgError("user create", e));
  }
  return boost::json::object{{"org", org}, {"email", email}, {"role", role}};
}

Result<boost::json::object> DeviceRegisterCommand(const std::string& db_url, const std::optional<BrokerConfig>& broker,
                                                  const std::string& org, const std::string& device,
                                                  const std::string& public_key_b64url) {
  if (Status s = ValidateOrgId(org); !s.ok()) return Fail(s);
  if (Status s = ValidateDeviceId(device); !s.ok()) return Fail(s);
  // The organization's server-side signer (trace-api org_signer.h) has this id and no broker login.
  if (device == "dashboard") {
    return Fail(InvalidArgument("DEVICE: \"dashboard\" is reserved for events signed on the server"));
  }
  auto public_key = DecodeDevicePublicKey(public_key_b64url);
  if (!public_key) return Fail(public_key.error());
  if (Status s = RequireDb(db_url); !s.ok()) return Fail(s);

  std::string username = DeviceMqttUsername(org, device);
  boost::json::object out{{"org", org}, {"device", device}, {"mqtt_username", username}};
  std::string step = "connect";
  try {
    pqxx::connection conn(db_url);
    pqxx::work w(conn);
    step = "insert device";
    try {
      w.exec_params("INSERT INTO devices (org, device, public_key, mqtt_username) VALUES ($1, $2, $3, $4)", org,
                    device, pqxx::binarystring(*public_key), username);
    } catch (const pqxx::unique_violation&) {
      return Fail(AlreadyExists("device " + org + "/" + device + " is already registered"));
    } catch (const pqxx::foreign_key_violation&) {
      return Fail(NotFound("organization \"" + org + "\" does not exist (trace-admin org create " + org + ")"));
    }
    if (!broker) {
      w.commit();
      out["mqtt_password"] = nullptr;
      out["broker"] = "not configured";
      return out;
    }
    // The row above is uncommitted: a concurrent register of the same device
    // waits on it, so the broker steps below are ours alone.
    auto password = RandomBytes(24);
    if (!password) return Fail(password.error());
    std::string mqtt_password = Base64UrlEncode(*password);
    auto client = DynsecClient::Connect(*broker);
    if (!client) return Fail(client.error());
    // The database has no such device, so any broker client or role of this
    // name is a leftover of an attempt that failed before commit.
    auto cleanup = (*client)->Execute(UnregisterDeviceCommands(org, device));
    if (!cleanup) return Fail(cleanup.error());
    if (Status s = CheckResponses(*cleanup, true); !s.ok()) return Fail(s);
    auto created = (*client)->Execute(RegisterDeviceCommands(org, device, mqtt_password));
    if (!created) return Fail(created.error());
    if (Status s = CheckResponses(*created, false); !s.ok()) {
      (void)(*client)->Execute(UnregisterDeviceCommands(org, device));
      return Fail(s);
    }
    step = "commit";
    try {
      w.commit();
    } catch (const std::exception& e) {
      // Undo the login so the broker holds nothing the database lacks.
      (void)(*client)->Execute(UnregisterDeviceCommands(org, device));
      throw;
    }
    out["mqtt_password"] = mqtt_password;
    out["broker"] = "registered";
  } catch (const std::exception& e) {
    return Fail(PgError("device register: " + step, e));
  }
  return out;
}

Result<boost::json::object> DeviceRevokeCommand(const std::string& db_url, const std::optional<BrokerConfig>& broker,
                                                const std::string& org, const std::string& device) {
  if (Status s = ValidateOrgId(org); !s.ok()) return Fail(s);
  if (Status s = ValidateDeviceId(device); !s.ok()) return Fail(s);
  if (Status s = RequireDb(db_url); !s.ok()) return Fail(s);
  boost::json::object out{{"org", org}, {"device", device}, {"status", "revoked"}};
  try {
    pqxx::connection conn(db_url);
    pqxx::work w(conn);
    pqxx::result r = w.exec_params(
        "UPDATE devices SET status = 'revoked', revoked_at = coalesce(revoked_at, now()) "
        "WHERE org = $1 AND device = $2 "
        "RETURNING to_char(revoked_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')",
        org, device);
    if (r.empty()) return Fail(NotFound("device " + org + "/" + device + " is not registered"));
    out["revoked_at"] = r[0][0].as<std::string>();
    if (!broker) {
      out["broker"] = "not configured";
    } else {
      auto client = DynsecClient::Connect(*broker);
      if (!client) return Fail(client.error());
      auto answer = (*client)->Execute(DisableDeviceCommands(org, device));
      if (!answer) return Fail(answer.error());
      if (Status s = CheckResponses(*answer, false); !s.ok()) {
        if (s.message().find("not found") == std::string::npos) return Fail(s);
        // Registered while no broker was configured: there is no login to disable.
        out["broker"] = "no such client";
      } else {
        out["broker"] = "disabled";
      }
    }
    w.commit();
  } catch (const std::exception& e) {
    return Fail(PgError("device revoke", e));
  }
  return out;
}

Result<boost::json::object> KeysCommand(const std::string& db_url, const std::string& keys_dir,
                                        const std::string& log_name) {
  if (keys_dir.empty()) return Fail(InvalidArgument("no keys directory: set TRACE_KEYS_DIR or pass --keys-dir"));
  if (log_name.empty()) return Fail(InvalidArgument("--log-name must not be empty"));
  if (Status s = RequireDb(db_url); !s.ok()) return Fail(s);
  auto keys = LoadOrCreatePlatformKeys(keys_dir, log_name);
  if (!keys) return Fail(keys.error());
  boost::json::object doc = KeysDocument(*keys);
  try {
    pqxx::connection conn(db_url);
    pqxx::work w(conn);
    pqxx::result active = w.exec_params(
        "SELECT id, name FROM platform_keys WHERE kind = 'log' AND retired_at IS NULL AND public_key <> $1",
        pqxx::binarystring(keys->log.public_key()));
    if (!active.empty()) {
      return Fail(FailedPrecondition("the database's active log key is " + active[0][0].as<std::string>() +
                                     ", but " + keys_dir + "/log.key holds " + keys->log_key_id +
                                     "; use the keys directory that belongs to this database"));
    }
    w.exec_params(
        "INSERT INTO platform_keys (id, kind, name, public_key) VALUES ($1, 'log', $2, $3) "
        "ON CONFLICT (id) DO NOTHING",
        keys->log_key_id, keys->log_name, pqxx::binarystring(keys->log.public_key()));
    w.exec_params(
        "INSERT INTO platform_keys (id, kind, name, public_key) VALUES ($1, 'receipt', $1, $2) "
        "ON CONFLICT (id) DO NOTHING",
        keys->receipt_key_id, pqxx::binarystring(keys->receipt.public_key()));
    pqxx::result older = w.exec_params(
        "SELECT id, public_key FROM platform_keys WHERE kind = 'receipt' AND retired_at IS NULL AND id <> $1 "
        "ORDER BY created_at DESC, id",
        keys->receipt_key_id);
    auto& receipts = doc["receipt"].as_array();
    for (const auto& row : older) {
      receipts.push_back(boost::json::object{{"id", row[0].as<std::string>()},
                                             {"public_key", Base64UrlEncode(pqxx::binarystring(row[1]).str())}});
    }
    w.commit();
  } catch (const std::exception& e) {
    return Fail(PgError("keys", e));
  }
  return doc;
}

}  // namespace trace::admin
