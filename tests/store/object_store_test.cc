// Unit tests for src/store/object_store.h: atomic publication, manifests, verification,
// corrupt manifests, removal and temporary-directory hygiene.
#include "store/object_store.h"

#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <thread>

#include <gtest/gtest.h>

#include "store_test_util.h"
#include "util/hash.h"

namespace qb::store {
namespace {

using namespace testing_util;
using nlohmann::json;

std::int64_t mtime_ns(const stdfs::path& p) {
  struct stat st {};
  ::stat(p.c_str(), &st);
  return static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec;
}

TEST_F(ObjectStoreTest, BeginCreatesFreshDirUnderTmp) {
  auto dir = store_->begin(key_of('a'));
  ASSERT_TRUE(dir.is_ok()) << dir.status().to_string();
  EXPECT_EQ(dir->path().parent_path(), layout().tmp());
  EXPECT_EQ(dir->path().filename().string().rfind(key_of('a') + ".", 0), 0u);
  EXPECT_TRUE(stdfs::is_directory(dir->path()));
}

TEST_F(ObjectStoreTest, CommitMovesTempDirIntoPlace) {
  auto dir = store_->begin(key_of('a'));
  ASSERT_TRUE(dir.is_ok());
  stdfs::path tmp_path = dir->path();
  write_text(tmp_path / "model.bin", "weights");
  auto m = store_->commit(std::move(*dir), manifest(key_of('a')));
  ASSERT_TRUE(m.is_ok()) << m.status().to_string();
  EXPECT_FALSE(stdfs::exists(tmp_path));
  EXPECT_EQ(read_text(layout().object_dir(key_of('a')) / "model.bin"), "weights");
  EXPECT_TRUE(stdfs::is_regular_file(layout().manifest(key_of('a'))));
  EXPECT_EQ(entries(layout().tmp()), std::vector<std::string>{});
}

TEST_F(ObjectStoreTest, CommitListsEveryFileSortedWithSizeXxh3AndMtime) {
  Manifest m = commit(key_of('a'), {{"b.txt", "bee"}, {"sub/x.bin", "xx"}, {"a.json", "{}"}, {"c", ""}});
  std::string bee = "bee", xx = "xx", braces = "{}";
  auto mtime = [&](const std::string& rel) { return mtime_ns(layout().object_dir(key_of('a')) / rel); };
  json want = json::array({
      {{"path", "a.json"}, {"size", 2}, {"xxh3", hash_bytes(braces.data(), 2).hex()}, {"mtime_ns", mtime("a.json")}},
      {{"path", "b.txt"}, {"size", 3}, {"xxh3", hash_bytes(bee.data(), 3).hex()}, {"mtime_ns", mtime("b.txt")}},
      {{"path", "c"}, {"size", 0}, {"xxh3", hash_bytes(nullptr, 0).hex()}, {"mtime_ns", mtime("c")}},
      {{"path", "sub/x.bin"}, {"size", 2}, {"xxh3", hash_bytes(xx.data(), 2).hex()}, {"mtime_ns", mtime("sub/x.bin")}},
  });
  EXPECT_EQ(m.files, want);
  auto back = store_->read_manifest(key_of('a'));
  ASSERT_TRUE(back.is_ok()) << back.status().to_string();
  EXPECT_EQ(back->files, want);
}

TEST_F(ObjectStoreTest, CommitFillsCreatedTimes) {
  Manifest m = commit(key_of('a'), {{"f", "x"}});
  EXPECT_FALSE(m.created.empty());
  EXPECT_EQ(m.created.back(), 'Z');
  EXPECT_GT(m.created_unix, 1.6e9);
}

TEST_F(ObjectStoreTest, CommitKeepsGivenCreatedTimes) {
  auto dir = store_->begin(key_of('a'));
  ASSERT_TRUE(dir.is_ok());
  Manifest in = manifest(key_of('a'));
  in.created = "2020-01-02T03:04:05Z";
  in.created_unix = 1577934245;
  auto m = store_->commit(std::move(*dir), in);
  ASSERT_TRUE(m.is_ok());
  EXPECT_EQ(m->created, "2020-01-02T03:04:05Z");
  EXPECT_EQ(m->created_unix, 1577934245);
}

TEST_F(ObjectStoreTest, ManifestOnDiskHasMagicFormatAndFields) {
  commit(key_of('a'), {{"f", "x"}}, "llama-rtn");
  json j = json::parse(read_text(layout().manifest(key_of('a'))));
  EXPECT_EQ(j["magic"], "qbuild-artifact");
  EXPECT_EQ(j["format"], 1);
  EXPECT_EQ(j["key"], key_of('a'));
  EXPECT_EQ(j["kind"], "quant");
  EXPECT_EQ(j["name"], "llama-rtn");
  EXPECT_EQ(j["identity"], "quant:original/llama-rtn");
  EXPECT_EQ(j["params"], json({{"bits", 8}}));
  EXPECT_EQ(j["inputs"], json({{"model", key_of('0')}}));
  EXPECT_EQ(j["meta"], json({{"code_version", 1}}));
}

TEST_F(ObjectStoreTest, ContainsOnlyAfterCommit) {
  EXPECT_FALSE(store_->contains(key_of('a')));
  commit(key_of('a'), {{"f", "x"}});
  EXPECT_TRUE(store_->contains(key_of('a')));
  EXPECT_FALSE(store_->contains(key_of('b')));
}

TEST_F(ObjectStoreTest, ContainsIsFalseForDirWithoutManifest) {
  stdfs::create_directories(layout().object_dir(key_of('a')));
  EXPECT_FALSE(store_->contains(key_of('a')));
}

TEST_F(ObjectStoreTest, ReadManifestRoundTripsFields) {
  commit(key_of('a'), {{"f", "x"}}, "n1");
  auto m = store_->read_manifest(key_of('a'));
  ASSERT_TRUE(m.is_ok()) << m.status().to_string();
  EXPECT_EQ(m->key, key_of('a'));
  EXPECT_EQ(m->kind, "quant");
  EXPECT_EQ(m->name, "n1");
  EXPECT_EQ(m->identity, "quant:original/n1");
  EXPECT_EQ(m->params, json({{"bits", 8}}));
  EXPECT_EQ(m->inputs, json({{"model", key_of('0')}}));
}

TEST_F(ObjectStoreTest, ReadManifestOfMissingArtifactIsIoError) {
  auto m = store_->read_manifest(key_of('a'));
  ASSERT_FALSE(m.is_ok());
  EXPECT_EQ(m.status().code(), Code::kIo);
  EXPECT_EQ(m.status().message(), "open '" + layout().manifest(key_of('a')).string() + "': No such file or directory");
}

TEST_F(ObjectStoreTest, VerifyPassesOnIntactArtifact) {
  commit(key_of('a'), {{"f", "x"}, {"d/g", "yy"}});
  EXPECT_TRUE(store_->verify(key_of('a'), false).is_ok());
  EXPECT_TRUE(store_->verify(key_of('a'), true).is_ok());
}

TEST_F(ObjectStoreTest, VerifyDetectsMissingFile) {
  commit(key_of('a'), {{"f", "x"}, {"d/g", "yy"}});
  stdfs::remove(layout().object_dir(key_of('a')) / "d/g");
  Status s = store_->verify(key_of('a'), false);
  ASSERT_FALSE(s.is_ok());
  EXPECT_EQ(s.code(), Code::kCorrupt);
  EXPECT_EQ(s.message(), "artifact " + key_of('a') + ": file 'd/g' is missing");
}

TEST_F(ObjectStoreTest, VerifyDetectsResizedFile) {
  commit(key_of('a'), {{"f", "xyz"}});
  write_text(layout().object_dir(key_of('a')) / "f", "xyzw!");
  Status s = store_->verify(key_of('a'), false);
  ASSERT_FALSE(s.is_ok());
  EXPECT_EQ(s.code(), Code::kCorrupt);
  EXPECT_EQ(s.message(), "artifact " + key_of('a') + ": file 'f' has 5 bytes, the manifest says 3");
}

TEST_F(ObjectStoreTest, VerifyWithoutChecksumsMissesFlippedByte) {
  commit(key_of('a'), {{"f", "xyz"}});
  write_text(layout().object_dir(key_of('a')) / "f", "xYz");
  EXPECT_TRUE(store_->verify(key_of('a'), false).is_ok());
}

TEST_F(ObjectStoreTest, VerifyWithChecksumsDetectsFlippedByte) {
  commit(key_of('a'), {{"f", "xyz"}});
  write_text(layout().object_dir(key_of('a')) / "f", "xYz");
  Status s = store_->verify(key_of('a'), true);
  ASSERT_FALSE(s.is_ok());
  EXPECT_EQ(s.code(), Code::kCorrupt);
  EXPECT_EQ(s.message(), "artifact " + key_of('a') + ": file 'f' does not match its checksum");
}

TEST_F(ObjectStoreTest, ManifestWithBadMagicIsCorrupt) {
  write_manifest_text(key_of('a'), R"({"magic": "nope", "format": 1, "key": ")" + key_of('a') +
                                       R"(", "kind": "quant", "files": []})");
  auto m = store_->read_manifest(key_of('a'));
  ASSERT_FALSE(m.is_ok());
  EXPECT_EQ(m.status().code(), Code::kCorrupt);
  EXPECT_EQ(m.status().message(),
            "'" + layout().manifest(key_of('a')).string() + "': not a qbuild artifact manifest (bad magic)");
}

