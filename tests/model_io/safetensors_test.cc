// safetensors: the dtype table, writer layout and round trips of every dtype.
#include "steps/model_io/safetensors.h"

#include <gtest/gtest.h>

#include <ATen/CPUGeneratorImpl.h>

#include "test_util.h"

namespace qb::model_io {
namespace {

using namespace qb::model_io::testing;
using TensorList = std::vector<std::pair<std::string, at::Tensor>>;

constexpr DType kAllDTypes[] = {DType::kBool, DType::kU8,  DType::kI8,     DType::kI16,    DType::kI32,
                                DType::kI64,  DType::kF16, DType::kBF16,   DType::kF32,    DType::kF64,
                                DType::kU16,  DType::kU32, DType::kU64,    DType::kF8E4M3, DType::kF8E5M2};

TEST(DTypeTable, NamesSizesAndTorchTypesRoundTrip) {
  for (DType d : kAllDTypes) {
    SCOPED_TRACE(dtype_name(d));
    EXPECT_EQ(dtype_from_name(dtype_name(d)), d);
    EXPECT_EQ(dtype_size(d), c10::elementSize(to_scalar_type(d)));
    auto back = from_scalar_type(to_scalar_type(d));
    ASSERT_TRUE(back.is_ok());
    EXPECT_EQ(*back, d);
  }
  EXPECT_EQ(dtype_from_name("BF16"), DType::kBF16);
  EXPECT_EQ(std::string(dtype_name(DType::kF8E4M3)), "F8_E4M3");
  EXPECT_EQ(dtype_size(DType::kI64), 8u);
}

TEST(DTypeTable, UnknownNamesAndTypesAreRejected) {
  EXPECT_FALSE(dtype_from_name("F4").has_value());
  EXPECT_FALSE(dtype_from_name("bf16").has_value());  // names are case-sensitive
  auto r = from_scalar_type(at::kComplexFloat);
  ASSERT_FALSE(r.is_ok());
  EXPECT_EQ(r.status().message(), "torch dtype ComplexFloat has no safetensors equivalent");
}

TEST(SafetensorsRoundTrip, EveryDTypeBitExact) {
  auto dir = make_temp_dir();
  at::Generator gen = at::make_generator<at::CPUGeneratorImpl>(1234);
  TensorList tensors;
  for (DType d : kAllDTypes) {
    // Odd sizes keep later tensors misaligned, which the format allows.
    tensors.emplace_back(std::string("t.") + dtype_name(d), random_tensor(to_scalar_type(d), {3, 5}, gen));
    tensors.emplace_back(std::string("scalar.") + dtype_name(d), random_tensor(to_scalar_type(d), {}, gen));
    tensors.emplace_back(std::string("empty.") + dtype_name(d), random_tensor(to_scalar_type(d), {0, 4}, gen));
  }
  const auto path = dir.path() / "all.safetensors";
  ASSERT_TRUE(write_safetensors(path, tensors, {{"format", "pt"}, {"note", "x"}}).is_ok());

  auto r = SafetensorsReader::open(path);
  ASSERT_TRUE(r.is_ok()) << r.status().to_string();
  EXPECT_EQ(r->metadata(), (std::map<std::string, std::string>{{"format", "pt"}, {"note", "x"}}));
  ASSERT_EQ(r->entries().size(), tensors.size());
  for (std::size_t i = 0; i < tensors.size(); ++i) {
    const auto& [name, t] = tensors[i];
    SCOPED_TRACE(name);
    // Empty tensors share their offset with the next one; order among equal offsets is by
    // (end, name), so look up by name and check the writer kept the given order via offsets.
    const TensorEntry* e = r->find(name);
    ASSERT_NE(e, nullptr);
    EXPECT_EQ(e->shape, t.sizes().vec());
    EXPECT_EQ(to_scalar_type(e->dtype), t.scalar_type());
    EXPECT_EQ(e->nbytes(), t.nbytes());
    if (i > 0) {
      EXPECT_EQ(e->begin, r->find(tensors[i - 1].first)->end);
    }
    auto loaded = r->load(name);
    ASSERT_TRUE(loaded.is_ok()) << loaded.status().to_string();
    EXPECT_TRUE(bitwise_equal(*loaded, t));
    EXPECT_TRUE(loaded->is_contiguous());
  }
}

TEST(SafetensorsRoundTrip, LargeTensorsCopiedInParallelChunksAreBitExact) {
  // 20,000,006 bytes: five 4 MiB copy chunks, the last one partial, starting at an odd offset.
  auto dir = make_temp_dir();
  at::Generator gen = at::make_generator<at::CPUGeneratorImpl>(99);
  TensorList tensors = {{"odd", random_tensor(at::kByte, {3}, gen)},
                        {"big", random_tensor(at::kShort, {3333334, 3}, gen)}};
  const auto path = dir.path() / "big.safetensors";
  ASSERT_TRUE(write_safetensors(path, tensors).is_ok());
  auto r = SafetensorsReader::open(path);
  ASSERT_TRUE(r.is_ok()) << r.status().to_string();
  for (const auto& [name, t] : tensors) EXPECT_TRUE(bitwise_equal(*r->load(name), t)) << name;
}

TEST(SafetensorsRoundTrip, LoadedTensorOwnsItsMemory) {
  auto dir = make_temp_dir();
  const auto path = dir.path() / "a.safetensors";
  at::Tensor a = at::arange(12, at::kFloat).reshape({3, 4});
  ASSERT_TRUE(write_safetensors(path, {{"a", a}}).is_ok());
  at::Tensor loaded;
  {
    auto r = SafetensorsReader::open(path);
    ASSERT_TRUE(r.is_ok());
    loaded = *r->load("a");
  }  // the map is gone; the tensor must still be valid and writable
  loaded.add_(1);
  EXPECT_TRUE(at::equal(loaded, a + 1));
}

TEST(SafetensorsRoundTrip, NonContiguousAndViewInputsAreWrittenAsTheirValues) {
  auto dir = make_temp_dir();
  const auto path = dir.path() / "v.safetensors";
  at::Tensor base = at::arange(24, at::kFloat).reshape({4, 6});
  at::Tensor transposed = base.t();                  // [6, 4], strides (1, 6)
  at::Tensor sliced = base.index({at::indexing::Slice(), at::indexing::Slice(1, 6, 2)});  // [4, 3]
  at::Tensor expanded = at::ones({1, 3}, at::kBFloat16).expand({2, 3});
  ASSERT_TRUE(write_safetensors(path, {{"t", transposed}, {"s", sliced}, {"e", expanded}}).is_ok());
  auto r = SafetensorsReader::open(path);
  ASSERT_TRUE(r.is_ok());
  EXPECT_TRUE(at::equal(*r->load("t"), transposed));
  EXPECT_TRUE(at::equal(*r->load("s"), sliced));
  EXPECT_TRUE(at::equal(*r->load("e"), expanded));
  EXPECT_EQ(r->find("e")->nbytes(), 12u);
}

TEST(SafetensorsWriter, BytesMatchTheReferenceLayout) {
  // What `safetensors.torch.save_file({"a": torch.tensor([1., 2.])}, f, metadata={"format": "pt"})`
  // writes: compact JSON, __metadata__ first, spaces to a multiple of 8, then the data.
  auto bytes = serialize_safetensors({{"a", at::tensor({1.0f, 2.0f})}}, {{"format", "pt"}});
  ASSERT_TRUE(bytes.is_ok());
  const std::string header =
      R"({"__metadata__":{"format":"pt"},"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})";
  ASSERT_EQ(header.size(), 85u);
  const std::string padded = header + "   ";
  const float data[2] = {1.0f, 2.0f};
  EXPECT_EQ(*bytes, raw_file(padded, std::string(reinterpret_cast<const char*>(data), 8)));
}

