// Encoding and decoding with a loaded tokenizer; loading lives in tokenizer_load.cc.
#include "steps/tokenizer/tokenizer.h"

#include <deque>

#include "steps/tokenizer/tokenizer_impl.h"
#include "steps/tokenizer/utf8.h"

namespace qb::tok {

std::vector<std::int32_t> Tokenizer::encode(std::string_view text, bool allow_special) const {
  const Impl& m = *impl_;
  std::vector<std::int32_t> ids;
  if (text.empty()) return ids;
  std::string repaired;
  if (find_invalid_utf8(text)) {
    repaired = to_valid_utf8(text);
    text = repaired;
  }
  ids.reserve(text.size() / 3 + 4);

  // Scratch kept per thread (encode is called once per prompt or document).
  thread_local std::vector<Segment> raw, norm;
  thread_local std::vector<std::string_view> pieces;
  thread_local std::deque<std::string> arena;
  thread_local std::string normalized_storage;
  raw.clear();
  const auto encode_plain = [&](std::string_view plain) {
    pieces.clear();
    arena.clear();
    m.pre_tokenizer.split(plain, pieces, arena);
    for (std::string_view piece : pieces) m.bpe.encode_word(piece, ids);
  };

  m.raw_matcher.split(text, allow_special, raw);
  for (const Segment& seg : raw) {
    if (seg.id >= 0) {
      ids.push_back(seg.id);
      continue;
    }
    const std::string_view normalized =
        normalize(m.normalizer, text.substr(seg.begin, seg.end - seg.begin), normalized_storage);
    if (m.normalized_matcher.empty()) {
      encode_plain(normalized);
      continue;
    }
    norm.clear();
    m.normalized_matcher.split(normalized, allow_special, norm);
    for (const Segment& sub : norm) {
      if (sub.id >= 0) {
        ids.push_back(sub.id);
      } else {
        encode_plain(normalized.substr(sub.begin, sub.end - sub.begin));
      }
    }
  }
  // Keep the scratch small after an unusually long text (a whole file).
  constexpr std::size_t kKeep = 1 << 16;
  if (pieces.capacity() > kKeep) std::vector<std::string_view>().swap(pieces);
  if (raw.capacity() > kKeep) std::vector<Segment>().swap(raw);
  if (norm.capacity() > kKeep) std::vector<Segment>().swap(norm);
  if (normalized_storage.capacity() > 16 * kKeep) std::string().swap(normalized_storage);
  return ids;
}

std::string Tokenizer::decode(std::span<const std::int32_t> ids, bool skip_special) const {
  const Impl& m = *impl_;
  std::string out;
  for (std::int32_t id : ids) {
    if (id < 0 || id >= vocab_size()) continue;
    if (skip_special && m.kinds[id] == IdKind::kSpecial) continue;
    out += m.token_bytes[id];
  }
  return out;
}

const std::string& Tokenizer::token_bytes(std::int32_t id) const {
  static const std::string kEmpty;
  if (id < 0 || id >= vocab_size()) return kEmpty;
  return impl_->token_bytes[id];
}

Status Tokenizer::check_ids(std::span<const std::int32_t> ids) const {
  for (std::size_t i = 0; i < ids.size(); ++i) {
    const std::int32_t id = ids[i];
    if (id < 0 || id >= vocab_size() || impl_->kinds[id] == IdKind::kNone) {
      return invalid_argument("id " + std::to_string(id) + " at position " + std::to_string(i) +
                              " is not in the vocabulary of '" + impl_->origin + "' (ids 0.." +
                              std::to_string(vocab_size() - 1) + ")");
    }
  }
  return Status::ok();
}

std::optional<std::int32_t> Tokenizer::token_to_id(std::string_view token) const {
  if (auto it = impl_->added_by_content.find(token); it != impl_->added_by_content.end())
    return it->second;
  if (auto it = impl_->bpe.vocab().find(token); it != impl_->bpe.vocab().end()) return it->second;
  return std::nullopt;
}

std::string Tokenizer::id_to_token(std::int32_t id) const {
  if (id < 0 || id >= vocab_size()) return {};
  return impl_->id_to_token[id];
}

std::int32_t Tokenizer::vocab_size() const {
  return static_cast<std::int32_t>(impl_->id_to_token.size());
}

const std::vector<AddedToken>& Tokenizer::added_tokens() const { return impl_->added; }

std::vector<AddedToken> Tokenizer::special_tokens() const {
  std::vector<AddedToken> out;
  for (const AddedToken& t : impl_->added)
    if (t.special) out.push_back(t);
  return out;
}

bool Tokenizer::is_special(std::int32_t id) const {
  return id >= 0 && id < vocab_size() && impl_->kinds[id] == IdKind::kSpecial;
}

std::optional<std::int32_t> Tokenizer::eos_id() const { return impl_->eos; }
std::optional<std::int32_t> Tokenizer::pad_id() const { return impl_->pad; }
std::optional<std::int32_t> Tokenizer::bos_id() const { return impl_->bos; }
const std::string& Tokenizer::origin() const { return impl_->origin; }

}  // namespace qb::tok
