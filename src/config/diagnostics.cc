// Collecting and rendering config diagnostics (see diagnostics.h for the format).
#include "config/diagnostics.h"

#include <algorithm>
#include <tuple>
#include <utility>

#include <fmt/format.h>

namespace qb::config {
namespace {

const char* severity_name(Severity s) {
  switch (s) {
    case Severity::kError: return "error";
    case Severity::kWarning: return "warning";
    case Severity::kNote: return "note";
  }
  return "error";
}

// The code point starting at text[i] and its length in bytes (invalid UTF-8 reads as one byte).
std::pair<char32_t, std::size_t> decode_utf8(std::string_view text, std::size_t i) {
  auto b = static_cast<unsigned char>(text[i]);
  std::size_t len = b < 0x80 ? 1 : (b >> 5) == 0x6 ? 2 : (b >> 4) == 0xE ? 3 : (b >> 3) == 0x1E ? 4 : 1;
  if (len == 1 || i + len > text.size()) return {b, 1};
  char32_t cp = b & (0x7F >> len);
  for (std::size_t k = 1; k < len; ++k) {
    auto c = static_cast<unsigned char>(text[i + k]);
    if ((c & 0xC0) != 0x80) return {b, 1};
    cp = (cp << 6) | (c & 0x3F);
  }
  return {cp, len};
}

// Terminal columns of a code point: 2 for East Asian wide/fullwidth ranges (CJK, Hangul,
// fullwidth forms), 1 otherwise — enough to keep carets aligned under CJK prompts.
int display_width(char32_t cp) {
  bool wide = (cp >= 0x1100 && cp <= 0x115F) || (cp >= 0x2E80 && cp <= 0xA4CF) ||
              (cp >= 0xAC00 && cp <= 0xD7A3) || (cp >= 0xF900 && cp <= 0xFAFF) ||
              (cp >= 0xFE30 && cp <= 0xFE4F) || (cp >= 0xFF00 && cp <= 0xFF60) ||
              (cp >= 0xFFE0 && cp <= 0xFFE6) || (cp >= 0x1F300 && cp <= 0x1F64F) ||
              (cp >= 0x20000 && cp <= 0x3FFFD);
  return wide ? 2 : 1;
}

// The caret line under `text`: the padding copies tabs and counts display columns (so the caret
// lines up in a terminal whatever the UTF-8 before it); `~` continues over the rest of the span.
std::string caret_line(std::string_view text, int col, int length) {
  std::size_t start = std::min<std::size_t>(col > 0 ? col - 1 : 0, text.size());
  std::size_t end = std::min<std::size_t>(start + std::max(length, 1), text.size());
  std::string out;
  for (std::size_t i = 0; i < start;) {
    auto [cp, len] = decode_utf8(text, i);
    if (cp == U'\t') out += '\t';
    else out.append(display_width(cp), ' ');
    i += len;
  }
  int span = 0;
  for (std::size_t i = start; i < end;) {
    auto [cp, len] = decode_utf8(text, i);
    span += display_width(cp);
    i += len;
  }
  out += '^';
  out.append(std::max(span, 1) - 1, '~');
  return out;
}

}  // namespace

void Diagnostics::add_source(const std::string& file, std::string text) {
  std::vector<std::string> lines;
  std::size_t start = 0;
  while (start <= text.size()) {
    std::size_t nl = text.find('\n', start);
    std::size_t end = nl == std::string::npos ? text.size() : nl;
    std::string line = text.substr(start, end - start);
    if (!line.empty() && line.back() == '\r') line.pop_back();
    lines.push_back(std::move(line));
    if (nl == std::string::npos) break;
    start = nl + 1;
  }
  sources_[file] = std::move(lines);
}

Diagnostic& Diagnostics::add(Severity severity, const SourceLoc& loc, std::string message) {
  if (severity == Severity::kError) ++errors_;
  if (severity == Severity::kWarning) ++warnings_;
  diags_.push_back(Diagnostic{severity, loc, std::move(message), {}});
  return diags_.back();
}

Diagnostic& Diagnostics::error(const SourceLoc& loc, std::string message) {
  return add(Severity::kError, loc, std::move(message));
}

Diagnostic& Diagnostics::warning(const SourceLoc& loc, std::string message) {
  return add(Severity::kWarning, loc, std::move(message));
}

Diagnostic Diagnostics::note(const SourceLoc& loc, std::string message) {
  return Diagnostic{Severity::kNote, loc, std::move(message), {}};
}

std::string_view Diagnostics::source_line(const std::string& file, int line) const {
  auto it = sources_.find(file);
  if (it == sources_.end() || line < 1 || line > static_cast<int>(it->second.size())) return {};
  return it->second[line - 1];
}

std::string Diagnostics::render_one(const Diagnostic& d) const {
  std::string out;
  const SourceLoc& loc = d.loc;
  if (loc.line > 0) {
    out += fmt::format("{}:{}:{}: {}: {}\n", loc.file, loc.line, loc.col, severity_name(d.severity),
                       d.message);
    auto it = sources_.find(loc.file);
    if (it != sources_.end() && loc.line <= static_cast<int>(it->second.size())) {
      std::string_view text = source_line(loc.file, loc.line);
      out += fmt::format("{:>5} | {}\n", loc.line, text);
      out += fmt::format("{:>5} | {}\n", "", caret_line(text, loc.col, loc.length));
    }
  } else {
    out += fmt::format("{}: {}: {}\n", loc.file, severity_name(d.severity), d.message);
  }
  for (const Diagnostic& n : d.notes) out += render_one(n);
  return out;
}

std::string Diagnostics::render() const {
  std::vector<const Diagnostic*> order;
  order.reserve(diags_.size());
  for (const Diagnostic& d : diags_) order.push_back(&d);
  std::stable_sort(order.begin(), order.end(), [](const Diagnostic* a, const Diagnostic* b) {
    return std::tie(a->loc.file, a->loc.line, a->loc.col) <
           std::tie(b->loc.file, b->loc.line, b->loc.col);
  });
  std::string out;
  for (const Diagnostic* d : order) out += render_one(*d);
  return out;
}

}  // namespace qb::config
