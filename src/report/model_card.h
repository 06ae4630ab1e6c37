// Model cards: a README.md in Hugging Face model-card form for every quantized variant, written
// at report time into an export folder, results/models/<variant>/, beside links to the model's
// files — so that folder is the model as one would upload or serve it
// (`vllm serve results/models/<variant>`, `huggingface-cli upload … results/models/<variant>`).
//
// Why not inside the model's own folder (data/models/<variant>, a link into cache/objects/):
// objects in the store are immutable and checksummed (store/object_store.h) and named by what
// built them; a card holds results that change whenever an eval is added or re-scored, so it is
// no part of the model's artifact, and writing it there would make one key name different bytes
// over time. Nor is it a step of the graph: a card depends on every eval of its variant, and
// adding a node kind would only re-render text that the report already has in hand.
//
// The card (front matter, then sections):
//   ---  base_model, base_model_relation: quantized, library_name: transformers,
//        pipeline_tag: text-generation, license (copied from the source model's own card, when
//        it has one), tags (qbuild, compressed-tensors, the scheme, the method, spinquant)  ---
//   what it is · the transform and the recipe (YAML, their canonical hashed form) · the
//   calibration data · results per eval config with recovery against the base model, fidelity
//   and speed · how to serve it with vLLM and load it with transformers · provenance (keys).
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "report/model_info.h"
#include "report/results_table.h"
#include "util/status.h"

namespace qb::report {

struct CardInput {
  std::string variant;
  ModelInfo model;                          // kind "quant"
  std::vector<const ResultsTable*> tables;  // every results CSV; those with the variant's row make its results
  std::string qbuild_version;
  std::string source_license;               // the source model's card's `license` ("" when unknown)
};

// "data/models/Qwen/Qwen3-8B" -> "Qwen/Qwen3-8B" (a Hub id); any other folder -> its name.
std::string base_model_id(const std::string& source_path);

// The card's text.
std::string render_model_card(const CardInput& in);

// The `license` of a model card's YAML front matter ("" when there is none or it cannot be read).
std::string card_license(const std::filesystem::path& readme);

// Writes `text` unless the file already holds exactly it (a build with nothing to do then writes
// nothing, and pays no fsync). Pages use it too.
Status write_if_changed(const std::filesystem::path& path, const std::string& text);

// Writes results/models/<variant>/README.md and links to the model's files there (links that
// point elsewhere, or at files the model no longer has, are replaced or removed; other files are
// left alone). Returns the README's path.
Result<std::filesystem::path> write_model_card(const std::filesystem::path& results_dir, const CardInput& in);

}  // namespace qb::report
