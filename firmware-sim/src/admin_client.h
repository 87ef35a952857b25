// Registration through the operator tool: runs `trace-admin ... --json` as a
// child process (no shell) and reads the one JSON object it prints. trace-admin
// finds its database and broker through the environment it inherits
// (TRACE_DB_URL, TRACE_MQTT_URL, TRACE_MQTT_ADMIN_USERNAME/PASSWORD).
#pragma once

#include <string>
#include <vector>

#include <boost/json/object.hpp>

#include "device_state.h"
#include "trace/common/status.h"

namespace trace::devicesim {

// What a child process printed and how it ended.
struct ProgramResult {
  int exit_code = -1;  // -1 when killed by a signal
  std::string out;     // stdout
};

// Runs `argv` (argv[0] is a path) and captures stdout; stderr passes through.
// Unavailable when it cannot be started.
Result<ProgramResult> RunProgram(const std::vector<std::string>& argv);

// The trace-admin beside the running executable (`dir(/proc/self/exe)/trace-admin`).
std::string DefaultAdminPath();

class AdminClient {
 public:
  explicit AdminClient(std::string admin_path) : path_(std::move(admin_path)) {}

  // `org create ORG --name NAME --json`. Returns the printed object; an org that
  // exists already is AlreadyExists.
  Result<boost::json::object> OrgCreate(const std::string& org, const std::string& name) const;

  // `device register ORG DEVICE --public-key KEY --json`, then stores the
  // returned MQTT login in the device's mqtt.json (0600).
  Result<Credentials> DeviceRegister(DeviceState& device) const;

  // `device revoke ORG DEVICE --json`.
  Result<boost::json::object> DeviceRevoke(const std::string& org, const std::string& device) const;

 private:
  Result<boost::json::object> Run(std::vector<std::string> args) const;
  std::string path_;
};

}  // namespace trace::devicesim
