// trace-api: the public trace and proof routes (PROTOCOL.md §7). See src/api.h.
#include <signal.h>

#include "src/run.h"

int main(int argc, char** argv) {
  // SIGTERM/SIGINT are taken with sigwait by Run, in every thread blocked.
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  return trace::api::Run(argc, argv, set);
}
