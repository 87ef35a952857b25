#include "harness/stack.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>

extern char** environ;

namespace trace::testing {
namespace {

std::string GetEnv(const char* name) {
  const char* v = std::getenv(name);
  return v ? v : "";
}

// argv[0] without a slash: build/bin (TRACE_BIN_DIR) first, then PATH (posix_spawnp).
std::string Resolve(const std::string& program) {
  if (program.find('/') != std::string::npos) return program;
  std::string bin_dir = GetEnv("TRACE_BIN_DIR");
  if (bin_dir.empty()) bin_dir = SourceDir() + "/build/bin";
  std::string candidate = bin_dir + "/" + program;
  if (::access(candidate.c_str(), X_OK) == 0) return candidate;
  return program;
}

// Drains both pipes until EOF on both or the deadline; returns false on the deadline.
bool ReadBoth(int out_fd, int err_fd, std::string& out, std::string& err,
              std::chrono::steady_clock::time_point deadline) {
  pollfd fds[2] = {{out_fd, POLLIN, 0}, {err_fd, POLLIN, 0}};
  std::string* sinks[2] = {&out, &err};
  int open = 2;
  char buf[65536];
  while (open > 0) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return false;
    int n = ::poll(fds, 2, static_cast<int>(std::min<long long>(left.count(), 1000)));
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || fds[i].revents == 0) continue;
      ssize_t r = ::read(fds[i].fd, buf, sizeof buf);
      if (r > 0) {
        sinks[i]->append(buf, static_cast<size_t>(r));
      } else if (r == 0 || (errno != EINTR && errno != EAGAIN)) {
        fds[i].fd = -1;  // poll ignores negative descriptors
        --open;
      }
    }
  }
  return true;
}

}  // namespace

std::string SourceDir() {
  std::string dir = GetEnv("TRACE_SOURCE_DIR");
  return dir.empty() ? std::string(TRACE_HARNESS_SOURCE_DIR) : dir;
}

std::vector<std::string> EnvironmentWith(const std::map<std::string, std::string>& extra) {
  std::vector<std::string> out;
  for (char** e = environ; *e; ++e) {
    std::string_view entry(*e);
    if (!extra.contains(std::string(entry.substr(0, entry.find('='))))) out.emplace_back(entry);
  }
  for (const auto& [name, value] : extra) out.push_back(name + "=" + value);
  return out;
}

int SpawnInOwnGroup(pid_t* pid, const std::vector<std::string>& argv, const std::vector<std::string>& env,
                    const posix_spawn_file_actions_t* actions) {
  std::vector<char*> c_argv, c_env;
  for (const auto& a : argv) c_argv.push_back(const_cast<char*>(a.c_str()));
  c_argv.push_back(nullptr);
  for (const auto& e : env) c_env.push_back(const_cast<char*>(e.c_str()));
  c_env.push_back(nullptr);
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  posix_spawnattr_setpgroup(&attr, 0);
  sigset_t empty, defaults;
  sigemptyset(&empty);
  posix_spawnattr_setsigmask(&attr, &empty);
  sigemptyset(&defaults);
  for (int sig : {SIGPIPE, SIGINT, SIGTERM, SIGCHLD, SIGHUP}) sigaddset(&defaults, sig);
  posix_spawnattr_setsigdefault(&attr, &defaults);
  int rc = ::posix_spawnp(pid, c_argv[0], actions, &attr, c_argv.data(), c_env.data());
  posix_spawnattr_destroy(&attr);
  return rc;
}

