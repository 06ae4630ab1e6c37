#include "bench/common/bench_cli.h"

#include <algorithm>
#include <charconv>

namespace qb::bench {

App::App(std::string description, std::string name) : CLI::App(std::move(description), std::move(name)) {
  option_defaults()->always_capture_default();
  fallthrough();  // inherited by subcommands: `bench_quant layer --device cuda`
  failure_message([](const CLI::App* a, const CLI::Error& e) {
    // Errors of a subcommand's options are reported by the top-level app, under its name.
    const CLI::App* top = a;
    while (top->get_parent() != nullptr) top = top->get_parent();
    std::string what = e.what();
    // A missing or misspelt mode: CLI11 says only "A subcommand is required"; name the modes.
    const auto modes = top->get_subcommands([](const CLI::App*) { return true; });
    if (e.get_name() == "RequiredError" && top->get_subcommands().empty() && !modes.empty()) {
      what = "a mode is required:";
      for (const CLI::App* m : modes) what += " " + m->get_name() + (m == modes.back() ? "" : ",");
    }
    return top->get_name() + ": error: " + what + "\nRun with --help for more information.\n";
  });
}

std::optional<int> parse(CLI::App& app, int argc, char** argv) {
  try {
    app.parse(argc, argv);
  } catch (const CLI::ExtrasError&) {
    // CLI11 2.1 names the unexpected words backwards ("fp32 --dtype"): name them as typed.
    std::string words;
    for (const std::string& w : app.remaining(true)) words += (words.empty() ? "" : " ") + w;
    app.exit(CLI::ExtrasError("not expected here: " + words, CLI::ExitCodes::ExtrasError));
    return kExitUsage;
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : kExitUsage;
  }
  return std::nullopt;
}

CLI::Validator at_least(std::int64_t min) {
  return CLI::Validator(
      [min](std::string& s) -> std::string {
        std::int64_t n = 0;
        const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), n);
        if (ec != std::errc() || end != s.data() + s.size()) return "'" + s + "' is not a whole number";
        if (n < min) return s + " is less than " + std::to_string(min);
        return "";
      },
      min == 0 ? "NONNEGATIVE" : min == 1 ? "POSITIVE" : ">=" + std::to_string(min));  // as CLI11 spells them
}

CLI::Validator list_of(std::vector<std::string> names) {
  std::string all;
  for (const auto& n : names) all += (all.empty() ? "" : ",") + n;
  return CLI::Validator(
      [names, all](std::string& s) -> std::string {
        for (std::size_t b = 0, e; b <= s.size(); b = e + 1) {
          e = s.find(',', b);
          if (e == std::string::npos) e = s.size();
          const std::string item = s.substr(b, e - b);
          if (std::find(names.begin(), names.end(), item) == names.end())
            return "'" + item + "' in '" + s + "' is not one of " + all;
        }
        return "";
      },
      "{" + all + "},...");
}

}  // namespace qb::bench
