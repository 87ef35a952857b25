// trace-verify: checks a product's trace end to end from its link (src/cli.h).
#include <iostream>

#include "cli.h"

int main(int argc, char** argv) { return trace::verify::RunCli(argc, argv, std::cout, std::cerr); }
