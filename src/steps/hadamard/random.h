// Seeded random numbers that are identical on every platform and library version, for the
// random-hadamard signs and the random-matrix Gaussians (torch's generators are not used: their
// streams differ between CPU and CUDA and between releases).
//
// Generator: splitmix64 (Steele, Lea, Flood, "Fast splittable pseudorandom number generators",
// OOPSLA 2014): state += 0x9E3779B97F4A7C15; z = state; z = (z ^ z>>30)·0xBF58476D1CE4E5B9;
// z = (z ^ z>>27)·0x94D049BB133111EB; output z ^ z>>31. The first output uses state = seed + γ.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

namespace qb::hadamard {

class SplitMix64 {
 public:
  explicit SplitMix64(uint64_t seed) : state_(seed) {}
  uint64_t next();
  // (x >> 11)·2⁻⁵³ for the next output x: uniform on [0, 1) with 53 random bits.
  double uniform();

 private:
  uint64_t state_;
};

// n signs from SplitMix64(seed): sign i is −1 when bit 63 of output i is set, else +1.
std::vector<int8_t> random_signs(uint64_t seed, int64_t n);

// rows×cols standard normals, row-major, from SplitMix64(seed) by Box–Muller: for each pair,
// u1 = 1 − uniform() ∈ (0, 1], u2 = uniform(), r = √(−2 ln u1), values r·cos(2πu2), r·sin(2πu2)
// (in that order; an odd count drops the last sine). Bit-identical wherever libm's log, cos and
// sin are (glibc: correctly rounded in practice); elsewhere within an ulp or so.
std::vector<double> random_gaussians(uint64_t seed, int64_t rows, int64_t cols);

// A seed for one use of a user seed ("R1", "R2", …): splitmix64 of seed XOR FNV-1a-64(purpose),
// so the rotations of one step draw independent streams.
uint64_t derive_seed(uint64_t seed, std::string_view purpose);

}  // namespace qb::hadamard
