#include "store/index.h"

#include <sys/stat.h>
#include <unistd.h>

#include <set>

#include "util/fs.h"

namespace qb::store {

Result<FileStat> stat_file(const std::filesystem::path& path) {
  if (auto f = fs::stat_of(path)) return *f;
  return errno_error("stat '" + path.string() + "'");
}

ArtifactRow ArtifactRow::from_manifest(const Manifest& m) {
  return ArtifactRow{m.key, m.kind, m.name, m.identity, m.created_unix, m.params, m.inputs, m.meta};
}

namespace {
const char* kSchema = R"sql(
CREATE TABLE IF NOT EXISTS file_hashes(
  path TEXT PRIMARY KEY, dev INTEGER, ino INTEGER, size INTEGER,
  mtime_ns INTEGER, ctime_ns INTEGER, hash TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS artifacts(
  key TEXT PRIMARY KEY, kind TEXT NOT NULL, name TEXT, identity TEXT,
  created_unix REAL, params TEXT, inputs TEXT, meta TEXT);
CREATE INDEX IF NOT EXISTS artifacts_identity ON artifacts(identity, created_unix);
CREATE TABLE IF NOT EXISTS runs(
  id INTEGER PRIMARY KEY AUTOINCREMENT, invocation TEXT, key TEXT, kind TEXT, name TEXT,
  status TEXT, started REAL, ended REAL, duration_s REAL, host TEXT, gpu TEXT, pid INTEGER,
  log TEXT, message TEXT, job_id TEXT, job_state TEXT);
CREATE INDEX IF NOT EXISTS runs_invocation ON runs(invocation);
)sql";

nlohmann::json parse_or_empty(const std::string& s) {
  auto j = nlohmann::json::parse(s, nullptr, false);
  return j.is_discarded() ? nlohmann::json::object() : j;
}

ArtifactRow read_artifact(const Stmt& st) {
  ArtifactRow a;
  a.key = st.text(0);
  a.kind = st.text(1);
  a.name = st.text(2);
  a.identity = st.text(3);
  a.created_unix = st.real(4);
  a.params = parse_or_empty(st.text(5));
  a.inputs = parse_or_empty(st.text(6));
  a.meta = parse_or_empty(st.text(7));
  return a;
}
constexpr const char* kArtifactCols = "key, kind, name, identity, created_unix, params, inputs, meta";
}  // namespace

Result<Index> Index::open(const std::filesystem::path& path, IndexAccess access) {
  std::error_code ec;
  if (access != IndexAccess::kCreate && !std::filesystem::exists(path, ec))
    return not_found("index '" + path.string() + "' does not exist");
  Index idx;
  DbAccess db_access = access == IndexAccess::kCreate      ? DbAccess::kCreate
                       : access == IndexAccess::kReadWrite ? DbAccess::kReadWrite
                       : access == IndexAccess::kReadOnly  ? DbAccess::kReadOnly
                                                           : DbAccess::kImmutable;
  idx.writable_ = access == IndexAccess::kCreate || access == IndexAccess::kReadWrite;
  QB_ASSIGN_OR_RETURN(idx.db_, Db::open(path, db_access));
  // quick_check reads every page: it is what turns "file is not a database" or a torn page into
  // Code::kCorrupt here rather than in the middle of a build.
  {
    QB_ASSIGN_OR_RETURN(Stmt chk, idx.db_.prepare("PRAGMA quick_check"));
    QB_ASSIGN_OR_RETURN(bool row, chk.step());
    if (!row || chk.text(0) != "ok") return corrupt("index '" + path.string() + "' failed its integrity check");
  }
  QB_TRY(idx.check_schema(access == IndexAccess::kCreate));
  if (idx.writable_) {
    // Every index qbuild keeps is in WAL mode already: then this is a read, not a write, and a
    // full disk does not fail here.
    bool wal = false;
    {
      QB_ASSIGN_OR_RETURN(Stmt jm, idx.db_.prepare("PRAGMA journal_mode"));
      QB_ASSIGN_OR_RETURN(bool row, jm.step());
      wal = row && jm.text(0) == "wal";
    }
    if (!wal) QB_TRY(idx.db_.exec("PRAGMA journal_mode=WAL"));
    QB_TRY(idx.db_.exec("PRAGMA synchronous=NORMAL"));
  }
  return idx;
}

Result<Index> Index::in_memory() {
  Index idx;
  QB_ASSIGN_OR_RETURN(idx.db_, Db::open_in_memory());
  QB_TRY(idx.check_schema(true));
  return idx;
}

Result<Index> Index::snapshot_in_memory() const {
  Index idx;
  QB_ASSIGN_OR_RETURN(idx.db_, Db::open_in_memory());
  QB_TRY(db_.copy_into(idx.db_));
  idx.has_job_columns_ = has_job_columns_;
  return idx;
}

// The schema must be there (user_version = kSchemaVersion), except in a file we may create and
// which is empty. A 0-byte or foreign file has user_version 0: it is not an index.
Status Index::check_schema(bool create) {
  std::int64_t version = 0, objects = 0;
  {
    QB_ASSIGN_OR_RETURN(Stmt v, db_.prepare("PRAGMA user_version"));
    QB_ASSIGN_OR_RETURN(bool row, v.step());
    version = row ? v.int64(0) : 0;
  }
  {
    QB_ASSIGN_OR_RETURN(Stmt t, db_.prepare("SELECT count(*) FROM sqlite_master"));
    QB_ASSIGN_OR_RETURN(bool row, t.step());
    objects = row ? t.int64(0) : 0;
  }
  if (version > kSchemaVersion)
    return corrupt("index '" + db_.path().string() + "' has schema " + std::to_string(version) +
                   ", newer than this qbuild's " + std::to_string(kSchemaVersion));
  if (version == kSchemaVersion) return Status::ok();
  if (version == 1 && objects != 0) {  // schema 1: runs without the Slurm job columns
    if (!writable_) {
      has_job_columns_ = false;
      return Status::ok();
    }
    return db_.exec("BEGIN; ALTER TABLE runs ADD COLUMN job_id TEXT; ALTER TABLE runs ADD COLUMN job_state TEXT; "
                    "PRAGMA user_version=" + std::to_string(kSchemaVersion) + "; COMMIT;");
  }
  if (!create || objects != 0)
    return corrupt("index '" + db_.path().string() + "' is not a qbuild index (" +
                   (objects == 0 ? "empty" : "no qbuild schema") + ")");
  return db_.exec(std::string("BEGIN; ") + kSchema + " PRAGMA user_version=" + std::to_string(kSchemaVersion) +
                  "; COMMIT;");
}

Result<Digest> Index::file_hash(const std::filesystem::path& path) {
  auto abs = std::filesystem::absolute(path).lexically_normal();
  QB_ASSIGN_OR_RETURN(FileStat fst, stat_file(abs));
  QB_ASSIGN_OR_RETURN(Stmt q, db_.prepare(
      "SELECT dev, ino, size, mtime_ns, ctime_ns, hash FROM file_hashes WHERE path = ?"));
  q.bind(1, abs.string());
  QB_ASSIGN_OR_RETURN(bool row, q.step());
  if (row) {
    FileStat old{static_cast<std::uint64_t>(q.int64(0)), static_cast<std::uint64_t>(q.int64(1)),
                 static_cast<std::uint64_t>(q.int64(2)), q.int64(3), q.int64(4)};
    if (old == fst) {
      auto d = Digest::from_hex(q.text(5));
      if (d.is_ok()) {
        ++memo_hits_;
        return *d;
      }
    }
  }
  ++memo_misses_;
  QB_ASSIGN_OR_RETURN(Digest d, hash_file(abs));
  if (!writable_) return d;
  QB_ASSIGN_OR_RETURN(Stmt ins, db_.prepare(
      "INSERT OR REPLACE INTO file_hashes(path, dev, ino, size, mtime_ns, ctime_ns, hash) VALUES(?,?,?,?,?,?,?)"));
  ins.bind(1, abs.string()).bind(2, static_cast<std::int64_t>(fst.dev)).bind(3, static_cast<std::int64_t>(fst.ino))
      .bind(4, static_cast<std::int64_t>(fst.size)).bind(5, fst.mtime_ns).bind(6, fst.ctime_ns).bind(7, d.hex());
  // The memo is only an accelerator: a full disk or a read-only cache must not fail a command
  // that merely needed a hash (`qbuild status` on a full disk still answers).
  (void)ins.run();
  return d;
}

Status Index::upsert_artifact(const Manifest& m) {
  QB_ASSIGN_OR_RETURN(Stmt st, db_.prepare(std::string("INSERT OR REPLACE INTO artifacts(") + kArtifactCols +
                                           ") VALUES(?,?,?,?,?,?,?,?)"));
  st.bind(1, m.key).bind(2, m.kind).bind(3, m.name).bind(4, m.identity).bind(5, m.created_unix)
      .bind(6, m.params.dump()).bind(7, m.inputs.dump()).bind(8, m.meta.dump());
  return st.run();
}

Status Index::remove_artifact(const std::string& key) {
  QB_ASSIGN_OR_RETURN(Stmt st, db_.prepare("DELETE FROM artifacts WHERE key = ?"));
  st.bind(1, key);
  return st.run();
}

Result<std::optional<ArtifactRow>> Index::artifact(const std::string& key) {
  QB_ASSIGN_OR_RETURN(Stmt st, db_.prepare(std::string("SELECT ") + kArtifactCols + " FROM artifacts WHERE key = ?"));
  st.bind(1, key);
  QB_ASSIGN_OR_RETURN(bool row, st.step());
  if (!row) return std::optional<ArtifactRow>();
  return std::optional<ArtifactRow>(read_artifact(st));
}

Result<std::optional<ArtifactRow>> Index::last_built(const std::string& identity) {
  QB_ASSIGN_OR_RETURN(Stmt st, db_.prepare(std::string("SELECT ") + kArtifactCols +
                                           " FROM artifacts WHERE identity = ? ORDER BY created_unix DESC LIMIT 1"));
  st.bind(1, identity);
  QB_ASSIGN_OR_RETURN(bool row, st.step());
  if (!row) return std::optional<ArtifactRow>();
  return std::optional<ArtifactRow>(read_artifact(st));
}

Result<std::vector<ArtifactRow>> Index::artifacts_of_kind(const std::string& kind) {
  QB_ASSIGN_OR_RETURN(Stmt st, db_.prepare(std::string("SELECT ") + kArtifactCols +
                                           " FROM artifacts WHERE kind = ? ORDER BY created_unix"));
  st.bind(1, kind);
  std::vector<ArtifactRow> out;
  for (;;) {
    QB_ASSIGN_OR_RETURN(bool row, st.step());
    if (!row) break;
    out.push_back(read_artifact(st));
  }
  return out;
}

Result<std::vector<ArtifactStamp>> Index::artifact_stamps(const std::string& kind) {
  QB_ASSIGN_OR_RETURN(Stmt st, db_.prepare("SELECT key, name, identity, created_unix FROM artifacts WHERE kind = ? "
                                           "ORDER BY created_unix"));
  st.bind(1, kind);
  std::vector<ArtifactStamp> out;
  for (;;) {
    QB_ASSIGN_OR_RETURN(bool row, st.step());
    if (!row) break;
    out.push_back({st.text(0), st.text(1), st.text(2), st.real(3)});
  }
  return out;
}

Result<std::map<std::string, ArtifactRow>> Index::artifacts(const std::vector<std::string>& keys) {
  QB_ASSIGN_OR_RETURN(Stmt st, db_.prepare(std::string("SELECT ") + kArtifactCols + " FROM artifacts WHERE key = ?"));
  std::map<std::string, ArtifactRow> out;
  for (const auto& key : keys) {
    st.bind(1, key);
    QB_ASSIGN_OR_RETURN(bool row, st.step());
    if (row) out.emplace(key, read_artifact(st));
    st.reset();
  }
  return out;
}

Result<std::vector<std::string>> Index::artifact_keys() {
  QB_ASSIGN_OR_RETURN(Stmt st, db_.prepare("SELECT key FROM artifacts ORDER BY key"));
  std::vector<std::string> out;
  for (;;) {
    QB_ASSIGN_OR_RETURN(bool row, st.step());
    if (!row) break;
    out.push_back(st.text(0));
  }
  return out;
}

Result<std::int64_t> Index::begin_run(const RunRow& r) {
  QB_ASSIGN_OR_RETURN(Stmt st, db_.prepare(
      "INSERT INTO runs(invocation, key, kind, name, status, started, host, gpu, pid, log, message, job_id, job_state) "
      "VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?)"));
  st.bind(1, r.invocation).bind(2, r.key).bind(3, r.kind).bind(4, r.name).bind(5, r.status)
      .bind(6, r.started).bind(7, r.host).bind(8, r.gpu).bind(9, r.pid).bind(10, r.log).bind(11, r.message)
      .bind(12, r.job_id).bind(13, r.job_state);
  QB_TRY(st.run());
  return db_.last_insert_rowid();
}

Result<std::int64_t> Index::add_run(const RunRow& r) {
  QB_ASSIGN_OR_RETURN(std::int64_t id, begin_run(r));
  QB_ASSIGN_OR_RETURN(Stmt st, db_.prepare("UPDATE runs SET ended = ?, duration_s = ? WHERE id = ?"));
  st.bind(1, r.ended).bind(2, r.duration_s).bind(3, id);
  QB_TRY(st.run());
  return id;
}

Status Index::end_run(std::int64_t id, const std::string& status, double duration_s, const std::string& message) {
  QB_ASSIGN_OR_RETURN(Stmt st, db_.prepare(
      "UPDATE runs SET status = ?, ended = started + ?, duration_s = ?, message = ? WHERE id = ?"));
  st.bind(1, status).bind(2, duration_s).bind(3, duration_s).bind(4, message).bind(5, id);
  return st.run();
}

namespace {
RunRow read_run(const Stmt& st, bool job_columns) {
  RunRow r;
  r.id = st.int64(0);
  r.invocation = st.text(1);
  r.key = st.text(2);
  r.kind = st.text(3);
  r.name = st.text(4);
  r.status = st.text(5);
  r.started = st.real(6);
  r.ended = st.real(7);
  r.duration_s = st.real(8);
  r.host = st.text(9);
  r.gpu = st.text(10);
  r.pid = st.int64(11);
  r.log = st.text(12);
  r.message = st.text(13);
  if (job_columns) {
    r.job_id = st.text(14);
    r.job_state = st.text(15);
  }
  return r;
}
}  // namespace

std::string Index::run_columns() const {
  return std::string("id, invocation, key, kind, name, status, started, ended, duration_s, host, gpu, pid, log, message") +
         (has_job_columns_ ? ", job_id, job_state" : "");
}

Result<std::map<std::string, RunRow>> Index::last_runs() {
  QB_ASSIGN_OR_RETURN(Stmt st, db_.prepare("SELECT " + run_columns() +
                                           " FROM runs WHERE id IN (SELECT max(id) FROM runs GROUP BY key)"));
  std::map<std::string, RunRow> out;
  for (;;) {
    QB_ASSIGN_OR_RETURN(bool row, st.step());
    if (!row) break;
    RunRow r = read_run(st, has_job_columns_);
    out[r.key] = std::move(r);
  }
  return out;
}

Result<std::vector<RunRow>> Index::runs(const std::string& invocation) {
  std::string sql = "SELECT " + run_columns() + " FROM runs";
  if (!invocation.empty()) sql += " WHERE invocation = ?";
  sql += " ORDER BY id";
  QB_ASSIGN_OR_RETURN(Stmt st, db_.prepare(sql));
  if (!invocation.empty()) st.bind(1, invocation);
  std::vector<RunRow> out;
  for (;;) {
    QB_ASSIGN_OR_RETURN(bool row, st.step());
    if (!row) break;
    out.push_back(read_run(st, has_job_columns_));
  }
  return out;
}

Result<std::string> Index::last_invocation() {
  QB_ASSIGN_OR_RETURN(Stmt st, db_.prepare("SELECT invocation FROM runs ORDER BY id DESC LIMIT 1"));
  QB_ASSIGN_OR_RETURN(bool row, st.step());
  return row ? st.text(0) : std::string();
}

Result<std::vector<std::string>> Index::missing_artifacts(const ObjectStore& store) {
  QB_ASSIGN_OR_RETURN(std::vector<std::string> rows, artifact_keys());
  std::set<std::string> have(rows.begin(), rows.end());
  std::vector<std::string> missing;
  for (const auto& key : store.list_keys())
    if (!have.count(key) && store.contains(key)) missing.push_back(key);
  return missing;
}

Result<int> Index::add_from_manifests(const ObjectStore& store, const std::vector<std::string>& keys) {
  int added = 0;
  QB_TRY(db_.exec("BEGIN"));
  for (const auto& key : keys) {
    auto m = store.read_manifest(key);
    if (!m.is_ok()) continue;  // an incomplete or foreign directory: not an artifact
    if (Status s = upsert_artifact(*m); !s.is_ok()) {
      (void)db_.exec("ROLLBACK");
      return s;
    }
    ++added;
  }
  QB_TRY(db_.exec("COMMIT"));
  return added;
}

Status Index::rebuild(const std::filesystem::path& path, const ObjectStore& store) {
  namespace sfs = std::filesystem;
  const std::string tmp = path.string() + ".new-" + std::to_string(::getpid());
  std::error_code ec;
  for (const char* sfx : {"", "-journal", "-wal", "-shm"}) sfs::remove(tmp + sfx, ec);
  {
    QB_ASSIGN_OR_RETURN(Index fresh, open(tmp, IndexAccess::kCreate));
    QB_TRY(fresh.rebuild_from(store));
    // Back to a rollback journal for the rename: closing it leaves one self-contained file
    // (no -wal beside it); the next open switches it to WAL again.
    QB_TRY(fresh.db_.exec("PRAGMA journal_mode=DELETE"));
  }
  QB_TRY_CTX(fs::sync_path(tmp), "rebuilding the index");
  // A -wal beside the old name belongs to a file that is gone (deleted) or was moved aside
  // (corrupt): SQLite would replay it into the new file.
  for (const char* sfx : {"-wal", "-shm"}) {
    sfs::remove(path.string() + sfx, ec);
    if (ec) return io_error("rebuilding the index: removing '" + path.string() + sfx + "': " + ec.message());
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) return errno_error("rebuilding the index: rename '" + tmp + "'");
  return fs::sync_path(path.parent_path());
}

Status Index::rebuild_from(const ObjectStore& store) {
  QB_TRY(db_.exec("BEGIN; DELETE FROM artifacts;"));
  for (const auto& key : store.list_keys()) {
    auto m = store.read_manifest(key);
    if (!m.is_ok()) continue;  // an incomplete or foreign directory: not an artifact
    Status s = upsert_artifact(*m);
    if (!s.is_ok()) {
      (void)db_.exec("ROLLBACK;");
      return s;
    }
  }
  return db_.exec("COMMIT;");
}

}  // namespace qb::store
