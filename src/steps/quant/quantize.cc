// The quantize step (see quantize.h): plan, RTN or sequential calibration, write.
#include "steps/quant/quantize.h"

#include <ATen/Parallel.h>
#include <sys/resource.h>

#include <chrono>
#include <map>
#include <memory>
#include <set>
#include <string>

#include "steps/model/linear.h"
#include "steps/model/model.h"
#include "steps/model/model_config.h"
#include "steps/model/rms_norm.h"
#include "steps/model_io/checkpoint.h"
#include "steps/qmath/gptq.h"
#include "util/log.h"
#include "steps/qmath/observer.h"
#include "steps/qmath/qparams.h"
#include "steps/quant/activation_stats.h"
#include "steps/quant/compressed_tensors.h"
#include "steps/quant/layer_checkpoint.h"
#include "steps/quant/hidden_states.h"
#include "steps/quant/one_thread.h"
#include "steps/quant/module_plan.h"
#include "steps/tokenizer/tokenizer.h"
#include "util/fs.h"
#include "util/progress.h"


namespace qb::quant {
namespace {

namespace stdfs = std::filesystem;
using nlohmann::json;
using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

double max_rss_gib() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_maxrss) / (1024.0 * 1024.0);  // ru_maxrss is in KiB
}

// ||W - Wq||_F / ||W||_F in float64.
double relative_error(const at::Tensor& w, const at::Tensor& wq) {
  auto wd = w.to(at::kDouble);
  const double n = wd.norm().item<double>();
  return n == 0 ? 0.0 : (wd - wq.to(at::kDouble)).norm().item<double>() / n;
}

// Per-Linear results and report entries, filled as modules are quantized (and read back from
// layer checkpoints: layer_checkpoint.h).
using Outcome = LinearOutcome;

// Quantizes one Linear whose weight is `weight` (stored dtype, on the device) with RTN, or the
// Linears of `ps` with GPTQ from their common Hessian. Several GPTQ modules are stacked along
// their output rows into one solve: the rows of a GPTQ solve are independent given the Hessian
// (the error feedback runs along a row's columns; the column order, dead columns and damping
// come from the Hessian alone), so with per-row weight scales (channel, group) the stacked
// solve is the modules' own solves, with one factorization and one column loop instead of
// three (q/k/v) or two (gate/up). `dequantized` in each outcome stays on the device.
Result<std::vector<Outcome>> quantize_linears(const std::vector<const PlannedLinear*>& ps,
                                              const QuantRecipe& recipe,
                                              const std::vector<at::Tensor>& weights,
                                              const at::Tensor* hessian) {
  auto t0 = Clock::now();
  const auto& args = ps.front()->group->weights;
  std::vector<Outcome> outs(ps.size());
  std::vector<std::int64_t> offsets;
  std::int64_t rows = 0;
  for (std::size_t k = 0; k < ps.size(); ++k) {
    outs[k].report = {{"module", ps[k]->module},
                      {"group", ps[k]->group->name},
                      {"shape", {ps[k]->out, ps[k]->in}},
                      {"weight_dtype", c10::toString(weights[k].scalar_type())}};
    offsets.push_back(rows);
    rows += weights[k].size(0);
  }
  if (hessian) {
    qmath::GptqOptions opts;
    opts.block_size = recipe.block_size;
    opts.dampening_frac = recipe.dampening_frac;
    const at::Tensor stacked = ps.size() == 1 ? weights[0] : at::cat(weights, 0);
    QB_ASSIGN_OR_RETURN(auto g, qmath::gptq_quantize(stacked, *hessian, args, opts));
    for (std::size_t k = 0; k < ps.size(); ++k) {
      const auto o = offsets[k], n = weights[k].size(0);
      auto& r = outs[k].report;
      auto dq = g.dequantized.narrow(0, o, n);
      r["method"] = "gptq";
      r["gptq_loss"] = g.row_losses.narrow(0, o, n).sum().item<double>();
      r["rtn_fallback"] = g.rtn_fallback;
      if (g.rtn_fallback)
        log::warn("quantize: " + ps[k]->module + ": GPTQ fell back to RTN");
      if (ps.size() > 1) {
        json with = json::array();
        for (const auto* p : ps) with.push_back(p->module);
        r["solved_together"] = with;
      }
      r["weight_rel_error"] = relative_error(weights[k], dq);
      outs[k].ql.q = g.q.narrow(0, o, n).cpu();
      outs[k].ql.weight_qparams = {g.qparams.scale.narrow(0, o, n).cpu(),
                                   g.qparams.zero_point.narrow(0, o, n).cpu()};
      outs[k].ql.dequantized = dq;
    }
  } else {
    if (ps.size() != 1) return internal_error("quantize: RTN takes one Linear at a time");
    QB_ASSIGN_OR_RETURN(auto q, qmath::rtn_quantize_weight(weights[0], args));
    auto dq = qmath::dequantize(q.q, q.qparams.scale, q.qparams.zero_point, args)
                  .to(weights[0].scalar_type());
    auto& r = outs[0].report;
    r["method"] = "rtn";
    r["weight_rel_error"] = relative_error(weights[0], dq);
    outs[0].ql.q = q.q.cpu();
    outs[0].ql.weight_qparams = {q.qparams.scale.cpu(), q.qparams.zero_point.cpu()};
    outs[0].ql.dequantized = dq;
  }
  const double secs = seconds_since(t0);
  for (auto& o : outs) o.report["seconds"] = secs;
  return outs;
}

