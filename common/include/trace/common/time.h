// RFC 3339 / ISO 8601 date-times as the envelope, receipts and EPCIS use them.
#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include "trace/common/status.h"

namespace trace {

using TimePoint = std::chrono::time_point<std::chrono::system_clock, std::chrono::microseconds>;

// "2026-11-23T08:15:30.250Z": UTC, exactly three fractional digits (PROTOCOL.md §3).
std::string FormatRfc3339Millis(std::chrono::system_clock::time_point t);

struct ParsedTime {
  TimePoint utc;          // the instant, in UTC
  int offset_minutes = 0;  // the written offset (Z is 0)
};

// Parses "YYYY-MM-DDThh:mm:ss[.fraction](Z|±hh:mm)" — the RFC 3339 date-time that
// JSON Schema's "date-time" format means. Refuses impossible dates (Feb 30), hours
// beyond 23, missing offsets. Fractions beyond microseconds are truncated.
Result<ParsedTime> ParseRfc3339(std::string_view text);

// True when `text` is exactly the envelope's form: UTC "Z" with three fractional digits.
bool IsRfc3339UtcMillis(std::string_view text);

}  // namespace trace
