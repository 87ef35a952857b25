// The operator commands of trace-admin. Each returns the JSON object the
// command prints with --json, or a Status saying why it failed. Arguments are
// validated before any connection is opened, so a bad id or key fails with
// InvalidArgument without touching the database or the broker.
#pragma once

#include <optional>
#include <string>

#include <boost/json/object.hpp>

#include "dynsec.h"
#include "trace/common/status.h"

namespace trace::admin {

// {"applied": ["0001_core.sql", ...], "current": N}
Result<boost::json::object> MigrateCommand(const std::string& db_url, const std::string& migrations_dir);

// Creates organization `org` (name defaults to the id) and its first API
// token, role admin: "trc_" + base64url(32 random bytes). Only SHA-256 of the
// token is stored; the token is in the answer and nowhere else.
// {"org": ..., "name": ..., "token": "trc_..."}. AlreadyExists when the org exists.
Result<boost::json::object> OrgCreateCommand(const std::string& db_url, const std::string& org,
                                             const std::string& name);

// Registers a device (active) and, when `broker` is set, its broker login and
// ACL through dynamic security. The device row is inserted in a transaction
// that commits only after the broker accepted the login: a failure at any
// step leaves neither a device without a login nor (except if the final
// commit itself fails, which we then undo in the broker) a login without a
// device. A broker client of that name left over from an earlier failed
// attempt is replaced, which is safe because the database has no such device.
// {"org", "device", "mqtt_username", "mqtt_password", "broker": "registered" | "not configured"}
// AlreadyExists when registered already, NotFound for an unknown organization.
Result<boost::json::object> DeviceRegisterCommand(const std::string& db_url, const std::optional<BrokerConfig>& broker,
                                                  const std::string& org, const std::string& device,
                                                  const std::string& public_key_b64url);

// Marks the device revoked (revoked_at set once) and disables its broker
// client, which disconnects it. As for register, the database change commits
// only after the broker answered. Revoking a revoked device again is allowed
// (it re-disables the broker client). NotFound for an unknown device.
// {"org", "device", "status": "revoked", "revoked_at", "broker": "disabled" | "no such client" | "not configured"}
Result<boost::json::object> DeviceRevokeCommand(const std::string& db_url, const std::optional<BrokerConfig>& broker,
                                                const std::string& org, const std::string& device);

// Creates a dashboard user of `org` with `role` (admin, operator, viewer) and a
// scrypt hash of `password` (at least 10 characters). {"org", "email", "role"}.
// AlreadyExists for a taken e-mail, NotFound for an unknown organization.
Result<boost::json::object> UserCreateCommand(const std::string& db_url, const std::string& org,
                                              const std::string& email, const std::string& password,
                                              const std::string& role);

// The keys document of PROTOCOL.md §7, creating DIR/log.key and
// DIR/receipt.key on first use and recording their public halves in
// platform_keys. Receipt keys recorded earlier and not retired are listed
// after the current one. FailedPrecondition when the database already has a
// different active log key.
Result<boost::json::object> KeysCommand(const std::string& db_url, const std::string& keys_dir,
                                        const std::string& log_name);

}  // namespace trace::admin
