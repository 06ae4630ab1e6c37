// The forward pass. Trace names (ForwardHooks::trace), per layer prefixed "model.layers.<i>.":
//   model.embed_tokens                    [B, T, C]   embeddings
//   input_layernorm                       [B, T, C]
//   self_attn.q / .k / .v                 [B, h, T, D] after q/k norm and RoPE (v: projection)
//   self_attn.attn                        [B, T, H*D] attention output before o_proj
//   self_attn.o_proj                      [B, T, C]
//   residual_attn                         [B, T, C]   x + attention
//   post_attention_layernorm              [B, T, C]
//   mlp.act                               [B, T, F]   silu(gate) * up, down_proj's input
//   mlp.down_proj                         [B, T, C]
//   output                                [B, T, C]   the layer's output
//   model.norm                            [B, T, C]   final norm
// Linear inputs (ForwardHooks::linear_input) are named by module: "model.layers.3.mlp.up_proj"
// (with fused q|k|v or gate|up projections each part still reports its own input).
#include "steps/model/model.h"

#include <cmath>

#include "steps/model/fused_decode.h"
#include "steps/model/int8_linear.h"
#include "steps/model/quant_ops.h"
#include "steps/model/rms_norm.h"
#include "steps/model/tensor_names.h"
#include "steps/model/weight_only_linear.h"

