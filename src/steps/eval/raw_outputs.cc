// outputs.jsonl: write and read (see raw_outputs.h).
#include "steps/eval/raw_outputs.h"

#include <nlohmann/json.hpp>

#include "steps/eval/rows.h"
#include "util/fs.h"
#include "util/json_parse.h"

namespace qb::eval {

using nlohmann::json;

std::string raw_output_line(int64_t index, const RawOutput& r) {
  json j = {{"index", index}};
  if (r.loglikelihood) {
    j["loglikelihood"] = *r.loglikelihood;
    j["tokens"] = r.tokens;
  } else if (!r.loglikelihoods.empty()) {
    j["loglikelihoods"] = r.loglikelihoods;
  } else {
    j["output"] = r.output;
    j["output_tokens"] = r.output_tokens;
    j["finish"] = r.finish;
  }
  if (r.kl) j["kl"] = *r.kl;
  if (r.top1) j["top1"] = *r.top1;
  if (r.token_top1) {
    j["token_kl"] = r.token_kl;
    j["token_top1"] = *r.token_top1;
  }
  return j.dump(-1, ' ', false, json::error_handler_t::replace) + "\n";
}

std::string raw_outputs_to_jsonl(const std::vector<RawOutput>& outputs) {
  std::string s;
  for (size_t i = 0; i < outputs.size(); ++i) s += raw_output_line(static_cast<int64_t>(i), outputs[i]);
  return s;
}

Result<std::pair<int64_t, RawOutput>> parse_raw_output(std::string_view line, const std::string& where) {
  auto parsed = parse_json_bounded(line, where);
  if (!parsed.is_ok()) return corrupt(parsed.status().message());
  const json& j = *parsed;
  if (!j.is_object()) return corrupt(where + ": not a JSON object");
  if (!j.contains("index") || !j["index"].is_number_integer()) return corrupt(where + ": no integer 'index'");
  RawOutput r;
  try {
    if (j.contains("loglikelihood")) {
      r.loglikelihood = j["loglikelihood"].get<double>();
      r.tokens = j.at("tokens").get<int64_t>();
    } else if (j.contains("loglikelihoods")) {
      r.loglikelihoods = j["loglikelihoods"].get<std::vector<double>>();
    } else {
      r.output = j.at("output").get<std::string>();
      r.output_tokens = j.at("output_tokens").get<int64_t>();
      r.finish = j.at("finish").get<std::string>();
    }
    if (j.contains("kl")) r.kl = j["kl"].get<double>();
    if (j.contains("top1")) r.top1 = j["top1"].get<bool>();
    if (j.contains("token_top1")) {
      r.token_top1 = j["token_top1"].get<int64_t>();
      r.token_kl = j.at("token_kl").get<std::vector<double>>();
    }
  } catch (const json::exception& e) {
    return corrupt(where + ": " + e.what());
  }
  return std::make_pair(j["index"].get<int64_t>(), std::move(r));
}

Result<std::vector<RawOutput>> load_raw_outputs(const std::filesystem::path& file, size_t expected) {
  QB_ASSIGN_OR_RETURN(std::string text, fs::read_file(file));
  std::vector<RawOutput> out;
  QB_TRY(for_each_line(text, [&](int line, std::string_view s) -> Status {
    const std::string where = file.string() + ":" + std::to_string(line);
    QB_ASSIGN_OR_RETURN(auto item, parse_raw_output(s, where));
    if (item.first != static_cast<int64_t>(out.size()))
      return corrupt(where + ": index " + std::to_string(item.first) + ", expected " + std::to_string(out.size()));
    out.push_back(std::move(item.second));
    return Status::ok();
  }));
  if (out.size() != expected)
    return corrupt(file.string() + ": " + std::to_string(out.size()) + " outputs, the eval set has " +
                   std::to_string(expected));
  return out;
}

}  // namespace qb::eval
