// Where a calibrated step (quantize, smooth) keeps the calibration hidden states between
// decoder layers: on the GPU when they fit beside one layer's work (its weights, Hessians or
// AWQ candidates, forward activations) — a 4 GiB margin or a quarter of what is free, whichever
// is larger — else in pinned host memory, copied to the device batch by batch. On the CPU they
// stay where they are.
#pragma once

#include <ATen/ATen.h>

#include <cstdint>
#include <string>

namespace qb::quant {

class HiddenStates {
 public:
  // `bytes`: all the hidden states (tokens × hidden_size × element size).
  HiddenStates(at::Device device, std::int64_t bytes);
  // `t` where it is kept (a device tensor, or a pinned host copy).
  at::Tensor store(const at::Tensor& t) const;
  bool on_device() const { return on_device_; }
  std::string where() const;  // "cuda:0" | "cpu (pinned)" | "cpu"

 private:
  at::Device device_;
  bool on_device_ = true;
};

// Bytes of device memory free now (CUDA), or -1 when unknown.
std::int64_t free_device_bytes(at::Device device);

}  // namespace qb::quant