// Whether GPTQ may solve `a` and `b` as one stacked weight (see quantize_linears): the same
// input, the same config group, and weight scales per row.
bool stackable(const PlannedLinear& a, const PlannedLinear& b) {
  const auto strategy = a.group->weights.strategy;
  return a.input_group == b.input_group && a.group == b.group &&
         (strategy == qmath::Strategy::kChannel || strategy == qmath::Strategy::kGroup);
}

// The fake-quantized replacement used to propagate through a GPTQ-quantized layer: the
// dequantized weight in the compute dtype, behind the original input transform if any.
Result<std::shared_ptr<const model::Linear>> fake_quant_linear(
    const std::shared_ptr<const model::Linear>& original, const at::Tensor& dequantized,
    at::ScalarType dtype, at::Device device) {
  auto dense = std::make_shared<const model::DenseLinear>(
      dequantized.to(device, dtype), original->bias(), "fake-quantized");
  if (auto t = std::dynamic_pointer_cast<const model::TransformedLinear>(original))
    return model::make_transformed(t->transform(), dense);
  return std::shared_ptr<const model::Linear>(dense);
}

// What a layer's calibration pass collects, per distinct Linear input.
struct InputState {
  std::unique_ptr<qmath::HessianAccumulator> hessian;  // GPTQ
  std::map<const ConfigGroup*, qmath::Observer> observers;  // static activations, per group
  std::unique_ptr<ActivationStats> stats;
};

class Quantizer {
 public:
  Quantizer(const QuantizeRequest& req, const model_io::Checkpoint& ckpt,
            std::vector<PlannedLinear> plan)
      : req_(req), recipe_(req.recipe), ckpt_(ckpt), plan_(std::move(plan)) {}

  Status run_rtn();
  Status run_calibrated(const std::vector<Sample>& samples);
  std::map<std::string, Outcome>& outcomes() { return outcomes_; }
  json& timings() { return timings_; }
  // Which layers this run took from checkpoints and which it computed (the in-memory report).
  const json& resume() const { return resume_; }

