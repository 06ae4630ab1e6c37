// `qbuild report` and the build's report hook (see report_command.h).
#include "cli/report_command.h"

#include <algorithm>
#include <cstdio>
#include <set>

#include "cli/cli.h"
#include "cli/commands.h"
#include "report/report.h"
#include "report/vega_bundle.h"
#include "runner/output_memo.h"
#include "util/fs.h"
#include "util/hash.h"
#include "util/strings.h"
#include "util/suggest.h"

namespace qb::cli {

namespace stdfs = std::filesystem;

const char* const kReportFooter = R"(Targets (default: every eval config under the pipeline folder):
  results/<dataset_name>.csv | results/<dataset_name>.html | <dataset_name>

Writes results/<dataset_name>.html, one self-contained page (it loads nothing when viewed):
  - the results table: each variant's accuracy ± stderr per benchmark, recovery against the base
    model, KL / top-1 / McNemar p, weights on disk, quantize time, the eval's prefill and decode
    tokens/s and peak memory; sortable, the base model first; NaN cells and missing values marked
  - accuracy (with error bars) against model size, KL divergence and decode speed, one labelled
    point per variant
  - each quantized model's per-layer, per-module quantization error (from its quant_report.json)
  - the timeline of the last build that ran steps, one lane per GPU (CPU steps packed in lanes)
  - what differs between two variants' transform and recipe
and a Hugging Face model card for every quantized variant: results/models/<variant>/README.md,
beside links to the model's files (so the folder can be served or uploaded as it is).

The charts are drawn by Vega, read from Debian's libjs-vega (/usr/share/javascript/vega; set
QBUILD_VEGA_DIR for another folder) and inlined. Every build writes the reports of the evals it
selected, failed steps or not (a report it cannot write is a warning, never the build's failure).

The speed and memory columns are what each eval's generate step measured on its device (also in
the CSV); a CPU run's tokens/s say nothing of a GPU's.

Exit codes: 0 written · 1 a report or card could not be written (the others were) · 2 unknown
target, or a pipeline without eval configs · 3 config errors.
)";

namespace {

// Every eval config's dataset_name, in config order.
std::vector<std::string> datasets_of(const graph::Graph& g) {
  std::vector<std::string> all;
  for (const auto& e : g.evals)
    if (std::find(all.begin(), all.end(), e.dataset_name) == all.end()) all.push_back(e.dataset_name);
  return all;
}

Result<report::ReportResult> write(runner::Project& p, const graph::Graph& g, const std::vector<std::string>& datasets) {
  report::Sources src{p.layout(), p.index(), p.store(), &g};
  return report::write_reports(src, datasets, datasets_of(g));
}

std::string rel(const runner::Project& p, const stdfs::path& f) { return stdfs::relative(f, p.layout().root()).string(); }

}  // namespace

Result<std::vector<std::string>> report_datasets(const graph::Graph& g, const runner::Project& p,
                                                 const std::vector<std::string>& targets) {
  const std::vector<std::string> known = datasets_of(g);
  if (targets.empty()) return known;
  std::vector<std::string> out;
  for (const auto& raw : targets) {
    stdfs::path path(raw);
    if (path.is_absolute()) path = path.lexically_relative(p.layout().root());
    std::string t = path.lexically_normal().string();
    if (starts_with(t, "results/")) t = t.substr(8);
    for (const char* ext : {".csv", ".html"})
      if (ends_with(t, ext)) t = t.substr(0, t.size() - std::string(ext).size());
    std::error_code ec;
    const bool configured = std::find(known.begin(), known.end(), t) != known.end();
    if (!t.empty() && t.find('/') == std::string::npos &&
        (configured || stdfs::exists(p.layout().results_csv(t), ec))) {
      if (std::find(out.begin(), out.end(), t) == out.end()) out.push_back(t);
      continue;
    }
    std::vector<std::string_view> cands(known.begin(), known.end());
    std::vector<std::string> shown;
    for (const auto& k : known) shown.push_back("results/" + k + ".html");
    return invalid_argument("unknown report target '" + raw + "'" + did_you_mean_suffix(t, cands) +
                            "; reports are results/<dataset_name>.html for the eval configs" +
                            (shown.empty() ? std::string(" (there are none)") : ": " + join(shown, ", ")));
  }
  return out;
}

