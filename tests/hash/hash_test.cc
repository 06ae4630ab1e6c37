// Unit tests for src/util/hash.h: Digest hex form, Hasher framing, canonical JSON hashing,
// explain() lines and file hashing.
#include "util/hash.h"

#include <gtest/gtest.h>

#include <fstream>
#include <set>
#include <string>

#include "util/fs.h"

namespace qb {
namespace {

using nlohmann::json;

std::string json_key(const json& j) { return Hasher().json("v", j).digest().hex(); }

TEST(DigestTest, HexPrintsHiThenLoAs32LowercaseChars) {
  Digest d{0x0123456789abcdefULL, 0xfedcba9876543210ULL};
  EXPECT_EQ(d.hex(), "0123456789abcdeffedcba9876543210");
}

TEST(DigestTest, HexKeepsLeadingZeros) {
  EXPECT_EQ((Digest{0, 1}).hex(), "00000000000000000000000000000001");
}

TEST(DigestTest, FromHexRoundTrips) {
  Digest d{0x8000000000000001ULL, 0x00ff00ff00ff00ffULL};
  auto back = Digest::from_hex(d.hex());
  ASSERT_TRUE(back.is_ok()) << back.status().to_string();
  EXPECT_EQ(*back, d);
}

TEST(DigestTest, FromHexRejectsWrongLength) {
  auto r = Digest::from_hex("abc");
  ASSERT_FALSE(r.is_ok());
  EXPECT_EQ(r.status().code(), Code::kInvalidArgument);
  EXPECT_EQ(r.status().message(), "not a 32-character hex digest: 'abc'");
}

TEST(DigestTest, FromHexRejectsNonHexCharacter) {
  std::string bad = "0123456789abcdef0123456789abcdeg";
  auto r = Digest::from_hex(bad);
  ASSERT_FALSE(r.is_ok());
  EXPECT_EQ(r.status().code(), Code::kInvalidArgument);
  EXPECT_EQ(r.status().message(), "not a hex digest: '" + bad + "'");
}

TEST(DigestTest, FromHexRejectsUppercase) {
  auto r = Digest::from_hex("0123456789ABCDEF0123456789abcdef");
  ASSERT_FALSE(r.is_ok());
  EXPECT_EQ(r.status().message(), "not a hex digest: '0123456789ABCDEF0123456789abcdef'");
}

TEST(HasherTest, SameFieldsGiveSameDigest) {
  EXPECT_EQ(Hasher().str("a", "x").i64("n", 3).digest(), Hasher().str("a", "x").i64("n", 3).digest());
}

TEST(HasherTest, FramingSeparatesFieldAndValueBoundaries) {
  EXPECT_NE(Hasher().str("ab", "c").digest(), Hasher().str("a", "bc").digest());
}

TEST(HasherTest, FramingSeparatesConsecutiveValues) {
  EXPECT_NE(Hasher().str("f", "ab").str("f", "c").digest(), Hasher().str("f", "a").str("f", "bc").digest());
}

TEST(HasherTest, StringAndIntegerOfSameTextDiffer) {
  EXPECT_NE(Hasher().str("n", "1").digest(), Hasher().i64("n", 1).digest());
}

TEST(HasherTest, BooleanDiffersFromBytesOfSameValue) {
  char one = 1;
  EXPECT_NE(Hasher().boolean("b", true).digest(), Hasher().bytes("b", &one, 1).digest());
}

TEST(HasherTest, FieldOrderMatters) {
  EXPECT_NE(Hasher().i64("a", 1).i64("b", 2).digest(), Hasher().i64("b", 2).i64("a", 1).digest());
}

TEST(HasherTest, SaltChangesDigest) {
  EXPECT_NE(Hasher().salt("qbuild-node-v1").str("kind", "quant").digest(),
            Hasher().salt("qbuild-node-v2").str("kind", "quant").digest());
}

TEST(HasherTest, SaltDiffersFromNoSalt) {
  EXPECT_NE(Hasher().salt("v1").str("kind", "quant").digest(), Hasher().str("kind", "quant").digest());
}

TEST(HasherTest, EmptyHasherIsXxh3OfNothing) {
  EXPECT_EQ(Hasher().digest(), hash_bytes(nullptr, 0));
}

TEST(HasherTest, DigestFieldDependsOnBothHalves) {
  Digest base = Hasher().digest_field("d", Digest{1, 2}).digest();
  EXPECT_NE(base, Hasher().digest_field("d", Digest{1, 3}).digest());
  EXPECT_NE(base, Hasher().digest_field("d", Digest{0, 2}).digest());
}

TEST(HasherTest, ExplainHasOneLinePerField) {
  Hasher h;
  h.salt("qbuild-node-v1")
      .str("kind", "quant")
      .i64("code_version", -3)
      .boolean("flag", true)
      .boolean("off", false)
      .json("params", json::parse(R"({"b":[1,2.5],"a":"x"})"))
      .bytes("blob", "abc", 3)
      .digest_field("input:model", Digest{0, 0xff});
  std::vector<std::string> want = {
      "salt = qbuild-node-v1",
      "kind = quant",
      "code_version = -3",
      "flag = true",
      "off = false",
      R"(params = {"a":"x","b":[1,2.5]})",
      "blob = <3 bytes>",
      "input:model = 000000000000000000000000000000ff",
  };
  EXPECT_EQ(h.explain(), want);
}

TEST(HasherJsonTest, KeyOrderIsIrrelevant) {
  json a = json::parse(R"({"a": 1, "b": {"y": [1, 2], "x": null}})");
  json b = json::parse(R"({"b": {"x": null, "y": [1, 2]}, "a": 1})");
  EXPECT_EQ(json_key(a), json_key(b));
}

TEST(HasherJsonTest, IntegerAndFloatOfSameValueDiffer) {
  EXPECT_NE(json_key(json::parse("1")), json_key(json::parse("1.0")));
}

TEST(HasherJsonTest, NegativeZeroEqualsZero) {
  EXPECT_EQ(json_key(json(-0.0)), json_key(json(0.0)));
}

TEST(HasherJsonTest, NegativeZeroInsideObjectEqualsZero) {
  EXPECT_EQ(json_key(json::parse(R"({"damp": -0.0})")), json_key(json::parse(R"({"damp": 0.0})")));
}

TEST(HasherJsonTest, UnsignedAndSignedSmallIntegersAgree) {
  EXPECT_EQ(json_key(json(std::uint64_t{7})), json_key(json(std::int64_t{7})));
}

TEST(HasherJsonTest, HugeUnsignedDiffersFromItsSignedBitPattern) {
  EXPECT_NE(json_key(json(std::uint64_t{0xffffffffffffffffULL})), json_key(json(std::int64_t{-1})));
}

TEST(HasherJsonTest, NestedArrayStructureMatters) {
  EXPECT_NE(json_key(json::parse("[[1],[2]]")), json_key(json::parse("[[1,2]]")));
  EXPECT_NE(json_key(json::parse("[[1,2],[]]")), json_key(json::parse("[[1],[2]]")));
  EXPECT_NE(json_key(json::parse("[[]]")), json_key(json::parse("[]")));
}

TEST(HasherJsonTest, NestedObjectStructureMatters) {
  EXPECT_NE(json_key(json::parse(R"({"a":{"b":1}})")), json_key(json::parse(R"({"a":{},"b":1})")));
  EXPECT_NE(json_key(json::parse(R"({"ab":1})")), json_key(json::parse(R"({"a":{"b":1}})")));
}

TEST(HasherJsonTest, EmptyContainersAndNullDiffer) {
  std::set<std::string> keys = {json_key(json::array()), json_key(json::object()), json_key(json(nullptr)),
                                json_key(json("")), json_key(json(false)), json_key(json(0))};
  EXPECT_EQ(keys.size(), 6u);
}

TEST(HasherJsonTest, EveryValueChangeChangesDigest) {
  json base = json::parse(R"({
    "scheme": "W8A8", "bits": 8, "damp": 0.01, "sym": true, "skip": null,
    "targets": ["Linear", {"re": "q_proj", "group": 128}],
    "nested": {"a": {"b": [1, 2, 3]}}
  })");
  std::vector<json> variants;
  auto with = [&](const char* ptr, json v) {
    json j = base;
    j[json::json_pointer(ptr)] = std::move(v);
    variants.push_back(j);
  };
  with("/scheme", "W4A16");
  with("/bits", 4);
  with("/bits", 8.0);
  with("/bits", "8");
  with("/damp", 0.02);
  with("/damp", 0.010000000000000002);  // next double after 0.01
  with("/sym", false);
  with("/skip", 0);
  with("/skip", json::array());
  with("/targets/0", "linear");
  with("/targets/1/re", "k_proj");
  with("/targets/1/group", 64);
  with("/nested/a/b/2", 4);
  with("/nested/a/c", 1);  // added key
  json removed = base;
  removed.erase("skip");
  variants.push_back(removed);
  json appended = base;
  appended["targets"].push_back("x");
  variants.push_back(appended);