 private:
  Result<at::Tensor> load_weight(const PlannedLinear& p) const {
    QB_ASSIGN_OR_RETURN(auto w, ckpt_.load(p.module + ".weight", req_.device));
    return w;
  }
  bool keep_dequantized() const { return !recipe_.save_compressed; }
  Status calibrate_group(const std::vector<const PlannedLinear*>& mods, model::Model& m,
                         std::vector<at::Tensor>& hidden,
                         const std::function<at::Tensor(const at::Tensor&, const model::ForwardHooks*)>& fwd,
                         bool replace_hidden);
  // Where calibration hidden states are kept between layers (hidden_states.h).
  at::Tensor store(const at::Tensor& t) const { return hidden_->store(t); }
  Status finish_modules(const std::vector<const PlannedLinear*>& mods,
                        std::map<std::string, InputState>& inputs, model::Model& m);
  // Layers [0, n) from the checkpoints: their outcomes; the hidden states when calibrated.
  std::int64_t resume_from_checkpoints(std::int64_t num_layers, std::vector<at::Tensor>* hidden);
  // Layer `l` is finished: checkpoint it, then the test hook.
  Status layer_done(std::int64_t l, const std::vector<at::Tensor>* hidden);

  const QuantizeRequest& req_;
  const QuantRecipe& recipe_;
  const model_io::Checkpoint& ckpt_;
  std::vector<PlannedLinear> plan_;
  std::map<std::string, Outcome> outcomes_;
  json timings_ = json::object();
  json resume_ = {{"layers_resumed", 0}, {"layers_computed", json::array()}};
  std::optional<HiddenStates> hidden_;
};

std::int64_t Quantizer::resume_from_checkpoints(std::int64_t num_layers, std::vector<at::Tensor>* hidden) {
  LayerCheckpoints ckpts(req_.resume_dir);
  if (!ckpts.enabled()) return 0;
  auto r = ckpts.load(num_layers, hidden != nullptr);
  if (r.layers == 0) return 0;
  if (hidden) {
    // The same calibration batches as this run's embedding (the key says they are; a checkpoint
    // that disagrees is not used).
    bool same = r.hidden.size() == hidden->size();
    for (std::size_t i = 0; same && i < hidden->size(); ++i)
      same = r.hidden[i].sizes() == (*hidden)[i].sizes() && r.hidden[i].scalar_type() == (*hidden)[i].scalar_type();
    if (!same) {
      log::warn("quantize: the layer checkpoints in " + req_.resume_dir.string() +
                " hold other calibration batches; recomputing every layer");
      return 0;
    }
    for (std::size_t i = 0; i < hidden->size(); ++i) (*hidden)[i] = store(r.hidden[i].to(req_.device));
  }
  for (auto& [m, o] : r.outcomes) outcomes_[m] = std::move(o);
  log::info("quantize: resuming after layer " + std::to_string(r.layers - 1) + " (layers 0-" +
            std::to_string(r.layers - 1) + " from the checkpoints in " + req_.resume_dir.string() + ")");
  resume_["layers_resumed"] = r.layers;
  return r.layers;
}

Status Quantizer::layer_done(std::int64_t l, const std::vector<at::Tensor>* hidden) {
  std::map<std::string, const Outcome*> mine;
  for (const auto& p : plan_)
    if (p.layer == l && p.group) mine[p.module] = &outcomes_.at(p.module);
  QB_TRY(LayerCheckpoints(req_.resume_dir).save(l, mine, hidden));
  resume_["layers_computed"].push_back(l);
  if (req_.after_layer) req_.after_layer(l);
  return Status::ok();
}

