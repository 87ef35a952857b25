// The stack of real servers that system tests run against: the same deploy/stack.sh that
// users and the demo run, in a fresh temporary directory per Stack.
//
// Example:
//   auto stack = trace::testing::Stack::Start({.postgres = true, .mosquitto = true});
//   ASSERT_TRUE(stack) << stack.error();
//   pqxx::connection db((*stack)->Env("TRACE_DB_URL"));
//   auto r = (*stack)->Run({"trace-admin", "migrate"});  // build/bin/trace-admin, stack env
//   EXPECT_EQ(r.exit_code, 0) << r.err;
//
// A Stack is not copyable; destroying it stops every process the stack started. Env(),
// dir() and Run() are const and safe to call from several threads at once.
#pragma once

#include <spawn.h>
#include <sys/types.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "trace/common/status.h"

namespace trace::testing {

class Stack {
 public:
  struct Options {
    bool postgres = true;
    bool mosquitto = false;
    bool anvil = false;
    bool services = false;  // also the project's services found in build/bin (stack.sh --services)
    bool replica = false;   // a streaming replica of postgres (stack.sh --replica; needs postgres)
  };

  // Runs deploy/stack.sh up in a fresh temporary directory (TRACE_SOURCE_DIR env var gives the
  // repo root, set by ctest). Returns Unavailable with stack.sh's output when it fails; then
  // whatever it started is already stopped and the directory removed.
  static Result<std::unique_ptr<Stack>> Start(Options options);

  // deploy/stack.sh down; removes the directory unless TRACE_KEEP_STACK=1.
  ~Stack();
  Stack(const Stack&) = delete;
  Stack& operator=(const Stack&) = delete;

  // The value of NAME from DIR/env ("" if absent).
  std::string Env(const std::string& name) const;
  const std::string& dir() const { return dir_; }

  struct RunResult {
    int exit_code;  // the exit status; 128 + signal when killed; -1 when it could not start
    std::string out, err;
  };
  // Runs a program (argv[0] resolved in build/bin via TRACE_BIN_DIR when it has no slash and
  // is there, otherwise looked up in PATH) with the stack's env added to the environment,
  // stdin from /dev/null; returns exit code, stdout and stderr. A program still running after
  // TRACE_RUN_TIMEOUT seconds (default 300) is killed with its process group, exit code 128+9.
  RunResult Run(const std::vector<std::string>& argv) const;

 private:
  explicit Stack(std::string dir) : dir_(std::move(dir)) {}

  std::string dir_;
  std::map<std::string, std::string> env_;
};

// Runs argv with `extra_env` added to this process's environment; what Stack::Run does, for
// tests that need a program without a stack. argv[0] is resolved like Stack::Run.
Stack::RunResult RunProgram(const std::vector<std::string>& argv,
                            const std::map<std::string, std::string>& extra_env, int timeout_seconds = 300);

// This process's environment with `extra` added (replacing entries of the same name), as
// NAME=VALUE strings.
std::vector<std::string> EnvironmentWith(const std::map<std::string, std::string>& extra);

// Starts argv (argv[0] looked up in PATH unless it has a slash) with environment `env` in a
// process group of its own, so that killing -pid takes its children too, with an empty signal
// mask and default signal dispositions (what a program started from a shell gets); `actions`
// sets up its file descriptors. Returns posix_spawnp's error number, 0 when it started.
int SpawnInOwnGroup(pid_t* pid, const std::vector<std::string>& argv, const std::vector<std::string>& env,
                    const posix_spawn_file_actions_t* actions);

// The repository root (TRACE_SOURCE_DIR, else the one this was built from).
std::string SourceDir();

}  // namespace trace::testing
