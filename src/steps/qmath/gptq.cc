// GPTQ on one Linear (see gptq.h), mirroring llm-compressor 0.14.0.1's eager code path
// (gptq_quantize.py quantize_weight + gptq_block_update, helpers.py factorize_hessian,
// apply_activation_ordering, column_scale_window) for a batch of one module.
#include "steps/qmath/gptq.h"

#include <cmath>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <tuple>

#ifdef QB_QMATH_CUDA
#include <ATen/cuda/CUDAEvent.h>
#include <ATen/cuda/CUDAGraph.h>
#include <c10/cuda/CUDAGuard.h>
#include <c10/cuda/CUDAStream.h>
#endif

#include "util/log.h"
#include "steps/qmath/fp8.h"
#include "steps/qmath/observer.h"

namespace qb::qmath {

Status HessianAccumulator::add(const at::Tensor& x_in) {
  if (x_in.dim() != 2 && x_in.dim() != 3)
    return invalid_argument("hessian: input must be [T, in] or [B, T, in], got " +
                            std::to_string(x_in.dim()) + "-D");
  if (x_in.size(-1) != in_features_)
    return invalid_argument("hessian: input has " + std::to_string(x_in.size(-1)) +
                            " features, the Linear has " + std::to_string(in_features_));
  // accumulate_hessian: a 2-D input counts as one sample; a 3-D input as B samples.
  const std::int64_t added = x_in.dim() == 3 ? x_in.size(0) : 1;
  if (!sum_.defined())
    sum_ = at::zeros({in_features_, in_features_}, x_in.options().dtype(at::kFloat));
  auto x = x_in.to(sum_.device()).reshape({-1, in_features_}).t();  // [in, N]
  const bool half_input = x_in.scalar_type() == at::kBFloat16 || x_in.scalar_type() == at::kHalf;
  if (half_input && x.is_cuda()) {
    // A bf16/fp16 GEMM with fp32 output: the products of two bf16 (fp16) values are exact in
    // fp32 and the tensor cores accumulate them in fp32, so this is the fp32 GEMM of the same
    // inputs up to accumulation order and rounding, on bf16 tensor cores. Scaling by 2 after the
    // product (exact) instead of by √2 before keeps the inputs exact.
    at::addmm_out(sum_, sum_, x, x.t(), at::kFloat, 1.0, 2.0);
  } else {
    x = std::sqrt(2.0) * x.to(at::kFloat);  // math.sqrt(2) * inp.to(float32)
    sum_ += at::matmul(x, x.t());
  }
  num_samples_ += added;
  return Status::ok();
}

Result<at::Tensor> HessianAccumulator::finalize() const {
  if (num_samples_ == 0) return not_found("hessian: no calibration samples reached this Linear");
  // prepare_batch: hessian / num_samples, with num_samples a float32 0-dim tensor.
  auto n = at::scalar_tensor(static_cast<double>(num_samples_), sum_.options());
  return sum_ / n;
}

namespace {

// One block of GPTQ's column loop: W1 (the block's columns, updated in place), Q1 and Err1
// (outputs), Hinv1 (the block's [width, width] corner of the inverse-Hessian factor) and the
// per-column scale / zero-point windows eff, zpw ([rows, width]; zpw undefined if symmetric).
struct Block {
  at::Tensor W1, Q1, Err1, Hinv1, eff, zpw;
};

// The per-column quantizer is compressed-tensors' fake_quantize with strategy channel on a
// [rows, 1] column, written out so each column costs as few kernel launches as possible: w / s
// in fp32, (+ zp), clamp, round half to even, to the scale dtype, (- zp), * s — the same
// operations on the same dtypes. fp8 (round_to_quantized_type_args, FLOAT): clamp to ±448 and
// round to the nearest e4m3 (back to fp32) in place of the integer rounding.
struct ColumnQuantizer {
  bool has_zp;
  at::ScalarType scale_dtype;
  double qmin, qmax;
  bool fp8 = false;

  bool operator<(const ColumnQuantizer& o) const {
    return std::tie(has_zp, scale_dtype, qmin, qmax, fp8) <
           std::tie(o.has_zp, o.scale_dtype, o.qmin, o.qmax, o.fp8);
  }

