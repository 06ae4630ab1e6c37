// qbuild-generate-worker REQUEST.json: one shard of a data-parallel generation
// (data_parallel.h), started by run_generation_parallel() with CUDA_VISIBLE_DEVICES naming its
// GPU. Exit status 0 ok, 1 failed (the message on stderr), 2 usage.
#include <cstdio>

#include "steps/generate/data_parallel.h"

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: qbuild-generate-worker REQUEST.json\n");
    return 2;
  }
  return qb::generate::generate_worker_main(argv[1]);
}
