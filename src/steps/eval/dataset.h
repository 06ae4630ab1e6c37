// MMLU and GSM8K datasets as users download them into data/datasets/<name>/ (see data/HELP.md).
//
// Layouts, searched in <root>/<config>/ then <root>/ (config: "all" for MMLU, "main" for GSM8K);
// the first folder holding any file for the split wins:
//   split files   <split>.jsonl, <split>.parquet, <split>-NNNNN-of-NNNNN.parquet (Hugging Face
//                 shards, read in name order); GSM8K also <split>.csv with a header row.
//                 Columns as on the Hub: cais/mmlu {question, subject, choices[4], answer 0..3};
//                 openai/gsm8k {question, answer ending "#### <final answer>"}.
//   hendrycks     MMLU's original CSVs: [data/]<split>/<subject>_<split>.csv, no header, rows
//                 (question, A, B, C, D, answer letter); subjects in name order.
//   per-subject   cais/mmlu's per-subject configs: <root>/<subject>/<split>[...].{parquet,jsonl}
//                 (used when there is no all/ and no split file at the root).
// When one folder has the split in several formats, `format` picks one; kAuto takes Parquet, then
// JSONL, then CSV. Items keep their order in the files; `index` is the position in the split.
#pragma once

#include <array>
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "steps/eval/rows.h"
#include "util/status.h"

namespace qb::eval {

enum class FileFormat { kAuto, kJsonl, kCsv, kParquet };
const char* format_name(FileFormat f);
Result<FileFormat> parse_format(std::string_view name);  // "auto", "jsonl", "csv", "parquet"

struct MmluItem {
  int64_t index = 0;     // position in the split (all subjects, file order)
  std::string where;     // "mmlu/all/test.jsonl:17" — for messages and provenance
  std::string subject;   // "abstract_algebra"
  std::string question;
  std::array<std::string, 4> choices;
  int answer = 0;        // 0..3 (A..D)
};

struct Gsm8kItem {
  int64_t index = 0;
  std::string where;
  std::string question;
  std::string answer;     // the full solution text as in the dataset
  std::string target;     // text after the last "####", stripped (evalscope's Sample.target)
  std::string reasoning;  // text before it, stripped (evalscope's metadata["reasoning"])
};

// The files one split was read from (paths as found; layout as in the header comment).
struct SplitFiles {
  enum class Layout { kSplitFiles, kHendrycksCsv, kPerSubject };
  Layout layout = Layout::kSplitFiles;
  FileFormat format = FileFormat::kAuto;
  std::vector<std::filesystem::path> files;
};

// `benchmark` is "mmlu" or "gsm8k" (it decides the config folder and the layouts searched).
Result<SplitFiles> find_split(const std::filesystem::path& root, std::string_view benchmark,
                              std::string_view split, FileFormat format = FileFormat::kAuto);

// The split files of a dataset in the Hugging Face layouts of the lm-eval tasks: the first of
// <root>/<config>/, <root>/data/, <root>/ that holds <split>.jsonl, <split>.parquet or
// <split>-NNNNN-of-NNNNN.parquet (or, from the Hub's Parquet conversion,
// <root>/<config>/<split>/NNNN.parquet). Errors say what was looked for.
Result<SplitFiles> find_hf_split(const std::filesystem::path& root, std::string_view config, std::string_view split,
                                 FileFormat format = FileFormat::kAuto);
// Every row of those files, in order; `where` names each "<file relative to root's parent>:<line>".
Result<std::vector<Row>> read_split_rows(const std::filesystem::path& root, const SplitFiles& files);

// Messages and `where` name files relative to root's parent (e.g. "mmlu/all/test.jsonl:17").
Result<std::vector<MmluItem>> load_mmlu(const std::filesystem::path& root, std::string_view split,
                                        FileFormat format = FileFormat::kAuto);
Result<std::vector<Gsm8kItem>> load_gsm8k(const std::filesystem::path& root, std::string_view split,
                                          FileFormat format = FileFormat::kAuto);

// evalscope's record_to_sample split of a GSM8K solution at the last "####".
struct Gsm8kAnswer {
  std::string reasoning, target;
};
Gsm8kAnswer split_gsm8k_answer(std::string_view answer);
// Whether a GSM8K final answer is a number ("72", "-3", "1,250", "0.5", "3/4"): load_gsm8k
// rejects a row whose answer is not ("#### many"), naming the file and line.
bool is_numeric_gold(std::string_view target);

}  // namespace qb::eval
