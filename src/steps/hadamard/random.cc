// splitmix64, signs and Gaussians; see random.h.
#include "steps/hadamard/random.h"

#include <cmath>
#include <numbers>

namespace qb::hadamard {

uint64_t SplitMix64::next() {
  uint64_t z = (state_ += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

double SplitMix64::uniform() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }

std::vector<int8_t> random_signs(uint64_t seed, int64_t n) {
  SplitMix64 g(seed);
  std::vector<int8_t> s(static_cast<size_t>(n));
  for (auto& v : s) v = (g.next() >> 63) ? -1 : 1;
  return s;
}

std::vector<double> random_gaussians(uint64_t seed, int64_t rows, int64_t cols) {
  SplitMix64 g(seed);
  std::vector<double> out(static_cast<size_t>(rows * cols));
  for (size_t i = 0; i < out.size(); i += 2) {
    const double u1 = 1.0 - g.uniform(), u2 = g.uniform();
    const double r = std::sqrt(-2.0 * std::log(u1)), phi = 2.0 * std::numbers::pi * u2;
    out[i] = r * std::cos(phi);
    if (i + 1 < out.size()) out[i + 1] = r * std::sin(phi);
  }
  return out;
}

uint64_t derive_seed(uint64_t seed, std::string_view purpose) {
  uint64_t h = 0xCBF29CE484222325ull;  // FNV-1a 64
  for (unsigned char c : purpose) h = (h ^ c) * 0x100000001B3ull;
  return SplitMix64(seed ^ h).next();
}

}  // namespace qb::hadamard
