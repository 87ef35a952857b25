// trace-admin: operator tasks (see src/cli.h for the commands).
#include <iostream>

#include "src/cli.h"

int main(int argc, char** argv) { return trace::admin::RunCli(argc, argv, std::cout, std::cerr); }
