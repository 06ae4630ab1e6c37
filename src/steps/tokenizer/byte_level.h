// GPT-2's byte-level alphabet: a bijection between the 256 byte values and 256 printable code
// points, so that any byte string can be written as a string of vocabulary symbols. Bytes that
// are printable Latin-1 (33..126, 161..172, 174..255) map to themselves; the other 68 map to
// U+0100 + k in increasing byte order (so ' ' -> U+0120 'Ġ', '\n' -> U+010A 'Ċ').
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace qb::tok {

// The code point that stands for byte `b`.
char32_t byte_to_unicode(std::uint8_t b);

// The byte a code point stands for, or nullopt when it is not in the alphabet.
std::optional<std::uint8_t> unicode_to_byte(char32_t cp);

// UTF-8 of the symbol string for raw bytes (each byte becomes one code point).
std::string bytes_to_symbols(std::string_view bytes);

// The raw bytes a symbol string stands for, or nullopt when some code point is not in the
// alphabet (or `symbols` is not valid UTF-8).
std::optional<std::string> symbols_to_bytes(std::string_view symbols);

}  // namespace qb::tok
