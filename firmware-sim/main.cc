// trace-devicesim: simulated devices and sites. Everything is in trace_devicesim_lib.
#include <iostream>

#include "cli.h"

int main(int argc, char** argv) { return trace::devicesim::RunCli(argc, argv, std::cout, std::cerr); }
