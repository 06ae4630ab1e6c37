// Interop with the reference implementations: fixtures written by the `safetensors` package and
// transformers (tests/golden/scripts/model_io_golden.py) read by qbuild, and (optional, when the
// oracle Python is installed) files written by qbuild read by safetensors and transformers.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>

#include <sys/wait.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "steps/model_io/checkpoint.h"
#include "test_util.h"

namespace qb::model_io {
namespace {

using namespace qb::model_io::testing;
using json = nlohmann::json;
using TensorList = std::vector<std::pair<std::string, at::Tensor>>;

const std::filesystem::path kGolden = std::filesystem::path(QB_SOURCE_DIR) / "tests/golden/model_io";

json read_json(const std::filesystem::path& p) { return json::parse(read(p)); }

template <typename T>
void append_raw(const at::Tensor& t, json& out) {
  const T* p = static_cast<const T*>(t.data_ptr());
  for (int64_t i = 0; i < t.numel(); ++i) out.push_back(p[i]);
}

// The elements of `t` as JSON: integers exactly (unsigned ones too), bools, and floats as doubles.
json values_of(const at::Tensor& t) {
  json out = json::array();
  at::Tensor c = t.contiguous();
  switch (c.scalar_type()) {
    case at::kBool: append_raw<bool>(c, out); break;
    case at::kByte: append_raw<std::uint8_t>(c, out); break;
    case at::kChar: append_raw<std::int8_t>(c, out); break;
    case at::kShort: append_raw<std::int16_t>(c, out); break;
    case at::kInt: append_raw<std::int32_t>(c, out); break;
    case at::kLong: append_raw<std::int64_t>(c, out); break;
    case at::kUInt16: append_raw<std::uint16_t>(c, out); break;
    case at::kUInt32: append_raw<std::uint32_t>(c, out); break;
    case at::kUInt64: append_raw<std::uint64_t>(c, out); break;
    default: append_raw<double>(c.to(at::kDouble), out); break;
  }
  return out;
}

// Expected "nan" / "inf" / "-inf" / numbers; zeros must match in sign too.
::testing::AssertionResult same_values(const json& expected, const json& actual) {
  if (expected.size() != actual.size())
    return ::testing::AssertionFailure() << expected.size() << " vs " << actual.size() << " values";
  for (std::size_t i = 0; i < expected.size(); ++i) {
    const json& e = expected[i];
    const json& a = actual[i];
    bool ok;
    if (e.is_string()) {
      double v = a.get<double>();
      ok = e == "nan" ? std::isnan(v) : (std::isinf(v) && (v > 0) == (e == "inf"));
    } else if (e.is_number_float()) {
      ok = a.is_number() && a.get<double>() == e.get<double>() &&
           std::signbit(a.get<double>()) == std::signbit(e.get<double>());
    } else {
      ok = e == a;  // integers (nlohmann compares signed/unsigned by value) and bools
    }
    if (!ok) return ::testing::AssertionFailure() << "value " << i << ": expected " << e << ", got " << a;
  }
  return ::testing::AssertionSuccess();
}

std::string hex_of(const at::Tensor& t) {
  static const char kDigits[] = "0123456789abcdef";
  at::Tensor c = t.cpu().contiguous();
  const auto* p = static_cast<const std::uint8_t*>(c.data_ptr());
  std::string s;
  s.reserve(c.nbytes() * 2);
  for (std::size_t i = 0; i < c.nbytes(); ++i) {
    s += kDigits[p[i] >> 4];
    s += kDigits[p[i] & 15];
  }
  return s;
}

json describe(const at::Tensor& t) {
  auto d = from_scalar_type(t.scalar_type());
  return {{"dtype", d.is_ok() ? dtype_name(*d) : "?"}, {"shape", t.sizes().vec()}, {"hex", hex_of(t)}};
}

TEST(GoldenDTypes, ReadsEveryTensorTheReferenceWrote) {
  const json expected = read_json(kGolden / "dtypes.json");
  auto r = SafetensorsReader::open(kGolden / "dtypes.safetensors");
  ASSERT_TRUE(r.is_ok()) << r.status().to_string();
  EXPECT_EQ(r->metadata(), (std::map<std::string, std::string>{{"format", "pt"}}));
  ASSERT_EQ(r->entries().size(), expected.size());
  for (const auto& [name, want] : expected.items()) {
    SCOPED_TRACE(name);
    const TensorEntry* e = r->find(name);
    ASSERT_NE(e, nullptr);
    EXPECT_EQ(dtype_name(e->dtype), want["dtype"].get<std::string>());
    EXPECT_EQ(e->shape, want["shape"].get<std::vector<int64_t>>());
    auto t = r->load(name);
    ASSERT_TRUE(t.is_ok()) << t.status().to_string();
    EXPECT_TRUE(same_values(want["values"], values_of(*t)));
  }
}

TEST(GoldenDTypes, WriterReproducesTheReferenceBytes) {
  // Given the reference's tensor order (it sorts by dtype, then name), qbuild's writer must
  // produce the same file byte for byte: header layout, padding and data.
  auto r = SafetensorsReader::open(kGolden / "dtypes.safetensors");
  ASSERT_TRUE(r.is_ok()) << r.status().to_string();
  TensorList tensors;
  for (const TensorEntry& e : r->entries()) tensors.emplace_back(e.name, *r->load(e));
  auto bytes = serialize_safetensors(tensors, r->metadata());
  ASSERT_TRUE(bytes.is_ok()) << bytes.status().to_string();
  EXPECT_TRUE(*bytes == read(kGolden / "dtypes.safetensors"));
}

TEST(GoldenSharded, OpensATransformersShardedCheckpoint) {
  const json expected = read_json(kGolden / "tiny-sharded.json");
  auto c = Checkpoint::open(kGolden / "tiny-sharded");
  ASSERT_TRUE(c.is_ok()) << c.status().to_string();
  EXPECT_EQ(c->config()["model_type"], "qwen3");
  EXPECT_TRUE(c->generation_config().is_object());
  EXPECT_EQ(c->weight_files().size(), 3u);
  std::vector<std::string> names;
  for (const auto& [name, want] : expected["tensors"].items()) {
    names.push_back(name);
    auto t = c->load(name);
    ASSERT_TRUE(t.is_ok()) << t.status().to_string();
    EXPECT_EQ(describe(*t), want) << name;
  }
  std::sort(names.begin(), names.end());
  EXPECT_EQ(c->tensor_names(), names);
}

TEST(GoldenSharded, SaveReproducesTheTransformersIndex) {
  const json expected = read_json(kGolden / "tiny-sharded.json");
  auto c = Checkpoint::open(kGolden / "tiny-sharded");
  ASSERT_TRUE(c.is_ok()) << c.status().to_string();
  TensorList tensors;
  for (const json& name : expected["state_dict_order"]) tensors.emplace_back(name, *c->load(name.get<std::string>()));
  auto dir = make_temp_dir();
  SaveOptions opts;
  opts.max_shard_bytes = expected["max_shard_bytes"].get<std::uint64_t>();
  ASSERT_TRUE(save_checkpoint(dir.path(), tensors, c->config(), c->generation_config(), opts).is_ok());
  // Same split, same file names, same index text as transformers' save_pretrained.
  EXPECT_EQ(read(dir.path() / kWeightsIndexFile), read(kGolden / "tiny-sharded" / kWeightsIndexFile));
  auto again = Checkpoint::open(dir.path());
  ASSERT_TRUE(again.is_ok()) << again.status().to_string();
  EXPECT_EQ(again->config(), c->config());
  for (const auto& [name, t] : tensors) EXPECT_TRUE(bitwise_equal(*again->load(name), t)) << name;
}

// ---- optional: the Python reference reads what qbuild wrote ----------------------------------

std::filesystem::path oracle_python() {
  if (const char* env = std::getenv("QB_ORACLE_PYTHON"); env && *env) return env;
  return std::filesystem::path(QB_SOURCE_DIR) / ".venv-oracle/bin/python";
}

// Runs `command`, returns its exit status and stdout.
std::pair<int, std::string> run(const std::string& command) {
  std::string out;
  FILE* p = ::popen(command.c_str(), "r");
  if (!p) return {-1, ""};
  char buf[1 << 16];
  std::size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  int status = ::pclose(p);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, out};
}

TEST(OracleInterop, PythonReadsWhatQbuildWrote) {
  const auto python = oracle_python();
  if (::access(python.c_str(), X_OK) != 0)
    GTEST_SKIP() << "oracle interpreter " << python << " not found; set QB_ORACLE_PYTHON to a Python with "
                 << "torch 2.13.0, safetensors 0.8.0 and transformers 5.17.0 to run this test";

  // Every dtype's edge values, written in reverse of the reference order (order is free).
  auto golden = SafetensorsReader::open(kGolden / "dtypes.safetensors");
  ASSERT_TRUE(golden.is_ok()) << golden.status().to_string();
  TensorList file_tensors;
  for (auto it = golden->entries().rbegin(); it != golden->entries().rend(); ++it)
    file_tensors.emplace_back(it->name, *golden->load(*it));
  auto dir = make_temp_dir();
  const auto file = dir.path() / "qbuild.safetensors";
  ASSERT_TRUE(write_safetensors(file, file_tensors, {{"format", "pt"}, {"producer", "qbuild"}}).is_ok());

  // A sharded checkpoint saved by qbuild, loaded by transformers' from_pretrained.
  auto ckpt = Checkpoint::open(kGolden / "tiny-sharded");
  ASSERT_TRUE(ckpt.is_ok()) << ckpt.status().to_string();
  TensorList ckpt_tensors;
  for (const std::string& name : ckpt->tensor_names()) ckpt_tensors.emplace_back(name, *ckpt->load(name));
  SaveOptions opts;
  opts.max_shard_bytes = 3000;
  const auto saved = dir.path() / "ckpt";
  ASSERT_TRUE(save_checkpoint(saved, ckpt_tensors, ckpt->config(), ckpt->generation_config(), opts).is_ok());

  const auto script = std::filesystem::path(QB_SOURCE_DIR) / "tests/golden/scripts/model_io_oracle_read.py";
  auto [status, out] = run("'" + python.string() + "' '" + script.string() + "' '" + file.string() + "' '" +
                           saved.string() + "'");
  if (status == 77) GTEST_SKIP() << "oracle unavailable: " << out;
  ASSERT_EQ(status, 0) << out;
  json got = json::parse(out.substr(out.rfind('\n', out.size() - 2) + 1));  // the last line

  EXPECT_EQ(got["metadata"], (json{{"format", "pt"}, {"producer", "qbuild"}}));
  ASSERT_EQ(got["file"].size(), file_tensors.size());
  for (const auto& [name, t] : file_tensors) EXPECT_EQ(got["file"][name], describe(t)) << name;
  EXPECT_EQ(got["file_load"].size(), file_tensors.size());
  ASSERT_EQ(got["checkpoint"].size(), ckpt_tensors.size());
  for (const auto& [name, t] : ckpt_tensors) EXPECT_EQ(got["checkpoint"][name], describe(t)) << name;
}

}  // namespace
}  // namespace qb::model_io