  // The column loop over one block, in place.
  void run(Block& b) const {
    const auto width = b.W1.size(1);
    for (std::int64_t i = 0; i < width; ++i) {
      auto w = b.W1.narrow(1, i, 1);  // [rows, 1] fp32
      auto s = b.eff.narrow(1, i, 1);
      auto scaled = w / s;
      if (has_zp) scaled += b.zpw.narrow(1, i, 1);
      auto q = (fp8 ? round_to_fp8(scaled).to(at::kFloat) : at::round(at::clamp(scaled, qmin, qmax)))
                   .to(scale_dtype);
      if (has_zp) q = q - b.zpw.narrow(1, i, 1).to(scale_dtype);
      q = q * s;  // the scale dtype: a value of the quantization grid
      auto err = b.Err1.narrow(1, i, 1);
      at::div_out(err, w - q, b.Hinv1.select(0, i).select(0, i));  // (w - q) / Hinv[i, i]
      b.Q1.narrow(1, i, 1).copy_(q);
      b.W1.narrow(1, i, width - i) -= err * b.Hinv1.select(0, i).narrow(0, i, width - i).unsqueeze(0);
    }
  }
};

#ifdef QB_QMATH_CUDA
// On a GPU the column loop is launch-bound (~10 tiny kernels per column, 36,864 columns per
// Qwen3-8B decoder layer). A full-width block is the same kernel sequence every time, so it is
// captured once per (rows, width, quantizer, device) into a CUDA graph over static buffers and
// replayed: the same kernels on the same values (results identical to the eager loop), one
// launch per block. Graphs are kept for the process (a few MiB each).
class BlockGraph {
 public:
  BlockGraph(std::int64_t rows, std::int64_t width, ColumnQuantizer cq, at::Device device)
      : cq_(cq) {
    const auto f32 = at::TensorOptions().dtype(at::kFloat).device(device);
    buf_.W1 = at::empty({rows, width}, f32);
    buf_.Q1 = at::empty({rows, width}, f32);
    buf_.Err1 = at::empty({rows, width}, f32);
    buf_.Hinv1 = at::empty({width, width}, f32);
    buf_.eff = at::empty({rows, width}, f32.dtype(cq.scale_dtype));
    if (cq.has_zp) buf_.zpw = at::empty({rows, width}, f32);
  }

  // Copies the inputs into the static buffers and runs the loop; the returned block's Q1 and
  // Err1 stay valid until the next run() of this graph (stream-ordered).
  Block run(const at::Tensor& w1, const at::Tensor& hinv1, const at::Tensor& eff,
            const at::Tensor& zpw) {
    c10::cuda::CUDAGuard device_guard(buf_.W1.device());
    auto load = [&] {
      buf_.W1.copy_(w1);
      buf_.Hinv1.copy_(hinv1);
      buf_.eff.copy_(eff);
      if (cq_.has_zp) buf_.zpw.copy_(zpw);
    };
    load();
    if (!graph_) {
      // Warm-up and capture on a side stream (capture cannot use the default stream), then
      // reload the inputs the warm-up consumed.
      const auto current = c10::cuda::getCurrentCUDAStream();
      const auto side = c10::cuda::getStreamFromPool();
      at::cuda::CUDAEvent ready;
      ready.record(current);
      ready.block(side);
      {
        c10::cuda::CUDAStreamGuard guard(side);
        cq_.run(buf_);
        auto g = std::make_unique<at::cuda::CUDAGraph>();
        g->capture_begin();
        cq_.run(buf_);
        g->capture_end();
        graph_ = std::move(g);
      }
      at::cuda::CUDAEvent done;
      done.record(side);
      done.block(current);
      load();
    }
    graph_->replay();
    return buf_;
  }

