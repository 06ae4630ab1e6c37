// Status and Result<T>: errors are values inside qbuild's libraries.
//
// A Status is ok or carries a code and a message. Messages gain context as they travel up
// ("loading checkpoint 'x': shard 3: offset out of file"), via Status::with_context() or the
// QB_TRY_CTX macro. Only the CLI prints errors and chooses an exit code; libraries never exit.
//
//   Result<int> parse(std::string_view s);
//   Status f() {
//     QB_ASSIGN_OR_RETURN(int n, parse("12"));
//     QB_TRY(g(n));
//     return Status::ok();
//   }
#pragma once

#include <cassert>
#include <optional>
#include <string>
#include <utility>
#include <variant>

namespace qb {

enum class Code {
  kOk = 0,
  kInvalidArgument,  // bad user input: a config, a flag, a file's content
  kNotFound,         // a file, key, tensor or artifact that is not there
  kIo,               // the OS refused: open, read, write, rename
  kCorrupt,          // on-disk data fails its own checks (magic, bounds, checksum)
  kUnavailable,      // a step kind not built in, a device not present
  kBusy,             // a lock is held by someone else
  kCancelled,        // interrupted (SIGINT / SIGTERM)
  kFailedCheck,      // a step ran but its own verification failed (e.g. equivalence check)
  kInternal,         // a bug in qbuild
};

const char* code_name(Code code);

class [[nodiscard]] Status {
 public:
  Status() = default;  // ok
  Status(Code code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status ok() { return Status(); }

  bool is_ok() const { return code_ == Code::kOk; }
  explicit operator bool() const { return is_ok(); }
  Code code() const { return code_; }
  const std::string& message() const { return message_; }

  // "context: message". Returns *this unchanged when ok.
  Status with_context(const std::string& context) const&;
  Status with_context(const std::string& context) &&;

  std::string to_string() const;  // "ok" or "<code>: <message>"

 private:
  Code code_ = Code::kOk;
  std::string message_;
};

inline Status invalid_argument(std::string m) { return {Code::kInvalidArgument, std::move(m)}; }
inline Status not_found(std::string m) { return {Code::kNotFound, std::move(m)}; }
inline Status io_error(std::string m) { return {Code::kIo, std::move(m)}; }
inline Status corrupt(std::string m) { return {Code::kCorrupt, std::move(m)}; }
inline Status unavailable(std::string m) { return {Code::kUnavailable, std::move(m)}; }
inline Status internal_error(std::string m) { return {Code::kInternal, std::move(m)}; }
// An io_error whose message ends with strerror(errno): "open 'x': No such file or directory".
Status errno_error(const std::string& what);

// A value or a (non-ok) Status.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}  // NOLINT: implicit by design
  Result(Status status) : v_(std::move(status)) {  // NOLINT
    assert(!std::get<Status>(v_).is_ok() && "Result constructed from an ok Status");
  }

  bool is_ok() const { return v_.index() == 0; }
  explicit operator bool() const { return is_ok(); }

  const Status& status() const {
    static const Status kOk;
    return is_ok() ? kOk : std::get<Status>(v_);
  }
  T& value() & { return std::get<T>(v_); }
  const T& value() const& { return std::get<T>(v_); }
  T&& value() && { return std::get<T>(std::move(v_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  T value_or(T fallback) const& { return is_ok() ? value() : std::move(fallback); }

 private:
  std::variant<T, Status> v_;
};

namespace detail {
inline Status to_status(Status s) { return s; }
template <typename T>
Status to_status(const Result<T>& r) { return r.status(); }
}  // namespace detail

}  // namespace qb

#define QB_CONCAT_INNER_(a, b) a##b
#define QB_CONCAT_(a, b) QB_CONCAT_INNER_(a, b)

// Returns the Status from the enclosing function when `expr` (Status or Result) is an error.
#define QB_TRY(expr)                                                   \
  do {                                                                 \
    ::qb::Status qb_try_status_ = ::qb::detail::to_status((expr));     \
    if (!qb_try_status_.is_ok()) return qb_try_status_;                \
  } while (0)

// Same, prefixing `context` ("loading 'x'") to the message.
#define QB_TRY_CTX(expr, context)                                       \
  do {                                                                  \
    ::qb::Status qb_try_status_ = ::qb::detail::to_status((expr));      \
    if (!qb_try_status_.is_ok()) return qb_try_status_.with_context(context); \
  } while (0)

// `QB_ASSIGN_OR_RETURN(auto x, make_x());` — declares or assigns, or returns the error.
#define QB_ASSIGN_OR_RETURN(lhs, rexpr) \
  QB_ASSIGN_OR_RETURN_IMPL_(QB_CONCAT_(qb_result_, __LINE__), lhs, rexpr, )
#define QB_ASSIGN_OR_RETURN_CTX(lhs, rexpr, context) \
  QB_ASSIGN_OR_RETURN_IMPL_(QB_CONCAT_(qb_result_, __LINE__), lhs, rexpr, .with_context(context))
#define QB_ASSIGN_OR_RETURN_IMPL_(tmp, lhs, rexpr, ctx) \
  auto tmp = (rexpr);                                   \
  if (!tmp.is_ok()) return tmp.status() ctx;            \
  lhs = std::move(tmp).value()
