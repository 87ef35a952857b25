#include "dynsec.h"

#include <openssl/rand.h>

#include <boost/json.hpp>
#include <mqtt/async_client.h>

#include "ids.h"
#include "trace/common/encoding.h"

namespace trace::admin {
namespace {

constexpr const char* kCommandTopic = "$CONTROL/dynamic-security/v1";
constexpr const char* kResponseTopic = "$CONTROL/dynamic-security/v1/response";

std::string RandomHex(size_t bytes) {
  std::string raw(bytes, '\0');
  RAND_bytes(reinterpret_cast<unsigned char*>(raw.data()), static_cast<int>(raw.size()));
  return HexEncode(raw);
}

boost::json::object Acl(std::string_view role, std::string_view type, std::string topic) {
  return {{"command", "addRoleACL"}, {"rolename", role}, {"acltype", type},
          {"topic", std::move(topic)}, {"priority", 0}, {"allow", true}};
}

std::string TopicBase(std::string_view org, std::string_view device) {
  return "trace/v1/" + std::string(org) + "/" + std::string(device);
}

}  // namespace

boost::json::array RegisterDeviceCommands(std::string_view org, std::string_view device, std::string_view password) {
  std::string role = DeviceMqttRole(org, device);
  std::string base = TopicBase(org, device);
  boost::json::array cmds;
  cmds.push_back(boost::json::object{{"command", "createRole"}, {"rolename", role}});
  cmds.push_back(Acl(role, "publishClientSend", base + "/up"));
  cmds.push_back(Acl(role, "subscribeLiteral", base + "/receipt"));
  cmds.push_back(Acl(role, "publishClientReceive", base + "/receipt"));
  cmds.push_back(boost::json::object{
      {"command", "createClient"},
      {"username", DeviceMqttUsername(org, device)},
      {"password", password},
      {"textname", "trace device " + DeviceMqttUsername(org, device)},
      {"roles", boost::json::array{boost::json::object{{"rolename", role}, {"priority", -1}}}}});
  return cmds;
}

boost::json::array UnregisterDeviceCommands(std::string_view org, std::string_view device) {
  boost::json::array cmds;
  cmds.push_back(boost::json::object{{"command", "deleteClient"}, {"username", DeviceMqttUsername(org, device)}});
  cmds.push_back(boost::json::object{{"command", "deleteRole"}, {"rolename", DeviceMqttRole(org, device)}});
  return cmds;
}

boost::json::array DisableDeviceCommands(std::string_view org, std::string_view device) {
  boost::json::array cmds;
  cmds.push_back(boost::json::object{{"command", "disableClient"}, {"username", DeviceMqttUsername(org, device)}});
  return cmds;
}

Status CheckResponses(const boost::json::array& responses, bool ignore_not_found) {
  for (const auto& r : responses) {
    const auto* obj = r.if_object();
    if (obj == nullptr) return Internal("broker answered a response that is not an object");
    const auto* error = obj->if_contains("error");
    if (error == nullptr) continue;
    std::string message = error->is_string() ? std::string(error->as_string()) : boost::json::serialize(*error);
    std::string lower = message;
    for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (ignore_not_found && lower.find("not found") != std::string::npos) continue;
    std::string command = "?";
    if (const auto* c = obj->if_contains("command"); c != nullptr && c->is_string()) command = c->as_string();
    return FailedPrecondition("broker refused " + command + ": " + message);
  }
  return OkStatus();
}

struct DynsecClient::Impl {
  Impl(const BrokerConfig& c) : config(c), client(c.url, "trace-admin-" + RandomHex(6)) {}
  BrokerConfig config;
  mqtt::async_client client;
};

DynsecClient::DynsecClient(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

DynsecClient::~DynsecClient() {
  try {
    if (impl_->client.is_connected()) impl_->client.disconnect()->wait_for(impl_->config.timeout);
  } catch (const std::exception&) {
    // Closing anyway; nothing to report from a destructor.
  }
}

Result<std::unique_ptr<DynsecClient>> DynsecClient::Connect(const BrokerConfig& config) {
  std::unique_ptr<Impl> impl;
  try {
    impl = std::make_unique<Impl>(config);
  } catch (const std::exception& e) {
    return Fail(InvalidArgument("TRACE_MQTT_URL \"" + config.url + "\": " + e.what()));
  }
  auto seconds = std::chrono::duration_cast<std::chrono::seconds>(config.timeout);
  auto options = mqtt::connect_options_builder()
                     .clean_session(true)
                     .user_name(config.username)
                     .password(config.password)
                     .connect_timeout(seconds.count() > 0 ? seconds : std::chrono::seconds(1))
                     .automatic_reconnect(false)
                     .finalize();
  try {
    impl->client.start_consuming();
    impl->client.connect(options)->wait();
  } catch (const mqtt::exception& e) {
    int rc = e.get_return_code();
    // MQTT 3.1.1 CONNACK 4 (bad user name or password) and 5 (not authorized).
    if (rc == 4 || rc == 5) {
      return Fail(Unauthenticated("broker " + config.url + " refused the admin login \"" + config.username +
                                  "\" (check TRACE_MQTT_ADMIN_USERNAME / TRACE_MQTT_ADMIN_PASSWORD)"));
    }
    return Fail(Unavailable("broker " + config.url + " unreachable: " + e.what()));
  }
  try {
    auto token = impl->client.subscribe(kResponseTopic, 1);
    if (!token->wait_for(config.timeout)) return Fail(DeadlineExceeded("broker: no SUBACK for the response topic"));
  } catch (const mqtt::exception& e) {
    return Fail(Unavailable(std::string("broker: subscribe to ") + kResponseTopic + ": " + e.what()));
  }
  return std::unique_ptr<DynsecClient>(new DynsecClient(std::move(impl)));
}

Result<boost::json::array> DynsecClient::Execute(boost::json::array commands) {
  // Every command carries our correlation id, so answers to another admin's
  // commands (the response topic is shared) are told apart and skipped.
  std::string correlation = RandomHex(8);
  for (auto& c : commands) c.as_object()["correlationData"] = correlation;
  std::string payload = boost::json::serialize(boost::json::object{{"commands", std::move(commands)}});
  try {
    impl_->client.publish(kCommandTopic, payload, 1, false)->wait_for(impl_->config.timeout);
  } catch (const mqtt::exception& e) {
    return Fail(Unavailable(std::string("broker: publish to ") + kCommandTopic + ": " + e.what()));
  }
  auto deadline = std::chrono::steady_clock::now() + impl_->config.timeout;
  for (;;) {
    mqtt::const_message_ptr msg;
    if (!impl_->client.try_consume_message_until(&msg, deadline)) {
      return Fail(DeadlineExceeded("broker: no answer on " + std::string(kResponseTopic) + " within " +
                                   std::to_string(impl_->config.timeout.count()) +
                                   " ms (is the dynamic-security plugin loaded, and is the admin user allowed "
                                   "$CONTROL/dynamic-security/#?)"));
    }
    if (!msg) return Fail(Unavailable("broker: connection lost while waiting for an answer"));
    boost::system::error_code ec;
    boost::json::value answer = boost::json::parse(msg->get_payload_str(), ec);
    if (ec || !answer.is_object()) continue;
    const auto* responses = answer.as_object().if_contains("responses");
    if (responses == nullptr || !responses->is_array() || responses->as_array().empty()) continue;
    const auto& first = responses->as_array().front();
    const auto* cd = first.is_object() ? first.as_object().if_contains("correlationData") : nullptr;
    if (cd == nullptr || !cd->is_string() || cd->as_string() != correlation) continue;
    return responses->as_array();
  }
}

}  // namespace trace::admin
