// A thin RAII wrapper over the SQLite C API: Db (a connection) and Stmt (a prepared statement
// with typed binds and column reads). Errors become qb::Status naming the database file.
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

class Db {
 public:
  static Result<Db> open(const std::filesystem::path& path);
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
