// Input file and folder checks (see sources.h).
#include "config/sources.h"

#include <sys/stat.h>

#include <cstring>
#include <filesystem>
#include <fstream>

#include <fmt/format.h>

#include "config/names.h"
#include "util/dep_log.h"

namespace qb::config {
namespace {

namespace stdfs = std::filesystem;

// What is wrong with the path string itself, or "".
std::string path_problem(const std::string& rel) {
  for (unsigned char ch : rel)
    if (ch < 0x20 || ch == 0x7f) return "contains a control character";
  return "";
}

const char* kind_of(const struct stat& st) {
  if (S_ISFIFO(st.st_mode)) return "a FIFO";
  if (S_ISCHR(st.st_mode)) return "a character device";
  if (S_ISBLK(st.st_mode)) return "a block device";
  if (S_ISSOCK(st.st_mode)) return "a socket";
  if (S_ISREG(st.st_mode)) return "a regular file";
  if (S_ISDIR(st.st_mode)) return "a folder";
  return "not a regular file";
}

// stat() following symlinks; "" or why it fails ("a symlink loop", "a dangling symlink", …).
std::string stat_problem(const stdfs::path& p, struct stat& st) {
  fs::DependencyLog::note(p);  // a build's input (runner/noop_memo.h)
  if (::stat(p.c_str(), &st) == 0) return "";
  if (errno == ELOOP) return "a symlink loop";
  struct stat lst{};
  if (errno == ENOENT && ::lstat(p.c_str(), &lst) == 0) return "a dangling symlink";
  return std::strerror(errno);
}

// Every entry under the folder `dir`: regular files (or folders of them), bounded. Reports the
// first problem at `at`; true when there is none.
bool check_tree(FileContext& c, const Node& at, const std::string& what, const std::string& rel) {
  const stdfs::path dir = c.root / rel;
  std::int64_t files = 0, bytes = 0;
  std::error_code ec;
  stdfs::recursive_directory_iterator it(dir, stdfs::directory_options::none, ec), end;
  for (; !ec && it != end; it.increment(ec)) {
    const stdfs::path& p = it->path();
    const std::string name = p.filename().string();
    if (!name.empty() && name[0] == '.') {  // hidden: the graph skips these too
      std::error_code e2;
      if (it->is_directory(e2) && !it->is_symlink(e2)) it.disable_recursion_pending();
      continue;
    }
    const std::string shown = rel + "/" + p.lexically_relative(dir).generic_string();
    struct stat st{};
    if (std::string why = stat_problem(p, st); !why.empty()) {
      c.diags.error(at.loc, fmt::format("{} '{}': '{}' is {}", what, rel, shown, why));
      return false;
    }
    if (S_ISDIR(st.st_mode)) {
      if (it->is_symlink(ec)) {  // not followed: its content would not be hashed
        c.diags.error(at.loc, fmt::format("{} '{}': '{}' is a symlink to a folder; link files, not folders",
                                          what, rel, shown));
        return false;
      }
      continue;
    }
    if (!S_ISREG(st.st_mode)) {
      c.diags.error(at.loc, fmt::format("{} '{}': '{}' is {}, not a regular file", what, rel, shown, kind_of(st)));
      return false;
    }
    bytes += st.st_size;
    if (++files > kMaxSourceFiles) {
      c.diags.error(at.loc, fmt::format("{} '{}' holds more than {} files; is it the right folder?", what, rel,
                                        kMaxSourceFiles));
      return false;
    }
    if (bytes > kMaxSourceBytes) {
      c.diags.error(at.loc, fmt::format("{} '{}' holds more than {} TiB; is it the right folder?", what, rel,
                                        kMaxSourceBytes >> 40));
      return false;
    }
  }
  if (ec) {
    c.diags.error(at.loc, fmt::format("{} '{}' cannot be listed: {}", what, rel, ec.message()));
    return false;
  }
  return true;
}

// The folder itself: exists, is a folder (after symlinks), has a printable path.
bool check_folder(FileContext& c, const Node& at, const std::string& what, const std::string& rel) {
  if (std::string p = path_problem(rel); !p.empty()) {
    c.diags.error(at.loc, fmt::format("{} '{}' {}", what, printable(rel), p));
    return false;
  }
  struct stat st{};
  std::string why = stat_problem(c.root / rel, st);
  if (why == std::strerror(ENOENT)) {
    c.diags.error(at.loc, fmt::format("{} '{}' does not exist; see data/HELP.md for how to get it", what, rel));
    return false;
  }
  if (!why.empty()) {
    c.diags.error(at.loc, fmt::format("{} '{}' is {}", what, rel, why));
    return false;
  }
  if (!S_ISDIR(st.st_mode)) {
    c.diags.error(at.loc, fmt::format("{} '{}' is not a directory; see data/HELP.md", what, rel));
    return false;
  }
  return true;
}

}  // namespace

std::string not_a_regular_file(const std::filesystem::path& path) {
  struct stat st{};
  if (std::string why = stat_problem(path, st); !why.empty()) return why;
  return S_ISREG(st.st_mode) ? "" : kind_of(st);
}

bool check_model_dir(FileContext& c, const Node& at, const std::string& rel) {
  if (!check_folder(c, at, "input model directory", rel)) return false;
  struct stat st{};
  if (!stat_problem(c.root / rel / "config.json", st).empty() || !S_ISREG(st.st_mode)) {
    c.diags.error(at.loc,
                  fmt::format("input model directory '{}' has no config.json; see data/HELP.md for how to get the model",
                              rel));
    return false;
  }
  return check_tree(c, at, "input model directory", rel);
}

bool check_dataset_dir(FileContext& c, const Node& at, const std::string& rel) {
  return check_folder(c, at, "dataset directory", rel) && check_tree(c, at, "dataset directory", rel);
}

std::optional<std::string> check_calibration_source(FileContext& c, const Node& at, const std::string& rel) {
  if (std::string p = path_problem(rel); !p.empty()) {
    c.diags.error(at.loc, fmt::format("calibration source '{}' {}", printable(rel), p));
    return std::nullopt;
  }
  const stdfs::path path = c.root / rel;
  struct stat st{};
  std::string why = stat_problem(path, st);
  if (why == std::strerror(ENOENT)) {
    c.diags.error(at.loc, fmt::format("calibration source '{}' does not exist; see data/HELP.md for how to get it", rel));
    return std::nullopt;
  }
  if (!why.empty()) {
    c.diags.error(at.loc, fmt::format("calibration source '{}' is {}", rel, why));
    return std::nullopt;
  }
  if (S_ISDIR(st.st_mode)) {
    // The quantize step reads only text calibration files; say so here, not mid-build.
    c.diags.error(at.loc, fmt::format("calibration source '{}' is a directory; calibration reads a .txt or "
                                      ".jsonl file (dataset directories are not supported)",
                                      rel));
    return std::nullopt;
  }
  if (!S_ISREG(st.st_mode)) {
    c.diags.error(at.loc, fmt::format("calibration source '{}' is {}, not a regular file", rel, kind_of(st)));
    return std::nullopt;
  }
  if (st.st_size > kMaxCalibrationBytes) {
    c.diags.error(at.loc, fmt::format("calibration source '{}' is larger than {} GiB", rel, kMaxCalibrationBytes >> 30));
    return std::nullopt;
  }
  const std::string ext = path.extension().string();
  if (ext == ".txt") return "txt";
  if (ext == ".jsonl") return "jsonl";
  c.diags.error(at.loc, fmt::format("calibration source '{}' must be a .txt or .jsonl file", rel));
  return std::nullopt;
}

bool check_calibration_size(FileContext& c, const Node& at, const std::string& rel, const std::string& kind,
                            std::int64_t num_samples, std::int64_t seq_len) {
  const stdfs::path path = c.root / rel;
  std::error_code ec;
  fs::DependencyLog::note(path);
  const auto bytes = static_cast<std::int64_t>(stdfs::file_size(path, ec));
  if (ec) return true;  // reported by check_calibration_source
  if (kind == "txt" && bytes < seq_len) {
    // Every byte-level BPE token covers at least one byte.
    c.diags.error(at.loc, fmt::format("calibration source '{}' has {} bytes: fewer than seq_len {} tokens can "
                                      "come from it",
                                      rel, bytes, seq_len));
    return false;
  }
  if (kind == "jsonl") {
    // One document per line: count lines up to num_samples (cheap: stops early).
    std::ifstream in(path, std::ios::binary);
    std::int64_t lines = 0;
    std::string line;
    while (lines < num_samples && std::getline(in, line))
      if (line.find_first_not_of(" \t\r") != std::string::npos) ++lines;
    if (lines < num_samples) {
      c.diags.error(at.loc, fmt::format("calibration source '{}' has {} non-empty lines (documents), "
                                        "num_samples is {}",
                                        rel, lines, num_samples));
      return false;
    }
  }
  return true;
}

}  // namespace qb::config
