// pipline/1-trans: kinds, SpinQuant params, and every trans validation rule (exact messages).
#include <gtest/gtest.h>

#include "test_project.h"

namespace qb::config::testing {
namespace {

using nlohmann::json;

class TransTest : public ProjectTest {
 protected:
  std::string check(const std::string& yaml) {
    write("pipline/1-trans/t.yaml", yaml);
    return diagnostics();
  }
};

TEST_F(TransTest, OriginalHasEmptyParams) {
  write("pipline/1-trans/original.yaml", kTransOriginal);
  auto p = load();
  ASSERT_TRUE(p.is_ok()) << diags_.render();
  ASSERT_EQ(p->trans.size(), 1u);
  const TransSpec& t = p->trans[0];
  EXPECT_EQ(t.name, "original");
  EXPECT_EQ(t.kind, "original");
  EXPECT_EQ(t.input_model, "data/models/m");
  EXPECT_FALSE(t.output_suffix.has_value());
  EXPECT_EQ(t.loc.file, "pipline/1-trans/original.yaml");
  EXPECT_EQ(t.loc.line, 1);
  EXPECT_EQ(t.loc.col, 7);
}

TEST_F(TransTest, AbsentSuffixAndEmptyModifiersMeanOriginal) {
  write("pipline/1-trans/t.yaml", "name: o\ninput_model: ./data/models/m/\nquant_modifiers: {}\n");
  auto p = load();
  ASSERT_TRUE(p.is_ok()) << diags_.render();
  EXPECT_EQ(p->trans[0].kind, "original");
  EXPECT_EQ(p->trans[0].input_model, "data/models/m");
}

TEST_F(TransTest, SpinQuantParamsSpellOutDefaults) {
  write("pipline/1-trans/spin.yaml", kTransSpin);
  auto p = load();
  ASSERT_TRUE(p.is_ok()) << diags_.render();
  const TransSpec& t = p->trans[0];
  EXPECT_EQ(t.kind, "spinquant");
  EXPECT_EQ(t.output_suffix, "-r1r2");
  EXPECT_EQ(t.params.to_json().dump(),
            R"({"center_embeddings":false,"device":"cpu","rotations":["R1","R2"],"seed":0,)"
            R"("transform_block_size":null,"transform_type":"random-hadamard"})");
  EXPECT_EQ(t.equivalence.max_rel_error, 1e-3);
  EXPECT_EQ(t.equivalence.prompts.size(), 4u);
}

TEST_F(TransTest, LlmCompressorDefaultsWhenModifierIsEmpty) {
  write("pipline/1-trans/t.yaml",
        "name: s\ninput_model: data/models/m\noutput_suffix: -s\nquant_modifiers:\n"
        "  SpinQuantModifier:\n");
  auto p = load();
  ASSERT_TRUE(p.is_ok()) << diags_.render();
  // hadamard is deterministic: no seed in params.
  EXPECT_EQ(p->trans[0].params.to_json().dump(),
            R"({"center_embeddings":false,"device":"cpu","rotations":["R1","R2"],"transform_block_size":null,)"
            R"("transform_type":"hadamard"})");
}

TEST_F(TransTest, RotationsAreCaseInsensitiveAndCanonicallyOrdered) {
  write("pipline/1-trans/t.yaml",
        "name: s\ninput_model: data/models/m\noutput_suffix: -s\nquant_modifiers:\n"
        "  SpinQuantModifier: {rotations: [r4, R1], transform_block_size: 128}\n");
  auto p = load();
  ASSERT_TRUE(p.is_ok()) << diags_.render();
  EXPECT_EQ(p->trans[0].params.to_json()["rotations"], json({"R1", "R4"}));
  EXPECT_EQ(p->trans[0].params.to_json()["transform_block_size"], 128);
}

TEST_F(TransTest, MissingModelDirectory) {
  EXPECT_EQ(check("name: o\ninput_model: data/models/nope\noutput_suffix: null\n"),
            "pipline/1-trans/t.yaml:2:14: error: input model directory 'data/models/nope' does "
            "not exist; see data/HELP.md for how to get it\n"
            "    2 | input_model: data/models/nope\n"
            "      |              ^~~~~~~~~~~~~~~~\n");
}

TEST_F(TransTest, ModelDirectoryWithoutConfigJson) {
  EXPECT_EQ(check("name: o\ninput_model: data/models/no-config\n"),
            "pipline/1-trans/t.yaml:2:14: error: input model directory 'data/models/no-config' "
            "has no config.json; see data/HELP.md for how to get the model\n"
            "    2 | input_model: data/models/no-config\n"
            "      |              ^~~~~~~~~~~~~~~~~~~~~\n");
}

TEST_F(TransTest, ModelPathThatIsAFile) {
  EXPECT_EQ(check("name: o\ninput_model: data/calib.txt\n"),
            "pipline/1-trans/t.yaml:2:14: error: input model directory 'data/calib.txt' is not "
            "a directory; see data/HELP.md\n"
            "    2 | input_model: data/calib.txt\n"
            "      |              ^~~~~~~~~~~~~~\n");
}

TEST_F(TransTest, NullSuffixWithModifierIsAnError) {
  EXPECT_EQ(check("name: o\ninput_model: data/models/m\noutput_suffix: null\nquant_modifiers:\n"
                  "  SpinQuantModifier: {rotations: [R1]}\n"),
            "pipline/1-trans/t.yaml:4:1: error: 'quant_modifiers' must be empty when "
            "'output_suffix' is null (no transform: kind 'original'); set an output_suffix such "
            "as '-r1r2'\n"
            "    4 | quant_modifiers:\n"
            "      | ^~~~~~~~~~~~~~~\n");
}

TEST_F(TransTest, SuffixWithoutModifierIsAnError) {
  EXPECT_EQ(check("name: o\ninput_model: data/models/m\noutput_suffix: -x\n"),
            "pipline/1-trans/t.yaml:3:1: error: output_suffix '-x' needs a transform: add "
            "'quant_modifiers: {SpinQuantModifier: {...}}' (or set output_suffix to null)\n"
            "    3 | output_suffix: -x\n"
            "      | ^~~~~~~~~~~~~\n");
}

TEST_F(TransTest, UnsafeSuffixes) {
  const char* tail = "\nquant_modifiers: {SpinQuantModifier: {}}\n";
  auto msg = [&](const std::string& suffix) {
    return check("name: s\ninput_model: data/models/m\noutput_suffix: " + suffix + tail);
  };
  EXPECT_EQ(msg("a/b"),
            "pipline/1-trans/t.yaml:3:16: error: unsafe output_suffix 'a/b': it contains '/'\n"
            "    3 | output_suffix: a/b\n"
            "      |                ^~~\n");
  EXPECT_EQ(msg("'a\\b'"),
            "pipline/1-trans/t.yaml:3:16: error: unsafe output_suffix 'a\\b': it contains "
            "'\\'\n"
            "    3 | output_suffix: 'a\\b'\n"
            "      |                ^~~~~\n");
  EXPECT_EQ(msg("-a..b"),
            "pipline/1-trans/t.yaml:3:16: error: unsafe output_suffix '-a..b': it contains "
            "'..'\n"
            "    3 | output_suffix: -a..b\n"
            "      |                ^~~~~\n");
  EXPECT_EQ(msg(".hidden"),
            "pipline/1-trans/t.yaml:3:16: error: unsafe output_suffix '.hidden': it starts with "
            "'.'\n"
            "    3 | output_suffix: .hidden\n"
            "      |                ^~~~~~~\n");
  EXPECT_EQ(msg("\"-a\\0b\""),
            "pipline/1-trans/t.yaml:3:16: error: unsafe output_suffix '-a\\x00b': it contains a "
            "NUL or control character\n"
            "    3 | output_suffix: \"-a\\0b\"\n"
            "      |                ^~~~~~~\n");
  EXPECT_EQ(msg("''"),
            "pipline/1-trans/t.yaml:3:16: error: unsafe output_suffix '': it is empty\n"
            "    3 | output_suffix: ''\n"
            "      |                ^~\n");
}

TEST_F(TransTest, EmptyRotations) {
  EXPECT_EQ(check("name: s\ninput_model: data/models/m\noutput_suffix: -s\nquant_modifiers:\n"
                  "  SpinQuantModifier: {rotations: []}\n"),
            "pipline/1-trans/t.yaml:5:34: error: 'rotations' must not be empty\n"
            "    5 |   SpinQuantModifier: {rotations: []}\n"
            "      |                                  ^\n");
}

TEST_F(TransTest, DuplicateRotation) {
  EXPECT_EQ(check("name: s\ninput_model: data/models/m\noutput_suffix: -s\nquant_modifiers:\n"
                  "  SpinQuantModifier: {rotations: [R1, r1]}\n"),
            "pipline/1-trans/t.yaml:5:39: error: duplicate rotation 'R1'\n"
            "    5 |   SpinQuantModifier: {rotations: [R1, r1]}\n"
            "      |                                       ^~\n");
}

TEST_F(TransTest, UnsupportedRotation) {
  EXPECT_EQ(check("name: s\ninput_model: data/models/m\noutput_suffix: -s\nquant_modifiers:\n"
                  "  SpinQuantModifier: {rotations: [R3]}\n"),
            "pipline/1-trans/t.yaml:5:35: error: invalid value 'R3' for 'rotations' (allowed: "
            "R1, R2, R4); did you mean 'R1'?\n"
            "    5 |   SpinQuantModifier: {rotations: [R3]}\n"
            "      |                                   ^~\n");
}

TEST_F(TransTest, BadTransformType) {
  EXPECT_EQ(check("name: s\ninput_model: data/models/m\noutput_suffix: -s\nquant_modifiers:\n"
                  "  SpinQuantModifier:\n    transform_type: random_hadamard\n"),
            "pipline/1-trans/t.yaml:6:21: error: invalid value 'random_hadamard' for "
            "'transform_type' (allowed: hadamard, random-hadamard, random-matrix); did you mean "
            "'random-hadamard'?\n"
            "    6 |     transform_type: random_hadamard\n"
            "      |                     ^~~~~~~~~~~~~~~\n");
}

TEST_F(TransTest, BlockSizeMustBePositive) {
  EXPECT_EQ(check("name: s\ninput_model: data/models/m\noutput_suffix: -s\nquant_modifiers:\n"
                  "  SpinQuantModifier:\n    transform_block_size: 0\n"),
            "pipline/1-trans/t.yaml:6:27: error: 'transform_block_size' must be positive, got 0\n"
            "    6 |     transform_block_size: 0\n"
            "      |                           ^\n");
}

TEST_F(TransTest, CenterEmbeddingsWarns) {
  write("pipline/1-trans/t.yaml",
        "name: s\ninput_model: data/models/m\noutput_suffix: -s\nquant_modifiers:\n"
        "  SpinQuantModifier:\n    center_embeddings: true\n");
  auto p = load();
  ASSERT_TRUE(p.is_ok());
  EXPECT_EQ(diags_.render(),
            "pipline/1-trans/t.yaml:6:24: warning: 'center_embeddings: true' changes the "
            "function of RMSNorm models (Qwen3, Qwen2, Llama): the equivalence check is expected "
            "to fail\n"
            "    6 |     center_embeddings: true\n"
            "      |                        ^~~~\n");
  EXPECT_EQ(p->trans[0].params.to_json()["center_embeddings"], true);
}

TEST_F(TransTest, EquivalenceSettingsAreReadButNotInParams) {
  std::string base = std::string(kTransSpin);
  write("pipline/1-trans/t.yaml", base + "equivalence:\n  max_rel_error: 1e-4\n  prompts: [hi]\n");
  auto p = load();
  ASSERT_TRUE(p.is_ok()) << diags_.render();
  EXPECT_EQ(p->trans[0].equivalence.max_rel_error, 1e-4);
  EXPECT_EQ(p->trans[0].equivalence.prompts, std::vector<std::string>{"hi"});
  json with = p->trans[0].params.to_json();
  write("pipline/1-trans/t.yaml", base);
  auto q = load();
  ASSERT_TRUE(q.is_ok());
  EXPECT_EQ(q->trans[0].params.to_json(), with);
}

TEST_F(TransTest, EquivalenceRules) {
  EXPECT_EQ(check(std::string(kTransSpin) + "equivalence:\n  max_rel_error: 0\n  prompts: []\n"),
            "pipline/1-trans/t.yaml:9:18: error: 'max_rel_error' must be positive, got 0\n"
            "    9 |   max_rel_error: 0\n"
            "      |                  ^\n"
            "pipline/1-trans/t.yaml:10:12: error: 'prompts' must not be empty\n"
            "   10 |   prompts: []\n"
            "      |            ^\n");
}

TEST_F(TransTest, EquivalenceOnOriginalWarns) {
  EXPECT_EQ(check(std::string(kTransOriginal) + "equivalence: {max_rel_error: 1e-4}\n"),
            "pipline/1-trans/t.yaml:4:1: warning: 'equivalence' is ignored: there is no transform "
            "(output_suffix is null)\n"
            "    4 | equivalence: {max_rel_error: 1e-4}\n"
            "      | ^~~~~~~~~~~\n");
}

TEST_F(TransTest, UnknownModifierSuggestsSpinQuant) {
  EXPECT_EQ(check("name: s\ninput_model: data/models/m\noutput_suffix: -s\nquant_modifiers:\n"
                  "  SpinquantModifier: {}\n"),
            "pipline/1-trans/t.yaml:5:3: error: unknown key 'SpinquantModifier' in "
            "'quant_modifiers'; did you mean 'SpinQuantModifier'?\n"
            "    5 |   SpinquantModifier: {}\n"
            "      |   ^~~~~~~~~~~~~~~~~\n");
}

TEST_F(TransTest, NamesWithSpacesDollarsAndColonsAreAccepted) {
  write("pipline/1-trans/t.yaml", "name: 'my run: $HOME x'\ninput_model: data/models/m\n");
  auto p = load();
  ASSERT_TRUE(p.is_ok()) << diags_.render();
  EXPECT_EQ(p->trans[0].name, "my run: $HOME x");
}

TEST_F(TransTest, UnsafeNames) {
  EXPECT_EQ(check("name: a/b\ninput_model: data/models/m\n"),
            "pipline/1-trans/t.yaml:1:7: error: unsafe name 'a/b': it contains '/'\n"
            "    1 | name: a/b\n"
            "      |       ^~~\n");
  EXPECT_EQ(check("name: .x\ninput_model: data/models/m\n"),
            "pipline/1-trans/t.yaml:1:7: error: unsafe name '.x': it starts with '.'\n"
            "    1 | name: .x\n"
            "      |       ^~\n");
  EXPECT_EQ(check("name: \"a\\tb\"\ninput_model: data/models/m\n"),
            "pipline/1-trans/t.yaml:1:7: error: unsafe name 'a\\x09b': it contains a NUL or "
            "control character\n"
            "    1 | name: \"a\\tb\"\n"
            "      |       ^~~~~~\n");
}

}  // namespace
}  // namespace qb::config::testing
