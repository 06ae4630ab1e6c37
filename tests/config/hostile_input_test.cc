// Hostile inputs found by issue 15's testing, each rejected (or warned about) at config time with
// file:line — before any step runs, and without hanging, crashing or reading forever.
#include <sys/stat.h>

#include <gtest/gtest.h>

#include <filesystem>

#include "test_project.h"

namespace qb::config::testing {
namespace {

namespace stdfs = std::filesystem;

class HostileInput : public ProjectTest {
 protected:
  std::string check_quant(const std::string& calibration) {
    write("pipline/2-quant/q.yaml",
          "name: q\noutput_suffix: -q\nquant_modifiers:\n  GPTQModifier: {scheme: W8A8}\ncalibration: " + calibration +
              "\n");
    return diagnostics();
  }
  std::string check_eval(const std::string& dataset, const std::string& extra = "") {
    write("pipline/3-eval/e.yaml",
          "dataset_name: e\ndatasets:\n  - " + dataset + "\nsampling: {total_samples: 5}\n" + extra);
    return diagnostics();
  }
};

// Finding 7: invalid UTF-8 in a name passed --dry-run and crashed the build's JSON.
TEST_F(HostileInput, InvalidUtf8IsRejectedWithItsPlace) {
  write("pipline/2-quant/q.yaml", "name: q\xff\noutput_suffix: -q\nquant_modifiers:\n  QuantizationModifier: {scheme: W8A8}\n");
  EXPECT_EQ(diagnostics(), "pipline/2-quant/q.yaml:1:8: error: invalid UTF-8 (byte 0xFF): config files must be UTF-8\n");
  // An escape that decodes to a lone surrogate is not text either: rejected by the YAML parser.
  write("pipline/2-quant/q.yaml", "name: \"q\\ud800\"\noutput_suffix: -q\nquant_modifiers:\n  QuantizationModifier: {scheme: W8A8}\n");
  EXPECT_NE(diagnostics().find("pipline/2-quant/q.yaml:1:15: error: malformed YAML: invalid unicode: 55296"),
            std::string::npos)
      << diagnostics();
}

// Finding 10: a name over 255 bytes passed --dry-run and failed when the step opened its log.
TEST_F(HostileInput, OverlongNamesAndSuffixes) {
  const std::string longname(300, 'n');
  write("pipline/2-quant/q.yaml", "name: " + longname + "\noutput_suffix: -q\nquant_modifiers:\n  QuantizationModifier: {scheme: W8A8}\n");
  EXPECT_NE(diagnostics().find("q.yaml:1:7: error: name is 300 bytes long; at most 128"), std::string::npos) << diagnostics();
  write("pipline/2-quant/q.yaml", "name: q\noutput_suffix: -" + longname + "\nquant_modifiers:\n  QuantizationModifier: {scheme: W8A8}\n");
  EXPECT_NE(diagnostics().find("q.yaml:2:16: error: output_suffix is 301 bytes long; at most 128"), std::string::npos)
      << diagnostics();
}

// Finding 9: /dev/zero hung even --dry-run; a FIFO blocked forever; / and /proc/self aborted.
TEST_F(HostileInput, CalibrationSourcesMustBeRegularFiles) {
  ASSERT_EQ(::mkfifo((root() / "data/fifo.txt").c_str(), 0644), 0);
  EXPECT_NE(check_quant("{source: data/fifo.txt}").find("calibration source 'data/fifo.txt' is a FIFO, not a regular file"),
            std::string::npos)
      << diagnostics();
  EXPECT_NE(check_quant("{source: /dev/zero}").find("calibration source '/dev/zero' is a character device, not a regular file"),
            std::string::npos)
      << diagnostics();
}

TEST_F(HostileInput, DatasetFoldersMustHoldOnlyRegularFiles) {
  EXPECT_NE(check_eval("{name: gsm8k, dataset_dir: /proc/self}").find("dataset directory '/proc/self':"), std::string::npos)
      << diagnostics();
  ASSERT_EQ(::mkfifo((root() / "data/datasets/gsm8k/test.jsonl").c_str(), 0644), 0);
  EXPECT_NE(check_eval("{name: gsm8k}").find("'data/datasets/gsm8k/test.jsonl' is a FIFO, not a regular file"),
            std::string::npos)
      << diagnostics();
}

TEST_F(HostileInput, TheRootIsNotADatasetFolder) {
  const std::string d = check_eval("{name: gsm8k, dataset_dir: /}");
  EXPECT_NE(d.find("error: dataset directory '/'"), std::string::npos) << d;
}

// Finding 8: a symlink loop in a dataset or model folder aborted every command.
TEST_F(HostileInput, SymlinkLoopsAreErrors) {
  stdfs::create_symlink("loop", root() / "data/datasets/gsm8k/loop");
  EXPECT_NE(check_eval("{name: gsm8k}").find("'data/datasets/gsm8k/loop' is a symlink loop"), std::string::npos)
      << diagnostics();
  stdfs::create_symlink("b", root() / "data/models/m/a");
  stdfs::create_symlink("a", root() / "data/models/m/b");
  write("pipline/1-trans/t.yaml", "name: o\ninput_model: data/models/m\noutput_suffix: null\n");
  EXPECT_NE(diagnostics().find("is a symlink loop"), std::string::npos) << diagnostics();
}

// Finding 17: a model folder name with a newline passed --dry-run.
TEST_F(HostileInput, ControlCharactersInPaths) {
  mkdir("data/models/a\nb");
  write("data/models/a\nb/config.json", "{}");
  write("pipline/1-trans/t.yaml", "name: o\ninput_model: \"data/models/a\\nb\"\noutput_suffix: null\n");
  EXPECT_NE(diagnostics().find("input model directory 'data/models/a\\x0ab' contains a control character"),
            std::string::npos)
      << diagnostics();
}

// Finding 12: num_samples 1e8 and max_new_tokens 1e9 had no bound.
TEST_F(HostileInput, HugeNumbersAreBounded) {
  EXPECT_NE(check_quant("{source: data/calib.txt, num_samples: 100000000}")
                .find("error: 'num_samples' must be in [1, 1000000], got 100000000"),
            std::string::npos)
      << diagnostics();
  EXPECT_NE(check_eval("{name: gsm8k}", "generation: {max_new_tokens: 1000000000}\n")
                .find("e.yaml:5:30: error: 'max_new_tokens' must be in [1, 131072], got 1000000000"),
            std::string::npos)
      << diagnostics();
}

TEST_F(HostileInput, CalibrationSourcesMustBeLargeEnough) {
  write("data/small.txt", "twelve bytes");
  EXPECT_NE(check_quant("{source: data/small.txt}")
                .find("calibration source 'data/small.txt' has 12 bytes: fewer than seq_len 2048 tokens can come from it"),
            std::string::npos)
      << diagnostics();
  write("data/few.jsonl", "{\"text\": \"a\"}\n\n{\"text\": \"b\"}\n");
  EXPECT_NE(check_quant("{source: data/few.jsonl, num_samples: 3}")
                .find("calibration source 'data/few.jsonl' has 2 non-empty lines (documents), num_samples is 3"),
            std::string::npos)
      << diagnostics();
}

// Finding 13: work_dir wrote outside the project, or into a published cache object.
TEST_F(HostileInput, WorkDirStaysInsideTheProject) {
  for (const auto& [dir, why] : std::vector<std::pair<std::string, std::string>>{
           {"/tmp/x", "it is an absolute path"},
           {"../x", "it leaves the project ('..')"},
           {"outputs/../../x", "it leaves the project ('..')"},
           {"data/models/qwen3-demo-rtn", "it is inside 'data/', which qbuild manages"},
           {"cache/x", "it is inside 'cache/', which qbuild manages"},
           {".", "it is the project root"}}) {
    const std::string d = check_eval("{name: gsm8k}", "output: {work_dir: '" + dir + "'}\n");
    EXPECT_NE(d.find("error: unsafe work_dir '" + dir + "': " + why), std::string::npos) << dir << "\n" << d;
  }
  stdfs::create_directory_symlink("/tmp", root() / "out");
  EXPECT_NE(check_eval("{name: gsm8k}", "output: {work_dir: out/e}\n").find("it goes through the symlink 'out'"),
            std::string::npos)
      << diagnostics();
  EXPECT_EQ(check_eval("{name: gsm8k}", "output: {work_dir: outputs/e}\n"), "");
}

// Finding 18: config files that are folders, FIFOs or broken symlinks were silently ignored.
TEST_F(HostileInput, ConfigEntriesThatAreNotFilesWarn) {
  mkdir("pipline/2-quant/folder.yaml");
  ASSERT_EQ(::mkfifo((root() / "pipline/2-quant/fifo.yaml").c_str(), 0644), 0);
  stdfs::create_symlink("missing.yaml", root() / "pipline/2-quant/dangling.yaml");
  stdfs::create_symlink("loop.yaml", root() / "pipline/2-quant/loop.yaml");
  const std::string d = diagnostics();
  EXPECT_NE(d.find("pipline/2-quant/folder.yaml: warning: not loaded: it is a folder"), std::string::npos) << d;
  EXPECT_NE(d.find("pipline/2-quant/fifo.yaml: warning: not loaded: it is a FIFO"), std::string::npos) << d;
  EXPECT_NE(d.find("pipline/2-quant/dangling.yaml: warning: not loaded: it is a dangling symlink"), std::string::npos) << d;
  EXPECT_NE(d.find("pipline/2-quant/loop.yaml: warning: not loaded: it is a symlink loop"), std::string::npos) << d;
}

// Finding 17 (and issue 14): what the step would reject fails at --dry-run.
TEST_F(HostileInput, InvalidIgnoreRegexAndNonLinearTargets) {
  write("pipline/2-quant/q.yaml",
        "name: q\noutput_suffix: -q\nquant_modifiers:\n  QuantizationModifier:\n    scheme: W8A8\n"
        "    ignore: [lm_head, 're:((']\n");
  EXPECT_NE(diagnostics().find("q.yaml:6:23: error: invalid regular expression 're:(('"), std::string::npos)
      << diagnostics();
  write("pipline/2-quant/q.yaml",
        "name: q\noutput_suffix: -q\nquant_modifiers:\n  QuantizationModifier:\n    scheme: W8A8\n"
        "    targets: [Embedding]\n");
  EXPECT_NE(diagnostics().find("q.yaml:6:15: error: target 'Embedding': qbuild quantizes Linear modules only"),
            std::string::npos)
      << diagnostics();
}

}  // namespace
}  // namespace qb::config::testing
