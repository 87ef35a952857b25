// Configuration: every option has a flag (--name=value or --name value), an
// optional environment variable, and a default. A flag overrides the environment,
// which overrides the default.
//
// Example:
//   trace::Flags flags("trace-gateway", "consume envelopes and answer receipts");
//   flags.Add("db-url", "TRACE_DB_URL", "", "libpq URI of the database");
//   flags.AddBool("json", "", "print one JSON object");
//   auto args = flags.Parse(argc, argv);   // positional arguments, or an error
//   if (!args) { std::cerr << args.error().message() << "\n" << flags.Usage(); return 2; }
//   std::string url = flags.Get("db-url");
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "trace/common/status.h"

namespace trace {

class Flags {
 public:
  Flags(std::string program, std::string summary);

  void Add(std::string name, std::string env, std::string default_value, std::string help);
  // A switch: present means "true"; also accepts --name=true/false and env 1/0/true/false.
  void AddBool(std::string name, std::string env, std::string help);

  // Parses argv (argv[0] skipped). Flags may appear anywhere; "--" ends flags.
  // Returns the positional arguments, or InvalidArgument naming an unknown flag or
  // a flag without its value. `--help` yields FailedPrecondition with the usage text.
  Result<std::vector<std::string>> Parse(int argc, const char* const* argv);

  // The value after Parse. Asking for an undeclared name is a programming error (throws).
  const std::string& Get(const std::string& name) const;
  bool GetBool(const std::string& name) const;
  // Parses the value as an integer, naming the flag on error.
  Result<int64_t> GetInt(const std::string& name) const;
  Result<double> GetDouble(const std::string& name) const;
  // True when the value came from a flag or the environment rather than the default.
  bool IsSet(const std::string& name) const;

  std::string Usage() const;

 private:
  struct Option {
    std::string env, value, help;
    bool is_bool = false;
    bool set = false;
  };
  const Option& Find(const std::string& name) const;

  std::string program_, summary_;
  std::map<std::string, Option> options_;
};

}  // namespace trace
