// A results CSV (results/<dataset_name>.csv, written by runner/build.cc) read back for the report
// and the model cards. Columns are read by name, never by position, so that columns other
// writers add later (recovery, perplexity, speed) flow through: the report interprets the ones it
// knows and shows the rest as they are.
//
// What the file must be: RFC 4180 CSV (steps/eval/csv.h) whose header has `variant` and
// `status`, every record with the header's number of fields, and a number (or nothing) in every
// numeric column — `<x>_acc`, `<x>_stderr`, `<x>_n`, `<x>_recovery`, `fidelity_*`,
// `recovery_mean` and the speed columns. Anything else is Code::kCorrupt naming
// "<file>:<line>" and the column. NaN (written "nan", or "null" after a JSON round trip) and
// infinities are values, not corruption: cell() reports them as not finite, and the report marks
// them as gaps.
#pragma once

#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "util/status.h"

namespace qb::report {

struct ResultsRow {
  int line = 0;  // the record's line in the file (1 = the header)
  std::map<std::string, std::string> cells;
  // The cell of `column`, "" when the column or the value is absent.
  const std::string& text(const std::string& column) const;
  bool is_base() const { return text("status") == "base model"; }
};

// A numeric cell: absent (empty) or a value, which may be NaN or infinite.
struct Number {
  bool present = false;
  double value = 0;
  bool finite() const;
};

class ResultsTable {
 public:
  // `name` is the file as messages show it (e.g. "results/demo.csv").
  static Result<ResultsTable> load(const std::filesystem::path& path, const std::string& name);
  static Result<ResultsTable> parse(std::string_view text, const std::string& name);

  const std::string& name() const { return name_; }
  const std::vector<std::string>& columns() const { return columns_; }
  const std::vector<ResultsRow>& rows() const { return rows_; }
  bool has(const std::string& column) const;
  // The base model's row (status "base model"), if the file has one.
  const ResultsRow* base() const;
  const ResultsRow* row(const std::string& variant) const;
  // Benchmarks in column order: every <x> with an <x>_acc column, "overall" last.
  std::vector<std::string> benchmarks() const;

 private:
  std::string name_;
  std::vector<std::string> columns_;
  std::vector<ResultsRow> rows_;
};

// A variant's score relative to the base model's on `benchmark`: the file's <benchmark>_recovery
// column when it has one (written by the score step), else <benchmark>_acc over the base row's
// (nullopt without a base row, a finite value on both sides, or a base accuracy above 0).
// `from_column` says which.
std::optional<double> recovery(const ResultsTable& t, const ResultsRow& row, const std::string& benchmark,
                               bool* from_column = nullptr);

// Whether a column holds numbers (see the file comment).
bool is_numeric_column(std::string_view column);
// A numeric cell; the table checked at load that it parses.
Number cell(const ResultsRow& row, const std::string& column);

}  // namespace qb::report