namespace qb::model {

// ---------------------------------------------------------------------------------------------
// DecoderLayer

void DecoderLayer::trace(const ForwardHooks* hooks, std::string_view what,
                         const at::Tensor& t) const {
  if (hooks && hooks->trace) hooks->trace(prefix_ + std::string(what), t);
}

void DecoderLayer::observe(const ForwardHooks* hooks, std::string_view role,
                           const at::Tensor& x) const {
  if (hooks && hooks->linear_input) hooks->linear_input(prefix_ + std::string(role), x);
}

at::Tensor DecoderLayer::linear(const Linear& f, std::string_view role, const at::Tensor& x,
                                const ForwardHooks* hooks) const {
  observe(hooks, role, x);
  return f.forward(x);
}

namespace {

// `f` as an Int8Linear whose input the fused norm / SwiGLU kernels can quantize (quant_ops.h):
// rows x cols of `x`'s device and dtype, no hooks to observe the unquantized input. Else null.
const Int8Linear* int8_input(const std::shared_ptr<const Linear>& f, const at::Tensor& x,
                             int64_t cols, const ForwardHooks* hooks) {
  if (hooks || !f || !x.is_cuda() || !qops::available()) return nullptr;
  const auto* q = dynamic_cast<const Int8Linear*>(f.get());
  const int64_t rows = x.numel() / x.size(-1);
  if (!q || q->in_features() != cols || !q->fast_path(rows, x.device(), x.scalar_type()) ||
      !qops::act_quant_ok(x.narrow(-1, 0, cols)))
    return nullptr;
  return q;
}

}  // namespace

at::Tensor DecoderLayer::forward(const at::Tensor& x, const LayerInputs& in, KvCache* cache,
                                 const ForwardHooks* hooks) const {
  const ModelConfig& c = *config_;
  const int64_t b = x.size(0), t = x.size(1);
  const int64_t h = c.num_heads, kvh = c.num_kv_heads, d = c.head_dim;
  const int64_t f = c.intermediate_size;
  if (path_ == LayerPath::kEager) return forward_eager(x, in, cache, hooks);
  if (fused_decode_ && cache && t == 1 && !hooks && x.is_cuda()) return forward_decode_fused(x, in, *cache);

  // ---- attention ----
  at::Tensor qkv;                                                   // [B, T, (H + 2 KVH) * D]
  if (const Int8Linear* q8 = int8_input(qkv_, x, c.hidden_size, hooks)) {
    // W8A8: the norm writes int8 codes and per-token scales, the GEMM scales in its epilogue.
    const auto a = qops::rms_norm_quant(x, {}, w_.input_layernorm, c.rms_norm_eps,
                                        q8->input_scale()).second;
    qkv = q8->forward_codes(a.q, a.scale);
  } else if (at::Tensor xn = rms_norm(x, w_.input_layernorm, c.rms_norm_eps); qkv_) {  // [B, T, C]
    trace(hooks, "input_layernorm", xn);
    for (const char* role : {"self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj"})
      observe(hooks, role, xn);
    qkv = qkv_->forward(xn);
  } else {
    trace(hooks, "input_layernorm", xn);
    qkv = at::cat({linear(*w_.q_proj, "self_attn.q_proj", xn, hooks),
                   linear(*w_.k_proj, "self_attn.k_proj", xn, hooks),
                   linear(*w_.v_proj, "self_attn.v_proj", xn, hooks)}, -1);
  }
  qkv = qkv.view({b, t, h + 2 * kvh, d});                                          // [B, T, H+2KVH, D]
  // q_norm / k_norm per head: one norm over all heads of the contiguous qkv (the v rows of
  // qk_norm_ are ones and their result unused), cheaper than normalizing a strided view.
  at::Tensor normed = c.qk_norm ? rms_norm(qkv, qk_norm_, c.rms_norm_eps) : qkv;
  at::Tensor qk = apply_rope(normed.narrow(2, 0, h + kvh), in.rope);               // [B, T, H+KVH, D]
  at::Tensor q = qk.narrow(2, 0, h).transpose(1, 2);                               // [B, H, T, D]
  at::Tensor k = qk.narrow(2, h, kvh).transpose(1, 2);                             // [B, KVH, T, D]
  at::Tensor v = qkv.narrow(2, h + kvh, kvh).transpose(1, 2);                      // [B, KVH, T, D]
  trace(hooks, "self_attn.q", q);
  trace(hooks, "self_attn.k", k);
  trace(hooks, "self_attn.v", v);
  if (cache) std::tie(k, v) = cache->append(index_, k, v);                         // [B, KVH, S, D]
  at::Tensor y = attention(q, k, v, in.mask, attention_);                          // [B, H, T, D]
  y = y.transpose(1, 2).reshape({b, t, h * d});                                    // [B, T, H*D]
  trace(hooks, "self_attn.attn", y);
  at::Tensor attn_out = linear(*w_.o_proj, "self_attn.o_proj", y, hooks);          // [B, T, C]
  trace(hooks, "self_attn.o_proj", attn_out);
  // ---- MLP (SwiGLU) ----
  if (const Int8Linear* gu8 = int8_input(gate_up_, x, c.hidden_size, hooks)) {
    // W8A8: residual add + norm -> codes; SwiGLU -> down_proj's codes where it takes them.
    auto [r, a] = qops::rms_norm_quant(x, attn_out, w_.post_attention_layernorm, c.rms_norm_eps,
                                       gu8->input_scale());                        // [B, T, C]
    const at::Tensor gu = gu8->forward_codes(a.q, a.scale);                        // [B, T, 2F]
    at::Tensor mlp_out;                                                            // [B, T, C]
    if (const Int8Linear* d8 = int8_input(w_.down_proj, gu, f, hooks)) {
      const qops::Int8Act act = qops::silu_mul_quant(gu, d8->input_scale());
      mlp_out = d8->forward_codes(act.q, act.scale);
    } else {
      mlp_out = w_.down_proj->forward(at::silu(gu.narrow(-1, 0, f)) * gu.narrow(-1, f, f));
    }
    return r + mlp_out;
  }
  at::Tensor r = x + attn_out;                                                     // [B, T, C]
  trace(hooks, "residual_attn", r);
  at::Tensor rn = rms_norm(r, w_.post_attention_layernorm, c.rms_norm_eps);        // [B, T, C]
  trace(hooks, "post_attention_layernorm", rn);
  at::Tensor gate, up;                                                             // [B, T, F]
  if (gate_up_) {
    observe(hooks, "mlp.gate_proj", rn);
    observe(hooks, "mlp.up_proj", rn);
    const at::Tensor gu = gate_up_->forward(rn);                                   // [B, T, 2F]
    gate = gu.narrow(-1, 0, f);
    up = gu.narrow(-1, f, f);
  } else {
    gate = linear(*w_.gate_proj, "mlp.gate_proj", rn, hooks);
    up = linear(*w_.up_proj, "mlp.up_proj", rn, hooks);
  }
  at::Tensor act = at::silu(gate) * up;                                            // [B, T, F]
  trace(hooks, "mlp.act", act);
  at::Tensor mlp_out = linear(*w_.down_proj, "mlp.down_proj", act, hooks);         // [B, T, C]
  trace(hooks, "mlp.down_proj", mlp_out);
  at::Tensor out = r + mlp_out;                                                    // [B, T, C]
  trace(hooks, "output", out);
  return out;
}

// transformers 5.17's Qwen3DecoderLayer / Qwen3Attention / eager_attention_forward / Qwen3MLP,
// one line per line of theirs (model.h, LayerPath::kEager). Qwen2 and Llama are the same
// without the q/k norms (Qwen2's q/k/v biases are in the projections).
at::Tensor DecoderLayer::forward_eager(const at::Tensor& x, const LayerInputs& in, KvCache* cache,
                                       const ForwardHooks* hooks) const {
  const ModelConfig& c = *config_;
  // ---- attention ----
  const at::Tensor xn = rms_norm_reference(x, w_.input_layernorm, c.rms_norm_eps);  // [B, T, C]
  trace(hooks, "input_layernorm", xn);
  const at::Tensor attn_out = eager_attention(w_, xn, in, cache, hooks);           // [B, T, C]
  const at::Tensor r = x + attn_out;                                               // [B, T, C]
  trace(hooks, "residual_attn", r);

  // ---- MLP ----
  const at::Tensor rn = rms_norm_reference(r, w_.post_attention_layernorm, c.rms_norm_eps);  // [B, T, C]
  trace(hooks, "post_attention_layernorm", rn);
  const at::Tensor mlp_out = eager_mlp(w_, rn, hooks);                             // [B, T, C]
  const at::Tensor out = r + mlp_out;                                              // [B, T, C]
  trace(hooks, "output", out);
  return out;
}

// Qwen3Attention.forward with attn_implementation="eager", from the normed hidden states.
at::Tensor DecoderLayer::eager_attention(const LayerWeights& w, const at::Tensor& xn, const LayerInputs& in,
                                         KvCache* cache, const ForwardHooks* hooks) const {
  const ModelConfig& c = *config_;
  const int64_t b = xn.size(0), t = xn.size(1), d = c.head_dim;
  const int64_t groups = c.num_heads / c.num_kv_heads;
  const double eps = c.rms_norm_eps;
  at::Tensor q = linear(*w.q_proj, "self_attn.q_proj", xn, hooks).view({b, t, -1, d});  // [B, T, H, D]
  if (c.qk_norm) q = rms_norm_reference(q, w.q_norm, eps);
  q = q.transpose(1, 2);                                                           // [B, H, T, D]
  at::Tensor k = linear(*w.k_proj, "self_attn.k_proj", xn, hooks).view({b, t, -1, d});  // [B, T, KVH, D]
  if (c.qk_norm) k = rms_norm_reference(k, w.k_norm, eps);
  k = k.transpose(1, 2);                                                           // [B, KVH, T, D]
  at::Tensor v = linear(*w.v_proj, "self_attn.v_proj", xn, hooks).view({b, t, -1, d}).transpose(1, 2);
  // apply_rotary_pos_emb with cos/sin [B, T, D] unsqueezed at dim 1. The tables carry
  // sin_signed = [-sin, sin] by halves; negating its first half back is exact.
  const int64_t half = d / 2;
  const at::Tensor cos = in.rope.cos.squeeze(2).unsqueeze(1);                      // [B, 1, T, D]
  const at::Tensor ss = in.rope.sin_signed.squeeze(2).unsqueeze(1);                // [B, 1, T, D]
  const at::Tensor sin = at::cat({-ss.narrow(-1, 0, half), ss.narrow(-1, half, half)}, -1);
  auto rotate_half = [&](const at::Tensor& y) {
    return at::cat({-y.narrow(-1, half, half), y.narrow(-1, 0, half)}, -1);
  };
  q = q * cos + rotate_half(q) * sin;                                              // [B, H, T, D]
  k = k * cos + rotate_half(k) * sin;                                              // [B, KVH, T, D]
  trace(hooks, "self_attn.q", q);
  trace(hooks, "self_attn.k", k);
  trace(hooks, "self_attn.v", v);
  if (cache) std::tie(k, v) = cache->append(index_, k, v);                         // [B, KVH, S, D]
  // eager_attention_forward: repeat_kv is expand + reshape.
  auto repeat_kv = [&](const at::Tensor& y) {
    if (groups == 1) return y;
    const int64_t s = y.size(2);
    return y.unsqueeze(2).expand({b, c.num_kv_heads, groups, s, d}).reshape({b, c.num_heads, s, d});
  };
  const at::Tensor kr = repeat_kv(k), vr = repeat_kv(v);                           // [B, H, S, D]
  const double scaling = std::pow(static_cast<double>(d), -0.5);                   // head_dim**-0.5
  at::Tensor a = at::matmul(q, kr.transpose(2, 3)) * scaling;                      // [B, H, T, S]
  a = a + in.mask;
  a = at::softmax(a, -1, at::kFloat).to(q.scalar_type());
  at::Tensor y = at::matmul(a, vr).transpose(1, 2).contiguous();                   // [B, T, H, D]
  y = y.reshape({b, t, -1}).contiguous();                                          // [B, T, H*D]
  trace(hooks, "self_attn.attn", y);
  const at::Tensor attn_out = linear(*w.o_proj, "self_attn.o_proj", y, hooks);    // [B, T, C]
  trace(hooks, "self_attn.o_proj", attn_out);
  return attn_out;
}

// Qwen3MLP.forward: down_proj(act_fn(gate_proj(x)) * up_proj(x)).
at::Tensor DecoderLayer::eager_mlp(const LayerWeights& w, const at::Tensor& rn, const ForwardHooks* hooks) const {
  const at::Tensor gate = linear(*w.gate_proj, "mlp.gate_proj", rn, hooks);      // [B, T, F]
  const at::Tensor act = at::silu(gate) * linear(*w.up_proj, "mlp.up_proj", rn, hooks);
  trace(hooks, "mlp.act", act);
  const at::Tensor mlp_out = linear(*w.down_proj, "mlp.down_proj", act, hooks);   // [B, T, C]
  trace(hooks, "mlp.down_proj", mlp_out);
  return mlp_out;
}

// The same computation as forward() for one token per row: six or seven kernels besides the
// projections (fused_decode.h);
// attention reads only the slots written so far (the cache's device slot counter).
at::Tensor DecoderLayer::forward_decode_fused(const at::Tensor& x, const LayerInputs& in,
                                              KvCache& cache) const {
  const ModelConfig& c = *config_;
  const double eps = c.rms_norm_eps;
  at::Tensor qkv;                                                                  // [B, 1, (H+2KVH)*D]
  if (const Int8Linear* q8 = int8_input(qkv_, x, c.hidden_size, nullptr)) {
    const auto a = qops::rms_norm_quant(x, {}, w_.input_layernorm, eps, q8->input_scale()).second;
    qkv = q8->forward_codes(a.q, a.scale);
  } else {
    const at::Tensor xn = fused::rms_norm(x, w_.input_layernorm, eps);             // [B, 1, C]
    qkv = qkv_ ? fused::linear(*qkv_, xn)
               : at::cat({fused::linear(*w_.q_proj, xn), fused::linear(*w_.k_proj, xn),
                          fused::linear(*w_.v_proj, xn)}, -1);
  }
  const at::Tensor q = fused::qk_norm_rope_cache(qkv, c.qk_norm ? qk_norm_ : at::Tensor(),
                                                 in.rope.cos, in.rope.sin_signed,
                                                 cache.keys(index_), cache.values(index_),
                                                 cache.slot(), eps);
  const at::Tensor y = fused::decode_attention(q, cache.keys(index_), cache.values(index_),
                                               cache.key_valid(), cache.slot());  // [B, H, D]
  const at::Tensor attn_out = fused::linear(*w_.o_proj, y.view({x.size(0), 1, -1}));  // [B, 1, C]
  if (const Int8Linear* gu8 = int8_input(gate_up_, x, c.hidden_size, nullptr)) {
    auto [r, a] = qops::rms_norm_quant(x, attn_out, w_.post_attention_layernorm, eps,
                                       gu8->input_scale());
    const at::Tensor gu = gu8->forward_codes(a.q, a.scale);                        // [B, 1, 2F]
    const int64_t f = c.intermediate_size;
    if (const Int8Linear* d8 = int8_input(w_.down_proj, gu, f, nullptr)) {
      const qops::Int8Act act = qops::silu_mul_quant(gu, d8->input_scale());
      return r + d8->forward_codes(act.q, act.scale);
    }
    return r + fused::linear(*w_.down_proj, fused::silu_mul(gu));
  }
  const auto [r, rn] = fused::add_rms_norm(x, attn_out, w_.post_attention_layernorm, eps);
  at::Tensor act;                                                                  // [B, 1, F]
  if (gate_up_) {
    act = fused::silu_mul(fused::linear(*gate_up_, rn));
  } else {
    act = at::silu(fused::linear(*w_.gate_proj, rn)) * fused::linear(*w_.up_proj, rn);
  }
  return r + fused::linear(*w_.down_proj, act);                                    // [B, 1, C]
}

namespace {

using Parts = std::initializer_list<std::shared_ptr<const Linear>*>;

// The parts as T, or empty when one of them is not a T.
template <class T>
std::vector<const T*> parts_as(Parts parts) {
  std::vector<const T*> out;
  for (auto* p : parts) {
    const auto* t = dynamic_cast<const T*>(p->get());
    if (!t) return {};
    out.push_back(t);
  }
  return out;
}

// Concatenated biases [sum out] (all parts have one), or nullopt (none has).
template <class T>
std::optional<at::Tensor> cat_biases(const std::vector<const T*>& parts) {
  if (!parts[0]->bias()) return std::nullopt;
  std::vector<at::Tensor> b;
  for (const T* p : parts) b.push_back(*p->bias());
  return at::cat(b, 0);
}

std::optional<at::Tensor> rows(const std::optional<at::Tensor>& t, int64_t offset, int64_t n) {
  if (!t) return std::nullopt;
  return t->narrow(0, offset, n);
}

// Rebinds part i to make(i, offset_i, out_i), where the parts' rows follow each other.
template <class T, class Make>
void rebind_parts(Parts parts, const std::vector<const T*>& typed, Make make) {
  int64_t offset = 0;
  size_t i = 0;
  for (auto* p : parts) {
    const int64_t out = typed[i]->out_features();
    *p = make(i, offset, out);
    offset += out;
    ++i;
  }
}

// Parts that can share one GEMM: same input size, device, dtype, and all or none with a bias.
template <class T>
bool compatible(const std::vector<const T*>& parts) {
  if (parts.empty()) return false;
  for (const T* p : parts)
    if (p->weight().scalar_type() != parts[0]->weight().scalar_type() ||
        p->weight().device() != parts[0]->weight().device() ||
        p->in_features() != parts[0]->in_features() ||
        p->bias().has_value() != parts[0]->bias().has_value())
      return false;
  return true;
}

// One DenseLinear over the concatenated rows of `parts` when every part is a plain DenseLinear;
// each part is then rebound to a view of the fused weight, so memory is not doubled. nullptr
// (parts untouched) otherwise.
std::shared_ptr<const Linear> fuse_dense(Parts parts) {
  const auto dense = parts_as<DenseLinear>(parts);
  if (!compatible(dense)) return nullptr;
  std::vector<at::Tensor> weights;
  for (const DenseLinear* d : dense) weights.push_back(d->weight());
  const at::Tensor w = at::cat(weights, 0);                                        // [sum out, in]
  const std::optional<at::Tensor> bias = cat_biases(dense);
  rebind_parts(parts, dense, [&](size_t i, int64_t offset, int64_t out) {
    return std::make_shared<DenseLinear>(w.narrow(0, offset, out), rows(bias, offset, out),
                                         dense[i]->label());
  });
  return std::make_shared<DenseLinear>(w, bias, "fused");
}

// The same for Int8Linears: their inputs are one tensor, so dynamic per-token quantization gives
// every part the same codes, and static parts must share one input_scale (llm-compressor
// observes the same activations for each, so they do). The fused layer is bit-identical to the
// parts. nullptr (parts untouched) when they differ.
std::shared_ptr<const Linear> fuse_int8(Parts parts, at::ScalarType dtype) {
  const auto q = parts_as<Int8Linear>(parts);
  if (!compatible(q)) return nullptr;
  std::vector<at::Tensor> weights, scales;
  for (const Int8Linear* d : q) {
    if (d->static_input() != q[0]->static_input() ||
        (d->static_input() && !at::equal(d->input_scale(), q[0]->input_scale())))
      return nullptr;
    weights.push_back(d->weight());
    scales.push_back(d->weight_scale().expand({d->out_features(), 1}));  // per-tensor -> rows
  }
  const at::Tensor w = at::cat(weights, 0);                                        // [sum out, in]
  const at::Tensor s = at::cat(scales, 0);                                         // [sum out, 1]
  const std::optional<at::Tensor> bias = cat_biases(q);
  std::optional<at::Tensor> input_scale;
  if (q[0]->static_input()) input_scale = q[0]->input_scale();
  auto fused = Int8Linear::create(w, s, input_scale, bias, dtype);
  if (!fused.is_ok()) return nullptr;
  // Views of valid parts of a valid fused layer: create() cannot fail for them.
  rebind_parts(parts, q, [&](size_t, int64_t offset, int64_t out) {
    return *Int8Linear::create(w.narrow(0, offset, out), s.narrow(0, offset, out), input_scale,
                               rows(bias, offset, out), dtype);
  });
  return std::move(fused).value();
}

// The same for WeightOnlyLinears of one format: concatenated codes, parts rebound to row views.
std::shared_ptr<const Linear> fuse_weight_only(Parts parts) {
  const auto w = parts_as<WeightOnlyLinear>(parts);
  if (w.empty()) return nullptr;
  auto fused = WeightOnlyLinear::concat(w);
  if (!fused) return nullptr;
  rebind_parts(parts, w, [&](size_t, int64_t offset, int64_t out) { return fused->rows(offset, out); });
  return fused;
}

std::shared_ptr<const Linear> fuse_parts(Parts parts, at::ScalarType dtype) {
  if (auto f = fuse_dense(parts)) return f;
  if (auto f = fuse_weight_only(parts)) return f;
  return fuse_int8(parts, dtype);
}

}  // namespace

void DecoderLayer::fuse() {
  if (path_ == LayerPath::kEager) return unfuse();
  const at::ScalarType dtype = w_.input_layernorm.scalar_type();
  qkv_ = fuse_parts({&w_.q_proj, &w_.k_proj, &w_.v_proj}, dtype);
  gate_up_ = fuse_parts({&w_.gate_proj, &w_.up_proj}, dtype);
  if (config_->qk_norm)
    qk_norm_ = at::cat({w_.q_norm.expand({config_->num_heads, config_->head_dim}),
                        w_.k_norm.expand({config_->num_kv_heads, config_->head_dim}),
                        at::ones({config_->num_kv_heads, config_->head_dim},
                                 w_.q_norm.options())});
}

// A part rebound to a view of a fused weight gets a copy of its rows: transformers' modules each
// own their weight, and a GEMM on a view inside a larger allocation is not promised the same
// bits (alignment). Other kinds of Linear are left as they are.
void DecoderLayer::unfuse() {
  auto own = [](std::shared_ptr<const Linear>* p) {
    if (auto d = std::dynamic_pointer_cast<const DenseLinear>(*p)) {
      std::optional<at::Tensor> bias;
      if (d->bias()) bias = d->bias()->clone();
      *p = std::make_shared<DenseLinear>(d->weight().clone(), bias, d->label());
    }
  };
  if (qkv_)
    for (auto* p : {&w_.q_proj, &w_.k_proj, &w_.v_proj}) own(p);
  if (gate_up_)
    for (auto* p : {&w_.gate_proj, &w_.up_proj}) own(p);
  qkv_ = gate_up_ = nullptr;
}

// ---------------------------------------------------------------------------------------------
// Model: construction

namespace {

Status check_tensor(const at::Tensor& t, const std::string& name,
                    std::vector<int64_t> expected, at::ScalarType dtype, at::Device device) {
  if (!t.defined()) return invalid_argument(name + ": missing");
  if (t.sizes() != at::IntArrayRef(expected))
    return invalid_argument(name + ": shape " + shape_label(t.sizes()) + ", expected " +
                            shape_label(expected));
  if (t.scalar_type() != dtype)
    return invalid_argument(name + ": dtype " + std::string(c10::toString(t.scalar_type())) +
                            ", expected " + c10::toString(dtype));
  if (t.device() != device)
    return invalid_argument(name + ": on " + t.device().str() + ", expected " + device.str());
  return Status::ok();
}

Status check_linear(const std::shared_ptr<const Linear>& f, const std::string& name, int64_t in,
                    int64_t out) {
  if (!f) return invalid_argument(name + ": missing");
  if (f->in_features() != in || f->out_features() != out)
    return invalid_argument(name + ": maps " + std::to_string(f->in_features()) + " -> " +
                            std::to_string(f->out_features()) + " features, expected " +
                            std::to_string(in) + " -> " + std::to_string(out));
  return Status::ok();
}

// Every tensor and projection of layer i against the config.
Status check_layer(const ModelConfig& c, const LayerWeights& w, int64_t i, at::ScalarType dtype, at::Device dev) {
  const int64_t q_out = c.num_heads * c.head_dim, kv_out = c.num_kv_heads * c.head_dim;
  auto name = [&](Role r) { return module_name(r, i); };
  QB_TRY(check_tensor(w.input_layernorm, name(Role::kAttnNorm), {c.hidden_size}, dtype, dev));
  QB_TRY(check_tensor(w.post_attention_layernorm, name(Role::kFfnNorm), {c.hidden_size}, dtype, dev));
  if (c.qk_norm) {
    QB_TRY(check_tensor(w.q_norm, name(Role::kAttnQNorm), {c.head_dim}, dtype, dev));
    QB_TRY(check_tensor(w.k_norm, name(Role::kAttnKNorm), {c.head_dim}, dtype, dev));
  }
  QB_TRY(check_linear(w.q_proj, name(Role::kAttnQ), c.hidden_size, q_out));
  QB_TRY(check_linear(w.k_proj, name(Role::kAttnK), c.hidden_size, kv_out));
  QB_TRY(check_linear(w.v_proj, name(Role::kAttnV), c.hidden_size, kv_out));
  QB_TRY(check_linear(w.o_proj, name(Role::kAttnOut), q_out, c.hidden_size));
  QB_TRY(check_linear(w.gate_proj, name(Role::kFfnGate), c.hidden_size, c.intermediate_size));
  QB_TRY(check_linear(w.up_proj, name(Role::kFfnUp), c.hidden_size, c.intermediate_size));
  QB_TRY(check_linear(w.down_proj, name(Role::kFfnDown), c.intermediate_size, c.hidden_size));
  return Status::ok();
}

}  // namespace

Result<Model> Model::create(ModelConfig config, ModelWeights weights, const LoadOptions& opts) {
  const ModelConfig& c = config;
  if (!weights.embed_tokens.defined()) return invalid_argument("model.embed_tokens: missing");
  const at::ScalarType dtype = opts.dtype.value_or(weights.embed_tokens.scalar_type());
  if (dtype != at::kFloat && dtype != at::kBFloat16 && dtype != at::kHalf)
    return invalid_argument(std::string("compute dtype ") + c10::toString(dtype) +
                            " is not supported (float32, bfloat16, float16)");
  // "cuda" without an index is the current device, where tensors moved to "cuda" land.
  const at::Device dev = opts.device.is_cpu() || opts.device.has_index()
                             ? opts.device
                             : at::empty({0}, at::TensorOptions().device(opts.device)).device();
  QB_TRY(check_tensor(weights.embed_tokens, "model.embed_tokens", {c.vocab_size, c.hidden_size},
                      dtype, dev));
  QB_TRY(check_tensor(weights.norm, "model.norm", {c.hidden_size}, dtype, dev));
  QB_TRY(check_linear(weights.lm_head, "lm_head", c.hidden_size, c.vocab_size));
  if (static_cast<int64_t>(weights.layers.size()) != c.num_layers)
    return invalid_argument("expected " + std::to_string(c.num_layers) + " layers, got " +
                            std::to_string(weights.layers.size()));
  for (int64_t i = 0; i < c.num_layers; ++i) QB_TRY(check_layer(c, weights.layers[i], i, dtype, dev));

  Model m;
  m.config_ = std::make_shared<const ModelConfig>(std::move(config));
  m.device_ = dev;
  m.dtype_ = dtype;
  m.attention_ = opts.attention;
  m.fused_decode_ = opts.attention == AttentionImpl::kSdpa && fused::supports(*m.config_, dtype, dev);
  m.eos_token_ids_ = m.config_->eos_token_ids;
  m.embed_tokens_ = std::move(weights.embed_tokens);
  m.norm_ = std::move(weights.norm);
  m.lm_head_ = std::move(weights.lm_head);
  m.inv_freq_ = rope_inv_freq(*m.config_, dev);
  for (int64_t i = 0; i < m.config_->num_layers; ++i) {
    DecoderLayer layer;
    layer.config_ = m.config_;
    layer.attention_ = opts.attention;
    layer.fused_decode_ = m.fused_decode_;
    layer.index_ = i;
    layer.prefix_ = "model.layers." + std::to_string(i) + ".";
    layer.w_ = std::move(weights.layers[i]);
    layer.fuse();
    m.layers_.push_back(std::move(layer));
  }
  return m;
}

Status Model::move_layer(int64_t i, at::Device device) {
  if (i < 0 || i >= num_layers())
    return invalid_argument("move_layer: no layer " + std::to_string(i));
  DecoderLayer& layer = layers_[i];
  LayerWeights& w = layer.w_;
  LayerWeights moved = w;
  for (at::Tensor* t : {&moved.input_layernorm, &moved.q_norm, &moved.k_norm,
                        &moved.post_attention_layernorm})
    if (t->defined()) *t = t->to(device);
  for (std::shared_ptr<const Linear>* f : {&moved.q_proj, &moved.k_proj, &moved.v_proj,
                                           &moved.o_proj, &moved.gate_proj, &moved.up_proj,
                                           &moved.down_proj}) {
    auto r = to_device(*f, device);
    if (!r.is_ok()) return r.status().with_context(layer.prefix_ + "*");
    *f = std::move(r).value();
  }
  w = std::move(moved);
  layer.qkv_ = layer.gate_up_ = nullptr;
  layer.fuse();
  return Status::ok();
}

void Model::set_layer_path(LayerPath path) {
  path_ = path;
  for (DecoderLayer& l : layers_) {
    l.path_ = path;
    l.fuse();  // kEager: unfuse()
  }
  if (path != LayerPath::kFast) set_fused_decode(false);
}

void Model::set_attention_impl(AttentionImpl impl) {
  attention_ = impl;
  for (DecoderLayer& l : layers_) l.attention_ = impl;
  if (impl != AttentionImpl::kSdpa) set_fused_decode(false);
}

bool Model::set_fused_decode(bool on) {
  fused_decode_ = on && attention_ == AttentionImpl::kSdpa && path_ == LayerPath::kFast &&
                  fused::supports(*config_, dtype_, device_);
  for (DecoderLayer& l : layers_) l.fused_decode_ = fused_decode_;
  return fused_decode_;
}

// ---------------------------------------------------------------------------------------------
// Model: forward

at::Tensor Model::embed(const at::Tensor& ids) const {
  return at::embedding(embed_tokens_, ids);  // [B, T, C]
}

LayerInputs Model::layer_inputs(const at::Tensor& valid, KvCache* cache) const {
  const int64_t t = valid.size(1);
  at::Tensor positions, mask;  // [B, T], [B, 1, T, S]
  if (cache) {
    positions = cache->begin_step(valid);
    mask = cache->mask(t, dtype_);
  } else {
    positions = (valid.to(at::kLong).cumsum(1) - 1).clamp_min(0);
    mask = attention_mask(valid, 0, t, t, dtype_);
  }
  // valid's device: a layer moved by move_layer() takes its inputs there.
  return {rope_tables(inv_freq_.to(valid.device()), positions, dtype_), mask};
}

at::Tensor Model::final_norm(const at::Tensor& h) const {
  return rms_norm(h, norm_, config_->rms_norm_eps);
}

at::Tensor Model::lm_head(const at::Tensor& h) const {
  return fused_decode_ ? fused::linear(*lm_head_, h) : lm_head_->forward(h);
}

at::Tensor Model::forward_hidden(const at::Tensor& ids, const at::Tensor& valid, KvCache* cache,
                                 const ForwardHooks* hooks) const {
  const bool tracing = hooks && hooks->trace;
  at::Tensor x = embed(ids);                                                       // [B, T, C]
  if (tracing) hooks->trace("model.embed_tokens", x);
  const LayerInputs in = layer_inputs(valid, cache);
  for (const DecoderLayer& layer : layers_) x = layer.forward(x, in, cache, hooks);  // [B, T, C]
  if (cache) cache->advance(ids.size(1));
  x = final_norm(x);                                                               // [B, T, C]
  if (tracing) hooks->trace("model.norm", x);
  return x;
}

at::Tensor Model::forward(const at::Tensor& ids, const at::Tensor& valid, KvCache* cache,
                          const ForwardHooks* hooks) const {
  const at::Tensor h = forward_hidden(ids, valid, cache, hooks);                  // [B, T, C]
  if (hooks && hooks->linear_input) hooks->linear_input("lm_head", h);
  return lm_head(h).to(at::kFloat);                                                // [B, T, V]
}

KvCache Model::new_cache(int64_t batch, int64_t max_len) const {
  return KvCache::create(*config_, batch, max_len, dtype_, device_);
}

// ---------------------------------------------------------------------------------------------
// Model: linears by name

std::vector<std::string> Model::linear_names() const {
  std::vector<std::string> names;
  for (int64_t i = 0; i < num_layers(); ++i)
    for (Role r : kLayerLinears) names.push_back(module_name(r, i));
  names.push_back(module_name(Role::kOutput));
  return names;
}

std::shared_ptr<const Linear>* Model::linear_slot(std::string_view module) {
  if (module == "lm_head") return &lm_head_;
  constexpr std::string_view kPrefix = "model.layers.";
  if (module.substr(0, kPrefix.size()) != kPrefix) return nullptr;
  std::string_view rest = module.substr(kPrefix.size());
  const size_t dot = rest.find('.');
  if (dot == std::string_view::npos || dot == 0) return nullptr;
  int64_t i = 0;
  for (char ch : rest.substr(0, dot)) {
    if (ch < '0' || ch > '9') return nullptr;
    i = i * 10 + (ch - '0');
    if (i >= num_layers()) return nullptr;
  }
  const std::string_view suffix = rest.substr(dot + 1);
  LayerWeights& w = layers_[i].w_;
  std::shared_ptr<const Linear>* slots[] = {&w.q_proj,    &w.k_proj,  &w.v_proj,   &w.o_proj,
                                            &w.gate_proj, &w.up_proj, &w.down_proj};
  for (size_t k = 0; k < std::size(kLayerLinears); ++k)
    if (suffix == layer_module_suffix(kLayerLinears[k])) return slots[k];
  return nullptr;
}

std::shared_ptr<const Linear> Model::linear(std::string_view module) const {
  auto* slot = const_cast<Model*>(this)->linear_slot(module);
  return slot ? *slot : nullptr;
}

Status Model::set_layer_weights(int64_t i, LayerWeights w) {
  if (i < 0 || i >= num_layers()) return invalid_argument("set_layer_weights: no layer " + std::to_string(i));
  DecoderLayer& layer = layers_[i];
  QB_TRY(check_layer(*config_, w, i, dtype_, layer.w_.input_layernorm.device()));
  layer.w_ = std::move(w);
  layer.fuse();
  return Status::ok();
}

Status Model::set_linear(std::string_view module, std::shared_ptr<const Linear> replacement) {
  std::shared_ptr<const Linear>* slot = linear_slot(module);
  if (!slot) return not_found("no linear layer named '" + std::string(module) + "'");
  QB_TRY(check_linear(replacement, std::string(module), (*slot)->in_features(),
                      (*slot)->out_features()));
  *slot = std::move(replacement);
  // A replaced part leaves its fused projection; the other parts keep their (view) weights.
  for (DecoderLayer& l : layers_) {
    LayerWeights& w = l.w_;
    if (slot == &w.q_proj || slot == &w.k_proj || slot == &w.v_proj) l.qkv_ = nullptr;
    if (slot == &w.gate_proj || slot == &w.up_proj) l.gate_up_ = nullptr;
  }
  return Status::ok();
}

}  // namespace qb::model