TEST(SafetensorsWriter, HeaderIsPaddedWithSpacesToEightBytes) {
  for (int len = 1; len <= 9; ++len) {
    auto bytes = serialize_safetensors({{std::string(len, 'n'), at::zeros({1}, at::kByte)}});
    ASSERT_TRUE(bytes.is_ok());
    std::uint64_t n = 0;
    std::memcpy(&n, bytes->data(), 8);
    EXPECT_EQ(n % 8, 0u) << len;
    EXPECT_EQ(bytes->size(), 8 + n + 1);
    std::string header = bytes->substr(8, n);
    EXPECT_EQ(header.find_last_not_of(' '), header.rfind('}'));
  }
}

TEST(SafetensorsWriter, NoMetadataMeansNoMetadataKey) {
  auto bytes = serialize_safetensors({{"x", at::zeros({2}, at::kShort)}});
  ASSERT_TRUE(bytes.is_ok());
  EXPECT_EQ(bytes->substr(8, 56), R"({"x":{"dtype":"I16","shape":[2],"data_offsets":[0,4]}}  )");
}

TEST(SafetensorsWriter, RejectsBadInputsWithoutCreatingAFile) {
  auto dir = make_temp_dir();
  const auto path = dir.path() / "bad.safetensors";
  const std::string w = "writing '" + path.string() + "': ";
  at::Tensor t = at::zeros({2});
  struct Case {
    TensorList tensors;
    std::string message;
  };
  std::vector<Case> cases = {
      {{{"a", t}, {"a", t}}, "tensor 'a' is given twice"},
      {{{"", t}}, "a tensor has an empty name"},
      {{{"__metadata__", t}}, "tensor '__metadata__': the name is reserved"},
      {{{"u", at::Tensor()}}, "tensor 'u' is undefined"},
      {{{"c", at::zeros({2}, at::kComplexFloat)}},
       "tensor 'c': torch dtype ComplexFloat has no safetensors equivalent"},
      {{{"bad\xff", t}}, "tensor names and metadata must be valid UTF-8: "
                         "[json.exception.type_error.316] invalid UTF-8 byte at index 3: 0xFF"},
  };
  for (const Case& c : cases) {
    Status s = write_safetensors(path, c.tensors);
    ASSERT_FALSE(s.is_ok());
    EXPECT_EQ(s.code(), Code::kInvalidArgument);
    EXPECT_EQ(s.message(), w + c.message);
  }
  EXPECT_TRUE(std::filesystem::is_empty(dir.path()));  // neither the file nor a temp file
}

