// `qbuild verify [TARGET...]`: reads every byte of cached artifacts and checks it against the
// XXH3-128 their manifest recorded at publish — the check that finds what the cheap one
// (sizes, and mtimes, at every plan) cannot: bit rot, or a file changed with its mtime reset.
// A damaged artifact is quarantined (cache/quarantine/, its index row dropped), so the next
// qbuild reruns its node. Holds the invocation lock and the store lock shared: a step replayed
// by hand may run meanwhile (it checks its own inputs the same way).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "runner/project.h"

namespace qb::runner {

struct VerifyResult {
  int checked = 0;
  std::uint64_t bytes = 0;  // bytes read
  struct Damaged {
    std::string key, kind, name, why;
  };
  std::vector<Damaged> damaged;  // each one quarantined
};

// Verifies `keys` (every object in the store when empty); `on_object` is told about each
// object as it is checked (for a progress line).
Result<VerifyResult> verify_objects(Project& project, std::vector<std::string> keys,
                                    const std::function<void(const std::string& key, int i, int n)>& on_object = {});

}  // namespace qb::runner
