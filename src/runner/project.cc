#include "runner/project.h"

#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "runner/run_record.h"
#include "util/fs.h"
#include "util/strings.h"

namespace qb::runner {

namespace stdfs = std::filesystem;

namespace {

// "" when this process may write `path` (or it does not exist), else the OS's reason
// ("Read-only file system", "Permission denied").
std::string not_writable(const stdfs::path& path) {
  std::error_code ec;
  if (!stdfs::exists(path, ec) || ::access(path.c_str(), W_OK) == 0) return "";
  return std::strerror(errno);
}

// Takes a lock, saying on stderr what it waits for; Code::kBusy at once with `no_wait`.
Result<FileLock> take(const stdfs::path& path, const std::string& note, LockMode mode, bool no_wait,
                      const std::string& busy, const std::string& waiting) {
  auto l = FileLock::try_acquire(path, note, mode);
  if (l.is_ok() || l.status().code() != Code::kBusy) return l;
  std::string holder = FileLock::holder(path);
  if (no_wait) return Status(Code::kBusy, busy + " (" + holder + "); --no-wait given");
  std::fprintf(stderr, "qbuild: waiting for %s (%s)...\n", waiting.c_str(), holder.c_str());
  return FileLock::acquire(path, note, mode);
}

}  // namespace

// A path as messages show it: relative to the project root, or absolute outside it (a shared store).
std::string Project::rel(const stdfs::path& p) const {
  auto r = p.lexically_relative(layout_.root());
  return r.empty() || *r.begin() == ".." ? p.string() : r.string();
}

std::vector<int> Project::lock_fds() const {
  std::vector<int> fds;
  for (const FileLock* l : {&invocation_lock_, &store_lock_})
    if (l->held()) fds.push_back(l->fd());
  return fds;
}

Status Project::lock(const OpenOptions& opts) {
  const auto& L = layout_;
  // Say which folder is read-only rather than failing on the first file qbuild cannot open.
  for (const auto& p : {L.root(), L.cache(), L.locks(), L.store(), L.store_locks(), L.objects(), L.tmp(), L.index_db()})
    if (std::string why = not_writable(p); !why.empty())
      return io_error("'" + (p == L.root() ? std::string(".") : rel(p)) + "' is not writable (" + why +
                      "): building needs to write there; status, explain, graph, runs and --dry-run still work");
  QB_TRY(fs::make_dirs(L.locks()));
  QB_TRY(fs::make_dirs(L.store_locks()));
  QB_ASSIGN_OR_RETURN(invocation_lock_, take(L.project_lock(), opts.note, LockMode::kExclusive, opts.no_wait,
                                             "another qbuild is running in this project",
                                             "another qbuild to finish"));
  LockMode mode = opts.exclusive_store ? LockMode::kExclusive : LockMode::kShared;
  QB_ASSIGN_OR_RETURN(store_lock_, take(L.store_lock(), opts.note, mode, opts.no_wait,
                                        opts.exclusive_store ? "steps are running in this project"
                                                             : "a forced step is running in this project",
                                        opts.exclusive_store ? "the running steps to finish" : "a forced step to finish"));
  return Status::ok();
}

Result<std::unique_ptr<Project>> Project::open(const store::Layout& layout, const OpenOptions& opts) {
  std::unique_ptr<Project> p(new Project(layout));
  p->read_only_ = opts.read_only;
  if (opts.read_only) {
    QB_TRY(p->open_index_for_reading());
    return p;
  }
  QB_TRY(p->lock(opts));
  QB_TRY(p->open_index_for_writing(opts));
  // Runs of Slurm jobs that a previous invocation did not ingest (it crashed, or its jobs
  // outlived it).
  QB_TRY_CTX(ingest_run_records(*p).status(), "ingesting cache/runs/");
  p->store_.clean_tmp();
  return p;
}

Status Project::open_index_for_writing(const OpenOptions& opts) {
  const auto& L = layout_;
  const auto db = L.index_db();
  auto idx = store::Index::open(db, store::IndexAccess::kReadWrite);
  if (idx.is_ok()) {
    QB_ASSIGN_OR_RETURN(auto missing, idx->missing_artifacts(store_));
    if (!missing.empty()) {
      QB_ASSIGN_OR_RETURN(int added, idx->add_from_manifests(store_, missing));
      // In a shared store other checkouts publish all the time: nothing to warn about.
      if (!L.shared_store())
        warn("the index had no row for " + std::to_string(added) +
             " artifact(s) in cache/objects/ (an interrupted step or index rebuild?); added them from their manifests");
    }
    index_ = std::move(*idx);
    return Status::ok();
  }
  const Status& why = idx.status();
  if (why.code() != Code::kNotFound && why.code() != Code::kCorrupt) {
    // A full disk, a read-only file or an I/O error: the file is not at fault. Leave it alone.
    std::string msg = why.message();
    if (std::string ro = not_writable(db); !ro.empty()) msg += "; '" + rel(db) + "' is not writable (" + ro + ")";
    return Status(why.code(), msg + "; nothing was changed");
  }
  // Rebuilding replaces the file: no step may write to it meanwhile. In a store shared with
  // other checkouts, their steps hold the store lock but never write this index: this
  // checkout's own index writers hold cache/locks/index.lock shared instead (step_runner.cc).
  FileLock index_lock;
  if (L.shared_store()) {
    QB_ASSIGN_OR_RETURN(index_lock, take(L.index_lock(), opts.note, LockMode::kExclusive, opts.no_wait,
                                         "the index needs a rebuild and steps are running in this checkout",
                                         "the steps writing this checkout's index to finish (it needs a rebuild)"));
  } else if (store_lock_.mode() != LockMode::kExclusive) {
    Status c = store_lock_.convert(LockMode::kExclusive, false);
    if (c.code() == Code::kBusy) {
      std::string holder = FileLock::holder(L.store_lock());
      if (opts.no_wait)
        return Status(Code::kBusy, "the index needs a rebuild and steps are running in this project (" + holder +
                                       "); --no-wait given");
      std::fprintf(stderr, "qbuild: the index needs a rebuild; waiting for the running steps to finish (%s)...\n",
                   holder.c_str());
      c = store_lock_.convert(LockMode::kExclusive, true);
    }
    QB_TRY(c);
  }
  std::error_code ec;
  // A rebuild killed before its rename leaves '<index>.new-<pid>': nobody else rebuilds now.
  for (const auto& e : stdfs::directory_iterator(L.cache(), ec))
    if (starts_with(e.path().filename().string(), db.filename().string() + ".new-")) stdfs::remove(e.path(), ec);
  std::string warning;
  bool had_objects = !store_.list_keys().empty();
  if (why.code() == Code::kCorrupt) {
    auto aside = L.cache() / (db.filename().string() + ".corrupt-" + timestamp_compact());
    for (const char* sfx : {"", "-wal", "-shm"}) {
      stdfs::path from = db.string() + sfx;
      if (!stdfs::exists(from, ec)) continue;
      stdfs::rename(from, aside.string() + sfx, ec);
      if (ec) return io_error("moving the unusable index '" + rel(from) + "' aside: " + ec.message());
    }
    warning = "the index was unusable (" + why.message() + "); moved it to " + rel(aside) +
              " and rebuilt it from cache/objects/ (run history is lost)";
  } else if (had_objects && !L.shared_store()) {  // a new checkout of a shared store has no index yet
    warning = "the index cache/index.sqlite was missing; rebuilt it from cache/objects/ (run history is lost)";
  }
  QB_TRY(store::Index::rebuild(db, store_));
  if (!opts.exclusive_store && store_lock_.mode() == LockMode::kExclusive) QB_TRY(store_lock_.convert(LockMode::kShared));
  QB_ASSIGN_OR_RETURN(index_, store::Index::open(db, store::IndexAccess::kReadWrite));
  if (!warning.empty()) warn(warning);
  return Status::ok();
}

Status Project::open_index_for_reading() {
  const auto& L = layout_;
  const auto db = L.index_db();
  auto idx = store::Index::open(db, store::IndexAccess::kReadWrite);
  if (!idx.is_ok() && idx.status().code() == Code::kIo) {
    // A cache this user may not write, or a full disk: read the index without writing to it.
    // Immutable (no locks, WAL ignored) only when there is no WAL content it would miss.
    std::error_code ec;
    auto wal = stdfs::path(db.string() + "-wal");
    bool wal_empty = !stdfs::exists(wal, ec) || stdfs::file_size(wal, ec) == 0;
    auto ro = store::Index::open(db, store::IndexAccess::kReadOnly);
    if (!ro.is_ok() && wal_empty) ro = store::Index::open(db, store::IndexAccess::kImmutable);
    if (!ro.is_ok()) {
      std::string msg = idx.status().message();
      for (const auto& p : {L.cache(), db})
        if (std::string why = not_writable(p); !why.empty()) {
          msg += "; '" + rel(p) + "' is not writable (" + why + ")";
          break;
        }
      return io_error(msg);
    }
    std::string what = idx.status().message();
    for (const auto& p : {L.cache(), db})
      if (std::string why = not_writable(p); !why.empty()) {
        what = "'" + rel(p) + "' is not writable: " + why;
        break;
      }
    warn("cannot write to the index (" + what + "); reading it as it is");
    idx = std::move(ro);
  }
  if (idx.is_ok()) {
    QB_ASSIGN_OR_RETURN(auto missing, idx->missing_artifacts(store_));
    if (missing.empty()) {
      index_ = std::move(*idx);
      return Status::ok();
    }
    QB_ASSIGN_OR_RETURN(index_, idx->snapshot_in_memory());
    QB_ASSIGN_OR_RETURN(int added, index_.add_from_manifests(store_, missing));
    if (!L.shared_store())
      warn("the index has no row for " + std::to_string(added) +
           " artifact(s) in cache/objects/; showing them from their manifests (the next qbuild adds them)");
    return Status::ok();
  }
  const Status& why = idx.status();
  if (why.code() != Code::kNotFound && why.code() != Code::kCorrupt) return why;
  // Missing or corrupt: a temporary index in memory, from the manifests; the file stays as it is.
  QB_ASSIGN_OR_RETURN(index_, store::Index::in_memory());
  QB_TRY(index_.rebuild_from(store_));
  if (why.code() == Code::kCorrupt)
    warn("the index is unusable (" + why.message() +
         "); showing cache/objects/ without run history (the next qbuild moves it aside and rebuilds it)");
  else if (!store_.list_keys().empty())
    warn("the index cache/index.sqlite is missing; showing cache/objects/ without run history (the next qbuild rebuilds it)");
  return Status::ok();
}

Status Project::quarantine(const std::string& key, const std::string& why) {
  if (read_only_) return internal_error("quarantine of " + key + " in a read-only command");
  QB_ASSIGN_OR_RETURN(stdfs::path dest, store_.quarantine(key, why));
  QB_TRY(index_.remove_artifact(key));
  warn(why + "; moved it to " + rel(dest) + ", it will be rebuilt");
  return Status::ok();
}

Result<FileLock> lock_store_for_step(const store::Layout& layout, bool exclusive, const std::string& note) {
  LockMode mode = exclusive ? LockMode::kExclusive : LockMode::kShared;
  if (const char* fd = std::getenv(kStoreLockFdEnv); fd && *fd && !exclusive) {
    auto l = FileLock::adopt(layout.store_lock(), std::atoi(fd), mode);
    if (l.is_ok()) return l;
  }
  QB_TRY(fs::make_dirs(layout.store_locks()));
  return take(layout.store_lock(), note, mode, false, "",
              exclusive ? "the running build and steps to finish (a forced step replaces an artifact)"
                        : "gc or a forced step to finish");
}

}  // namespace qb::runner