TEST_F(ObjectStoreTest, ManifestThatIsNotAnObjectIsCorrupt) {
  write_manifest_text(key_of('a'), "[1, 2]");
  auto m = store_->read_manifest(key_of('a'));
  ASSERT_FALSE(m.is_ok());
  EXPECT_EQ(m.status().code(), Code::kCorrupt);
  EXPECT_EQ(m.status().message(),
            "'" + layout().manifest(key_of('a')).string() + "': not a qbuild artifact manifest (bad magic)");
}

TEST_F(ObjectStoreTest, ManifestWithWrongFormatIsCorrupt) {
  write_manifest_text(key_of('a'), R"({"magic": "qbuild-artifact", "format": 2, "key": ")" + key_of('a') +
                                       R"(", "kind": "quant", "files": []})");
  auto m = store_->read_manifest(key_of('a'));
  ASSERT_FALSE(m.is_ok());
  EXPECT_EQ(m.status().code(), Code::kCorrupt);
  EXPECT_EQ(m.status().message(),
            "'" + layout().manifest(key_of('a')).string() + "': manifest format 2 is not the supported 1");
}

TEST_F(ObjectStoreTest, ManifestWithoutFormatIsCorrupt) {
  write_manifest_text(key_of('a'), R"({"magic": "qbuild-artifact", "key": ")" + key_of('a') +
                                       R"(", "kind": "quant", "files": []})");
  auto m = store_->read_manifest(key_of('a'));
  ASSERT_FALSE(m.is_ok());
  EXPECT_EQ(m.status().message(),
            "'" + layout().manifest(key_of('a')).string() + "': manifest format null is not the supported 1");
}

