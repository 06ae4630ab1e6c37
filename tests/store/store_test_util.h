// Shared fixture pieces for the store tests: a temporary project root and small file helpers.
#pragma once

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "store/layout.h"
#include "store/object_store.h"
#include "util/fs.h"

namespace qb::store::testing_util {

namespace stdfs = std::filesystem;

inline void write_text(const stdfs::path& p, const std::string& data) {
  stdfs::create_directories(p.parent_path());
  std::ofstream(p, std::ios::binary) << data;
}

inline std::string read_text(const stdfs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// Entries directly under `dir` (empty when it does not exist).
inline std::vector<std::string> entries(const stdfs::path& dir) {
  std::vector<std::string> out;
  std::error_code ec;
  for (auto& e : stdfs::directory_iterator(dir, ec)) out.push_back(e.path().filename().string());
  return out;
}

// A 32-hex-char key made of one repeated digit pair, e.g. key_of('a') = "aaaa…".
inline std::string key_of(char c) { return std::string(32, c); }

class ProjectTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto t = fs::TempDir::create(stdfs::temp_directory_path(), "qb_store_test.");
    ASSERT_TRUE(t.is_ok()) << t.status().to_string();
    root_ = std::move(*t);
  }
  Layout layout() const { return Layout(root_.path()); }
  fs::TempDir root_;
};

// A project with an object store, and artifacts committed the way steps commit them.
class ObjectStoreTest : public ProjectTest {
 protected:
  void SetUp() override {
    ProjectTest::SetUp();
    store_ = std::make_unique<ObjectStore>(layout());
  }
  Manifest manifest(const std::string& key, const std::string& name = "v") {
    Manifest m;
    m.key = key;
    m.kind = "quant";
    m.name = name;
    m.identity = "quant:original/" + name;
    m.params = {{"bits", 8}};
    m.inputs = {{"model", key_of('0')}};
    m.meta = {{"code_version", 1}};
    return m;
  }
  // Commits an artifact holding `files` (relative path -> content).
  Manifest commit(const std::string& key, const std::vector<std::pair<std::string, std::string>>& files,
                  const std::string& name = "v") {
    auto dir = store_->begin(key);
    EXPECT_TRUE(dir.is_ok()) << dir.status().to_string();
    for (const auto& [rel, data] : files) write_text(dir->path() / rel, data);
    auto m = store_->commit(std::move(*dir), manifest(key, name));
    EXPECT_TRUE(m.is_ok()) << m.status().to_string();
    return m.is_ok() ? *m : Manifest{};
  }
  void write_manifest_text(const std::string& key, const std::string& text) {
    write_text(layout().manifest(key), text);
  }
  std::unique_ptr<ObjectStore> store_;
};

}  // namespace qb::store::testing_util