  std::set<std::string> keys = {json_key(base)};
  for (const auto& v : variants) {
    ASSERT_NE(v.dump(), base.dump());
    EXPECT_TRUE(keys.insert(json_key(v)).second) << "collision for " << v.dump();
  }
}

TEST(HasherJsonTest, FieldNameIsPartOfJsonDigest) {
  EXPECT_NE(Hasher().json("params", json(1)).digest(), Hasher().json("param", json(1)).digest());
}

class HashFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto t = fs::TempDir::create(std::filesystem::temp_directory_path(), "qb_hash_test.");
    ASSERT_TRUE(t.is_ok()) << t.status().to_string();
    dir_ = std::move(*t);
  }
  std::filesystem::path write(const std::string& name, const std::string& data) {
    auto p = dir_.path() / name;
    std::ofstream(p, std::ios::binary) << data;
    return p;
  }
  fs::TempDir dir_;
};

TEST_F(HashFileTest, EqualsHashBytesOfContent) {
  std::string data = "hello\0world, some bytes\n";
  data += std::string(3000, 'z');
  auto p = write("f.bin", data);
  auto d = hash_file(p);
  ASSERT_TRUE(d.is_ok()) << d.status().to_string();
  EXPECT_EQ(*d, hash_bytes(data.data(), data.size()));
}

