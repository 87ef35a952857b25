#include "trace/common/config.h"

#include <charconv>
#include <cstdlib>
#include <stdexcept>

namespace trace {
namespace {

bool ParseBoolText(std::string_view v, bool* out) {
  if (v == "1" || v == "true" || v == "yes" || v == "on") {
    *out = true;
    return true;
  }
  if (v == "0" || v == "false" || v == "no" || v == "off" || v.empty()) {
    *out = false;
    return true;
  }
  return false;
}

}  // namespace

Flags::Flags(std::string program, std::string summary) : program_(std::move(program)), summary_(std::move(summary)) {}

void Flags::Add(std::string name, std::string env, std::string default_value, std::string help) {
  options_[std::move(name)] = Option{std::move(env), std::move(default_value), std::move(help), false, false};
}

void Flags::AddBool(std::string name, std::string env, std::string help) {
  options_[std::move(name)] = Option{std::move(env), "false", std::move(help), true, false};
}

Result<std::vector<std::string>> Flags::Parse(int argc, const char* const* argv) {
  for (auto& [name, opt] : options_) {
    if (opt.env.empty()) continue;
    if (const char* v = std::getenv(opt.env.c_str()); v != nullptr) {
      if (opt.is_bool) {
        bool b = false;
        if (!ParseBoolText(v, &b)) return Fail(InvalidArgument(opt.env + ": not a boolean: " + v));
        opt.value = b ? "true" : "false";
      } else {
        opt.value = v;
      }
      opt.set = true;
    }
  }
  std::vector<std::string> positional;
  bool flags_done = false;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (flags_done || arg.size() < 3 || arg.rfind("--", 0) != 0) {
      if (arg == "--") {
        flags_done = true;
        continue;
      }
      positional.push_back(std::move(arg));
      continue;
    }
    if (arg == "--help") return Fail(FailedPrecondition(Usage()));
    std::string name = arg.substr(2);
    std::string value;
    bool has_value = false;
    if (auto eq = name.find('='); eq != std::string::npos) {
      value = name.substr(eq + 1);
      name.resize(eq);
      has_value = true;
    }
    auto it = options_.find(name);
    if (it == options_.end()) return Fail(InvalidArgument("unknown flag --" + name));
    Option& opt = it->second;
    if (opt.is_bool) {
      bool b = true;
      if (has_value && !ParseBoolText(value, &b)) return Fail(InvalidArgument("--" + name + ": not a boolean: " + value));
      opt.value = b ? "true" : "false";
    } else {
      if (!has_value) {
        if (i + 1 >= argc) return Fail(InvalidArgument("--" + name + " needs a value"));
        value = argv[++i];
      }
      opt.value = std::move(value);
    }
    opt.set = true;
  }
  return positional;
}

const Flags::Option& Flags::Find(const std::string& name) const {
  auto it = options_.find(name);
  if (it == options_.end()) throw std::logic_error("undeclared flag --" + name);
  return it->second;
}

const std::string& Flags::Get(const std::string& name) const { return Find(name).value; }

bool Flags::GetBool(const std::string& name) const { return Find(name).value == "true"; }

bool Flags::IsSet(const std::string& name) const { return Find(name).set; }

Result<int64_t> Flags::GetInt(const std::string& name) const {
  const std::string& v = Find(name).value;
  int64_t out = 0;
  auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), out);
  if (ec != std::errc() || p != v.data() + v.size()) return Fail(InvalidArgument("--" + name + ": not an integer: " + v));
  return out;
}

Result<double> Flags::GetDouble(const std::string& name) const {
  const std::string& v = Find(name).value;
  double out = 0;
  auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), out);
  if (ec != std::errc() || p != v.data() + v.size()) return Fail(InvalidArgument("--" + name + ": not a number: " + v));
  return out;
}

std::string Flags::Usage() const {
  std::string s = "usage: " + program_ + " [flags] ...\n" + summary_ + "\n\nflags:\n";
  for (const auto& [name, opt] : options_) {
    s += "  --" + name;
    if (!opt.is_bool) s += "=VALUE";
    s += "\n      " + opt.help;
    if (!opt.env.empty()) s += " [env " + opt.env + "]";
    if (!opt.is_bool && !opt.value.empty() && !opt.set) s += " (default " + opt.value + ")";
    s += "\n";
  }
  return s;
}

}  // namespace trace
