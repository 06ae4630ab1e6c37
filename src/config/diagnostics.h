// Compiler-style diagnostics for config files: every problem is collected (never thrown), then
// rendered together, sorted by file and line, each with its source line and a caret:
//
//   pipline/2-quant/rtn.yaml:7:7: error: unknown key 'stratgy' in 'weights'; did you mean 'strategy'?
//       7 |       stratgy: channel
//         |       ^~~~~~~
//
// A diagnostic may carry notes (e.g. "first defined here", possibly in another file); they are
// rendered right after it. Source lines come from the texts registered with add_source().
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace qb::config {

// A place in a config file. 1-based line and column (the column counts bytes; the caret is
// placed by display width); `length` is the span in bytes the caret underlines. line == 0 means
// the file as a whole (no snippet).
struct SourceLoc {
  std::string file;  // as displayed: relative to the project root, e.g. "pipline/2-quant/rtn.yaml"
  int line = 0;
  int col = 0;
  int length = 0;
};

enum class Severity { kError, kWarning, kNote };

struct Diagnostic {
  Severity severity = Severity::kError;
  SourceLoc loc;
  std::string message;
  std::vector<Diagnostic> notes;  // rendered after this one, in order
};

class Diagnostics {
 public:
  // Registers the text of `file` so render() can quote its lines.
  void add_source(const std::string& file, std::string text);

  // Adds a diagnostic and returns it (to attach notes: `d.notes.push_back(...)`).
  Diagnostic& error(const SourceLoc& loc, std::string message);
  Diagnostic& warning(const SourceLoc& loc, std::string message);
  static Diagnostic note(const SourceLoc& loc, std::string message);

  int error_count() const { return errors_; }
  int warning_count() const { return warnings_; }
  bool has_errors() const { return errors_ > 0; }
  const std::vector<Diagnostic>& all() const { return diags_; }  // in the order they were added

  // Every diagnostic, sorted by (file, line, column) — stable, so equal places keep their order.
  std::string render() const;
  // One diagnostic with its notes, in the format shown above.
  std::string render_one(const Diagnostic& d) const;

 private:
  Diagnostic& add(Severity severity, const SourceLoc& loc, std::string message);
  std::string_view source_line(const std::string& file, int line) const;

  std::vector<Diagnostic> diags_;
  std::map<std::string, std::vector<std::string>> sources_;  // file -> lines (no newlines)
  int errors_ = 0;
  int warnings_ = 0;
};

}  // namespace qb::config
