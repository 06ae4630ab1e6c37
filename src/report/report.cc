// Writing the reports and model cards (see report.h).
#include "report/report.h"

#include <sys/stat.h>

#include <ctime>
#include <map>
#include <set>

#include "report/html_page.h"
#include "report/model_card.h"
#include "report/report_data.h"
#include "report/vega_bundle.h"
#include "util/fs.h"

namespace qb::report {

namespace stdfs = std::filesystem;

namespace {

// When the CSV was last written, in ISO UTC: what the page says its results are "as of" (a
// page is then a function of what it shows, and rewritten only when that changes).
std::string mtime_iso(const stdfs::path& p) {
  struct stat st {};
  if (::stat(p.c_str(), &st) != 0) return "";
  std::tm tm{};
  gmtime_r(&st.st_mtim.tv_sec, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

}  // namespace

Result<ReportResult> write_reports(Sources& src, const std::vector<std::string>& datasets,
                                   const std::vector<std::string>& all_datasets, const ReportOptions& opts) {
  ReportResult res;
  const auto& L = src.layout;
  auto csv_name = [](const std::string& d) { return "results/" + d + ".csv"; };
  // Every eval config's CSV that reads (the cards list them all); the requested ones must.
  std::map<std::string, ResultsTable> tables;
  std::set<std::string> names(all_datasets.begin(), all_datasets.end());
  names.insert(datasets.begin(), datasets.end());
  for (const auto& d : names) {
    auto t = ResultsTable::load(L.results_csv(d), csv_name(d));
    if (t.is_ok()) tables.emplace(d, std::move(*t));
    else if (std::find(datasets.begin(), datasets.end(), d) != datasets.end())
      res.errors.push_back("report " + csv_name(d).substr(0, csv_name(d).size() - 4) + ".html not written: " +
                           t.status().message());
  }
  std::vector<const ResultsTable*> all;
  for (const auto& [d, t] : tables) all.push_back(&t);

  if (opts.cards) {
    std::set<std::string> done;
    for (const auto& d : datasets) {
      auto it = tables.find(d);
      if (it == tables.end()) continue;
      for (const auto& row : it->second.rows()) {
        const std::string v = row.text("variant");
        if (row.is_base() || done.count(v)) continue;
        done.insert(v);
        QB_ASSIGN_OR_RETURN(std::string model_key, model_key_of(src, row));
        QB_ASSIGN_OR_RETURN(ModelInfo m, model_info(src, model_key));
        if (m.kind != "quant") continue;  // no model files to describe (deleted by gc, or not quantized)
        CardInput in{v, m, all, QBUILD_VERSION_STRING, ""};
        if (!m.source_path.empty()) in.source_license = card_license(L.root() / m.source_path / "README.md");
        auto w = write_model_card(L.results(), in);
        if (w.is_ok()) res.cards.push_back(*w);
        else res.errors.push_back("model card of " + v + " not written: " + w.status().message());
      }
    }
  }

  bool any = false;
  for (const auto& d : datasets) any |= tables.count(d) > 0;
  if (!any) return res;
  QB_ASSIGN_OR_RETURN(std::string vega, load_vega_bundle(opts.vega_dir.empty() ? vega_dir() : opts.vega_dir));
  for (const auto& d : datasets) {
    auto it = tables.find(d);
    if (it == tables.end()) continue;
    const stdfs::path page = L.results() / (d + ".html");
    auto content = gather_report(src, it->second, d, mtime_iso(L.results_csv(d)));
    if (!content.is_ok()) {
      res.errors.push_back("report results/" + d + ".html not written: " + content.status().message());
      continue;
    }
    if (Status s = write_if_changed(page, render_page(*content, vega)); !s.is_ok()) {
      res.errors.push_back("report results/" + d + ".html not written: " + s.message());
      continue;
    }
    res.pages.push_back(page);
  }
  return res;
}

}  // namespace qb::report
