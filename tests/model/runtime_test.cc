// The runtime's API behaviours on the tiny models: Linear implementations, the layer-by-layer
// API and its hooks, replacing linears, generation stop rules, continuation scoring, input
// checks.
#include <gtest/gtest.h>

#include "steps/model/generate.h"
#include "steps/model/int8_linear.h"
#include "steps/model/model.h"
#include "steps/model/rms_norm.h"
#include "steps/qmath/int8_gemm.h"
#include "test_support.h"

namespace qb::model {
namespace {

using testing::json_ids;
using testing::load_or_die;
using testing::max_abs_diff;
using testing::one_row;
using testing::reference;

std::vector<std::vector<int64_t>> prompts_of(const std::string& name) {
  return json_ids(reference(name)["prompts"]);
}

// ---- Linear ----

class Negate final : public InputTransform {
 public:
  explicit Negate(int64_t n) : n_(n) {}
  at::Tensor apply(const at::Tensor& x) const override { return -x.flip(-1); }
  int64_t size() const override { return n_; }
  std::string describe() const override { return "negate-flip"; }

 private:
  int64_t n_;
};

TEST(Linear, TransformedLinearAppliesTheTransformFirst) {
  at::manual_seed(1);
  auto inner = std::make_shared<DenseLinear>(at::randn({3, 4}), at::randn({3}));
  auto t = make_transformed(std::make_shared<Negate>(4), inner);
  ASSERT_TRUE(t.is_ok());
  const at::Tensor x = at::randn({2, 5, 4});
  EXPECT_LE(max_abs_diff((*t)->forward(x), inner->forward(-x.flip(-1))), 1e-6);
  // The effective weight reproduces the layer: x W_effᵀ + b.
  const at::Tensor w = (*t)->effective_weight(at::kFloat);
  EXPECT_LE(max_abs_diff(at::linear(x, w, *inner->bias()), (*t)->forward(x)), 1e-5);
  EXPECT_EQ((*t)->describe(), "negate-flip -> dense [3, 4] float32 +bias");
  auto bad = make_transformed(std::make_shared<Negate>(8), inner);
  ASSERT_FALSE(bad.is_ok());
  EXPECT_EQ(bad.status().message(),
            "input transform 'negate-flip' has size 8 but the layer takes 4 inputs");
}

TEST(Int8Linear, MatchesTheIntegerReference) {
  at::manual_seed(2);
  const at::Tensor w = at::randint(-128, 128, {16, 32}, at::kChar);
  const at::Tensor ws = at::rand({16, 1}) * 0.01 + 0.001;
  const at::Tensor x = at::randn({3, 5, 32});
  auto dyn = Int8Linear::create(w, ws, std::nullopt, std::nullopt, at::kFloat);
  ASSERT_TRUE(dyn.is_ok()) << dyn.status().to_string();
  // Dynamic per token, written out: absmax/127, round half even, int64 GEMM, scales.
  const at::Tensor x2 = x.reshape({15, 32});
  const at::Tensor absmax = x2.abs().amax(-1, true);
  const at::Tensor q = at::clamp(at::round(x2 * (127.0 / absmax)), -128, 127).to(at::kChar);
  const at::Tensor acc = qmath::reference_int8_matmul(q, w).to(at::kDouble);
  const at::Tensor expect = (acc * (absmax / 127.0).to(at::kDouble) * ws.t().to(at::kDouble));
  EXPECT_LE(max_abs_diff((*dyn)->forward(x).reshape({15, 16}), expect), 1e-5);
  // Static per tensor.
  const at::Tensor in_scale = at::full({1}, 0.02);
  auto st = Int8Linear::create(w, ws, in_scale, std::nullopt, at::kFloat);
  ASSERT_TRUE(st.is_ok());
  const at::Tensor qs = at::clamp(at::round(x2 / 0.02), -128, 127).to(at::kChar);
  const at::Tensor expect_s =
      qmath::reference_int8_matmul(qs, w).to(at::kDouble) * 0.02 * ws.t().to(at::kDouble);
  EXPECT_LE(max_abs_diff((*st)->forward(x).reshape({15, 16}), expect_s), 1e-5);
  EXPECT_LE(max_abs_diff((*st)->effective_weight(at::kFloat), w.to(at::kFloat) * ws), 0);
}

TEST(Int8Linear, RejectsBadTensors) {
  const at::Tensor w = at::zeros({4, 8}, at::kChar);
  auto a = Int8Linear::create(w.to(at::kFloat), at::ones({4, 1}), std::nullopt, std::nullopt,
                              at::kFloat);
  EXPECT_EQ(a.status().message(), "weight: expected int8 [out, in]");
  auto b = Int8Linear::create(w, at::ones({3, 1}), std::nullopt, std::nullopt, at::kFloat);
  EXPECT_EQ(b.status().message(),
            "weight_scale: expected floating [4, 1] (per channel) or [1] (per tensor)");
  auto c = Int8Linear::create(w, at::ones({4, 1}), at::ones({2}), std::nullopt, at::kFloat);
  EXPECT_EQ(c.status().message(),
            "input_scale: expected one floating value (per-tensor static)");
}

// ---- layer-by-layer API, hooks, replacement ----

TEST(Model, LinearNamesFollowTransformers) {
  const Model m = load_or_die("qwen3-tiny");
  const auto names = m.linear_names();
  ASSERT_EQ(names.size(), 2u * 7 + 1);
  EXPECT_EQ(names[0], "model.layers.0.self_attn.q_proj");
  EXPECT_EQ(names[6], "model.layers.0.mlp.down_proj");
  EXPECT_EQ(names.back(), "lm_head");
  for (const auto& n : names) EXPECT_NE(m.linear(n), nullptr) << n;
  EXPECT_EQ(m.linear("model.layers.2.mlp.down_proj"), nullptr);
  EXPECT_EQ(m.linear("model.layers.0.mlp"), nullptr);
  EXPECT_EQ(m.linear("model.layers.x.mlp.up_proj"), nullptr);
}

TEST(Model, HooksSeeEveryLinearInputAndTheLayerApiReproducesForward) {
  const Model m = load_or_die("qwen2-tiny");
  auto batch = left_pad(prompts_of("qwen2-tiny"), m.config().vocab_size, m.device());
  ASSERT_TRUE(batch.is_ok());
  std::map<std::string, at::Tensor> inputs;
  ForwardHooks hooks;
  hooks.linear_input = [&](const std::string& name, const at::Tensor& x) {
    EXPECT_EQ(inputs.count(name), 0u) << name;
    inputs[name] = x;
  };
  const at::Tensor logits = m.forward(batch->ids, batch->valid, nullptr, &hooks);
  const auto names = m.linear_names();
  EXPECT_EQ(inputs.size(), names.size());
  for (const auto& n : names) {
    ASSERT_TRUE(inputs.count(n)) << n;
    EXPECT_EQ(inputs[n].size(-1), m.linear(n)->in_features()) << n;
  }
  // GPTQ-style: embed, then layer by layer.
  const LayerInputs in = m.layer_inputs(batch->valid, nullptr);
  at::Tensor h = m.embed(batch->ids);
  for (int64_t i = 0; i < m.num_layers(); ++i) {
    EXPECT_LE(max_abs_diff(rms_norm(h, m.layer(i).weights().input_layernorm,
                                    m.config().rms_norm_eps),
                           inputs["model.layers." + std::to_string(i) + ".self_attn.q_proj"]),
              1e-6);
    h = m.layer(i).forward(h, in, nullptr);
  }
  EXPECT_LE(max_abs_diff(m.lm_head(m.final_norm(h)), logits), 1e-6);
}

TEST(Model, SetLinearReplacesAndChecksShapes) {
  Model m = load_or_die("llama-tiny");
  auto [ids, valid] = one_row(prompts_of("llama-tiny")[0]);
  const at::Tensor before = m.forward(ids, valid);
  const std::string name = "model.layers.1.mlp.down_proj";
  const auto old = m.linear(name);
  // Same weight, new object: same output.
  ASSERT_TRUE(m.set_linear(name, std::make_shared<DenseLinear>(
                                     old->effective_weight(at::kFloat), std::nullopt)).is_ok());
  EXPECT_LE(max_abs_diff(m.forward(ids, valid), before), 0);
  // Zeroed: the output changes.
  ASSERT_TRUE(m.set_linear(name, std::make_shared<DenseLinear>(at::zeros({64, 128}),
                                                               std::nullopt)).is_ok());
  EXPECT_GT(max_abs_diff(m.forward(ids, valid), before), 1e-3);
  Status s = m.set_linear(name, std::make_shared<DenseLinear>(at::zeros({64, 96}), std::nullopt));
  EXPECT_EQ(s.message(), "model.layers.1.mlp.down_proj: maps 96 -> 64 features, expected 128 -> 64");
  s = m.set_linear("model.layers.9.mlp.down_proj", old);
  EXPECT_EQ(s.code(), Code::kNotFound);
  EXPECT_EQ(s.message(), "no linear layer named 'model.layers.9.mlp.down_proj'");
}

// ---- generation ----

GenerateOptions no_eos(int64_t n) {
  GenerateOptions o;
  o.max_new_tokens = n;
  o.stop_at_eos = false;
  return o;
}

// The first position whose token does not occur earlier in `tokens`, from index 2 on.
size_t first_fresh(const std::vector<int64_t>& tokens) {
  for (size_t i = 2; i < tokens.size(); ++i)
    if (std::find(tokens.begin(), tokens.begin() + i, tokens[i]) == tokens.begin() + i) return i;
  return tokens.size();
}

TEST(Generate, StopsAtExtraStopTokensAndEos) {
  Model m = load_or_die("qwen3-tiny-tied");
  const auto prompts = prompts_of("qwen3-tiny-tied");
  auto free_run = generate_greedy(m, prompts, no_eos(16));
  ASSERT_TRUE(free_run.is_ok());
  const auto& full = (*free_run)[0].tokens;
  const size_t k = first_fresh(full);
  ASSERT_LT(k, full.size());
  GenerateOptions opts = no_eos(16);
  opts.stop_token_ids = {full[k]};
  auto stopped = generate_greedy(m, {prompts[0]}, opts);
  ASSERT_TRUE(stopped.is_ok());
  EXPECT_EQ((*stopped)[0].tokens, std::vector<int64_t>(full.begin(), full.begin() + k));
  EXPECT_EQ((*stopped)[0].finish, FinishReason::kStop);
  EXPECT_EQ((*stopped)[0].stop_token, full[k]);
  // The same token as the model's eos (generation_config) stops it too.
  m.set_eos_token_ids({full[k]});
  GenerateOptions eos;
  eos.max_new_tokens = 16;
  auto by_eos = generate_greedy(m, {prompts[0]}, eos);
  ASSERT_TRUE(by_eos.is_ok());
  EXPECT_EQ((*by_eos)[0].tokens, (*stopped)[0].tokens);
  EXPECT_EQ((*by_eos)[0].finish, FinishReason::kStop);
}

TEST(Generate, PrefillLogitsAreTheLastPromptPositionsLogits) {
  Model m = load_or_die("qwen3-tiny-tied");
  const auto prompts = prompts_of("qwen3-tiny-tied");  // different lengths: left padding
  at::Tensor prefill;
  GenerateOptions opts = no_eos(2);
  opts.prefill_logits = &prefill;
  ASSERT_TRUE(generate_greedy(m, prompts, opts).is_ok());
  auto ref = last_logits(m, prompts);
  ASSERT_TRUE(ref.is_ok());
  ASSERT_EQ(prefill.sizes(), ref->sizes());
  EXPECT_EQ(prefill.scalar_type(), at::kFloat);
  EXPECT_TRUE(prefill.device().is_cpu());
  EXPECT_LE((prefill - *ref).abs().max().item<double>(), 1e-5);
}

TEST(Generate, FinishedRowsStopEmittingWhileOthersContinue) {
  const Model m = load_or_die("qwen3-tiny");
  const auto prompts = prompts_of("qwen3-tiny");
  auto free_run = generate_greedy(m, prompts, no_eos(16));
  ASSERT_TRUE(free_run.is_ok());
  // Stop row 1 early with a token that row 0 never produces.
  const auto& row1 = (*free_run)[1].tokens;
  const auto& row0 = (*free_run)[0].tokens;
  int64_t stop = -1;
  size_t at = 0;
  for (size_t i = 0; i < row1.size() && stop < 0; ++i)
    if (std::find(row0.begin(), row0.end(), row1[i]) == row0.end() &&
        std::find(row1.begin(), row1.begin() + i, row1[i]) == row1.begin() + i) {
      stop = row1[i];
      at = i;
    }
  ASSERT_GE(stop, 0);
  for (int64_t interval : {1, 3, 16}) {
    GenerateOptions opts = no_eos(16);
    opts.stop_token_ids = {stop};
    opts.stop_check_interval = interval;
    auto gen = generate_greedy(m, prompts, opts);
    ASSERT_TRUE(gen.is_ok());
    EXPECT_EQ((*gen)[0].tokens, row0) << interval;
    EXPECT_EQ((*gen)[0].finish, FinishReason::kLength);
    EXPECT_EQ((*gen)[1].tokens, std::vector<int64_t>(row1.begin(), row1.begin() + at));
    EXPECT_EQ((*gen)[1].finish, FinishReason::kStop);
  }
}

TEST(Generate, EveryRowStoppingEndsEarly) {
  const Model m = load_or_die("llama-tiny");
  const auto prompts = prompts_of("llama-tiny");
  auto free_run = generate_greedy(m, {prompts[2]}, no_eos(16));
  ASSERT_TRUE(free_run.is_ok());
  GenerateOptions opts = no_eos(1000);  // far beyond the cache a run would need to fill
  opts.stop_token_ids = {(*free_run)[0].tokens[0]};
  auto gen = generate_greedy(m, {prompts[2]}, opts);
  ASSERT_TRUE(gen.is_ok());
  EXPECT_TRUE((*gen)[0].tokens.empty());
  EXPECT_EQ((*gen)[0].finish, FinishReason::kStop);
  auto none = generate_greedy(m, {prompts[2]}, no_eos(0));
  ASSERT_TRUE(none.is_ok());
  EXPECT_TRUE((*none)[0].tokens.empty());
  EXPECT_EQ((*none)[0].finish, FinishReason::kLength);
}

TEST(Generate, RejectsBadInput) {
  const Model m = load_or_die("qwen3-tiny");
  auto a = generate_greedy(m, {{1, 2}, {}}, no_eos(4));
  EXPECT_EQ(a.status().message(), "sequence 1 is empty");
  auto b = generate_greedy(m, {{1, 256}}, no_eos(4));
  EXPECT_EQ(b.status().message(),
            "sequence 0: id 256 at position 1 is outside the vocabulary [0, 256)");
  auto c = generate_greedy(m, {}, no_eos(4));
  EXPECT_EQ(c.status().message(), "empty batch");
  auto d = generate_greedy(m, {{1}}, no_eos(-1));
  EXPECT_EQ(d.status().message(), "max_new_tokens must be >= 0");
  auto e = last_logits(m, {{-1}});
  EXPECT_EQ(e.status().message(),
            "sequence 0: id -1 at position 0 is outside the vocabulary [0, 256)");
}

// ---- scoring ----

TEST(Score, ContinuationLogprobsMatchTheFullForward) {
  const Model m = load_or_die("qwen3-tiny");
  const auto prompt = prompts_of("qwen3-tiny")[1];
  const std::vector<std::vector<int64_t>> conts = {{5}, {6, 7, 8}, {9, 10}};
  auto scores = logprobs_of_continuations(m, prompt, conts);
  ASSERT_TRUE(scores.is_ok()) << scores.status().to_string();
  ASSERT_EQ(scores->size(), 3u);
  for (size_t c = 0; c < conts.size(); ++c) {
    std::vector<int64_t> seq = prompt;
    seq.insert(seq.end(), conts[c].begin(), conts[c].end());
    auto [ids, valid] = one_row(seq);
    const at::Tensor logp = at::log_softmax(m.forward(ids, valid)[0], -1);   // [T, V]
    double sum = 0;
    bool greedy = true;
    for (size_t i = 0; i < conts[c].size(); ++i) {
      const int64_t pos = static_cast<int64_t>(prompt.size() + i) - 1;
      const double lp = logp[pos][conts[c][i]].item<double>();
      EXPECT_NEAR((*scores)[c].token_logprobs[i], lp, 1e-5);
      sum += lp;
      greedy = greedy && logp[pos].argmax().item<int64_t>() == conts[c][i];
    }
    EXPECT_NEAR((*scores)[c].logprob, sum, 1e-5);
    EXPECT_EQ((*scores)[c].greedy, greedy);
  }
}

TEST(Score, GreedyContinuationIsFlaggedGreedy) {
  const Model m = load_or_die("qwen2-tiny");
  const auto ref = reference("qwen2-tiny");
  const auto prompt = json_ids(ref["prompts"])[0];
  const auto greedy = json_ids(ref["greedy"])[0];
  auto s = score_continuations(m, {{prompt, greedy}, {prompt, {greedy[0] == 3 ? 4 : 3}}});
  ASSERT_TRUE(s.is_ok());
  EXPECT_TRUE((*s)[0].greedy);
  EXPECT_FALSE((*s)[1].greedy);
  auto bad = score_continuations(m, {{prompt, {}}});
  EXPECT_EQ(bad.status().message(), "request 0: empty continuation");
  auto bad2 = score_continuations(m, {{{}, {1}}});
  EXPECT_EQ(bad2.status().message(), "request 0: empty context");
}

}  // namespace
}  // namespace qb::model

