// The trace-admin command line: parses flags and the command, runs it, prints
// the outcome and returns the process exit code.
//
//   trace-admin [--json] [--db-url URL] COMMAND ...
//     migrate [--migrations-dir DIR]
//     org create ORG [--name NAME]
//     device register ORG DEVICE --public-key B64URL
//     device revoke ORG DEVICE
//     keys [--keys-dir DIR] [--log-name NAME]
//     chain deploy [--rpc URL] [--key-file FILE]
//
// With --json exactly one JSON object goes to `out`, errors included
// ({"error": "...", "code": "NOT_FOUND"}); without it, text for people (errors
// on `err`). Exit codes: 0 success, 2 usage errors (unknown command or flag,
// wrong arguments, invalid ids or keys, missing configuration), 1 any other
// failure.
#pragma once

#include <ostream>

namespace trace::admin {

int RunCli(int argc, const char* const* argv, std::ostream& out, std::ostream& err);

}  // namespace trace::admin
