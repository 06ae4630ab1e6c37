// `qbuild report`: results/<dataset_name>.html for each eval config — one self-contained page
// with the results table, accuracy against size, KL and speed, the per-layer quantization
// errors, the build timeline and the recipe differences (report_data.h, html_page.h) — and a
// model card for every quantized variant in those results (model_card.h).
//
// Inputs, all read-only: results/<dataset_name>.csv (by column name), the index (runs and
// artifact metadata), the store's manifests and quant reports, and the charting library from
// Debian (vega_bundle.h). `qbuild` writes the reports after every build; a report
// that cannot be written is a warning there, never a failed build.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "report/model_info.h"
#include "util/status.h"

namespace qb::report {

struct ReportOptions {
  std::filesystem::path vega_dir;  // empty: vega_dir() ($QBUILD_VEGA_DIR or Debian's)
  bool cards = true;
};

struct ReportResult {
  std::vector<std::filesystem::path> pages;  // results/<dataset_name>.html written
  std::vector<std::filesystem::path> cards;  // results/models/<variant>/README.md written
  std::vector<std::string> errors;           // one per report or card not written (the rest were)
};

// Writes the report of each of `datasets` and the cards of their quantized variants; each card
// lists that variant's results from the CSVs of `all_datasets` (every eval config). Code::kNotFound
// when the charting library is missing (then no page is written, cards are).
Result<ReportResult> write_reports(Sources& src, const std::vector<std::string>& datasets,
                                   const std::vector<std::string>& all_datasets, const ReportOptions& opts = {});

}  // namespace qb::report
