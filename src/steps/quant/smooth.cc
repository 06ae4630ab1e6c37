// The smooth step (see smooth.h): plan, the stages layer by layer, write, check.
#include "steps/quant/smooth.h"

#include <chrono>
#include <limits>
#include <map>
#include <memory>
#include <set>

#include "steps/model/linear.h"
#include "steps/model/model_config.h"
#include "steps/model/rms_norm.h"
#include "steps/model/tensor_names.h"
#include "steps/model_io/checkpoint.h"
#include "steps/quant/hidden_states.h"
#include "steps/quant/one_thread.h"
#include "steps/quant/smooth_plan.h"
#include "steps/quant/smoothing_math.h"
#include "steps/tokenizer/tokenizer.h"
#include "steps/transforms/equivalence.h"
#include "util/fs.h"
#include "util/log.h"
#include "util/progress.h"

namespace qb::quant {
namespace {

namespace stdfs = std::filesystem;
using nlohmann::json;
using spec::LayerRole;
using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

// ---- layer weights by role ----

std::shared_ptr<const model::Linear>* linear_slot(model::LayerWeights& w, LayerRole r) {
  switch (r) {
    case LayerRole::kQProj: return &w.q_proj;
    case LayerRole::kKProj: return &w.k_proj;
    case LayerRole::kVProj: return &w.v_proj;
    case LayerRole::kOProj: return &w.o_proj;
    case LayerRole::kGateProj: return &w.gate_proj;
    case LayerRole::kUpProj: return &w.up_proj;
    case LayerRole::kDownProj: return &w.down_proj;
    default: return nullptr;
  }
}

at::Tensor* norm_slot(model::LayerWeights& w, LayerRole r) {
  if (r == LayerRole::kInputLayernorm) return &w.input_layernorm;
  if (r == LayerRole::kPostAttentionLayernorm) return &w.post_attention_layernorm;
  return nullptr;
}

// The dense Linear of a role (the plan rejected transformed ones; a quantized model is rejected
// before any work).
Result<std::shared_ptr<const model::DenseLinear>> dense(const model::LayerWeights& w, LayerRole r, std::int64_t layer) {
  const auto& f = *linear_slot(const_cast<model::LayerWeights&>(w), r);  // read only
  auto d = std::dynamic_pointer_cast<const model::DenseLinear>(f);
  if (!d) return invalid_argument(module_of(r, layer) + ": not a dense Linear (" + f->describe() + ")");
  return d;
}

std::shared_ptr<const model::Linear> dense_like(const model::DenseLinear& d, at::Tensor weight,
                                                std::optional<at::Tensor> bias) {
  return std::make_shared<model::DenseLinear>(std::move(weight), std::move(bias), d.label());
}

json scale_stats(const at::Tensor& s) {
  const at::Tensor d = s.to(at::kDouble).cpu();
  return {{"min", d.min().item<double>()},
          {"max", d.max().item<double>()},
          {"mean", d.mean().item<double>()},
          {"dtype", c10::toString(s.scalar_type())}};
}

// Folds `scales` into the layer: balance layers' columns × s, the smooth layer's outputs ÷ s.
Status fold(model::LayerWeights& w, const ResolvedMapping& m, const at::Tensor& scales) {
  const at::Tensor s = scales.to(w.input_layernorm.device());
  for (auto r : m.balance) {
    QB_ASSIGN_OR_RETURN(auto d, dense(w, r, m.layer));
    *linear_slot(w, r) = dense_like(*d, scale_columns(d->weight(), s), d->bias());
  }
  if (at::Tensor* norm = norm_slot(w, m.smooth)) {
    *norm = divide_outputs(*norm, s);
  } else {
    QB_ASSIGN_OR_RETURN(auto d, dense(w, m.smooth, m.layer));
    std::optional<at::Tensor> bias;
    if (d->bias()) bias = divide_outputs(*d->bias(), s);
    *linear_slot(w, m.smooth) = dense_like(*d, divide_outputs(d->weight(), s), bias);
  }
  return Status::ok();
}

class Smoother {
 public:
  Smoother(const SmoothRequest& req, model::Model& model, std::vector<at::Tensor> ids, json& timings)
      : req_(req), model_(model), ids_(std::move(ids)), timings_(timings) {}

