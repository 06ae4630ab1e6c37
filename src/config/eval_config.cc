// pipline/3-eval/*.yaml → EvalSpec: the typed specs of its sample, generate and score nodes
// (src/spec/eval_spec.h), so that a change re-runs only what it affects — generation settings
// regenerate but do not re-sample, a scoring setting re-scores without regenerating. Field
// reference: pipline/README.md; every default: the spec structs and the task table
// (src/spec/tasks.h). This file reads YAML and the folders on disk; the rules of the specs
// themselves are their validate(), reported here at the YAML location (LocMap).
#include <algorithm>
#include <filesystem>
#include <map>

#include <fmt/format.h>

#include "config/fields.h"
#include "config/loc_map.h"
#include "config/names.h"
#include "config/parsers.h"
#include "config/sources.h"
#include "spec/tasks.h"
#include "util/dep_log.h"

namespace qb::config {
namespace {

namespace stdfs = std::filesystem;

const std::vector<std::string_view> kTopKeys = {"dataset_name", "datasets", "sampling",   "gpu_resources",
                                                "output",       "generation", "mode",     "fidelity",
                                                "scoring"};
const std::vector<std::string_view> kDatasetKeys = {"name", "weight", "task_type", "tags",
                                                    "few_shot_num", "subset_list", "dataset_dir", "format",
                                                    "shuffle_seeds"};
const std::vector<std::string_view> kSamplingKeys = {"total_samples", "seed"};
const std::vector<std::string_view> kGpuKeys = {"devices", "tensor_parallel_size", "data_parallel"};
const std::vector<std::string_view> kOutputKeys = {"work_dir"};
const std::vector<std::string_view> kGenerationKeys = {"max_new_tokens", "batch_size", "batching",
                                                       "enable_thinking", "do_sample", "max_length"};
const std::vector<std::string_view> kFidelityKeys = {"enabled"};
const std::vector<std::string_view> kScoringKeys = {"strip_thinking"};
const std::vector<std::string_view> kModes = {"generative", "loglikelihood"};
const std::vector<std::string_view> kBatching = {"static", "continuous"};
const std::vector<std::string_view> kFormats = {"auto", "jsonl", "csv", "parquet"};

// Folders qbuild writes itself: a work_dir there would mix eval outputs into them (or into a
// published cache object through data/models/<variant>).
const std::vector<std::string_view> kReservedDirs = {"cache", "data", "logs", "results", "rules", "src"};

std::string join(const std::vector<int>& v) {
  std::string s;
  for (int x : v) s += (s.empty() ? "" : ", ") + std::to_string(x);
  return "[" + s + "]";
}

void sort_unique(std::vector<std::string>& v) {
  std::sort(v.begin(), v.end());
  v.erase(std::unique(v.begin(), v.end()), v.end());
}

struct DatasetIn {
  spec::DatasetSpec spec;
  std::string dir;
};

std::optional<DatasetIn> parse_dataset(FileContext& c, const Node& node, std::size_t index, const std::string& mode) {
  int before = c.diags.error_count();
  MapReader r(c.diags, node, fmt::format("datasets[{}]", index), node.loc, kDatasetKeys);
  if (!r.is_mapping()) return std::nullopt;
  const Node* name = r.require("name");
  if (!name) return std::nullopt;
  auto task = read_enum(c.diags, *name, "name", spec::task_names());
  if (!task) return std::nullopt;
  DatasetIn in;
  spec::DatasetSpec& ds = in.spec;
  ds = spec::SampleSpec::dataset_defaults(*task, mode);
  in.dir = "data/datasets/" + ds.name;
  const Node* dir_node = r.find("dataset_dir");
  if (dir_node) {
    auto d = read_string(c.diags, *dir_node, "dataset_dir");
    if (!d) return std::nullopt;
    in.dir = normalize_rel_path(*d);
  }
  check_dataset_dir(c, dir_node ? *dir_node : *name, in.dir);
  ds.format = r.get_enum("format", kFormats, ds.format).value_or(ds.format);
  if (auto w = r.get_float("weight", ds.weight)) ds.weight = *w;
  ds.task_type = r.get_string("task_type", ds.task_type).value_or("");
  if (const Node* t = r.find("tags")) {
    ds.tags = read_string_list(c.diags, *t, "tags").value_or(std::vector<std::string>{});
    sort_unique(ds.tags);
  }
  if (auto n = r.get_int("few_shot_num", ds.few_shot_num)) ds.few_shot_num = *n;
  if (const Node* s = r.find("subset_list")) {
    if (auto v = read_string_list(c.diags, *s, "subset_list")) {
      ds.subset_list = *v;  // in the given order: evalscope draws the subsets in that order
      const auto* all = spec::find_task(ds.name)->subsets;
      if (ds.subset_list == *all) ds.subset_list.clear();  // the default, spelled out
    }
  }
  if (const Node* s = r.find("shuffle_seeds")) {
    if (auto v = read_int_list(c.diags, *s, "shuffle_seeds")) {
      ds.shuffle_seeds = *v;  // its rules: SampleSpec::validate, at this file's lines
      if (ds.name == "gpqa_diamond" && *v == std::vector<std::int64_t>{0}) ds.shuffle_seeds.reset();  // the default
    }
  }
  if (c.diags.error_count() != before) return std::nullopt;
  return in;
}

// work_dir: a relative folder inside the project, by the same rules as names (no control
// characters), no '..', not through a symlink, not one of qbuild's own folders.
std::string work_dir_problem(FileContext& c, const std::string& raw, const std::string& norm) {
  for (unsigned char ch : raw)
    if (ch < 0x20 || ch == 0x7f) return "contains a control character";
  if (raw.empty()) return "is empty";
  const stdfs::path p(raw);
  if (p.is_absolute()) return "is an absolute path; give a folder inside the project, e.g. 'outputs/demo'";
  for (const auto& part : stdfs::path(norm))
    if (part == "..") return "leaves the project ('..')";
  if (norm == "." ) return "is the project root; give a folder such as 'outputs'";
  const std::string first = stdfs::path(norm).begin()->string();
  for (std::string_view r : kReservedDirs)
    if (first == r) return fmt::format("is inside '{}/', which qbuild manages; use a folder such as 'outputs/...'", r);
  stdfs::path at = c.root;
  for (const auto& part : stdfs::path(norm)) {
    at /= part;
    std::error_code ec;
    fs::DependencyLog::note(at);
    if (stdfs::is_symlink(at, ec)) return fmt::format("goes through the symlink '{}'", at.lexically_relative(c.root).string());
  }
  return "";
}

}  // namespace

EvalSpec parse_eval(FileContext& c, const Node& root, const ProjectSpec& project) {
  MapReader top(c.diags, root, "", c.whole_file(), kTopKeys);
  EvalSpec spec;
  spec.loc = c.whole_file();
  spec.dataset_name = read_name(c, top, "dataset_name", spec.loc);
  spec::SampleSpec& sample = spec.sample;
  spec::GenerateSpec& gen = spec.generate;
  LocMap sample_locs(c.whole_file()), gen_locs(c.whole_file()), score_locs(c.whole_file());
  const int before = c.diags.error_count();

  sample.mode = top.get_enum("mode", kModes, sample.mode).value_or(sample.mode);
  if (const Node* m = top.find("mode")) sample_locs.add("mode", top.find_key("mode"), *m);

  // datasets
  if (const Node* list = top.require("datasets")) {
    sample_locs.add_tree("datasets", top.find_key("datasets"), *list);
    if (!list->is_sequence()) {
      read_string_list(c.diags, *list, "datasets");  // reports "expected a list"
    } else if (list->items.empty()) {
      c.diags.error(list->loc, "'datasets' is empty");
    } else {
      for (std::size_t i = 0; i < list->items.size(); ++i) {
        auto ds = parse_dataset(c, list->items[i], i, sample.mode);
        if (!ds) continue;
        sample.datasets.push_back(std::move(ds->spec));
        spec.dataset_dirs.push_back(std::move(ds->dir));
      }
    }
  }
  const bool has_mmlu = std::any_of(sample.datasets.begin(), sample.datasets.end(),
                                    [](const spec::DatasetSpec& d) { return d.name == "mmlu"; });
  if (sample.mode == "loglikelihood" && !has_mmlu && !sample.datasets.empty()) {
    c.diags.warning(top.find("mode")->loc,
                    "mode 'loglikelihood' applies only to MMLU, and this eval has no mmlu dataset");
  }
  if (!has_mmlu) sample.mode = "generative";  // mode changes nothing without MMLU: one canonical form

  // sampling (optional when every dataset is a perplexity task: those evaluate every document)
  const bool all_perplexity =
      !sample.datasets.empty() && std::all_of(sample.datasets.begin(), sample.datasets.end(),
                                              [](const spec::DatasetSpec& d) { return spec::is_perplexity_task(d.name); });
  if (const Node* s = all_perplexity ? top.find("sampling") : top.require("sampling")) {
    MapReader r(c.diags, *s, "sampling", top.find_key("sampling")->loc, kSamplingKeys);
    if (r.is_mapping() && (all_perplexity ? r.find("total_samples") != nullptr : r.require("total_samples") != nullptr))
      sample.total_samples = r.get_int("total_samples", std::nullopt).value_or(1);
    sample.seed = static_cast<std::uint64_t>(r.get_non_negative_int("seed", 42).value_or(0));
    if (const Node* t = r.find("total_samples")) sample_locs.add("total_samples", r.find_key("total_samples"), *t);
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
              std::find(project.devices.begin(), project.devices.end(), id) == project.devices.end()) {
            c.diags.error(d->items[i].loc, fmt::format("GPU {} is not among the project's devices {} ({})", id,
                                                       join(project.devices), c.project_file));
          } else {
            spec.devices.push_back(id);
          }
        }
        if (project.devices.empty() && !spec.devices.empty()) {
          c.diags.warning(r.find_key("devices")->loc,
                          fmt::format("'devices' is ignored: the project runs on the CPU (no devices in {})",
                                      c.project_file));
          spec.devices.clear();
        }
      }
    }
    // data_parallel: N worker processes split each generate node's items, one per GPU, so it
    // needs N of the devices this eval may use (its own list, else the project's). On a CPU
    // project the N workers share the cores (each gets its share of the step's threads).
    if (const Node* n = r.find("data_parallel")) {
      if (auto v = r.get_positive_int("data_parallel", 1)) {
        gen.data_parallel = *v;
        gen_locs.add("data_parallel", r.find_key("data_parallel"), *n);
        const std::size_t usable = !spec.devices.empty() ? spec.devices.size() : project.devices.size();
        if (!project.devices.empty() && static_cast<std::size_t>(*v) > usable)
          c.diags.error(n->loc, fmt::format("data_parallel {} needs {} GPUs, but this eval may use only {} ({})", *v,
                                            *v, join(!spec.devices.empty() ? spec.devices : project.devices),
                                            !spec.devices.empty() ? "its 'devices'" : "the devices of " + c.project_file));
      }
    }
  }

  // output
  spec.work_dir = "outputs";
  if (const Node* o = top.find("output")) {
    MapReader r(c.diags, *o, "output", top.find_key("output")->loc, kOutputKeys);
    if (const Node* w = r.find("work_dir")) {
      if (auto raw = read_string(c.diags, *w, "work_dir")) {
        spec.work_dir = normalize_rel_path(*raw);
        if (std::string why = work_dir_problem(c, *raw, spec.work_dir); !why.empty())
          c.diags.error(w->loc, fmt::format("unsafe work_dir '{}': it {}", printable(*raw), why));
      }
    }
  }

  // generation
  for (const auto& d : sample.datasets)
    if (spec::generates_text(d.name, sample.mode))
      gen.max_new_tokens[d.name] = spec::find_task(d.name)->max_new_tokens;
  // lm-eval's max_length applies to its multiple-choice and perplexity tasks (0: the model's).
  if (std::any_of(sample.datasets.begin(), sample.datasets.end(), [](const spec::DatasetSpec& d) {
        return spec::find_task(d.name)->kind != spec::TaskKind::kGenerative;
      }))
    gen.max_length = 0;
  // Multiple-choice items: their choices share one context prefill (spec/eval_spec.h says why
  // this is in the key).
  gen.shared_choice_prefill = sample.mode == "loglikelihood" ||
                              std::any_of(sample.datasets.begin(), sample.datasets.end(), [](const spec::DatasetSpec& d) {
                                return spec::find_task(d.name)->kind == spec::TaskKind::kMultipleChoice;
                              });
  gen.device = project.device;  // both change the outputs: part of the key
  gen.compute_dtype = project.compute_dtype;
  if (const Node* g = top.find("generation")) {
    MapReader r(c.diags, *g, "generation", top.find_key("generation")->loc, kGenerationKeys);
    if (const Node* m = r.find("max_new_tokens")) {
      if (m->is_mapping()) {
        MapReader per_task(c.diags, *m, "max_new_tokens", r.find_key("max_new_tokens")->loc, spec::task_names());
        for (auto& [task, n] : gen.max_new_tokens)
          if (auto v = per_task.get_int(task, std::nullopt)) {
            n = *v;
            gen_locs.add(spec::field("max_new_tokens", task), per_task.find_key(task), *per_task.find(task));
          }
      } else if (auto v = r.get_int("max_new_tokens", std::nullopt)) {
        for (auto& [task, n] : gen.max_new_tokens) {
          n = *v;
          gen_locs.add(spec::field("max_new_tokens", task), r.find_key("max_new_tokens"), *m);
        }
      }
    }
    if (auto b = r.get_int("batch_size", gen.batch_size)) gen.batch_size = *b;
    if (const Node* m = r.find("max_length")) {
      if (!gen.max_length)
        c.diags.warning(m->loc, "'max_length' is ignored: it applies to the lm-eval multiple-choice and perplexity tasks");
      else if (auto v = r.get_int("max_length", 0)) {
        gen.max_length = *v;
        gen_locs.add("max_length", r.find_key("max_length"), *m);
      }
    }
    if (const Node* b = r.find("batch_size")) gen_locs.add("batch_size", r.find_key("batch_size"), *b);
    if (auto b = r.get_enum("batching", kBatching, gen.batching)) gen.batching = *b;
    if (const Node* b = r.find("batching")) gen_locs.add("batching", r.find_key("batching"), *b);
    sample.enable_thinking = r.get_bool("enable_thinking", sample.enable_thinking).value_or(false);
    if (r.get_bool("do_sample", false).value_or(false)) {
      c.diags.error(r.find("do_sample")->loc,
                    "'do_sample: true' is not supported: only greedy decoding (do_sample: false)");
    }
  }

  // fidelity (against the base model) and scoring
  if (const Node* f = top.find("fidelity")) {
    MapReader r(c.diags, *f, "fidelity", top.find_key("fidelity")->loc, kFidelityKeys);
    spec.score.fidelity = r.get_bool("enabled", spec.score.fidelity).value_or(true);
  }
  if (const Node* s = top.find("scoring")) {
    MapReader r(c.diags, *s, "scoring", top.find_key("scoring")->loc, kScoringKeys);
    score_locs.add_tree("", top.find_key("scoring"), *s);
    spec.score.strip_thinking = r.get_bool("strip_thinking", spec.score.strip_thinking).value_or(true);
  }

  if (c.diags.error_count() != before) return spec;
  spec::Issues sample_issues, gen_issues, score_issues;
  sample.validate(sample_issues);
  gen.validate(gen_issues);
  spec.score.validate(score_issues);
  sample_locs.report(sample_issues, c.diags);
  gen_locs.report(gen_issues, c.diags);
  score_locs.report(score_issues, c.diags);
  return spec;
}

}  // namespace qb::config