Status Quantizer::run_rtn() {
  auto t0 = Clock::now();
  // Each weight is quantized on its own, so the order is free: layer by layer, each layer
  // checkpointed, then the Linears outside the decoder layers (lm_head).
  std::int64_t num_layers = 0, n = 0;
  for (const auto& p : plan_) {
    num_layers = std::max(num_layers, p.layer + 1);
    n += p.group != nullptr;
  }
  const std::int64_t start = resume_from_checkpoints(num_layers, nullptr);
  Progress progress("quantize (rtn)", n);
  auto quantize_one = [&](const PlannedLinear& p) -> Status {
    QB_ASSIGN_OR_RETURN_CTX(auto w, load_weight(p), "quantize '" + p.module + "'");
    QB_ASSIGN_OR_RETURN_CTX(auto os, quantize_linears({&p}, recipe_, {w}, nullptr),
                            "quantize '" + p.module + "'");
    Outcome& o = os.front();
    o.ql.dequantized = keep_dequantized() ? o.ql.dequantized.cpu() : at::Tensor();
    outcomes_.emplace(p.module, std::move(o));
    progress.advance();
    return Status::ok();
  };
  for (std::int64_t l = start; l < num_layers; ++l) {
    for (const auto& p : plan_)
      if (p.group && p.layer == l) QB_TRY(quantize_one(p));
    QB_TRY(layer_done(l, nullptr));
  }
  for (const auto& p : plan_)
    if (p.group && p.layer < 0) QB_TRY(quantize_one(p));
  timings_["quantize_s"] = seconds_since(t0);
  return Status::ok();
}

// One calibration pass over `hidden` through `fwd` with a hook on the inputs of `mods`, then
// quantization of `mods`. With `replace_hidden`, each sample's pass output replaces its input.
Status Quantizer::calibrate_group(
    const std::vector<const PlannedLinear*>& mods, model::Model& m,
    std::vector<at::Tensor>& hidden,
    const std::function<at::Tensor(const at::Tensor&, const model::ForwardHooks*)>& fwd,
    bool replace_hidden) {
  const bool gptq = recipe_.modifier == Modifier::kGptq;
  std::map<std::string, const PlannedLinear*> by_module;
  std::map<std::string, InputState> inputs;  // input_group -> state
  for (const auto* p : mods) {
    if (!p->group) continue;  // ignored modules are not observed
    by_module[p->module] = p;
    auto& st = inputs[p->input_group];
    if (!st.stats)
      st.stats = std::make_unique<ActivationStats>(std::hash<std::string>{}(p->input_group));
    if (gptq && !st.hessian) st.hessian = std::make_unique<qmath::HessianAccumulator>(p->in);
    const auto& acts = p->group->input_activations;
    if (acts && !acts->dynamic && !st.observers.count(p->group)) {
      QB_ASSIGN_OR_RETURN(auto obs, qmath::Observer::create(*acts, qmath::Role::kInputActivation));
      st.observers.emplace(p->group, std::move(obs));
    }
  }
  std::set<std::string> seen;  // input groups already fed in this forward
  Status hook_status;
  model::ForwardHooks hooks;
  hooks.linear_input = [&](const std::string& module, const at::Tensor& x_in) {
    auto it = by_module.find(module);
    if (it == by_module.end() || !hook_status.is_ok()) return;
    const PlannedLinear& p = *it->second;
    if (!seen.insert(p.input_group).second) return;  // q/k/v, gate/up: same input
    at::Tensor x = x_in;
    if (auto t = std::dynamic_pointer_cast<const model::TransformedLinear>(m.linear(module)))
      x = t->transform()->apply(x);
    auto& st = inputs[p.input_group];
    st.stats->add(x);
    if (st.hessian) {
      auto s = st.hessian->add(x);
      if (!s.is_ok()) hook_status = s.with_context(module);
    }
    for (auto& [g, obs] : st.observers)  // one sample at a time, as llm-compressor's batch 1
      for (std::int64_t b = 0; b < x.size(0); ++b) obs.observe(x.narrow(0, b, 1));
  };
  auto t0 = Clock::now();
  for (auto& h : hidden) {
    seen.clear();
    auto out = fwd(h, &hooks);
    QB_TRY(hook_status);
    if (replace_hidden) h = store(out);
  }
  timings_["calibrate_s"] = timings_.value("calibrate_s", 0.0) + seconds_since(t0);
  return finish_modules(mods, inputs, m);
}