TEST_F(HashFileTest, LargerThanOneChunkEqualsHashBytes) {
  std::string data;
  data.reserve((1 << 20) * 2 + 17);
  for (std::size_t i = 0; i < (1u << 20) * 2 + 17; ++i) data.push_back(static_cast<char>(i * 131 % 251));
  auto p = write("big.bin", data);
  auto d = hash_file(p);
  ASSERT_TRUE(d.is_ok()) << d.status().to_string();
  EXPECT_EQ(*d, hash_bytes(data.data(), data.size()));
}

TEST_F(HashFileTest, EmptyFileEqualsHashOfNothing) {
  auto p = write("empty", "");
  auto d = hash_file(p);
  ASSERT_TRUE(d.is_ok());
  EXPECT_EQ(*d, hash_bytes(nullptr, 0));
}

TEST_F(HashFileTest, MissingFileIsIoErrorNamingThePath) {
  auto p = dir_.path() / "nope.bin";
  auto d = hash_file(p);
  ASSERT_FALSE(d.is_ok());
  EXPECT_EQ(d.status().code(), Code::kIo);
  EXPECT_EQ(d.status().message(), "open '" + p.string() + "': No such file or directory");
}

TEST(HashBytesTest, DifferentContentDiffers) {
  EXPECT_NE(hash_bytes("a", 1), hash_bytes("b", 1));
  EXPECT_NE(hash_bytes("a", 1), hash_bytes("a\0", 2));
}

}  // namespace
}  // namespace qb
