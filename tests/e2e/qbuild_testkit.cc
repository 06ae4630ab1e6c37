// qbuild-testkit: the real qbuild front end with cheap, deterministic test-only step kinds in
// place of the libtorch ones, so end-to-end tests exercise the engine (configs → graph → Ninja →
// store → index → results) in milliseconds. Each kind writes a file naming its key, params and
// inputs; evals write scores derived from their key, with predictions, a report and a config.
//
// Behaviour switches (environment):
//   QBUILD_TESTKIT_SLEEP=<kind>:<seconds>   sleep inside that kind (to SIGKILL it mid-step); <kind>
//                                           may also be a node name (only that step sleeps)
//   QBUILD_TESTKIT_LAYERS=<n>               quant steps work in n "layers" like the real quantize
//                                           step's resume: each finished layer is checkpointed in
//                                           the partial folder, a rerun skips those, and the
//                                           artifact's meta lists the layers this run computed
//                                           (the sleep is spread over the layers)
//   QBUILD_TESTKIT_FAIL=<name>              the step whose node name is <name> fails
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>

#include "cli/cli.h"
#include "util/fs.h"
#include "util/hash.h"

namespace {

qb::Status fake_step(qb::runner::StepContext& ctx) {
  const char* fail = std::getenv("QBUILD_TESTKIT_FAIL");
  if (fail && ctx.name == fail) return qb::Status(qb::Code::kFailedCheck, "testkit: failing '" + ctx.name + "' on request");
  nlohmann::json out = {{"kind", ctx.kind}, {"key", ctx.key}, {"params", ctx.params}, {"inputs", ctx.input_keys}};
  // Write half the artifact, then (optionally) sleep, then the rest: a SIGKILL in between must
  // never leave a visible artifact.
  QB_TRY(qb::fs::write_file_atomic(ctx.out_dir / "part1.json", out.dump()));
  double sleep_s = 0;
  if (const char* s = std::getenv("QBUILD_TESTKIT_SLEEP")) {
    std::string spec = s;
    auto colon = spec.find(':');
    if (colon != std::string::npos && (spec.substr(0, colon) == ctx.kind || spec.substr(0, colon) == ctx.name))
      sleep_s = std::atof(spec.c_str() + colon + 1);
  }
  const char* layers_env = std::getenv("QBUILD_TESTKIT_LAYERS");
  const int layers = ctx.kind == "quant" && layers_env ? std::atoi(layers_env) : 0;
  if (layers > 0) {
    QB_TRY(qb::fs::make_dirs(ctx.partial_dir));
    nlohmann::json computed = nlohmann::json::array();
    for (int l = 0; l < layers; ++l) {
      const auto done = ctx.partial_dir / ("layer-" + std::to_string(l) + ".done");
      if (std::filesystem::exists(done)) continue;
      std::this_thread::sleep_for(std::chrono::milliseconds(static_cast<int>(1000 * sleep_s / layers)));
      QB_TRY(qb::fs::write_file_atomic(done, std::to_string(l)));
      computed.push_back(l);
    }
    ctx.meta["layers_computed"] = computed;
  } else if (sleep_s > 0) {
    std::this_thread::sleep_for(std::chrono::milliseconds(static_cast<int>(1000 * sleep_s)));
  }
  QB_TRY(qb::fs::write_file_atomic(ctx.out_dir / "part2.json", out.dump()));
  if (ctx.kind == "sample") {
    std::string lines;
    for (int i = 0; i < 3; ++i) lines += nlohmann::json{{"index", i}, {"prompt", "q" + std::to_string(i)}}.dump() + "\n";
    QB_TRY(qb::fs::write_file_atomic(ctx.out_dir / "eval_set.jsonl", lines));
  }
  if (ctx.kind == "score") {
    auto d = qb::hash_bytes(ctx.key.data(), ctx.key.size());
    double acc = static_cast<double>(d.lo % 1000) / 1000.0;
    ctx.meta["scores"] = {{"datasets", {{"mmlu", {{"acc", acc}, {"stderr", 0.01}, {"n", 20}}}}}};
    // The files the real score step leaves for `collect` to copy into work_dir.
    QB_TRY(qb::fs::write_file_atomic(ctx.out_dir / "predictions" / "mmlu.jsonl",
                                     nlohmann::json{{"key", ctx.key}, {"acc", acc}}.dump() + "\n"));
    QB_TRY(qb::fs::write_file_atomic(ctx.out_dir / "report.json", ctx.meta["scores"].dump()));
    QB_TRY(qb::fs::write_file_atomic(ctx.out_dir / "config.json", ctx.params.dump()));
  }
  if (ctx.kind == "trans") ctx.meta["equivalence"] = {{"max_rel_error", 0.0}, {"passed", true}};
  ctx.meta["gpu_env"] = std::getenv("CUDA_VISIBLE_DEVICES") ? std::getenv("CUDA_VISIBLE_DEVICES") : "";
  return qb::Status::ok();
}

}  // namespace

int main(int argc, char** argv) {
  qb::runner::StepRegistry reg;
  for (const char* kind : {"check", "trans", "smooth", "quant", "sample", "generate", "score"}) {
    std::string k = kind;
    if (const char* only = std::getenv("QBUILD_TESTKIT_WITHOUT"); only && k == only) continue;
    reg.add({k, 1, k != "sample" && k != "score" && k != "check", "test-only " + k, fake_step});
  }
  return qb::cli::run_main(argc, argv, reg);
}