Status Quantizer::finish_modules(const std::vector<const PlannedLinear*>& mods,
                                 std::map<std::string, InputState>& inputs, model::Model& m) {
  auto t0 = Clock::now();
  const bool gptq = recipe_.modifier == Modifier::kGptq;
  std::map<std::string, at::Tensor> hessians;
  std::map<std::string, json> stats;  // per input group: computed once
  // Solve units: one module, or (GPTQ) consecutive modules that can be stacked.
  std::vector<std::vector<const PlannedLinear*>> units;
  for (const auto* p : mods) {
    if (!p->group) continue;
    if (gptq && !units.empty() && stackable(*units.back().front(), *p))
      units.back().push_back(p);
    else
      units.push_back({p});
  }
  for (const auto& unit : units) {
    const PlannedLinear& first = *unit.front();
    auto& st = inputs[first.input_group];
    const std::string ctx = "quantize '" + first.module + "'" +
                            (unit.size() > 1 ? " (and " + std::to_string(unit.size() - 1) +
                                                   " more sharing its input)"
                                             : std::string());
    const at::Tensor* H = nullptr;
    if (st.hessian) {
      if (!hessians.count(first.input_group)) {
        QB_ASSIGN_OR_RETURN_CTX(hessians[first.input_group], st.hessian->finalize(), ctx);
      }
      H = &hessians[first.input_group];
    }
    if (!stats.count(first.input_group)) stats[first.input_group] = st.stats->to_json();
    std::vector<at::Tensor> weights;
    for (const auto* p : unit) {
      QB_ASSIGN_OR_RETURN_CTX(auto w, load_weight(*p), "quantize '" + p->module + "'");
      weights.push_back(std::move(w));
    }
    QB_ASSIGN_OR_RETURN_CTX(auto outs, quantize_linears(unit, recipe_, weights, H), ctx);
    for (std::size_t k = 0; k < unit.size(); ++k) {
      const PlannedLinear& p = *unit[k];
      Outcome& o = outs[k];
      const std::string mctx = "quantize '" + p.module + "'";
      o.report["activations"] = stats[p.input_group];
      if (H) o.report["hessian_samples"] = st.hessian->num_samples();
      if (auto it = st.observers.find(p.group); it != st.observers.end()) {
        QB_ASSIGN_OR_RETURN_CTX(auto qp, it->second.qparams(), mctx + ": input observer");
        o.ql.input_scale = qp.scale.cpu();
        o.report["input_scale"] = qp.scale.to(at::kDouble).item<double>();
        o.report["input_observer"] = qmath::observer_name(it->second.kind());
      }
      if (gptq) {
        // Propagate through the quantized weights (see quantize.h).
        auto original = m.linear(p.module);
        if (!original) return internal_error(mctx + ": the model has no such Linear");
        QB_ASSIGN_OR_RETURN_CTX(
            auto repl, fake_quant_linear(original, o.ql.dequantized, m.dtype(), req_.device), mctx);
        QB_TRY_CTX(m.set_linear(p.module, repl), mctx);
      }
      o.ql.dequantized = keep_dequantized() ? o.ql.dequantized.cpu() : at::Tensor();
      outcomes_.emplace(p.module, std::move(o));
    }
  }
  timings_["quantize_s"] = timings_.value("quantize_s", 0.0) + seconds_since(t0);
  return Status::ok();
}

