// GPTQ on one Linear (see gptq.h), mirroring llm-compressor 0.14.0.1's eager code path
// (gptq_quantize.py quantize_weight + gptq_block_update, helpers.py factorize_hessian,
// apply_activation_ordering, column_scale_window) for a batch of one module.
#include "steps/qmath/gptq.h"

#include <cmath>
#include <string>

#include "steps/qmath/log/log.h"
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
    // bf16/fp16 values are exact in TF32 (≤ 11 significant bits), so TF32 tensor cores form the
    // products exactly and accumulate them in fp32 (with the tensor cores' own rounding inside
    // each MMA block) — ~8× faster than fp32 GEMM on Hopper; the difference from llm-compressor's
    // fp32 GEMM is accumulation order and rounding, at fp32 precision. Scaling by 2 after the product
    // (exact) instead of by √2 before keeps the inputs exact.
    struct Tf32 {
      bool was = at::globalContext().allowTF32CuBLAS();
      Tf32() { at::globalContext().setAllowTF32CuBLAS(true); }
      ~Tf32() { at::globalContext().setAllowTF32CuBLAS(was); }
    } tf32;
    auto xf = x.to(at::kFloat);
    sum_.addmm_(xf, xf.t(), 1.0, 2.0);
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

Status check_gptq_inputs(const at::Tensor& weight, const at::Tensor& hessian,
                         const QuantArgs& args, const GptqOptions& opts) {
  QB_TRY(check_int_args(args));
  if (args.strategy == Strategy::kToken)
    return invalid_argument("gptq: token strategy cannot be applied to weights");
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
  // g_idx: the group of each (permuted) column, by its original position.
  at::Tensor g_idx;
  if (args.strategy == Strategy::kGroup) {
    g_idx = at::floor_divide(at::arange(cols, W.options().dtype(at::kLong)), args.group_size);
    if (perm.defined()) g_idx = g_idx.index_select(0, perm);
  }

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
      case Strategy::kToken: break;  // rejected above
    }
    eff = eff.expand({rows, width}).contiguous();
    if (has_zp) zp = zp.to(at::kFloat).expand({rows, width}).contiguous();
    return {eff, zp};
  };
  // The per-column quantizer is compressed-tensors' fake_quantize with strategy channel on a
  // [rows, 1] column, written out here so each column costs as few kernel launches as possible
  // (on a GPU the column loop is launch-bound): w / s in fp32, (+ zp), clamp, round half to
  // even, to the scale dtype, (- zp), * s — the same operations on the same dtypes.
  const auto scale_dtype = qp.scale.scalar_type();
  const double qmin = static_cast<double>(args.qmin()), qmax = static_cast<double>(args.qmax());

  auto losses = at::zeros({rows}, W.options());
  for (std::int64_t i1 = 0; i1 < cols; i1 += opts.block_size) {
    const auto i2 = std::min(i1 + opts.block_size, cols);
    const auto width = i2 - i1;
    auto W1 = W.narrow(1, i1, width).clone();
    auto Q1 = at::zeros_like(W1);
    auto Err1 = at::zeros_like(W1);
    auto Hinv1 = Hinv.narrow(0, i1, width).narrow(1, i1, width);
    auto [eff, zpw] = scale_window(i1, i2);
    for (std::int64_t i = 0; i < width; ++i) {
      auto w = W1.narrow(1, i, 1);  // [rows, 1] fp32
      auto s = eff.narrow(1, i, 1);
      auto scaled = w / s;
      if (has_zp) scaled += zpw.narrow(1, i, 1);
      auto q = at::round(at::clamp(scaled, qmin, qmax)).to(scale_dtype);
      if (has_zp) q = q - zpw.narrow(1, i, 1).to(scale_dtype);
      q = q * s;  // the scale dtype: a value of the quantization grid
      auto err = Err1.narrow(1, i, 1);
      at::div_out(err, w - q, Hinv1.select(0, i).select(0, i));  // (w - q) / Hinv[i, i]
      Q1.narrow(1, i, 1).copy_(q);
      W1.narrow(1, i, width - i) -= err * Hinv1.select(0, i).narrow(0, i, width - i).unsqueeze(0);
    }
    W.narrow(1, i1, width).copy_(Q1);
    losses += at::sum(Err1.square(), at::IntArrayRef{1}) / 2;
    if (i2 < cols) {
      auto w_err = at::bmm(Err1.unsqueeze(0), Hinv.narrow(0, i1, width).narrow(1, i2, cols - i2).unsqueeze(0))
                       .squeeze(0);
      W.narrow(1, i2, cols - i2) -= w_err;
    }
  }
  if (perm.defined()) W = W.index_select(1, at::argsort(perm));

  GptqResult r;
  r.dequantized = W.to(weight.scalar_type());
  // compressed-tensors' compressor: quantize(weight, scale, zero_point) -> int8.
  r.q = quantize(r.dequantized, qp.scale, qp.zero_point, args);
  r.qparams = qp;
  r.loss = losses.sum().item<double>();
  r.rtn_fallback = rtn_fallback;
  return r;
}

}  // namespace qb::qmath
