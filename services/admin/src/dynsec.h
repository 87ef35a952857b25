// A client of Mosquitto's dynamic-security plugin: publishes command batches
// to $CONTROL/dynamic-security/v1 and waits for the answer on
// $CONTROL/dynamic-security/v1/response (https://mosquitto.org/documentation/dynamic-security/).
//
// Example:
//   auto broker = DynsecClient::Connect(config);
//   if (!broker) return Fail(broker.error());
//   auto responses = (*broker)->Execute(RegisterDeviceCommands("acme", "s1", password));
//   if (!responses) ...;  // transport failure or timeout
//   if (Status s = CheckResponses(*responses, false); !s.ok()) ...;
//
// Not thread-safe: one DynsecClient per thread. Paho's exceptions never leave it.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <string_view>

#include <boost/json/array.hpp>

#include "trace/common/status.h"

namespace trace::admin {

struct BrokerConfig {
  std::string url;       // "tcp://127.0.0.1:1883"
  std::string username;  // a dynsec admin (TRACE_MQTT_ADMIN_USERNAME)
  std::string password;
  std::chrono::milliseconds timeout{5000};  // for connect and for each answer
};

// The commands that give a device its login and ACL: role
// "device:{org}/{device}" allowed to publish trace/v1/{org}/{device}/up and to
// subscribe to and receive trace/v1/{org}/{device}/receipt, and client
// "{org}/{device}" with `password` holding that role.
boost::json::array RegisterDeviceCommands(std::string_view org, std::string_view device, std::string_view password);
// Removes what RegisterDeviceCommands made (answers "not found" when absent).
boost::json::array UnregisterDeviceCommands(std::string_view org, std::string_view device);
// Disables the device's client; the broker also disconnects it at once.
boost::json::array DisableDeviceCommands(std::string_view org, std::string_view device);

// OK when no response carries an "error"; with `ignore_not_found`, errors
// saying "not found" are accepted too. Otherwise FailedPrecondition naming the
// failing command and the broker's message.
Status CheckResponses(const boost::json::array& responses, bool ignore_not_found);

class DynsecClient {
 public:
  // Connects and subscribes to the response topic. Unavailable when the broker
  // cannot be reached, Unauthenticated when it refuses the admin login.
  static Result<std::unique_ptr<DynsecClient>> Connect(const BrokerConfig& config);
  ~DynsecClient();
  DynsecClient(const DynsecClient&) = delete;
  DynsecClient& operator=(const DynsecClient&) = delete;

  // Sends `commands` as one batch and returns the broker's "responses" array
  // (one entry per command, in order). DeadlineExceeded when no answer came
  // within the timeout (for example: the admin user lacks the $CONTROL ACL, or
  // the plugin is not loaded).
  Result<boost::json::array> Execute(boost::json::array commands);

 private:
  struct Impl;
  explicit DynsecClient(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace trace::admin