TEST_F(ObjectStoreTest, ManifestWithStringFormatIsCorruptNotAnException) {
  write_manifest_text(key_of('a'), R"({"magic": "qbuild-artifact", "format": "1", "key": ")" + key_of('a') +
                                       R"(", "kind": "quant", "files": []})");
  Result<Manifest> m = store_->read_manifest(key_of('a'));
  ASSERT_FALSE(m.is_ok());
  EXPECT_EQ(m.status().code(), Code::kCorrupt);
  EXPECT_NE(m.status().message().find("manifest format \"1\" is not the supported 1"), std::string::npos)
      << m.status().message();
}

TEST_F(ObjectStoreTest, ManifestWithNonStringMagicIsCorrupt) {
  write_manifest_text(key_of('a'), R"({"magic": 7, "format": 1, "key": ")" + key_of('a') + R"(", "kind": "quant", "files": []})");
  auto m = store_->read_manifest(key_of('a'));
  ASSERT_FALSE(m.is_ok());
  EXPECT_EQ(m.status().code(), Code::kCorrupt);
}

TEST_F(ObjectStoreTest, ManifestFileEntryWithStringSizeIsCorrupt) {
  write_manifest_text(key_of('a'), R"({"magic": "qbuild-artifact", "format": 1, "key": ")" + key_of('a') +
                                       R"(", "kind": "quant", "files": [{"path": "f", "size": "3", "xxh3": "x"}]})");
  Status s = store_->verify(key_of('a'), false);
  ASSERT_FALSE(s.is_ok());
  EXPECT_EQ(s.code(), Code::kCorrupt);
  EXPECT_NE(s.message().find("a 'files' entry needs a string path, an unsigned size and a string xxh3"), std::string::npos)
      << s.message();
}

