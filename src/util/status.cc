#include "util/status.h"

#include <cerrno>
#include <cstring>

namespace qb {

const char* code_name(Code code) {
  switch (code) {
    case Code::kOk: return "ok";
    case Code::kInvalidArgument: return "invalid argument";
    case Code::kNotFound: return "not found";
    case Code::kIo: return "I/O error";
    case Code::kCorrupt: return "corrupt";
    case Code::kUnavailable: return "unavailable";
    case Code::kBusy: return "busy";
    case Code::kCancelled: return "cancelled";
    case Code::kFailedCheck: return "check failed";
    case Code::kInternal: return "internal error";
  }
  return "unknown";
}

Status Status::with_context(const std::string& context) const& {
  if (is_ok()) return *this;
  return Status(code_, context + ": " + message_);
}

Status Status::with_context(const std::string& context) && {
  if (is_ok()) return std::move(*this);
  message_ = context + ": " + message_;
  return std::move(*this);
}

std::string Status::to_string() const {
  if (is_ok()) return "ok";
  return std::string(code_name(code_)) + ": " + message_;
}

Status errno_error(const std::string& what) {
  int e = errno;
  return Status(Code::kIo, what + ": " + std::strerror(e));
}

}  // namespace qb
