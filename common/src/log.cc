#include "trace/common/log.h"

#include <unistd.h>

#include <atomic>
#include <boost/json/serialize.hpp>
#include <boost/json/string.hpp>
#include <boost/json/value.hpp>
#include <mutex>

#include "trace/common/time.h"

namespace trace::log {
namespace {

std::atomic<int> g_level{static_cast<int>(Level::kInfo)};
std::mutex g_service_mu;
std::string g_service = "trace";

std::string Quote(std::string_view s) { return boost::json::serialize(boost::json::string(s)); }

std::string_view LevelName(Level l) {
  switch (l) {
    case Level::kDebug: return "debug";
    case Level::kInfo: return "info";
    case Level::kWarn: return "warn";
    case Level::kError: return "error";
  }
  return "info";
}

}  // namespace

Field::Field(std::string_view k, std::string_view v) : key(k), json(Quote(v)) {}
Field::Field(std::string_view k, int64_t v) : key(k), json(std::to_string(v)) {}
Field::Field(std::string_view k, uint64_t v) : key(k), json(std::to_string(v)) {}
Field::Field(std::string_view k, double v) : key(k), json(boost::json::serialize(boost::json::value(v))) {}
Field::Field(std::string_view k, bool v) : key(k), json(v ? "true" : "false") {}

void SetService(std::string_view name) {
  std::lock_guard lock(g_service_mu);
  g_service = name;
}

void SetLevel(Level level) { g_level = static_cast<int>(level); }

bool SetLevel(std::string_view level) {
  for (Level l : {Level::kDebug, Level::kInfo, Level::kWarn, Level::kError}) {
    if (LevelName(l) == level) {
      SetLevel(l);
      return true;
    }
  }
  return false;
}

std::string FormatLine(Level level, std::string_view msg, std::initializer_list<Field> fields) {
  std::string service;
  {
    std::lock_guard lock(g_service_mu);
    service = g_service;
  }
  std::string line = "{\"ts\":\"" + FormatRfc3339Millis(std::chrono::system_clock::now()) + "\",\"level\":\"";
  line += LevelName(level);
  line += "\",\"service\":" + Quote(service) + ",\"msg\":" + Quote(msg);
  for (const Field& f : fields) {
    line += ',';
    line += Quote(f.key);
    line += ':';
    line += f.json;
  }
  line += "}\n";
  return line;
}

void Write(Level level, std::string_view msg, std::initializer_list<Field> fields) {
  if (static_cast<int>(level) < g_level.load(std::memory_order_relaxed)) return;
  std::string line = FormatLine(level, msg, fields);
  ssize_t unused = ::write(STDERR_FILENO, line.data(), line.size());
  (void)unused;
}

}  // namespace trace::log
