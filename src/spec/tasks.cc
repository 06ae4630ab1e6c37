#include "spec/tasks.h"

namespace qb::spec {

const std::vector<std::string>& mmlu_subjects() {
  // evalscope 1.12.0 benchmarks/mmlu/mmlu_adapter.py SUBJECT_MAPPING, in order.
  static const std::vector<std::string> k = {
      "abstract_algebra", "anatomy", "astronomy", "business_ethics", "clinical_knowledge", "college_biology",
      "college_chemistry", "college_computer_science", "college_mathematics", "college_medicine", "college_physics",
      "computer_security", "conceptual_physics", "econometrics", "electrical_engineering", "elementary_mathematics",
      "formal_logic", "global_facts", "high_school_biology", "high_school_chemistry", "high_school_computer_science",
      "high_school_european_history", "high_school_geography", "high_school_government_and_politics",
      "high_school_macroeconomics", "high_school_mathematics", "high_school_microeconomics", "high_school_physics",
      "high_school_psychology", "high_school_statistics", "high_school_us_history", "high_school_world_history",
      "human_aging", "human_sexuality", "international_law", "jurisprudence", "logical_fallacies", "machine_learning",
      "management", "marketing", "medical_genetics", "miscellaneous", "moral_disputes", "moral_scenarios", "nutrition",
      "philosophy", "prehistory", "professional_accounting", "professional_law", "professional_medicine",
      "professional_psychology", "public_relations", "security_studies", "sociology", "us_foreign_policy", "virology",
      "world_religions"};
  return k;
}

const std::vector<TaskInfo>& tasks() {
  static const std::vector<std::string> kGsm8kSubsets = {"main"};
  static const std::vector<std::string> kDefaultSubset = {"default"};
  static const std::vector<std::string> kMath500Subsets = {"Level 1", "Level 2", "Level 3", "Level 4", "Level 5"};
  static const std::vector<std::string> kMmluProSubsets = {
      "computer science", "math", "chemistry", "engineering", "law", "biology", "health",
      "physics", "business", "philosophy", "economics", "other", "psychology", "history"};
  static const std::vector<std::string> kArcChallenge = {"ARC-Challenge"}, kArcEasy = {"ARC-Easy"},
                                        kDefault = {"default"}, kWinogrande = {"winogrande_xl"},
                                        kWikitext = {"wikitext-2-raw-v1"};
  constexpr auto kMc = TaskKind::kMultipleChoice;
  constexpr auto kPpl = TaskKind::kPerplexity;
  static const std::vector<TaskInfo> k = {
      {"mmlu", "knowledge", 5, 0, 5, 512, &mmlu_subjects()},
      {"gsm8k", "math", 4, 4, 100, 1024, &kGsm8kSubsets},
      // Generative in either mode (only MMLU switches), so 5-shot in both.
      {"mmlu_pro", "knowledge", 5, 5, 5, 2048, &kMmluProSubsets},
      {"math_500", "math", 0, 0, 0, 2048, &kMath500Subsets},
      {"gpqa_diamond", "knowledge", 0, 0, 0, 2048, &kDefaultSubset},
      {"arc_challenge", "knowledge", 0, 0, 0, 0, &kArcChallenge, kMc},
      {"arc_easy", "knowledge", 0, 0, 0, 0, &kArcEasy, kMc},
      {"hellaswag", "commonsense", 0, 0, 0, 0, &kDefault, kMc},
      {"winogrande", "commonsense", 0, 0, 0, 0, &kWinogrande, kMc},
      {"piqa", "commonsense", 0, 0, 0, 0, &kDefault, kMc},
      {"wikitext", "perplexity", 0, 0, 0, 0, &kWikitext, kPpl},
      {"perplexity", "perplexity", 0, 0, 0, 0, &kDefault, kPpl},
  };
  return k;
}

const TaskInfo* find_task(std::string_view name) {
  for (const auto& t : tasks())
    if (t.name == name) return &t;
  return nullptr;
}

std::int64_t default_few_shot_num(std::string_view task, std::string_view mode) {
  const TaskInfo* t = find_task(task);
  if (!t) return 0;
  return mode == "loglikelihood" ? t->few_shot_loglikelihood : t->few_shot_generative;
}

std::vector<std::string_view> task_names() {
  std::vector<std::string_view> out;
  for (const auto& t : tasks()) out.push_back(t.name);
  return out;
}

bool generates_text(std::string_view task, std::string_view mode) {
  const TaskInfo* t = find_task(task);
  if (!t || t->kind != TaskKind::kGenerative) return false;
  return !(task == "mmlu" && mode == "loglikelihood");
}

bool is_perplexity_task(std::string_view task) {
  const TaskInfo* t = find_task(task);
  return t && t->kind == TaskKind::kPerplexity;
}

}  // namespace qb::spec
