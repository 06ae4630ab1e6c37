// pipline/3-eval/*.yaml → EvalSpec, split into sample_params (what the frozen eval set depends
// on) and eval_params (how each model is run on it), so that changing generation settings
// re-runs evaluations but does not re-sample. Field reference: pipline/README.md.
//
// Defaults and why:
//   few_shot_num  mmlu: 0 generative (evalscope), 5 loglikelihood (lm-evaluation-harness;
//                 MMLU's dev split has exactly 5 questions per subject, the upper bound);
//                 gsm8k: 4 (evalscope)
//   task_type     mmlu "knowledge", gsm8k "math" (labels copied into the eval set)
//   max_new_tokens mmlu 512 ("think step by step, then ANSWER: X"), gsm8k 1024 (multi-step
//                 arithmetic; a cut-off answer loses its \boxed{}); generation stops earlier at
//                 <|im_end|>, so the cap only bounds runaway outputs
//   batch_size 32, seed 42 (evalscope's), mode generative, enable_thinking false, fidelity on
#include <algorithm>
#include <filesystem>
#include <map>

#include <fmt/format.h>

#include "config/fields.h"
#include "config/parsers.h"
#include "config/suggest.h"

namespace qb::config {
namespace {

namespace stdfs = std::filesystem;
using nlohmann::json;

const std::vector<std::string_view> kTopKeys = {"dataset_name", "datasets", "sampling",
                                                "gpu_resources", "output",  "generation",
                                                "mode",          "fidelity"};
const std::vector<std::string_view> kDatasetKeys = {"name", "weight", "task_type", "tags",
                                                    "few_shot_num", "subset_list", "dataset_dir", "format"};
const std::vector<std::string_view> kSamplingKeys = {"total_samples", "seed"};
const std::vector<std::string_view> kGpuKeys = {"devices", "tensor_parallel_size"};
const std::vector<std::string_view> kOutputKeys = {"work_dir"};
const std::vector<std::string_view> kGenerationKeys = {"max_new_tokens", "batch_size",
                                                       "enable_thinking", "do_sample"};
const std::vector<std::string_view> kFidelityKeys = {"enabled"};
const std::vector<std::string_view> kTasks = {"mmlu", "gsm8k"};
const std::vector<std::string_view> kModes = {"generative", "loglikelihood"};

// cais/mmlu's 57 subjects.
const std::vector<std::string_view> kMmluSubjects = {
    "abstract_algebra", "anatomy", "astronomy", "business_ethics", "clinical_knowledge",
    "college_biology", "college_chemistry", "college_computer_science", "college_mathematics",
    "college_medicine", "college_physics", "computer_security", "conceptual_physics",
    "econometrics", "electrical_engineering", "elementary_mathematics", "formal_logic",
    "global_facts", "high_school_biology", "high_school_chemistry",
    "high_school_computer_science", "high_school_european_history", "high_school_geography",
    "high_school_government_and_politics", "high_school_macroeconomics",
    "high_school_mathematics", "high_school_microeconomics", "high_school_physics",
    "high_school_psychology", "high_school_statistics", "high_school_us_history",
    "high_school_world_history", "human_aging", "human_sexuality", "international_law",
    "jurisprudence", "logical_fallacies", "machine_learning", "management", "marketing",
    "medical_genetics", "miscellaneous", "moral_disputes", "moral_scenarios", "nutrition",
    "philosophy", "prehistory", "professional_accounting", "professional_law",
    "professional_medicine", "professional_psychology", "public_relations",
    "security_studies", "sociology", "us_foreign_policy", "virology", "world_religions"};
const std::vector<std::string_view> kGsm8kSubsets = {"main"};
constexpr std::int64_t kMmluDevPerSubject = 5;

std::string join(const std::vector<int>& v) {
  std::string s;
  for (int x : v) s += (s.empty() ? "" : ", ") + std::to_string(x);
  return "[" + s + "]";
}

void sort_unique(std::vector<std::string>& v) {
  std::sort(v.begin(), v.end());
  v.erase(std::unique(v.begin(), v.end()), v.end());
}

std::optional<DatasetSpec> parse_dataset(FileContext& c, const Node& node, std::size_t index,
                                         const std::string& mode) {
  int before = c.diags.error_count();
  std::string label = fmt::format("datasets[{}]", index);
  MapReader r(c.diags, node, label, node.loc, kDatasetKeys);
  if (!r.is_mapping()) return std::nullopt;
  DatasetSpec ds;
  const Node* name = r.require("name");
  if (!name) return std::nullopt;
  auto task = read_enum(c.diags, *name, "name", kTasks);
  if (!task) return std::nullopt;
  ds.name = *task;
  ds.dir = "data/datasets/" + ds.name;
  const Node* dir_node = r.find("dataset_dir");
  if (dir_node) {
    auto d = read_string(c.diags, *dir_node, "dataset_dir");
    if (!d) return std::nullopt;
    ds.dir = normalize_rel_path(*d);
  }
  std::error_code ec;
  if (!stdfs::is_directory(c.root / ds.dir, ec)) {
    c.diags.error(dir_node ? dir_node->loc : name->loc, fmt::format("dataset directory '{}' does not exist; see "
                                         "data/HELP.md for how to get it",
                                         ds.dir));
  }
  ds.format = r.get_enum("format", {"auto", "jsonl", "csv", "parquet"}, "auto").value_or("auto");
  bool mmlu = ds.name == "mmlu";
  ds.weight = r.get_positive_float("weight", 1.0).value_or(0);
  ds.task_type = r.get_string("task_type", mmlu ? "knowledge" : "math").value_or("");
  if (const Node* t = r.find("tags")) {
    ds.tags = read_string_list(c.diags, *t, "tags").value_or(std::vector<std::string>{});
    sort_unique(ds.tags);
  }
  std::int64_t default_shots = mmlu ? (mode == "loglikelihood" ? kMmluDevPerSubject : 0) : 4;
  ds.few_shot_num = r.get_non_negative_int("few_shot_num", default_shots).value_or(0);
  if (mmlu && ds.few_shot_num > kMmluDevPerSubject) {
    c.diags.error(r.find("few_shot_num")->loc,
                  fmt::format("few_shot_num {} is too large for mmlu: its dev split has {} "
                              "questions per subject",
                              ds.few_shot_num, kMmluDevPerSubject));
  }
  if (const Node* s = r.find("subset_list")) {
    if (!s->is_sequence()) {
      read_string_list(c.diags, *s, "subset_list");
    } else {
      const auto& known = mmlu ? kMmluSubjects : kGsm8kSubsets;
      for (const Node& item : s->items) {
        auto v = read_string(c.diags, item, "subset_list");
        if (!v) continue;
        if (std::find(known.begin(), known.end(), *v) == known.end()) {
          c.diags.error(item.loc, fmt::format("unknown {} subset '{}'{}", ds.name, *v,
                                              did_you_mean_suffix(*v, known)));
          continue;
        }
        ds.subset_list.push_back(*v);
      }
      sort_unique(ds.subset_list);
      // Every subset listed is the same as none listed: one canonical form.
      if (ds.subset_list.size() == known.size()) ds.subset_list.clear();
    }
  }
  if (c.diags.error_count() != before) return std::nullopt;
  return ds;
}

}  // namespace

EvalSpec parse_eval(FileContext& c, const Node& root, const ProjectSpec& project) {
  MapReader top(c.diags, root, "", c.whole_file(), kTopKeys);
  EvalSpec spec;
  spec.loc = c.whole_file();
  spec.dataset_name = read_name(c, top, "dataset_name", spec.loc);

  std::string mode = top.get_enum("mode", kModes, "generative").value_or("generative");

  // datasets
  std::vector<DatasetSpec> datasets;
  if (const Node* list = top.require("datasets")) {
    if (!list->is_sequence()) {
      read_string_list(c.diags, *list, "datasets");  // reports "expected a list"
    } else if (list->items.empty()) {
      c.diags.error(list->loc, "'datasets' is empty");
    } else {
      std::map<std::string, SourceLoc> seen;
      for (std::size_t i = 0; i < list->items.size(); ++i) {
        auto ds = parse_dataset(c, list->items[i], i, mode);
        if (!ds) continue;
        const Node& item = list->items[i];
        const Node* name = nullptr;
        for (const auto& [k, v] : item.entries)
          if (k.text == "name") name = &v;
        if (auto it = seen.find(ds->name); it != seen.end()) {
          c.diags.error(name->loc, fmt::format("dataset '{}' is listed twice", ds->name))
              .notes.push_back(Diagnostics::note(it->second, "first listed here"));
          continue;
        }
        seen.emplace(ds->name, name->loc);
        datasets.push_back(std::move(*ds));
      }
    }
  }
  bool has_mmlu = std::any_of(datasets.begin(), datasets.end(),
                              [](const DatasetSpec& d) { return d.name == "mmlu"; });
  if (mode == "loglikelihood" && !has_mmlu && !datasets.empty()) {
    c.diags.warning(top.find("mode")->loc,
                    "mode 'loglikelihood' applies only to MMLU, and this eval has no mmlu "
                    "dataset");
  }
  if (!has_mmlu) mode = "generative";  // mode changes nothing without MMLU: one canonical form

  // sampling
  if (const Node* s = top.require("sampling")) {
    MapReader r(c.diags, *s, "sampling", top.find_key("sampling")->loc, kSamplingKeys);
    if (r.is_mapping() && r.require("total_samples"))
      spec.total_samples = r.get_positive_int("total_samples", std::nullopt).value_or(0);
    spec.seed = static_cast<std::uint64_t>(r.get_non_negative_int("seed", 42).value_or(0));
  }

  // gpu_resources
  if (const Node* g = top.find("gpu_resources")) {
    MapReader r(c.diags, *g, "gpu_resources", top.find_key("gpu_resources")->loc, kGpuKeys);
    auto tp = r.get_positive_int("tensor_parallel_size", 1);
    if (tp && *tp > 1) {
      c.diags.error(r.find("tensor_parallel_size")->loc,
                    fmt::format("tensor_parallel_size {} is not supported: the native runtime "
                                "runs each eval on one GPU; list several 'devices' to run several "
                                "evals in parallel",
                                *tp));
    }
    if (const Node* d = r.find("devices")) {
      if (auto ids = read_gpu_ids(c, *d)) {
        for (std::size_t i = 0; i < ids->size(); ++i) {
          int id = (*ids)[i];
          if (!project.devices.empty() &&
              std::find(project.devices.begin(), project.devices.end(), id) ==
                  project.devices.end()) {
            c.diags.error(d->items[i].loc, fmt::format("GPU {} is not among the project's "
                                                       "devices {} ({})",
                                                       id, join(project.devices),
                                                       c.project_file));
          } else {
            spec.devices.push_back(id);
          }
        }
        if (project.devices.empty() && !spec.devices.empty()) {
          c.diags.warning(r.find_key("devices")->loc,
                          fmt::format("'devices' is ignored: the project runs on the CPU (no "
                                      "devices in {})",
                                      c.project_file));
          spec.devices.clear();
        }
      }
    }
  }

  // output
  spec.work_dir = "outputs";
  if (const Node* o = top.find("output")) {
    MapReader r(c.diags, *o, "output", top.find_key("output")->loc, kOutputKeys);
    spec.work_dir = normalize_rel_path(r.get_string("work_dir", "outputs").value_or("outputs"));
  }

  // generation
  std::map<std::string, std::int64_t> max_new = {{"mmlu", 512}, {"gsm8k", 1024}};
  std::int64_t batch_size = 32;
  bool enable_thinking = false;
  if (const Node* g = top.find("generation")) {
    MapReader r(c.diags, *g, "generation", top.find_key("generation")->loc, kGenerationKeys);
    if (const Node* m = r.find("max_new_tokens")) {
      if (m->is_mapping()) {
        MapReader per_task(c.diags, *m, "max_new_tokens", r.find_key("max_new_tokens")->loc,
                           kTasks);
        for (std::string_view t : kTasks)
          if (auto v = per_task.get_positive_int(t, std::nullopt)) max_new[std::string(t)] = *v;
      } else if (auto v = r.get_positive_int("max_new_tokens", std::nullopt)) {
        for (auto& [task, n] : max_new) n = *v;
      }
    }
    batch_size = r.get_positive_int("batch_size", 32).value_or(0);
    enable_thinking = r.get_bool("enable_thinking", false).value_or(false);
    if (r.get_bool("do_sample", false).value_or(false)) {
      c.diags.error(r.find("do_sample")->loc,
                    "'do_sample: true' is not supported: only greedy decoding (do_sample: false)");
    }
  }

  bool fidelity = true;
  if (const Node* f = top.find("fidelity")) {
    MapReader r(c.diags, *f, "fidelity", top.find_key("fidelity")->loc, kFidelityKeys);
    fidelity = r.get_bool("enabled", true).value_or(true);
  }

  json ds_json = json::array();
  json max_new_json = json::object();
  for (const DatasetSpec& d : datasets) {
    ds_json.push_back({{"name", d.name},
                       {"weight", d.weight},
                       {"task_type", d.task_type},
                       {"tags", d.tags},
                       {"few_shot_num", d.few_shot_num},
                       {"subset_list", d.subset_list}});
    if (d.format != "auto") ds_json.back()["format"] = d.format;  // auto stays out: old keys hold
    if (d.name != "mmlu" || mode == "generative") max_new_json[d.name] = max_new[d.name];
  }
  spec.datasets = std::move(datasets);
  spec.sample_params = {{"datasets", ds_json},
                        {"total_samples", spec.total_samples},
                        {"seed", static_cast<std::int64_t>(spec.seed)},
                        {"mode", mode},
                        {"enable_thinking", enable_thinking},
                        {"prompt_format", kPromptFormatVersion}};
  spec.eval_params = {{"max_new_tokens", max_new_json},
                      {"batch_size", batch_size},
                      {"decoding", "greedy"},
                      {"fidelity", fidelity}};
  return spec;
}

}  // namespace qb::config
