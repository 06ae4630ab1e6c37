#include "util/progress.h"

#include <spdlog/spdlog.h>
#include <unistd.h>

#include <cstdio>

namespace qb {

Progress::Progress(std::string what, std::int64_t total, double interval_s)
    : what_(std::move(what)), total_(total), interval_s_(interval_s), tty_(::isatty(2) != 0) {
  start_ = last_ = std::chrono::steady_clock::now();
}

Progress::~Progress() {
  if (done_ > 0 && done_ < total_) report(true);
}

void Progress::advance(std::int64_t n) {
  done_ += n;
  auto now = std::chrono::steady_clock::now();
  bool final = done_ >= total_;
  if (final || std::chrono::duration<double>(now - last_).count() >= interval_s_) {
    last_ = now;
    report(final);
  }
}

void Progress::report(bool final) {
  double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  double rate = elapsed > 0 ? static_cast<double>(done_) / elapsed : 0.0;
  double eta = rate > 0 ? static_cast<double>(total_ - done_) / rate : 0.0;
  spdlog::info("{}: {}/{} ({:.1f}/s, elapsed {:.1f}s, eta {:.1f}s)", what_, done_, total_, rate,
               elapsed, final ? 0.0 : eta);
  if (tty_) {
    std::fprintf(stderr, "\r%s: %lld/%lld eta %.0fs%s", what_.c_str(),
                 static_cast<long long>(done_), static_cast<long long>(total_), final ? 0.0 : eta,
                 final ? "\n" : "");
    std::fflush(stderr);
  }
}

}  // namespace qb
