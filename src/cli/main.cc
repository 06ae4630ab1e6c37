// qbuild's entry point: everything lives in qbuild_cli (src/cli/cli.h).
#include "cli/cli.h"

int main(int argc, char** argv) { return qb::cli::run_main(argc, argv); }
