// Structured logging: one JSON object per line on stderr, written with a single
// write(2) so lines from threads never interleave. Thread-safe.
//
//   trace::log::Info("envelope accepted", {{"org", org}, {"seq", seq}});
//   -> {"ts":"2026-11-23T08:15:30.391Z","level":"info","service":"trace-gateway",
//       "msg":"envelope accepted","org":"green-valley-farm","seq":1042}
//
// Never log a secret (a token, a password, a private key): fields are written as given.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>

namespace trace::log {

enum class Level { kDebug = 0, kInfo, kWarn, kError };

struct Field {
  Field(std::string_view k, std::string_view v);
  Field(std::string_view k, const char* v) : Field(k, std::string_view(v)) {}
  Field(std::string_view k, const std::string& v) : Field(k, std::string_view(v)) {}
  Field(std::string_view k, int64_t v);
  Field(std::string_view k, int v) : Field(k, static_cast<int64_t>(v)) {}
  Field(std::string_view k, uint64_t v);
  Field(std::string_view k, double v);
  Field(std::string_view k, bool v);

  std::string key;
  std::string json;  // the value already serialized as JSON
};

void SetService(std::string_view name);
// From text: debug, info, warn, error. Unknown text leaves the level unchanged and returns false.
bool SetLevel(std::string_view level);
void SetLevel(Level level);

void Write(Level level, std::string_view msg, std::initializer_list<Field> fields);
inline void Debug(std::string_view m, std::initializer_list<Field> f = {}) { Write(Level::kDebug, m, f); }
inline void Info(std::string_view m, std::initializer_list<Field> f = {}) { Write(Level::kInfo, m, f); }
inline void Warn(std::string_view m, std::initializer_list<Field> f = {}) { Write(Level::kWarn, m, f); }
inline void Error(std::string_view m, std::initializer_list<Field> f = {}) { Write(Level::kError, m, f); }

// Formats a line without writing it (for tests).
std::string FormatLine(Level level, std::string_view msg, std::initializer_list<Field> fields);

}  // namespace trace::log
