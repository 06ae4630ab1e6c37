// PCRE2 wrapper for split patterns; see regex.h.
#include "steps/tokenizer/regex.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <spdlog/spdlog.h>


#include "steps/tokenizer/utf8.h"

namespace qb::tok {

namespace {

// Unicode White_Space as PCRE2 class items (what Oniguruma's \s matches in UTF-8 mode).
constexpr char kWhiteSpaceItems[] =
    "\\x{9}-\\x{d}\\x{20}\\x{85}\\x{a0}\\x{1680}\\x{2000}-\\x{200a}\\x{2028}\\x{2029}\\x{202f}"
    "\\x{205f}\\x{3000}";
// Its complement over all code points (surrogates included; they never occur in UTF-8 input).
constexpr char kNotWhiteSpaceItems[] =
    "\\x{0}-\\x{8}\\x{e}-\\x{1f}\\x{21}-\\x{84}\\x{86}-\\x{9f}\\x{a1}-\\x{167f}\\x{1681}-\\x{1fff}"
    "\\x{200b}-\\x{2027}\\x{202a}-\\x{202e}\\x{2030}-\\x{205e}\\x{2060}-\\x{2fff}"
    "\\x{3001}-\\x{10ffff}";

struct MatchState {
  pcre2_match_data* data = nullptr;
  pcre2_match_context* context = nullptr;
  pcre2_jit_stack* jit_stack = nullptr;
  MatchState() {
    data = pcre2_match_data_create(1, nullptr);  // only the whole match is needed
    context = pcre2_match_context_create(nullptr);
    jit_stack = pcre2_jit_stack_create(64 * 1024, 8 * 1024 * 1024, nullptr);
    if (context && jit_stack) pcre2_jit_stack_assign(context, nullptr, jit_stack);
  }
  ~MatchState() {
    pcre2_jit_stack_free(jit_stack);
    pcre2_match_context_free(context);
    pcre2_match_data_free(data);
  }
};

MatchState& match_state() {
  thread_local MatchState state;
  return state;
}

std::string pcre2_message(int code) {
  PCRE2_UCHAR buf[256];
  pcre2_get_error_message(code, buf, sizeof buf);
  return reinterpret_cast<const char*>(buf);
}

}  // namespace

std::string rewrite_white_space_escapes(std::string_view p) {
  std::string out;
  out.reserve(p.size() + 64);
  bool in_class = false;
  std::size_t class_start = 0;  // index in `p` just after '[' or '[^'
  for (std::size_t i = 0; i < p.size(); ++i) {
    const char c = p[i];
    if (c == '\\' && i + 1 < p.size()) {
      const char e = p[i + 1];
      if (e == 's' || e == 'S') {
        const char* items = e == 's' ? kWhiteSpaceItems : kNotWhiteSpaceItems;
        if (in_class) {
          out += items;  // a class of its own cannot nest: inline the ranges
        } else {
          out += e == 's' ? "[" : "[^";
          out += kWhiteSpaceItems;
          out += "]";
        }
        ++i;
        continue;
      }
      if (e == 'Q') {  // \Q...\E quotes everything up to \E
        const std::size_t end = p.find("\\E", i + 2);
        const std::size_t stop = end == std::string_view::npos ? p.size() : end + 2;
        out.append(p.substr(i, stop - i));
        i = stop - 1;
        continue;
      }
      out += c;
      out += e;
      ++i;
      continue;
    }
    if (!in_class && c == '[') {
      in_class = true;
      out += c;
      if (i + 1 < p.size() && p[i + 1] == '^') out += p[++i];
      class_start = i + 1;
      continue;
    }
    if (in_class) {
      if (c == '[' && i + 1 < p.size() && p[i + 1] == ':') {  // POSIX class [:alpha:]
        const std::size_t end = p.find(":]", i + 2);
        if (end != std::string_view::npos) {
          out.append(p.substr(i, end + 2 - i));
          i = end + 1;
          continue;
        }
      }
      if (c == ']' && i != class_start) in_class = false;  // a leading ']' is a literal
    }
    out += c;
  }
  return out;
}

Result<Regex> Regex::compile(std::string_view pattern, bool literal) {
  Regex re;
  re.pattern_ = std::string(pattern);
  const std::string source = literal ? re.pattern_ : rewrite_white_space_escapes(pattern);
  int error = 0;
  PCRE2_SIZE offset = 0;
  // PCRE2_LITERAL admits UTF but not UCP (which only matters for classes anyway).
  const uint32_t options = literal ? PCRE2_UTF | PCRE2_LITERAL : PCRE2_UTF | PCRE2_UCP;
  pcre2_code* code = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(source.data()), source.size(),
                                   options, &error, &offset, nullptr);
  if (!code) {
    // Offsets refer to the rewritten source when \s was expanded; show the original pattern and
    // the error only (the offset is meaningful for the common case of no rewrite).
    std::string where = source == pattern ? " at offset " + std::to_string(offset) : "";
    return invalid_argument("bad regex '" + re.pattern_ + "'" + where + ": " +
                            pcre2_message(error));
  }
  re.code_ = std::shared_ptr<pcre2_code>(code, pcre2_code_free);
  const int jit = pcre2_jit_compile(code, PCRE2_JIT_COMPLETE);
  if (jit != 0) spdlog::debug("tokenizer regex: no JIT ({}), interpreting", pcre2_message(jit));
  return re;
}

void Regex::find_all(std::string_view text, std::vector<Span>& out) const {
  MatchState& st = match_state();
  const auto* subject = reinterpret_cast<PCRE2_SPTR>(text.data());
  std::size_t pos = 0;
  while (pos < text.size()) {
    int rc = pcre2_match(code_.get(), subject, text.size(), pos, PCRE2_NO_UTF_CHECK, st.data,
                         st.context);
    if (rc == PCRE2_ERROR_NOMATCH) return;
    if (rc < 0) {
      // Resource limits (JIT stack, match/heap limits): retry with the interpreter, which keeps
      // its backtracking state on the heap.
      rc = pcre2_match(code_.get(), subject, text.size(), pos, PCRE2_NO_UTF_CHECK | PCRE2_NO_JIT,
                       st.data, nullptr);
      if (rc == PCRE2_ERROR_NOMATCH) return;
      if (rc < 0) {
        spdlog::warn("tokenizer regex '{}': {} at byte {}; the rest of this text ({} bytes) is "
                     "kept as one piece",
                     pattern_, pcre2_message(rc), pos, text.size() - pos);
        out.push_back({pos, text.size()});
        return;
      }
    }
    const PCRE2_SIZE* ov = pcre2_get_ovector_pointer(st.data);
    const std::size_t begin = ov[0], end = ov[1];
    if (end > begin) {
      out.push_back({begin, end});
      pos = end;
    } else {  // empty match: step over one code point
      std::size_t len = 1;
      if (begin < text.size()) decode_utf8(text, begin, &len);
      pos = begin + len;
    }
  }
}

}  // namespace qb::tok
