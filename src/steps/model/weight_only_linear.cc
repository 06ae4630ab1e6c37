#include "steps/model/weight_only_linear.h"

#include "steps/model/model_config.h"
#include "steps/model/quant_ops.h"

namespace qb::model {

Result<std::shared_ptr<const WeightOnlyLinear>> WeightOnlyLinear::create(
    int bits, const at::Tensor& q, const at::Tensor& scale,
    const std::optional<at::Tensor>& zero_point, std::optional<at::Tensor> bias,
    at::ScalarType compute_dtype) {
  if (bits != 8 && bits != 4) return invalid_argument("weight-only: " + std::to_string(bits) + " bits (8 or 4)");
  if (q.dim() != 2 || q.scalar_type() != at::kChar)
    return invalid_argument("weight: expected int8 codes [out, in]");
  const int64_t out = q.size(0), in = q.size(1);
  if (!at::isFloatingType(scale.scalar_type()))
    return invalid_argument("weight_scale: expected a floating type");
  auto p = std::shared_ptr<WeightOnlyLinear>(new WeightOnlyLinear());
  p->bits_ = bits;
  p->in_ = in;
  p->out_ = out;
  p->dtype_ = compute_dtype;
  if (bias) p->bias_ = bias->to(compute_dtype).contiguous();
  if (bits == 8) {
    if (zero_point) return invalid_argument("weight_zero_point: int8 weight-only is symmetric");
    at::Tensor s = scale.to(at::kFloat);
    if (s.numel() == 1 || (s.numel() == out && (s.dim() == 1 || s.size(-1) == 1)))
      s = s.reshape({-1, 1}).expand({out, 1});                                     // per channel
    if (s.dim() != 2 || s.size(0) != out || in % s.size(1) != 0)
      return invalid_argument("weight_scale: expected [" + std::to_string(out) +
                              ", 1] (per channel), [" + std::to_string(out) +
                              ", in / group] or [1], got " + shape_label(scale.sizes()));
    p->group_ = in / s.size(1);
    p->codes_ = q.contiguous();
    p->scale_ = s.contiguous();                                                    // [out, in / group]
    return std::shared_ptr<const WeightOnlyLinear>(std::move(p));
  }
  if (scale.dim() != 2 || scale.size(0) != out || scale.size(1) < 1 || in % scale.size(1) != 0)
    return invalid_argument("weight_scale: expected [" + std::to_string(out) + ", in / group] for in " +
                            std::to_string(in) + ", got " + shape_label(scale.sizes()));
  if (in % 2 != 0) return invalid_argument("weight: int4 needs an even in_features, got " + std::to_string(in));
  if (at::any(q < -8).item<bool>() || at::any(q > 7).item<bool>())
    return invalid_argument("weight: int4 codes outside [-8, 7]");
  p->group_ = in / scale.size(1);
  const at::Tensor u = (q.to(at::kShort) + 8).to(at::kByte);                     // [out, in]
  const at::Tensor lo = u.slice(1, 0, in, 2);
  const at::Tensor hi = u.slice(1, 1, in, 2);
  p->codes_ = at::bitwise_or(lo, at::bitwise_left_shift(hi, 4)).contiguous();     // [out, in / 2]
  p->scale_ = scale.to(at::kFloat).contiguous();
  if (zero_point) {
    if (zero_point->sizes() != scale.sizes())
      return invalid_argument("weight_zero_point: shape " + shape_label(zero_point->sizes()) +
                              ", expected the scale's " + shape_label(scale.sizes()));
    p->zero_ = (zero_point->to(at::kFloat) + 8).contiguous();
  }
  return std::shared_ptr<const WeightOnlyLinear>(std::move(p));
}

std::shared_ptr<const WeightOnlyLinear> WeightOnlyLinear::concat(
    const std::vector<const WeightOnlyLinear*>& parts) {
  if (parts.empty()) return nullptr;
  const WeightOnlyLinear& a = *parts[0];
  std::vector<at::Tensor> codes, scales, zeros, biases;
  int64_t out = 0;
  for (const WeightOnlyLinear* p : parts) {
    if (p->bits_ != a.bits_ || p->group_ != a.group_ || p->in_ != a.in_ || p->dtype_ != a.dtype_ ||
        p->zero_.defined() != a.zero_.defined() || p->bias_.has_value() != a.bias_.has_value() ||
        p->codes_.device() != a.codes_.device())
      return nullptr;
    codes.push_back(p->codes_);
    scales.push_back(p->scale_);
    if (p->zero_.defined()) zeros.push_back(p->zero_);
    if (p->bias_) biases.push_back(*p->bias_);
    out += p->out_;
  }
  auto f = std::shared_ptr<WeightOnlyLinear>(new WeightOnlyLinear(a));
  f->out_ = out;
  f->codes_ = at::cat(codes, 0);
  f->scale_ = at::cat(scales, 0);
  if (!zeros.empty()) f->zero_ = at::cat(zeros, 0);
  if (!biases.empty()) f->bias_ = at::cat(biases, 0);
  return f;
}

std::shared_ptr<const WeightOnlyLinear> WeightOnlyLinear::rows(int64_t offset, int64_t count) const {
  auto f = std::shared_ptr<WeightOnlyLinear>(new WeightOnlyLinear(*this));
  f->out_ = count;
  f->codes_ = codes_.narrow(0, offset, count);
  f->scale_ = scale_.narrow(0, offset, count);
  if (zero_.defined()) f->zero_ = zero_.narrow(0, offset, count);
  if (bias_) f->bias_ = bias_->narrow(0, offset, count);
  return f;
}

at::Tensor WeightOnlyLinear::effective_weight(at::ScalarType dtype) const {
  if (bits_ == 8) return (codes_.to(at::kFloat) * scale_.repeat_interleave(group_, 1)).to(dtype);
  const at::Tensor lo = at::bitwise_and(codes_, 15), hi = at::bitwise_right_shift(codes_, 4);
  const at::Tensor u = at::stack({lo, hi}, 2).reshape({out_, in_}).to(at::kFloat);  // [out, in]
  const at::Tensor z = zero_.defined() ? zero_.repeat_interleave(group_, 1) : at::full({1}, 8.0f, u.options());
  // (u - z) is a small integer and scale has at most 24 significant bits: the product is exact
  // in fp32, so one rounding to `dtype` — what the kernels round.
  return ((u - z) * scale_.repeat_interleave(group_, 1)).to(dtype);
}

at::Tensor WeightOnlyLinear::dense_weight() const {
  if (codes_.is_cuda() && qops::available() && (dtype_ == at::kBFloat16 || dtype_ == at::kHalf))
    return qops::weight_only_dequant(bits_, codes_, scale_, zero_, out_, in_, group_, dtype_);
  return effective_weight(dtype_);
}

at::Tensor WeightOnlyLinear::forward(const at::Tensor& x) const {
  const at::Tensor b = bias_ ? *bias_ : at::Tensor();
  if (x.is_cuda() && qops::available() && x.scalar_type() == dtype_ && codes_.is_cuda() &&
      (dtype_ == at::kBFloat16 || dtype_ == at::kHalf)) {
    if (qops::weight_only_gemv_ok(bits_, x, in_, group_))
      return qops::weight_only_gemv(bits_, x, codes_, scale_, zero_, b, out_, in_, group_);
    return at::linear(x, dense_weight(), bias_);
  }
  return at::linear(x, effective_weight(x.scalar_type()), bias_);
}

std::string WeightOnlyLinear::describe() const {
  return "w" + std::to_string(bits_) + "a16 " + shape_label({out_, in_}) +
         (group_ == in_ ? std::string(" per-channel") : " group " + std::to_string(group_)) +
         (zero_.defined() ? " asymmetric" : " symmetric") + (bias_ ? " +bias" : "");
}

}  // namespace qb::model
