// Fast and reference fusion of one SpinQuant plan; see fusion.h and spinquant_plan.h.
#include "steps/transforms/fusion.h"

#include <map>
#include <vector>

#include "util/progress.h"

namespace qb::transforms {
namespace {

std::string shape_string(const at::Tensor& t) {
  std::string s = "[";
  for (int64_t i = 0; i < t.dim(); ++i) s += (i ? ", " : "") + std::to_string(t.size(i));
  return s + "]";
}

// The dense n×n matrix of a rotation (block-diagonal Q), float64 on `device`.
at::Tensor dense(const hadamard::Rotation& r, at::Device device) {
  const auto b = r.block_matrix();
  std::vector<at::Tensor> blocks(static_cast<size_t>(r.size() / r.block_size()), b);
  return at::block_diag(blocks).to(device);
}

// Fast path: W·diag(g), centering, then the input rotation on the rows' last dimension and the
// output rotation on the columns (Q_outᵀ·W = (Wᵀ·Q_out)ᵀ).
at::Tensor apply_fast(const TensorRecipe& r, at::Tensor w, const at::Tensor& norm) {
  if (r.ones) return at::ones_like(w);
  if (w.dim() == 1) return r.out ? r.out->apply(w) : w;  // bias: b·Q_out
  if (norm.defined()) w = w * norm.unsqueeze(0);
  if (r.center) w = w - w.mean(-1, /*keepdim=*/true);
  if (r.in) w = r.in->apply(w);
  if (r.out) w = r.out->apply(w.t().contiguous()).t();
  return w.contiguous();
}

// Reference: W' = Q_outᵀ · W · diag(g) · (I − 11ᵀ/n) · Q_in with every factor a dense matrix.
at::Tensor apply_reference(const TensorRecipe& r, const at::Tensor& w, const at::Tensor& norm,
                           at::Device device) {
  if (r.ones) return at::ones_like(w);
  if (w.dim() == 1) return r.out ? at::matmul(w, dense(*r.out, device)) : w;
  const int64_t in = w.size(1), out = w.size(0);
  auto m = at::eye(in, w.options());
  if (norm.defined()) m = at::diag(norm);
  if (r.center) m = at::matmul(m, at::eye(in, w.options()) - at::full({in, in}, 1.0 / in, w.options()));
  if (r.in) m = at::matmul(m, dense(*r.in, device));
  auto left = r.out ? dense(*r.out, device).t() : at::eye(out, w.options());
  return at::matmul(at::matmul(left, w), m).contiguous();
}

}  // namespace

Status fuse_and_rotate(const SpinQuantPlan& plan, const TensorSource& source, const TensorSink& sink,
                       at::Device device, FusionPath path) {
  const auto recipes = plan.recipes();
  std::map<std::string, at::Tensor> norms;  // RMSNorm weights read before they become ones
  auto load = [&](const std::string& name) -> Result<at::Tensor> {
    QB_ASSIGN_OR_RETURN(at::Tensor t, source(name));
    if (!t.is_floating_point())
      return invalid_argument("tensor '" + name + "' is not floating point (" +
                              std::string(c10::toString(t.scalar_type())) + ")");
    return t.to(device, at::kDouble);
  };
  Progress progress("spinquant fuse/rotate", static_cast<int64_t>(recipes.size()));
  for (const auto& r : recipes) {
    try {
      at::Tensor norm;
      if (!r.norm.empty()) {
        auto it = norms.find(r.norm);
        if (it == norms.end()) {
          QB_ASSIGN_OR_RETURN(at::Tensor n, load(r.norm));
          it = norms.emplace(r.norm, n).first;
        }
        norm = it->second;
      }
      QB_ASSIGN_OR_RETURN(at::Tensor w, load(r.source));
      // Shapes: matrices [out, in] must match the rotations and the norm; vectors the output.
      const int64_t in_dim = w.dim() == 2 ? w.size(1) : 0, out_dim = w.size(0);
      const bool ok = (w.dim() == 1 || w.dim() == 2) &&
                      (!r.in || w.dim() != 2 || in_dim == r.in->size()) &&
                      (!r.out || out_dim == r.out->size()) &&
                      (!norm.defined() || (norm.dim() == 1 && norm.size(0) == in_dim));
      if (!ok)
        return invalid_argument("tensor '" + r.source + "' has shape " + shape_string(w) +
                                ", which does not fit the model's config" +
                                (norm.defined() ? " and '" + r.norm + "' " + shape_string(norm) : std::string()));
      at::Tensor y = path == FusionPath::kFast ? apply_fast(r, std::move(w), norm)
                                               : apply_reference(r, w, norm, device);
      QB_TRY(sink(r.name, y));
    } catch (const c10::Error& e) {
      return internal_error("fusing '" + r.name + "': " + e.what_without_backtrace());
    }
    progress.advance();
  }
  if (const auto* r4 = plan.r4()) QB_TRY(sink(kR4WeightName, r4->weight().to(device)));
  return Status::ok();
}

}  // namespace qb::transforms
