#include "cli.h"

#include <fstream>
#include <iostream>

#include <optional>
#include <string>
#include <vector>

#include <boost/json.hpp>

#include "audit.h"
#include "chain.h"
#include "commands.h"
#include "trace/common/config.h"
#include "trace/common/platform_keys.h"

#ifndef TRACE_DEFAULT_MIGRATIONS_DIR
#define TRACE_DEFAULT_MIGRATIONS_DIR "schemas/migrations"
#endif

namespace trace::admin {
namespace {

constexpr const char* kCommands =
    "commands:\n"
    "  migrate                                      apply the SQL migrations not yet applied\n"
    "  org create ORG [--name NAME]                 create an organization and its admin API token\n"
    "  device register ORG DEVICE --public-key KEY  register a device (base64url Ed25519 key) and its broker login\n"
    "  device revoke ORG DEVICE                     revoke a device and disable its broker login\n"
    "  user create ORG EMAIL --role ROLE --password-file FILE\n"
    "                                               create a dashboard user (FILE '-': standard input)\n"
    "  keys                                         print the platform keys document, creating the keys once\n"
    "  chain deploy --rpc URL --key-file FILE       deploy the TraceAnchor contract; the key's account owns it\n"
    "  audit [--rpc URL --contract ADDRESS]         re-check every envelope, leaf, node, checkpoint and anchor\n"
    "                                               (against rootAt on the chain); exit 1 on any problem\n";

void DeclareFlags(Flags& flags) {
  flags.AddBool("json", "", "print exactly one JSON object on stdout");
  flags.Add("db-url", "TRACE_DB_URL", "", "libpq URI of the database");
  flags.Add("migrations-dir", "TRACE_MIGRATIONS_DIR", TRACE_DEFAULT_MIGRATIONS_DIR, "folder of NNNN_name.sql files");
  flags.Add("name", "", "", "organization display name (org create)");
  flags.Add("public-key", "", "", "device Ed25519 public key, base64url (device register)");
  flags.Add("role", "", "admin", "admin, operator or viewer (user create)");
  flags.Add("password-file", "", "", "file holding the user's password, '-' for standard input (user create)");
  flags.Add("mqtt-url", "TRACE_MQTT_URL", "", "broker URL, tcp://host:port; unset: database only");
  flags.Add("mqtt-admin-username", "TRACE_MQTT_ADMIN_USERNAME", "", "dynamic-security admin user");
  flags.Add("mqtt-admin-password", "TRACE_MQTT_ADMIN_PASSWORD", "", "its password");
  flags.Add("mqtt-timeout-ms", "TRACE_MQTT_TIMEOUT_MS", "5000", "broker connect and answer timeout");
  flags.Add("keys-dir", "TRACE_KEYS_DIR", "", "folder of log.key and receipt.key (mode 0700)");
  flags.Add("rpc", "TRACE_CHAIN_RPC", "", "chain JSON-RPC URL, http://host:port (chain deploy)");
  flags.Add("key-file", "TRACE_ANCHOR_KEY_FILE", "", "secp256k1 key of the deploying account, hex, mode 0600");
  flags.Add("contract", "TRACE_CONTRACT", "", "TraceAnchor address (audit)");
  flags.Add("chain-timeout-ms", "TRACE_CHAIN_TIMEOUT_MS", "60000", "how long chain deploy waits for the receipt");
  flags.Add("log-name", "TRACE_LOG_NAME", std::string(kDefaultLogName), "the log's name in checkpoints");
}

Result<std::optional<BrokerConfig>> BrokerFromFlags(const Flags& flags) {
  if (flags.Get("mqtt-url").empty()) return std::optional<BrokerConfig>();
  auto timeout = flags.GetInt("mqtt-timeout-ms");
  if (!timeout) return Fail(timeout.error());
  if (*timeout <= 0) return Fail(InvalidArgument("--mqtt-timeout-ms must be positive"));
  if (flags.Get("mqtt-admin-username").empty()) {
    return Fail(InvalidArgument("TRACE_MQTT_URL is set but TRACE_MQTT_ADMIN_USERNAME is not"));
  }
  return std::optional<BrokerConfig>(BrokerConfig{flags.Get("mqtt-url"), flags.Get("mqtt-admin-username"),
                                                  flags.Get("mqtt-admin-password"),
                                                  std::chrono::milliseconds(*timeout)});
}

Status Usage(const std::string& message) { return InvalidArgument(message); }

// The first line of `path` ('-': standard input), without its line end.
Result<std::string> ReadPassword(const std::string& path) {
  if (path.empty()) return Fail(Usage("--password-file FILE is required ('-' reads standard input)"));
  std::string line;
  if (path == "-") {
    std::getline(std::cin, line);
  } else {
    std::ifstream in(path);
    if (!in) return Fail(InvalidArgument("--password-file: cannot read " + path));
    std::getline(in, line);
  }
  if (!line.empty() && line.back() == '\r') line.pop_back();
  return line;
}

Result<boost::json::object> Dispatch(const Flags& flags, const std::vector<std::string>& args) {
  if (args.empty()) return Fail(Usage("no command given"));
  const std::string& cmd = args[0];
  auto want = [&](size_t n, const char* form) -> Status {
    if (args.size() != n) return Usage(std::string("usage: trace-admin ") + form);
    return OkStatus();
  };
  if (cmd == "migrate") {
    if (Status s = want(1, "migrate [--migrations-dir DIR]"); !s.ok()) return Fail(s);
    return MigrateCommand(flags.Get("db-url"), flags.Get("migrations-dir"));
  }
  if (cmd == "org") {
    if (args.size() < 2 || args[1] != "create") return Fail(Usage("usage: trace-admin org create ORG [--name NAME]"));
    if (Status s = want(3, "org create ORG [--name NAME]"); !s.ok()) return Fail(s);
    return OrgCreateCommand(flags.Get("db-url"), args[2], flags.Get("name"));
  }
  if (cmd == "device") {
    if (args.size() >= 2 && args[1] == "register") {
      if (Status s = want(4, "device register ORG DEVICE --public-key B64URL"); !s.ok()) return Fail(s);
      auto broker = BrokerFromFlags(flags);
      if (!broker) return Fail(broker.error());
      return DeviceRegisterCommand(flags.Get("db-url"), *broker, args[2], args[3], flags.Get("public-key"));
    }
    if (args.size() >= 2 && args[1] == "revoke") {
      if (Status s = want(4, "device revoke ORG DEVICE"); !s.ok()) return Fail(s);
      auto broker = BrokerFromFlags(flags);
      if (!broker) return Fail(broker.error());
      return DeviceRevokeCommand(flags.Get("db-url"), *broker, args[2], args[3]);
    }
    return Fail(Usage("usage: trace-admin device register|revoke ORG DEVICE ..."));
  }
  if (cmd == "user") {
    if (args.size() < 2 || args[1] != "create" || args.size() != 4) {
      return Fail(Usage("usage: trace-admin user create ORG EMAIL --role ROLE --password-file FILE"));
    }
    auto password = ReadPassword(flags.Get("password-file"));
    if (!password) return Fail(password.error());
    return UserCreateCommand(flags.Get("db-url"), args[2], args[3], *password, flags.Get("role"));
  }
  if (cmd == "keys") {
    if (Status s = want(1, "keys [--keys-dir DIR] [--log-name NAME]"); !s.ok()) return Fail(s);
    return KeysCommand(flags.Get("db-url"), flags.Get("keys-dir"), flags.Get("log-name"));
  }
  if (cmd == "chain") {
    if (args.size() != 2 || args[1] != "deploy") return Fail(Usage("usage: trace-admin chain deploy --rpc URL --key-file FILE"));
    auto timeout = flags.GetInt("chain-timeout-ms");
    if (!timeout) return Fail(timeout.error());
    if (*timeout <= 0) return Fail(InvalidArgument("--chain-timeout-ms must be positive"));
    return ChainDeployCommand(flags.Get("rpc"), flags.Get("key-file"), std::chrono::milliseconds(*timeout));
  }
  return Fail(Usage("unknown command \"" + cmd + "\""));
}

// Text for people: one "key: value" line per member, arrays joined.
void PrintHuman(const std::vector<std::string>& args, const boost::json::object& result, std::ostream& out) {
  for (const auto& [key, value] : result) {
    out << key << ": ";
    if (value.is_string()) {
      out << value.as_string().c_str();
    } else if (value.is_array() && value.as_array().empty()) {
      out << "(none)";
    } else {
      out << boost::json::serialize(value);
    }
    out << "\n";
  }
  if (!args.empty() && args[0] == "org") out << "Store the token now: it is shown only once.\n";
  if (result.contains("mqtt_password") && result.at("mqtt_password").is_string()) {
    out << "Store the MQTT password now: it is shown only once.\n";
  }
}

}  // namespace

int RunCli(int argc, const char* const* argv, std::ostream& out, std::ostream& err) {
  Flags flags("trace-admin", "operator tasks: schema, organizations, devices, platform keys");
  DeclareFlags(flags);
  bool json = false;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--") break;
    if (a == "--json" || a == "--json=true") json = true;
  }
  auto report = [&](const Status& s, int code) {
    if (json) {
      out << boost::json::serialize(boost::json::object{{"error", s.message()}, {"code", StatusCodeName(s.code())}})
          << "\n";
    } else {
      err << "trace-admin: " << s.message() << "\n";
      if (code == 2) err << "run trace-admin --help for usage\n";
    }
    return code;
  };
  auto args = flags.Parse(argc, argv);
  if (!args) {
    if (args.error().code() == StatusCode::kFailedPrecondition) {  // --help
      out << args.error().message() << "\n" << kCommands;
      return 0;
    }
    return report(args.error(), 2);
  }
  json = flags.GetBool("json");
  if (!args->empty() && (*args)[0] == "audit") {
    if (args->size() != 1) return report(Usage("usage: trace-admin audit [--rpc URL --contract ADDRESS] [--json]"), 2);
    auto summary = AuditCommand({.db_url = flags.Get("db-url"),
                                 .rpc_url = flags.Get("rpc"),
                                 .contract = flags.Get("contract"),
                                 .log_name = flags.Get("log-name")},
                                err);
    if (!summary) return report(summary.error(), summary.error().code() == StatusCode::kInvalidArgument ? 2 : 1);
    const auto& problems = summary->at("problems").as_array();
    if (json) {
      out << boost::json::serialize(*summary) << "\n";
    } else {
      for (const char* k : {"envelopes", "leaves", "nodes", "checkpoints", "anchors", "chain"}) {
        out << k << ": " << boost::json::serialize(summary->at(k)) << "\n";
      }
      out << "problems: " << problems.size() << "\n";
      for (const auto& p : problems) {
        out << "  " << p.at("table").as_string().c_str() << " " << p.at("key").as_string().c_str() << ": "
            << p.at("what").as_string().c_str() << "\n";
      }
    }
    return problems.empty() ? 0 : 1;
  }
  auto result = Dispatch(flags, *args);
  if (!result) return report(result.error(), result.error().code() == StatusCode::kInvalidArgument ? 2 : 1);
  if (json) {
    out << boost::json::serialize(*result) << "\n";
  } else {
    PrintHuman(*args, *result, out);
  }
  return 0;
}

}  // namespace trace::admin
