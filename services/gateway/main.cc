// trace-gateway: consumes envelopes from MQTT, checks and stores them, answers
// signed receipts (PROTOCOL.md §2-4). See src/pipeline.h for the stages.
#include <signal.h>
#include <unistd.h>

#include <iostream>

#include "src/run.h"

int main(int argc, char** argv) {
  // SIGTERM/SIGINT are taken with sigwait by Run, in every thread blocked.
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  return trace::gateway::Run(argc, argv, set);
}
