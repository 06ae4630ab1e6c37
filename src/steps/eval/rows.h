// Dataset files as rows of named fields, whatever their format (JSONL, CSV with a header,
// Parquet). Each row remembers where it came from, so a malformed record is reported as
// "<file>:<line>" (JSONL, CSV: the line on which the record starts) or "<file>: row <i>"
// (Parquet: the 0-based row index, as `datasets` numbers it).
#pragma once

#include <filesystem>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "util/status.h"

namespace qb::eval {

struct Row {
  std::string where;       // "mmlu/test.jsonl:17", "gsm8k/main/test-00000-of-00001.parquet: row 4"
  nlohmann::json fields;   // an object: column name -> value
};

// Calls fn(1-based line number, line without "\n" or "\r\n") for every line of `text`; returns
// the first error fn returns.
Status for_each_line(std::string_view text, const std::function<Status(int, std::string_view)>& fn);

// `display` names the file in messages (a path relative to the datasets folder keeps messages
// and frozen eval sets the same on every machine).
Result<std::vector<Row>> read_jsonl_rows(const std::filesystem::path& file, const std::string& display);

// A CSV whose first record is a header of column names; every field is a string.
Result<std::vector<Row>> read_csv_rows(const std::filesystem::path& file, const std::string& display);

// Parquet through Apache Arrow's C++ library. Strings, integers, floats, booleans, nulls and
// lists of those become JSON values. Returns kUnavailable when qbuild was built without Arrow.
Result<std::vector<Row>> read_parquet_rows(const std::filesystem::path& file, const std::string& display);
bool parquet_available();

}  // namespace qb::eval
