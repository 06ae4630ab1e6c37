// A bit-exact re-implementation of CPython's `random` module for the two calls evalscope's
// collection sampler makes: `random.seed(n)` with a non-negative integer and
// `random.sample(population, k)`. The generator is MT19937 (Matsumoto & Nishimura, 2002) seeded
// with init_by_array over the 32-bit words of the seed, as CPython's random_seed() does;
// sample() uses CPython's two strategies (a shrinking pool for small populations, a set of
// drawn indices for large ones) and _randbelow's rejection sampling on getrandbits(n.bit_length()).
//
// Being bit-exact makes our frozen eval sets reproducible by evalscope itself: after
// `random.seed(seed)` its WeightedSampler draws the same items in the same order. Everything is
// integer arithmetic, so results are identical on every platform and compiler; the fixture
// tests/golden/eval/py_random.json (made by CPython 3.11) pins it.
#pragma once

#include <array>
#include <cstdint>
#include <vector>

namespace qb {

class PyRandom {
 public:
  explicit PyRandom(uint64_t seed);  // random.seed(seed)

  uint32_t genrand_uint32();
  uint32_t getrandbits(int k);          // 0 <= k <= 32
  uint64_t randbelow(uint64_t n);       // uniform in [0, n), n > 0 (n < 2^32 here)
  // random.sample(range(n), k): k distinct indices in draw order. Requires k <= n.
  std::vector<uint64_t> sample(uint64_t n, uint64_t k);

 private:
  void init_genrand(uint32_t s);
  std::array<uint32_t, 624> mt_{};
  int mti_ = 625;
};

}  // namespace qb
