#include "cli.h"

#include <cstdlib>
#include <sstream>
#include <vector>

#include <boost/json.hpp>
#include <gtest/gtest.h>

namespace trace::admin {
namespace {

struct Outcome {
  int code;
  std::string out, err;
};

// Runs the CLI without any database or broker configured.
Outcome RunAdmin(std::vector<std::string> args) {
  ::unsetenv("TRACE_DB_URL");
  ::unsetenv("TRACE_MQTT_URL");
  args.insert(args.begin(), "trace-admin");
  std::vector<const char*> argv;
  for (const auto& a : args) argv.push_back(a.c_str());
  std::ostringstream out, err;
  int code = RunCli(static_cast<int>(argv.size()), argv.data(), out, err);
  return {code, out.str(), err.str()};
}

// The one JSON object printed with --json.
boost::json::object Json(const Outcome& o) {
  boost::system::error_code ec;
  auto v = boost::json::parse(o.out, ec);
  EXPECT_FALSE(ec) << o.out;
  EXPECT_TRUE(v.is_object()) << o.out;
  return v.is_object() ? v.as_object() : boost::json::object{};
}

const std::string kKey(43, 'A');  // base64url of 32 zero bytes

TEST(AdminCli, NoCommandIsAUsageError) {
  Outcome o = RunAdmin({});
  EXPECT_EQ(o.code, 2);
  EXPECT_NE(o.err.find("no command"), std::string::npos);
}

TEST(AdminCli, UnknownCommandAndFlagAreUsageErrorsInJson) {
  Outcome o = RunAdmin({"frobnicate", "--json"});
  EXPECT_EQ(o.code, 2);
  auto j = Json(o);
  EXPECT_EQ(j["code"].as_string(), "INVALID_ARGUMENT");
  EXPECT_NE(std::string(j["error"].as_string()).find("frobnicate"), std::string::npos);
  EXPECT_TRUE(o.err.empty());

  Outcome f = RunAdmin({"--json", "migrate", "--bogus"});
  EXPECT_EQ(f.code, 2);
  EXPECT_NE(std::string(Json(f)["error"].as_string()).find("--bogus"), std::string::npos);
}

TEST(AdminCli, HelpListsCommands) {
  Outcome o = RunAdmin({"--help"});
  EXPECT_EQ(o.code, 0);
  EXPECT_NE(o.out.find("device register"), std::string::npos);
  EXPECT_NE(o.out.find("--db-url"), std::string::npos);
}

TEST(AdminCli, WrongArgumentCountsShowTheForm) {
  Outcome a = RunAdmin({"org", "create"});
  EXPECT_EQ(a.code, 2);
  EXPECT_NE(a.err.find("org create ORG"), std::string::npos);
  Outcome b = RunAdmin({"device", "register", "acme"});
  EXPECT_EQ(b.code, 2);
  EXPECT_NE(b.err.find("--public-key"), std::string::npos);
  Outcome c = RunAdmin({"device", "explode", "acme", "d"});
  EXPECT_EQ(c.code, 2);
  Outcome d = RunAdmin({"migrate", "extra"});
  EXPECT_EQ(d.code, 2);
}

TEST(AdminCli, BadIdsAreRefusedBeforeAnyConnection) {
  Outcome org = RunAdmin({"--json", "org", "create", "Bad_Org"});
  EXPECT_EQ(org.code, 2);
  EXPECT_NE(std::string(Json(org)["error"].as_string()).find("organization id"), std::string::npos);

  Outcome dev = RunAdmin({"--json", "device", "register", "acme", "Bad/Device", "--public-key", kKey});
  EXPECT_EQ(dev.code, 2);
  EXPECT_NE(std::string(Json(dev)["error"].as_string()).find("device id"), std::string::npos);

  Outcome reserved = RunAdmin({"--json", "device", "register", "acme", "dashboard", "--public-key", kKey});
  EXPECT_EQ(reserved.code, 2);
  EXPECT_NE(std::string(Json(reserved)["error"].as_string()).find("reserved"), std::string::npos);

  Outcome rev = RunAdmin({"--json", "device", "revoke", "-acme", "d1"});
  EXPECT_EQ(rev.code, 2);
  EXPECT_EQ(Json(rev)["code"].as_string(), "INVALID_ARGUMENT");
}

TEST(AdminCli, BadPublicKeysAreRefused) {
  Outcome missing = RunAdmin({"--json", "device", "register", "acme", "d1"});
  EXPECT_EQ(missing.code, 2);
  EXPECT_NE(std::string(Json(missing)["error"].as_string()).find("--public-key is required"), std::string::npos);

  Outcome short_key = RunAdmin({"--json", "device", "register", "acme", "d1", "--public-key", "AAAA"});
  EXPECT_EQ(short_key.code, 2);
  EXPECT_NE(std::string(Json(short_key)["error"].as_string()).find("32-byte"), std::string::npos);

  Outcome not_b64 = RunAdmin({"device", "register", "acme", "d1", "--public-key", "***"});
  EXPECT_EQ(not_b64.code, 2);
  EXPECT_NE(not_b64.err.find("base64url"), std::string::npos);
}

TEST(AdminCli, MissingDatabaseIsAClearUsageError) {
  Outcome o = RunAdmin({"--json", "org", "create", "acme"});
  EXPECT_EQ(o.code, 2);
  EXPECT_NE(std::string(Json(o)["error"].as_string()).find("TRACE_DB_URL"), std::string::npos);
  Outcome k = RunAdmin({"keys", "--keys-dir", "/nonexistent/keys"});
  EXPECT_EQ(k.code, 2);
  EXPECT_NE(k.err.find("TRACE_DB_URL"), std::string::npos);
}

TEST(AdminCli, BrokerWithoutAdminUserIsAUsageError) {
  ::setenv("TRACE_MQTT_ADMIN_USERNAME", "", 1);
  Outcome o = RunAdmin({"--json", "--mqtt-url", "tcp://127.0.0.1:1", "--db-url", "postgresql://127.0.0.1:1/x",
                   "device", "revoke", "acme", "d1"});
  ::unsetenv("TRACE_MQTT_ADMIN_USERNAME");
  EXPECT_EQ(o.code, 2);
  EXPECT_NE(std::string(Json(o)["error"].as_string()).find("TRACE_MQTT_ADMIN_USERNAME"), std::string::npos);
}

TEST(AdminCli, UnreachableDatabaseFailsWithExitOne) {
  Outcome o = RunAdmin({"--json", "--db-url", "postgresql://127.0.0.1:1/none?connect_timeout=2", "org", "create", "acme"});
  EXPECT_EQ(o.code, 1);
  EXPECT_EQ(Json(o)["code"].as_string(), "UNAVAILABLE");
}

}  // namespace
}  // namespace trace::admin
