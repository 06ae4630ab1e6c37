// Building, reading, scoring and reporting the frozen eval set (see eval_set.h).
#include "steps/eval/eval_set.h"

#include "spec/eval_spec.h"
#include "spec/tasks.h"

#include <cmath>
#include <map>
#include <set>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "steps/eval/choice_answer.h"
#include "steps/eval/dataset.h"
#include "steps/eval/lm_eval_tasks.h"
#include "steps/eval/gpqa.h"
#include "steps/eval/math_answer.h"
#include "steps/eval/mmlu_pro.h"
#include "steps/eval/prompts.h"
#include "util/py_random.h"
#include "steps/eval/rows.h"
#include "util/fs.h"
#include "util/json_parse.h"

namespace qb::eval {

namespace stdfs = std::filesystem;

const std::vector<std::string>& mmlu_subjects() { return spec::mmlu_subjects(); }

int default_few_shot_num(std::string_view dataset, std::string_view prompt_style) {
  return static_cast<int>(spec::default_few_shot_num(dataset, prompt_style));
}

namespace {

struct Args {
  stdfs::path dir;
  FileFormat format = FileFormat::kAuto;
  std::vector<std::string> subset_list;  // empty: the default
  int few_shot_num = 0;
  std::string prompt_style = "generative";
  bool chat_template = true;
  std::optional<std::vector<int64_t>> shuffle_seeds;  // gpqa_diamond; nullopt: evalscope's order only
};

Result<Args> parse_args(const FlatDataset& d, const stdfs::path& root) {
  static const std::set<std::string> kKnown = {"dataset_dir", "format", "subset_list", "few_shot_num",
                                               "prompt_style", "apply_chat_template", "shuffle_seeds"};
  const std::string ctx = "dataset '" + d.name + "' args";
  Args a;
  bool few_shot_given = false;
  a.dir = root / d.name;
  for (const auto& [key, v] : d.args.items()) {
    if (!kKnown.count(key)) {
      return invalid_argument(fmt::format("{}: unknown option '{}' (known: dataset_dir, format, subset_list, "
                                          "few_shot_num, prompt_style, apply_chat_template, shuffle_seeds)", ctx, key));
    }
  }
  if (auto it = d.args.find("dataset_dir"); it != d.args.end()) {
    if (!it->is_string()) return invalid_argument(ctx + ": dataset_dir: expected a string");
    stdfs::path p = it->get<std::string>();
    a.dir = p.is_absolute() ? p : root / p;
  }
  if (auto it = d.args.find("format"); it != d.args.end()) {
    if (!it->is_string()) return invalid_argument(ctx + ": format: expected a string");
    QB_ASSIGN_OR_RETURN_CTX(a.format, parse_format(it->get<std::string>()), ctx);
  }
  if (auto it = d.args.find("subset_list"); it != d.args.end()) {
    if (!it->is_array()) return invalid_argument(ctx + ": subset_list: expected a list of strings");
    for (const auto& s : *it) {
      if (!s.is_string()) return invalid_argument(ctx + ": subset_list: expected a list of strings");
      a.subset_list.push_back(s.get<std::string>());
    }
  }
  if (auto it = d.args.find("few_shot_num"); it != d.args.end()) {
    if (!it->is_number_integer() || it->get<int64_t>() < 0 || it->get<int64_t>() > 100) {
      return invalid_argument(ctx + ": few_shot_num: expected an integer 0..100, got " + it->dump());
    }
    a.few_shot_num = it->get<int>();
    few_shot_given = true;
  }
  if (auto it = d.args.find("prompt_style"); it != d.args.end()) {
    if (!it->is_string() || (*it != "generative" && *it != "loglikelihood")) {
      return invalid_argument(ctx + ": prompt_style: expected \"generative\" or \"loglikelihood\", got " + it->dump());
    }
    a.prompt_style = it->get<std::string>();
    if (a.prompt_style == "loglikelihood" && d.name != "mmlu") {
      return invalid_argument(ctx + ": prompt_style: loglikelihood scoring is defined for mmlu only");
    }
  }
  if (auto it = d.args.find("shuffle_seeds"); it != d.args.end()) {
    if (d.name != "gpqa_diamond")
      return invalid_argument(ctx + ": shuffle_seeds: applies to gpqa_diamond only (the benchmark whose answers are "
                                    "shuffled)");
    if (!it->is_array()) return invalid_argument(ctx + ": shuffle_seeds: expected a list of integers, got " + it->dump());
    a.shuffle_seeds.emplace();
    for (const auto& v : *it) {
      if (!v.is_number_integer())
        return invalid_argument(ctx + ": shuffle_seeds: expected a list of integers, got " + it->dump());
      a.shuffle_seeds->push_back(v.get<int64_t>());
    }
    spec::Issues issues;  // the spec's rules (SampleSpec::validate applies the same)
    spec::validate_shuffle_seeds(*a.shuffle_seeds, "shuffle_seeds", issues);
    QB_TRY(issues.to_status(ctx));
  }
  if (!few_shot_given) a.few_shot_num = default_few_shot_num(d.name, a.prompt_style);
  a.chat_template = a.prompt_style == "generative";
  if (auto it = d.args.find("apply_chat_template"); it != d.args.end()) {
    if (!it->is_boolean()) return invalid_argument(ctx + ": apply_chat_template: expected true or false");
    a.chat_template = it->get<bool>();
  }
  return a;
}

EvalEntry common_entry(const FlatDataset& d, const Args& a) {
  EvalEntry e;
  e.dataset_name = d.name;
  e.task_type = d.task_type;
  e.tags = d.tags;
  e.categories = d.hierarchy;
  e.prompt_style = a.prompt_style;
  e.chat_template = a.chat_template;
  return e;
}

// How many items a dataset gives: evalscope's sampler takes every item when asked for more than
// there are. Said in the build output, since the eval set is then smaller than total_samples.
int64_t drawn(int64_t count, size_t available, std::string_view dataset) {
  const auto n = static_cast<int64_t>(available);
  if (count > n)
    spdlog::warn("{}: {} items asked for, the data has {}: all {} are used (the eval set is smaller than "
                 "total_samples)",
                 dataset, count, n, n);
  return std::min(count, n);
}

Status sample_mmlu(const FlatDataset& d, const Args& a, int64_t count, PyRandom& rng, std::vector<EvalEntry>& out) {
  QB_ASSIGN_OR_RETURN(std::vector<MmluItem> test, load_mmlu(a.dir, "test", a.format));
  std::vector<MmluItem> dev;
  if (a.few_shot_num > 0) {
    QB_ASSIGN_OR_RETURN(dev, load_mmlu(a.dir, "dev", a.format));
  }
  std::map<std::string, std::vector<const MmluItem*>> by_subject, dev_by_subject;
  for (const auto& it : test) by_subject[it.subject].push_back(&it);
  for (const auto& it : dev) dev_by_subject[it.subject].push_back(&it);
  // evalscope keys subsets by name in subset_list order (DatasetDict.from_dataset): a name listed
  // twice is one subset, where it first appears. The order is never sorted: it decides the draw.
  std::vector<std::string> subsets;
  for (const auto& s : a.subset_list) {
    if (std::find(subsets.begin(), subsets.end(), s) == subsets.end()) subsets.push_back(s);
  }
  if (subsets.empty()) {
    for (const auto& s : mmlu_subjects()) {
      if (by_subject.count(s)) subsets.push_back(s);
    }
    for (const auto& [s, items] : by_subject) {
      if (std::find(mmlu_subjects().begin(), mmlu_subjects().end(), s) == mmlu_subjects().end()) {
        spdlog::warn("mmlu: subject '{}' ({} items) is not one of MMLU's 57 and no subset_list names it: skipped", s,
                     items.size());
      }
    }
  } else {
    for (const auto& s : subsets) {
      if (!by_subject.count(s)) {
        return invalid_argument(fmt::format("dataset 'mmlu' args: subset_list: no test items for subject '{}' in {}",
                                            s, a.dir.string()));
      }
    }
  }
  // Population in evalscope's order: subsets as listed, items in file order.
  struct Member {
    const MmluItem* item;
    int64_t subset_id;
  };
  std::vector<Member> population;
  for (const auto& s : subsets) {
    const auto& items = by_subject[s];
    if (a.few_shot_num > 0 && dev_by_subject[s].size() < static_cast<size_t>(a.few_shot_num)) {
      return invalid_argument(fmt::format("dataset 'mmlu': subject '{}' has {} dev items, few_shot_num is {}", s,
                                          dev_by_subject[s].size(), a.few_shot_num));
    }
    for (size_t k = 0; k < items.size(); ++k) population.push_back({items[k], static_cast<int64_t>(k)});
  }
  const int64_t k = drawn(count, population.size(), "mmlu");
  if (k == 0) return Status::ok();
  for (uint64_t j : rng.sample(population.size(), static_cast<uint64_t>(k))) {
    const MmluItem& q = *population[j].item;
    std::vector<const MmluItem*> shots;
    const auto& pool = dev_by_subject[q.subject];
    for (int s = 0; s < a.few_shot_num; ++s) shots.push_back(pool[s]);
    EvalEntry e = common_entry(d, a);
    e.subset_name = q.subject;
    e.weight = d.weight / static_cast<double>(k);
    e.gold = std::string(1, static_cast<char>('A' + q.answer));
    e.choices.assign(q.choices.begin(), q.choices.end());
    e.subset_id = population[j].subset_id;
    e.record_index = q.index;
    e.source = q.where;
    for (const auto* s : shots) e.fewshot_indices.push_back(s->index);
    e.metadata = {{"subject", q.subject}};
    if (a.prompt_style == "generative") {
      e.prompt = mmlu_generative_prompt(q, shots);
    } else {
      LoglikelihoodPrompt p = mmlu_loglikelihood_prompt(q, shots);
      e.prompt = p.context;
      e.continuations.assign(p.continuations.begin(), p.continuations.end());
    }
    out.push_back(std::move(e));
  }
  return Status::ok();
}

// GPQA-Diamond (gpqa.h): every row of the train split in file order, one subset "default". With
// shuffle_seeds, each drawn question becomes one item per seed (in the seeds' order, right after
// one another), its answers in that seed's order and metadata {"shuffle_seed": k}; the draw
// itself is the same as without (the seeds multiply the items, not the questions).
Status sample_gpqa_diamond(const FlatDataset& d, const Args& a, int64_t count, PyRandom& rng,
                           std::vector<EvalEntry>& out) {
  if (!a.subset_list.empty() && !(a.subset_list.size() == 1 && a.subset_list[0] == "default"))
    return invalid_argument("dataset 'gpqa_diamond' args: subset_list: gpqa_diamond has one subset, \"default\"");
  if (a.few_shot_num != 0)
    return invalid_argument("dataset 'gpqa_diamond': few-shot prompts are not supported (evalscope's default is "
                            "zero-shot)");
  QB_ASSIGN_OR_RETURN(SplitFiles sf, find_hf_split(a.dir, "default", "train", a.format));
  QB_ASSIGN_OR_RETURN(std::vector<Row> rows, read_split_rows(a.dir, sf));
  if (rows.empty()) return invalid_argument(fmt::format("dataset 'gpqa_diamond': no rows in {}", a.dir.string()));
  // An answer: a string, or null (the adapter's preprocess turns None into ' ').
  auto answer = [](const Row& row, const char* name, std::optional<std::string>& v) -> Status {
    auto it = row.fields.find(name);
    if (it == row.fields.end()) return invalid_argument(fmt::format("{}: missing field '{}'", row.where, name));
    if (it->is_null()) return Status::ok();
    if (!it->is_string())
      return invalid_argument(fmt::format("{}: field '{}': expected a string or null, got {}", row.where, name,
                                          it->dump()));
    v = it->get<std::string>();
    return Status::ok();
  };
  const int64_t k = drawn(count, rows.size(), "gpqa_diamond");
  if (k == 0) return Status::ok();
  const std::vector<int64_t> seeds = a.shuffle_seeds.value_or(std::vector<int64_t>{0});
  for (uint64_t j : rng.sample(rows.size(), static_cast<uint64_t>(k))) {
    const Row& row = rows[j];
    QB_ASSIGN_OR_RETURN(std::string question, str_field(row, "Question"));
    std::optional<std::string> correct, wrong[3];
    QB_TRY(answer(row, "Correct Answer", correct));
    QB_TRY(answer(row, "Incorrect Answer 1", wrong[0]));
    QB_TRY(answer(row, "Incorrect Answer 2", wrong[1]));
    QB_TRY(answer(row, "Incorrect Answer 3", wrong[2]));
    auto ptr = [](const std::optional<std::string>& o) { return o ? &*o : nullptr; };
    for (const int64_t seed : seeds) {
      const GpqaChoices g =
          gpqa_shuffle(question, ptr(correct), {ptr(wrong[0]), ptr(wrong[1]), ptr(wrong[2])}, seed);
      EvalEntry e = common_entry(d, a);
      e.subset_name = "default";
      e.weight = d.weight / static_cast<double>(k * static_cast<int64_t>(seeds.size()));
      if (a.shuffle_seeds) e.metadata = {{"shuffle_seed", seed}};
      e.gold = std::string(1, static_cast<char>('A' + g.gold));
      e.choices = g.choices;
      e.subset_id = static_cast<int64_t>(j);
      e.record_index = static_cast<int64_t>(j);
      e.source = row.where;
      std::string choices;
      for (size_t i = 0; i < g.choices.size(); ++i)
        choices += (i ? "\n" : "") + std::string(1, static_cast<char>('A' + i)) + ") " + g.choices[i];
      e.prompt =
          format_template(kMmluTemplateCot, {{"question", question}, {"choices", choices}, {"letters", "A,B,C,D"}});
      out.push_back(std::move(e));
    }
  }
  return Status::ok();
}

// MATH-500 as evalscope 1.12.0's Math500Adapter: HuggingFaceH4/MATH-500's test.jsonl (problem,
// answer, level, unique_id, ...), subsets "Level 1".."Level 5" (reformat_subset: one split
// grouped by level, file order within each), zero-shot (no train split), its prompt_template;
// scored as GSM8K (extract_answer, math_equal against strip_answer_string(answer)).
Status sample_math_500(const FlatDataset& d, const Args& a, int64_t count, PyRandom& rng,
                       std::vector<EvalEntry>& out) {
  if (a.few_shot_num != 0)
    return invalid_argument("dataset 'math_500': few-shot prompts are not supported (evalscope's MATH-500 has no "
                            "train split)");
  QB_ASSIGN_OR_RETURN(SplitFiles sf, find_hf_split(a.dir, "default", "test", a.format));
  QB_ASSIGN_OR_RETURN(std::vector<Row> rows, read_split_rows(a.dir, sf));
  struct Problem {
    int64_t index;
    std::string where, problem, answer, level;
    nlohmann::json id;
  };
  std::map<std::string, std::vector<Problem>> by_level;
  for (size_t i = 0; i < rows.size(); ++i) {
    const Row& row = rows[i];
    Problem p{static_cast<int64_t>(i), row.where, "", "", "", nullptr};
    QB_ASSIGN_OR_RETURN(p.problem, str_field(row, "problem"));
    QB_ASSIGN_OR_RETURN(p.answer, str_field(row, "answer"));
    auto lv = row.fields.find("level");
    if (lv == row.fields.end()) return invalid_argument(fmt::format("{}: missing field 'level'", row.where));
    if (lv->is_number_integer()) p.level = "Level " + std::to_string(lv->get<int64_t>());
    else if (lv->is_string()) p.level = "Level " + lv->get<std::string>();  // f'Level {record["level"]}'
    else return invalid_argument(fmt::format("{}: field 'level': expected 1..5, got {}", row.where, lv->dump()));
    if (auto id = row.fields.find("unique_id"); id != row.fields.end()) p.id = *id;
    by_level[p.level].push_back(std::move(p));
  }
  std::vector<std::string> subsets;
  for (const auto& s : a.subset_list.empty() ? *spec::find_task("math_500")->subsets : a.subset_list)
    if (std::find(subsets.begin(), subsets.end(), s) == subsets.end()) subsets.push_back(s);
  struct Member {
    const Problem* p;
    int64_t subset_id;
  };
  std::vector<Member> population;
  for (const auto& s : subsets) {
    const auto& items = by_level[s];
    for (size_t k = 0; k < items.size(); ++k) population.push_back({&items[k], static_cast<int64_t>(k)});
  }
  if (population.empty())
    return invalid_argument(fmt::format("dataset 'math_500': no test items in the levels asked for in {}",
                                        a.dir.string()));
  const int64_t k = drawn(count, population.size(), "math_500");
  if (k == 0) return Status::ok();
  for (uint64_t j : rng.sample(population.size(), static_cast<uint64_t>(k))) {
    const Problem& q = *population[j].p;
    EvalEntry e = common_entry(d, a);
    e.subset_name = q.level;
    e.weight = d.weight / static_cast<double>(k);
    e.gold = q.answer;
    e.subset_id = population[j].subset_id;
    e.record_index = q.index;
    e.source = q.where;
    e.metadata = {{"question_id", q.id}};
    e.prompt = q.problem + "\nPlease reason step by step, and put your final answer within \\boxed{}.";
    out.push_back(std::move(e));
  }
  return Status::ok();
}

// MMLU-Pro (mmlu_pro.h): evalscope's subsets (SUBSET_LIST or subset_list, in that order), items in
// file order within each; the first few_shot_num validation items of the item's subset.
Status sample_mmlu_pro(const FlatDataset& d, const Args& a, int64_t count, PyRandom& rng,
                       std::vector<EvalEntry>& out) {
  QB_ASSIGN_OR_RETURN(std::vector<MmluProItem> test, load_mmlu_pro(a.dir, "test", a.format));
  std::vector<MmluProItem> val;
  if (a.few_shot_num > 0) {
    QB_ASSIGN_OR_RETURN(val, load_mmlu_pro(a.dir, "validation", a.format));
  }
  std::map<std::string, std::vector<const MmluProItem*>> by_subject, val_by_subject;
  for (const auto& it : test) by_subject[it.category].push_back(&it);
  for (const auto& it : val) val_by_subject[it.category].push_back(&it);
  std::vector<std::string> subsets;
  for (const auto& s : a.subset_list.empty() ? mmlu_pro_subjects() : a.subset_list)
    if (std::find(subsets.begin(), subsets.end(), s) == subsets.end()) subsets.push_back(s);
  if (a.subset_list.empty()) {
    for (const auto& [s, items] : by_subject)
      if (std::find(subsets.begin(), subsets.end(), s) == subsets.end())
        spdlog::warn("mmlu_pro: category '{}' ({} items) is not one of MMLU-Pro's 14 and no subset_list names it: "
                     "skipped", s, items.size());
  }
  struct Member {
    const MmluProItem* item;
    int64_t subset_id;
  };
  std::vector<Member> population;
  for (const auto& s : subsets) {
    const auto& items = by_subject[s];
    if (!items.empty() && val_by_subject[s].size() < static_cast<size_t>(a.few_shot_num))
      return invalid_argument(fmt::format("dataset 'mmlu_pro': subject '{}' has {} validation items, few_shot_num is {}",
                                          s, val_by_subject[s].size(), a.few_shot_num));
    for (size_t k = 0; k < items.size(); ++k) population.push_back({items[k], static_cast<int64_t>(k)});
  }
  if (population.empty())
    return invalid_argument(fmt::format("dataset 'mmlu_pro': no test items in the subsets asked for in {}",
                                        a.dir.string()));
  const int64_t k = drawn(count, population.size(), "mmlu_pro");
  if (k == 0) return Status::ok();
  for (uint64_t j : rng.sample(population.size(), static_cast<uint64_t>(k))) {
    const MmluProItem& q = *population[j].item;
    std::vector<const MmluProItem*> shots;
    for (int s = 0; s < a.few_shot_num; ++s) shots.push_back(val_by_subject[q.category][s]);
    EvalEntry e = common_entry(d, a);
    e.subset_name = q.category;
    e.weight = d.weight / static_cast<double>(k);
    e.gold = std::string(1, static_cast<char>('A' + q.answer));
    e.choices = q.options;
    e.subset_id = population[j].subset_id;
    e.record_index = q.index;
    e.source = q.where;
    for (const auto* s : shots) e.fewshot_indices.push_back(s->index);
    e.metadata = {{"subject", q.category}, {"question_id", q.question_id}};
    e.prompt = mmlu_pro_prompt(q, shots);
    out.push_back(std::move(e));
  }
  return Status::ok();
}

Status sample_gsm8k(const FlatDataset& d, const Args& a, int64_t count, PyRandom& rng, std::vector<EvalEntry>& out) {
  if (!a.subset_list.empty() && !(a.subset_list.size() == 1 && a.subset_list[0] == "main")) {
    return invalid_argument("dataset 'gsm8k' args: subset_list: gsm8k has one subset, \"main\"");
  }
  QB_ASSIGN_OR_RETURN(std::vector<Gsm8kItem> test, load_gsm8k(a.dir, "test", a.format));
  std::vector<Gsm8kItem> train;
  if (a.few_shot_num > 0) {
    QB_ASSIGN_OR_RETURN(train, load_gsm8k(a.dir, "train", a.format));
    if (train.size() < static_cast<size_t>(a.few_shot_num)) {
      return invalid_argument(fmt::format("dataset 'gsm8k': {} train items, few_shot_num is {}", train.size(),
                                          a.few_shot_num));
    }
  }
  std::vector<const Gsm8kItem*> shots;
  for (int s = 0; s < a.few_shot_num; ++s) shots.push_back(&train[s]);
  const int64_t k = drawn(count, test.size(), "gsm8k");
  if (k == 0) return Status::ok();
  for (uint64_t j : rng.sample(test.size(), static_cast<uint64_t>(k))) {
    const Gsm8kItem& q = test[j];
    EvalEntry e = common_entry(d, a);
    e.subset_name = "main";
    e.weight = d.weight / static_cast<double>(k);
    e.gold = q.target;
    e.subset_id = q.index;
    e.record_index = q.index;
    e.source = q.where;
    for (const auto* s : shots) e.fewshot_indices.push_back(s->index);
    e.metadata = {{"reasoning", q.reasoning}};
    e.prompt = gsm8k_prompt(q, shots);
    out.push_back(std::move(e));
  }
  return Status::ok();
}

// lm-eval multiple-choice tasks: drawn like the others (evalscope's sampler over the split in
// file order), requests built as the harness builds them (lm_eval_tasks.h).
Status sample_choice_task(const FlatDataset& d, const Args& a, int64_t count, PyRandom& rng,
                          std::vector<EvalEntry>& out) {
  const TaskSplit ts = lm_eval_split(d.name);
  if (!a.subset_list.empty() && !(a.subset_list.size() == 1 && a.subset_list[0] == ts.config))
    return invalid_argument(fmt::format("dataset '{}' args: subset_list: {} has one subset, \"{}\"", d.name, d.name,
                                        ts.config));
  if (a.few_shot_num != 0)
    return invalid_argument(fmt::format("dataset '{}': few-shot prompts are not supported for lm-eval tasks (the "
                                        "harness's default is zero-shot)", d.name));
  QB_ASSIGN_OR_RETURN(std::vector<ChoiceDoc> docs, load_choice_docs(a.dir, d.name, a.format));
  const int64_t k = drawn(count, docs.size(), d.name);
  if (k == 0) return Status::ok();
  for (uint64_t j : rng.sample(docs.size(), static_cast<uint64_t>(k))) {
    ChoiceDoc& q = docs[j];
    EvalEntry e = common_entry(d, a);
    e.prompt_style = "loglikelihood";
    e.chat_template = false;
    e.subset_name = std::string(ts.config);
    e.weight = d.weight / static_cast<double>(k);
    e.gold = std::to_string(q.gold);
    e.prompt = q.contexts[0];
    if (q.contexts.size() > 1) e.contexts = q.contexts;
    e.continuations = q.continuations;
    e.choices = q.choices;
    e.subset_id = q.index;
    e.record_index = q.index;
    e.source = q.where;
    e.metadata = q.metadata;
    out.push_back(std::move(e));
  }
  return Status::ok();
}

}  // namespace

Result<std::vector<EvalEntry>> perplexity_entries(const std::string& task, const std::filesystem::path& dir,
                                                  FileFormat format, const std::string& task_type,
                                                  const std::vector<std::string>& tags,
                                                  const std::vector<std::string>& categories) {
  QB_ASSIGN_OR_RETURN_CTX(std::vector<PerplexityDoc> docs, load_perplexity_docs(dir, task, format),
                          "dataset '" + task + "'");
  std::vector<EvalEntry> out;
  for (auto& doc : docs) {
    EvalEntry e;
    e.dataset_name = task;
    e.subset_name = std::string(lm_eval_split(task).config);
    e.task_type = task_type;
    e.tags = tags;
    e.categories = categories;
    e.weight = 1.0 / static_cast<double>(docs.size());
    e.prompt_style = "rolling";
    e.chat_template = false;
    e.prompt = std::move(doc.text);
    e.subset_id = doc.index;
    e.record_index = doc.index;
    e.source = doc.where;
    e.metadata = {{"words", doc.words}, {"bytes", doc.bytes}};
    out.push_back(std::move(e));
  }
  return out;
}

Result<std::vector<EvalEntry>> build_eval_set(const CollectionNode& schema, const SampleOptions& opts) {
  QB_ASSIGN_OR_RETURN(std::vector<FlatDataset> flat, flatten(schema));
  QB_ASSIGN_OR_RETURN(std::vector<int64_t> counts, weighted_counts(flat, opts.total));
  PyRandom rng(opts.seed);
  std::vector<EvalEntry> out;
  for (size_t i = 0; i < flat.size(); ++i) {
    const FlatDataset& d = flat[i];
    QB_ASSIGN_OR_RETURN(Args a, parse_args(d, opts.datasets_root));
    if (d.name == "mmlu") {
      QB_TRY_CTX(sample_mmlu(d, a, counts[i], rng, out), "sampling mmlu");
    } else if (d.name == "gsm8k") {
      QB_TRY_CTX(sample_gsm8k(d, a, counts[i], rng, out), "sampling gsm8k");
    } else if (d.name == "gpqa_diamond") {
      QB_TRY_CTX(sample_gpqa_diamond(d, a, counts[i], rng, out), "sampling gpqa_diamond");
    } else if (d.name == "math_500") {
      QB_TRY_CTX(sample_math_500(d, a, counts[i], rng, out), "sampling math_500");
    } else if (d.name == "mmlu_pro") {
      QB_TRY_CTX(sample_mmlu_pro(d, a, counts[i], rng, out), "sampling mmlu_pro");
    } else if (const auto* t = spec::find_task(d.name); t && t->kind == spec::TaskKind::kMultipleChoice) {
      QB_TRY_CTX(sample_choice_task(d, a, counts[i], rng, out), "sampling " + d.name);
    } else {
      return invalid_argument(fmt::format("dataset '{}': unknown benchmark (qbuild knows mmlu, gsm8k, mmlu_pro, math_500, gpqa_diamond and the lm-eval tasks of spec/tasks.h)", d.name));
    }
  }
  for (size_t i = 0; i < out.size(); ++i) out[i].index = static_cast<int64_t>(i);
  return out;
}

nlohmann::ordered_json EvalEntry::to_json() const {
  nlohmann::ordered_json sample;
  sample["input"] = nlohmann::ordered_json::array({{{"role", "user"}, {"content", prompt}}});
  if (!choices.empty()) sample["choices"] = choices;
  sample["target"] = gold;
  sample["id"] = subset_id;
  sample["group_id"] = subset_id;
  if (dataset_name == "mmlu" || dataset_name == "mmlu_pro" || dataset_name == "math_500")
    sample["subset_key"] = subset_name;
  sample["metadata"] = metadata;
  nlohmann::ordered_json j;
  j["index"] = index;
  j["prompt"] = std::move(sample);
  j["tags"] = tags;
  j["categories"] = categories;
  j["task_type"] = task_type;
  j["weight"] = weight;
  j["dataset_name"] = dataset_name;
  j["subset_name"] = subset_name;
  j["gold"] = gold;
  j["prompt_style"] = prompt_style;
  j["chat_template"] = chat_template;
  if (!contexts.empty()) j["contexts"] = contexts;
  if (!continuations.empty()) j["continuations"] = continuations;
  j["record_index"] = record_index;
  j["source"] = source;
  j["fewshot_indices"] = fewshot_indices;
  j["format_version"] = kEvalSetFormatVersion;
  return j;
}

namespace {
template <typename T>
Result<T> field(const nlohmann::json& j, const char* name, const std::string& where) {
  auto it = j.find(name);
  if (it == j.end()) return invalid_argument(fmt::format("{}: missing field '{}'", where, name));
  try {
    return it->get<T>();
  } catch (const nlohmann::json::exception&) {
    return invalid_argument(fmt::format("{}: field '{}': unexpected value {}", where, name, it->dump()));
  }
}
}  // namespace

Result<EvalEntry> EvalEntry::from_json(const nlohmann::json& j, const std::string& where) {
  if (!j.is_object()) return invalid_argument(where + ": expected a JSON object");
  QB_ASSIGN_OR_RETURN(int version, field<int>(j, "format_version", where));
  if (version != kEvalSetFormatVersion) {
    return invalid_argument(fmt::format("{}: format_version {} is not supported (this qbuild reads {})", where, version,
                                        kEvalSetFormatVersion));
  }
  EvalEntry e;
  QB_ASSIGN_OR_RETURN(e.index, field<int64_t>(j, "index", where));
  QB_ASSIGN_OR_RETURN(e.dataset_name, field<std::string>(j, "dataset_name", where));
  QB_ASSIGN_OR_RETURN(e.subset_name, field<std::string>(j, "subset_name", where));
  QB_ASSIGN_OR_RETURN(e.task_type, field<std::string>(j, "task_type", where));
  QB_ASSIGN_OR_RETURN(e.tags, field<std::vector<std::string>>(j, "tags", where));
  QB_ASSIGN_OR_RETURN(e.categories, field<std::vector<std::string>>(j, "categories", where));
  QB_ASSIGN_OR_RETURN(e.weight, field<double>(j, "weight", where));
  QB_ASSIGN_OR_RETURN(e.gold, field<std::string>(j, "gold", where));
  QB_ASSIGN_OR_RETURN(e.prompt_style, field<std::string>(j, "prompt_style", where));
  QB_ASSIGN_OR_RETURN(e.chat_template, field<bool>(j, "chat_template", where));
  QB_ASSIGN_OR_RETURN(e.record_index, field<int64_t>(j, "record_index", where));
  QB_ASSIGN_OR_RETURN(e.source, field<std::string>(j, "source", where));
  QB_ASSIGN_OR_RETURN(e.fewshot_indices, field<std::vector<int64_t>>(j, "fewshot_indices", where));
  const spec::TaskInfo* task = spec::find_task(e.dataset_name);
  if (!task) {
    return invalid_argument(fmt::format("{}: field 'dataset_name': unknown benchmark \"{}\"", where, e.dataset_name));
  }
  if (e.prompt_style != "generative" && e.prompt_style != "loglikelihood" && e.prompt_style != "rolling") {
    return invalid_argument(fmt::format("{}: field 'prompt_style': unknown style \"{}\"", where, e.prompt_style));
  }
  const bool want_rolling = task->kind == spec::TaskKind::kPerplexity;
  if (want_rolling != (e.prompt_style == "rolling") ||
      (task->kind == spec::TaskKind::kMultipleChoice && e.prompt_style != "loglikelihood")) {
    return invalid_argument(fmt::format("{}: field 'prompt_style': \"{}\" does not fit the task '{}'", where,
                                        e.prompt_style, e.dataset_name));
  }
  if (j.contains("continuations")) {
    QB_ASSIGN_OR_RETURN(e.continuations, field<std::vector<std::string>>(j, "continuations", where));
  }
  if (j.contains("contexts")) {
    QB_ASSIGN_OR_RETURN(e.contexts, field<std::vector<std::string>>(j, "contexts", where));
  }
  if (e.prompt_style == "loglikelihood") {
    const size_t need = e.dataset_name == "mmlu" ? 4 : e.continuations.size();
    if (e.continuations.size() != need || need < 2)
      return invalid_argument(fmt::format("{}: field 'continuations': a loglikelihood entry needs {} continuations, "
                                          "has {}", where, e.dataset_name == "mmlu" ? "4" : "at least 2",
                                          e.continuations.size()));
    if (!e.contexts.empty() && e.contexts.size() != e.continuations.size())
      return invalid_argument(fmt::format("{}: field 'contexts': {} contexts for {} continuations", where,
                                          e.contexts.size(), e.continuations.size()));
  }
  QB_ASSIGN_OR_RETURN(nlohmann::json sample, field<nlohmann::json>(j, "prompt", where));
  const std::string pw = where + ": field 'prompt'";
  if (!sample.is_object() || !sample.contains("input") || !sample["input"].is_array() || sample["input"].size() != 1 ||
      !sample["input"][0].is_object() || !sample["input"][0].contains("content") ||
      !sample["input"][0]["content"].is_string()) {
    return invalid_argument(pw + ": expected {\"input\": [{\"role\": \"user\", \"content\": <text>}], …}");
  }
  e.prompt = sample["input"][0]["content"].get<std::string>();
  if (sample.contains("choices")) {
    QB_ASSIGN_OR_RETURN(e.choices, field<std::vector<std::string>>(sample, "choices", pw));
  }
  if (e.dataset_name == "mmlu" && e.choices.size() != 4) return invalid_argument(pw + ": mmlu needs 4 choices");
  if (task->kind == spec::TaskKind::kMultipleChoice) {
    if (e.choices.size() != e.continuations.size())
      return invalid_argument(fmt::format("{}: {} choices for {} continuations", pw, e.choices.size(),
                                          e.continuations.size()));
    char* end = nullptr;
    const long g = std::strtol(e.gold.c_str(), &end, 10);
    if (e.gold.empty() || *end != '\0' || g < 0 || g >= static_cast<long>(e.choices.size()))
      return invalid_argument(fmt::format("{}: field 'gold': expected a choice index 0..{}, got \"{}\"", where,
                                          e.choices.size() - 1, e.gold));
  }
  if (e.dataset_name == "mmlu" && (e.gold.size() != 1 || e.gold[0] < 'A' || e.gold[0] > 'D')) {
    return invalid_argument(fmt::format("{}: field 'gold': expected a letter A..D, got \"{}\"", where, e.gold));
  }
  if (e.dataset_name == "mmlu_pro" || e.dataset_name == "gpqa_diamond") {
    if (e.choices.empty() || e.choices.size() > 26)
      return invalid_argument(fmt::format("{}: {} needs 1 to 26 choices, has {}", pw, e.dataset_name, e.choices.size()));
    if (e.gold.size() != 1 || e.gold[0] < 'A' || e.gold[0] >= 'A' + static_cast<int>(e.choices.size()))
      return invalid_argument(fmt::format("{}: field 'gold': expected a letter A..{}, got \"{}\"", where,
                                          static_cast<char>('A' + e.choices.size() - 1), e.gold));
  }
  if (sample.contains("id")) {
    QB_ASSIGN_OR_RETURN(e.subset_id, field<int64_t>(sample, "id", pw));
  }
  if (sample.contains("metadata")) e.metadata = sample["metadata"];
  return e;
}

std::string eval_set_to_jsonl(const std::vector<EvalEntry>& entries) {
  std::string out;
  // Invalid UTF-8 (possible only from a CSV dataset) becomes U+FFFD instead of throwing.
  for (const auto& e : entries) {
    out += e.to_json().dump(-1, ' ', /*ensure_ascii=*/false, nlohmann::json::error_handler_t::replace) + "\n";
  }
  return out;
}

Result<std::vector<EvalEntry>> load_eval_set(const stdfs::path& file) {
  QB_ASSIGN_OR_RETURN(std::string text, fs::read_file(file));
  std::vector<EvalEntry> out;
  QB_TRY(for_each_line(text, [&](int line, std::string_view s) -> Status {
    if (s.empty()) return Status::ok();
    std::string where = fmt::format("{}:{}", file.string(), line);
    auto j = parse_json_bounded(s, where);
    if (!j.is_ok()) return corrupt(j.status().message() + " (truncated or edited eval set?)");
    QB_ASSIGN_OR_RETURN(EvalEntry e, EvalEntry::from_json(*j, where));
    if (e.index != static_cast<int64_t>(out.size())) {
      return corrupt(fmt::format("{}: field 'index': expected {}, got {}", where, out.size(), e.index));
    }
    out.push_back(std::move(e));
    return Status::ok();
  }));
  if (out.empty()) return invalid_argument(file.string() + ": empty eval set");
  return out;
}

Result<Score> score_generation(const EvalEntry& e, std::string_view output, const ScoreOptions& opts) {
  if (e.prompt_style != "generative") {
    return invalid_argument(fmt::format("entry {}: a {} entry is scored from log-likelihoods, not a generation",
                                        e.index, e.prompt_style));
  }
  QB_ASSIGN_OR_RETURN(Benchmark b, parse_benchmark(e.dataset_name));
  QB_ASSIGN_OR_RETURN_CTX(ScoreTrace t, score_output(b, output, e.gold, static_cast<int>(e.choices.size()), opts),
                      fmt::format("entry {}", e.index));
  Score s;
  s.index = e.index;
  s.extracted = t.extracted;
  s.correct = t.correct;
  return s;
}

bool has_acc_norm(std::string_view dataset) {
  return dataset == "arc_challenge" || dataset == "arc_easy" || dataset == "hellaswag" || dataset == "piqa";
}

Result<Score> score_loglikelihoods(const EvalEntry& e, const std::vector<double>& ll) {
  if (e.prompt_style != "loglikelihood") {
    return invalid_argument(fmt::format("entry {}: a {} entry is not scored from log-likelihoods", e.index,
                                        e.prompt_style));
  }
  if (ll.size() != e.continuations.size() || ll.empty())
    return invalid_argument(fmt::format("entry {}: {} log-likelihoods for {} continuations", e.index, ll.size(),
                                        e.continuations.size()));
  auto argmax = [](const std::vector<double>& v) {
    size_t best = 0;
    for (size_t i = 1; i < v.size(); ++i)
      if (v[i] > v[best]) best = i;
    return best;
  };
  const size_t best = argmax(ll);
  Score s;
  s.index = e.index;
  if (e.dataset_name == "mmlu") {
    s.extracted = std::string(1, static_cast<char>('A' + best));
  } else {
    s.extracted = std::to_string(best);
  }
  s.correct = s.extracted == e.gold;
  if (has_acc_norm(e.dataset_name)) {
    if (e.choices.size() != ll.size())
      return invalid_argument(fmt::format("entry {}: acc_norm needs the {} choices", e.index, ll.size()));
    std::vector<double> norm(ll.size());
    for (size_t i = 0; i < ll.size(); ++i) norm[i] = ll[i] / static_cast<double>(py_len(e.choices[i]));
    s.correct_norm = std::to_string(argmax(norm)) == e.gold;
  }
  return s;
}

Perplexity aggregate_perplexity(const std::vector<double>& ll, const std::vector<int64_t>& tokens,
                                const std::vector<int64_t>& words, const std::vector<int64_t>& bytes) {
  Perplexity p;
  p.documents = static_cast<int64_t>(ll.size());
  for (size_t i = 0; i < ll.size(); ++i) {
    p.loglikelihood += ll[i];
    p.tokens += tokens[i];
    p.words += words[i];
    p.bytes += bytes[i];
  }
  auto ratio = [&](int64_t n) { return n > 0 ? -p.loglikelihood / static_cast<double>(n) : 0.0; };
  p.word_perplexity = std::exp(ratio(p.words));
  p.byte_perplexity = std::exp(ratio(p.bytes));
  p.bits_per_byte = ratio(p.bytes) / std::log(2.0);
  p.token_perplexity = std::exp(ratio(p.tokens));
  return p;
}

namespace {
// A dataset sampled with shuffle_seeds (its entries carry metadata.shuffle_seed): the report's
// "shuffle_seeds" block (seed_accuracy, stats.h); nullopt for any other dataset.
Result<std::optional<nlohmann::ordered_json>> seed_report(const std::string& dataset,
                                                          const std::vector<EvalEntry>& entries,
                                                          const std::vector<const Score*>& by_index) {
  std::vector<int64_t> seed, question;
  std::vector<bool> correct;
  size_t without = 0;
  for (size_t i = 0; i < entries.size(); ++i) {
    const EvalEntry& e = entries[i];
    if (e.dataset_name != dataset) continue;
    auto it = e.metadata.find("shuffle_seed");
    if (it == e.metadata.end()) {
      ++without;
      continue;
    }
    if (!it->is_number_integer())
      return invalid_argument(fmt::format("report: entry {}: metadata.shuffle_seed: expected an integer, got {}",
                                          e.index, it->dump()));
    seed.push_back(it->get<int64_t>());
    question.push_back(e.record_index);
    correct.push_back(by_index[i]->correct);
  }
  if (seed.empty()) return std::optional<nlohmann::ordered_json>();
  if (without > 0)
    return invalid_argument(fmt::format("report: {}: {} entries have a shuffle_seed and {} do not", dataset,
                                        seed.size(), without));
  QB_ASSIGN_OR_RETURN_CTX(SeedAccuracy sa, seed_accuracy(seed, question, correct), "report: " + dataset);
  nlohmann::ordered_json per = nlohmann::ordered_json::array();
  for (size_t k = 0; k < sa.seeds.size(); ++k)
    per.push_back({{"seed", sa.seeds[k]}, {"n", sa.per_seed[k].n}, {"correct", sa.per_seed[k].correct},
                   {"acc", sa.per_seed[k].acc}, {"stderr", sa.per_seed[k].stderr_}});
  nlohmann::ordered_json j = {
      {"what", "each question asked once per answer order (seed); acc is the mean of the per-seed accuracies, its "
               "stderr over questions (of each question's fraction correct); std is the sample standard deviation "
               "of the per-seed accuracies"},
      {"questions", sa.questions}, {"seeds", per}, {"mean", sa.mean}, {"stderr", sa.stderr_}};
  if (sa.seeds.size() > 1) j["std"] = sa.std;  // undefined for one seed
  j["min"] = sa.min;
  j["max"] = sa.max;
  return std::optional<nlohmann::ordered_json>(std::move(j));
}
}  // namespace

Result<nlohmann::ordered_json> make_report(const std::vector<EvalEntry>& entries, const std::vector<Score>& scores) {
  std::vector<const Score*> by_index(entries.size(), nullptr);
  for (const Score& s : scores) {
    if (s.index < 0 || s.index >= static_cast<int64_t>(entries.size())) {
      return invalid_argument(fmt::format("report: score for index {} outside the eval set (0..{})", s.index,
                                          entries.size() - 1));
    }
    if (by_index[s.index]) return invalid_argument(fmt::format("report: two scores for index {}", s.index));
    by_index[s.index] = &s;
  }
  for (size_t i = 0; i < entries.size(); ++i) {
    if (!by_index[i] && entries[i].prompt_style != "rolling")
      return invalid_argument(fmt::format("report: no score for index {}", i));
  }
  struct Tally {
    int64_t n = 0, correct = 0, norm_n = 0, norm_correct = 0;
    double wsum = 0, wcorrect = 0;
  };
  std::vector<std::string> dataset_order;
  std::map<std::string, std::vector<std::string>> subset_order;
  std::map<std::string, Tally> per_dataset;
  std::map<std::pair<std::string, std::string>, Tally> per_subset;
  Tally all;
  for (size_t i = 0; i < entries.size(); ++i) {
    const EvalEntry& e = entries[i];
    if (e.prompt_style == "rolling") continue;  // a perplexity document: no accuracy
    const bool ok = by_index[i]->correct;
    const std::optional<bool> norm = by_index[i]->correct_norm;
    if (!per_dataset.count(e.dataset_name)) dataset_order.push_back(e.dataset_name);
    auto key = std::make_pair(e.dataset_name, e.subset_name);
    if (!per_subset.count(key)) subset_order[e.dataset_name].push_back(e.subset_name);
    for (Tally* t : {&per_dataset[e.dataset_name], &per_subset[key], &all}) {
      t->n += 1;
      t->correct += ok;
      t->wsum += e.weight;
      t->wcorrect += ok ? e.weight : 0;
      if (norm) {
        t->norm_n += 1;
        t->norm_correct += *norm;
      }
    }
  }
  auto acc_json = [](const Tally& t) {
    Accuracy a = accuracy(t.correct, t.n);
    nlohmann::ordered_json j{{"n", a.n}, {"correct", a.correct}, {"acc", a.acc}, {"stderr", a.stderr_}};
    if (t.norm_n > 0) {
      Accuracy an = accuracy(t.norm_correct, t.norm_n);
      j["acc_norm"] = an.acc;
      j["acc_norm_stderr"] = an.stderr_;
    }
    return j;
  };
  nlohmann::ordered_json report;
  report["datasets"] = nlohmann::ordered_json::array();
  // evalscope's collection report (DataCollectionAdapter._group_and_compute), dataset level:
  // micro = acc, macro = the mean of the subsets' accuracies, weighted = Σ weight·score / Σ weight
  // (the micro mean when the weights sum to 0).
  auto weighted = [](const Tally& t) {
    return t.wsum > 0 ? t.wcorrect / t.wsum : accuracy(t.correct, t.n).acc;
  };
  for (const auto& d : dataset_order) {
    nlohmann::ordered_json dj = {{"dataset_name", d}};
    dj.update(acc_json(per_dataset[d]));
    QB_ASSIGN_OR_RETURN(std::optional<nlohmann::ordered_json> seeds, seed_report(d, entries, by_index));
    if (seeds) {  // the mean over answer orders is the score, its stderr over questions
      dj["acc"] = (*seeds)["mean"];
      dj["stderr"] = (*seeds)["stderr"];
    }
    double macro = 0;
    for (const auto& s : subset_order[d]) macro += accuracy(per_subset[{d, s}].correct, per_subset[{d, s}].n).acc;
    dj["macro_acc"] = macro / static_cast<double>(subset_order[d].size());
    dj["weighted_acc"] = weighted(per_dataset[d]);
    dj["subsets"] = nlohmann::ordered_json::array();
    for (const auto& s : subset_order[d]) {
      nlohmann::ordered_json sj = {{"subset_name", s}};
      sj.update(acc_json(per_subset[{d, s}]));
      dj["subsets"].push_back(std::move(sj));
    }
    if (seeds) dj["shuffle_seeds"] = std::move(*seeds);
    report["datasets"].push_back(std::move(dj));
  }
  if (all.n > 0) {  // an eval of perplexity tasks only has no accuracy
    Tally overall = all;
    overall.norm_n = 0;  // acc_norm is per task, never pooled across tasks
    report["overall"] = acc_json(overall);
    report["weighted_acc"] = all.wsum > 0 ? all.wcorrect / all.wsum : 0.0;
  }
  return report;
}

}  // namespace qb::eval