namespace qb::model {
namespace {

TEST(Generate, CudaGraphDecodingNeedsACudaModel) {
  const Model m = load_or_die("qwen3-tiny");
  GenerateOptions opts;
  opts.max_new_tokens = 4;
  opts.cuda_graph = true;
  auto g = generate_greedy(m, {{1, 2, 3}}, opts);
  ASSERT_FALSE(g.is_ok());
  if (g.status().code() == Code::kUnavailable) {  // this libtorch has no CUDA
    EXPECT_EQ(g.status().message(), "CUDA-graph decoding: this build's libtorch has no CUDA");
  } else {
    EXPECT_EQ(g.status().message(), "CUDA-graph decoding needs a model on a CUDA device, not cpu");
  }
}

}  // namespace
}  // namespace qb::model

namespace qb::model {
namespace {

TEST(RmsNorm, FusedMatchesTheTransformersOpSequence) {
  at::manual_seed(4);
  const at::Tensor x = at::randn({3, 7, 64}) * 3;
  const at::Tensor w = at::randn({64});
  EXPECT_LE(max_abs_diff(rms_norm(x, w, 1e-6), rms_norm_reference(x, w, 1e-6)), 1e-6);
  // bf16: one rounding of the same fp32 value; a reduction-order ulp may flip it.
  const at::Tensor xb = x.to(at::kBFloat16), wb = w.to(at::kBFloat16);
  const at::Tensor fast = rms_norm(xb, wb, 1e-6), ref = rms_norm_reference(xb, wb, 1e-6);
  EXPECT_EQ(fast.scalar_type(), at::kBFloat16);
  EXPECT_LE(max_abs_diff(fast, ref), 2e-2 * ref.abs().max().item<double>() / 128);
  // Per-head weights broadcast over [..., heads, D].
  const at::Tensor heads = at::randn({2, 5, 6, 16});
  const at::Tensor hw = at::randn({6, 16});
  EXPECT_LE(max_abs_diff(rms_norm(heads, hw, 1e-6), rms_norm_reference(heads, hw, 1e-6)), 1e-6);
}

TEST(Model, FusedProjectionsMatchSeparateOnes) {
  Model m = load_or_die("qwen2-tiny");  // q/k/v with biases
  auto batch = left_pad(prompts_of("qwen2-tiny"), m.config().vocab_size, m.device());
  ASSERT_TRUE(batch.is_ok());
  const at::Tensor fused = m.forward(batch->ids, batch->valid);
  for (int64_t i = 0; i < m.num_layers(); ++i)
    for (const char* part : {"self_attn.q_proj", "mlp.up_proj"}) {
      const std::string name = "model.layers." + std::to_string(i) + "." + part;
      const auto old = m.linear(name);
      ASSERT_TRUE(m.set_linear(name, std::make_shared<DenseLinear>(
                                         old->effective_weight(at::kFloat), old->bias())).is_ok());
    }
  const at::Tensor separate = m.forward(batch->ids, batch->valid);
  const at::Tensor mask = batch->valid.unsqueeze(-1);
  EXPECT_LE(max_abs_diff(fused * mask, separate * mask),
            4e-6 * fused.abs().max().item<double>());
}

}  // namespace
}  // namespace qb::model

