// The quantize step: a Hugging Face checkpoint in, a compressed-tensors checkpoint out, with
// llm-compressor 0.14.0.1's semantics.
//
// Phases (each timed in the report):
//   plan       which Linears are quantized by which config group (module_plan.h)
//   rtn        without calibration (weight-only, or dynamic activations): each weight is loaded
//              from the checkpoint to the device in its stored dtype, quantized, moved back;
//              the model is never run
//   calibrate  otherwise, llm-compressor's sequential pipeline, one decoder layer at a time, the
//              samples in oneshot's order (calibration.h, length_aware_order) and the layers
//              computed as transformers' eager modules (model.h, LayerPath::kEager):
//                1. every calibration sample goes through the layer with its ORIGINAL weights
//                   and no activation quantization (llm-compressor disables quantization while
//                   calibrating); a hook sees each Linear's input: GPTQ Hessians (one per
//                   distinct input: q/k/v and gate/up share theirs), static-activation
//                   observers (fed one sample at a time, as with batch size 1) and the
//                   report's activation statistics;
//                2. the layer's Linears are quantized (GPTQ from the Hessian, else RTN) and
//                   static input scales taken from the observers;
//                3. GPTQ: the layer's Linears are replaced by their fake-quantized weights and
//                   the samples are run through it again, so the next layer sees the outputs of
//                   the quantized layer. RTN: llm-compressor leaves the weights unquantized
//                   during calibration, so the next layer sees the outputs of pass 1.
//              lm_head, when targeted, is calibrated on the final-normed hidden states.
//              For a Linear behind an online input transform (SpinQuant R4), the stored inner
//              weight is quantized and its Hessian / input statistics use the transformed input.
//   write      model_io::save_checkpoint: quantized Linears in compressed-tensors form
//              (compressed_tensors.h), every other tensor copied, config.json with
//              quantization_config (the input's transform_config kept), generation_config and
//              tokenizer files copied; quant_report.json beside them (without timings: see
//              Determinism).
//
// Resume: with resume_dir set (the step sets the node's partial folder), every finished decoder
// layer is checkpointed (its Linears' results and, when calibrated, the hidden states after it),
// and a rerun of a killed step continues after the last one (layer_checkpoint.h), writing the
// same bytes as an uninterrupted run.
//
// Determinism: the written files are a function of the inputs, the recipe, the device kind and
// the build. On the CPU the step runs with one intra-op thread (quantize.cc, OneIntraOpThread),
// so the core count does not matter, and fp32 results are bit-identical to llm-compressor
// 0.14.0.1 run with one thread (tests/quant/quantize_golden_test.cc). What still changes bits:
// the CPU's vector ISA (ATen's and MKL's kernels dispatch on it: AVX2 and AVX-512 sum in
// different orders), and on a GPU its model (cuBLAS picks kernels by architecture and SM count)
// and the CUDA/cuBLAS versions; two runs on the same GPU give the same bytes
// (OnCudaTwoRunsWriteTheSameBytes).
//
// Memory: on a GPU, calibration keeps the model on the host in the compute dtype and moves one
// decoder layer at a time to the device (released to the meta device when done); the device holds that
// layer, its Hessians and observers, and the calibration hidden states (512 × 2048 tokens of a
// 4096-wide model: 8 GiB in bf16) — in pinned host memory instead when they do not fit beside a
// layer's work. The RTN path holds one weight on the device at a time.
#pragma once

#include <ATen/ATen.h>

#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <vector>

#include <nlohmann/json.hpp>

#include "steps/model/model.h"
#include "steps/quant/calibration.h"
#include "steps/quant/recipe.h"
#include "util/status.h"

namespace qb::quant {

struct QuantizeRequest {
  QuantRecipe recipe;
  std::filesystem::path model_dir;   // input checkpoint (unquantized)
  std::filesystem::path output_dir;  // created; must not hold another checkpoint's files
  // Calibration (when recipe.needs_calibration()): a .txt/.jsonl file read with the tokenizer
  // of `tokenizer_dir` (default: model_dir), or samples given directly (tests, golden runs).
  std::filesystem::path calibration_source;
  std::filesystem::path tokenizer_dir;
  std::vector<Sample> calibration_samples;
  std::int64_t calibration_batch_size = 1;  // equal-length samples per forward
  at::Device device = at::kCPU;
  std::optional<at::ScalarType> compute_dtype;  // default: the checkpoint's dtype
  // How the decoder layers run during calibration: kEager is llm-compressor's (model.h); kFast
  // only for tests and benchmarks that measure the difference.
  model::LayerPath calibration_path = model::LayerPath::kEager;
  nlohmann::json* report = nullptr;             // when set, receives quant_report.json's content
                                                // (plus timings and "resume": {"layers_resumed",
                                                // "layers_computed"})
  // Layer checkpoints (layer_checkpoint.h): the node's partial folder; empty = no resume.
  std::filesystem::path resume_dir;
  // Called after each computed layer's checkpoint is written (tests kill the step there).
  std::function<void(std::int64_t layer)> after_layer;
};

inline constexpr const char* kReportFile = "quant_report.json";

// Errors gain context ("quantize 'model.layers.3.mlp.down_proj': ..."). May throw c10::Error
// from libtorch (out of memory, device errors); the step runner catches those.
Status run_quantize(const QuantizeRequest& req);

}  // namespace qb::quant
