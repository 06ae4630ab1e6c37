#include "util/dep_log.h"

#include <atomic>
#include <mutex>
#include <unordered_set>

namespace qb::fs {

namespace {
std::atomic<bool> g_open{false};
std::mutex g_mu;
std::vector<DependencyLog::Entry> g_entries;
std::unordered_set<std::string> g_seen;
stdfs::path g_cwd;
}  // namespace

void DependencyLog::start() {
  std::lock_guard<std::mutex> l(g_mu);
  g_entries.clear();
  g_seen.clear();
  std::error_code ec;
  g_cwd = stdfs::current_path(ec);
  g_open = true;
}

void DependencyLog::note(const stdfs::path& path) {
  if (!g_open.load(std::memory_order_relaxed)) return;
  std::string abs = (path.is_absolute() ? path : g_cwd / path).lexically_normal().string();
  if (abs.size() > 1 && abs.back() == '/') abs.pop_back();
  std::lock_guard<std::mutex> l(g_mu);
  if (!g_open || !g_seen.insert(abs).second) return;
  auto st = stat_of(abs);
  g_entries.push_back({std::move(abs), st});
}

std::vector<DependencyLog::Entry> DependencyLog::take() {
  std::lock_guard<std::mutex> l(g_mu);
  g_open = false;
  g_seen.clear();
  return std::move(g_entries);
}

}  // namespace qb::fs
