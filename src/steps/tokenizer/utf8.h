// UTF-8 helpers for the tokenizer: validation, lossy repair and the few Unicode character
// classes the tokenizer needs outside the regex engine.
//
// Invalid input is repaired the way Python's `bytes.decode("utf-8", errors="replace")` and Rust's
// `String::from_utf8_lossy` do it: each maximal subpart of an ill-formed sequence (Unicode 15,
// section 3.9, "U+FFFD Substitution of Maximal Subparts") becomes one U+FFFD.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace qb::tok {

inline constexpr char32_t kReplacementChar = 0xFFFD;

// Length (1..4) of the well-formed sequence starting at s[i], or 0 when s[i] starts none; then
// *bad_len (if given) is the length of the maximal subpart to replace (>= 1).
std::size_t utf8_sequence_length(std::string_view s, std::size_t i, std::size_t* bad_len = nullptr);

// Byte offset of the first ill-formed sequence, or nullopt when `s` is valid UTF-8.
std::optional<std::size_t> find_invalid_utf8(std::string_view s);

// `s` with every maximal subpart of an ill-formed sequence replaced by U+FFFD.
std::string to_valid_utf8(std::string_view s);

// Decodes the code point at s[i] of VALID UTF-8; *len receives its byte length.
char32_t decode_utf8(std::string_view s, std::size_t i, std::size_t* len);

// The code point ending just before byte `end` of VALID UTF-8 (end > 0); *len its length.
char32_t decode_utf8_before(std::string_view s, std::size_t end, std::size_t* len);

void append_utf8(std::string& out, char32_t cp);

// The Unicode White_Space property (25 code points; U+180E is not one since Unicode 6.3).
bool is_white_space(char32_t cp);

// A "word" character as Rust's regex `\w` defines it (Alphabetic, marks, decimal digits,
// connector punctuation, joiners), approximated by general categories L*, M*, Nd, Nl, Pc plus
// U+200C/U+200D. Used only for added tokens with `single_word`.
bool is_word_char(char32_t cp);

}  // namespace qb::tok