Stack::RunResult RunProgram(const std::vector<std::string>& argv,
                            const std::map<std::string, std::string>& extra_env, int timeout_seconds) {
  if (argv.empty()) return {-1, "", "RunProgram: empty argv"};
  std::vector<std::string> args = argv;
  args[0] = Resolve(argv[0]);

  const std::vector<std::string> env = EnvironmentWith(extra_env);

  int out_pipe[2], err_pipe[2];
  if (::pipe2(out_pipe, O_CLOEXEC) != 0) return {-1, "", std::string("pipe: ") + std::strerror(errno)};
  if (::pipe2(err_pipe, O_CLOEXEC) != 0) {
    ::close(out_pipe[0]);
    ::close(out_pipe[1]);
    return {-1, "", std::string("pipe: ") + std::strerror(errno)};
  }
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&actions, out_pipe[1], 1);
  posix_spawn_file_actions_adddup2(&actions, err_pipe[1], 2);
  // Its own process group, so a timeout kills the program and its children together.
  pid_t pid = -1;
  int rc = SpawnInOwnGroup(&pid, args, env, &actions);
  posix_spawn_file_actions_destroy(&actions);
  ::close(out_pipe[1]);
  ::close(err_pipe[1]);
  if (rc != 0) {
    ::close(out_pipe[0]);
    ::close(err_pipe[0]);
    return {-1, "", args[0] + ": " + std::strerror(rc)};
  }

  Stack::RunResult result{-1, "", ""};
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(timeout_seconds);
  bool finished = ReadBoth(out_pipe[0], err_pipe[0], result.out, result.err, deadline);
  if (!finished) {
    ::kill(-pid, SIGKILL);
    ::kill(pid, SIGKILL);
    result.err += "\n[harness] " + args[0] + ": killed after " + std::to_string(timeout_seconds) + " s\n";
  }
  ::close(out_pipe[0]);
  ::close(err_pipe[0]);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (WIFEXITED(status)) {
    result.exit_code = WEXITSTATUS(status);
  } else if (WIFSIGNALED(status)) {
    result.exit_code = 128 + WTERMSIG(status);
  }
  return result;
}

Result<std::unique_ptr<Stack>> Stack::Start(Options options) {
  std::string tmp = GetEnv("TMPDIR");
  if (tmp.empty()) tmp = "/tmp";
  std::string pattern = tmp + "/trace-stack-XXXXXX";
  if (::mkdtemp(pattern.data()) == nullptr) return Fail(ErrnoError("mkdtemp " + pattern, errno));
  std::unique_ptr<Stack> stack(new Stack(pattern));

  std::string only;
  for (auto [wanted, name] : {std::pair{options.postgres, "postgres"}, std::pair{options.mosquitto, "mosquitto"},
                              std::pair{options.anvil, "anvil"}}) {
    if (!wanted) continue;
    if (!only.empty()) only += ",";
    only += name;
  }
  if (only.empty()) return Fail(InvalidArgument("Stack::Start: no server asked for"));
  std::vector<std::string> argv = {SourceDir() + "/deploy/stack.sh", "up", stack->dir_, "--only", only};
  if (options.services) argv.push_back("--services");
  if (options.replica) argv.push_back("--replica");
  RunResult up = RunProgram(argv, {}, 300);
  if (up.exit_code != 0) {
    // The destructor runs `down` (stack.sh already stopped what it started) and removes DIR.
    return Fail(Unavailable("deploy/stack.sh up " + stack->dir_ + " exited " + std::to_string(up.exit_code) +
                            ":\n" + up.err + up.out));
  }
  std::ifstream env(stack->dir_ + "/env");
  if (!env) return Fail(Internal("deploy/stack.sh up wrote no " + stack->dir_ + "/env"));
  for (std::string line; std::getline(env, line);) {
    if (line.starts_with("export ")) line.erase(0, 7);
    auto eq = line.find('=');
    if (eq == std::string::npos) continue;
    std::string value = line.substr(eq + 1);
    if (value.size() >= 2 && value.front() == '\'' && value.back() == '\'') value = value.substr(1, value.size() - 2);
    stack->env_[line.substr(0, eq)] = value;
  }
  return stack;
}

Stack::~Stack() {
  RunResult down = RunProgram({SourceDir() + "/deploy/stack.sh", "down", dir_}, {}, 120);
  if (down.exit_code != 0) {
    std::cerr << "[harness] deploy/stack.sh down " << dir_ << " exited " << down.exit_code << ":\n"
              << down.err << down.out;
  }
  if (GetEnv("TRACE_KEEP_STACK") == "1") {
    std::cerr << "[harness] TRACE_KEEP_STACK=1: kept " << dir_ << "\n";
    return;
  }
  std::error_code ec;
  std::filesystem::remove_all(dir_, ec);
  if (ec) std::cerr << "[harness] removing " << dir_ << ": " << ec.message() << "\n";
}

std::string Stack::Env(const std::string& name) const {
  auto it = env_.find(name);
  return it == env_.end() ? "" : it->second;
}

Stack::RunResult Stack::Run(const std::vector<std::string>& argv) const {
  int timeout = 300;
  if (std::string t = GetEnv("TRACE_RUN_TIMEOUT"); !t.empty()) timeout = std::max(1, std::atoi(t.c_str()));
  return RunProgram(argv, env_, timeout);
}

}  // namespace trace::testing
