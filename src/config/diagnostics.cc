// Collecting and rendering config diagnostics (see diagnostics.h for the format).
#include "config/diagnostics.h"

#include <algorithm>
#include <tuple>

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

bool is_utf8_continuation(char c) { return (static_cast<unsigned char>(c) & 0xC0) == 0x80; }

// The caret line under `text`: the padding copies tabs so the caret lines up in a terminal, and
// counts UTF-8 code points rather than bytes; `~` continues the caret over the rest of the span.
std::string caret_line(std::string_view text, int col, int length) {
  std::size_t start = std::min<std::size_t>(col > 0 ? col - 1 : 0, text.size());
  std::string out;
  for (std::size_t i = 0; i < start; ++i) {
    if (text[i] == '\t') out += '\t';
    else if (!is_utf8_continuation(text[i])) out += ' ';
  }
  out += '^';
  std::size_t end = std::min<std::size_t>(start + std::max(length, 1), text.size());
  bool first = true;
  for (std::size_t i = start; i < end; ++i) {
    if (is_utf8_continuation(text[i])) continue;
    if (first) { first = false; continue; }  // the caret itself
    out += '~';
  }
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
