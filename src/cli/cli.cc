#include "cli/cli.h"

#include <cstdio>

namespace qb::cli {

int run_main(int argc, char** argv) {
  std::fprintf(stderr, "qbuild: no commands yet\n");
  return kExitUsage;
}

}  // namespace qb::cli