Status Quantizer::run_calibrated(const std::vector<Sample>& samples) {
  auto t0 = Clock::now();
  const at::Device dev = req_.device;
  // On a GPU the model stays on the host and each decoder layer is moved to the device for its
  // turn (llm-compressor's sequential onloading): one layer, its Hessians and the calibration
  // hidden states are all the device holds, so an 8B model quantizes on a 24 GB card.
  const bool onload = dev.is_cuda();
  model::LoadOptions lo;
  lo.device = onload ? at::Device(at::kCPU) : dev;
  lo.dtype = req_.compute_dtype;
  QB_ASSIGN_OR_RETURN_CTX(auto model, model::Model::load(req_.model_dir, lo), "quantize");
  // llm-compressor calibrates under transformers' eager attention (calibration_forward_context):
  // the layers run transformers' modules op for op (model.h, LayerPath::kEager).
  model.set_layer_path(req_.calibration_path);
  timings_["load_model_s"] = seconds_since(t0);
  const bool gptq = recipe_.modifier == Modifier::kGptq;

  // Batches of consecutive equal-length samples.
  const std::vector<at::Tensor> ids = batch_samples(samples, req_.calibration_batch_size);
  std::int64_t tokens = 0;
  for (const auto& t : ids) tokens += t.numel();
  const std::int64_t hidden_bytes =
      tokens * model.config().hidden_size * static_cast<std::int64_t>(c10::elementSize(model.dtype()));
  hidden_.emplace(dev, hidden_bytes);
  timings_["hidden_state_gib"] = static_cast<double>(hidden_bytes) / (1024.0 * 1024.0 * 1024.0);
  timings_["hidden_states_on"] = hidden_->where();

  std::vector<at::Tensor> hidden;
  t0 = Clock::now();
  {
    const at::Tensor table = model.embed_tokens().to(dev);
    for (const auto& t : ids) hidden.push_back(store(at::embedding(table, t.to(dev))));
  }

  // A run killed mid-way resumes after its last checkpointed layer (layer_checkpoint.h).
  const std::int64_t start = resume_from_checkpoints(model.num_layers(), &hidden);
  Progress progress("quantize (calibrated layers)", model.num_layers() - start);
  for (std::int64_t l = start; l < model.num_layers(); ++l) {
    std::vector<const PlannedLinear*> mods;
    for (const auto& p : plan_)
      if (p.layer == l) mods.push_back(&p);
    auto tm = Clock::now();
    if (onload) QB_TRY_CTX(model.move_layer(l, dev), "quantize: layer " + std::to_string(l));
    timings_["onload_s"] = timings_.value("onload_s", 0.0) + seconds_since(tm);
    const auto& layer = model.layer(l);
    auto fwd = [&](const at::Tensor& h, const model::ForwardHooks* hooks) {
      auto hd = h.to(dev);
      auto valid = at::ones({hd.size(0), hd.size(1)}, hd.options().dtype(at::kBool));
      auto in = model.layer_inputs(valid, nullptr);
      return layer.forward(hd, in, nullptr, hooks);
    };
    QB_TRY_CTX(calibrate_group(mods, model, hidden, fwd, /*replace_hidden=*/!gptq),
               "layer " + std::to_string(l));
    auto tp = Clock::now();
    if (gptq)
      for (auto& h : hidden) h = store(fwd(h, nullptr));
    timings_["propagate_s"] = timings_.value("propagate_s", 0.0) + seconds_since(tp);
    // The finished layer is not run again: its device memory is released by moving it to the
    // meta device (shapes only, no copy back to the host).
    if (onload) QB_TRY_CTX(model.move_layer(l, at::kMeta), "quantize: layer " + std::to_string(l));
    QB_TRY_CTX(layer_done(l, &hidden), "quantize: layer " + std::to_string(l));
    progress.advance();
  }
  // lm_head, when stored and targeted: its input is the final-normed hidden state.
  std::vector<const PlannedLinear*> head;
  for (const auto& p : plan_)
    if (p.layer < 0 && p.group) head.push_back(&p);
  if (!head.empty()) {
    const at::Tensor norm = model.norm_weight().to(dev);
    const double eps = model.config().rms_norm_eps;
    auto fwd = [&](const at::Tensor& h, const model::ForwardHooks* hooks) {
      auto x = model::rms_norm(h.to(dev), norm, eps);
      if (hooks && hooks->linear_input) hooks->linear_input("lm_head", x);
      return x;
    };
    QB_TRY(calibrate_group(head, model, hidden, fwd, /*replace_hidden=*/false));
  }
  timings_["calibrated_total_s"] = seconds_since(t0);
  return Status::ok();
}

