#include "steps/model/linear.h"

#include "steps/model/model_config.h"

namespace qb::model {

DenseLinear::DenseLinear(at::Tensor weight, std::optional<at::Tensor> bias, std::string label)
    : weight_(std::move(weight)), bias_(std::move(bias)), label_(std::move(label)) {}

at::Tensor DenseLinear::forward(const at::Tensor& x) const {
  return at::linear(x, weight_, bias_);  // [..., in] -> [..., out]
}

at::Tensor DenseLinear::effective_weight(at::ScalarType dtype) const { return weight_.to(dtype); }

std::string DenseLinear::describe() const {
  return label_ + " " + shape_label(weight_.sizes()) + " " + dtype_label(weight_.scalar_type()) +
         (bias_ ? " +bias" : "");
}

TransformedLinear::TransformedLinear(std::shared_ptr<const InputTransform> transform,
                                     std::shared_ptr<const Linear> inner)
    : transform_(std::move(transform)), inner_(std::move(inner)) {}

at::Tensor TransformedLinear::forward(const at::Tensor& x) const {
  return inner_->forward(transform_->apply(x));
}

at::Tensor TransformedLinear::effective_weight(at::ScalarType dtype) const {
  // transform(x) = x Mᵀ for a linear transform, so y = x Mᵀ Wᵀ = x (W M)ᵀ and
  // W_eff = W M = W · transform(I)ᵀ.
  const at::Tensor w = inner_->effective_weight(at::kFloat);                   // [out, n]
  const at::Tensor eye = at::eye(in_features(), w.options());                  // [n, n]
  const at::Tensor mt = transform_->apply(eye).to(at::kFloat);                 // Mᵀ [n, n]
  return at::matmul(w, mt.t()).to(dtype);
}

std::string TransformedLinear::describe() const {
  return transform_->describe() + " -> " + inner_->describe();
}

Result<std::shared_ptr<const Linear>> make_transformed(
    std::shared_ptr<const InputTransform> transform, std::shared_ptr<const Linear> inner) {
  if (!transform || !inner) return invalid_argument("make_transformed: null argument");
  if (transform->size() != inner->in_features())
    return invalid_argument("input transform '" + transform->describe() + "' has size " +
                            std::to_string(transform->size()) + " but the layer takes " +
                            std::to_string(inner->in_features()) + " inputs");
  return std::shared_ptr<const Linear>(
      std::make_shared<TransformedLinear>(std::move(transform), std::move(inner)));
}

Result<std::shared_ptr<const Linear>> to_device(const std::shared_ptr<const Linear>& linear,
                                                at::Device device) {
  if (!linear) return invalid_argument("to_device: null layer");
  if (auto d = std::dynamic_pointer_cast<const DenseLinear>(linear)) {
    if (d->weight().device() == device) return linear;
    std::optional<at::Tensor> bias;
    if (d->bias()) bias = d->bias()->to(device);
    return std::shared_ptr<const Linear>(
        std::make_shared<DenseLinear>(d->weight().to(device), bias, d->label()));
  }
  if (auto t = std::dynamic_pointer_cast<const TransformedLinear>(linear)) {
    QB_ASSIGN_OR_RETURN(auto inner, to_device(t->inner(), device));
    return make_transformed(t->transform(), std::move(inner));
  }
  return invalid_argument("moving a '" + linear->describe() + "' layer to another device");
}

}  // namespace qb::model
