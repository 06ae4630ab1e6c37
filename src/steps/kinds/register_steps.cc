#include "steps/kinds/register_steps.h"

#include <array>
#include <map>
#include <string>

#include "steps/kinds/step_kinds.h"

namespace qb::steps {

namespace {

struct KindInfo {
  const char* name;
  int code_version;
  bool gpu;
  bool torch;  // needs libtorch (runs in qbuild-torch)
  const char* summary;
};

// Bump a kind's code version when its output changes meaning: every key of that kind changes.
// Version 2 of sample/trans/quant: keys are the typed specs' canonical JSON (src/spec/), with
// the device and compute dtype a node runs with; generate and score replace eval/base_eval.
constexpr std::array<KindInfo, 7> kKinds = {{
    {"sample", 2, false, false, "draw the frozen eval set (evalscope's weighted sampler)"},
    {"score", 1, false, false, "score raw outputs (evalscope 1.12.0's rules), fidelity vs. the base model"},
    {"check", 1, false, true, "validate a source model once: config, tensors, NaN/Inf, tokenizer"},
    {"trans", 2, true, true, "SpinQuant rotations fused in float64 + equivalence check"},
    {"smooth", 1, true, true, "SmoothQuant / AWQ scales folded into an fp checkpoint + equivalence check"},
    {"quant", 2, true, true, "RTN / GPTQ quantization into a compressed-tensors checkpoint"},
    {"generate", 1, true, true, "run a model over an eval set: raw outputs, logits for fidelity"},
}};

runner::StepKind kind(const KindInfo& k, runner::StepFn fn) {
  return {k.name, k.code_version, k.gpu, k.summary, std::move(fn)};
}

}  // namespace

void register_kinds(runner::StepRegistry& registry, const std::map<std::string, runner::StepFn>& functions) {
  for (const auto& k : kKinds)
    if (auto f = functions.find(k.name); f != functions.end()) registry.add(kind(k, f->second));
}

void register_torch_free(runner::StepRegistry& registry) {
  register_kinds(registry, {{"sample", run_sample}, {"score", run_score}});
}

void register_front_end(runner::StepRegistry& registry, const std::filesystem::path& torch_exe) {
  register_torch_free(registry);
  for (const auto& k : kKinds) {
    if (!k.torch) continue;
    runner::StepKind s = kind(k, [name = std::string(k.name)](runner::StepContext&) {
      return internal_error("step kind '" + name + "' runs in qbuild-torch, not in the front end");
    });
    s.delegate = torch_exe;
    registry.add(std::move(s));
  }
  registry.set_tools_delegate(torch_exe);
}

}  // namespace qb::steps