 private:
  ColumnQuantizer cq_;
  Block buf_;
  std::unique_ptr<at::cuda::CUDAGraph> graph_;
};

BlockGraph* block_graph(std::int64_t rows, std::int64_t width, const ColumnQuantizer& cq,
                        at::Device device) {
  using Key = std::tuple<std::int64_t, std::int64_t, ColumnQuantizer, int>;
  static std::mutex mu;
  static std::map<Key, std::unique_ptr<BlockGraph>> graphs;
  std::lock_guard<std::mutex> lock(mu);
  c10::cuda::CUDAGuard guard(device);
  Key key{rows, width, cq, device.index()};
  auto& g = graphs[key];
  if (!g) g = std::make_unique<BlockGraph>(rows, width, cq, device);
  return g.get();
}
#endif

Status check_gptq_inputs(const at::Tensor& weight, const at::Tensor& hessian,
                         const QuantArgs& args, const GptqOptions& opts) {
  QB_TRY(check_quant_args(args));
  if (args.strategy == Strategy::kToken || args.strategy == Strategy::kAttnHead)
    return invalid_argument(std::string("gptq: ") + strategy_name(args.strategy) +
                            " strategy cannot be applied to weights");
  if (weight.dim() != 2 || !at::isFloatingType(weight.scalar_type()))
    return invalid_argument("gptq: weight must be a 2-D floating tensor");
  const auto in = weight.size(1);
  if (hessian.dim() != 2 || hessian.size(0) != in || hessian.size(1) != in)
    return invalid_argument("gptq: hessian must be [" + std::to_string(in) + ", " +
                            std::to_string(in) + "] for a weight with " + std::to_string(in) +
                            " columns");
  if (args.strategy == Strategy::kGroup && in % args.group_size != 0)
    return invalid_argument("gptq: weight columns " + std::to_string(in) +
                            " are not divisible by group_size " +
                            std::to_string(args.group_size));
  if (args.strategy == Strategy::kBlock &&
      (weight.size(0) % args.block_structure[0] != 0 || in % args.block_structure[1] != 0))
    return invalid_argument("gptq: block_structure [" + std::to_string(args.block_structure[0]) +
                            ", " + std::to_string(args.block_structure[1]) +
                            "] does not divide the weight [" + std::to_string(weight.size(0)) +
                            ", " + std::to_string(in) + "]");
  if (opts.block_size < 1)
    return invalid_argument("gptq: block_size must be >= 1, got " +
                            std::to_string(opts.block_size));
  if (!(opts.dampening_frac >= 0))
    return invalid_argument("gptq: dampening_frac must be >= 0");
  return Status::ok();
}

}  // namespace

Result<GptqResult> gptq_quantize(const at::Tensor& weight, const at::Tensor& hessian,
                                 const QuantArgs& args, const GptqOptions& opts) {
  QB_TRY(check_gptq_inputs(weight, hessian, args, opts));
  const auto rows = weight.size(0), cols = weight.size(1);
  const auto device = weight.device();

  // Scales from the weight observer on the original weight, in its dtype.
  QB_ASSIGN_OR_RETURN(Observer obs, Observer::create(args, Role::kWeight));
  obs.observe(weight);
  QB_ASSIGN_OR_RETURN(QParams qp, obs.qparams());

  auto W = weight.to(at::kFloat).clone();                    // [rows, cols]
  auto H = hessian.to(device, at::kFloat).clone();           // [cols, cols]

  // apply_activation_ordering.
  at::Tensor perm;
  if (args.actorder == ActOrder::kWeight) {
    perm = at::argsort(at::diagonal(H), /*dim=*/-1, /*descending=*/true);
    H = H.index_select(1, perm).index_select(0, perm);
    W = W.index_select(1, perm);
  }
  // g_idx: the group (block: the column block) of each (permuted) column, by its original
  // position.
  at::Tensor g_idx;
  if (args.strategy == Strategy::kGroup || args.strategy == Strategy::kBlock) {
    const auto divisor = args.strategy == Strategy::kGroup ? args.group_size : args.block_structure[1];
    g_idx = at::floor_divide(at::arange(cols, W.options().dtype(at::kLong)), divisor);
    if (perm.defined()) g_idx = g_idx.index_select(0, perm);
  }
  // block: the row block of each row (column_scale_window).
  at::Tensor row_idx;
  if (args.strategy == Strategy::kBlock)
    row_idx = at::floor_divide(at::arange(rows, W.options().dtype(at::kLong)), args.block_structure[0]);

  // factorize_hessian (the per-item path used for batches smaller than 16).
  bool rtn_fallback = false;
  {
    auto diag = at::diagonal(H);
    auto dead = diag == 0;
    if (dead.any().item<bool>()) {
      diag.masked_fill_(dead, 1.0);
      W.masked_fill_(dead.unsqueeze(0), 0);
    }
    auto damp = at::mean(at::diag(H)) * opts.dampening_frac;
    at::diagonal(H).add_(damp);
    auto [L, info] = at::linalg_cholesky_ex(H, /*upper=*/false, /*check_errors=*/false);
    if (info.item<int>() == 0) {
      H = at::cholesky_inverse(L);
      H = at::linalg_cholesky(H, /*upper=*/true);
    } else {
      H = at::eye(cols, H.options());
      rtn_fallback = true;
      log::warn("gptq: Hessian is not positive definite (Cholesky failed at column " +
                std::to_string(info.item<int>()) +
                "); quantizing this Linear with round-to-nearest and the same scales");
    }
  }
  const auto& Hinv = H;

  // Per-column scale/zero point windows (column_scale_window), [rows, width] each.
  const bool has_zp = !args.symmetric;
  auto scale_window = [&](std::int64_t i1, std::int64_t i2) -> std::pair<at::Tensor, at::Tensor> {
    const auto width = i2 - i1;
    at::Tensor eff, zp;
    switch (args.strategy) {
      case Strategy::kTensor:
        eff = qp.scale.reshape({1, 1});
        if (has_zp) zp = qp.zero_point.reshape({1, 1});
        break;
      case Strategy::kChannel:
        eff = qp.scale.narrow(1, 0, 1);
        if (has_zp) zp = qp.zero_point.narrow(1, 0, 1);
        break;
      case Strategy::kGroup: {
        auto idx = g_idx.narrow(0, i1, width);
        eff = qp.scale.index_select(1, idx);
        if (has_zp) zp = qp.zero_point.index_select(1, idx);
        break;
      }
      case Strategy::kBlock: {  // scale[row / bh, g_idx[col]]; symmetric only (fp8)
        auto idx = g_idx.narrow(0, i1, width);
        eff = qp.scale.index_select(1, idx).index_select(0, row_idx);
        break;
      }
      case Strategy::kToken:
      case Strategy::kAttnHead: break;  // rejected above
    }
    eff = eff.expand({rows, width}).contiguous();
    if (has_zp) zp = zp.to(at::kFloat).expand({rows, width}).contiguous();
    return {eff, zp};
  };
  const auto scale_dtype = qp.scale.scalar_type();
  const ColumnQuantizer cq{has_zp, scale_dtype, static_cast<double>(args.qmin()),
                           static_cast<double>(args.qmax()), args.is_fp8()};
#ifdef QB_QMATH_CUDA
  BlockGraph* graph =
      device.is_cuda() && opts.cuda_graph ? block_graph(rows, opts.block_size, cq, device) : nullptr;
#endif

  auto losses = at::zeros({rows}, W.options());
  for (std::int64_t i1 = 0; i1 < cols; i1 += opts.block_size) {
    const auto i2 = std::min(i1 + opts.block_size, cols);
    const auto width = i2 - i1;
    auto [eff, zpw] = scale_window(i1, i2);
    auto Hinv1 = Hinv.narrow(0, i1, width).narrow(1, i1, width);
    Block b;
#ifdef QB_QMATH_CUDA
    if (graph && width == opts.block_size) {
      b = graph->run(W.narrow(1, i1, width), Hinv1, eff, zpw);
    } else
#endif
    {
      b = {W.narrow(1, i1, width).clone(), at::empty_like(eff, W.options()),
           at::empty_like(eff, W.options()), Hinv1, eff, zpw};
      cq.run(b);
    }
    W.narrow(1, i1, width).copy_(b.Q1);
    losses += at::sum(b.Err1.square(), at::IntArrayRef{1}) / 2;
    if (i2 < cols) {
      auto w_err = at::bmm(b.Err1.unsqueeze(0), Hinv.narrow(0, i1, width).narrow(1, i2, cols - i2).unsqueeze(0))
                       .squeeze(0);
      W.narrow(1, i2, cols - i2) -= w_err;
    }
  }
  if (perm.defined()) W = W.index_select(1, at::argsort(perm));

  GptqResult r;
  r.dequantized = W.to(weight.scalar_type());
  // compressed-tensors' compressor: quantize(weight, scale, zero_point) -> int8 (fp8: e4m3).
  r.q = args.is_fp8() ? fp8_quantize(r.dequantized, qp.scale, args)
                      : quantize(r.dequantized, qp.scale, qp.zero_point, args);
  r.qparams = qp;
  r.loss = losses.sum().item<double>();
  r.row_losses = losses;
  r.rtn_fallback = rtn_fallback;
  return r;
}

}  // namespace qb::qmath
