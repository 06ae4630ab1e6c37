// Calibration samples (see calibration.h).
#include "steps/quant/calibration.h"

#include <algorithm>
#include <limits>
#include <sstream>

#include <nlohmann/json.hpp>

#include "util/py_random.h"
#include "util/fs.h"

namespace qb::quant {

std::vector<std::int64_t> window_starts(std::uint64_t seed, std::int64_t n, std::int64_t seq_len,
                                        std::int64_t num_samples) {
  PyRandom rng(seed);
  std::vector<std::int64_t> out;
  out.reserve(num_samples);
  // randint(0, n - seq_len - 1) = randrange(0, n - seq_len) = _randbelow(n - seq_len).
  const auto width = static_cast<std::uint64_t>(n - seq_len);
  for (std::int64_t i = 0; i < num_samples; ++i)
    out.push_back(static_cast<std::int64_t>(rng.randbelow(width)));
  return out;
}

std::vector<std::int64_t> shuffled_order(std::uint64_t seed, std::int64_t n) {
  std::vector<std::int64_t> order(n);
  for (std::int64_t i = 0; i < n; ++i) order[i] = i;
  PyRandom rng(seed);
  // random.shuffle: for i in reversed(range(1, len(x))): j = _randbelow(i + 1); swap x[i], x[j].
  for (std::int64_t i = n - 1; i >= 1; --i)
    std::swap(order[i], order[rng.randbelow(static_cast<std::uint64_t>(i) + 1)]);
  return order;
}

namespace {

// ---- libstdc++'s std::sort (bits/stl_algo.h, bits/stl_heap.h), for length_aware_order ----

struct Item {
  std::int64_t length, index;
};
// torch's KeyValueCompDesc on integer keys: a before b when a's key is greater.
bool before(const Item& a, const Item& b) { return a.length > b.length; }
constexpr std::ptrdiff_t kInsertionThreshold = 16;  // _S_threshold

void move_median_to_first(Item* result, Item* a, Item* b, Item* c) {
  if (before(*a, *b)) {
    if (before(*b, *c)) std::iter_swap(result, b);
    else if (before(*a, *c)) std::iter_swap(result, c);
    else std::iter_swap(result, a);
  } else if (before(*a, *c)) {
    std::iter_swap(result, a);
  } else if (before(*b, *c)) {
    std::iter_swap(result, c);
  } else {
    std::iter_swap(result, b);
  }
}

Item* unguarded_partition(Item* first, Item* last, const Item* pivot) {
  while (true) {
    while (before(*first, *pivot)) ++first;
    --last;
    while (before(*pivot, *last)) --last;
    if (!(first < last)) return first;
    std::iter_swap(first, last);
    ++first;
  }
}

void push_heap(Item* first, std::ptrdiff_t hole, std::ptrdiff_t top, Item value) {
  std::ptrdiff_t parent = (hole - 1) / 2;
  while (hole > top && before(first[parent], value)) {
    first[hole] = first[parent];
    hole = parent;
    parent = (hole - 1) / 2;
  }
  first[hole] = value;
}

void adjust_heap(Item* first, std::ptrdiff_t hole, std::ptrdiff_t len, Item value) {
  const std::ptrdiff_t top = hole;
  std::ptrdiff_t child = hole;
  while (child < (len - 1) / 2) {
    child = 2 * (child + 1);
    if (before(first[child], first[child - 1])) --child;
    first[hole] = first[child];
    hole = child;
  }
  if ((len & 1) == 0 && child == (len - 2) / 2) {
    child = 2 * (child + 1);
    first[hole] = first[child - 1];
    hole = child - 1;
  }
  push_heap(first, hole, top, value);
}

void pop_heap(Item* first, Item* last, Item* result) {
  const Item value = *result;
  *result = *first;
  adjust_heap(first, 0, last - first, value);
}

// __partial_sort(first, last, last): __heap_select (here: __make_heap) then __sort_heap.
void heap_sort(Item* first, Item* last) {
  const std::ptrdiff_t len = last - first;
  if (len >= 2)
    for (std::ptrdiff_t parent = (len - 2) / 2;; --parent) {
      adjust_heap(first, parent, len, first[parent]);
      if (parent == 0) break;
    }
  while (last - first > 1) {
    --last;
    pop_heap(first, last, last);
  }
}

void introsort_loop(Item* first, Item* last, std::ptrdiff_t depth_limit) {
  while (last - first > kInsertionThreshold) {
    if (depth_limit == 0) return heap_sort(first, last);
    --depth_limit;
    move_median_to_first(first, first + 1, first + (last - first) / 2, last - 1);
    Item* cut = unguarded_partition(first + 1, last, first);
    introsort_loop(cut, last, depth_limit);
    last = cut;
  }
}

void unguarded_linear_insert(Item* last) {
  const Item value = *last;
  Item* next = last - 1;
  while (before(value, *next)) {
    *last = *next;
    last = next;
    --next;
  }
  *last = value;
}

void insertion_sort(Item* first, Item* last) {
  if (first == last) return;
  for (Item* i = first + 1; i != last; ++i) {
    if (before(*i, *first)) {
      const Item value = *i;
      std::move_backward(first, i, i + 1);
      *first = value;
    } else {
      unguarded_linear_insert(i);
    }
  }
}

constexpr std::int64_t kMaxDraw = std::numeric_limits<std::uint32_t>::max();  // PyRandom's bound

Result<std::vector<Sample>> windows(const CalibrationSettings& s, const Sample& stream,
                                    const std::string& origin) {
  const auto n = static_cast<std::int64_t>(stream.size());
  if (n <= s.seq_len)
    return invalid_argument("calibration: '" + origin + "' has " + std::to_string(n) +
                            " tokens; windows of seq_len " + std::to_string(s.seq_len) +
                            " need at least " + std::to_string(s.seq_len + 1));
  if (n - s.seq_len > kMaxDraw)
    return invalid_argument("calibration: '" + origin + "' has " + std::to_string(n) +
                            " tokens, more than the window sampler supports (2^32 + seq_len)");
  std::vector<Sample> out;
  out.reserve(s.num_samples);
  for (const auto b : window_starts(s.seed, n, s.seq_len, s.num_samples))
    out.emplace_back(stream.begin() + b, stream.begin() + b + s.seq_len);
  return out;
}

Result<std::vector<Sample>> documents(const CalibrationSettings& s, std::string_view text,
                                      const std::string& origin, const tok::Tokenizer& tokenizer) {
  std::vector<Sample> docs;
  std::size_t line_no = 0, pos = 0;
  while (pos < text.size()) {
    auto end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(pos, end - pos);
    pos = end + 1;
    ++line_no;
    if (line.find_first_not_of(" \t\r") == std::string_view::npos) continue;
    const std::string where = origin + ":" + std::to_string(line_no);
    nlohmann::json j = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (j.is_discarded() || !j.is_object())
      return invalid_argument("calibration: " + where + ": not a JSON object");
    const char* field = j.contains("text") ? "text" : j.contains("prompt") ? "prompt" : nullptr;
    if (!field || !j[field].is_string())
      return invalid_argument("calibration: " + where + ": needs a string field 'text' or 'prompt'");
    auto ids = tokenizer.encode(j[field].get<std::string>(), /*allow_special=*/false);
    if (ids.empty()) continue;
    if (static_cast<std::int64_t>(ids.size()) > s.seq_len) ids.resize(s.seq_len);
    docs.push_back(std::move(ids));
  }
  if (static_cast<std::int64_t>(docs.size()) < s.num_samples)
    return invalid_argument("calibration: '" + origin + "' has " + std::to_string(docs.size()) +
                            " usable documents, num_samples is " + std::to_string(s.num_samples));
  if (static_cast<std::int64_t>(docs.size()) > kMaxDraw)
    return invalid_argument("calibration: '" + origin + "' has more than 2^32 documents");
  std::vector<Sample> out;
  out.reserve(s.num_samples);
  const auto order = shuffled_order(s.seed, static_cast<std::int64_t>(docs.size()));
  for (std::int64_t i = 0; i < s.num_samples; ++i) out.push_back(std::move(docs[order[i]]));
  return out;
}

}  // namespace

std::vector<std::int64_t> length_aware_order(const std::vector<std::int64_t>& lengths) {
  std::vector<Item> items(lengths.size());
  for (std::size_t i = 0; i < lengths.size(); ++i)
    items[i] = {lengths[i], static_cast<std::int64_t>(i)};
  Item* first = items.data();
  Item* last = first + items.size();
  if (first != last) {
    std::ptrdiff_t lg = 0;  // std::__lg: floor(log2(n))
    for (auto n = last - first; n > 1; n >>= 1) ++lg;
    introsort_loop(first, last, 2 * lg);
    // __final_insertion_sort
    if (last - first > kInsertionThreshold) {
      insertion_sort(first, first + kInsertionThreshold);
      for (Item* i = first + kInsertionThreshold; i != last; ++i) unguarded_linear_insert(i);
    } else {
      insertion_sort(first, last);
    }
  }
  std::vector<std::int64_t> order;
  order.reserve(items.size());
  for (const Item& it : items) order.push_back(it.index);
  return order;
}

Result<std::vector<Sample>> calibration_from_text(const CalibrationSettings& s,
                                                  std::string_view text, const std::string& origin,
                                                  const tok::Tokenizer& tokenizer) {
  if (s.source_kind == "txt") return windows(s, tokenizer.encode(text, false), origin);
  if (s.source_kind == "jsonl") return documents(s, text, origin, tokenizer);
  return invalid_argument("calibration: source kind '" + s.source_kind +
                          "' is not implemented; use a .txt or .jsonl file");
}

Result<std::vector<Sample>> load_calibration(const CalibrationSettings& s,
                                             const std::filesystem::path& source,
                                             const tok::Tokenizer& tokenizer) {
  if (s.source_kind != "txt" && s.source_kind != "jsonl")
    return invalid_argument("calibration: source kind '" + s.source_kind +
                            "' is not implemented; use a .txt or .jsonl file");
  QB_ASSIGN_OR_RETURN_CTX(std::string text, fs::read_file(source), "calibration");
  return calibration_from_text(s, text, source.string(), tokenizer);
}

Result<std::vector<Sample>> prepare_samples(const std::string& who, std::vector<Sample> samples,
                                            const std::optional<CalibrationSettings>& settings,
                                            const std::filesystem::path& source,
                                            const std::filesystem::path& tokenizer_dir,
                                            std::int64_t vocab_size) {
  if (samples.empty()) {
    if (!settings) return invalid_argument(who + ": the recipe needs calibration settings");
    QB_ASSIGN_OR_RETURN_CTX(auto tokenizer, tok::Tokenizer::load(tokenizer_dir), who);
    QB_ASSIGN_OR_RETURN_CTX(samples, load_calibration(*settings, source, tokenizer), who);
  }
  for (const auto& s : samples)
    for (auto id : s)
      if (id < 0 || id >= vocab_size)
        return invalid_argument(who + ": calibration token id " + std::to_string(id) +
                                " is outside the vocabulary (" + std::to_string(vocab_size) + ")");
  if (samples.empty()) return invalid_argument(who + ": no calibration samples");
  // The order llm-compressor's oneshot feeds them in (length_aware_order).
  std::vector<std::int64_t> lengths;
  for (const auto& s : samples) lengths.push_back(static_cast<std::int64_t>(s.size()));
  std::vector<Sample> ordered;
  ordered.reserve(samples.size());
  for (const auto i : length_aware_order(lengths)) ordered.push_back(std::move(samples[static_cast<std::size_t>(i)]));
  return ordered;
}

std::vector<at::Tensor> batch_samples(const std::vector<Sample>& samples, std::int64_t batch_size) {
  std::vector<at::Tensor> ids;
  for (std::size_t i = 0; i < samples.size();) {
    std::size_t j = i + 1;
    while (j < samples.size() && j - i < static_cast<std::size_t>(batch_size) && samples[j].size() == samples[i].size())
      ++j;
    auto t = at::empty({static_cast<std::int64_t>(j - i), static_cast<std::int64_t>(samples[i].size())}, at::kLong);
    auto* p = t.data_ptr<std::int64_t>();
    for (std::size_t k = i; k < j; ++k)
      for (std::size_t c = 0; c < samples[k].size(); ++c) *p++ = samples[k][c];
    ids.push_back(t);
    i = j;
  }
  return ids;
}

}  // namespace qb::quant
