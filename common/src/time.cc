#include "trace/common/time.h"

#include <cstdio>

namespace trace {
namespace {

bool Digits(std::string_view s, size_t pos, size_t n, int* out) {
  if (pos + n > s.size()) return false;
  int v = 0;
  for (size_t i = pos; i < pos + n; ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
    v = v * 10 + (s[i] - '0');
  }
  *out = v;
  return true;
}

}  // namespace

std::string FormatRfc3339Millis(std::chrono::system_clock::time_point t) {
  using namespace std::chrono;
  auto ms = time_point_cast<milliseconds>(t);
  auto days = floor<std::chrono::days>(ms);
  year_month_day ymd{days};
  hh_mm_ss hms{ms - days};
  char buf[32];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02uT%02d:%02d:%02d.%03dZ", static_cast<int>(ymd.year()),
                static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
                static_cast<int>(hms.hours().count()), static_cast<int>(hms.minutes().count()),
                static_cast<int>(hms.seconds().count()), static_cast<int>(hms.subseconds().count()));
  return buf;
}

Result<ParsedTime> ParseRfc3339(std::string_view s) {
  using namespace std::chrono;
  auto bad = [&](const char* why) { return Fail(InvalidArgument(std::string("not an RFC 3339 date-time (") + why + ")")); };
  int y, mo, d, h, mi, sec;
  if (!Digits(s, 0, 4, &y) || s.size() < 19 || s[4] != '-' || !Digits(s, 5, 2, &mo) || s[7] != '-' ||
      !Digits(s, 8, 2, &d) || (s[10] != 'T' && s[10] != 't') || !Digits(s, 11, 2, &h) || s[13] != ':' ||
      !Digits(s, 14, 2, &mi) || s[16] != ':' || !Digits(s, 17, 2, &sec)) {
    return bad("expected YYYY-MM-DDThh:mm:ss");
  }
  year_month_day ymd{year{y}, month{static_cast<unsigned>(mo)}, day{static_cast<unsigned>(d)}};
  if (!ymd.ok()) return bad("no such date");
  if (h > 23 || mi > 59 || sec > 60) return bad("time out of range");
  if (sec == 60) sec = 59;  // a leap second: the instant is within the last second of the minute
  size_t pos = 19;
  int64_t micros = 0;
  if (pos < s.size() && s[pos] == '.') {
    ++pos;
    size_t start = pos;
    int64_t scale = 100000;
    while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
      micros += (s[pos] - '0') * scale;
      scale /= 10;
      ++pos;
    }
    if (pos == start) return bad("empty fraction");
  }
  if (pos >= s.size()) return bad("missing time zone offset");
  int offset = 0;
  if (s[pos] == 'Z' || s[pos] == 'z') {
    ++pos;
  } else if (s[pos] == '+' || s[pos] == '-') {
    int oh, om;
    if (!Digits(s, pos + 1, 2, &oh) || pos + 3 >= s.size() || s[pos + 3] != ':' || !Digits(s, pos + 4, 2, &om) ||
        oh > 23 || om > 59) {
      return bad("bad offset");
    }
    offset = (oh * 60 + om) * (s[pos] == '-' ? -1 : 1);
    pos += 6;
  } else {
    return bad("bad time zone offset");
  }
  if (pos != s.size()) return bad("trailing characters");
  TimePoint local = time_point_cast<microseconds>(sys_days{ymd} + hours{h} + minutes{mi} + seconds{sec}) +
                    microseconds{micros};
  return ParsedTime{local - minutes{offset}, offset};
}

bool IsRfc3339UtcMillis(std::string_view s) {
  if (s.size() != 24 || s[19] != '.' || s[23] != 'Z') return false;
  for (size_t i = 20; i < 23; ++i)
    if (s[i] < '0' || s[i] > '9') return false;
  return ParseRfc3339(s).has_value();
}

}  // namespace trace
