// The transform step end to end on the tiny fixtures (tests/golden/models): run_spinquant's
// equivalence check passes at fp32 precision for R1, R2, R1+R2 and R1+R2+R4, tied and untied,
// Qwen3 / Qwen2 / Llama; the saved checkpoint is what was checked (re-read and re-run);
// center_embeddings fails a strict check; bad inputs fail with named errors.
#include "steps/transforms/spinquant.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <limits>

#include "steps/model/model.h"
#include "steps/transforms/equivalence.h"
#include "steps/transforms/transform_config.h"
#include "tiny_forward.h"
#include "util/fs.h"

namespace qb::transforms {
namespace {

using hadamard::RotationType;
namespace stdfs = std::filesystem;

const stdfs::path kModels = stdfs::path(QB_SOURCE_DIR) / "tests/golden/models";

fs::TempDir temp_dir() {
  auto t = fs::TempDir::create(stdfs::temp_directory_path(), "qb-spinquant-test-");
  if (!t.is_ok()) throw std::runtime_error(t.status().to_string());
  return std::move(t).value();
}

struct E2E {
  const char* model;
  RotationType type;
  std::vector<RotationId> rotations;
  std::optional<int64_t> block;
};

std::string e2e_name(const E2E& c) { return testing::case_name(c.model, c.type, c.rotations, c.block); }

class SpinQuantStep : public ::testing::TestWithParam<E2E> {};

TEST_P(SpinQuantStep, PassesTheCheckAndSavesWhatWasChecked) {
  const E2E c = GetParam();
  auto out = temp_dir();
  SpinQuantRequest req;
  req.input_dir = kModels / c.model;
  req.output_dir = out.path() / "model";
  req.params.rotations = c.rotations;
  req.params.transform_type = c.type;
  req.params.transform_block_size = c.block;
  req.params.seed = 3;
  req.equivalence.max_rel_error = 1e-5;
  auto meta = run_spinquant(req);
  ASSERT_TRUE(meta.is_ok()) << meta.status().to_string();
  const auto& eq = (*meta)["equivalence"];
  EXPECT_LE(eq["max_rel_error"].get<double>(), 1e-5) << eq.dump();
  EXPECT_EQ(eq["top1_agreement"].get<double>(), 1.0) << eq.dump();
  EXPECT_EQ(eq["num_prompts"], 4);
  EXPECT_TRUE(eq["passed"].get<bool>());
  EXPECT_EQ((*meta)["params"], req.params.to_json());
  char rel[32];
  std::snprintf(rel, sizeof rel, "%.2e", eq["max_rel_error"].get<double>());
  RecordProperty("max_rel_error", rel);

  // The artifact: fp32, untied, transform_config as llm-compressor writes it.
  auto saved = model_io::Checkpoint::open(req.output_dir);
  ASSERT_TRUE(saved.is_ok()) << saved.status().to_string();
  auto src = *model_io::Checkpoint::open(req.input_dir);
  auto config = *model::ModelConfig::from_json(src.config());
  auto plan = *SpinQuantPlan::create(req.params, config);
  EXPECT_EQ(saved->config()["tie_word_embeddings"], false);
  EXPECT_EQ(saved->config()["dtype"], "float32");
  EXPECT_EQ(saved->config()["quantization_config"]["transform_config"], transform_config_json(plan));
  EXPECT_TRUE(saved->has("lm_head.weight"));
  EXPECT_EQ(saved->has(kR4WeightName), req.params.has(RotationId::kR4));
  for (const auto& name : saved->tensor_names()) EXPECT_EQ(saved->info(name)->dtype, model_io::DType::kF32) << name;

  // Re-run the saved weights in float64 (online R4 rebuilt from the stored weight, as a loader
  // would): the same function as the source, to fp32 storage precision.
  std::unique_ptr<hadamard::Rotation> r4;
  if (saved->has(kR4WeightName)) {
    auto r = hadamard::Rotation::from_weight(c.type, *saved->load(kR4WeightName), config.intermediate_size);
    ASSERT_TRUE(r.is_ok()) << r.status().to_string();
    r4 = std::make_unique<hadamard::Rotation>(*r);
    EXPECT_EQ(r4->block_size(), c.block.value_or(config.intermediate_size));
  }
  auto saved_config = *model::ModelConfig::from_json(saved->config());
  const std::vector<int64_t> ids = {5, 17, 200, 3, 99, 42, 7, 128, 64};
  auto before = testing::tiny_forward(config, testing::load_all(src), ids);
  auto after = testing::tiny_forward(saved_config, testing::load_all(*saved), ids, r4.get());
  EXPECT_LE((after - before).norm().item<double>() / before.norm().item<double>(), 1e-5);
}

const std::vector<RotationId> kR1 = {RotationId::kR1}, kR2 = {RotationId::kR2},
                              kR12 = {RotationId::kR1, RotationId::kR2},
                              kR124 = {RotationId::kR1, RotationId::kR2, RotationId::kR4};

INSTANTIATE_TEST_SUITE_P(
    Fixtures, SpinQuantStep,
    ::testing::Values(E2E{"qwen3-tiny", RotationType::kHadamard, kR1, std::nullopt},
                      E2E{"qwen3-tiny", RotationType::kHadamard, kR2, std::nullopt},
                      E2E{"qwen3-tiny", RotationType::kHadamard, kR12, std::nullopt},
                      E2E{"qwen3-tiny", RotationType::kHadamard, kR124, std::nullopt},
                      E2E{"qwen3-tiny-tied", RotationType::kHadamard, kR12, std::nullopt},
                      E2E{"qwen3-tiny-tied", RotationType::kRandomHadamard, kR124, std::nullopt},
                      E2E{"qwen3-tiny-tied", RotationType::kHadamard, kR124, 32},
                      E2E{"qwen2-tiny", RotationType::kHadamard, kR124, std::nullopt},
                      E2E{"qwen2-tiny", RotationType::kRandomMatrix, kR124, std::nullopt},
                      E2E{"llama-tiny", RotationType::kRandomHadamard, kR124, std::nullopt},
                      E2E{"llama-tiny", RotationType::kRandomMatrix, kR12, 16}),
    [](const ::testing::TestParamInfo<E2E>& i) { return e2e_name(i.param); });

// A request for qwen3-tiny written to `out`/model.
SpinQuantRequest tiny_request(const fs::TempDir& out, const std::vector<RotationId>& rotations,
                              RotationType type) {
  SpinQuantRequest req;
  req.input_dir = kModels / "qwen3-tiny";
  req.output_dir = out.path() / "model";
  req.params.rotations = rotations;
  req.params.transform_type = type;
  return req;
}

// The two models' logits on the check's default prompts, compared on the CPU. A failure to
// run either model is a test failure and an infinite error.
EquivalenceMetrics compare_models(const model::Model& a, const model::Model& b) {
  EquivalenceMetrics failed;
  failed.max_rel_error = std::numeric_limits<double>::infinity();
  const auto prompts = default_prompt_ids(a.config().vocab_size);
  auto la = prompt_logits(a, prompts), lb = prompt_logits(b, prompts);
  if (!la.is_ok() || !lb.is_ok()) {
    ADD_FAILURE() << (la.is_ok() ? lb.status() : la.status()).to_string();
    return failed;
  }
  std::vector<at::Tensor> cpu;
  for (const auto& t : *lb) cpu.push_back(t.cpu());
  auto m = compare_logits(*la, cpu);
  if (!m.is_ok()) {
    ADD_FAILURE() << m.status().to_string();
    return failed;
  }
  return *m;
}

// The saved artifact through qb::model's own loader (config.json's transform_config and the
// stored R4 weight): the same logits as the source model. A random-hadamard R4 is stored once
// (layer 0's, as compressed-tensors shares it across modules) and every layer must find it.
TEST(SpinQuantStep, SavedModelLoadsInTheRuntimeUnchanged) {
  for (const auto& [rotations, type] :
       {std::pair{kR12, RotationType::kHadamard}, std::pair{kR124, RotationType::kHadamard},
        std::pair{kR124, RotationType::kRandomHadamard}}) {
    auto out = temp_dir();
    const SpinQuantRequest req = tiny_request(out, rotations, type);
    ASSERT_TRUE(run_spinquant(req).is_ok());
    model::LoadOptions lo;
    lo.dtype = at::kFloat;
    auto a = model::Model::load(req.input_dir, lo), b = model::Model::load(req.output_dir, lo);
    ASSERT_TRUE(a.is_ok()) << a.status().to_string();
    ASSERT_TRUE(b.is_ok()) << b.status().to_string();
    const auto m = compare_models(*a, *b);
    EXPECT_LE(m.max_rel_error, 1e-5) << rotations.size() << " rotations, "
                                     << hadamard::rotation_type_name(type) << ": " << m.summary();
  }
}

// On a GPU (skipped without one): the step fuses and checks on CUDA (float64 rotations, fp32
// check) within the same tolerance, and the saved model's online R4 (fast Hadamard before
// down_proj) runs on CUDA with the CPU's logits.
TEST(SpinQuantStep, OnCudaPassesTheCheckAndRunsR4There) {
  if (!at::hasCUDA()) GTEST_SKIP() << "no CUDA device";
  for (const auto type : {RotationType::kHadamard, RotationType::kRandomHadamard}) {
    auto out = temp_dir();
    SpinQuantRequest req = tiny_request(out, kR124, type);
    req.device = at::Device("cuda:0");
    req.equivalence.max_rel_error = 1e-5;
    auto meta = run_spinquant(req);
    ASSERT_TRUE(meta.is_ok()) << meta.status().to_string();
    EXPECT_LE((*meta)["equivalence"]["max_rel_error"].get<double>(), 1e-5);
    model::LoadOptions cpu, gpu;
    cpu.dtype = gpu.dtype = at::kFloat;
    gpu.device = at::Device("cuda:0");
    auto a = model::Model::load(req.output_dir, cpu), b = model::Model::load(req.output_dir, gpu);
    ASSERT_TRUE(a.is_ok() && b.is_ok());
    EXPECT_NE(b->linear("model.layers.1.mlp.down_proj")->describe().find("R4"), std::string::npos);
    const auto m = compare_models(*a, *b);
    EXPECT_LE(m.max_rel_error, 1e-5) << hadamard::rotation_type_name(type) << ": " << m.summary();
  }
}

TEST(SpinQuantStep, CenteringEmbeddingsFailsAStrictCheckAndWritesNothing) {
  auto out = temp_dir();
  SpinQuantRequest req;
  req.input_dir = kModels / "qwen3-tiny";
  req.output_dir = out.path() / "model";
  req.params.center_embeddings = true;
  req.equivalence.max_rel_error = 1e-4;
  auto r = run_spinquant(req);
  ASSERT_FALSE(r.is_ok());
  EXPECT_EQ(r.status().code(), Code::kFailedCheck);
  const std::string msg = r.status().message();
  EXPECT_NE(msg.find("equivalence check failed: max relative logit error "), std::string::npos) << msg;
  EXPECT_NE(msg.find("the tolerance on the relative logit error is 0.000100"), std::string::npos) << msg;
  EXPECT_FALSE(stdfs::exists(req.output_dir));
  // A loose tolerance lets it through, and the metadata shows the deviation.
  req.equivalence.max_rel_error = 10;
  auto ok = run_spinquant(req);
  ASSERT_TRUE(ok.is_ok()) << ok.status().to_string();
  EXPECT_GT((*ok)["equivalence"]["max_rel_error"].get<double>(), 1e-3);
  EXPECT_GT((*ok)["equivalence"]["mean_kl"].get<double>(), 0.0);
}

TEST(SpinQuantStep, RejectsWhatTheModelCannotTake) {
  auto out = temp_dir();
  SpinQuantRequest req;
  req.input_dir = kModels / "qwen3-tiny-tied";  // intermediate_size 96
  req.output_dir = out.path() / "model";
  req.params.rotations = kR124;
  EXPECT_EQ(run_spinquant(req).status().message(),
            "spinquant '" + req.input_dir.string() +
                "': R4 (down_proj input, intermediate_size 96): hadamard rotation needs a power-of-two size "
                "(Sylvester), got size 96; set transform_block_size to a power of two dividing 96 (the largest "
                "is 32), or use transform_type random-hadamard (orders k·2^m) or random-matrix");
  req.params.transform_block_size = 48;  // does not divide hidden_size 64
  req.params.transform_type = RotationType::kRandomHadamard;
  EXPECT_EQ(run_spinquant(req).status().message(),
            "spinquant '" + req.input_dir.string() +
                "': R1 (residual stream, hidden_size 64): transform_block_size 48 does not divide the rotated size 64");
  req.params.transform_block_size.reset();
  req.equivalence.prompt_ids = {{1, 2, 300}};
  EXPECT_EQ(run_spinquant(req).status().message(),
            "spinquant '" + req.input_dir.string() +
                "': equivalence prompt 0: id 300 at position 2 is outside the vocabulary (0..255)");
  req.equivalence.prompt_ids.clear();
  req.equivalence.prompts = {"hello"};
  const auto no_tokenizer = run_spinquant(req).status().message();  // the fixtures ship no tokenizer.json
  EXPECT_NE(no_tokenizer.find("equivalence prompts need the source model's tokenizer"), std::string::npos)
      << no_tokenizer;
  EXPECT_FALSE(stdfs::exists(req.output_dir));
}

TEST(SpinQuantStep, RejectsTensorsTheConfigDoesNotAccountFor) {
  // qwen3-tiny plus an o_proj bias its config (attention_bias: false) does not declare.
  auto out = temp_dir();
  auto src = *model_io::Checkpoint::open(kModels / "qwen3-tiny");
  std::vector<std::pair<std::string, at::Tensor>> tensors;
  for (const auto& name : src.tensor_names()) tensors.emplace_back(name, *src.load(name));
  tensors.emplace_back("model.layers.1.self_attn.o_proj.bias", at::zeros({64}));
  ASSERT_TRUE(model_io::save_checkpoint(out.path() / "src", tensors, src.config(), src.generation_config()).is_ok());
  SpinQuantRequest req;
  req.input_dir = out.path() / "src";
  req.output_dir = out.path() / "model";
  EXPECT_EQ(run_spinquant(req).status().message(),
            "spinquant '" + req.input_dir.string() +
                "': the checkpoint has 1 tensor(s) the model config does not account for "
                "(model.layers.1.self_attn.o_proj.bias); SpinQuant would drop them");
}

TEST(SpinQuantStep, RejectsQuantizedOrAlreadyTransformedSources) {
  auto out = temp_dir();
  SpinQuantRequest req;
  req.input_dir = kModels / "qwen2-tiny";
  req.output_dir = out.path() / "once";
  req.params.rotations = kR1;
  ASSERT_TRUE(run_spinquant(req).is_ok());
  req.input_dir = req.output_dir;
  req.output_dir = out.path() / "twice";
  EXPECT_EQ(run_spinquant(req).status().message(),
            "spinquant '" + req.input_dir.string() + "': " + (req.input_dir / "config.json").string() +
                " has a quantization_config (the model is quantized or already transformed); SpinQuant needs an "
                "unquantized source");
}

}  // namespace
}  // namespace qb::transforms
