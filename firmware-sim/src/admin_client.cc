#include "admin_client.h"

#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include <boost/json.hpp>

#include "trace/common/encoding.h"
#include "trace/common/jcs.h"

namespace trace::devicesim {

Result<ProgramResult> RunProgram(const std::vector<std::string>& argv) {
  if (argv.empty()) return Fail(InvalidArgument("RunProgram: empty argv"));
  int fds[2];
  if (::pipe(fds) != 0) return Fail(ErrnoError("pipe", errno));
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid = ::fork();
  if (pid < 0) {
    int err = errno;
    ::close(fds[0]);
    ::close(fds[1]);
    return Fail(ErrnoError("fork", err));
  }
  if (pid == 0) {
    ::dup2(fds[1], STDOUT_FILENO);
    ::close(fds[0]);
    ::close(fds[1]);
    ::execv(args[0], args.data());
    ::_exit(127);
  }
  ::close(fds[1]);
  ProgramResult result;
  char buf[4096];
  for (;;) {
    ssize_t n = ::read(fds[0], buf, sizeof buf);
    if (n > 0) {
      result.out.append(buf, static_cast<size_t>(n));
    } else if (n == 0 || errno != EINTR) {
      break;
    }
  }
  ::close(fds[0]);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  if (result.exit_code == 127 && result.out.empty()) {
    return Fail(Unavailable("cannot run " + argv[0]));
  }
  return result;
}

std::string DefaultAdminPath() {
  std::error_code ec;
  auto self = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (ec) return "trace-admin";
  return (self.parent_path() / "trace-admin").string();
}

Result<boost::json::object> AdminClient::Run(std::vector<std::string> args) const {
  args.insert(args.begin(), path_);
  args.push_back("--json");
  auto r = RunProgram(args);
  if (!r) return Fail(r.error());
  auto v = ParseJsonStrict(r->out);
  if (!v || !v->is_object()) {
    return Fail(Internal("trace-admin printed no JSON object (exit " + std::to_string(r->exit_code) + ")"));
  }
  auto& o = v->as_object();
  if (r->exit_code != 0 || o.contains("error")) {
    std::string message = o.contains("error") && o.at("error").is_string() ? std::string(o.at("error").as_string())
                                                                          : "exit " + std::to_string(r->exit_code);
    std::string code = o.contains("code") && o.at("code").is_string() ? std::string(o.at("code").as_string()) : "";
    StatusCode sc = code == "ALREADY_EXISTS"   ? StatusCode::kAlreadyExists
                    : code == "NOT_FOUND"        ? StatusCode::kNotFound
                    : code == "INVALID_ARGUMENT" ? StatusCode::kInvalidArgument
                                                 : StatusCode::kUnavailable;
    return Fail(Status(sc, "trace-admin " + args[1] + ": " + message));
  }
  return std::move(o);
}

Result<boost::json::object> AdminClient::OrgCreate(const std::string& org, const std::string& name) const {
  return Run({"org", "create", org, "--name", name});
}

Result<Credentials> AdminClient::DeviceRegister(DeviceState& device) const {
  auto o = Run({"device", "register", device.org(), device.device(), "--public-key",
                Base64UrlEncode(device.key().public_key())});
  if (!o) return Fail(o.error());
  const auto* user = o->if_contains("mqtt_username");
  const auto* pass = o->if_contains("mqtt_password");
  if (!user || !user->is_string() || !pass || !pass->is_string()) {
    return Fail(FailedPrecondition("trace-admin device register gave no MQTT login (broker: " +
                                   (o->contains("broker") ? boost::json::serialize(o->at("broker")) : "?") +
                                   "); set TRACE_MQTT_URL and the MQTT admin login for trace-admin"));
  }
  Credentials c{std::string(user->as_string()), std::string(pass->as_string())};
  if (Status s = device.WriteCredentials(c); !s.ok()) return Fail(s);
  return c;
}

Result<boost::json::object> AdminClient::DeviceRevoke(const std::string& org, const std::string& device) const {
  return Run({"device", "revoke", org, device});
}

}  // namespace trace::devicesim
