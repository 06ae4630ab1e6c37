// OneIntraOpThread: the CPU determinism guard of the calibrated steps (quantize, smooth).
#pragma once

#include <ATen/Parallel.h>

namespace qb::quant {

// On the CPU the whole step runs with one intra-op thread: MKL's GEMMs split their inner
// dimension across threads when it is long against the output (seen: the Hessian's xᵀx over a
// 2048-token sample; down_proj's 1024 inputs on a 64-token sample), and ATen's full reductions
// over more than 32768 elements (the report's norms and sums, the MSE observer's error) split
// theirs, so the bits of Hessians, GPTQ codes, static input scales and report values depended on
// the machine's core count (tests/quant/determinism_test.cc failed before this). One
// thread is also how llm-compressor's fixtures are made (torch.set_num_threads(1)), so the
// CPU results are bit-identical to them. Restores the previous count on exit.
class OneIntraOpThread {
 public:
  explicit OneIntraOpThread(bool on) : on_(on), saved_(at::get_num_threads()) {
    if (on_) at::set_num_threads(1);
  }
  ~OneIntraOpThread() {
    if (on_) at::set_num_threads(saved_);
  }
  OneIntraOpThread(const OneIntraOpThread&) = delete;
  OneIntraOpThread& operator=(const OneIntraOpThread&) = delete;

 private:
  bool on_;
  int saved_;
};

}  // namespace qb::quant