  Status run_stage(const spec::SmoothingStage& stage, const StagePlan& plan, json& report);
  std::size_t stage_index = 0;  // for the keys of req.scales

 private:
  using Forward = std::function<at::Tensor(const at::Tensor&, const model::ForwardHooks*)>;
  Status smoothquant_layer(const spec::SmoothQuantStage& st, const std::vector<ResolvedMapping>& maps,
                           std::int64_t l, const Forward& fwd, json& report);
  Status awq_layer(const spec::AwqStage& st, const std::vector<ResolvedMapping>& maps, std::int64_t l,
                   const Forward& fwd, json& report);
  void keep_scales(const ResolvedMapping& m, const at::Tensor& s) {
    if (req_.scales) (*req_.scales)[std::to_string(stage_index) + ":" + m.smooth_name] = s.cpu();
  }
  void add_time(const char* what, Clock::time_point t0) { timings_[what] = timings_.value(what, 0.0) + seconds_since(t0); }

  const SmoothRequest& req_;
  model::Model& model_;
  std::vector<at::Tensor> ids_;  // calibration batches [b, T], CPU
  std::vector<at::Tensor> hidden_;
  std::optional<HiddenStates> store_;
  json& timings_;
};

Status Smoother::run_stage(const spec::SmoothingStage& stage, const StagePlan& plan, json& report) {
  const at::Device dev = req_.device;
  const bool onload = dev.is_cuda();
  // Each stage starts from the embeddings of the model the previous stage left (smoothing never
  // changes them), as llm-compressor's independent pipeline does.
  std::int64_t tokens = 0;
  for (const auto& t : ids_) tokens += t.numel();
  store_.emplace(dev, tokens * model_.config().hidden_size * static_cast<std::int64_t>(c10::elementSize(model_.dtype())));
  timings_["hidden_states_on"] = store_->where();
  hidden_.clear();
  {
    const at::Tensor table = model_.embed_tokens().to(dev);
    for (const auto& t : ids_) hidden_.push_back(store_->store(at::embedding(table, t.to(dev))));
  }
  json layers = json::array();
  Progress progress(std::string("smooth (") + spec::stage_modifier_name(stage) + ")", model_.num_layers());
  for (std::int64_t l = 0; l < model_.num_layers(); ++l) {
    const std::string ctx = std::string(spec::stage_modifier_name(stage)) + ": layer " + std::to_string(l);
    auto t0 = Clock::now();
    if (onload) QB_TRY_CTX(model_.move_layer(l, dev), ctx);
    add_time("onload_s", t0);
    auto fwd = [&](const at::Tensor& h, const model::ForwardHooks* hooks) {
      const at::Tensor hd = h.to(dev);
      const auto valid = at::ones({hd.size(0), hd.size(1)}, hd.options().dtype(at::kBool));
      const auto in = model_.layer_inputs(valid, nullptr);
      return model_.layer(l).forward(hd, in, nullptr, hooks);
    };
    json layer_report = json::array();
    const auto& maps = plan.layers[static_cast<std::size_t>(l)];
    if (!maps.empty()) {
      if (const auto* sq = std::get_if<spec::SmoothQuantStage>(&stage))
        QB_TRY_CTX(smoothquant_layer(*sq, maps, l, fwd, layer_report), ctx);
      else
        QB_TRY_CTX(awq_layer(std::get<spec::AwqStage>(stage), maps, l, fwd, layer_report), ctx);
    }
    for (auto& m : layer_report) layers.push_back(std::move(m));
    // The next layer's input: the samples through the smoothed layer (the last layer's output
    // is not needed).
    t0 = Clock::now();
    if (l + 1 < model_.num_layers())
      for (auto& h : hidden_) h = store_->store(fwd(h, nullptr));
    add_time("propagate_s", t0);
    t0 = Clock::now();
    if (onload) QB_TRY_CTX(model_.move_layer(l, at::kCPU), ctx);
    add_time("offload_s", t0);
    progress.advance();
  }
  report["mappings"] = std::move(layers);
  json skipped = json::array();
  for (const auto& s : plan.skipped) skipped.push_back({{"smooth_layer", s.smooth_name}, {"reason", s.reason}});
  report["skipped"] = std::move(skipped);
  hidden_.clear();
  return Status::ok();
}

// SmoothQuant on one layer: per-channel min/max of each smooth layer's output over all samples,
// then the scales folded in (smoothquant/base.py).
Status Smoother::smoothquant_layer(const spec::SmoothQuantStage& st, const std::vector<ResolvedMapping>& maps,
                                   std::int64_t l, const Forward& fwd, json& report) {
  auto t0 = Clock::now();
  struct MinMax {
    at::Tensor min, max;
  };
  std::map<std::string, MinMax> stats;
  std::map<std::string, std::shared_ptr<const model::Linear>> linear_smooth;  // smooth Linears by name
  for (const auto& m : maps)
    if (spec::role_is_linear(m.smooth)) {
      auto w = model_.layer(l).weights();
      linear_smooth[m.smooth_name] = *linear_slot(w, m.smooth);
    }
  std::set<std::string> norm_smooth;
  for (const auto& m : maps)
    if (!spec::role_is_linear(m.smooth)) norm_smooth.insert(m.smooth_name);
  // The module's forward hook: out.view(-1, hidden) reduced over rows, folded into the running
  // per-channel min and max.
  auto observe = [&](const std::string& name, const at::Tensor& out) {
    const at::Tensor flat = out.reshape({-1, out.size(-1)});
    const at::Tensor mn = std::get<0>(at::min(flat, 0)), mx = std::get<0>(at::max(flat, 0));
    auto it = stats.find(name);
    if (it == stats.end()) {
      stats[name] = {mn, mx};
    } else {
      it->second.min = at::minimum(it->second.min, mn);
      it->second.max = at::maximum(it->second.max, mx);
    }
  };
  model::ForwardHooks hooks;
  hooks.trace = [&](const std::string& name, const at::Tensor& v) {
    if (norm_smooth.count(name)) observe(name, v);
  };
  hooks.linear_input = [&](const std::string& module, const at::Tensor& x) {
    if (auto it = linear_smooth.find(module); it != linear_smooth.end()) observe(module, it->second->forward(x));
  };
  for (const auto& h : hidden_) (void)fwd(h, &hooks);
  add_time("calibrate_s", t0);

  t0 = Clock::now();
  model::LayerWeights w = model_.layer(l).weights();
  for (const auto& m : maps) {
    auto it = stats.find(m.smooth_name);
    if (it == stats.end()) return internal_error(m.smooth_name + ": no calibration statistics");
    std::vector<at::Tensor> balance;
    for (auto r : m.balance) {
      QB_ASSIGN_OR_RETURN(auto d, dense(w, r, l));
      balance.push_back(d->weight());
    }
    const at::Tensor scales = smoothquant_scales(it->second.min, it->second.max, balance, st.smoothing_strength);
    QB_TRY(fold(w, m, scales));
    keep_scales(m, scales);
    // What smoothing trades: the activations' absmax falls, the balance weights' rises.
    auto absmax = [](const at::Tensor& t) { return t.abs().max().to(at::kDouble).item<double>(); };
    const at::Tensor s = scales.to(it->second.min.device());
    const double act_before = std::max(absmax(it->second.min), absmax(it->second.max));
    const double act_after = std::max(absmax(it->second.min / s), absmax(it->second.max / s));
    double w_before = 0, w_after = 0;
    for (const auto& b : balance) {
      w_before = std::max(w_before, absmax(b));
      w_after = std::max(w_after, absmax(b * s.view({1, -1})));
    }
    report.push_back({{"smooth_layer", m.smooth_name},
                      {"balance_layers", m.balance_names},
                      {"scales", scale_stats(scales)},
                      {"activation_absmax_before", act_before},
                      {"activation_absmax_after", act_after},
                      {"weight_absmax_before", w_before},
                      {"weight_absmax_after", w_after}});
  }
  QB_TRY(model_.set_layer_weights(l, std::move(w)));
  add_time("smooth_s", t0);
  return Status::ok();
}

// AWQ on one layer (awq/base.py): mean |x| per mapping, the grid search's losses over all samples,
// the best scales folded in mapping order.
Status Smoother::awq_layer(const spec::AwqStage& st, const std::vector<ResolvedMapping>& maps, std::int64_t l,
                           const Forward& fwd, json& report) {
  const at::Device dev = req_.device;
  const auto& layer = model_.layer(l);
  const model::LayerWeights original = layer.weights();

  // 1. mean |x| at each mapping's first balance layer (the cache_smooth_activations_hook).
  auto t0 = Clock::now();
  struct Mean {
    at::Tensor sum;  // f32 [in], CPU
    std::int64_t count = 0;
  };
  std::map<std::string, Mean> means;  // by hooked module
  for (const auto& m : maps) means[m.balance_names.front()];
  model::ForwardHooks hooks;
  hooks.linear_input = [&](const std::string& module, const at::Tensor& x) {
    auto it = means.find(module);
    if (it == means.end()) return;
    const at::Tensor flat = x.abs().flatten(0, -2);
    const at::Tensor s = flat.to(at::kFloat).sum(0).cpu();
    it->second.sum = it->second.sum.defined() ? it->second.sum + s : at::zeros_like(s) + s;
    it->second.count += flat.size(0);
  };
  for (const auto& h : hidden_) (void)fwd(h, &hooks);
  add_time("calibrate_s", t0);

  // 2. every grid point's candidate weights, per mapping.
  t0 = Clock::now();
  const auto grid = spec::awq_grid(st);
  struct Search {
    const ResolvedMapping* m;
    std::vector<at::Tensor> scales;               // per grid point
    std::vector<model::LayerWeights> candidates;  // per grid point
    std::vector<at::Tensor> loss;                 // per grid point: f32 0-dim on the device
    std::int64_t elements = 0;
    bool finite = true;
    bool empty = true;
  };
  std::vector<Search> searches;
  for (const auto& m : maps) {
    Search s;
    s.m = &m;
    const Mean& mean = means.at(m.balance_names.front());
    if (!mean.sum.defined()) return internal_error(m.smooth_name + ": no calibration statistics");
    const at::Tensor x_mean = mean.sum.to(dev) / at::scalar_tensor(mean.count, at::TensorOptions().dtype(at::kLong)).to(dev);
    std::vector<at::Tensor> targeted;
    std::vector<spec::QuantArgs> args;
    for (std::size_t k = 0; k < m.balance.size(); ++k) {
      if (!m.balance_args[k]) continue;
      QB_ASSIGN_OR_RETURN(auto d, dense(original, m.balance[k], l));
      targeted.push_back(d->weight());
      args.push_back(*m.balance_args[k]);
    }
    const at::Tensor w_mean = st.duo_scaling != spec::DuoScaling::kFalse ? awq_weight_mean(targeted, args) : at::Tensor();
    for (const auto& [ratio, duo] : grid) {
      at::Tensor scales = awq_scales(x_mean, w_mean, ratio, duo);
      model::LayerWeights cand = original;
      for (std::size_t k = 0; k < m.balance.size(); ++k) {
        if (!m.balance_args[k]) continue;
        QB_ASSIGN_OR_RETURN(auto d, dense(original, m.balance[k], l));
        QB_ASSIGN_OR_RETURN_CTX(at::Tensor wq, awq_candidate(d->weight(), scales, *m.balance_args[k]),
                                m.balance_names[k]);
        *linear_slot(cand, m.balance[k]) = dense_like(*d, wq, d->bias());
      }
      s.scales.push_back(std::move(scales));
      s.candidates.push_back(std::move(cand));
      s.loss.push_back(at::zeros({}, at::TensorOptions().dtype(at::kFloat).device(dev)));
    }
    searches.push_back(std::move(s));
  }
  add_time("awq_candidates_s", t0);

  // 3. the losses, batch by batch: the layer with its original weights gives each parent's
  // input (what llm-compressor caches in its first pass); each parent runs once with the
  // original weights and once per grid point.
  t0 = Clock::now();
  const std::string prefix = "model.layers." + std::to_string(l) + ".";
  for (const auto& h : hidden_) {
    std::map<std::string, at::Tensor> inputs;
    model::ForwardHooks capture;
    capture.trace = [&](const std::string& name, const at::Tensor& v) {
      if (name == prefix + "input_layernorm" || name == prefix + "self_attn.attn" ||
          name == prefix + "post_attention_layernorm" || name == prefix + "mlp.act")
        inputs[name.substr(prefix.size())] = v;
    };
    const at::Tensor hd = h.to(dev);
    const auto valid = at::ones({hd.size(0), hd.size(1)}, hd.options().dtype(at::kBool));
    const auto in = model_.layer_inputs(valid, nullptr);
    (void)layer.forward(hd, in, nullptr, &capture);
    for (auto& s : searches) {
      auto parent = [&](const model::LayerWeights& w) -> at::Tensor {
        switch (s.m->parent) {
          case AwqParent::kAttention: return layer.eager_attention(w, inputs.at("input_layernorm"), in, nullptr, nullptr);
          case AwqParent::kMlp: return layer.eager_mlp(w, inputs.at("post_attention_layernorm"), nullptr);
          case AwqParent::kOProj: return w.o_proj->forward(inputs.at("self_attn.attn"));
          case AwqParent::kDownProj: return w.down_proj->forward(inputs.at("mlp.act"));
        }
        return at::Tensor();
      };
      const at::Tensor fp = parent(original);
      s.empty &= fp.numel() == 0;
      s.finite &= at::isfinite(fp).all().item<bool>();
      s.elements += fp.numel();
      if (!s.finite) continue;
      for (std::size_t g = 0; g < s.candidates.size(); ++g)
        s.loss[g].add_(at::mse_loss(fp, parent(s.candidates[g]), at::Reduction::Sum));
    }
  }
  add_time("awq_search_s", t0);

  // 4. the best scales, folded in mapping order.
  t0 = Clock::now();
  model::LayerWeights w = original;
  for (auto& s : searches) {
    const ResolvedMapping& m = *s.m;
    json r = {{"smooth_layer", m.smooth_name}, {"balance_layers", m.balance_names}};
    if (s.empty || !s.finite) {
      const std::string why = s.empty ? "no activations to scale" : "NaN or inf outputs of its parent with the original weights";
      log::warn("smooth: AWQ skips " + m.smooth_name + ": " + why);
      r["skipped"] = why;
      report.push_back(std::move(r));
      continue;
    }
    const at::Tensor n = at::scalar_tensor(s.elements, at::TensorOptions().dtype(at::kLong).device(dev));
    double best = std::numeric_limits<double>::infinity(), initial = 0;
    std::int64_t best_g = -1;
    json history = json::array();
    for (std::size_t g = 0; g < s.loss.size(); ++g) {
      const double loss = (s.loss[g] / n).item<double>();
      if (g == 0) initial = loss;
      history.push_back(loss);
      if (loss < best) {
        best = loss;
        best_g = static_cast<std::int64_t>(g);
      }
    }
    if (best_g < 0)
      return invalid_argument("AWQ: no finite loss in the grid search of " + m.smooth_name +
                              " (NaN values in the forward pass of its parent)");
    const at::Tensor& scales = s.scales[static_cast<std::size_t>(best_g)];
    QB_TRY(fold(w, m, scales));
    keep_scales(m, scales);
    r["ratio"] = grid[static_cast<std::size_t>(best_g)].first;
    r["duo_scaling"] = grid[static_cast<std::size_t>(best_g)].second;
    r["loss_before"] = initial;
    r["loss_after"] = best;
    r["losses"] = std::move(history);
    r["scales"] = scale_stats(scales);
    report.push_back(std::move(r));
  }
  QB_TRY(model_.set_layer_weights(l, std::move(w)));
  add_time("smooth_s", t0);
  return Status::ok();
}

// The checkpoint's tensors with the smoothed layers' norms and projections (biases included)
// taken from the model.
Result<std::vector<std::pair<std::string, at::Tensor>>> smoothed_tensors(const model_io::Checkpoint& ckpt,
                                                                         const model::Model& m) {
  std::map<std::string, at::Tensor> from_model;
  for (std::int64_t l = 0; l < m.num_layers(); ++l) {
    model::LayerWeights w = m.layer(l).weights();
    for (auto r : {LayerRole::kInputLayernorm, LayerRole::kPostAttentionLayernorm})
      from_model[module_of(r, l) + ".weight"] = norm_slot(w, r)->cpu();
    for (auto r : {LayerRole::kQProj, LayerRole::kKProj, LayerRole::kVProj, LayerRole::kOProj, LayerRole::kGateProj,
                   LayerRole::kUpProj, LayerRole::kDownProj}) {
      QB_ASSIGN_OR_RETURN(auto d, dense(w, r, l));
      from_model[module_of(r, l) + ".weight"] = d->weight().cpu();
      if (d->bias()) from_model[module_of(r, l) + ".bias"] = d->bias()->cpu();
    }
  }
  std::vector<std::pair<std::string, at::Tensor>> out;
  for (const auto& name : ckpt.tensor_names()) {
    if (auto it = from_model.find(name); it != from_model.end()) {
      out.emplace_back(name, it->second.contiguous());
      from_model.erase(it);
      continue;
    }
    QB_ASSIGN_OR_RETURN(auto t, ckpt.load(name));
    out.emplace_back(name, std::move(t));
  }
  if (!from_model.empty())
    return invalid_argument("the checkpoint has no tensor '" + from_model.begin()->first + "'");
  return out;
}

Status copy_side_files(const stdfs::path& from, const stdfs::path& to) {
  std::error_code ec;
  for (const auto& e : stdfs::directory_iterator(from, ec)) {
    const auto name = e.path().filename().string();
    if (!e.is_regular_file() || name == "config.json" || name == "generation_config.json" ||
        name.ends_with(".safetensors") || name == "model.safetensors.index.json" || name[0] == '.')
      continue;
    QB_ASSIGN_OR_RETURN(auto data, fs::read_file(e.path()));
    QB_TRY(fs::write_file_atomic(to / name, data));
  }
  if (ec) return io_error("listing '" + from.string() + "': " + ec.message());
  return Status::ok();
}

}  // namespace

Result<json> run_smooth(const SmoothRequest& req) {
  const auto t_start = Clock::now();
  const OneIntraOpThread one_thread(req.device.is_cpu());
  spec::Issues issues;
  req.spec.validate(issues);
  QB_TRY(issues.to_status("smooth: spec"));
  json timings = json::object();

  // ---- plan ----
  QB_ASSIGN_OR_RETURN_CTX(auto ckpt, model_io::Checkpoint::open(req.model_dir), "smooth");
  if (const auto& c = ckpt.config(); c.contains("quantization_config") && !c["quantization_config"].is_null()) {
    const auto& qc = c["quantization_config"];
    if (!qc.is_object() || (qc.contains("config_groups") && !qc["config_groups"].is_null() && !qc["config_groups"].empty()))
      return invalid_argument("smooth: '" + req.model_dir.string() +
                              "' is already quantized (config.json has a quantization_config)");
  }
  QB_ASSIGN_OR_RETURN_CTX(auto config,
                          model::ModelConfig::from_json(ckpt.config(), (req.model_dir / "config.json").string()), "smooth");
  const auto tok_dir = req.tokenizer_dir.empty() ? req.model_dir : req.tokenizer_dir;
  auto t0 = Clock::now();
  model::LoadOptions lo;
  lo.device = req.device.is_cuda() ? at::Device(at::kCPU) : req.device;
  lo.dtype = req.compute_dtype;
  QB_ASSIGN_OR_RETURN_CTX(auto model, model::Model::load(req.model_dir, lo), "smooth");
  model.set_layer_path(req.calibration_path);
  timings["load_model_s"] = seconds_since(t0);
  std::vector<std::string> transformed;
  for (const auto& name : model.linear_names())
    if (std::dynamic_pointer_cast<const model::TransformedLinear>(model.linear(name))) transformed.push_back(name);
  std::vector<StagePlan> plans;
  for (const auto& st : req.spec.stages) {
    QB_ASSIGN_OR_RETURN_CTX(auto p, plan_stage(st, config, req.spec.quantization, transformed), "smooth");
    plans.push_back(std::move(p));
  }
  QB_ASSIGN_OR_RETURN(std::vector<Sample> samples,
                      prepare_samples("smooth", req.calibration_samples, req.spec.calibration,
                                      req.calibration_source, tok_dir, config.vocab_size));
  std::int64_t tokens = 0;
  for (const auto& s : samples) tokens += static_cast<std::int64_t>(s.size());
  log::info("smooth: " + std::to_string(req.spec.stages.size()) + " stage(s), calibration " +
            std::to_string(samples.size()) + " samples / " + std::to_string(tokens) + " tokens");

  // ---- stages ----
  t0 = Clock::now();
  json stages = json::array();
  Smoother smoother(req, model, batch_samples(samples, req.calibration_batch_size), timings);
  for (std::size_t i = 0; i < req.spec.stages.size(); ++i) {
    json r = {{"modifier", spec::stage_modifier_name(req.spec.stages[i])}};
    smoother.stage_index = i;
    QB_TRY(smoother.run_stage(req.spec.stages[i], plans[i], r));
    stages.push_back(std::move(r));
  }
  timings["stages_s"] = seconds_since(t0);

  // ---- write ----
  t0 = Clock::now();
  {
    QB_ASSIGN_OR_RETURN_CTX(auto tensors, smoothed_tensors(ckpt, model), "smooth: writing");
    QB_TRY_CTX(model_io::save_checkpoint(req.output_dir, tensors, ckpt.config(), ckpt.generation_config()),
               "smooth: writing '" + req.output_dir.string() + "'");
  }
  QB_TRY_CTX(copy_side_files(req.model_dir, req.output_dir), "smooth: copying side files");
  timings["write_s"] = seconds_since(t0);

  // ---- check ----
  json eq = nullptr;
  if (!req.skip_equivalence) {
    t0 = Clock::now();
    std::vector<std::vector<int64_t>> prompts;
    if (!req.equivalence_prompts.empty()) {
      QB_ASSIGN_OR_RETURN_CTX(tok::Tokenizer tk, tok::Tokenizer::load(tok_dir), "smooth: equivalence prompts");
      for (const auto& text : req.equivalence_prompts) {
        const auto ids = tk.encode(text);
        prompts.emplace_back(ids.begin(), ids.end());
      }
    }
    for (const auto& p : req.equivalence_prompt_ids) prompts.push_back(p);
    if (prompts.empty()) prompts = transforms::default_prompt_ids(config.vocab_size);
    model::LoadOptions fp32;
    fp32.device = req.device;
    fp32.dtype = at::kFloat;
    std::vector<at::Tensor> ref, out;
    {
      QB_ASSIGN_OR_RETURN_CTX(auto src, model::Model::load(req.model_dir, fp32), "smooth: equivalence check");
      QB_ASSIGN_OR_RETURN_CTX(ref, transforms::prompt_logits(src, prompts), "smooth: equivalence check, source");
    }
    {
      QB_ASSIGN_OR_RETURN_CTX(auto dst, model::Model::load(req.output_dir, fp32), "smooth: equivalence check");
      QB_ASSIGN_OR_RETURN_CTX(out, transforms::prompt_logits(dst, prompts), "smooth: equivalence check, smoothed");
    }
    QB_ASSIGN_OR_RETURN(auto metrics, transforms::compare_logits(ref, out));
    const double tol = model.dtype() == at::kFloat ? req.max_rel_error : req.max_rel_error_low_precision;
    log::info("smooth: equivalence: " + metrics.summary());
    timings["equivalence_s"] = seconds_since(t0);
    if (!(metrics.max_rel_error <= tol))
      return Status(Code::kFailedCheck, "smooth: equivalence check failed: " + metrics.summary() +
                                            "; the tolerance on the relative logit error is " + std::to_string(tol));
    eq = metrics.to_json();
    eq["tolerance"] = tol;
    eq["passed"] = true;
  }
  timings["total_s"] = seconds_since(t_start);

  json report = {{"spec", req.spec.to_json()},
                 {"device", req.device.str()},
                 {"compute_dtype", model::dtype_label(model.dtype())},
                 {"calibration", {{"samples", samples.size()}, {"tokens", tokens}}},
                 {"stages", stages},
                 {"equivalence", eq}};
  // On disk only what the key determines (no timings).
  QB_TRY_CTX(fs::write_file_atomic(req.output_dir / kSmoothReportFile, report.dump(2) + "\n"), "smooth: writing the report");
  log::info("smooth: timings " + timings.dump());
  json meta = {{"equivalence", eq}, {"timings_s", timings}, {"device", req.device.str()}};
  if (req.report) {
    *req.report = report;
    (*req.report)["timings"] = timings;
  }
  return meta;
}

}  // namespace qb::quant