TEST_F(ObjectStoreTest, ManifestThatIsNotJsonIsCorrupt) {
  write_manifest_text(key_of('a'), "{not json");
  auto m = store_->read_manifest(key_of('a'));
  ASSERT_FALSE(m.is_ok());
  EXPECT_EQ(m.status().code(), Code::kCorrupt);
  EXPECT_EQ(m.status().message(), "'" + layout().manifest(key_of('a')).string() + "': manifest is not valid JSON");
}

TEST_F(ObjectStoreTest, ManifestNamingAnotherKeyIsCorrupt) {
  write_manifest_text(key_of('a'), R"({"magic": "qbuild-artifact", "format": 1, "key": ")" + key_of('b') +
                                       R"(", "kind": "quant", "files": []})");
  auto m = store_->read_manifest(key_of('a'));
  ASSERT_FALSE(m.is_ok());
  EXPECT_EQ(m.status().code(), Code::kCorrupt);
  EXPECT_EQ(m.status().message(),
            "'" + layout().manifest(key_of('a')).string() + "': manifest names key " + key_of('b'));
}

TEST_F(ObjectStoreTest, ManifestWithoutFilesIsCorrupt) {
  write_manifest_text(key_of('a'), R"({"magic": "qbuild-artifact", "format": 1, "key": ")" + key_of('a') +
                                       R"(", "kind": "quant"})");
  auto m = store_->read_manifest(key_of('a'));
  ASSERT_FALSE(m.is_ok());
  EXPECT_EQ(m.status().code(), Code::kCorrupt);
  EXPECT_EQ(m.status().message().rfind("'" + layout().manifest(key_of('a')).string() + "': malformed manifest: ", 0), 0u)
      << m.status().message();
}

TEST_F(ObjectStoreTest, ManifestWhoseFilesIsNotAListIsCorrupt) {
  write_manifest_text(key_of('a'), R"({"magic": "qbuild-artifact", "format": 1, "key": ")" + key_of('a') +
                                       R"(", "kind": "quant", "files": {}})");
  auto m = store_->read_manifest(key_of('a'));
  ASSERT_FALSE(m.is_ok());
  EXPECT_EQ(m.status().code(), Code::kCorrupt);
  EXPECT_EQ(m.status().message(), "'" + layout().manifest(key_of('a')).string() + "': manifest 'files' is not a list");
}

TEST_F(ObjectStoreTest, VerifyReportsCorruptManifest) {
  write_manifest_text(key_of('a'), "{not json");
  Status s = store_->verify(key_of('a'), true);
  EXPECT_EQ(s.code(), Code::kCorrupt);
}

