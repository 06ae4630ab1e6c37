// The raw outputs of a generate node (outputs.jsonl), what its score node reads: one JSON line
// per eval-set entry, in eval-set order (format version 1):
//   {"index": i, "output": text, "output_tokens": n, "finish": "stop"|"length"}   generative
//   {"index": i, "loglikelihoods": [one per continuation]}                         loglikelihood
//   {"index": i, "loglikelihood": Σ over the rolling windows, "tokens": n}          rolling
// plus, when the generation compared its next-token logits with the base model's:
//   "kl": KL(P_base || P_variant) at the prompt's last position (nats), "top1": argmaxes agree.
//   rolling items instead: "token_kl": [KL per scored token], "token_top1": tokens whose argmax
//   agrees with the base's (KL over the base's top-k tokens plus one bucket for the rest).
// Torch-free: the generate step writes it, the score step and `qbuild score` read it.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "util/status.h"

namespace qb::eval {

struct RawOutput {
  std::string output;                  // generated text (generative) or "" (loglikelihood)
  int64_t output_tokens = 0;
  std::string finish;                  // "stop" | "length" | "" (loglikelihood)
  std::vector<double> loglikelihoods;  // loglikelihood items: one per continuation
  std::optional<double> kl;            // fidelity against the base model (compare mode)
  std::optional<bool> top1;
  std::optional<double> loglikelihood;  // rolling items: the document's log-likelihood
  int64_t tokens = 0;                   // rolling items: tokens scored
  std::vector<double> token_kl;         // rolling items in compare mode: per scored token
  std::optional<int64_t> token_top1;
};

// One line (with its newline); invalid UTF-8 in the output is replaced, never thrown.
std::string raw_output_line(int64_t index, const RawOutput& r);
std::string raw_outputs_to_jsonl(const std::vector<RawOutput>& outputs);
// Exactly `expected` lines with indices 0..expected-1 in order; errors name "<file>:<line>".
Result<std::vector<RawOutput>> load_raw_outputs(const std::filesystem::path& file, size_t expected);
// One parsed line (for resume files: `where` names it in errors).
Result<std::pair<int64_t, RawOutput>> parse_raw_output(std::string_view line, const std::string& where);

}  // namespace qb::eval
