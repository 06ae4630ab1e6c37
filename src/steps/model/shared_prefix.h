// Shared prompt prefixes: which prompts of a generation share a leading run of tokens worth
// computing once (a few-shot block, a chat template with a fixed instruction) and how long it
// is. Continuous batching (continuous_batching.h) prefills each such prefix once, copies its
// keys and values into the rows of the prompts that share it and prefills only their suffixes.
//
// The plan works on token ids, so a prefix is exactly what the prompts share after
// tokenization. Prompts sorted lexicographically form a trie whose branching nodes are the
// LCP intervals of the sorted order (the longest common prefix of neighbours): a node at depth
// d shared by c prompts saves d tokens for each of them but costs one prefill of d tokens, so
// each prompt takes the node along its path with the largest d·(1 − 1/c). MMLU's five-shot
// prompts then group by subject (every subject has its own examples), not by the instruction
// all subjects share, and GSM8K's by its one few-shot block.
#pragma once

#include <cstdint>
#include <vector>

namespace qb::model {

struct PrefixPlan {
  // Per group: the number of leading tokens its prompts share (always shorter than each of
  // them, so every prompt keeps at least one token of its own).
  std::vector<int64_t> length;
  // Per group: a prompt of the group (its first `length` tokens are the prefix).
  std::vector<int64_t> leader;
  // Per prompt: its group, or -1 (prefilled whole).
  std::vector<int64_t> group;
};

// Groups of at least two prompts sharing at least `min_length` tokens (>= 1).
PrefixPlan plan_shared_prefixes(const std::vector<std::vector<int64_t>>& prompts, int64_t min_length);

}  // namespace qb::model
