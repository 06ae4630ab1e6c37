// Generates cache/build.ninja from the graph: one edge per step node whose output is the
// artifact's manifest in the store (its stamp), with the node key on the command line, so a
// changed recipe is a new edge and a reverted one is an edge whose output already exists.
// Inputs are order-only dependencies: content keys, not mtimes, decide what is stale.
// The rules come from rules/<kind>.ninja (included, so users can read and change them).
//
// With executor: slurm, the edge of a node that must run and whose kind runs as a Slurm job gets
// a `launcher` (rules/slurm.ninja): `<qbuild> job <key> -- srun --quit-on-interrupt
// --job-name=<log name> --comment=qbuild:$QBUILD_JOB_TAG:<key> <the kind's options> --`,
// which the kind's rule puts before `$qbuild step <kind> <key>`, and sits in the `slurm` pool
// (as deep as slurm.jobs). A cached node's edge keeps the plain command: if Ninja runs it, it is
// a local cache hit, never a job. Steps that stay local sit in the `local` pool (as many as run
// in parallel on this machine), since Ninja's -j then also counts the jobs waiting in srun.
#pragma once

#include <set>
#include <string>

#include "graph/graph.h"
#include "ninja/ninja_writer.h"
#include "spec/project.h"
#include "store/layout.h"
#include "util/hash.h"

namespace qb::ninja {

struct BuildFileOptions {
  std::string qbuild_command;  // shell-quoted: "/abs/qbuild --project /abs/root"
  int gpu_pool_depth = 1;      // number of configured GPUs (1 on a CPU-only project)
  const spec::ProjectSpec* project = nullptr;  // the executor (nullptr: local)
  std::set<std::string> cached{};              // keys in the store (their edges never submit a job)
  int local_pool_depth = 1;                    // under slurm: steps on this machine at once
};

// An edge's output: the artifact's manifest, relative to the project root (ninja runs with -C
// root), or absolute in a store outside the project (store::Layout names it).
std::string stamp_path(const store::Layout& layout, const std::string& key);

// The launcher of a node that runs as a Slurm job (see above), unescaped.
std::string slurm_launcher(const std::string& qbuild_command, const graph::Node& n, const spec::SlurmJobSpec& job);

// The manifest text. Only available, non-source nodes of `selected` get edges.
Result<std::string> generate_build_file(const graph::Graph& g, const std::set<int>& selected, const store::Layout& layout,
                                        const BuildFileOptions& opts);

// Node specs: cache/nodes/<key>.json, what `qbuild step <kind> <key>` runs from.
nlohmann::json node_spec(const graph::Graph& g, int node, const store::Layout& layout);

// A fingerprint of a step node's node_spec() without building it: its key (which covers the
// kind, the code version, the params and the inputs' roles and keys) and every other field
// node_spec() writes. Equal fingerprints mean equal node files: the build's outputs memo skips
// writing them on that (tests/ninja checks that a change to any field changes it).
Digest node_spec_fingerprint(const graph::Graph& g, int node);

}  // namespace qb::ninja
