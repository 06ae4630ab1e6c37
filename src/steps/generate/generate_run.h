// Running one model over a frozen eval set (the `generate` node's engine): prompts tokenized
// (chat template as the eval set says), generative items decoded greedily in batches sorted by
// length (spec.batching static) or through one continuously refilled pool of batch_size rows
// (continuous: steps/model/continuous_batching.h), log-likelihood items scored with each item's
// context prefilled once for all its choices (either batching; steps/model/shared_context_scoring.h;
// one forward per choice when the choices' contexts differ or exceed max_length), perplexity
// documents in rolling windows, and — for fidelity — the
// next-token logits at each prompt's last position. No scoring here: the raw outputs go to
// outputs.jsonl (steps/eval/raw_outputs.h) and the `score` node scores them.
//
// Resume: every finished batch appends its raw results to <partial_dir>/predictions.jsonl
// (flushed and fsynced) before the next starts; continuous batching appends each item as it
// finishes and syncs at most once a second. A rerun of the same node (same key, so the same
// partial_dir) reads them back and computes only what is missing; a torn last line is cut.
// Fidelity logits of generative items come from their generation's prefill; items resumed from
// disk and log-likelihood items get one extra prefill each at the end (not resumed: cheap).
//
// Log-likelihood items are tokenized as lm-eval's _encode_pair does (trailing spaces of the
// context moved to the continuation; continuation = encode(context + continuation) minus the
// context's token count; an empty context is the prefix token); perplexity documents are scored
// in lm-eval's rolling windows (steps/eval/rolling_windows.h) with max_length from the spec (0:
// the model's max_position_embeddings) and the tokenizer's bos (else eos) as the prefix token.
// When the base keeps per-token top-k (keep_top_k), rolling items are recomputed on resume.
// Data parallel (shard, shards): every step above runs on this shard's items only, documents
// included; the token rows of the others' documents stay zero (data_parallel.h merges them).
#pragma once

#include <ATen/ATen.h>

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "spec/eval_spec.h"
#include "steps/eval/eval_set.h"
#include "steps/eval/raw_outputs.h"
#include "util/status.h"

namespace qb::generate {

struct GenerateRunOptions {
  std::filesystem::path model_dir;     // Hugging Face folder with tokenizer.json
  std::filesystem::path eval_set_dir;  // a sample artifact: eval_set.jsonl, sample_params.json
  at::Device device = at::kCPU;
  std::optional<at::ScalarType> dtype;  // compute dtype (default: the checkpoint's)
  spec::GenerateSpec spec;              // token budgets, batch size
  std::filesystem::path partial_dir;    // resume file lives here (empty: no resume)
  bool want_logits = false;
  // Perplexity documents (rolling items), fidelity: keep_top_k > 0 keeps the k most likely tokens
  // and their log-probabilities at every scored token (the base model); compare_tokens names the
  // base generation's token file to compare with (a variant: per-token KL and top-1 agreement).
  int64_t keep_top_k = 0;
  std::filesystem::path compare_tokens;
  // Multiple-choice items whose choices share a context run that context once
  // (score_continuations_shared), in either batching; false runs one forward per choice (the
  // benchmark's comparison).
  bool shared_prefill = true;
  // Continuous batching only (spec.batching): compute shared prompt prefixes once. Off only to
  // measure what sharing saves (bench_eval).
  bool share_prefixes = true;
  // Benchmark hook (bench_eval): empty, or one entry per eval-set entry; a generative item stops
  // after that many tokens as if the model had emitted its stop token there (-1: never forced;
  // GenerateOptions::forced_stop_steps). A random-weight model never stops by itself.
  std::vector<int64_t> forced_stop_steps;
  // Data parallel (data_parallel.h): this process computes only the items i with
  // i % shards == shard; the others' results stay empty (and their logits rows zero).
  int64_t shard = 0, shards = 1;
};

// The per-token file of a base generation with perplexity documents (token_topk.safetensors):
// "top_ids" [P, k] int64 and "top_logprobs" [P, k] fp32, P = every scored token of the rolling
// items in eval-set order, each document's windows in order.
inline constexpr const char* kTokenTopkFile = "token_topk.safetensors";
inline constexpr int64_t kTokenTopK = 32;

struct GenerateRunResult {
  std::vector<eval::EvalEntry> entries;  // the eval set, in order
  std::vector<eval::RawOutput> items;    // parallel to entries
  at::Tensor last_logits;                // [N, V] fp32 on the CPU (want_logits), row i = entry i
  at::Tensor token_top_ids, token_top_logprobs;  // keep_top_k: [P, k] (see kTokenTopkFile)
  // keep_top_k: [P] int64, the eval item of each token row (a data-parallel shard keeps the rows
  // of its own items; the parent puts each shard's rows back in place).
  at::Tensor token_row_item;
  int64_t resumed = 0;
  nlohmann::ordered_json stats;          // tokens, seconds, rates
};

Result<GenerateRunResult> run_generation(const GenerateRunOptions& opts);

}  // namespace qb::generate
