#include "cli/pipeline_input.h"

#include <cstdio>

#include "util/strings.h"

namespace qb::cli {

namespace {

// A config matches a selector by name, by file path, or by file stem.
bool matches(const std::string& sel, const std::string& name, const std::string& file) {
  if (sel == name || sel == file) return true;
  std::filesystem::path f(file), s(sel);
  return s.lexically_normal() == f.lexically_normal() || s.filename() == f.filename() || sel == f.stem().string();
}

template <typename Spec, typename NameOf>
Result<std::vector<Spec>> select(const std::vector<Spec>& all, const std::vector<std::string>& sels, const char* flag,
                                 NameOf name_of) {
  if (sels.empty()) return all;
  std::vector<Spec> out;
  for (const auto& s : sels) {
    bool found = false;
    for (const auto& spec : all)
      if (matches(s, name_of(spec), spec.loc.file)) {
        found = true;
        bool dup = false;
        for (const auto& o : out) dup |= name_of(o) == name_of(spec);
        if (!dup) out.push_back(spec);
      }
    if (!found) {
      std::vector<std::string> names;
      for (const auto& spec : all) names.push_back(name_of(spec));
      return invalid_argument(std::string(flag) + " '" + s + "' matches no config; there are: " + join(names, ", "));
    }
  }
  return out;
}

}  // namespace

Result<LoadedPipeline> load_for_build(const std::filesystem::path& root, const Selection& sel) {
  config::Diagnostics diags;
  auto p = config::load_pipeline(root, diags, sel.pipeline_dir);
  std::string shown;
  if (diags.error_count() || diags.warning_count()) std::fputs((shown = diags.render()).c_str(), stderr);
  if (!p.is_ok()) return p.status();

  LoadedPipeline out;
  out.pipeline = *p;
  out.diagnostics = std::move(shown);
  auto name = [](const auto& s) { return s.name; };
  QB_ASSIGN_OR_RETURN(auto trans, select(p->trans, sel.trans, "--trans-config", name));
  QB_ASSIGN_OR_RETURN(auto quant, select(p->quant, sel.quant, "--quant-config", name));
  QB_ASSIGN_OR_RETURN(auto evals, select(p->evals, sel.eval, "--eval-config",
                                         [](const config::EvalSpec& e) { return e.dataset_name; }));
  for (const auto& t : trans) {
    graph::TransIn in;
    in.name = t.name;
    in.file = t.loc.file;
    in.input_model = t.input_model;
    in.suffix = t.output_suffix;
    in.params = t.params;
    in.check = t.equivalence;
    out.input.trans.push_back(std::move(in));
  }
  for (const auto& q : quant) {
    graph::QuantIn in;
    in.name = q.name;
    in.file = q.loc.file;
    in.suffix = q.output_suffix;
    in.recipe = q.recipe;  // compute_dtype included: the config layer copied the project's
    if (q.recipe.needs_calibration()) in.calib_path = q.calibration_source;
    out.input.quant.push_back(std::move(in));
  }
  for (const auto& e : evals) {
    graph::EvalIn in;
    in.dataset_name = e.dataset_name;
    in.file = e.loc.file;
    for (std::size_t i = 0; i < e.sample.datasets.size(); ++i)
      in.datasets.push_back({e.sample.datasets[i].name, e.dataset_dirs[i]});
    in.sample = e.sample;
    in.generate = e.generate;
    in.score = e.score;
    in.work_dir = e.work_dir;
    in.devices = e.devices;
    out.input.evals.push_back(std::move(in));
  }
  out.project = p->project;
  return out;
}

}  // namespace qb::cli
