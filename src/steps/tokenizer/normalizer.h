// The normalizer step of tokenizer.json: none, or Unicode NFC (utf8proc). A "Sequence" whose
// members are all NFC is the same as NFC.
//
// Unicode versions differ: utf8proc's tables follow its own release (15.0 for 2.8), while the
// `tokenizers` package composes with older tables, so combining marks added in Unicode 11 and
// later (e.g. U+07FD, U+0898) are reordered/composed here but not there. Text without such marks
// normalizes identically.
#pragma once

#include <string>
#include <string_view>

namespace qb::tok {

enum class NormalizerKind { kNone, kNfc };

// Returns `text` normalized; `text` must be valid UTF-8.
std::string normalize(NormalizerKind kind, std::string_view text);

// The same without a copy when `text` is already normalized by a quick check (no normalizer,
// or only code points below U+0300, which neither decompose nor combine): then the result views
// `text`; else it views `storage`, which receives the normalized text.
std::string_view normalize(NormalizerKind kind, std::string_view text, std::string& storage);

}  // namespace qb::tok
