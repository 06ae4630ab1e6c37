// A thin RAII wrapper over the SQLite C API: Db (a connection) and Stmt (a prepared statement
// with typed binds and column reads). Errors become qb::Status naming the database file, and
// their code says what went wrong, because callers act on it: only Code::kCorrupt
// (SQLITE_CORRUPT, SQLITE_NOTADB) means the file is damaged; a full disk, a read-only file
// system, missing permissions or an I/O error are Code::kIo (the file is fine, the machine is
// not) and SQLITE_BUSY/LOCKED is Code::kBusy. The OS error is appended when there is one.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>

#include "util/status.h"

struct sqlite3;
struct sqlite3_stmt;

namespace qb::store {

class Stmt;

enum class DbAccess {
  kCreate,     // read-write, creating the file when absent
  kReadWrite,  // read-write; the file must exist
  kReadOnly,   // read-only (SQLite still needs the WAL's -shm file to exist or be creatable)
  kImmutable,  // read-only, no locks, WAL ignored: for a database on a read-only medium
};

class Db {
 public:
  static Result<Db> open(const std::filesystem::path& path, DbAccess access = DbAccess::kCreate);
  static Result<Db> open_in_memory();
  Db() = default;
  Db(Db&& o) noexcept;
  Db& operator=(Db&& o) noexcept;
  Db(const Db&) = delete;
  Db& operator=(const Db&) = delete;
  ~Db();

  Status exec(const std::string& sql);
  Result<Stmt> prepare(const std::string& sql);
  std::int64_t last_insert_rowid() const;
  const std::filesystem::path& path() const { return path_; }
  Status error(const std::string& what) const;  // Status with sqlite3_errmsg
  // Copies this whole database into `dest` (SQLite's online backup).
  Status copy_into(Db& dest) const;

 private:
  sqlite3* db_ = nullptr;
  std::filesystem::path path_;
};

class Stmt {
 public:
  Stmt() = default;
  Stmt(Stmt&& o) noexcept;
  Stmt& operator=(Stmt&& o) noexcept;
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;
  ~Stmt();

  Stmt& bind(int i, const std::string& v);
  Stmt& bind(int i, std::int64_t v);
  Stmt& bind(int i, double v);
  Stmt& bind_null(int i);
  // Returns true when a row is available, false when done.
  Result<bool> step();
  Status run();  // step() until done
  void reset();

  std::string text(int col) const;
  std::int64_t int64(int col) const;
  double real(int col) const;
  bool is_null(int col) const;

 private:
  friend class Db;
  sqlite3_stmt* st_ = nullptr;
  const Db* db_ = nullptr;
};

}  // namespace qb::store
