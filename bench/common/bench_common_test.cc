// Tests of the benchmarks' shared command line (bench_cli.h) and device helpers (bench_device.h):
// what parses, what is refused and with which message, and the exit status parse() hands back.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "bench/common/bench_cli.h"
#include "bench/common/bench_device.h"

namespace qb::bench {
namespace {

// What parse() returned and printed on stderr.
struct Parsed {
  std::optional<int> rc;
  std::string err;
};

// A bench's app, set up the way every bench sets it up.
struct Bench {
  App app{"test bench", "bench_x"};

  // parse() on `args` (without the program name).
  Parsed run(std::vector<std::string> args) {
    std::vector<char*> argv{const_cast<char*>("bench_x")};
    for (auto& a : args) argv.push_back(a.data());
    testing::internal::CaptureStderr();
    testing::internal::CaptureStdout();
    Parsed p;
    p.rc = parse(app, static_cast<int>(argv.size()), argv.data());
    p.err = testing::internal::GetCapturedStderr();
    (void)testing::internal::GetCapturedStdout();
    return p;
  }
};

// Options with validators, as bench_quant's --repeat and --method.
struct Counts : Bench {
  std::int64_t repeat = 2;
  std::string method = "rtn";
  Counts() {
    app.add_option("--repeat", repeat, "timed runs")->check(at_least(1));
    app.add_option("--method", method, "methods")->check(list_of({"rtn", "static", "gptq"}));
  }
};

// Modes as subcommands under a top-level --device, as bench_transforms.
struct Modes : Bench {
  std::string device = "cpu";
  std::int64_t tokens = 1;
  CLI::App* r4 = nullptr;
  Modes() {
    app.require_subcommand(1);
    add_device_option(app, device);
    r4 = app.add_subcommand("r4", "a mode");
    r4->add_option("--tokens", tokens, "tokens")->check(at_least(1));
    app.add_subcommand("fwht", "another mode");
  }
};

// --device and --dtype, as bench_model.
struct Devices : Bench {
  std::string device = "cpu";
  std::string dtype = "bf16";
  Devices() {
    add_device_option(app, device);
    app.add_option("--dtype", dtype, "dtype")->check(dtype_validator());
  }
};

bool has(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

// parse() refuses `args`: exit status 2, stderr starting "bench_x: error: " + `message`.
testing::AssertionResult refused(Bench& b, std::vector<std::string> args, const std::string& message) {
  const Parsed p = b.run(std::move(args));
  if (p.rc != kExitUsage) return testing::AssertionFailure() << "exit status " << p.rc.value_or(-1) << ", " << p.err;
  if (p.err.rfind("bench_x: error: " + message, 0) != 0) return testing::AssertionFailure() << "stderr: " << p.err;
  return testing::AssertionSuccess();
}

TEST(BenchCli, GoodCommandLineGoesOn) {
  Counts c;
  const Parsed p = c.run({"--repeat", "5", "--method", "gptq,rtn"});
  EXPECT_FALSE(p.rc.has_value()) << p.err;
  EXPECT_EQ(c.repeat, 5);
  EXPECT_EQ(c.method, "gptq,rtn");
}

TEST(BenchCli, DefaultsStayWhenNotGiven) {
  Counts c;
  EXPECT_FALSE(c.run({}).rc.has_value());
  EXPECT_EQ(c.repeat, 2);
  EXPECT_EQ(c.method, "rtn");
}

TEST(BenchCli, HelpExitsZeroAndShowsDescriptionsAndDefaults) {
  Counts c;
  EXPECT_EQ(c.run({"--help"}).rc, 0);
  const std::string help = c.app.help();
  EXPECT_TRUE(has(help, "timed runs")) << help;
  EXPECT_TRUE(has(help, "POSITIVE=2")) << help;  // --repeat's check and default
}

TEST(BenchCli, UnknownOptionIsAUsageErrorNamedForTheProgram) {
  Counts c;
  EXPECT_TRUE(refused(c, {"--repaet", "3"}, "not expected here: --repaet 3\n"));
}

TEST(BenchCli, AtLeastRefusesSmallerNumbers) {
  Counts c;
  EXPECT_TRUE(refused(c, {"--repeat", "0"}, "--repeat: 0 is less than 1\n"));
}

TEST(BenchCli, AtLeastRefusesWhatIsNotAWholeNumber) {
  for (const std::string bad : {"3x", "1.5", "", "many"}) {
    Counts c;
    EXPECT_TRUE(refused(c, {"--repeat", bad}, "--repeat: '" + bad + "' is not a whole number\n"));
  }
}

TEST(BenchCli, ListOfRefusesAnUnknownOrEmptyItem) {
  const std::vector<std::pair<std::string, std::string>> bad = {{"rtn,awq", "awq"}, {"rtn,", ""}, {"", ""}};
  for (const auto& [list, item] : bad) {
    Counts c;
    EXPECT_TRUE(refused(c, {"--method", list},
                        "--method: '" + item + "' in '" + list + "' is not one of rtn,static,gptq\n"));
  }
}

TEST(BenchCli, ModeTakesTheTopLevelOptionsAfterItsName) {
  Modes m;
  const Parsed p = m.run({"r4", "--tokens", "32", "--device", "cpu"});
  EXPECT_FALSE(p.rc.has_value()) << p.err;
  EXPECT_TRUE(m.r4->parsed());
  EXPECT_EQ(m.tokens, 32);
}

TEST(BenchCli, ModeErrorsAreNamedForTheProgram) {
  Modes m;
  EXPECT_TRUE(refused(m, {"r4", "--tokens", "-3"}, "--tokens: -3 is less than 1\n"));
}

TEST(BenchCli, OptionOfAnotherModeIsNamedAsTyped) {
  Modes m;  // CLI11 2.1 itself says "fp32 --dtype"
  EXPECT_TRUE(refused(m, {"r4", "--tokens", "2", "--dtype", "fp32"}, "not expected here: --dtype fp32\n"));
}

TEST(BenchCli, MissingOrUnknownModeNamesTheModes) {
  for (std::vector<std::string> args : {std::vector<std::string>{}, {"fast"}, {"--device", "cpu"}}) {
    Modes m;
    EXPECT_TRUE(refused(m, args, "a mode is required: r4, fwht\n"));
  }
}

TEST(BenchDevice, DeviceOptionRefusesAnUnknownDevice) {
  Devices d;
  EXPECT_TRUE(refused(d, {"--device", "tpu"}, "--device: unknown device 'tpu' (cpu, cuda, cuda:N)\n"));
}

TEST(BenchDevice, DeviceOptionRefusesACudaDeviceThatIsNotThere) {
  Devices d;  // "this build or machine has no CUDA" or "only N CUDA device(s)"
  EXPECT_TRUE(refused(d, {"--device", "cuda:999"}, "--device: device 'cuda:999': "));
}

TEST(BenchDevice, DeviceOptionKeepsItsDefaultAndTakesCpu) {
  Devices d;
  EXPECT_FALSE(d.run({}).rc.has_value());
  EXPECT_EQ(d.device, "cpu");
  d.device = "cuda";
  EXPECT_FALSE(d.run({"--device", "cpu"}).rc.has_value());
  EXPECT_EQ(d.device, "cpu");
}

TEST(BenchDevice, DtypeTakesTheModelSpellings) {
  for (const char* good : {"bf16", "bfloat16", "fp32", "float32", "fp16", "float16", "auto"}) {
    Devices d;
    EXPECT_FALSE(d.run({"--dtype", good}).rc.has_value()) << good;
    EXPECT_EQ(d.dtype, good);
  }
}

TEST(BenchDevice, DtypeRefusesOthers) {
  Devices d;
  EXPECT_TRUE(refused(d, {"--dtype", "int4"}, "--dtype: unsupported dtype 'int4' (float32, bfloat16, float16)\n"));
}

TEST(BenchDevice, TimeItWarmsUpOnceThenTimesRepeatCalls) {
  int calls = 0;
  const double s = time_it(at::Device(at::kCPU), 5, [&] { ++calls; });
  EXPECT_EQ(calls, 6);
  EXPECT_GE(s, 0.0);
}

TEST(BenchDevice, TimedCallsOnce) {
  int calls = 0;
  EXPECT_GE(timed(at::Device(at::kCPU), [&] { ++calls; }), 0.0);
  EXPECT_EQ(calls, 1);
}

TEST(BenchDevice, GpuPeakIsZeroOnTheCpuAndRssIsNot) {
  const at::Device cpu(at::kCPU);
  reset_peak(cpu);
  EXPECT_EQ(peak_gpu_gib(cpu), 0.0);
  EXPECT_GT(rss_gib(), 0.0);
}

}  // namespace
}  // namespace qb::bench