Status copy_tokenizer_files(const stdfs::path& from, const stdfs::path& to) {
  std::error_code ec;
  for (const auto& e : stdfs::directory_iterator(from, ec)) {
    const auto name = e.path().filename().string();
    const bool tok = name.rfind("tokenizer", 0) == 0 || name.rfind("vocab", 0) == 0 ||
                     name.rfind("merges", 0) == 0 || name == "special_tokens_map.json" ||
                     name.rfind("chat_template", 0) == 0 || name == "added_tokens.json";
    if (!tok || !e.is_regular_file()) continue;
    QB_ASSIGN_OR_RETURN(auto data, fs::read_file(e.path()));
    QB_TRY(fs::write_file_atomic(to / name, data));
  }
  if (ec) return io_error("listing '" + from.string() + "': " + ec.message());
  return Status::ok();
}

}  // namespace

Status run_quantize(const QuantizeRequest& req) {
  const auto t_start = Clock::now();
  const OneIntraOpThread one_thread(req.device.is_cpu());
  const QuantRecipe& recipe = req.recipe;
  // Smoothing stages run in the smooth step (smooth.h), whose output this step then quantizes
  // with recipe.quantization_stage(); ignoring them here would quietly quantize the unsmoothed
  // model.
  if (!recipe.stages.empty())
    return invalid_argument(std::string("quantize: the recipe has smoothing stages (") +
                            spec::stage_modifier_name(recipe.stages.front()) +
                            "); they run in the smooth step, and the quantize step takes its output "
                            "with the quantization stage alone");
  QB_ASSIGN_OR_RETURN_CTX(auto ckpt, model_io::Checkpoint::open(req.model_dir), "quantize");
  // A transformed (e.g. SpinQuant) model carries a quantization_config holding only its
  // transform_config, as llm-compressor writes it; one with config groups is already quantized.
  json transform_config = nullptr;
  if (const auto& c = ckpt.config(); c.contains("quantization_config") &&
                                     !c["quantization_config"].is_null()) {
    const auto& qc = c["quantization_config"];
    if (!qc.is_object() || (qc.contains("config_groups") && !qc["config_groups"].is_null() &&
                            !qc["config_groups"].empty()))
      return invalid_argument("quantize: '" + req.model_dir.string() +
                              "' is already quantized (config.json has a quantization_config)");
    transform_config = qc.value("transform_config", json(nullptr));
  } else if (c.contains("transform_config")) {
    transform_config = c["transform_config"];
  }
  QB_ASSIGN_OR_RETURN_CTX(auto config,
                          model::ModelConfig::from_json(ckpt.config(),
                                                        (req.model_dir / "config.json").string()),
                          "quantize");
  spec::Issues recipe_issues;  // the config layer ran the same rules at --dry-run
  recipe.validate(recipe_issues);
  QB_TRY(recipe_issues.to_status("quantize: recipe"));
  QB_ASSIGN_OR_RETURN_CTX(auto plan, plan_modules(config, ckpt, recipe), "quantize");
  std::int64_t n_quant = 0;
  for (const auto& p : plan) n_quant += p.group != nullptr;
  if (n_quant == 0)
    return invalid_argument("quantize: no Linear module matches the recipe's targets (after "
                            "ignore)");

  Quantizer q(req, ckpt, plan);
  json calib_report = nullptr;
  if (recipe.needs_calibration()) {
    const auto tok_dir = req.tokenizer_dir.empty() ? req.model_dir : req.tokenizer_dir;
    QB_ASSIGN_OR_RETURN(std::vector<Sample> samples,
                        prepare_samples("quantize", req.calibration_samples, recipe.calibration,
                                        req.calibration_source, tok_dir, config.vocab_size));
    std::int64_t tokens = 0;
    for (const auto& s : samples) tokens += static_cast<std::int64_t>(s.size());
    calib_report = {{"samples", samples.size()}, {"tokens", tokens}};
    log::info("quantize: " + std::string(modifier_name(recipe.modifier)) + ", " +
              std::to_string(n_quant) + " Linears, calibration " + std::to_string(samples.size()) +
              " samples / " + std::to_string(tokens) + " tokens");
    QB_TRY(q.run_calibrated(samples));
  } else {
    log::info("quantize: " + std::string(modifier_name(recipe.modifier)) + ", " +
              std::to_string(n_quant) + " Linears, no calibration");
    QB_TRY(q.run_rtn());
  }

  // Write: every checkpoint tensor in name order, quantized Linears replaced.
  auto t_write = Clock::now();
  std::vector<std::pair<std::string, at::Tensor>> tensors;
  std::map<std::string, const PlannedLinear*> planned;
  for (const auto& p : plan) planned[p.module + ".weight"] = &p;
  for (const auto& name : ckpt.tensor_names()) {
    auto it = planned.find(name);
    if (it != planned.end() && it->second->group) {
      const PlannedLinear& p = *it->second;
      auto& o = q.outcomes().at(p.module);
      QB_ASSIGN_OR_RETURN_CTX(auto ts,
                              linear_tensors(p.module, *p.group, o.ql, recipe.save_compressed),
                              "quantize: writing");
      for (auto& t : ts) tensors.push_back(std::move(t));
      continue;
    }
    QB_ASSIGN_OR_RETURN_CTX(auto t, ckpt.load(name), "quantize: copying");
    tensors.emplace_back(name, std::move(t));
  }
  json out_config = ckpt.config();
  const bool tied_head = config.tie_word_embeddings && !ckpt.has("lm_head.weight");
  out_config.erase("transform_config");
  out_config.erase("quantization_config");
  out_config["quantization_config"] =
      quantization_config(plan, tied_head, recipe.save_compressed, transform_config);
  QB_TRY_CTX(model_io::save_checkpoint(req.output_dir, tensors, out_config,
                                       ckpt.generation_config()),
             "quantize: writing '" + req.output_dir.string() + "'");
  tensors.clear();
  QB_TRY_CTX(copy_tokenizer_files(req.tokenizer_dir.empty() ? req.model_dir : req.tokenizer_dir,
                                  req.output_dir),
             "quantize: copying tokenizer files");
  q.timings()["write_s"] = seconds_since(t_write);
  q.timings()["total_s"] = seconds_since(t_start);

  json linears = json::array();
  for (const auto& p : plan) {
    if (!p.group) continue;
    linears.push_back(q.outcomes().at(p.module).report);
  }
  json ignored = json::array();
  for (const auto& p : plan)
    if (!p.group) ignored.push_back(p.module);
  json report = {{"modifier", modifier_name(recipe.modifier)},
                 {"device", req.device.str()},
                 {"save_compressed", recipe.save_compressed},
                 {"calibration", calib_report},
                 {"linears", linears},
                 {"ignored", ignored},
                 {"timings", q.timings()},
                 {"resume", q.resume()},
                 {"max_rss_gib", max_rss_gib()}};
  // The file holds only what the key determines (the artifact is the same bytes on every run);
  // timings and memory go to the log and the in-memory report.
  json on_disk = report;
  on_disk.erase("timings");
  on_disk.erase("max_rss_gib");
  on_disk.erase("resume");  // a resumed run writes the same bytes as an uninterrupted one
  for (auto& l : on_disk["linears"]) l.erase("seconds");
  log::info("quantize: timings " + report["timings"].dump() + ", max RSS " +
                   std::to_string(report["max_rss_gib"].get<double>()) + " GiB");
  QB_TRY_CTX(fs::write_file_atomic(req.output_dir / kReportFile, on_disk.dump(2) + "\n"),
             "quantize: writing the report");
  if (req.report) *req.report = std::move(report);
  return Status::ok();
}

}  // namespace qb::quant
