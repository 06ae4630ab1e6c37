// Parquet → rows, through Apache Arrow's C++ library (libarrow + libparquet from the pyarrow
// wheel; see FindParquetFromWheel.cmake). Compiled to a kUnavailable answer when qbuild is built
// without them (QB_HAVE_PARQUET undefined), so the rest of the evaluation kit never depends on it.
#include "steps/eval/rows.h"

#include <fmt/format.h>

#ifdef QB_HAVE_PARQUET
#include <arrow/api.h>
#include <arrow/io/file.h>
#include <parquet/arrow/reader.h>
#include <parquet/exception.h>
#endif

namespace qb::eval {

#ifdef QB_HAVE_PARQUET
namespace {

// One cell of an Arrow array as JSON (structs as objects); kUnavailable for types datasets never
// use here.
Result<nlohmann::json> cell(const arrow::Array& a, int64_t i) {
  if (a.IsNull(i)) return nlohmann::json(nullptr);
  switch (a.type_id()) {
    case arrow::Type::STRING: return nlohmann::json(static_cast<const arrow::StringArray&>(a).GetString(i));
    case arrow::Type::LARGE_STRING:
      return nlohmann::json(static_cast<const arrow::LargeStringArray&>(a).GetString(i));
    case arrow::Type::STRING_VIEW:
      return nlohmann::json(std::string(static_cast<const arrow::StringViewArray&>(a).GetView(i)));
    case arrow::Type::BOOL: return nlohmann::json(static_cast<const arrow::BooleanArray&>(a).Value(i));
    case arrow::Type::INT8: return nlohmann::json(static_cast<const arrow::Int8Array&>(a).Value(i));
    case arrow::Type::INT16: return nlohmann::json(static_cast<const arrow::Int16Array&>(a).Value(i));
    case arrow::Type::INT32: return nlohmann::json(static_cast<const arrow::Int32Array&>(a).Value(i));
    case arrow::Type::INT64: return nlohmann::json(static_cast<const arrow::Int64Array&>(a).Value(i));
    case arrow::Type::UINT8: return nlohmann::json(static_cast<const arrow::UInt8Array&>(a).Value(i));
    case arrow::Type::UINT16: return nlohmann::json(static_cast<const arrow::UInt16Array&>(a).Value(i));
    case arrow::Type::UINT32: return nlohmann::json(static_cast<const arrow::UInt32Array&>(a).Value(i));
    case arrow::Type::UINT64: return nlohmann::json(static_cast<const arrow::UInt64Array&>(a).Value(i));
    case arrow::Type::FLOAT: return nlohmann::json(static_cast<const arrow::FloatArray&>(a).Value(i));
    case arrow::Type::DOUBLE: return nlohmann::json(static_cast<const arrow::DoubleArray&>(a).Value(i));
    case arrow::Type::LIST:
    case arrow::Type::LARGE_LIST: {
      std::shared_ptr<arrow::Array> values;
      if (a.type_id() == arrow::Type::LIST) {
        values = static_cast<const arrow::ListArray&>(a).value_slice(i);
      } else {
        values = static_cast<const arrow::LargeListArray&>(a).value_slice(i);
      }
      nlohmann::json arr = nlohmann::json::array();
      for (int64_t k = 0; k < values->length(); ++k) {
        QB_ASSIGN_OR_RETURN(nlohmann::json v, cell(*values, k));
        arr.push_back(std::move(v));
      }
      return arr;
    }
    case arrow::Type::STRUCT: {  // e.g. ARC's choices {text: [...], label: [...]}
      const auto& st = static_cast<const arrow::StructArray&>(a);
      nlohmann::json obj = nlohmann::json::object();
      for (int f = 0; f < st.num_fields(); ++f) {
        QB_ASSIGN_OR_RETURN(nlohmann::json v, cell(*st.field(f), i));
        obj[st.type()->field(f)->name()] = std::move(v);
      }
      return obj;
    }
    default: return unavailable("unsupported Arrow type " + a.type()->ToString());
  }
}

}  // namespace

bool parquet_available() { return true; }

Result<std::vector<Row>> read_parquet_rows(const std::filesystem::path& file, const std::string& display) {
  // Arrow reports errors as arrow::Status; libparquet may also throw parquet::ParquetException
  // (a std::exception) on corrupt input. Both become qb::Status here.
  std::shared_ptr<arrow::Table> table;
  try {
    auto opened = arrow::io::ReadableFile::Open(file.string());
    if (!opened.ok()) return io_error(display + ": " + opened.status().ToString());
    auto reader = parquet::arrow::OpenFile(*opened, arrow::default_memory_pool());
    if (!reader.ok()) return corrupt(display + ": not a readable Parquet file: " + reader.status().ToString());
    auto read = (*reader)->ReadTable();
    if (!read.ok()) return corrupt(display + ": " + read.status().ToString());
    table = *read;
  } catch (const std::exception& e) {
    return corrupt(display + ": not a readable Parquet file: " + e.what());
  }
  const int64_t n = table->num_rows();
  std::vector<Row> rows(static_cast<size_t>(n));
  for (int64_t r = 0; r < n; ++r) {
    rows[r].where = fmt::format("{}: row {}", display, r);
    rows[r].fields = nlohmann::json::object();
  }
  for (int c = 0; c < table->num_columns(); ++c) {
    const std::string& name = table->schema()->field(c)->name();
    int64_t r = 0;
    for (const auto& chunk : table->column(c)->chunks()) {
      for (int64_t k = 0; k < chunk->length(); ++k, ++r) {
        QB_ASSIGN_OR_RETURN_CTX(rows[r].fields[name], cell(*chunk, k),
                                fmt::format("{}: column '{}'", rows[r].where, name));
      }
    }
  }
  return rows;
}

#else

bool parquet_available() { return false; }

Result<std::vector<Row>> read_parquet_rows(const std::filesystem::path& file, const std::string& display) {
  return unavailable(display +
                     ": this qbuild was built without Parquet support (install pyarrow into .venv, e.g. "
                     "`.venv/bin/pip install pyarrow`, and re-run cmake), or use the dataset's JSONL/CSV files (format: jsonl)");
}

#endif

}  // namespace qb::eval
