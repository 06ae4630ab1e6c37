// RFC 4180 CSV parsing for dataset files (MMLU's original per-subject CSVs, GSM8K CSV exports).
//
// Fields are separated by ',' and records by LF or CRLF. A field that starts with '"' is quoted:
// it may hold separators, line breaks and doubled quotes ("" -> "), and must be followed by a
// separator or the end of the record. A quote inside an unquoted field, text after a closing
// quote and an unterminated quoted field are errors naming "<name>:<line>:<column>". A UTF-8
// byte-order mark at the start is skipped; a final line break is optional; empty lines (no
// characters at all) are skipped, as Python's csv module does.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "util/status.h"

namespace qb::eval {

struct CsvRecord {
  int line = 0;  // 1-based line on which the record starts
  std::vector<std::string> fields;
};

// `name` is used in error messages only (usually the file's path).
Result<std::vector<CsvRecord>> parse_csv(std::string_view text, const std::string& name);

}  // namespace qb::eval
