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
  if (diags.error_count() || diags.warning_count()) std::fputs(diags.render().c_str(), stderr);
  if (!p.is_ok()) return p.status();

  LoadedPipeline out;
  out.pipeline = *p;
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
    in.settings = {{"equivalence", {{"max_rel_error", t.equivalence.max_rel_error}, {"prompts", t.equivalence.prompts}}}};
    out.input.trans.push_back(std::move(in));
  }
  for (const auto& q : quant) {
    graph::QuantIn in;
    in.name = q.name;
    in.file = q.loc.file;
    in.suffix = q.output_suffix;
    in.params = q.params;
    in.params["compute_dtype"] = p->project.compute_dtype;  // calibration and saved dtype: part of the key
    if (q.needs_calibration && q.calibration) {
      in.calib_path = q.calibration->source;
      in.settings["calibration_source"] = q.calibration->source;
    }
    out.input.quant.push_back(std::move(in));
  }
  for (const auto& e : evals) {
    graph::EvalIn in;
    in.dataset_name = e.dataset_name;
    in.file = e.loc.file;
    for (const auto& d : e.datasets) in.datasets.push_back({d.name, d.dir});
    in.sample_params = e.sample_params;
    in.eval_params = e.eval_params;
    in.eval_params["compute_dtype"] = p->project.compute_dtype;  // scores depend on it: part of the key
    in.fidelity = e.eval_params.value("fidelity", false);
    in.settings = {{"work_dir", e.work_dir}, {"dataset_name", e.dataset_name}};
    if (!e.devices.empty()) in.settings["devices"] = e.devices;  // this eval's GPUs (a subset of the project's)
    out.input.evals.push_back(std::move(in));
  }
  out.resources.devices = p->project.devices;
  out.resources.device = p->project.device;
  out.resources.compute_dtype = p->project.compute_dtype;
  return out;
}

}  // namespace qb::cli
