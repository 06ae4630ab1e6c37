#include "steps/model/rms_norm.h"

namespace qb::model {

at::Tensor rms_norm(const at::Tensor& x, const at::Tensor& weight, double eps) {
  return weight * at::rms_norm(x, {x.size(-1)}, std::nullopt, eps);
}

at::Tensor rms_norm_reference(const at::Tensor& x, const at::Tensor& weight, double eps) {
  const at::Tensor xf = x.to(at::kFloat);                        // [..., n] fp32
  const at::Tensor var = xf.pow(2).mean(-1, /*keepdim=*/true);   // [..., 1]
  const at::Tensor normed = (xf * at::rsqrt(var + eps)).to(x.scalar_type());
  return weight * normed;
}

}  // namespace qb::model
