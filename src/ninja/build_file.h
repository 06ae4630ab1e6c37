// Generates cache/build.ninja from the graph: one edge per step node whose output is the
// artifact's manifest in the store (its stamp), with the node key on the command line, so a
// changed recipe is a new edge and a reverted one is an edge whose output already exists.
// Inputs are order-only dependencies: content keys, not mtimes, decide what is stale.
// The rules come from rules/<kind>.ninja (included, so users can read and change them).
#pragma once

#include <set>
#include <string>

#include "graph/graph.h"
#include "ninja/ninja_writer.h"
#include "store/layout.h"
#include "util/hash.h"

namespace qb::ninja {

struct BuildFileOptions {
  std::string qbuild_command;  // shell-quoted: "/abs/qbuild --project /abs/root"
  int gpu_pool_depth = 1;      // number of configured GPUs (1 on a CPU-only project)
};

// An edge's output: the artifact's manifest, relative to the project root (store::Layout names
// it; ninja runs with -C root).
std::string stamp_path(const std::string& key);

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
