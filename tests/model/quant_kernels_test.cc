// The quantized-projection kernels (quant_ops.h: activation quantization fused into RMSNorm and
// SwiGLU, the int8 GEMM with its scale epilogue, the weight-only GEMVs) against the CPU
// reference whose integer semantics they reproduce: codes, scales and W8A8 outputs bit for bit,
// weight-only outputs within bf16 rounding. The kernels run only on a GPU in builds that have
// them; elsewhere these tests skip and say why, except the ones that check the CPU paths.
#include <ATen/ATen.h>
#include <c10/core/InferenceMode.h>
#include <gtest/gtest.h>

#include <cmath>
#include <optional>
#include <vector>

#include "steps/model/fused_decode.h"
#include "steps/model/int8_linear.h"
#include "steps/model/quant_ops.h"
#include "steps/model/weight_only_linear.h"
#include "steps/qmath/int8_gemm.h"
#include "tensor_compare.h"

namespace qb::model {
namespace {

using ::qb::test_tensors::rel_diff;

#define SKIP_WITHOUT_QUANT_KERNELS()                                                              \
  do {                                                                                            \
    if (!at::hasCUDA()) GTEST_SKIP() << "no CUDA device: the quantized kernels run on a GPU";     \
    if (!qops::available())                                                                       \
      GTEST_SKIP() << "this build has no quantized kernels (no CUDA compiler at configure time)"; \
  } while (0)

at::TensorOptions cuda(at::ScalarType t = at::kBFloat16) {
  return at::TensorOptions().dtype(t).device(at::kCUDA);
}

// Equal codes and scales to the CPU's qmath quantization of the same values.
void expect_cpu_codes(const qops::Int8Act& a, const at::Tensor& values, const at::Tensor& static_scale,
                      const char* what) {
  const at::Tensor v = values.cpu().reshape({-1, values.size(-1)});
  at::Tensor q, s;
  if (static_scale.defined()) {
    q = qmath::quantize_per_tensor_static(v, static_scale.cpu());
    s = static_scale.cpu().expand({v.size(0)});
  } else {
    auto pt = qmath::quantize_per_token_dynamic(v);
    q = pt.q;
    s = pt.scale.reshape({-1});
  }
  EXPECT_TRUE(at::equal(a.q.cpu().reshape(q.sizes()), q))
      << what << ": " << a.q.cpu().reshape(q.sizes()).ne(q).sum().item<int64_t>() << " codes differ";
  EXPECT_TRUE(at::equal(a.scale.cpu(), s)) << what << ": scales differ";
}

TEST(QuantKernels, TheCpuKeepsTheAtenPaths) {
  EXPECT_FALSE(qops::act_quant_ok(at::randn({2, 64}).to(at::kBFloat16)));
  const at::Tensor w = at::randint(-127, 128, {16, 64}).to(at::kChar);
  auto f = Int8Linear::create(w, at::rand({16, 1}) / 100, std::nullopt, std::nullopt, at::kBFloat16);
  ASSERT_TRUE(f.is_ok());
  EXPECT_FALSE((*f)->fast_path(4, at::kCPU, at::kBFloat16));
}

TEST(WeightOnlyLinear, TheCpuComputesTheDequantizedDenseProduct) {
  at::manual_seed(1);
  const at::Tensor q4 = at::randint(-8, 8, {24, 96}).to(at::kChar);
  const at::Tensor s4 = at::rand({24, 3}) / 10 + 0.01;
  const at::Tensor z4 = at::randint(-2, 3, {24, 3}).to(at::kChar);
  auto f = WeightOnlyLinear::create(4, q4, s4, z4, std::nullopt, at::kFloat);
  ASSERT_TRUE(f.is_ok()) << f.status().to_string();
  const at::Tensor ref = (q4.to(at::kFloat) - z4.to(at::kFloat).repeat_interleave(32, 1)) *
                         s4.repeat_interleave(32, 1);
  EXPECT_TRUE(at::equal((*f)->effective_weight(at::kFloat), ref));
  const at::Tensor x = at::randn({5, 96});
  EXPECT_TRUE(at::allclose((*f)->forward(x), at::linear(x, ref), 1e-5, 1e-5));
  EXPECT_EQ((*f)->describe(), "w4a16 [24, 96] group 32 asymmetric");
  // Bad inputs name the tensor.
  auto bad = WeightOnlyLinear::create(4, (q4 * 2).to(at::kChar), s4, std::nullopt, std::nullopt, at::kFloat);
  ASSERT_FALSE(bad.is_ok());
  EXPECT_NE(bad.status().to_string().find("int4 codes outside [-8, 7]"), std::string::npos);
  auto bad_scale = WeightOnlyLinear::create(4, q4, at::rand({24, 5}), std::nullopt, std::nullopt, at::kFloat);
  ASSERT_FALSE(bad_scale.is_ok());
  EXPECT_NE(bad_scale.status().to_string().find("weight_scale"), std::string::npos);
}

TEST(WeightOnlyLinear, Int8ScalesPerTensorChannelOrGroup) {
  const at::Tensor q = at::randint(-127, 128, {8, 64}).to(at::kChar);
  const at::Tensor sg = at::rand({8, 4}) + 0.1;
  auto g = WeightOnlyLinear::create(8, q, sg, std::nullopt, std::nullopt, at::kFloat);
  ASSERT_TRUE(g.is_ok()) << g.status().to_string();
  EXPECT_EQ((*g)->group(), 16);
  EXPECT_TRUE(at::equal((*g)->effective_weight(at::kFloat), q.to(at::kFloat) * sg.repeat_interleave(16, 1)));
  auto c = WeightOnlyLinear::create(8, q, sg.narrow(1, 0, 1), std::nullopt, std::nullopt, at::kFloat);
  ASSERT_TRUE(c.is_ok());
  EXPECT_EQ((*c)->group(), 64);
  EXPECT_EQ((*c)->describe(), "w8a16 [8, 64] per-channel symmetric");
  auto t = WeightOnlyLinear::create(8, q, at::full({1}, 0.5), std::nullopt, std::nullopt, at::kFloat);
  ASSERT_TRUE(t.is_ok());
  EXPECT_TRUE(at::equal((*t)->effective_weight(at::kFloat), q.to(at::kFloat) * 0.5));
  auto bad = WeightOnlyLinear::create(8, q, at::rand({8, 5}), std::nullopt, std::nullopt, at::kFloat);
  ASSERT_FALSE(bad.is_ok());
  EXPECT_NE(bad.status().to_string().find("weight_scale"), std::string::npos);
}

TEST(WeightOnlyLinear, ConcatenatedPartsComputeWhatThePartsCompute) {
  at::manual_seed(2);
  std::vector<std::shared_ptr<const WeightOnlyLinear>> parts;
  for (int64_t out : {16, 8, 8}) {
    auto p = WeightOnlyLinear::create(4, at::randint(-8, 8, {out, 64}).to(at::kChar),
                                      at::rand({out, 2}) / 10 + 0.01, std::nullopt,
                                      at::randn({out}), at::kFloat);
    ASSERT_TRUE(p.is_ok());
    parts.push_back(*p);
  }
  const auto fused = WeightOnlyLinear::concat({parts[0].get(), parts[1].get(), parts[2].get()});
  ASSERT_NE(fused, nullptr);
  EXPECT_EQ(fused->out_features(), 32);
  const at::Tensor x = at::randn({3, 64});
  EXPECT_TRUE(at::allclose(fused->forward(x),
                           at::cat({parts[0]->forward(x), parts[1]->forward(x), parts[2]->forward(x)}, -1),
                           1e-5, 1e-5));
  EXPECT_TRUE(at::equal(fused->rows(16, 8)->effective_weight(at::kFloat), parts[1]->effective_weight(at::kFloat)));
  // Parts of different formats do not fuse.
  auto int8 = WeightOnlyLinear::create(8, at::randint(-127, 128, {8, 64}).to(at::kChar), at::rand({8, 1}),
                                       std::nullopt, at::randn({8}), at::kFloat);
  ASSERT_TRUE(int8.is_ok());
  EXPECT_EQ(WeightOnlyLinear::concat({parts[0].get(), int8->get()}), nullptr);
}

TEST(CudaQuantKernels, RowQuantizationEqualsTheCpuCodesAndScales) {
  SKIP_WITHOUT_QUANT_KERNELS();
  c10::InferenceMode guard;
  at::manual_seed(11);
  for (int64_t cols : {8, 64, 1000, 4096, 12288}) {
    for (int64_t rows : {1, 7}) {
      at::Tensor x = (at::randn({rows, cols}, cuda()) * 3).contiguous();
      x[0].zero_();  // a zero row: scale 0, codes 0
      expect_cpu_codes(qops::quantize(x, {}), x, {}, "dynamic");
      const at::Tensor s = at::full({1}, 0.02f, cuda(at::kFloat));  // saturates the tails
      expect_cpu_codes(qops::quantize(x, s), x, s, "static");
    }
  }
}

TEST(CudaQuantKernels, FusedNormAndSwiGluQuantizeWhatTheUnfusedKernelsWrite) {
  SKIP_WITHOUT_QUANT_KERNELS();
  if (!fused::available()) GTEST_SKIP() << "no fused decode kernels in this build";
  c10::InferenceMode guard;
  at::manual_seed(12);
  for (int64_t cols : {64, 1000, 4096}) {
    const at::Tensor x = at::randn({5, 1, cols}, cuda()) * 3;
    const at::Tensor r = at::randn({5, 1, cols}, cuda());
    const at::Tensor w = at::rand({cols}, cuda()) + 0.5;
    for (bool dynamic : {true, false}) {
      const at::Tensor s = dynamic ? at::Tensor() : at::full({1}, 0.03f, cuda(at::kFloat));
      const at::Tensor normed = fused::rms_norm(x, w, 1e-6);
      expect_cpu_codes(qops::rms_norm_quant(x, {}, w, 1e-6, s).second, normed, s, "rms_norm");
      const auto [sum, normed_r] = fused::add_rms_norm(x, r, w, 1e-6);
      const auto [sum_q, a] = qops::rms_norm_quant(x, r, w, 1e-6, s);
      EXPECT_TRUE(at::equal(sum_q, sum)) << cols;
      expect_cpu_codes(a, normed_r, s, "add_rms_norm");
      const at::Tensor gu = at::randn({7, 1, 2 * cols}, cuda()) * 4;
      expect_cpu_codes(qops::silu_mul_quant(gu, s), fused::silu_mul(gu), s, "silu_mul");
    }
  }
}

TEST(CudaQuantKernels, Int8GemmEqualsTheCpuBitForBit) {
  SKIP_WITHOUT_QUANT_KERNELS();
  c10::InferenceMode guard;
  at::manual_seed(13);
  struct Case { int64_t m, n, k; };
  // Batch 1 and small batches (the GEMV), rows off the 64/128 tiles, N and K off 128 (multiples
  // of 8 and 16, what the kernels take), K beyond the GEMV's shared memory, a prefill-sized M.
  const std::vector<Case> cases = {{1, 8, 16},     {1, 4096, 4096}, {3, 136, 80},   {16, 264, 4096},
                                   {5, 4096, 12288}, {17, 264, 112}, {100, 520, 272}, {130, 1032, 1024},
                                   {777, 6144, 4096}, {2048, 264, 48}};
  for (const Case c : cases) {
    SCOPED_TRACE(testing::Message() << c.m << " x " << c.n << " x " << c.k);
    if (!qops::int8_gemm_ok(c.m, c.n, c.k)) {
      EXPECT_FALSE(qops::has_cutlass()) << "only the CUTLASS-less build may refuse this shape";
      continue;
    }
    const at::Tensor a = at::randint(-128, 128, {c.m, c.k}, cuda(at::kChar));
    const at::Tensor w = at::randint(-128, 128, {c.n, c.k}, cuda(at::kChar));
    const at::Tensor sa = at::rand({c.m}, cuda(at::kFloat)) / 100;
    const at::Tensor sw = at::rand({c.n}, cuda(at::kFloat)) / 1000;
    for (at::ScalarType dt : {at::kBFloat16, at::kHalf}) {
      const at::Tensor y = qops::int8_scaled_mm({a, sa}, w, sw, dt);
      const at::Tensor ref = qmath::scaled_int8_linear(a.cpu(), sa.cpu().reshape({-1, 1}), w.cpu(),
                                                       sw.cpu().reshape({-1, 1}), at::Tensor(), dt);
      ASSERT_EQ(y.sizes(), ref.sizes());
      EXPECT_TRUE(at::equal(y.cpu(), ref)) << y.cpu().ne(ref).sum().item<int64_t>() << " outputs differ";
    }
  }
}

TEST(CudaQuantKernels, Int8LinearOnTheGpuEqualsTheCpu) {
  SKIP_WITHOUT_QUANT_KERNELS();
  c10::InferenceMode guard;
  at::manual_seed(14);
  for (int64_t rows : {1, 4, 33, 600}) {
    for (bool with_static : {false, true}) {
      for (bool bias : {false, true}) {  // biased layers keep the ATen path: the same values
        const at::Tensor w = at::randint(-127, 128, {272, 512}).to(at::kChar);
        const at::Tensor ws = at::rand({272, 1}) / 500 + 1e-4;
        std::optional<at::Tensor> is, b;
        if (with_static) is = at::full({1}, 0.02f);
        if (bias) b = at::randn({272});
        auto cpu = Int8Linear::create(w, ws, is, b, at::kBFloat16);
        std::optional<at::Tensor> is_d, b_d;
        if (is) is_d = is->cuda();
        if (b) b_d = b->cuda();
        auto gpu = Int8Linear::create(w.cuda(), ws.cuda(), is_d, b_d, at::kBFloat16);
        ASSERT_TRUE(cpu.is_ok() && gpu.is_ok());
        EXPECT_EQ((*gpu)->fast_path(rows, at::Device(at::kCUDA, 0), at::kBFloat16),
                  !bias && (rows <= 16 || qops::has_cutlass()));
        const at::Tensor x = (at::randn({rows, 1, 512}) * 2).to(at::kBFloat16);
        const at::Tensor y = (*gpu)->forward(x.cuda()).cpu();
        const at::Tensor ref = (*cpu)->forward(x);
        EXPECT_TRUE(at::equal(y, ref)) << rows << " rows, static " << with_static << ", bias " << bias
                                       << ": " << y.ne(ref).sum().item<int64_t>() << " differ";
      }
    }
  }
}

TEST(CudaQuantKernels, WeightOnlyMatchesTheDequantizedDenseProduct) {
  SKIP_WITHOUT_QUANT_KERNELS();
  c10::InferenceMode guard;
  at::manual_seed(15);
  struct Case { int bits; int64_t n, k, group; bool zero, bias; };
  // Rows off the 32-row block, K off the 32-lane stride, groups of 32 and 128, asymmetric
  // zero points, Qwen2's bias, Qwen3-8B's down_proj shape.
  // int8 per channel (group 0) and per group (qbuild's W8A16 preset: groups of 128).
  for (const Case c : {Case{8, 40, 96, 0, false, false}, Case{8, 4096, 12288, 0, false, true},
                       Case{8, 40, 256, 128, false, false}, Case{8, 4104, 4096, 128, false, true},
                       Case{8, 24, 96, 16, false, false},
                       Case{4, 40, 96, 32, false, false}, Case{4, 4104, 4096, 128, true, true},
                       Case{4, 4096, 12288, 128, false, false}}) {
    SCOPED_TRACE(testing::Message() << "int" << c.bits << " " << c.n << " x " << c.k << " g" << c.group);
    const at::Tensor q = c.bits == 8 ? at::randint(-127, 128, {c.n, c.k}).to(at::kChar)
                                     : at::randint(-8, 8, {c.n, c.k}).to(at::kChar);
    const at::Tensor s = c.bits == 8 ? at::rand({c.n, c.group ? c.k / c.group : 1}) / 500 + 1e-4
                                     : at::rand({c.n, c.k / c.group}) / 50 + 1e-3;
    std::optional<at::Tensor> z, b;
    if (c.zero) z = at::randint(-3, 4, s.sizes()).to(at::kChar);
    if (c.bias) b = at::randn({c.n}).to(at::kBFloat16);
    auto cpu = WeightOnlyLinear::create(c.bits, q, s, z, b, at::kBFloat16);
    std::optional<at::Tensor> z_d, b_d;
    if (z) z_d = z->cuda();
    if (b) b_d = b->cuda();
    auto gpu = WeightOnlyLinear::create(c.bits, q.cuda(), s.cuda(), z_d, b_d, at::kBFloat16);
    ASSERT_TRUE(cpu.is_ok() && gpu.is_ok()) << cpu.status().to_string();
    const at::Tensor w_ref = (*cpu)->effective_weight(at::kFloat);  // exact dequantization
    // The dequantizing kernel (batches past the GEMV) writes W_eff bit for bit.
    EXPECT_TRUE(at::equal((*gpu)->dense_weight().cpu(), (*cpu)->effective_weight(at::kBFloat16)));
    for (int64_t rows : {1, 2, 3, 5, 8, 9, 40}) {
      const at::Tensor x = at::randn({rows, c.k}).to(at::kBFloat16);
      const at::Tensor y = (*gpu)->forward(x.cuda()).cpu().to(at::kFloat);
      at::Tensor ref = at::linear(x.to(at::kFloat), w_ref);
      if (b) ref = ref + b->to(at::kFloat);
      // bf16 output (2^-8) over fp32 sums of exact products; bf16 W_eff for the GEMM path.
      EXPECT_LE(rel_diff(y, ref), 1.5e-2) << rows << " rows";
    }
  }
}

}  // namespace
}  // namespace qb::model
