// The fused one-token decode step (fused_decode.h, decode_kernels.cu) against the op-by-op
// path it replaces and against fp32 references. The kernels exist only in CUDA builds with a
// CUDA compiler and run only on a GPU; elsewhere these tests skip and say why, except the one
// that checks the CPU keeps the op-by-op path.
#include <ATen/ATen.h>
#include <c10/core/InferenceMode.h>
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <limits>
#include <optional>
#include <string>
#include <vector>

#include "steps/model/fused_decode.h"
#include "steps/model/generate.h"
#include "steps/model/linear.h"
#include "steps/model/model.h"
#include "steps/model/random_model.h"
#include "test_support.h"
#include "tensor_compare.h"

namespace qb::model {
namespace {

using ::qb::test_tensors::rel_diff;

using testing::model_dir;

#define SKIP_WITHOUT_FUSED_KERNELS()                                                           \
  do {                                                                                         \
    if (!at::hasCUDA()) GTEST_SKIP() << "no CUDA device: the fused decode kernels run on a GPU"; \
    if (!fused::available())                                                                   \
      GTEST_SKIP() << "this build has no fused decode kernels (no CUDA compiler at configure time)"; \
  } while (0)

at::TensorOptions cuda(at::ScalarType t = at::kBFloat16) {
  return at::TensorOptions().dtype(t).device(at::kCUDA);
}

// Fraction of elements that differ at all.
double mismatch(const at::Tensor& a, const at::Tensor& b) {
  return a.ne(b).to(at::kFloat).mean().item<double>();
}

TEST(FusedDecode, TheCpuKeepsTheOpByOpPath) {
  auto m = Model::load(model_dir("qwen3-tiny"));
  ASSERT_TRUE(m.is_ok()) << m.status().to_string();
  EXPECT_FALSE(m->fused_decode());
  EXPECT_FALSE(m->set_fused_decode(true));
  EXPECT_FALSE(fused::supports(m->config(), at::kBFloat16, at::kCPU));
}

TEST(CudaFusedDecode, NormsAndSwiGluRoundLikeTheEagerOps) {
  SKIP_WITHOUT_FUSED_KERNELS();
  c10::InferenceMode guard;
  at::manual_seed(3);
  for (int64_t cols : {64, 1000, 4096}) {
    const at::Tensor x = at::randn({5, 1, cols}, cuda()) * 3;
    const at::Tensor a = at::randn({5, 1, cols}, cuda());
    const at::Tensor w = (at::rand({cols}, cuda()) + 0.5);
    const at::Tensor eager = w * at::rms_norm(x, {cols}, std::nullopt, 1e-6);
    const at::Tensor fused = fused::rms_norm(x, w, 1e-6);
    EXPECT_LE(rel_diff(fused, eager), 1.0 / 128) << cols;  // at most an ulp where rounding ties differ
    EXPECT_LE(mismatch(fused, eager), 0.01) << cols;
    const at::Tensor r = x + a;
    const auto [sum, normed] = fused::add_rms_norm(x, a, w, 1e-6);
    EXPECT_TRUE(at::equal(sum, r)) << cols;
    EXPECT_LE(rel_diff(normed, w * at::rms_norm(r, {cols}, std::nullopt, 1e-6)), 1.0 / 128) << cols;
    const at::Tensor gu = at::randn({7, 1, 2 * cols}, cuda()) * 4;
    const at::Tensor act = at::silu(gu.narrow(-1, 0, cols)) * gu.narrow(-1, cols, cols);
    const at::Tensor act_fused = fused::silu_mul(gu);
    EXPECT_LE(rel_diff(act_fused, act), 1.0 / 128) << cols;
    EXPECT_LE(mismatch(act_fused, act), 0.01) << cols;
  }
}

TEST(CudaFusedDecode, BatchOneGemvMatchesCublas) {
  SKIP_WITHOUT_FUSED_KERNELS();
  c10::InferenceMode guard;
  at::manual_seed(4);
  struct Case { int64_t out, in; bool bias; };
  // Row counts off the block's 16, bias (Qwen2's q/k/v), x beyond 48 KB of shared memory.
  for (const Case c : {Case{5, 64, false}, Case{1000, 4096, true}, Case{6144, 4096, false},
                       Case{4096, 12288, false}, Case{77, 32768, true}}) {
    const at::Tensor w = at::randn({c.out, c.in}, cuda()) / std::sqrt(double(c.in));
    std::optional<at::Tensor> b;
    if (c.bias) b = at::randn({c.out}, cuda());
    const DenseLinear f(w, b);
    const at::Tensor x = at::randn({1, 1, c.in}, cuda());
    const at::Tensor y = fused::linear(f, x);
    const at::Tensor ref = f.forward(x);
    ASSERT_EQ(y.sizes(), ref.sizes());
    EXPECT_LE(rel_diff(y, ref), 1.0 / 64) << c.out << " x " << c.in;
    const at::Tensor x2 = at::randn({2, 1, c.in}, cuda());  // two rows: cuBLAS itself
    EXPECT_TRUE(at::equal(fused::linear(f, x2), f.forward(x2)));
  }
}

// Attention of q [B, H, D] over slots [0, slots[b]] of row b where valid, in fp32 from the same
// bf16 inputs.
at::Tensor attention_reference(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v,
                               const at::Tensor& valid, const std::vector<int64_t>& slots) {
  const int64_t h = q.size(1), kvh = k.size(1), d = q.size(2);
  std::vector<at::Tensor> rows;
  for (int64_t b = 0; b < q.size(0); ++b) {
    const int64_t n = slots[b] + 1;
    const at::Tensor kf = k[b].to(at::kFloat).narrow(1, 0, n).repeat_interleave(h / kvh, 0);  // [H, n, D]
    const at::Tensor vf = v[b].to(at::kFloat).narrow(1, 0, n).repeat_interleave(h / kvh, 0);  // [H, n, D]
    at::Tensor scores = at::matmul(q[b].to(at::kFloat).unsqueeze(1), kf.transpose(1, 2)) / std::sqrt(double(d));
    const at::Tensor ok = valid[b].narrow(0, 0, n).unsqueeze(0).unsqueeze(0);  // [1, 1, n]
    scores = scores.masked_fill(ok.logical_not(), -std::numeric_limits<float>::infinity());
    rows.push_back(at::matmul(at::softmax(scores, -1), vf).squeeze(1));  // [H, D]
  }
  return at::stack(rows);  // [B, H, D]
}

TEST(CudaFusedDecode, AttentionMatchesAReferenceOverEachRowsValidWrittenSlots) {
  SKIP_WITHOUT_FUSED_KERNELS();
  c10::InferenceMode guard;
  at::manual_seed(5);
  struct Case { int64_t b, h, kvh, d, s, slot; at::ScalarType t = at::kBFloat16; };
  // Several splits with a combine (small batches), one split (64 x 8 KV heads fill the GPU),
  // head dims 16..256, groups of 2, 4, 7 and 8, fp16.
  for (const Case c : {Case{3, 8, 2, 128, 40, 29}, Case{1, 32, 8, 128, 768, 600},
                       Case{2, 4, 2, 16, 33, 32}, Case{4, 16, 2, 64, 300, 5},
                       Case{2, 14, 2, 128, 100, 99}, Case{64, 32, 8, 128, 80, 70},
                       Case{2, 8, 4, 256, 70, 69}, Case{2, 8, 1, 32, 50, 40, at::kHalf}}) {
    const at::Tensor q = at::randn({c.b, c.h, c.d}, cuda(c.t));
    const at::Tensor k = at::randn({c.b, c.kvh, c.s, c.d}, cuda(c.t)) * 2;
    const at::Tensor v = at::randn({c.b, c.kvh, c.s, c.d}, cuda(c.t));
    at::Tensor valid = at::rand({c.b, c.s}, cuda(at::kFloat)).gt(0.3);  // holes: left padding
    // Each row at its own slot (continuous batching): c.slot, then 7 fewer per row.
    std::vector<int64_t> slots;
    for (int64_t b = 0; b < c.b; ++b) {
      slots.push_back(std::max<int64_t>(0, c.slot - 7 * b));
      valid[b].select(0, slots[b]).fill_(true);                                  // this step's own slot
      valid[b].narrow(0, slots[b] + 1, c.s - slots[b] - 1).fill_(true);          // never read: after it
    }
    const at::Tensor slot = at::tensor(slots, at::kLong).to(at::kCUDA);
    const at::Tensor out = fused::decode_attention(q, k, v, valid, slot);
    const at::Tensor ref = attention_reference(q, k, v, valid, slots);
    const double diff = (out.to(at::kFloat) - ref).abs().max().item<double>();
    EXPECT_LE(diff, 0.02) << "b " << c.b << " h " << c.h << " kvh " << c.kvh << " d " << c.d
                          << " s " << c.s << " slot " << c.slot;
  }
}

// A checkpoint with a Qwen3-8B-like attention shape (D = 128, 32 query heads on 8 KV heads) at
// a small width, fp32, norm weights not all ones; written into the build tree per test (ctest
// runs tests in parallel processes).
std::filesystem::path wide_head_checkpoint() {
  const auto dir = std::filesystem::path(QB_BINARY_DIR) / "fused-decode-wide-head" /
                   ::testing::UnitTest::GetInstance()->current_test_info()->name();
  std::filesystem::remove_all(dir);
  ModelConfig c = *shape_config("tiny");
  c.hidden_size = 256;
  c.intermediate_size = 512;
  c.num_heads = 32;
  c.num_kv_heads = 8;
  c.head_dim = 128;
  c.vocab_size = 1000;
  c.max_position_embeddings = 4096;
  RandomCheckpointRequest req;
  req.config = c;
  req.dtype = at::kFloat;
  req.seed = 11;
  req.out_dir = dir;
  const Status st = write_random_checkpoint(req);
  EXPECT_TRUE(st.is_ok()) << st.to_string();
  return dir;
}

// Logits [B, V] of `steps` one-token steps after a left-padded prefill, each step fed the
// tokens in `feed` (or its own argmax when feed is empty, recorded there).
std::vector<at::Tensor> decode_logits(const Model& m, std::vector<at::Tensor>& feed, int64_t steps,
                                      bool static_shapes) {
  c10::InferenceMode guard;
  const std::vector<int64_t> lengths = {5, 9, 7};
  const int64_t b = 3, t = 9;
  at::Tensor ids = at::zeros({b, t}, at::kLong), valid = at::zeros({b, t}, at::kBool);
  at::manual_seed(21);
  for (int64_t i = 0; i < b; ++i) {
    ids[i].narrow(0, t - lengths[i], lengths[i]).copy_(at::randint(1, m.config().vocab_size, {lengths[i]}));
    valid[i].narrow(0, t - lengths[i], lengths[i]).fill_(true);
  }
  KvCache cache = m.new_cache(b, t + steps + 7);
  cache.set_static_shapes(static_shapes);
  const auto dev = m.device();
  at::Tensor logits = m.forward(ids.to(dev), valid.to(dev), &cache).select(1, t - 1);  // [B, V]
  std::vector<at::Tensor> out;
  const at::Tensor one = at::ones({b, 1}, at::TensorOptions().dtype(at::kBool).device(dev));
  const bool record = feed.empty();
  for (int64_t s = 0; s < steps; ++s) {
    if (record) feed.push_back(logits.argmax(-1).cpu());
    const at::Tensor next = feed[s].to(dev).unsqueeze(1);                            // [B, 1]
    logits = m.forward(next, one, &cache).select(1, 0);                               // [B, V]
    out.push_back(logits.cpu());
  }
  return out;
}

TEST(CudaFusedDecode, DecodeStepsMatchTheOpByOpPath) {
  SKIP_WITHOUT_FUSED_KERNELS();
  std::vector<std::filesystem::path> dirs = {model_dir("qwen3-tiny"), model_dir("qwen2-tiny"),
                                             model_dir("llama-tiny"), wide_head_checkpoint()};
  for (const auto& dir : dirs) {
    SCOPED_TRACE(dir.filename().string());
    LoadOptions lo;
    lo.dtype = at::kFloat;
    auto cpu = Model::load(dir, lo);
    ASSERT_TRUE(cpu.is_ok()) << cpu.status().to_string();
    std::vector<at::Tensor> feed;
    const auto ref = decode_logits(*cpu, feed, 6, false);  // fp32 on the CPU; records the tokens
    lo.device = at::Device(at::kCUDA, 0);
    lo.dtype = at::kBFloat16;
    auto gpu = Model::load(dir, lo);
    ASSERT_TRUE(gpu.is_ok()) << gpu.status().to_string();
    ASSERT_TRUE(gpu->fused_decode()) << "the fused path should be on for a bf16 CUDA model";
    for (bool static_shapes : {false, true}) {
      gpu->set_fused_decode(true);
      const auto fused = decode_logits(*gpu, feed, 6, static_shapes);
      gpu->set_fused_decode(false);
      const auto eager = decode_logits(*gpu, feed, 6, static_shapes);
      for (size_t s = 0; s < ref.size(); ++s) {
        const double d_fused = rel_diff(fused[s], ref[s]), d_eager = rel_diff(eager[s], ref[s]);
        // Both are bf16 against fp32 (~1e-2); the fused step is as close to fp32 as the eager one.
        EXPECT_LE(d_fused, 2 * d_eager + 5e-3) << "step " << s << " static " << static_shapes
                                               << " (eager " << d_eager << ")";
        EXPECT_LE(rel_diff(fused[s], eager[s]), 0.03) << "step " << s << " static " << static_shapes;
      }
    }
  }
}

TEST(CudaFusedDecode, GraphReplayEqualsTheEagerFusedStep) {
  SKIP_WITHOUT_FUSED_KERNELS();
  LoadOptions lo;
  lo.device = at::Device(at::kCUDA, 0);
  lo.dtype = at::kBFloat16;
  auto m = Model::load(wide_head_checkpoint(), lo);
  ASSERT_TRUE(m.is_ok()) << m.status().to_string();
  ASSERT_TRUE(m->fused_decode());
  const std::vector<std::vector<int64_t>> prompts = {{1, 2, 3, 4, 5}, {9, 8}, {100, 200, 300}};
  GenerateOptions g;
  g.max_new_tokens = 12;
  g.stop_at_eos = false;
  auto eager = generate_greedy(*m, prompts, g);
  g.cuda_graph = true;
  auto graph = generate_greedy(*m, prompts, g);
  ASSERT_TRUE(eager.is_ok() && graph.is_ok());
  for (size_t i = 0; i < prompts.size(); ++i) EXPECT_EQ((*eager)[i].tokens, (*graph)[i].tokens) << i;
}

}  // namespace
}  // namespace qb::model
