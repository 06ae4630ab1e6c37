// Progress of a long step (layers, samples, batches): logged with rate and ETA at most every
// `interval` seconds and at the end, through spdlog; at a terminal, also one updating line —
// on stderr when it is one, or on the controlling terminal when `qbuild` (whose output is a
// terminal) runs the step under Ninja, which captures the step's own output.
//
//   qb::Progress p("quantize layers", n_layers);
//   for (...) { ...; p.advance(); }
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

namespace qb {

class Progress {
 public:
  Progress(std::string what, std::int64_t total, double interval_s = 5.0);
  ~Progress();
  void advance(std::int64_t n = 1);
  std::int64_t done() const { return done_; }
  // "what: done/total (rate/s, elapsed Xs, eta Ys)" — what the log gets.
  std::string line(bool final) const;

 private:
  void report(bool final);
  std::string what_;
  std::int64_t total_;
  std::int64_t done_ = 0;
  double interval_s_;
  int tty_fd_;  // the updating line's destination, or -1
  std::chrono::steady_clock::time_point start_, last_;
};

}  // namespace qb
