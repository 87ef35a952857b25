// trace-api's main, as a library function so that tests link what ships.
#pragma once

#include <signal.h>

namespace trace::api {

// Parses flags, serves until one of `stop_signals` arrives (blocked in every
// thread by the caller), then drains and returns the exit code: 0 after a clean
// drain, 2 for bad flags, 1 when the server cannot start.
int Run(int argc, char** argv, const sigset_t& stop_signals);

}  // namespace trace::api
