// Calibration samples (see calibration.h).
#include "steps/quant/calibration.h"

#include <algorithm>
#include <random>
#include <sstream>

#include <nlohmann/json.hpp>

#include "util/fs.h"

namespace qb::quant {
namespace {

Result<std::vector<Sample>> windows(const CalibrationSettings& s, const Sample& stream,
                                    const std::string& origin) {
  const auto n = static_cast<std::int64_t>(stream.size());
  if (n < s.seq_len)
    return invalid_argument("calibration: '" + origin + "' has " + std::to_string(n) +
                            " tokens, fewer than seq_len " + std::to_string(s.seq_len));
  std::mt19937_64 rng(s.seed);
  std::uniform_int_distribution<std::int64_t> start(0, n - s.seq_len);
  std::vector<Sample> out;
  out.reserve(s.num_samples);
  for (std::int64_t i = 0; i < s.num_samples; ++i) {
    const auto b = start(rng);
    out.emplace_back(stream.begin() + b, stream.begin() + b + s.seq_len);
  }
  return out;
}

Result<std::vector<Sample>> documents(const CalibrationSettings& s, std::string_view text,
                                      const std::string& origin, const tok::Tokenizer& tokenizer) {
  std::vector<Sample> docs;
  std::size_t line_no = 0, pos = 0;
  while (pos < text.size()) {
    auto end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(pos, end - pos);
    pos = end + 1;
    ++line_no;
    if (line.find_first_not_of(" \t\r") == std::string_view::npos) continue;
    const std::string where = origin + ":" + std::to_string(line_no);
    nlohmann::json j = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (j.is_discarded() || !j.is_object())
      return invalid_argument("calibration: " + where + ": not a JSON object");
    const char* field = j.contains("text") ? "text" : j.contains("prompt") ? "prompt" : nullptr;
    if (!field || !j[field].is_string())
      return invalid_argument("calibration: " + where + ": needs a string field 'text' or 'prompt'");
    auto ids = tokenizer.encode(j[field].get<std::string>(), /*allow_special=*/false);
    if (ids.empty()) continue;
    if (static_cast<std::int64_t>(ids.size()) > s.seq_len) ids.resize(s.seq_len);
    docs.push_back(std::move(ids));
  }
  if (static_cast<std::int64_t>(docs.size()) < s.num_samples)
    return invalid_argument("calibration: '" + origin + "' has " + std::to_string(docs.size()) +
                            " usable documents, num_samples is " + std::to_string(s.num_samples));
  std::mt19937_64 rng(s.seed);
  std::shuffle(docs.begin(), docs.end(), rng);
  docs.resize(s.num_samples);
  return docs;
}

}  // namespace

Result<std::vector<Sample>> calibration_from_text(const CalibrationSettings& s,
                                                  std::string_view text, const std::string& origin,
                                                  const tok::Tokenizer& tokenizer) {
  if (s.source_kind == "txt") return windows(s, tokenizer.encode(text, false), origin);
  if (s.source_kind == "jsonl") return documents(s, text, origin, tokenizer);
  return invalid_argument("calibration: source kind '" + s.source_kind +
                          "' is not implemented; use a .txt or .jsonl file");
}

Result<std::vector<Sample>> load_calibration(const CalibrationSettings& s,
                                             const std::filesystem::path& source,
                                             const tok::Tokenizer& tokenizer) {
  if (s.source_kind != "txt" && s.source_kind != "jsonl")
    return invalid_argument("calibration: source kind '" + s.source_kind +
                            "' is not implemented; use a .txt or .jsonl file");
  QB_ASSIGN_OR_RETURN_CTX(std::string text, fs::read_file(source), "calibration");
  return calibration_from_text(s, text, source.string(), tokenizer);
}

}  // namespace qb::quant
