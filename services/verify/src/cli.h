// The trace-verify command line: flags, the report as text or JSON, exit codes.
#pragma once

#include <ostream>
#include <string>

#include "verifier.h"

namespace trace::verify {

// Exit codes (also in --help).
inline constexpr int kExitVerified = 0;
inline constexpr int kExitFailed = 1;       // some check failed
inline constexpr int kExitUsage = 2;        // bad flags or link
inline constexpr int kExitUnavailable = 3;  // something could not be fetched (and nothing failed)

// The exit code a report earns.
int ExitCodeFor(const Report& report);

// A verdict per event (✓/✗ and what failed), then "verified" or what failed.
std::string FormatText(const Report& report);
// One JSON object: link, verified, checkpoint, failures, unavailable, notes, events[].
std::string FormatJson(const Report& report);

// Runs trace-verify with argv; writes the report to `out`, usage errors to `err`.
int RunCli(int argc, const char* const* argv, std::ostream& out, std::ostream& err);

}  // namespace trace::verify
