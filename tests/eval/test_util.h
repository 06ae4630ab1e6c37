// Helpers shared by the eval tests: a temporary dataset folder to write files into.
#pragma once

#include <filesystem>
#include <string>

#include <gtest/gtest.h>

#include "util/fs.h"

namespace qb::eval::testing {

// A fresh folder "<tmp>/datasets/<name>/" removed at the end of the test.
class DatasetDir {
 public:
  explicit DatasetDir(const std::string& name) {
    auto t = qb::fs::TempDir::create(std::filesystem::temp_directory_path(), "qb_eval_test_");
    EXPECT_TRUE(t.is_ok()) << t.status().to_string();
    tmp_ = std::move(t.value());
    root_ = tmp_.path() / name;
    std::filesystem::create_directories(root_);
  }
  const std::filesystem::path& root() const { return root_; }
  void write(const std::string& rel, const std::string& content) const {
    std::filesystem::path p = root_ / rel;
    std::filesystem::create_directories(p.parent_path());
    ASSERT_TRUE(qb::fs::write_file_atomic(p, content).is_ok());
  }

 private:
  qb::fs::TempDir tmp_;
  std::filesystem::path root_;
};

inline std::string source_path(const std::string& rel) { return std::string(QB_SOURCE_DIR) + "/" + rel; }

}  // namespace qb::eval::testing
