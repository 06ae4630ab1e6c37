// run_spinquant: load → fuse/rotate → equivalence check → save; see spinquant.h.
#include "steps/transforms/spinquant.h"

#include <chrono>
#include <map>
#include <set>
#include <utility>

#include "steps/model/model.h"
#include "steps/model/online_transforms.h"
#include "steps/model/tensor_names.h"
#include "steps/tokenizer/tokenizer.h"
#include "steps/transforms/equivalence.h"
#include "steps/transforms/fusion.h"
#include "steps/transforms/spinquant_plan.h"
#include "steps/transforms/transform_config.h"
#include "util/fs.h"
#include "util/log.h"

namespace qb::transforms {
namespace {

namespace stdfs = std::filesystem;
using Clock = std::chrono::steady_clock;
using model::Role;

double seconds_since(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

using NamedTensors = std::vector<std::pair<std::string, at::Tensor>>;

// The transformed model in memory: dense fp32 linears on `device`, R4 in front of down_proj.
Result<model::Model> build_transformed(const SpinQuantPlan& plan, const NamedTensors& tensors,
                                       at::Device device) {
  std::map<std::string, at::Tensor> t;
  for (const auto& [name, value] : tensors) t[name] = value;
  auto get = [&](const std::string& name) -> Result<at::Tensor> {
    auto it = t.find(name);
    if (it == t.end()) return internal_error("transformed model lacks '" + name + "'");
    return it->second.to(device, at::kFloat);
  };
  auto linear = [&](Role role, int64_t layer, bool bias) -> Result<std::shared_ptr<const model::Linear>> {
    const std::string m = model::module_name(role, layer);
    QB_ASSIGN_OR_RETURN(at::Tensor w, get(m + ".weight"));
    std::optional<at::Tensor> b;
    if (bias) {
      QB_ASSIGN_OR_RETURN(b, get(m + ".bias"));
    }
    return std::shared_ptr<const model::Linear>(std::make_shared<model::DenseLinear>(w, b));
  };
  model::ModelConfig c = plan.source_config();
  c.tie_word_embeddings = false;
  c.dtype = at::kFloat;
  model::ModelWeights w;
  QB_ASSIGN_OR_RETURN(w.embed_tokens, get(model::module_name(Role::kTokenEmbd) + ".weight"));
  QB_ASSIGN_OR_RETURN(w.norm, get(model::module_name(Role::kOutputNorm) + ".weight"));
  QB_ASSIGN_OR_RETURN(w.lm_head, linear(Role::kOutput, -1, false));
  for (int64_t i = 0; i < c.num_layers; ++i) {
    model::LayerWeights l;
    QB_ASSIGN_OR_RETURN(l.input_layernorm, get(model::module_name(Role::kAttnNorm, i) + ".weight"));
    QB_ASSIGN_OR_RETURN(l.q_proj, linear(Role::kAttnQ, i, c.qkv_bias));
    QB_ASSIGN_OR_RETURN(l.k_proj, linear(Role::kAttnK, i, c.qkv_bias));
    QB_ASSIGN_OR_RETURN(l.v_proj, linear(Role::kAttnV, i, c.qkv_bias));
    if (c.qk_norm) {
      QB_ASSIGN_OR_RETURN(l.q_norm, get(model::module_name(Role::kAttnQNorm, i) + ".weight"));
      QB_ASSIGN_OR_RETURN(l.k_norm, get(model::module_name(Role::kAttnKNorm, i) + ".weight"));
    }
    QB_ASSIGN_OR_RETURN(l.o_proj, linear(Role::kAttnOut, i, c.o_bias));
    QB_ASSIGN_OR_RETURN(l.post_attention_layernorm, get(model::module_name(Role::kFfnNorm, i) + ".weight"));
    QB_ASSIGN_OR_RETURN(l.gate_proj, linear(Role::kFfnGate, i, c.mlp_bias));
    QB_ASSIGN_OR_RETURN(l.up_proj, linear(Role::kFfnUp, i, c.mlp_bias));
    QB_ASSIGN_OR_RETURN(l.down_proj, linear(Role::kFfnDown, i, c.mlp_bias));
    if (const auto* r4 = plan.r4()) {
      auto online = std::make_shared<model::RotationTransform>(*r4, /*inverse=*/false, "R4");
      QB_ASSIGN_OR_RETURN(l.down_proj, model::make_transformed(online, l.down_proj));
    }
    w.layers.push_back(std::move(l));
  }
  model::LoadOptions opts;
  opts.device = device;
  opts.dtype = at::kFloat;
  return model::Model::create(std::move(c), std::move(w), opts);
}

bool is_weight_file(const stdfs::path& p) {
  const auto ext = p.extension().string();
  return ext == ".safetensors" || ext == ".bin" || ext == ".pt" || ext == ".pth" || ext == ".gguf" ||
         p.filename() == model_io::kWeightsIndexFile || p.filename() == "pytorch_model.bin.index.json";
}

// Tokenizer files, chat templates, READMEs: everything but weights and the two configs.
Status copy_side_files(const stdfs::path& from, const stdfs::path& to) {
  std::error_code ec;
  for (const auto& e : stdfs::directory_iterator(from, ec)) {
    const auto name = e.path().filename().string();
    if (!e.is_regular_file() || name == model_io::kConfigFile || name == model_io::kGenerationConfigFile ||
        is_weight_file(e.path()))
      continue;
    QB_ASSIGN_OR_RETURN(std::string data, fs::read_file(e.path()));
    QB_TRY(fs::write_file_atomic(to / name, data));
  }
  if (ec) return io_error("listing '" + from.string() + "': " + ec.message());
  return Status::ok();
}

// Every stored tensor must be one the plan reads: a tensor it does not know (a bias the config
// does not declare, an extra module) would be dropped silently and change the model.
Status check_known_tensors(const model_io::Checkpoint& ckpt, const SpinQuantPlan& plan) {
  std::set<std::string> known;
  for (const auto& r : plan.recipes()) {
    known.insert(r.source);
    if (!r.norm.empty()) known.insert(r.norm);
  }
  if (plan.source_config().tie_word_embeddings) known.insert(model::module_name(Role::kOutput) + ".weight");
  std::string unknown;
  int count = 0;
  for (const auto& name : ckpt.tensor_names())
    if (!known.count(name) && count++ < 5) unknown += (unknown.empty() ? "" : ", ") + name;
  if (count == 0) return Status::ok();
  return invalid_argument("the checkpoint has " + std::to_string(count) +
                          " tensor(s) the model config does not account for (" + unknown +
                          (count > 5 ? ", …" : "") + "); SpinQuant would drop them");
}

Result<std::vector<std::vector<int64_t>>> resolve_prompts(const SpinQuantRequest& req, int64_t vocab) {
  std::vector<std::vector<int64_t>> out;
  if (!req.equivalence.prompts.empty()) {
    QB_ASSIGN_OR_RETURN_CTX(tok::Tokenizer tk, tok::Tokenizer::load(req.input_dir),
                            "equivalence prompts need the source model's tokenizer");
    for (const auto& text : req.equivalence.prompts) {
      const auto ids = tk.encode(text);
      out.emplace_back(ids.begin(), ids.end());
    }
  }
  for (const auto& p : req.equivalence.prompt_ids) out.push_back(p);
  if (out.empty()) out = default_prompt_ids(vocab);
  for (size_t i = 0; i < out.size(); ++i) {  // checked before the expensive stages
    if (out[i].empty()) return invalid_argument("equivalence prompt " + std::to_string(i) + " is empty");
    for (size_t t = 0; t < out[i].size(); ++t)
      if (out[i][t] < 0 || out[i][t] >= vocab)
        return invalid_argument("equivalence prompt " + std::to_string(i) + ": id " + std::to_string(out[i][t]) +
                                " at position " + std::to_string(t) + " is outside the vocabulary (0.." +
                                std::to_string(vocab - 1) + ")");
  }
  return out;
}

}  // namespace

Result<nlohmann::json> run_spinquant(const SpinQuantRequest& req) {
  const std::string where = "spinquant '" + req.input_dir.string() + "'";
  nlohmann::json timings;

  // ---- load ----
  auto t0 = Clock::now();
  QB_ASSIGN_OR_RETURN_CTX(model_io::Checkpoint ckpt, model_io::Checkpoint::open(req.input_dir), where);
  const std::string config_path = (req.input_dir / model_io::kConfigFile).string();
  if (ckpt.config().contains("quantization_config"))
    return invalid_argument(where + ": " + config_path +
                            " has a quantization_config (the model is quantized or already "
                            "transformed); SpinQuant needs an unquantized source");
  QB_ASSIGN_OR_RETURN_CTX(model::ModelConfig config, model::ModelConfig::from_json(ckpt.config(), config_path),
                          where);
  QB_ASSIGN_OR_RETURN_CTX(SpinQuantPlan plan, SpinQuantPlan::create(req.params, config), where);
  QB_TRY_CTX(check_known_tensors(ckpt, plan), where);
  QB_ASSIGN_OR_RETURN_CTX(auto prompts, resolve_prompts(req, config.vocab_size), where);
  timings["load"] = seconds_since(t0);

  // ---- fuse / rotate ----
  t0 = Clock::now();
  NamedTensors out;
  double read_s = 0;  // tensor reads happen inside the fusion loop (streamed); counted as load
  auto source = [&](const std::string& name) {
    const auto r0 = Clock::now();
    auto t = ckpt.load(name, req.device);
    read_s += seconds_since(r0);
    return t;
  };
  double to_host_s = 0;  // device -> host copies of the results, timed apart from the compute
  auto sink = [&](const std::string& name, const at::Tensor& v) -> Status {
    at::Tensor f = v.to(at::kFloat);  // cast on the device: half the copy
    if (f.is_cuda() && f.numel() > 0) (void)f.reshape({-1})[0].item<float>();  // the compute is done
    const auto c0 = Clock::now();
    if (f.is_cuda()) {
      // A fresh host tensor is first touched page by page inside the driver's single-threaded
      // pageable copy (measured 1.2 GB/s for 33 GB); zero_() faults its pages in on all cores
      // first, so the copy only moves bytes.
      at::Tensor host = at::empty(f.sizes(), f.options().device(at::kCPU));
      host.zero_();
      host.copy_(f);
      out.emplace_back(name, std::move(host));
    } else {
      out.emplace_back(name, f.contiguous());
    }
    to_host_s += seconds_since(c0);
    return Status::ok();
  };
  QB_TRY_CTX(fuse_and_rotate(plan, source, sink, req.device), where);
  timings["fuse_rotate"] = seconds_since(t0) - read_s - to_host_s;
  if (req.device.is_cuda()) timings["to_host"] = to_host_s;
  timings["load"] = timings["load"].get<double>() + read_s;

  // ---- equivalence ----
  t0 = Clock::now();
  std::vector<at::Tensor> ref_logits, new_logits;
  {
    model::LoadOptions lo;
    lo.device = req.device;
    lo.dtype = at::kFloat;
    QB_ASSIGN_OR_RETURN_CTX(model::Model src, model::Model::load(req.input_dir, lo), where + ": equivalence check");
    QB_ASSIGN_OR_RETURN_CTX(ref_logits, prompt_logits(src, prompts), where + ": equivalence check, source model");
  }
  {
    QB_ASSIGN_OR_RETURN_CTX(model::Model dst, build_transformed(plan, out, req.device),
                            where + ": equivalence check");
    QB_ASSIGN_OR_RETURN_CTX(new_logits, prompt_logits(dst, prompts),
                            where + ": equivalence check, transformed model");
  }
  QB_ASSIGN_OR_RETURN(EquivalenceMetrics metrics, compare_logits(ref_logits, new_logits));
  timings["equivalence"] = seconds_since(t0);
  log::info(where + ": equivalence: " + metrics.summary());
  const double tol = req.equivalence.max_rel_error;
  if (!(metrics.max_rel_error <= tol))
    return Status(Code::kFailedCheck, where + ": equivalence check failed: " + metrics.summary() +
                                          "; the tolerance on the relative logit error is " +
                                          std::to_string(tol));

  // ---- save ----
  t0 = Clock::now();
  QB_TRY_CTX(model_io::save_checkpoint(req.output_dir, out, transformed_model_config(ckpt.config(), plan),
                                       ckpt.generation_config(), req.save),
             where + ": saving '" + req.output_dir.string() + "'");
  QB_TRY_CTX(copy_side_files(req.input_dir, req.output_dir), where);
  timings["save"] = seconds_since(t0);

  nlohmann::json eq = metrics.to_json();
  eq["tolerance"] = tol;
  eq["passed"] = true;
  return nlohmann::json{{"params", req.params.to_json()},
                        {"rotations", plan.describe()},
                        {"equivalence", eq},
                        {"timings_s", timings},
                        {"device", req.device.str()}};
}

}  // namespace qb::transforms
