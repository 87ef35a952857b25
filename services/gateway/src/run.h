// The gateway program: flags, wiring, and the SIGTERM drain.
#pragma once

#include <signal.h>

namespace trace::gateway {

// Runs until one of the signals in `stop_signals` (already blocked in every
// thread) arrives, then drains: stops consuming, finishes in-flight batches,
// publishes their receipts, disconnects. Returns the exit code (0 after a
// clean drain, 2 for bad flags, 1 when it cannot start).
int Run(int argc, char** argv, const sigset_t& stop_signals);

}  // namespace trace::gateway
