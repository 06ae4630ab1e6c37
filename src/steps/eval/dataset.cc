// Dataset discovery and the MMLU/GSM8K record checks (see dataset.h for the layouts).
#include "steps/eval/dataset.h"

#include <algorithm>
#include <map>
#include <optional>

#include <regex>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "steps/eval/csv.h"
#include "steps/eval/py_text.h"
#include "steps/eval/rows.h"
#include "util/fs.h"

namespace qb::eval {

namespace stdfs = std::filesystem;

const char* format_name(FileFormat f) {
  switch (f) {
    case FileFormat::kAuto: return "auto";
    case FileFormat::kJsonl: return "jsonl";
    case FileFormat::kCsv: return "csv";
    case FileFormat::kParquet: return "parquet";
  }
  return "?";
}

Result<FileFormat> parse_format(std::string_view name) {
  for (FileFormat f : {FileFormat::kAuto, FileFormat::kJsonl, FileFormat::kCsv, FileFormat::kParquet}) {
    if (name == format_name(f)) return f;
  }
  return invalid_argument(fmt::format("unknown dataset format '{}' (expected auto, jsonl, csv or parquet)", name));
}

Gsm8kAnswer split_gsm8k_answer(std::string_view answer) {
  size_t at = answer.rfind("####");
  if (at == std::string_view::npos) return {"", py::strip(answer)};
  return {py::strip(answer.substr(0, at)), py::strip(answer.substr(at + 4))};
}

namespace {

bool is_dir(const stdfs::path& p) {
  std::error_code ec;
  return stdfs::is_directory(p, ec);
}
bool is_file(const stdfs::path& p) {
  std::error_code ec;
  return stdfs::is_regular_file(p, ec);
}

std::vector<stdfs::path> list_dir(const stdfs::path& dir) {
  std::vector<stdfs::path> out;
  std::error_code ec;
  for (const auto& e : stdfs::directory_iterator(dir, ec)) out.push_back(e.path());
  std::sort(out.begin(), out.end());
  return out;
}

// "<split>-00000-of-00002.parquet" (a Hugging Face shard) for this split?
bool is_shard_of(const std::string& name, std::string_view split) {
  if (name.size() <= split.size() + 1 || name.compare(0, split.size(), split) != 0 || name[split.size()] != '-') {
    return false;
  }
  return name.size() > 8 && name.compare(name.size() - 8, 8, ".parquet") == 0;
}

// Split files of each format in one folder.
std::map<FileFormat, std::vector<stdfs::path>> split_files_in(const stdfs::path& dir, std::string_view split,
                                                             bool allow_csv) {
  std::map<FileFormat, std::vector<stdfs::path>> found;
  if (!is_dir(dir)) return found;
  std::string s(split);
  for (const stdfs::path& p : list_dir(dir)) {
    if (!is_file(p)) continue;
    std::string name = p.filename().string();
    if (name == s + ".jsonl") found[FileFormat::kJsonl].push_back(p);
    if (name == s + ".parquet" || is_shard_of(name, split)) found[FileFormat::kParquet].push_back(p);
    if (allow_csv && name == s + ".csv") found[FileFormat::kCsv].push_back(p);
  }
  return found;
}

// MMLU's original layout: [data/]<split>/<subject>_<split>.csv.
std::vector<stdfs::path> hendrycks_files(const stdfs::path& dir, std::string_view split) {
  std::vector<stdfs::path> out;
  std::string suffix = "_" + std::string(split) + ".csv";
  for (const stdfs::path& base : {dir / "data" / std::string(split), dir / std::string(split)}) {
    if (!is_dir(base)) continue;
    for (const stdfs::path& p : list_dir(base)) {
      std::string name = p.filename().string();
      if (is_file(p) && name.size() > suffix.size() &&
          name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0) {
        out.push_back(p);
      }
    }
    if (!out.empty()) return out;
  }
  return out;
}

Result<SplitFiles> choose(std::map<FileFormat, std::vector<stdfs::path>> found, FileFormat format,
                          SplitFiles::Layout layout, const stdfs::path& dir, std::string_view split) {
  SplitFiles sf;
  sf.layout = layout;
  if (format != FileFormat::kAuto) {
    auto it = found.find(format);
    if (it == found.end()) {
      std::string have;
      for (const auto& [f, files] : found) have += std::string(have.empty() ? "" : ", ") + format_name(f);
      return not_found(fmt::format("{}: no {} file for split '{}' (found: {})", dir.string(), format_name(format),
                                   split, have));
    }
    sf.format = format;
    sf.files = it->second;
    return sf;
  }
  for (FileFormat f : {FileFormat::kParquet, FileFormat::kJsonl, FileFormat::kCsv}) {
    auto it = found.find(f);
    if (it == found.end()) continue;
    if (found.size() > 1) {
      spdlog::info("dataset {}: split '{}' exists in {} formats; reading {} (set format: to choose)", dir.string(),
                   split, found.size(), format_name(f));
    }
    sf.format = f;
    sf.files = it->second;
    return sf;
  }
  return internal_error("choose(): nothing found");
}

std::string display_of(const stdfs::path& file, const stdfs::path& root) {
  stdfs::path base = root.has_filename() ? root.parent_path() : root.parent_path().parent_path();
  stdfs::path rel = file.lexically_relative(base);
  return rel.empty() ? file.string() : rel.generic_string();
}

Result<std::vector<Row>> read_rows(const stdfs::path& file, FileFormat format, const stdfs::path& root) {
  std::string display = display_of(file, root);
  switch (format) {
    case FileFormat::kJsonl: return read_jsonl_rows(file, display);
    case FileFormat::kCsv: return read_csv_rows(file, display);
    case FileFormat::kParquet: return read_parquet_rows(file, display);
    case FileFormat::kAuto: break;
  }
  return internal_error("read_rows: format not resolved");
}

// Field access with messages naming the record and the field.
Result<std::string> get_string(const Row& row, const char* field) {
  auto it = row.fields.find(field);
  if (it == row.fields.end()) return invalid_argument(fmt::format("{}: missing field '{}'", row.where, field));
  if (!it->is_string()) {
    return invalid_argument(fmt::format("{}: field '{}': expected a string, got {}", row.where, field, it->dump()));
  }
  return it->get<std::string>();
}

Result<MmluItem> mmlu_from_row(const Row& row) {
  MmluItem item;
  item.where = row.where;
  QB_ASSIGN_OR_RETURN(item.question, get_string(row, "question"));
  QB_ASSIGN_OR_RETURN(item.subject, get_string(row, "subject"));
  auto ch = row.fields.find("choices");
  if (ch == row.fields.end()) return invalid_argument(fmt::format("{}: missing field 'choices'", row.where));
  if (!ch->is_array() || ch->size() != 4) {
    return invalid_argument(
        fmt::format("{}: field 'choices': expected a list of 4 strings, got {}", row.where, ch->dump()));
  }
  for (size_t k = 0; k < 4; ++k) {
    if (!(*ch)[k].is_string()) {
      return invalid_argument(fmt::format("{}: field 'choices': item {} is not a string: {}", row.where, k,
                                          (*ch)[k].dump()));
    }
    item.choices[k] = (*ch)[k].get<std::string>();
  }
  auto an = row.fields.find("answer");
  if (an == row.fields.end()) return invalid_argument(fmt::format("{}: missing field 'answer'", row.where));
  if (!an->is_number_integer() || an->get<int64_t>() < 0 || an->get<int64_t>() > 3) {
    return invalid_argument(
        fmt::format("{}: field 'answer': expected an integer 0..3 (A..D), got {}", row.where, an->dump()));
  }
  item.answer = an->get<int>();
  return item;
}

Result<std::vector<MmluItem>> mmlu_from_hendrycks(const stdfs::path& file, const stdfs::path& root,
                                                  std::string_view split) {
  std::string display = display_of(file, root);
  std::string name = file.filename().string();
  std::string subject = name.substr(0, name.size() - (split.size() + 5));  // strip "_<split>.csv"
  QB_ASSIGN_OR_RETURN(std::string text, fs::read_file(file));
  QB_ASSIGN_OR_RETURN(std::vector<CsvRecord> recs, parse_csv(text, display));
  std::vector<MmluItem> out;
  for (const CsvRecord& r : recs) {
    std::string where = fmt::format("{}:{}", display, r.line);
    if (r.fields.size() != 6) {
      return invalid_argument(fmt::format("{}: expected 6 fields (question, A, B, C, D, answer), got {}", where,
                                          r.fields.size()));
    }
    const std::string& letter = r.fields[5];
    if (letter.size() != 1 || letter[0] < 'A' || letter[0] > 'D') {
      return invalid_argument(fmt::format("{}: field 6 (answer): expected a letter A..D, got \"{}\"", where, letter));
    }
    MmluItem item;
    item.where = where;
    item.subject = subject;
    item.question = r.fields[0];
    for (size_t k = 0; k < 4; ++k) item.choices[k] = r.fields[1 + k];
    item.answer = letter[0] - 'A';
    out.push_back(std::move(item));
  }
  return out;
}

}  // namespace

Result<SplitFiles> find_split(const stdfs::path& root, std::string_view benchmark, std::string_view split,
                              FileFormat format) {
  const bool mmlu = benchmark == "mmlu";
  if (!mmlu && benchmark != "gsm8k") {
    return invalid_argument(fmt::format("unknown benchmark '{}' (expected mmlu or gsm8k)", benchmark));
  }
  if (!is_dir(root)) return not_found(fmt::format("dataset folder '{}' does not exist (see data/HELP.md)", root.string()));
  const std::string config = mmlu ? "all" : "main";
  std::string seen;  // formats present in folders that lacked the requested one, for the message
  auto take = [&](std::map<FileFormat, std::vector<stdfs::path>> found, SplitFiles::Layout layout,
                  const stdfs::path& dir) -> std::optional<Result<SplitFiles>> {
    if (found.empty()) return std::nullopt;
    if (format != FileFormat::kAuto && !found.count(format)) {
      for (const auto& kv : found) seen += fmt::format("{}{} in {}", seen.empty() ? "" : ", ", format_name(kv.first), dir.string());
      return std::nullopt;
    }
    Result<SplitFiles> sf = choose(std::move(found), format, layout, dir, split);
    if (sf.is_ok() && mmlu && sf->format == FileFormat::kCsv) sf->layout = SplitFiles::Layout::kHendrycksCsv;
    return sf;
  };
  for (const stdfs::path& dir : {root / config, root}) {
    auto found = split_files_in(dir, split, /*allow_csv=*/!mmlu);
    if (mmlu) {
      auto h = hendrycks_files(dir, split);  // MMLU's CSVs are always the original layout
      if (!h.empty()) found[FileFormat::kCsv] = std::move(h);
    }
    if (auto sf = take(std::move(found), SplitFiles::Layout::kSplitFiles, dir)) return std::move(*sf);
  }
  if (mmlu && !is_dir(root / config)) {
    // cais/mmlu per-subject folders: <root>/<subject>/<split>...
    std::map<FileFormat, std::vector<stdfs::path>> found;
    for (const stdfs::path& sub : list_dir(root)) {
      if (!is_dir(sub) || sub.filename() == "data") continue;
      for (auto& [f, files] : split_files_in(sub, split, false)) {
        for (auto& p : files) found[f].push_back(p);
      }
    }
    if (auto sf = take(std::move(found), SplitFiles::Layout::kPerSubject, root)) return std::move(*sf);
  }
  if (!seen.empty()) {
    return not_found(fmt::format("dataset folder '{}': no {} file for split '{}' (found: {})", root.string(),
                                 format_name(format), split, seen));
  }
  return not_found(fmt::format("dataset folder '{}': no file for split '{}' (expected e.g. {}/{}.jsonl or "
                               "{}/{}-00000-of-00001.parquet; see data/HELP.md)",
                               root.string(), split, config, split, config, split));
}

Result<SplitFiles> find_hf_split(const stdfs::path& root, std::string_view config, std::string_view split,
                                 FileFormat format) {
  if (!is_dir(root)) return not_found(fmt::format("dataset folder '{}' does not exist (see data/HELP.md)", root.string()));
  std::string seen;
  const std::string c(config), sp(split);
  for (const stdfs::path& dir : {root / c, root / c / sp, root / "data", root}) {
    auto found = split_files_in(dir, split, /*allow_csv=*/false);
    if (dir == root / c / sp) {  // the Hub's Parquet conversion: <config>/<split>/0000.parquet
      for (const stdfs::path& p : list_dir(dir))
        if (is_file(p) && p.extension() == ".parquet") found[FileFormat::kParquet].push_back(p);
    }
    if (found.empty()) continue;
    if (format != FileFormat::kAuto && !found.count(format)) {
      for (const auto& kv : found) seen += fmt::format("{}{} in {}", seen.empty() ? "" : ", ", format_name(kv.first), dir.string());
      continue;
    }
    return choose(std::move(found), format, SplitFiles::Layout::kSplitFiles, dir, split);
  }
  if (!seen.empty())
    return not_found(fmt::format("dataset folder '{}': no {} file for split '{}' (found: {})", root.string(),
                                 format_name(format), split, seen));
  return not_found(fmt::format("dataset folder '{}': no file for split '{}' (expected e.g. {}/{}.jsonl or "
                               "{}/{}-00000-of-00001.parquet; see data/HELP.md)",
                               root.string(), split, c, sp, c, sp));
}

Result<std::vector<Row>> read_split_rows(const stdfs::path& root, const SplitFiles& files) {
  std::vector<Row> rows;
  for (const stdfs::path& file : files.files) {
    QB_ASSIGN_OR_RETURN(std::vector<Row> part, read_rows(file, files.format, root));
    if (part.empty()) spdlog::warn("'{}' holds no rows", display_of(file, root));
    for (auto& r : part) rows.push_back(std::move(r));
  }
  return rows;
}

namespace {

// A file of a split without a single row: shown in the build output (the step's warnings reach
// Ninja's), since a truncated download would otherwise just shrink the dataset.
void warn_empty_file(const stdfs::path& file, const stdfs::path& root, std::string_view dataset,
                     std::string_view split) {
  spdlog::warn("{} {}: '{}' holds no rows", dataset, split, display_of(file, root));
}

Status empty_split(const stdfs::path& root, std::string_view dataset, std::string_view split) {
  return invalid_argument(fmt::format("dataset '{}': split '{}' in '{}' has no items (empty files?)", dataset, split,
                                      root.string()));
}

}  // namespace

bool is_numeric_gold(std::string_view s) {
  // An optional sign, digits with optional thousands commas, an optional decimal part; or a
  // simple fraction a/b. (GSM8K's golds are integers; the others are what the scorer compares.)
  static const std::regex kNumber(R"(^[-+]?(\d{1,3}(,\d{3})+|\d+)(\.\d+)?$|^[-+]?\.\d+$|^[-+]?\d+/\d+$)");
  return std::regex_match(std::string(s), kNumber);
}

Result<std::vector<MmluItem>> load_mmlu(const stdfs::path& root, std::string_view split, FileFormat format) {
  QB_ASSIGN_OR_RETURN(SplitFiles sf, find_split(root, "mmlu", split, format));
  std::vector<MmluItem> items;
  for (const stdfs::path& file : sf.files) {
    if (sf.layout == SplitFiles::Layout::kHendrycksCsv) {
      QB_ASSIGN_OR_RETURN(std::vector<MmluItem> part, mmlu_from_hendrycks(file, root, split));
      for (auto& it : part) items.push_back(std::move(it));
      continue;
    }
    QB_ASSIGN_OR_RETURN(std::vector<Row> rows, read_rows(file, sf.format, root));
    if (rows.empty()) warn_empty_file(file, root, "mmlu", split);
    for (const Row& row : rows) {
      QB_ASSIGN_OR_RETURN(MmluItem item, mmlu_from_row(row));
      items.push_back(std::move(item));
    }
  }
  if (items.empty()) return empty_split(root, "mmlu", split);
  for (size_t i = 0; i < items.size(); ++i) items[i].index = static_cast<int64_t>(i);
  spdlog::debug("mmlu {}: {} items from {} file(s)", split, items.size(), sf.files.size());
  return items;
}

Result<std::vector<Gsm8kItem>> load_gsm8k(const stdfs::path& root, std::string_view split, FileFormat format) {
  QB_ASSIGN_OR_RETURN(SplitFiles sf, find_split(root, "gsm8k", split, format));
  std::vector<Gsm8kItem> items;
  for (const stdfs::path& file : sf.files) {
    QB_ASSIGN_OR_RETURN(std::vector<Row> rows, read_rows(file, sf.format, root));
    if (rows.empty()) warn_empty_file(file, root, "gsm8k", split);
    for (const Row& row : rows) {
      Gsm8kItem item;
      item.where = row.where;
      QB_ASSIGN_OR_RETURN(item.question, get_string(row, "question"));
      QB_ASSIGN_OR_RETURN(item.answer, get_string(row, "answer"));
      if (item.answer.find("####") == std::string::npos) {
        return invalid_argument(
            fmt::format("{}: field 'answer': no final answer (expected the solution to end with \"#### <answer>\")",
                        row.where));
      }
      Gsm8kAnswer a = split_gsm8k_answer(item.answer);
      if (a.target.empty()) {
        return invalid_argument(fmt::format("{}: field 'answer': empty final answer after \"####\"", row.where));
      }
      if (!is_numeric_gold(a.target)) {
        return invalid_argument(fmt::format("{}: field 'answer': the final answer after \"####\" is '{}', not a "
                                            "number (GSM8K answers are numbers: 72, -3, 1,250, 0.5)",
                                            row.where, a.target));
      }
      item.reasoning = std::move(a.reasoning);
      item.target = std::move(a.target);
      items.push_back(std::move(item));
    }
  }
  if (items.empty()) return empty_split(root, "gsm8k", split);
  for (size_t i = 0; i < items.size(); ++i) items[i].index = static_cast<int64_t>(i);
  return items;
}

}  // namespace qb::eval