TEST(SafetensorsWriter, ReplacesAnExistingFileAndLeavesNoTempFiles) {
  auto dir = make_temp_dir();
  const auto path = dir.path() / "x.safetensors";
  write(path, "old contents");
  ASSERT_TRUE(write_safetensors(path, {{"x", at::ones({3})}}).is_ok());
  auto r = SafetensorsReader::open(path);
  ASSERT_TRUE(r.is_ok()) << r.status().to_string();
  EXPECT_TRUE(at::equal(*r->load("x"), at::ones({3})));
  int files = 0;
  for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator(dir.path())) ++files;
  EXPECT_EQ(files, 1);
}

TEST(SafetensorsReader, FindBytesAndUnknownNames) {
  auto dir = make_temp_dir();
  const auto path = dir.path() / "f.safetensors";
  at::Tensor a = at::tensor({1, 2, 3}, at::kInt);
  ASSERT_TRUE(write_safetensors(path, {{"a", a}, {"b", at::zeros({1}, at::kByte)}}).is_ok());
  auto r = SafetensorsReader::open(path);
  ASSERT_TRUE(r.is_ok());
  EXPECT_EQ(r->path(), path);
  const TensorEntry* e = r->find("a");
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(e->numel(), 3u);
  auto span = r->bytes(*e);
  ASSERT_EQ(span.size(), 12u);
  EXPECT_EQ(std::memcmp(span.data(), a.data_ptr(), 12), 0);
  EXPECT_EQ(r->find("c"), nullptr);
  auto missing = r->load("c");
  ASSERT_FALSE(missing.is_ok());
  EXPECT_EQ(missing.status().code(), Code::kNotFound);
  EXPECT_EQ(missing.status().message(), "'" + path.string() + "': no tensor 'c'");
}

TEST(SafetensorsReader, CopiesAreIndependentOfTheOriginal) {
  auto dir = make_temp_dir();
  const auto path = dir.path() / "f.safetensors";
  ASSERT_TRUE(write_safetensors(path, {{"a", at::arange(5)}}).is_ok());
  std::optional<SafetensorsReader> copy;
  {
    auto r = SafetensorsReader::open(path);
    ASSERT_TRUE(r.is_ok());
    copy = *r;
  }
  EXPECT_TRUE(at::equal(*copy->load("a"), at::arange(5)));
}

TEST(SafetensorsReader, LoadToAbsentCudaDeviceIsUnavailable) {
  if (at::hasCUDA()) GTEST_SKIP() << "CUDA present: this checks the CPU-only error";
  auto dir = make_temp_dir();
  const auto path = dir.path() / "f.safetensors";
  ASSERT_TRUE(write_safetensors(path, {{"a", at::arange(5)}}).is_ok());
  auto r = SafetensorsReader::open(path);
  ASSERT_TRUE(r.is_ok());
  auto t = r->load("a", at::Device(at::kCUDA, 0));
  ASSERT_FALSE(t.is_ok());
  EXPECT_EQ(t.status().code(), Code::kUnavailable);
  EXPECT_EQ(t.status().message(), "'" + path.string() + "': tensor 'a': no CUDA device in this process");
}

TEST(SafetensorsReader, LoadsToCudaBitExact) {
  if (!at::hasCUDA()) GTEST_SKIP() << "no CUDA device";
  auto dir = make_temp_dir();
  const auto path = dir.path() / "g.safetensors";
  at::Generator gen = at::make_generator<at::CPUGeneratorImpl>(7);
  TensorList tensors;
  for (DType d : kAllDTypes)
    tensors.emplace_back(dtype_name(d), random_tensor(to_scalar_type(d), {33, 17}, gen));
  tensors.emplace_back("big", random_tensor(at::kBFloat16, {4096, 2048}, gen));  // > one copy chunk
  ASSERT_TRUE(write_safetensors(path, tensors).is_ok());
  auto r = SafetensorsReader::open(path);
  ASSERT_TRUE(r.is_ok());
  for (const auto& [name, t] : tensors) {
    auto g = r->load(name, at::Device(at::kCUDA, 0));
    ASSERT_TRUE(g.is_ok()) << g.status().to_string();
    EXPECT_TRUE(g->is_cuda());
    EXPECT_TRUE(bitwise_equal(*g, t)) << name;  // .cpu() synchronizes the stream
  }
}

}  // namespace
}  // namespace qb::model_io
