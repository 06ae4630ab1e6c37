// Reading results CSVs by column name (see results_table.h).
#include "report/results_table.h"

#include <cmath>
#include <cstdlib>

#include <fmt/format.h>

#include "steps/eval/csv.h"
#include "util/fs.h"
#include "util/strings.h"

namespace qb::report {

namespace {

// Speed columns (runner/build.cc appends them after the provenance columns).
constexpr std::string_view kNumericColumns[] = {"recovery_mean", "prefill_tokens_per_s", "decode_tokens_per_s",
                                                "peak_gpu_gib", "peak_rss_gib"};
constexpr std::string_view kNumericSuffixes[] = {"_acc", "_stderr", "_n", "_recovery"};

// strtod's reading of a whole cell; "null" (a NaN that went through JSON) reads as NaN.
std::optional<double> parse_number(const std::string& s) {
  if (s == "null") return std::nan("");
  if (s.empty() || std::isspace(static_cast<unsigned char>(s.front()))) return std::nullopt;
  char* end = nullptr;
  double v = std::strtod(s.c_str(), &end);
  if (end != s.c_str() + s.size()) return std::nullopt;
  return v;
}

}  // namespace

const std::string& ResultsRow::text(const std::string& column) const {
  static const std::string kEmpty;
  auto it = cells.find(column);
  return it == cells.end() ? kEmpty : it->second;
}

bool Number::finite() const { return present && std::isfinite(value); }

bool is_numeric_column(std::string_view column) {
  if (starts_with(column, "fidelity_")) return true;
  for (auto c : kNumericColumns)
    if (column == c) return true;
  for (auto s : kNumericSuffixes)
    if (ends_with(column, s) && column.size() > s.size()) return true;
  return false;
}

Number cell(const ResultsRow& row, const std::string& column) {
  const std::string& s = row.text(column);
  if (s.empty()) return {};
  auto v = parse_number(s);
  return v ? Number{true, *v} : Number{};
}

Result<ResultsTable> ResultsTable::load(const std::filesystem::path& path, const std::string& name) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec))
    return not_found(name + " does not exist: build it first (`qbuild " + name + "`)");
  QB_ASSIGN_OR_RETURN_CTX(std::string text, fs::read_file(path), name);
  return parse(text, name);
}

Result<ResultsTable> ResultsTable::parse(std::string_view text, const std::string& name) {
  QB_ASSIGN_OR_RETURN(auto records, eval::parse_csv(text, name));
  if (records.empty()) return corrupt(name + ": the file is empty (no header): rebuild it with `qbuild " + name + "`");
  ResultsTable t;
  t.name_ = name;
  t.columns_ = records[0].fields;
  for (std::size_t i = 0; i < t.columns_.size(); ++i) {
    if (t.columns_[i].empty()) return corrupt(fmt::format("{}:1: column {} has no name", name, i + 1));
    for (std::size_t j = 0; j < i; ++j)
      if (t.columns_[j] == t.columns_[i]) return corrupt(fmt::format("{}:1: column '{}' appears twice", name, t.columns_[i]));
  }
  for (const char* required : {"variant", "status"})
    if (!t.has(required))
      return corrupt(fmt::format("{}:1: no '{}' column: this is not a qbuild results file (rebuild it with `qbuild {}`)",
                                 name, required, name));
  for (std::size_t r = 1; r < records.size(); ++r) {
    const auto& rec = records[r];
    if (rec.fields.size() != t.columns_.size())
      return corrupt(fmt::format("{}:{}: {} field(s), but the header has {} column(s)", name, rec.line, rec.fields.size(),
                                 t.columns_.size()));
    ResultsRow row;
    row.line = rec.line;
    for (std::size_t i = 0; i < rec.fields.size(); ++i) {
      const auto& col = t.columns_[i];
      const auto& v = rec.fields[i];
      if (is_numeric_column(col) && !v.empty() && !parse_number(v))
        return corrupt(fmt::format("{}:{}: column '{}': '{}' is not a number", name, rec.line, col, v));
      row.cells[col] = v;
    }
    if (row.text("variant").empty()) return corrupt(fmt::format("{}:{}: the row has no variant name", name, rec.line));
    for (const auto& other : t.rows_)
      if (other.text("variant") == row.text("variant"))
        return corrupt(fmt::format("{}:{}: variant '{}' appears twice (also on line {})", name, rec.line,
                                   row.text("variant"), other.line));
    t.rows_.push_back(std::move(row));
  }
  return t;
}

bool ResultsTable::has(const std::string& column) const {
  for (const auto& c : columns_)
    if (c == column) return true;
  return false;
}

const ResultsRow* ResultsTable::base() const {
  for (const auto& r : rows_)
    if (r.is_base()) return &r;
  return nullptr;
}

const ResultsRow* ResultsTable::row(const std::string& variant) const {
  for (const auto& r : rows_)
    if (r.text("variant") == variant) return &r;
  return nullptr;
}

std::vector<std::string> ResultsTable::benchmarks() const {
  std::vector<std::string> out;
  bool overall = false;
  for (const auto& c : columns_) {
    if (!ends_with(c, "_acc") || c.size() <= 4) continue;
    std::string b = c.substr(0, c.size() - 4);
    if (b == "overall") overall = true;
    else out.push_back(b);
  }
  if (overall) out.push_back("overall");
  return out;
}

std::optional<double> recovery(const ResultsTable& t, const ResultsRow& row, const std::string& benchmark,
                               bool* from_column) {
  const std::string col = benchmark + "_recovery";
  if (from_column) *from_column = t.has(col);
  if (t.has(col)) {
    Number r = cell(row, col);
    if (r.finite()) return r.value;
    if (!r.present && row.is_base()) return 1.0;
    return std::nullopt;
  }
  const ResultsRow* base = t.base();
  if (!base) return std::nullopt;
  Number a = cell(row, benchmark + "_acc"), b = cell(*base, benchmark + "_acc");
  if (!a.finite() || !b.finite() || b.value <= 0) return std::nullopt;
  return a.value / b.value;
}

}  // namespace qb::report
