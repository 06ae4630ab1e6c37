// NFC through utf8proc, with an ASCII fast path (ASCII text is always in NFC).
#include "steps/tokenizer/normalizer.h"

#include <utf8proc.h>

#include <cstdlib>

namespace qb::tok {

namespace {

bool is_ascii(std::string_view s) {
  for (unsigned char c : s)
    if (c >= 0x80) return false;
  return true;
}

// Every code point below U+0300 (ASCII, Latin-1, Latin Extended-A/B, IPA) is NFC_QC=Yes and is
// never the second member of a canonical composition, so such text is already in NFC. In UTF-8
// these are the bytes < 0x80 and two-byte sequences with lead byte C2..CB.
bool below_u0300(std::string_view s) {
  for (unsigned char c : s)
    if (c >= 0xCC) return false;  // a lead byte of U+0300 or above
  return true;
}

}  // namespace

std::string normalize(NormalizerKind kind, std::string_view text) {
  if (kind == NormalizerKind::kNone || is_ascii(text)) return std::string(text);
  utf8proc_uint8_t* out = nullptr;
  const utf8proc_ssize_t n =
      utf8proc_map(reinterpret_cast<const utf8proc_uint8_t*>(text.data()),
                   static_cast<utf8proc_ssize_t>(text.size()), &out,
                   static_cast<utf8proc_option_t>(UTF8PROC_STABLE | UTF8PROC_COMPOSE));
  // utf8proc fails only on invalid UTF-8 or out of memory; callers pass valid UTF-8, so keep the
  // text as it is rather than lose it.
  if (n < 0) return std::string(text);
  std::string result(reinterpret_cast<const char*>(out), static_cast<std::size_t>(n));
  std::free(out);
  return result;
}

std::string_view normalize(NormalizerKind kind, std::string_view text, std::string& storage) {
  if (kind == NormalizerKind::kNone || below_u0300(text)) return text;
  storage = normalize(kind, text);
  return storage;
}

}  // namespace qb::tok
