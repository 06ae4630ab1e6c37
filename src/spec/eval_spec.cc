// Rules and canonical JSON of the evaluation specs (see eval_spec.h).
#include "spec/eval_spec.h"

#include <algorithm>
#include <map>
#include <set>

#include <fmt/format.h>

#include "spec/canonical_json.h"
#include "spec/project.h"
#include "spec/tasks.h"
#include "util/suggest.h"

namespace qb::spec {

using nlohmann::json;

void validate_shuffle_seeds(const std::vector<std::int64_t>& seeds, const std::string& path, Issues& out) {
  if (seeds.empty()) out.error(path, "'shuffle_seeds' is empty: list at least one seed (0 is evalscope's order)");
  if (seeds.size() > kMaxShuffleSeeds)
    out.error(path, fmt::format("'shuffle_seeds' lists {} seeds; at most {}", seeds.size(), kMaxShuffleSeeds));
  for (std::size_t k = 0; k < seeds.size(); ++k) {
    if (seeds[k] < 0) {
      out.error(item(path, k), fmt::format("a shuffle seed must be a non-negative integer, got {}", seeds[k]));
      continue;
    }
    const auto first = std::find(seeds.begin(), seeds.begin() + static_cast<std::ptrdiff_t>(k), seeds[k]);
    if (first != seeds.begin() + static_cast<std::ptrdiff_t>(k))
      out.error_with_note(item(path, k), fmt::format("shuffle seed {} is listed twice", seeds[k]),
                          item(path, static_cast<std::size_t>(first - seeds.begin())), "first listed here");
  }
}

DatasetSpec SampleSpec::dataset_defaults(const std::string& name, const std::string& mode) {
  DatasetSpec d;
  d.name = name;
  if (const TaskInfo* t = find_task(name)) d.task_type = std::string(t->task_type);
  d.few_shot_num = default_few_shot_num(name, mode);
  return d;
}

void SampleSpec::validate(Issues& out) const {
  if (datasets.empty()) out.error("datasets", "'datasets' is empty");
  std::map<std::string, std::size_t> seen;  // name → first index
  bool has_mmlu = false;
  for (std::size_t i = 0; i < datasets.size(); ++i) {
    const DatasetSpec& d = datasets[i];
    const std::string at = item("datasets", i);
    const TaskInfo* t = find_task(d.name);
    if (!t) {
      out.error(field(at, "name"), "unknown dataset '" + d.name + "'");
      continue;
    }
    has_mmlu |= d.name == "mmlu";
    if (auto [it, fresh] = seen.emplace(d.name, i); !fresh)
      out.error_with_note(field(at, "name"), fmt::format("dataset '{}' is listed twice", d.name),
                          field(item("datasets", it->second), "name"), "first listed here");
    if (!(d.weight > 0)) out.error(field(at, "weight"), fmt::format("'weight' must be positive, got {}", d.weight));
    if (d.few_shot_num < 0 || d.few_shot_num > t->max_few_shot)
      out.error(field(at, "few_shot_num"),
                d.name == "mmlu"
                    ? fmt::format("few_shot_num {} is too large for mmlu: its dev split has {} questions per subject",
                                  d.few_shot_num, t->max_few_shot)
                    : fmt::format("few_shot_num must be in [0, {}] for {}, got {}", t->max_few_shot, d.name,
                                  d.few_shot_num));
    std::set<std::string> subsets;
    for (std::size_t k = 0; k < d.subset_list.size(); ++k) {
      const std::string& s = d.subset_list[k];
      if (std::find(t->subsets->begin(), t->subsets->end(), s) == t->subsets->end())
        out.error(item(field(at, "subset_list"), k),
                  fmt::format("unknown {} subset '{}'{}", d.name, s,
                              did_you_mean_suffix(s, std::vector<std::string_view>(t->subsets->begin(), t->subsets->end()))));
      else if (!subsets.insert(s).second)
        out.error(item(field(at, "subset_list"), k), fmt::format("subset '{}' is listed twice", s));
    }
    if (d.shuffle_seeds) {
      if (d.name != "gpqa_diamond")
        out.error(field(at, "shuffle_seeds"),
                  fmt::format("'shuffle_seeds' applies to gpqa_diamond only (the benchmark whose answers are "
                              "shuffled), not {}", d.name));
      else
        validate_shuffle_seeds(*d.shuffle_seeds, field(at, "shuffle_seeds"), out);
    }
    if (d.format != "auto" && d.format != "jsonl" && d.format != "csv" && d.format != "parquet")
      out.error(field(at, "format"), "format must be auto, jsonl, csv or parquet");
    if (!std::is_sorted(d.tags.begin(), d.tags.end()) ||
        std::adjacent_find(d.tags.begin(), d.tags.end()) != d.tags.end())
      out.error(field(at, "tags"), "tags must be sorted and unique");
  }
  const bool all_perplexity =
      !datasets.empty() && std::all_of(datasets.begin(), datasets.end(),
                                       [](const DatasetSpec& d) { return is_perplexity_task(d.name); });
  if (all_perplexity) {
    // Perplexity tasks evaluate every document; nothing is drawn.
    if (total_samples != 0)
      out.error("total_samples", "'total_samples' draws nothing here: perplexity tasks evaluate every document");
  } else if (total_samples < 1 || total_samples > kMaxTotalSamples) {
    out.error("total_samples", fmt::format("'total_samples' must be in [1, {}], got {}", kMaxTotalSamples, total_samples));
  }
  if (mode != "generative" && mode != "loglikelihood") out.error("mode", "mode must be generative or loglikelihood");
  if (mode == "loglikelihood" && !has_mmlu && !datasets.empty())
    out.error("mode", "mode 'loglikelihood' applies only to MMLU, and this eval has no mmlu dataset");
  if (prompt_format != kPromptFormatVersion)
    out.error("prompt_format", fmt::format("prompt format '{}' is not this qbuild's ('{}')", prompt_format,
                                           kPromptFormatVersion));
}

json SampleSpec::to_json() const {
  json ds = json::array();
  for (const auto& d : datasets) {
    ds.push_back({{"name", d.name},
                  {"weight", d.weight},
                  {"task_type", d.task_type},
                  {"tags", d.tags},
                  {"few_shot_num", d.few_shot_num},
                  {"subset_list", d.subset_list},
                  {"format", d.format}});
    if (d.shuffle_seeds) ds.back()["shuffle_seeds"] = *d.shuffle_seeds;  // absent: older keys unchanged
  }
  return {{"datasets", ds},
          {"total_samples", total_samples},
          {"seed", seed},
          {"mode", mode},
          {"enable_thinking", enable_thinking},
          {"prompt_format", prompt_format}};
}

Result<SampleSpec> SampleSpec::from_json(const json& j) {
  Issues issues;
  CanonicalReader r(j, "", issues, {"datasets", "total_samples", "seed", "mode", "enable_thinking", "prompt_format"});
  SampleSpec s;
  const json& ds = r.raw("datasets");
  if (!ds.is_array()) issues.error("datasets", "expected a list");
  for (std::size_t i = 0; ds.is_array() && i < ds.size(); ++i) {
    CanonicalReader d(ds[i], item("datasets", i), issues,
                      {"name", "weight", "task_type", "tags", "few_shot_num", "subset_list", "format"},
                      {"shuffle_seeds"});
    DatasetSpec x;
    x.name = d.str("name");
    x.weight = d.f64("weight");
    x.task_type = d.str("task_type");
    x.tags = d.strings("tags");
    x.few_shot_num = d.i64("few_shot_num");
    x.subset_list = d.strings("subset_list");
    x.format = d.str("format");
    if (d.has("shuffle_seeds")) {
      const json& v = d.raw("shuffle_seeds");
      x.shuffle_seeds.emplace();
      if (!v.is_array()) issues.error(d.at("shuffle_seeds"), "expected a list of integers, got " + v.dump());
      for (std::size_t k = 0; v.is_array() && k < v.size(); ++k) {
        if (!v[k].is_number_integer()) {
          issues.error(item(d.at("shuffle_seeds"), k), "expected an integer, got " + v[k].dump());
          continue;
        }
        x.shuffle_seeds->push_back(v[k].get<std::int64_t>());
      }
    }
    s.datasets.push_back(std::move(x));
  }
  s.total_samples = r.i64("total_samples");
  s.seed = r.u64("seed");
  s.mode = r.str("mode");
  s.enable_thinking = r.boolean("enable_thinking");
  s.prompt_format = r.str("prompt_format");
  QB_TRY(issues.to_status("sample spec"));
  return s;
}

void GenerateSpec::validate(Issues& out) const {
  for (const auto& [task, n] : max_new_tokens) {
    if (!find_task(task)) out.error(field("max_new_tokens", task), "unknown task '" + task + "'");
    if (n < 1 || n > kMaxNewTokens)
      out.error(field("max_new_tokens", task),
                fmt::format("'max_new_tokens' must be in [1, {}], got {}", kMaxNewTokens, n));
  }
  if (batch_size < 1 || batch_size > kMaxBatchSize)
    out.error("batch_size", fmt::format("'batch_size' must be in [1, {}], got {}", kMaxBatchSize, batch_size));
  if (decoding != "greedy") out.error("decoding", "only greedy decoding is supported");
  validate_compute(device, compute_dtype, out);
  if (logits != "none" && logits != "keep" && logits != "compare")
    out.error("logits", "logits must be none, keep or compare");
  if (max_length && (*max_length < 0 || *max_length > kMaxContextLength))
    out.error("max_length", fmt::format("'max_length' must be in [1, {}] (or 0: the model's), got {}",
                                        kMaxContextLength, *max_length));
  if (batching != "static" && batching != "continuous")
    out.error("batching", "batching must be static or continuous, got '" + batching + "'");
  if (data_parallel < 1 || data_parallel > kMaxGpuId)
    out.error("data_parallel", fmt::format("'data_parallel' must be in [1, {}], got {}", kMaxGpuId, data_parallel));
}

json GenerateSpec::to_json() const {
  json m = json::object();
  for (const auto& [task, n] : max_new_tokens) m[task] = n;
  json j = {{"max_new_tokens", m},
            {"batch_size", batch_size},
            {"decoding", decoding},
            {"device", device},
            {"compute_dtype", compute_dtype},
            {"logits", logits}};
  if (max_length) j["max_length"] = *max_length;
  if (batching != "static") j["batching"] = batching;  // absent when static: older keys unchanged
  if (data_parallel != 1) j["data_parallel"] = data_parallel;  // absent when 1: likewise
  if (shared_choice_prefill) j["choice_prefill"] = "shared";
  return j;
}

Result<GenerateSpec> GenerateSpec::from_json(const json& j) {
  Issues issues;
  CanonicalReader r(j, "", issues, {"max_new_tokens", "batch_size", "decoding", "device", "compute_dtype", "logits"},
                    {"max_length", "batching", "data_parallel", "choice_prefill"});
  GenerateSpec g;
  const json& m = r.raw("max_new_tokens");
  if (!m.is_object()) issues.error("max_new_tokens", "expected an object");
  else
    for (const auto& [task, n] : m.items()) {
      if (!n.is_number_integer()) issues.error(field("max_new_tokens", task), "expected an integer");
      else g.max_new_tokens[task] = n.get<std::int64_t>();
    }
  g.batch_size = r.i64("batch_size");
  g.decoding = r.str("decoding");
  g.device = r.str("device");
  g.compute_dtype = r.str("compute_dtype");
  g.logits = r.str("logits");
  if (r.has("max_length")) g.max_length = r.i64("max_length");
  if (r.has("batching")) g.batching = r.str("batching");
  if (r.has("data_parallel")) g.data_parallel = r.i64("data_parallel");
  if (r.has("choice_prefill")) {
    if (r.str("choice_prefill") != "shared") issues.error("choice_prefill", "expected \"shared\"");
    g.shared_choice_prefill = true;
  }
  QB_TRY(issues.to_status("generate spec"));
  return g;
}

void ScoreSpec::validate(Issues& out) const {
  if (scorer != kScorerVersion)
    out.error("scorer", fmt::format("scorer '{}' is not this qbuild's ('{}')", scorer, kScorerVersion));
}

json ScoreSpec::to_json() const {
  return {{"scorer", scorer}, {"strip_thinking", strip_thinking}, {"fidelity", fidelity}};
}

Result<ScoreSpec> ScoreSpec::from_json(const json& j) {
  Issues issues;
  CanonicalReader r(j, "", issues, {"scorer", "strip_thinking", "fidelity"});
  ScoreSpec s;
  s.scorer = r.str("scorer");
  s.strip_thinking = r.boolean("strip_thinking");
  s.fidelity = r.boolean("fidelity");
  QB_TRY(issues.to_status("score spec"));
  return s;
}

}  // namespace qb::spec