int write_and_print_reports(runner::Project& p, const graph::Graph& g, const std::vector<std::string>& datasets) {
  auto r = write(p, g, datasets);
  if (!r.is_ok()) return fail(r.status());
  for (const auto& f : r->pages) std::printf("report: %s\n", rel(p, f).c_str());
  for (const auto& f : r->cards) std::printf("model card: %s\n", rel(p, f).c_str());
  for (const auto& e : r->errors) std::fprintf(stderr, "qbuild: error: %s\n", e.c_str());
  return r->errors.empty() ? kExitOk : kExitBuildFailed;
}

namespace {

// What the reports of `datasets` are made of beyond the artifacts their CSV rows name (which are
// immutable under their keys): every results CSV (a card lists the variant's rows in all of
// them), the charting library's folder (a package upgrade replaces its files, which moves the
// folder's mtime), the last invocation's runs in the index (the page's timeline), the names the
// configs give to keys (source folders, calibration files, config files) and qbuild's version.
Result<Digest> reports_fingerprint(runner::Project& p, const graph::Graph& g, const std::vector<std::string>& datasets,
                                   const std::vector<std::string>& all) {
  Hasher h(Hasher::Explain::kSkip);
  h.salt("qbuild-report-v1").str("qbuild_version", QBUILD_VERSION);
  for (const auto& d : datasets) h.str("dataset", d);
  for (const auto& d : all) h.str("csv", p.layout().results_csv(d).string()).path_stat(p.layout().results_csv(d));
  h.str("vega", report::vega_dir().string()).path_stat(report::vega_dir());
  // The last invocation's runs (a build in the same second as the one before shares its name).
  QB_ASSIGN_OR_RETURN(std::string inv, p.index().last_invocation());
  QB_ASSIGN_OR_RETURN(auto runs, p.index().runs(inv));
  h.str("last_invocation", inv);
  for (const auto& r : runs) h.i64("run", r.id).str("status", r.status).bytes("ended", &r.ended, sizeof r.ended);
  for (const auto& n : g.nodes) h.str("key", n.key).str("config_file", n.config_file).str("source", n.source_path.string());
  return h.digest();
}

}  // namespace

std::vector<std::string> reports_after_build(runner::Project& p, const runner::Planned& planned) {
  std::vector<std::string> datasets;
  for (const auto& e : planned.graph.evals)
    if (planned.selected.count(e.node) && std::find(datasets.begin(), datasets.end(), e.dataset_name) == datasets.end())
      datasets.push_back(e.dataset_name);
  if (datasets.empty()) return {};
  // A build with nothing new to show (a no-op) reads none of the report's inputs: the outputs
  // memo (runner/output_memo.h) knows the pages and cards are what these inputs made, and that
  // nobody changed or deleted them since.
  auto memo = runner::OutputMemo::load(p.layout());
  const std::string unit = "reports of " + join(datasets, ",");
  auto fp = reports_fingerprint(p, planned.graph, datasets, datasets_of(planned.graph));
  if (fp.is_ok() && memo.fresh(unit, *fp)) return {};
  auto r = write(p, planned.graph, datasets);
  if (!r.is_ok()) return {"the reports were not written: " + r.status().message()};
  for (const auto& f : r->pages) std::printf("qbuild: report %s\n", rel(p, f).c_str());
  std::vector<std::string> warnings;
  for (const auto& e : r->errors) warnings.push_back(e);
  if (fp.is_ok() && warnings.empty()) {
    // The pages, the cards and the cards' folders (whose mtime moves when a link to a model
    // file is added or removed).
    std::vector<stdfs::path> files = r->pages;
    for (const auto& c : r->cards) {
      files.push_back(c);
      files.push_back(c.parent_path());
    }
    memo.record(unit, *fp, files);
    (void)memo.save(p.layout());  // the memo only saves work
  }
  return warnings;
}

}  // namespace qb::cli
