// Helpers shared by the model_io tests: temp dirs, raw file construction, bitwise comparison.
#pragma once

#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>

#include "util/fs.h"

namespace qb::model_io::testing {

inline fs::TempDir make_temp_dir() {
  auto d = fs::TempDir::create(std::filesystem::temp_directory_path(), "qb_model_io_test-");
  EXPECT_TRUE(d.is_ok()) << d.status().to_string();
  return std::move(d).value();
}

// A .safetensors file from parts: an explicit header length (default: header.size()), the
// header text as is (no padding added) and the data section.
inline std::string raw_file(const std::string& header, const std::string& data, std::uint64_t header_len) {
  std::string out(8, '\0');
  std::memcpy(out.data(), &header_len, 8);
  return out + header + data;
}
inline std::string raw_file(const std::string& header, const std::string& data = "") {
  return raw_file(header, data, header.size());
}

// Plain write (no fsync: the fuzz test writes thousands of files).
inline void write(const std::filesystem::path& p, const std::string& bytes) {
  std::ofstream f(p, std::ios::binary | std::ios::trunc);
  f.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  f.close();
  ASSERT_TRUE(f.good()) << "writing " << p;
}

// Same dtype, shape and bytes (NaN payloads included).
inline ::testing::AssertionResult bitwise_equal(const at::Tensor& a, const at::Tensor& b) {
  if (a.scalar_type() != b.scalar_type())
    return ::testing::AssertionFailure() << "dtype " << a.scalar_type() << " vs " << b.scalar_type();
  if (a.sizes() != b.sizes()) return ::testing::AssertionFailure() << "shape " << a.sizes() << " vs " << b.sizes();
  at::Tensor ca = a.cpu().contiguous(), cb = b.cpu().contiguous();
  if (ca.nbytes() && std::memcmp(ca.data_ptr(), cb.data_ptr(), ca.nbytes()) != 0)
    return ::testing::AssertionFailure() << "bytes differ";
  return ::testing::AssertionSuccess();
}

// A tensor of `dtype` and `shape` whose bytes are random (any bit pattern; 0/1 for bool).
inline at::Tensor random_tensor(at::ScalarType dtype, at::IntArrayRef shape, at::Generator gen) {
  if (dtype == at::kBool) return at::randint(0, 2, shape, gen, at::kByte).to(at::kBool);
  int64_t numel = 1;
  for (int64_t d : shape) numel *= d;
  int64_t nbytes = numel * static_cast<int64_t>(c10::elementSize(dtype));
  at::Tensor bytes = at::randint(0, 256, {nbytes}, gen, at::kByte);
  at::Tensor t = at::empty(shape, at::TensorOptions().dtype(dtype));
  if (nbytes) std::memcpy(t.data_ptr(), bytes.data_ptr(), static_cast<std::size_t>(nbytes));
  return t;
}

inline std::string read(const std::filesystem::path& p) {
  auto r = fs::read_file(p);
  EXPECT_TRUE(r.is_ok()) << r.status().to_string();
  return r.is_ok() ? *r : std::string();
}

}  // namespace qb::model_io::testing