TEST_F(ObjectStoreTest, SecondCommitOfSameKeyKeepsTheFirst) {
  commit(key_of('a'), {{"f", "first"}}, "first");
  {
    auto dir = store_->begin(key_of('a'));
    ASSERT_TRUE(dir.is_ok());
    write_text(dir->path() / "f", "second!");
    auto m = store_->commit(std::move(*dir), manifest(key_of('a'), "second"));
    ASSERT_TRUE(m.is_ok()) << m.status().to_string();
    EXPECT_EQ(m->name, "first");
  }
  EXPECT_EQ(read_text(layout().object_dir(key_of('a')) / "f"), "first");
  EXPECT_TRUE(store_->verify(key_of('a'), true).is_ok());
  EXPECT_EQ(entries(layout().tmp()), std::vector<std::string>{});
}

TEST_F(ObjectStoreTest, CommitReplacesDirWithoutManifest) {
  write_text(layout().object_dir(key_of('a')) / "stale", "half");
  auto dir = store_->begin(key_of('a'));
  ASSERT_TRUE(dir.is_ok());
  write_text(dir->path() / "f", "new");
  auto m = store_->commit(std::move(*dir), manifest(key_of('a')));
  ASSERT_TRUE(m.is_ok()) << m.status().to_string();
  EXPECT_TRUE(store_->contains(key_of('a')));
  EXPECT_FALSE(stdfs::exists(layout().object_dir(key_of('a')) / "stale"));
  EXPECT_EQ(read_text(layout().object_dir(key_of('a')) / "f"), "new");
}

TEST_F(ObjectStoreTest, UncommittedTempDirLeavesNothing) {
  {
    auto dir = store_->begin(key_of('a'));
    ASSERT_TRUE(dir.is_ok());
    write_text(dir->path() / "f", "partial");
  }
  EXPECT_EQ(entries(layout().tmp()), std::vector<std::string>{});
  EXPECT_EQ(entries(layout().objects()), std::vector<std::string>{});
  EXPECT_FALSE(store_->contains(key_of('a')));
}

TEST_F(ObjectStoreTest, RemoveDeletesArtifactWithoutLeavingTrash) {
  commit(key_of('a'), {{"f", "x"}});
  commit(key_of('b'), {{"f", "y"}});
  ASSERT_TRUE(store_->remove(key_of('a')).is_ok());
  EXPECT_FALSE(store_->contains(key_of('a')));
  EXPECT_FALSE(stdfs::exists(layout().object_dir(key_of('a'))));
  EXPECT_TRUE(store_->contains(key_of('b')));
  EXPECT_EQ(entries(layout().tmp()), std::vector<std::string>{});
}

TEST_F(ObjectStoreTest, RemoveOfAbsentKeyIsOk) {
  EXPECT_TRUE(store_->remove(key_of('a')).is_ok());
}

TEST_F(ObjectStoreTest, ListKeysIsSortedAcrossShards) {
  commit(key_of('c'), {{"f", "x"}});
  commit(key_of('a'), {{"f", "x"}});
  commit("ab" + std::string(30, '1'), {{"f", "x"}});
  EXPECT_EQ(store_->list_keys(), (std::vector<std::string>{key_of('a'), "ab" + std::string(30, '1'), key_of('c')}));
}

TEST_F(ObjectStoreTest, ListKeysOfEmptyStoreIsEmpty) {
  EXPECT_EQ(store_->list_keys(), std::vector<std::string>{});
}

TEST_F(ObjectStoreTest, CleanTmpDeletesWhatNoLiveProcessOwns) {
  write_text(layout().tmp() / "a.123" / "f", "x");
  write_text(layout().tmp() / "trash.b" / "d" / "g", "y");
  write_text(layout().tmp() / "loose", "z");
  EXPECT_EQ(store_->clean_tmp(), 3);
  EXPECT_TRUE(stdfs::is_directory(layout().tmp()));
  EXPECT_EQ(entries(layout().tmp()), std::vector<std::string>{});
}

