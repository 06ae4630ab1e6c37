#include "runner/project.h"

#include <cstdio>

#include "util/fs.h"
#include "util/strings.h"

namespace qb::runner {

Result<std::unique_ptr<Project>> Project::open(const std::filesystem::path& root, const OpenOptions& opts) {
  std::unique_ptr<Project> p(new Project(root));
  const auto& L = p->layout_;
  QB_TRY(fs::make_dirs(L.locks()));
  if (!opts.read_only) {
    auto l = FileLock::try_acquire(L.project_lock(), opts.note);
    if (!l.is_ok() && l.status().code() == Code::kBusy) {
      std::string holder = FileLock::holder(L.project_lock());
      if (opts.no_wait)
        return Status(Code::kBusy, "another qbuild is running in this project (" + holder + "); --no-wait given");
      std::fprintf(stderr, "qbuild: waiting for another qbuild to finish (%s)...\n", holder.c_str());
      l = FileLock::acquire(L.project_lock(), opts.note);
    }
    if (!l.is_ok()) return l.status();
    p->lock_ = std::move(*l);
  }

  std::error_code ec;
  bool existed = std::filesystem::exists(L.index_db(), ec);
  auto idx = store::Index::open(L.index_db());
  bool rebuild = !existed && std::filesystem::exists(L.objects(), ec);
  if (!idx.is_ok()) {
    if (idx.status().code() != Code::kCorrupt && idx.status().code() != Code::kIo) return idx.status();
    auto aside = L.cache() / ("index.sqlite.corrupt-" + timestamp_compact());
    std::filesystem::rename(L.index_db(), aside, ec);
    for (const char* sfx : {"-wal", "-shm"}) std::filesystem::remove(L.index_db().string() + sfx, ec);
    p->warn("the index was unusable (" + idx.status().message() + "); moved it to " +
            std::filesystem::relative(aside, L.root()).string() + " and rebuilt it from cache/objects/");
    idx = store::Index::open(L.index_db());
    if (!idx.is_ok()) return idx.status();
    rebuild = true;
  } else if (rebuild) {
    p->warn("the index cache/index.sqlite was missing; rebuilt it from cache/objects/ (run history is lost)");
  }
  p->index_ = std::move(*idx);
  if (rebuild) QB_TRY(p->index_.rebuild_from(p->store_));
  if (!opts.read_only) p->store_.clean_tmp();
  return p;
}

}  // namespace qb::runner
