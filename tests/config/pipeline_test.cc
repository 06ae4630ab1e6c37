// load_pipeline(): file discovery, YAML-level errors, cross-file checks, error collection and
// ordering, and a fuzz test (random mutations never escape as exceptions).
#include <random>

#include <gtest/gtest.h>

#include "test_project.h"

namespace qb::config::testing {
namespace {

class PipelineTest : public ProjectTest {};

TEST_F(PipelineTest, LoadsOneConfigPerStage) {
  write("pipline/1-trans/original.yaml", kTransOriginal);
  write("pipline/1-trans/spin.yaml", kTransSpin);
  write("pipline/2-quant/rtn.yaml", kQuantRtnStatic);
  write("pipline/3-eval/mix.yaml", kEval);
  auto p = load();
  ASSERT_TRUE(p.is_ok()) << diags_.render();
  EXPECT_EQ(diags_.render(), "");
  ASSERT_EQ(p->trans.size(), 2u);
  EXPECT_EQ(p->trans[0].name, "original");  // sorted by file name
  EXPECT_EQ(p->trans[1].name, "spin");
  EXPECT_EQ(p->quant.size(), 1u);
  EXPECT_EQ(p->evals.size(), 1u);
}

TEST_F(PipelineTest, ExampleFoldersAndOtherFilesAreIgnored) {
  write("pipline/1-trans/example/broken.yaml", "name: [unclosed\n");
  write("pipline/2-quant/example/bad.yaml", "nonsense: 1\n");
  write("pipline/3-eval/README.md", "not a config\n");
  write("pipline/3-eval/notes.txt", "x: [\n");
  auto p = load();
  ASSERT_TRUE(p.is_ok()) << diags_.render();
  EXPECT_TRUE(p->trans.empty());
}

TEST_F(PipelineTest, YmlExtensionIsLoaded) {
  write("pipline/1-trans/o.yml", kTransOriginal);
  auto p = load();
  ASSERT_TRUE(p.is_ok()) << diags_.render();
  EXPECT_EQ(p->trans.size(), 1u);
}

TEST_F(PipelineTest, PipelineFolderIsAParameter) {
  write("pipline/qwen/1-trans/o.yaml", kTransOriginal);
  write("pipline/qwen/project.yaml", "resources: {devices: [0]}\n");
  auto p = load("pipline/qwen");
  ASSERT_TRUE(p.is_ok()) << diags_.render();
  EXPECT_EQ(p->trans.size(), 1u);
  EXPECT_EQ(p->trans[0].loc.file, "pipline/qwen/1-trans/o.yaml");
  EXPECT_EQ(p->project.device, "cuda");
  auto q = load();
  ASSERT_TRUE(q.is_ok());
  EXPECT_TRUE(q->trans.empty());  // pipline/qwen/ is not a stage folder of pipline/
}

TEST_F(PipelineTest, MissingPipelineFolder) {
  auto p = load("nowhere/");
  EXPECT_FALSE(p.is_ok());
  EXPECT_EQ(p.status().message(), "pipeline folder 'nowhere' does not exist");
  EXPECT_EQ(diags_.render(), "nowhere: error: pipeline folder does not exist\n");
}

TEST_F(PipelineTest, MalformedYaml) {
  write("pipline/2-quant/bad.yaml", "name: q\nquant_modifiers:\n  QuantizationModifier:\n"
                                    "    ignore: [lm_head\n    scheme: W8A8\n");
  auto p = load();
  EXPECT_FALSE(p.is_ok());
  EXPECT_EQ(p.status().message(), "1 error in pipeline configs");
  EXPECT_EQ(diags_.render(),
            "pipline/2-quant/bad.yaml:5:11: error: malformed YAML: end of sequence flow not "
            "found\n"
            "    5 |     scheme: W8A8\n"
            "      |           ^\n");
}

TEST_F(PipelineTest, MalformedYamlBadIndentation) {
  write("pipline/1-trans/bad.yaml", "name: o\n  input_model: x\n");
  EXPECT_EQ(diagnostics(),
            "pipline/1-trans/bad.yaml:2:14: error: malformed YAML: illegal map value\n"
            "    2 |   input_model: x\n"
            "      |              ^\n");
}

TEST_F(PipelineTest, SeveralDocumentsInOneFile) {
  write("pipline/1-trans/two.yaml", std::string(kTransOriginal) + "---\nname: b\n");
  EXPECT_EQ(diagnostics(),
            "pipline/1-trans/two.yaml:5:1: error: a config file holds one YAML document; found a "
            "second one\n"
            "    5 | name: b\n"
            "      | ^\n");
}

TEST_F(PipelineTest, AliasBombIsRefused) {
  std::string yaml = "a: &a [x, x, x, x, x, x, x, x, x, x]\n";
  for (char c = 'b'; c <= 'g'; ++c) {
    std::string prev(1, static_cast<char>(c - 1));
    yaml += std::string(1, c) + ": &" + c + " [*" + prev + ", *" + prev + ", *" + prev + ", *" +
            prev + ", *" + prev + ", *" + prev + ", *" + prev + ", *" + prev + ", *" + prev +
            ", *" + prev + "]\n";
  }
  write("pipline/1-trans/bomb.yaml", yaml);
  EXPECT_EQ(diagnostics(),
            "pipline/1-trans/bomb.yaml: error: YAML document too large (more than 100000 nodes "
            "once aliases are expanded)\n");
}

// An alias inside the node it names makes yaml-cpp return a cyclic graph; it used to overflow
// the stack (exit 139) on every command.
TEST_F(PipelineTest, SelfReferencingAliasIsAnErrorNotACrash) {
  for (const char* yaml : {"&a [*a]\n", "a: &x\n  b: *x\n"}) {
    write("pipline/1-trans/cycle.yaml", yaml);
    EXPECT_EQ(diagnostics(),
              "pipline/1-trans/cycle.yaml: error: YAML nested more than 64 levels deep (an alias "
              "inside the node it names?)\n")
        << yaml;
  }
}

TEST_F(PipelineTest, DeepNestingIsAnErrorNotACrash) {
  write("pipline/1-trans/deep.yaml", "name: " + std::string(100000, '[') + "\n");
  auto p = load();
  EXPECT_FALSE(p.is_ok());
  EXPECT_EQ(diags_.error_count(), 1);
  EXPECT_NE(diags_.render().find("malformed YAML"), std::string::npos) << diags_.render();
}

TEST_F(PipelineTest, CrlfLineEndingsGiveTheSameDiagnostics) {
  write("pipline/1-trans/crlf.yaml", "name: o\r\ninput_model: data/models/nope\r\n");
  EXPECT_EQ(diagnostics(),
            "pipline/1-trans/crlf.yaml:2:14: error: input model directory 'data/models/nope' "
            "does not exist; see data/HELP.md for how to get it\n"
            "    2 | input_model: data/models/nope\n"
            "      |              ^~~~~~~~~~~~~~~~\n");
}

TEST_F(PipelineTest, Utf8ByteOrderMarkIsAccepted) {
  write("pipline/1-trans/bom.yaml", "\xef\xbb\xbfname: o\ninput_model: data/models/m\n");
  auto p = load();
  ASSERT_TRUE(p.is_ok()) << diags_.render();
  EXPECT_EQ(p->trans[0].name, "o");
}

TEST_F(PipelineTest, NonAsciiColumnsCountBytesAndCaretsDisplayWidth) {
  write("pipline/1-trans/u.yaml", "name: \xc3\xa9t\xc3\xa9\ninput_model: data/models/m\n"
                                  "equivalence: {prompts: [\xe9\x87\x8f\xe5\xad\x90, 7]}\n");
  EXPECT_EQ(diagnostics(),
            "pipline/1-trans/u.yaml:3:1: warning: 'equivalence' is ignored: there is no transform "
            "(output_suffix is null)\n"
            "    3 | equivalence: {prompts: [\xe9\x87\x8f\xe5\xad\x90, 7]}\n"
            "      | ^~~~~~~~~~~\n");
  write("pipline/1-trans/u.yaml", "name: \xc3\xa9t\xc3\xa9\ninput_model: data/models/m\n"
                                  "output_suffix: -s\nquant_modifiers: {SpinQuantModifier: {}}\n"
                                  "equivalence: {prompts: [\xe9\x87\x8f\xe5\xad\x90, [7]]}\n");
  EXPECT_EQ(diagnostics(),
            "pipline/1-trans/u.yaml:5:33: error: expected a string for 'prompts', got a list\n"
            "    5 | equivalence: {prompts: [\xe9\x87\x8f\xe5\xad\x90, [7]]}\n"
            "      |                               ^\n");  // 量子 is 4 columns wide
}

TEST_F(PipelineTest, EmptyFileReportsMissingFields) {
  write("pipline/1-trans/empty.yaml", "");
  EXPECT_EQ(diagnostics(),
            "pipline/1-trans/empty.yaml: error: missing required field 'name'\n"
            "pipline/1-trans/empty.yaml: error: missing required field 'input_model'\n");
}

TEST_F(PipelineTest, TopLevelMustBeAMapping) {
  write("pipline/1-trans/list.yaml", "- name: o\n");
  EXPECT_EQ(diagnostics(),
            "pipline/1-trans/list.yaml:1:1: error: expected a mapping at the top level, got a "
            "list\n"
            "    1 | - name: o\n"
            "      | ^\n");
}

TEST_F(PipelineTest, DuplicateKey) {
  write("pipline/1-trans/dup.yaml", "name: a\nname: b\ninput_model: data/models/m\n");
  EXPECT_EQ(diagnostics(),
            "pipline/1-trans/dup.yaml:2:1: error: duplicate key 'name'\n"
            "    2 | name: b\n"
            "      | ^~~~\n"
            "pipline/1-trans/dup.yaml:1:1: note: first defined here\n"
            "    1 | name: a\n"
            "      | ^~~~\n");
}

TEST_F(PipelineTest, UnknownTopLevelKey) {
  write("pipline/1-trans/o.yaml", std::string(kTransOriginal) + "nmae: x\n");
  EXPECT_EQ(diagnostics(),
            "pipline/1-trans/o.yaml:4:1: error: unknown top-level key 'nmae'; did you mean "
            "'name'?\n"
            "    4 | nmae: x\n"
            "      | ^~~~\n");
}

TEST_F(PipelineTest, DuplicateNamesPointAtTheFirst) {
  write("pipline/2-quant/a.yaml", kQuantRtnStatic);
  std::string second = kQuantRtnStatic;
  second.replace(second.find("-rtn"), 4, "-other");
  write("pipline/2-quant/b.yaml", second);
  EXPECT_EQ(diagnostics(),
            "pipline/2-quant/b.yaml:1:7: error: duplicate name 'rtn' (names must be unique within "
            "pipline/2-quant)\n"
            "    1 | name: rtn\n"
            "      |       ^~~\n"
            "pipline/2-quant/a.yaml:1:7: note: first defined here\n"
            "    1 | name: rtn\n"
            "      |       ^~~\n");
}

TEST_F(PipelineTest, DuplicateQuantSuffix) {
  write("pipline/2-quant/a.yaml", kQuantRtnStatic);
  std::string second = kQuantRtnStatic;
  second.replace(second.find("rtn"), 3, "b");
  write("pipline/2-quant/b.yaml", second);
  EXPECT_EQ(diagnostics(),
            "pipline/2-quant/b.yaml:1:7: error: output_suffix '-rtn' is already used by 'rtn'\n"
            "    1 | name: b\n"
            "      |       ^\n"
            "pipline/2-quant/a.yaml:1:7: note: first defined here\n"
            "    1 | name: rtn\n"
            "      |       ^~~\n");
}

TEST_F(PipelineTest, SameTransformTwice) {
  write("pipline/1-trans/a.yaml", kTransOriginal);
  write("pipline/1-trans/b.yaml", "name: b\ninput_model: data/models/m\n");
  write("pipline/1-trans/c.yaml", "name: c\ninput_model: data/models/m2\n");  // other model: ok
  EXPECT_EQ(diagnostics(),
            "pipline/1-trans/b.yaml:1:7: error: 'b' makes the same model as 'original' (same "
            "input_model and output_suffix)\n"
            "    1 | name: b\n"
            "      |       ^\n"
            "pipline/1-trans/a.yaml:1:7: note: first defined here\n"
            "    1 | name: original\n"
            "      |       ^~~~~~~~\n");
}

TEST_F(PipelineTest, DuplicateDatasetName) {
  write("pipline/3-eval/a.yaml", kEval);
  write("pipline/3-eval/b.yaml", kEval);
  EXPECT_EQ(diagnostics(),
            "pipline/3-eval/b.yaml:1:15: error: duplicate dataset_name 'mix' (it names "
            "results/mix.csv; it must be unique within pipline/3-eval)\n"
            "    1 | dataset_name: mix\n"
            "      |               ^~~\n"
            "pipline/3-eval/a.yaml:1:15: note: first defined here\n"
            "    1 | dataset_name: mix\n"
            "      |               ^~~\n");
}

// Two evals copying into one work_dir overwrote each other's predictions and reports on every
// build (and a no-op build rewrote them all, found by bench/engine).
TEST_F(PipelineTest, TwoEvalsCannotShareAWorkDir) {
  write("pipline/3-eval/a.yaml", kEval);
  write("pipline/3-eval/b.yaml", std::string(kEval).replace(14, 3, "other"));
  EXPECT_EQ(diagnostics(),
            "pipline/3-eval/b.yaml:1:15: error: output.work_dir 'outputs' is also the work_dir of 'mix' (the "
            "default is 'outputs'): the two evals would overwrite each other's predictions and reports; give "
            "each its own output.work_dir\n"
            "    1 | dataset_name: other\n"
            "      |               ^~~~~\n"
            "pipline/3-eval/a.yaml:1:15: note: first used here\n"
            "    1 | dataset_name: mix\n"
            "      |               ^~~\n");
  write("pipline/3-eval/b.yaml", std::string(kEval).replace(14, 3, "other") + "output: {work_dir: outputs/b}\n");
  EXPECT_EQ(diagnostics(), "");
}

TEST_F(PipelineTest, AllErrorsOfAllFilesAreReportedInOrder) {
  write("pipline/project.yaml", "resources: {device: metal}\n");
  write("pipline/3-eval/e.yaml", "dataset_name: e\ndatasets: [{name: gsm8k}]\n"
                                 "sampling: {total_samples: 0}\n");
  write("pipline/1-trans/b.yaml", "name: b\ninput_model: data/models/x\n");
  write("pipline/1-trans/a.yaml", "name: a\ninput_model: data/models/m\nbogus: 1\n");
  write("pipline/2-quant/q.yaml", "name: q\noutput_suffix: ../q\nquant_modifiers:\n"
                                  "  QuantizationModifier: {scheme: int4}\n");
  auto p = load();
  EXPECT_FALSE(p.is_ok());
  EXPECT_EQ(p.status().message(), "6 errors in pipeline configs");
  EXPECT_EQ(diags_.error_count(), 6);
  EXPECT_EQ(diags_.render(),
            "pipline/1-trans/a.yaml:3:1: error: unknown top-level key 'bogus'\n"
            "    3 | bogus: 1\n"
            "      | ^~~~~\n"
            "pipline/1-trans/b.yaml:2:14: error: input model directory 'data/models/x' does not "
            "exist; see data/HELP.md for how to get it\n"
            "    2 | input_model: data/models/x\n"
            "      |              ^~~~~~~~~~~~~\n"
            "pipline/2-quant/q.yaml:2:16: error: unsafe output_suffix '../q': it contains '/'\n"
            "    2 | output_suffix: ../q\n"
            "      |                ^~~~\n"
            "pipline/2-quant/q.yaml:4:34: error: invalid value 'int4' for 'scheme' (allowed: "
            "W8A8, W8A16, W4A16, W4A16_ASYM)\n"
            "    4 |   QuantizationModifier: {scheme: int4}\n"
            "      |                                  ^~~~\n"
            "pipline/3-eval/e.yaml:3:27: error: 'total_samples' must be in [1, 10000000], got 0\n"
            "    3 | sampling: {total_samples: 0}\n"
            "      |                           ^\n"
            "pipline/project.yaml:1:21: error: invalid value 'metal' for 'device' (allowed: auto, "
            "cpu, cuda)\n"
            "    1 | resources: {device: metal}\n"
            "      |                     ^~~~~\n");
}

// Random byte- and line-level mutations of valid configs (one file at a time): load_pipeline
// must never throw or crash, and an error status always comes with a diagnostic.
TEST_F(PipelineTest, FuzzedConfigsNeverEscapeAsExceptions) {
  const std::vector<std::pair<std::string, std::string>> seeds = {
      {"pipline/1-trans/t.yaml", kTransSpin},
      {"pipline/2-quant/q.yaml", kQuantRtnStatic},
      {"pipline/3-eval/e.yaml", kEval},
      {"pipline/project.yaml", "resources:\n  devices: [0, 1]\n  jobs: 2\n"}};
  const std::string alphabet = " \t\n:-[]{},#&*!|>'\"%@`?~.0123456789abcxyzRWA\\\x01\xc3\xa9";
  std::mt19937 rng(12345);
  int loaded = 0;
  for (int iter = 0; iter < 400; ++iter) {
    for (const auto& [path, text] : seeds) write(path, text);
    {  // one file mutated per iteration, so some iterations stay valid
      const auto& [path, text] = seeds[iter % seeds.size()];
      std::string s = text;
      int edits = 1 + static_cast<int>(rng() % 4);
      for (int e = 0; e < edits && !s.empty(); ++e) {
        std::size_t pos = rng() % s.size();
        switch (rng() % 5) {
          case 0: s[pos] = alphabet[rng() % alphabet.size()]; break;
          case 1: s.insert(pos, 1, alphabet[rng() % alphabet.size()]); break;
          case 2: s.erase(pos, 1 + rng() % 8); break;
          case 3: {  // duplicate a line
            std::size_t start = s.rfind('\n', pos);
            start = start == std::string::npos ? 0 : start + 1;
            std::size_t end = s.find('\n', pos);
            if (end == std::string::npos) end = s.size();
            s.insert(start, s.substr(start, end - start) + "\n");
            break;
          }
          default: s.insert(pos, "\n"); break;
        }
      }
      write(path, s);
    }
    Result<Pipeline> p = internal_error("not run");
    ASSERT_NO_THROW(p = load()) << "iteration " << iter;
    std::string rendered;
    ASSERT_NO_THROW(rendered = diags_.render());
    if (p.is_ok()) ++loaded;
    else EXPECT_FALSE(rendered.empty()) << "an error status without a diagnostic";
  }
  EXPECT_GT(loaded, 0);  // some mutations (comments, whitespace) keep the configs valid
}

}  // namespace
}  // namespace qb::config::testing
