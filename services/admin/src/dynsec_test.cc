#include "dynsec.h"

#include <boost/json.hpp>
#include <gtest/gtest.h>

namespace trace::admin {
namespace {

TEST(Dynsec, RegisterCommandsGrantOnlyTheDeviceTopics) {
  boost::json::array cmds = RegisterDeviceCommands("acme", "s1", "pw");
  ASSERT_EQ(cmds.size(), 5u);
  EXPECT_EQ(cmds[0].at("command").as_string(), "createRole");
  EXPECT_EQ(cmds[0].at("rolename").as_string(), "device:acme/s1");
  std::vector<std::pair<std::string, std::string>> acls;
  for (size_t i = 1; i <= 3; ++i) {
    EXPECT_EQ(cmds[i].at("command").as_string(), "addRoleACL");
    EXPECT_EQ(cmds[i].at("rolename").as_string(), "device:acme/s1");
    EXPECT_TRUE(cmds[i].at("allow").as_bool());
    acls.emplace_back(cmds[i].at("acltype").as_string(), cmds[i].at("topic").as_string());
  }
  EXPECT_EQ(acls[0], std::make_pair(std::string("publishClientSend"), std::string("trace/v1/acme/s1/up")));
  EXPECT_EQ(acls[1], std::make_pair(std::string("subscribeLiteral"), std::string("trace/v1/acme/s1/receipt")));
  EXPECT_EQ(acls[2], std::make_pair(std::string("publishClientReceive"), std::string("trace/v1/acme/s1/receipt")));
  const auto& client = cmds[4].as_object();
  EXPECT_EQ(client.at("command").as_string(), "createClient");
  EXPECT_EQ(client.at("username").as_string(), "acme/s1");
  EXPECT_EQ(client.at("password").as_string(), "pw");
  EXPECT_EQ(client.at("roles").as_array().at(0).at("rolename").as_string(), "device:acme/s1");
}

TEST(Dynsec, DisableAndUnregisterNameTheClient) {
  auto disable = DisableDeviceCommands("acme", "s1");
  ASSERT_EQ(disable.size(), 1u);
  EXPECT_EQ(disable[0].at("command").as_string(), "disableClient");
  EXPECT_EQ(disable[0].at("username").as_string(), "acme/s1");
  auto un = UnregisterDeviceCommands("acme", "s1");
  ASSERT_EQ(un.size(), 2u);
  EXPECT_EQ(un[0].at("command").as_string(), "deleteClient");
  EXPECT_EQ(un[1].at("rolename").as_string(), "device:acme/s1");
}

TEST(Dynsec, CheckResponsesReportsTheFailingCommand) {
  auto ok = boost::json::parse(R"([{"command":"createRole"},{"command":"createClient","data":{}}])").as_array();
  EXPECT_TRUE(CheckResponses(ok, false).ok());
  auto bad = boost::json::parse(R"([{"command":"createRole"},{"command":"createClient","error":"Client already exists"}])")
                 .as_array();
  Status s = CheckResponses(bad, false);
  EXPECT_EQ(s.code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(s.message().find("createClient"), std::string::npos);
  EXPECT_NE(s.message().find("Client already exists"), std::string::npos);
  auto missing = boost::json::parse(R"([{"command":"deleteClient","error":"Client not found"}])").as_array();
  EXPECT_FALSE(CheckResponses(missing, false).ok());
  EXPECT_TRUE(CheckResponses(missing, true).ok());
}

TEST(Dynsec, UnreachableBrokerIsUnavailable) {
  // Port 1 on loopback: nothing listens there.
  auto client = DynsecClient::Connect({"tcp://127.0.0.1:1", "admin", "pw", std::chrono::milliseconds(2000)});
  ASSERT_FALSE(client.has_value());
  EXPECT_EQ(client.error().code(), StatusCode::kUnavailable);
  EXPECT_NE(client.error().message().find("127.0.0.1:1"), std::string::npos);
}

}  // namespace
}  // namespace trace::admin