namespace qb::model {
namespace {

TEST(Model, FusedInt8ProjectionsAreBitIdenticalToTheParts) {
  // qwen3-tiny with every projection quantized to int8 (per-channel, dynamic per-token inputs).
  const Model base = load_or_die("qwen3-tiny");
  ModelWeights w;
  w.embed_tokens = base.embed_tokens();
  w.norm = base.norm_weight();
  w.lm_head = base.linear("lm_head");
  for (int64_t i = 0; i < base.num_layers(); ++i) {
    LayerWeights l = base.layer(i).weights();
    for (auto* p : {&l.q_proj, &l.k_proj, &l.v_proj, &l.o_proj, &l.gate_proj, &l.up_proj,
                    &l.down_proj}) {
      const at::Tensor wf = (*p)->effective_weight(at::kFloat);
      const at::Tensor scale = wf.abs().amax(1, true) / 127.0;
      *p = *Int8Linear::create(at::round(wf / scale).clamp(-128, 127).to(at::kChar), scale,
                               std::nullopt, std::nullopt, at::kFloat);
    }
    w.layers.push_back(std::move(l));
  }
  auto fused = Model::create(base.config(), w);
  ASSERT_TRUE(fused.is_ok()) << fused.status().to_string();
  auto batch = left_pad(prompts_of("qwen3-tiny"), 256, at::kCPU);
  ASSERT_TRUE(batch.is_ok());
  const at::Tensor a = fused->forward(batch->ids, batch->valid);
  for (int64_t i = 0; i < fused->num_layers(); ++i)
    for (const char* part : {"self_attn.k_proj", "mlp.gate_proj"}) {  // unfuse both groups
      const std::string name = "model.layers." + std::to_string(i) + "." + part;
      const auto* q = dynamic_cast<const Int8Linear*>(fused->linear(name).get());
      ASSERT_NE(q, nullptr);
      ASSERT_TRUE(fused->set_linear(name, *Int8Linear::create(q->weight().clone(),
                                                              q->weight_scale().clone(),
                                                              std::nullopt, std::nullopt,
                                                              at::kFloat)).is_ok());
    }
  const at::Tensor b = fused->forward(batch->ids, batch->valid);
  const at::Tensor mask = batch->valid.unsqueeze(-1);
  EXPECT_EQ(max_abs_diff(a * mask, b * mask), 0.0);
}

}  // namespace
}  // namespace qb::model
