// JSONL and header-CSV readers (the Parquet reader is in parquet_rows.cc).
#include "steps/eval/rows.h"

#include <fmt/format.h>

#include "steps/eval/csv.h"
#include "util/fs.h"
#include "util/json_parse.h"

namespace qb::eval {

Status for_each_line(std::string_view text, const std::function<Status(int, std::string_view)>& fn) {
  size_t pos = 0;
  int line = 0;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    std::string_view s = text.substr(pos, end - pos);
    pos = end + 1;
    if (!s.empty() && s.back() == '\r') s.remove_suffix(1);
    QB_TRY(fn(++line, s));
  }
  return Status::ok();
}

Result<std::vector<Row>> read_jsonl_rows(const std::filesystem::path& file, const std::string& display) {
  QB_ASSIGN_OR_RETURN(std::string text, fs::read_file(file));
  std::vector<Row> rows;
  QB_TRY(for_each_line(text, [&](int line, std::string_view s) -> Status {
    if (line == 1 && s.substr(0, 3) == "\xEF\xBB\xBF") s.remove_prefix(3);
    if (s.find_first_not_of(" \t") == std::string_view::npos) return Status::ok();  // blank line
    std::string where = fmt::format("{}:{}", display, line);
    QB_ASSIGN_OR_RETURN(nlohmann::json j, parse_json_bounded(s, where));
    if (!j.is_object()) return invalid_argument(where + ": expected a JSON object, got " + std::string(j.type_name()));
    rows.push_back(Row{std::move(where), std::move(j)});
    return Status::ok();
  }));
  return rows;
}

Result<std::vector<Row>> read_csv_rows(const std::filesystem::path& file, const std::string& display) {
  QB_ASSIGN_OR_RETURN(std::string text, fs::read_file(file));
  QB_ASSIGN_OR_RETURN(std::vector<CsvRecord> recs, parse_csv(text, display));
  if (recs.empty()) return invalid_argument(display + ": empty CSV (expected a header row)");
  const std::vector<std::string>& header = recs[0].fields;
  std::vector<Row> rows;
  for (size_t r = 1; r < recs.size(); ++r) {
    std::string where = fmt::format("{}:{}", display, recs[r].line);
    if (recs[r].fields.size() != header.size()) {
      return invalid_argument(fmt::format("{}: expected {} fields (as the header), got {}", where, header.size(),
                                          recs[r].fields.size()));
    }
    nlohmann::json obj = nlohmann::json::object();
    for (size_t c = 0; c < header.size(); ++c) obj[header[c]] = recs[r].fields[c];
    rows.push_back(Row{std::move(where), std::move(obj)});
  }
  return rows;
}

}  // namespace qb::eval
