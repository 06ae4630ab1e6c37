// Byte-level BPE merging, fast (BpeModel) and reference (ReferenceBpe); see bpe.h.
#include "steps/tokenizer/bpe.h"

#include <algorithm>
#include <cstdio>
#include <limits>
#include <mutex>

#include "steps/tokenizer/byte_level.h"

namespace qb::tok {

// Open-addressing hash table (linear probing) from a pair of ids to (rank, merged id).
struct BpeModel::PairTable {
  static constexpr std::uint64_t kEmpty = std::numeric_limits<std::uint64_t>::max();
  struct Slot {
    std::uint64_t key = kEmpty;
    std::int32_t rank = 0;
    std::int32_t id = 0;
  };
  std::vector<Slot> slots;
  std::uint64_t mask = 0;

  explicit PairTable(std::size_t n) {
    std::size_t cap = 16;
    while (cap < 2 * n) cap <<= 1;
    slots.resize(cap);
    mask = cap - 1;
  }
  static std::uint64_t key(std::int32_t a, std::int32_t b) {
    return (static_cast<std::uint64_t>(static_cast<std::uint32_t>(a)) << 32) |
           static_cast<std::uint32_t>(b);
  }
  static std::uint64_t hash(std::uint64_t k) { return (k * 0x9E3779B97F4A7C15ULL) >> 17; }
  // A later duplicate overwrites an earlier one, as the `tokenizers` package's HashMap does.
  void insert(std::int32_t a, std::int32_t b, std::int32_t rank, std::int32_t id) {
    const std::uint64_t k = key(a, b);
    for (std::uint64_t i = hash(k) & mask;; i = (i + 1) & mask) {
      if (slots[i].key == kEmpty || slots[i].key == k) {
        slots[i] = {k, rank, id};
        return;
      }
    }
  }
  const Slot* find(std::int32_t a, std::int32_t b) const {
    const std::uint64_t k = key(a, b);
    for (std::uint64_t i = hash(k) & mask;; i = (i + 1) & mask) {
      if (slots[i].key == k) return &slots[i];
      if (slots[i].key == kEmpty) return nullptr;
    }
  }
};

struct BpeModel::Cache {
  std::mutex mu;
  std::unordered_map<std::string, std::vector<std::int32_t>, StringHash, std::equal_to<>> words;
};

BpeModel::BpeModel() : cache_(std::make_unique<Cache>()) {}
BpeModel::BpeModel(BpeModel&&) noexcept = default;
BpeModel& BpeModel::operator=(BpeModel&&) noexcept = default;
BpeModel::~BpeModel() = default;

namespace {

std::string single_quoted(std::string_view s) { return "'" + std::string(s) + "'"; }

}  // namespace

Result<BpeModel> BpeModel::build(Vocab vocab, const MergeList& merges, BpeOptions options) {
  BpeModel m;
  m.options_ = options;
  for (int b = 0; b < 256; ++b) {
    const std::string sym = bytes_to_symbols(std::string(1, static_cast<char>(b)));
    auto it = vocab.find(sym);
    if (it == vocab.end()) {
      char hex[8];
      std::snprintf(hex, sizeof hex, "0x%02X", b);
      return invalid_argument("the vocabulary lacks the byte-level symbol " + single_quoted(sym) +
                              " of byte " + hex + " (a byte-level BPE needs all 256)");
    }
    m.byte_ids_[b] = it->second;
  }
  m.pairs_ = std::make_unique<PairTable>(merges.size());
  std::string joined;
  for (std::size_t r = 0; r < merges.size(); ++r) {
    const auto& [a, b] = merges[r];
    const auto where = [&] {
      return "merges[" + std::to_string(r) + "] (" + single_quoted(a) + ", " + single_quoted(b) + ")";
    };
    auto ia = vocab.find(a);
    if (ia == vocab.end()) return invalid_argument(where() + ": unknown token " + single_quoted(a));
    auto ib = vocab.find(b);
    if (ib == vocab.end()) return invalid_argument(where() + ": unknown token " + single_quoted(b));
    joined = a + b;
    auto ij = vocab.find(joined);
    if (ij == vocab.end())
      return invalid_argument(where() + ": the merged token " + single_quoted(joined) +
                              " is not in the vocabulary");
    m.pairs_->insert(ia->second, ib->second, static_cast<std::int32_t>(r), ij->second);
  }
  m.num_merges_ = merges.size();
  m.vocab_ = std::move(vocab);
  return m;
}

std::size_t BpeModel::cache_size() const {
  std::lock_guard<std::mutex> lock(cache_->mu);
  return cache_->words.size();
}

void BpeModel::encode_word(std::string_view bytes, std::vector<std::int32_t>& out) const {
  if (bytes.size() == 1) {
    out.push_back(byte_ids_[static_cast<unsigned char>(bytes[0])]);
    return;
  }
  const bool cacheable = bytes.size() <= kMaxCachedWord;
  if (cacheable) {
    std::lock_guard<std::mutex> lock(cache_->mu);
    auto it = cache_->words.find(bytes);
    if (it != cache_->words.end()) {
      out.insert(out.end(), it->second.begin(), it->second.end());
      return;
    }
  }
  const std::size_t first = out.size();
  encode_word_uncached(bytes, out);
  if (cacheable) {
    std::lock_guard<std::mutex> lock(cache_->mu);
    if (cache_->words.size() < kCacheCapacity)
      cache_->words.emplace(std::string(bytes), std::vector<std::int32_t>(out.begin() + first, out.end()));
  }
}

void BpeModel::encode_word_uncached(std::string_view bytes, std::vector<std::int32_t>& out) const {
  const std::size_t n = bytes.size();
  if (n == 0) return;
  if (options_.ignore_merges) {
    auto it = vocab_.find(bytes_to_symbols(bytes));
    if (it != vocab_.end()) {
      out.push_back(it->second);
      return;
    }
  }
  // Symbols form a linked list over the original byte positions; a merge keeps the left symbol
  // and empties the right one (len 0). Heap entries go stale when either side changed; they are
  // recognised by re-looking up the current pair.
  struct Symbol {
    std::int32_t id, prev, next, len;
  };
  struct Candidate {
    std::int32_t rank, pos, id;
    bool operator>(const Candidate& o) const {
      return rank != o.rank ? rank > o.rank : pos > o.pos;
    }
  };
  thread_local std::vector<Symbol> sym;
  thread_local std::vector<Candidate> heap;
  sym.clear();
  heap.clear();
  for (std::size_t i = 0; i < n; ++i) {
    sym.push_back({byte_ids_[static_cast<unsigned char>(bytes[i])], static_cast<std::int32_t>(i) - 1,
                   i + 1 < n ? static_cast<std::int32_t>(i + 1) : -1, 1});
  }
  const auto push_pair = [&](std::int32_t left) {
    const std::int32_t right = sym[left].next;
    if (right < 0) return;
    if (const PairTable::Slot* s = pairs_->find(sym[left].id, sym[right].id)) {
      heap.push_back({s->rank, left, s->id});
      std::push_heap(heap.begin(), heap.end(), std::greater<>{});
    }
  };
  for (std::size_t i = 0; i + 1 < n; ++i) push_pair(static_cast<std::int32_t>(i));
  while (!heap.empty()) {
    std::pop_heap(heap.begin(), heap.end(), std::greater<>{});
    const Candidate top = heap.back();
    heap.pop_back();
    Symbol& left = sym[top.pos];
    if (left.len == 0 || left.next < 0) continue;
    Symbol& right = sym[left.next];
    const PairTable::Slot* s = pairs_->find(left.id, right.id);
    if (!s || s->id != top.id) continue;  // stale
    left.id = top.id;
    left.len += right.len;
    left.next = right.next;
    right.len = 0;
    if (left.next >= 0) sym[left.next].prev = top.pos;
    if (left.prev >= 0) push_pair(left.prev);
    push_pair(top.pos);
  }
  for (std::int32_t i = 0; i >= 0; i = sym[i].next) out.push_back(sym[i].id);
}

ReferenceBpe::ReferenceBpe(const Vocab& vocab, const MergeList& merges, BpeOptions options)
    : vocab_(vocab), options_(options) {
  for (std::size_t r = 0; r < merges.size(); ++r) ranks_[merges[r]] = r;  // last duplicate wins
}

std::vector<std::int32_t> ReferenceBpe::encode_word(std::string_view bytes) const {
  const auto id_of = [&](const std::string& s) {
    auto it = vocab_.find(s);
    return it == vocab_.end() ? -1 : it->second;
  };
  if (options_.ignore_merges && vocab_.count(bytes_to_symbols(bytes)))
    return {id_of(bytes_to_symbols(bytes))};
  std::vector<std::string> word;
  for (char b : bytes) word.push_back(bytes_to_symbols(std::string(1, b)));
  while (word.size() > 1) {
    std::size_t best_rank = std::numeric_limits<std::size_t>::max();
    std::pair<std::string, std::string> best;
    for (std::size_t i = 0; i + 1 < word.size(); ++i) {
      auto it = ranks_.find({word[i], word[i + 1]});
      if (it != ranks_.end() && it->second < best_rank) {
        best_rank = it->second;
        best = it->first;
      }
    }
    if (best_rank == std::numeric_limits<std::size_t>::max()) break;
    std::vector<std::string> merged;
    for (std::size_t i = 0; i < word.size();) {
      if (i + 1 < word.size() && word[i] == best.first && word[i + 1] == best.second) {
        merged.push_back(word[i] + word[i + 1]);
        i += 2;
      } else {
        merged.push_back(word[i]);
        i += 1;
      }
    }
    word.swap(merged);
  }
  std::vector<std::int32_t> ids;
  for (const std::string& s : word) ids.push_back(id_of(s));
  return ids;
}

}  // namespace qb::tok