// Issue 15 finding 4: a qbuild starting beside a replayed step emptied cache/tmp/ under it.
TEST_F(ObjectStoreTest, CleanTmpKeepsAFolderItsWriterIsStillWriting) {
  auto live = store_->begin(key_of('a'));
  ASSERT_TRUE(live.is_ok());
  write_text(live->path() / "model.safetensors", "weights");
  write_text(layout().tmp() / "dead.123" / "f", "x");  // a writer that died: nobody holds it
  EXPECT_EQ(store_->clean_tmp(), 1);
  EXPECT_EQ(entries(layout().tmp()), std::vector<std::string>{live->path().filename().string()});
  auto m = store_->commit(std::move(*live), manifest(key_of('a')));
  ASSERT_TRUE(m.is_ok()) << m.status().to_string();
  EXPECT_EQ(read_text(layout().object_dir(key_of('a')) / "model.safetensors"), "weights");
}

TEST_F(ObjectStoreTest, CleanTmpInAnotherProcessKeepsALiveFolder) {
  auto live = store_->begin(key_of('a'));
  ASSERT_TRUE(live.is_ok());
  pid_t pid = ::fork();
  if (pid == 0) ::_exit(ObjectStore(layout()).clean_tmp() == 0 ? 0 : 1);  // flock is per open file: a real other process
  int st = 0;
  ::waitpid(pid, &st, 0);
  EXPECT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0);
  EXPECT_TRUE(stdfs::is_directory(live->path()));
}

TEST_F(ObjectStoreTest, CommitOfAFolderRemovedUnderTheStepPublishesNothing) {
  auto dir = store_->begin(key_of('a'));
  ASSERT_TRUE(dir.is_ok());
  write_text(dir->path() / "model.safetensors", "weights");
  stdfs::remove_all(dir->path());                  // what the old wholesale clean did
  write_text(dir->path() / "config.json", "{}");   // and the step went on writing its other files
  auto m = store_->commit(std::move(*dir), manifest(key_of('a')));
  ASSERT_FALSE(m.is_ok());
  EXPECT_EQ(m.status().code(), Code::kNotFound);
  EXPECT_NE(m.status().message().find("was removed or replaced while it was written"), std::string::npos)
      << m.status().message();
  EXPECT_FALSE(store_->contains(key_of('a')));
}

TEST_F(ObjectStoreTest, CleanTmpWithoutTmpDirIsHarmless) {
  store_->clean_tmp();
  EXPECT_FALSE(stdfs::exists(layout().tmp()));
}

// Writes `data` over `rel` in the artifact `key` without changing its size, then (optionally)
// puts the old mtime back: what bit rot, or a careful hand, leaves.
void overwrite(const Layout& l, const std::string& key, const std::string& rel, const std::string& data,
               bool keep_mtime) {
  auto path = l.object_dir(key) / rel;
  auto before = stdfs::last_write_time(path);
  std::this_thread::sleep_for(std::chrono::milliseconds(5));
  write_text(path, data);
  if (keep_mtime) stdfs::last_write_time(path, before);
}

TEST_F(ObjectStoreTest, VerifyChangedFindsAFileRewrittenWithTheSameSize) {
  commit(key_of('a'), {{"model.safetensors", "weights-1"}});
  overwrite(layout(), key_of('a'), "model.safetensors", "weights-2", false);
  EXPECT_TRUE(store_->verify(key_of('a'), VerifyLevel::kSize).is_ok());
  Status s = store_->verify(key_of('a'), VerifyLevel::kChanged);
  EXPECT_EQ(s.code(), Code::kCorrupt);
  EXPECT_EQ(s.message(), "artifact " + key_of('a') + ": file 'model.safetensors' does not match its checksum");
}

TEST_F(ObjectStoreTest, VerifyChangedTrustsAnUnchangedMtimeAndChecksumDoesNot) {
  commit(key_of('a'), {{"model.safetensors", "weights-1"}});
  overwrite(layout(), key_of('a'), "model.safetensors", "weights-2", true);
  EXPECT_TRUE(store_->verify(key_of('a'), VerifyLevel::kChanged).is_ok());  // the cheap check's limit
  EXPECT_EQ(store_->verify(key_of('a'), VerifyLevel::kChecksum).code(), Code::kCorrupt);
}

