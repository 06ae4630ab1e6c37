// The BPE model of a byte-level tokenizer: a vocabulary (symbol string -> id) and ranked merges.
// A word (one pre-tokenized piece, raw bytes) starts as one symbol per byte, each byte written in
// the GPT-2 byte-level alphabet (byte_level.h); then the adjacent pair with the lowest merge rank
// is merged, leftmost first among equal ranks, until no adjacent pair has a merge. This is the
// order of the `tokenizers` package (a priority queue on (rank, position)).
//
// BpeModel is the fast version (ids, an open-addressing pair table, a heap, a per-word cache);
// ReferenceBpe is the slow, obviously correct one (strings, a std::map, rescans) that tests
// compare it with.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "util/status.h"

namespace qb::tok {

struct StringHash {
  using is_transparent = void;
  std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};
using Vocab = std::unordered_map<std::string, std::int32_t, StringHash, std::equal_to<>>;
using MergeList = std::vector<std::pair<std::string, std::string>>;  // in rank order

struct BpeOptions {
  // Llama-3's `ignore_merges`: a word that is itself in the vocabulary is one token.
  bool ignore_merges = false;
};

class BpeModel {
 public:
  // Checks that every byte's symbol is in `vocab` and that each merge names two vocabulary
  // symbols whose concatenation is one too. Errors name the merge: "merges[12] ('a', 'b'): ...".
  static Result<BpeModel> build(Vocab vocab, const MergeList& merges, BpeOptions options);

  BpeModel();
  BpeModel(BpeModel&&) noexcept;
  BpeModel& operator=(BpeModel&&) noexcept;
  ~BpeModel();

  // Appends the ids of the word `bytes` (raw bytes, non-empty) to `out`. Thread-safe; results
  // of words up to kMaxCachedWord bytes are cached (at most kCacheCapacity words).
  void encode_word(std::string_view bytes, std::vector<std::int32_t>& out) const;
  // The same without the cache.
  void encode_word_uncached(std::string_view bytes, std::vector<std::int32_t>& out) const;

  const Vocab& vocab() const { return vocab_; }
  std::size_t num_merges() const { return num_merges_; }
  std::size_t cache_size() const;

  static constexpr std::size_t kMaxCachedWord = 256;
  static constexpr std::size_t kCacheCapacity = 1 << 17;

 private:
  struct PairTable;
  struct Cache;
  Vocab vocab_;
  BpeOptions options_;
  std::array<std::int32_t, 256> byte_ids_{};
  std::unique_ptr<PairTable> pairs_;
  std::unique_ptr<Cache> cache_;
  std::size_t num_merges_ = 0;
};

// GPT-2's bpe() loop on strings: find the adjacent pair of lowest rank, merge every occurrence
// of it left to right, repeat. Slow; for tests.
class ReferenceBpe {
 public:
  ReferenceBpe(const Vocab& vocab, const MergeList& merges, BpeOptions options);
  // Ids of the word `bytes`; -1 for a symbol missing from the vocabulary.
  std::vector<std::int32_t> encode_word(std::string_view bytes) const;

 private:
  const Vocab& vocab_;
  std::map<std::pair<std::string, std::string>, std::size_t> ranks_;
  BpeOptions options_;
};

}  // namespace qb::tok
