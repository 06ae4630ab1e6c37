#include "runner/gc.h"

#include <sys/stat.h>

#include <system_error>

namespace qb::runner {

namespace stdfs = std::filesystem;

namespace {

// Bytes under `dir` (what deleting it frees), counting every regular file.
std::uint64_t folder_bytes(const stdfs::path& dir) {
  std::uint64_t n = 0;
  std::error_code ec;
  for (auto it = stdfs::recursive_directory_iterator(dir, ec); !ec && it != stdfs::recursive_directory_iterator();
       it.increment(ec)) {
    std::error_code ec2;
    if (it->is_regular_file(ec2)) n += it->file_size(ec2);
  }
  return n;
}

double mtime_unix(const stdfs::path& p) {
  struct stat st {};
  if (::stat(p.c_str(), &st) != 0) return 0;
  return static_cast<double>(st.st_mtim.tv_sec) + static_cast<double>(st.st_mtim.tv_nsec) * 1e-9;
}

}  // namespace

GcPlan plan_gc(Project& project, const std::set<std::string>& live, const GcOptions& opts, double now_unix) {
  GcPlan plan;
  const double horizon = now_unix - 86400.0 * opts.keep_days;
  auto place = [&](GcItem item) {
    if (!opts.all && item.created_unix > horizon) {
      plan.kept_recent_bytes += item.bytes;
      plan.kept_recent.push_back(std::move(item));
    } else {
      plan.remove_bytes += item.bytes;
      plan.remove.push_back(std::move(item));
    }
  };
  const auto& store = project.store();
  for (const auto& key : store.list_keys()) {
    if (live.count(key)) continue;
    GcItem item;
    item.key = key;
    item.dir = project.layout().object_dir(key);
    item.bytes = folder_bytes(item.dir);
    auto m = store.read_manifest(key);
    item.kind = m.is_ok() ? m->kind : "?";
    item.name = m.is_ok() ? m->name : "(no manifest)";
    item.created_unix = m.is_ok() && m->created_unix > 0 ? m->created_unix : mtime_unix(item.dir);
    place(std::move(item));
  }
  std::error_code ec;
  for (const auto& e : stdfs::directory_iterator(project.layout().quarantine(), ec)) {
    GcItem item;
    item.dir = e.path();
    item.key = e.path().filename().string();
    item.kind = "quarantined";
    item.name = e.path().filename().string();
    item.bytes = folder_bytes(item.dir);
    item.created_unix = mtime_unix(item.dir);  // when it was quarantined (the rename)
    item.quarantined = true;
    place(std::move(item));
  }
  return plan;
}

Result<int> apply_gc(Project& project, const GcPlan& plan) {
  int n = 0;
  for (const auto& item : plan.remove) {
    if (item.quarantined) {
      std::error_code ec;
      stdfs::remove_all(item.dir, ec);
      if (ec) return io_error("deleting '" + item.dir.string() + "': " + ec.message());
    } else {
      QB_TRY(project.store().remove(item.key));
      QB_TRY(project.index().remove_artifact(item.key));
    }
    ++n;
  }
  return n;
}

}  // namespace qb::runner
