// RFC 4180 CSV parser: a small state machine over bytes (UTF-8 passes through untouched).
#include "steps/eval/csv.h"

#include <fmt/format.h>

namespace qb::eval {

Result<std::vector<CsvRecord>> parse_csv(std::string_view text, const std::string& name) {
  std::vector<CsvRecord> out;
  size_t i = 0;
  if (text.substr(0, 3) == "\xEF\xBB\xBF") i = 3;
  int line = 1;
  size_t line_start = i;
  auto where = [&](size_t pos) { return fmt::format("{}:{}:{}", name, line, pos - line_start + 1); };

  while (i < text.size()) {
    // An empty line is no record (Python's csv.reader yields nothing for it either).
    if (text[i] == '\n' || (text[i] == '\r' && i + 1 < text.size() && text[i + 1] == '\n')) {
      i += text[i] == '\r' ? 2 : 1;
      ++line;
      line_start = i;
      continue;
    }
    CsvRecord rec;
    rec.line = line;
    bool end_of_record = false;
    while (!end_of_record) {
      std::string field;
      if (i < text.size() && text[i] == '"') {
        const int open_line = line;
        const size_t open_col = i - line_start + 1;
        ++i;
        bool closed = false;
        while (i < text.size()) {
          char c = text[i];
          if (c == '"') {
            if (i + 1 < text.size() && text[i + 1] == '"') {
              field += '"';
              i += 2;
              continue;
            }
            ++i;
            closed = true;
            break;
          }
          if (c == '\n') {
            ++line;
            line_start = i + 1;
          }
          field += c;
          ++i;
        }
        if (!closed) {
          return invalid_argument(fmt::format("{}:{}:{}: unterminated quoted field", name, open_line, open_col));
        }
        if (i < text.size() && text[i] != ',' && text[i] != '\n' &&
            !(text[i] == '\r' && i + 1 < text.size() && text[i + 1] == '\n')) {
          return invalid_argument(where(i) + ": unexpected character after closing quote (expected ',' or end of line)");
        }
      } else {
        while (i < text.size() && text[i] != ',' && text[i] != '\n' &&
               !(text[i] == '\r' && i + 1 < text.size() && text[i + 1] == '\n')) {
          if (text[i] == '"') {
            return invalid_argument(where(i) + ": quote inside an unquoted field (quote the whole field and double the quote)");
          }
          field += text[i];
          ++i;
        }
      }
      rec.fields.push_back(std::move(field));
      if (i >= text.size()) {
        end_of_record = true;
      } else if (text[i] == ',') {
        ++i;
      } else {  // LF or CRLF
        i += text[i] == '\r' ? 2 : 1;
        ++line;
        line_start = i;
        end_of_record = true;
      }
    }
    out.push_back(std::move(rec));
  }
  return out;
}

}  // namespace qb::eval