TEST_F(ObjectStoreTest, VerifyChangedHashesATouchedFileThroughTheGivenHasher) {
  commit(key_of('a'), {{"f", "same bytes"}, {"g", "untouched"}});
  auto f = layout().object_dir(key_of('a')) / "f";
  stdfs::last_write_time(f, stdfs::last_write_time(f) + std::chrono::seconds(10));  // e.g. cp without -p
  std::vector<std::string> hashed;
  FileHasher hasher = [&](const stdfs::path& p) -> Result<Digest> {
    hashed.push_back(p.filename().string());
    return hash_file(p);
  };
  EXPECT_TRUE(store_->verify(key_of('a'), VerifyLevel::kChanged, hasher).is_ok());
  EXPECT_EQ(hashed, std::vector<std::string>{"f"});
}

TEST_F(ObjectStoreTest, VerifyChangedOfAManifestWithoutMtimesChecksSizesOnly) {
  commit(key_of('a'), {{"f", "bytes-1"}});
  auto m = store_->read_manifest(key_of('a'));
  ASSERT_TRUE(m.is_ok());
  for (auto& f : m->files) f.erase("mtime_ns");  // a manifest published before mtimes were recorded
  write_text(layout().manifest(key_of('a')), m->to_json().dump(2));
  overwrite(layout(), key_of('a'), "f", "bytes-2", false);
  EXPECT_TRUE(store_->verify(key_of('a'), VerifyLevel::kChanged).is_ok());
  EXPECT_EQ(store_->verify(key_of('a'), VerifyLevel::kChecksum).code(), Code::kCorrupt);
}

TEST_F(ObjectStoreTest, QuarantineMovesTheArtifactAsideWithTheReason) {
  commit(key_of('a'), {{"f", "x"}});
  auto dest = store_->quarantine(key_of('a'), "file 'f' does not match its checksum");
  ASSERT_TRUE(dest.is_ok()) << dest.status().to_string();
  EXPECT_FALSE(store_->contains(key_of('a')));
  EXPECT_FALSE(stdfs::exists(layout().object_dir(key_of('a'))));
  EXPECT_EQ(dest->parent_path(), layout().quarantine());
  EXPECT_EQ(dest->filename().string().rfind(key_of('a') + ".", 0), 0u);
  EXPECT_EQ(read_text(*dest / "f"), "x");
  EXPECT_EQ(read_text(*dest / "quarantine-reason.txt"), "file 'f' does not match its checksum\n");
}

TEST(LayoutTest, PathsAreUnderTheRoot) {
  Layout l("/p");
  std::string k = "ab" + std::string(30, '0');
  EXPECT_EQ(l.object_dir(k), stdfs::path("/p/cache/objects/ab/" + k));
  EXPECT_EQ(l.manifest(k), stdfs::path("/p/cache/objects/ab/" + k + "/qbuild-artifact.json"));
  EXPECT_EQ(l.node_file(k), stdfs::path("/p/cache/nodes/" + k + ".json"));
  EXPECT_EQ(l.results_csv("mmlu"), stdfs::path("/p/results/mmlu.csv"));
  EXPECT_EQ(l.eval_set_jsonl("gsm8k"), stdfs::path("/p/data/gsm8k.jsonl"));
  EXPECT_EQ(l.gpu_lock(3), stdfs::path("/p/cache/locks/gpu3.lock"));
  EXPECT_EQ(l.store_lock(), stdfs::path("/p/cache/locks/store.lock"));
  EXPECT_EQ(l.node_lock(k), stdfs::path("/p/cache/locks/node-" + k + ".lock"));
  EXPECT_EQ(l.quarantine(), stdfs::path("/p/cache/quarantine"));
}

}  // namespace
}  // namespace qb::store
