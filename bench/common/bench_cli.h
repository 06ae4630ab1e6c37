// The command line every benchmark under bench/ shares: CLI11 set up one way (defaults shown in
// --help, errors as "bench_x: error: ..." with exit status 2, like qbuild's own command line) and
// the validators the benches have in common. Torch-free, so bench_tokenizer can use it in a build
// without libtorch; the --device / --dtype options and the timing and memory helpers are in
// bench_device.h.
//
// A bench builds a qb::bench::App, adds its options (each with a description) and calls parse():
//
//   qb::bench::App app{"what it measures", "bench_x"};
//   app.add_option("--repeat", a.repeat, "timed runs")->check(qb::bench::at_least(1));
//   if (auto rc = qb::bench::parse(app, argc, argv)) return *rc;
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <CLI/CLI.hpp>

namespace qb::bench {

// Exit status of a bad command line (the same as qbuild's kExitUsage).
inline constexpr int kExitUsage = 2;

// A CLI::App set up the way every bench wants: its options show their default in --help; its
// subcommands (a bench's modes) inherit that and let the top-level options (--device, ...)
// follow the mode's name; errors read "NAME: error: ..." (a missing mode names the modes).
class App : public CLI::App {
 public:
  App(std::string description, std::string name);
};

// Parses argv. nullopt: go on. Otherwise the exit status to return: 0 after --help (printed on
// stdout), kExitUsage after a bad command line (printed on stderr as "NAME: error: ...").
std::optional<int> parse(CLI::App& app, int argc, char** argv);

// Whole numbers >= `min`: "--repeat: 0 is less than 1". --help shows it as POSITIVE (min 1),
// NONNEGATIVE (min 0) or >=N.
CLI::Validator at_least(std::int64_t min);

// A comma-separated list (no empty items) of some of `names`, e.g. "rtn,gptq".
CLI::Validator list_of(std::vector<std::string> names);

// A validator from one of qbuild's parse functions (text -> Result<T>): the value is good when
// `parse` returns ok, else CLI11 reports the Status's message, e.g. `checked_by(shape_config,
// "qwen3-8b|tiny|demo")`. `description` is the value's spelling in --help.
template <typename Parse>
CLI::Validator checked_by(Parse parse, std::string description) {
  return CLI::Validator(
      [parse](std::string& s) -> std::string {
        auto r = parse(s);
        return r.is_ok() ? std::string() : r.status().message();
      },
      std::move(description));
}

}  // namespace qb::bench
