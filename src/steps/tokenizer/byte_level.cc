// GPT-2's bytes_to_unicode() table and its inverse; see byte_level.h.
#include "steps/tokenizer/byte_level.h"

#include "steps/tokenizer/utf8.h"

namespace qb::tok {

namespace {

bool maps_to_itself(int b) { return (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || b >= 174; }

struct Tables {
  std::array<char32_t, 256> to_cp{};
  std::array<std::int16_t, 324> to_byte{};  // code points 0..323 cover the whole alphabet
  Tables() {
    to_byte.fill(-1);
    int next = 0;
    for (int b = 0; b < 256; ++b) {
      to_cp[b] = maps_to_itself(b) ? static_cast<char32_t>(b) : static_cast<char32_t>(256 + next++);
      to_byte[to_cp[b]] = static_cast<std::int16_t>(b);
    }
  }
};

const Tables& tables() {
  static const Tables t;
  return t;
}

}  // namespace

char32_t byte_to_unicode(std::uint8_t b) { return tables().to_cp[b]; }

std::optional<std::uint8_t> unicode_to_byte(char32_t cp) {
  if (cp >= tables().to_byte.size() || tables().to_byte[cp] < 0) return std::nullopt;
  return static_cast<std::uint8_t>(tables().to_byte[cp]);
}

std::string bytes_to_symbols(std::string_view bytes) {
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char b : bytes) append_utf8(out, byte_to_unicode(b));
  return out;
}

std::optional<std::string> symbols_to_bytes(std::string_view symbols) {
  if (find_invalid_utf8(symbols)) return std::nullopt;
  std::string out;
  out.reserve(symbols.size());
  std::size_t i = 0;
  while (i < symbols.size()) {
    std::size_t len = 0;
    const auto b = unicode_to_byte(decode_utf8(symbols, i, &len));
    if (!b) return std::nullopt;
    out.push_back(static_cast<char>(*b));
    i += len;
  }
  return out;
}

}  // namespace qb::tok
