// One stack for all the tests of an executable, and fresh databases on it: what
// the PostgreSQL tests beside the code share (admin, api, anchor).
//
// Example, at namespace scope of a test file:
//   testing::SharedStack* const g_env = testing::RegisterSharedStack({.postgres = true});
//   ...
//   std::string url = testing::CreateDatabase(g_env->stack(), "recall_rice");
//
// The stack starts before the first test (a failure to start fails every test)
// and stops after the last. Header-only: the harness library itself does not
// depend on GoogleTest.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <pqxx/pqxx>
#include <string>

#include "harness/stack.h"

namespace trace::testing {

class SharedStack : public ::testing::Environment {
 public:
  explicit SharedStack(Stack::Options options) : options_(options) {}
  void SetUp() override {
    auto stack = Stack::Start(options_);
    ASSERT_TRUE(stack.has_value()) << stack.error();
    stack_ = std::move(*stack);
  }
  void TearDown() override { stack_.reset(); }
  // The running stack; valid between the first test's start and the last's end.
  Stack& stack() const { return *stack_; }

 private:
  Stack::Options options_;
  std::unique_ptr<Stack> stack_;
};

// Registers the executable's shared stack with GoogleTest, which owns it.
inline SharedStack* RegisterSharedStack(Stack::Options options) {
  auto* env = new SharedStack(options);
  ::testing::AddGlobalTestEnvironment(env);
  return env;
}

// Creates database `name` (dropped first, with its connections) beside the
// stack's own and returns its URL. Empty: apply migrations as the test needs.
inline std::string CreateDatabase(const Stack& stack, const std::string& name) {
  const std::string base = stack.Env("TRACE_DB_URL");
  pqxx::connection conn(base);
  pqxx::nontransaction n(conn);
  n.exec("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)");
  n.exec("CREATE DATABASE " + name);
  return base.substr(0, base.rfind('/') + 1) + name;
}

}  // namespace trace::testing
