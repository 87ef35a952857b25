// trace-devicesim's command line: keygen, register, scenario, load, fault.
// RunCli returns the process exit code: 0 success, 1 the work failed (a
// rejection, a timeout, an unreachable broker), 2 bad usage.
#pragma once

#include <ostream>

namespace trace::devicesim {

int RunCli(int argc, const char* const* argv, std::ostream& out, std::ostream& err);

}  // namespace trace::devicesim
