#include "store/sqlite_db.h"

#include <sqlite3.h>

#include <cstring>

namespace qb::store {

namespace {
// "file:" URI of a path (for ?immutable=1): the characters URIs reserve are escaped.
std::string file_uri(const std::filesystem::path& path) {
  std::string out = "file:";
  for (char c : std::filesystem::absolute(path).string()) {
    if (c == '%') out += "%25";
    else if (c == '?') out += "%3f";
    else if (c == '#') out += "%23";
    else out.push_back(c);
  }
  return out;
}
}  // namespace

Result<Db> Db::open(const std::filesystem::path& path, DbAccess access) {
  Db db;
  db.path_ = path;
  std::string name = path.string();
  int flags = SQLITE_OPEN_FULLMUTEX;
  switch (access) {
    case DbAccess::kCreate: flags |= SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE; break;
    case DbAccess::kReadWrite: flags |= SQLITE_OPEN_READWRITE; break;
    case DbAccess::kReadOnly: flags |= SQLITE_OPEN_READONLY; break;
    case DbAccess::kImmutable:
      flags |= SQLITE_OPEN_READONLY | SQLITE_OPEN_URI;
      name = file_uri(path) + "?immutable=1";
      break;
  }
  int rc = sqlite3_open_v2(name.c_str(), &db.db_, flags, nullptr);
  if (rc != SQLITE_OK) {
    Status s = db.db_ ? db.error("open") : io_error("index '" + path.string() + "': cannot open database");
    return s;
  }
  sqlite3_busy_timeout(db.db_, 30000);
  sqlite3_extended_result_codes(db.db_, 1);
  return db;
}

Result<Db> Db::open_in_memory() {
  Db db;
  db.path_ = ":memory:";
  if (sqlite3_open_v2(":memory:", &db.db_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr) != SQLITE_OK)
    return db.error("open");
  sqlite3_extended_result_codes(db.db_, 1);
  return db;
}

Status Db::copy_into(Db& dest) const {
  sqlite3_backup* b = sqlite3_backup_init(dest.db_, "main", db_, "main");
  if (!b) return dest.error("backup");
  int rc = sqlite3_backup_step(b, -1);
  sqlite3_backup_finish(b);
  if (rc != SQLITE_DONE) return error("backup");
  return Status::ok();
}

Db::Db(Db&& o) noexcept : db_(o.db_), path_(std::move(o.path_)) { o.db_ = nullptr; }
Db& Db::operator=(Db&& o) noexcept {
  if (this != &o) {
    if (db_) sqlite3_close_v2(db_);
    db_ = o.db_;
    path_ = std::move(o.path_);
    o.db_ = nullptr;
  }
  return *this;
}
Db::~Db() {
  if (db_) sqlite3_close_v2(db_);
}

Status Db::error(const std::string& what) const {
  int code = db_ ? sqlite3_extended_errcode(db_) : SQLITE_ERROR;
  int primary = code & 0xff;
  std::string msg = db_ ? sqlite3_errmsg(db_) : "no database";
  // The OS's reason (ENOSPC, EFBIG, EROFS, EACCES…) is what tells the user what to fix; SQLite
  // records it for these three codes only (for others the value may be stale).
  int sys = db_ && (primary == SQLITE_IOERR || primary == SQLITE_CANTOPEN || primary == SQLITE_FULL)
                ? sqlite3_system_errno(db_)
                : 0;
  if (sys != 0 && msg.find(std::strerror(sys)) == std::string::npos)
    msg += std::string(" (") + std::strerror(sys) + ")";
  Code c = primary == SQLITE_CORRUPT || primary == SQLITE_NOTADB ? Code::kCorrupt
           : primary == SQLITE_BUSY || primary == SQLITE_LOCKED ? Code::kBusy
                                                                : Code::kIo;
  return Status(c, "index '" + path_.string() + "': " + what + ": " + msg);
}

Status Db::exec(const std::string& sql) {
  char* err = nullptr;
  int rc = sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &err);
  if (err) sqlite3_free(err);
  if (rc != SQLITE_OK) return error("exec");
  return Status::ok();
}

Result<Stmt> Db::prepare(const std::string& sql) {
  Stmt s;
  s.db_ = this;
  if (sqlite3_prepare_v2(db_, sql.c_str(), -1, &s.st_, nullptr) != SQLITE_OK) return error("prepare");
  return s;
}

std::int64_t Db::last_insert_rowid() const { return sqlite3_last_insert_rowid(db_); }

Stmt::Stmt(Stmt&& o) noexcept : st_(o.st_), db_(o.db_) { o.st_ = nullptr; }
Stmt& Stmt::operator=(Stmt&& o) noexcept {
  if (this != &o) {
    if (st_) sqlite3_finalize(st_);
    st_ = o.st_;
    db_ = o.db_;
    o.st_ = nullptr;
  }
  return *this;
}
Stmt::~Stmt() {
  if (st_) sqlite3_finalize(st_);
}

Stmt& Stmt::bind(int i, const std::string& v) {
  sqlite3_bind_text(st_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
  return *this;
}
Stmt& Stmt::bind(int i, std::int64_t v) {
  sqlite3_bind_int64(st_, i, v);
  return *this;
}
Stmt& Stmt::bind(int i, double v) {
  sqlite3_bind_double(st_, i, v);
  return *this;
}
Stmt& Stmt::bind_null(int i) {
  sqlite3_bind_null(st_, i);
  return *this;
}

Result<bool> Stmt::step() {
  int rc = sqlite3_step(st_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  return db_->error("step");
}

Status Stmt::run() {
  for (;;) {
    QB_ASSIGN_OR_RETURN(bool row, step());
    if (!row) break;
  }
  reset();
  return Status::ok();
}

void Stmt::reset() {
  sqlite3_reset(st_);
  sqlite3_clear_bindings(st_);
}

std::string Stmt::text(int col) const {
  const unsigned char* p = sqlite3_column_text(st_, col);
  int n = sqlite3_column_bytes(st_, col);
  return p ? std::string(reinterpret_cast<const char*>(p), static_cast<std::size_t>(n)) : std::string();
}
std::int64_t Stmt::int64(int col) const { return sqlite3_column_int64(st_, col); }
double Stmt::real(int col) const { return sqlite3_column_double(st_, col); }
bool Stmt::is_null(int col) const { return sqlite3_column_type(st_, col) == SQLITE_NULL; }

}  // namespace qb::store
