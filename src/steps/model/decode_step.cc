// The eager DecodeStep, and the CUDA-graph one where libtorch has CUDA (QB_MODEL_CUDA).
#include "steps/model/decode_step.h"

#ifdef QB_MODEL_CUDA
#include <ATen/cuda/CUDAEvent.h>
#include <ATen/cuda/CUDAGraph.h>
#include <c10/cuda/CUDAGuard.h>
#include <c10/cuda/CUDAStream.h>
#endif

namespace qb::model {

namespace {

class EagerStep final : public DecodeStep {
 public:
  EagerStep(const Model& model, KvCache& cache) : model_(model), cache_(cache) {
    valid_ = at::ones({cache.batch(), 1},
                      at::TensorOptions().dtype(at::kBool).device(model.device()));
  }
  at::Tensor step(const at::Tensor& tokens) override {
    const at::Tensor h = model_.forward_hidden(tokens.unsqueeze(1), valid_, &cache_);  // [B, 1, C]
    return model_.lm_head(h.select(1, 0)).argmax(-1);                                  // [B]
  }

 private:
  const Model& model_;
  KvCache& cache_;
  at::Tensor valid_;  // [B, 1] all true
};

#ifdef QB_MODEL_CUDA
// Step 0 runs eagerly on a side stream (it initializes cuBLAS handles, workspaces and allocator
// pools, as capture requires); step 1 is captured (nothing executes during capture; the host
// state it touches, cache.length(), moves once) and replayed; later steps replay.
class GraphStep final : public DecodeStep {
 public:
  GraphStep(const Model& model, KvCache& cache) : eager_(model, cache), cache_(cache) {
    const auto opts = at::TensorOptions().dtype(at::kLong).device(model.device());
    tokens_ = at::zeros({cache.batch()}, opts);
    next_ = at::zeros({cache.batch()}, opts);
  }

  at::Tensor step(const at::Tensor& tokens) override {
    tokens_.copy_(tokens);
    if (graph_) {
      graph_->replay();
      cache_.count_replayed_step();
      return next_;
    }
    const c10::cuda::CUDAStream current = c10::cuda::getCurrentCUDAStream();
    const c10::cuda::CUDAStream side = c10::cuda::getStreamFromPool();
    at::cuda::CUDAEvent ready;
    ready.record(current);
    ready.block(side);
    {
      c10::cuda::CUDAStreamGuard guard(side);
      if (warmed_up_) {
        graph_ = std::make_unique<at::cuda::CUDAGraph>();
        graph_->capture_begin();
        run_eager();
        graph_->capture_end();
      } else {
        run_eager();
        warmed_up_ = true;
      }
    }
    at::cuda::CUDAEvent done;
    done.record(side);
    done.block(current);
    if (graph_) graph_->replay();
    return next_;
  }

 private:
  void run_eager() { next_.copy_(eager_.step(tokens_)); }

  EagerStep eager_;
  KvCache& cache_;
  at::Tensor tokens_, next_;  // [B] static input / output buffers
  bool warmed_up_ = false;
  std::unique_ptr<at::cuda::CUDAGraph> graph_;
};
#endif

}  // namespace

std::unique_ptr<DecodeStep> eager_decode_step(const Model& model, KvCache& cache) {
  return std::make_unique<EagerStep>(model, cache);
}

Result<std::unique_ptr<DecodeStep>> cuda_graph_decode_step(const Model& model, KvCache& cache) {
#ifdef QB_MODEL_CUDA
  if (!model.device().is_cuda())
    return invalid_argument("CUDA-graph decoding needs a model on a CUDA device, not " +
                            model.device().str());
  if (!cache.static_shapes())
    return invalid_argument("CUDA-graph decoding needs a KV cache with static shapes");
  return std::unique_ptr<DecodeStep>(std::make_unique<GraphStep>(model, cache));
#else
  (void)model;
  (void)cache;
  return unavailable("CUDA-graph decoding: this build's libtorch has no CUDA");
#endif
}

}  // namespace qb::model
