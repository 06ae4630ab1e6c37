// The diagnostic format (byte for byte) and the did-you-mean rule.
#include "config/diagnostics.h"

#include <gtest/gtest.h>

#include "util/suggest.h"

namespace qb::config {
namespace {

TEST(Diagnostics, RendersLineGutterAndCaretSpan) {
  Diagnostics d;
  d.add_source("pipline/2-quant/rtn.yaml", "a:\n b:\n  c:\n   d:\n    e:\n     f:\n      stratgy: channel\n");
  d.error({"pipline/2-quant/rtn.yaml", 7, 7, 7},
          "unknown key 'stratgy' in 'weights'; did you mean 'strategy'?");
  EXPECT_EQ(d.render(),
            "pipline/2-quant/rtn.yaml:7:7: error: unknown key 'stratgy' in 'weights'; did you "
            "mean 'strategy'?\n"
            "    7 |       stratgy: channel\n"
            "      |       ^~~~~~~\n");
}

TEST(Diagnostics, WarningsSayWarning) {
  Diagnostics d;
  d.add_source("f.yaml", "x: 1\n");
  d.warning({"f.yaml", 1, 1, 1}, "careful");
  EXPECT_EQ(d.render(), "f.yaml:1:1: warning: careful\n    1 | x: 1\n      | ^\n");
  EXPECT_EQ(d.warning_count(), 1);
  EXPECT_FALSE(d.has_errors());
}

TEST(Diagnostics, WholeFileDiagnosticHasNoSnippet) {
  Diagnostics d;
  d.error({"f.yaml", 0, 0, 0}, "missing required field 'name'");
  EXPECT_EQ(d.render(), "f.yaml: error: missing required field 'name'\n");
}

TEST(Diagnostics, SortedByFileThenLineWithNotesKept) {
  Diagnostics d;
  d.add_source("b.yaml", "one\ntwo\n");
  d.add_source("a.yaml", "x\n");
  d.error({"b.yaml", 2, 1, 3}, "second").notes.push_back(
      Diagnostics::note({"a.yaml", 1, 1, 1}, "see here"));
  d.error({"b.yaml", 1, 1, 3}, "first");
  d.warning({"a.yaml", 1, 1, 1}, "earliest");
  EXPECT_EQ(d.render(),
            "a.yaml:1:1: warning: earliest\n    1 | x\n      | ^\n"
            "b.yaml:1:1: error: first\n    1 | one\n      | ^~~\n"
            "b.yaml:2:1: error: second\n    2 | two\n      | ^~~\n"
            "a.yaml:1:1: note: see here\n    1 | x\n      | ^\n");
}

TEST(Diagnostics, CaretFollowsTabsAndCountsUtf8CodePoints) {
  Diagnostics d;
  d.add_source("f.yaml", "\tk: \xc3\xa9t\xc3\xa9 x\n");  // "\tk: été x"
  d.error({"f.yaml", 1, 5, 5}, "bad");                  // "été" is 5 bytes
  EXPECT_EQ(d.render(), "f.yaml:1:5: error: bad\n    1 | \tk: \xc3\xa9t\xc3\xa9 x\n      | \t   ^~~\n");
}

TEST(Diagnostics, CaretCountsWideCharactersAsTwoColumns) {
  Diagnostics d;
  d.add_source("f.yaml", "p: [\xe9\x87\x8f\xe5\xad\x90, x]\n");  // "p: [量子, x]"
  d.error({"f.yaml", 1, 5, 6}, "wide");                          // 量子: 6 bytes, 4 columns
  d.error({"f.yaml", 1, 13, 1}, "after");
  EXPECT_EQ(d.render(),
            "f.yaml:1:5: error: wide\n    1 | p: [\xe9\x87\x8f\xe5\xad\x90, x]\n      |     ^~~~\n"
            "f.yaml:1:13: error: after\n    1 | p: [\xe9\x87\x8f\xe5\xad\x90, x]\n"
            "      |           ^\n");
}

TEST(Diagnostics, SpanIsClippedToTheLine) {
  Diagnostics d;
  d.add_source("f.yaml", "ab\n");
  d.error({"f.yaml", 1, 2, 10}, "bad");
  EXPECT_EQ(d.render(), "f.yaml:1:2: error: bad\n    1 | ab\n      |  ^\n");
}

TEST(Diagnostics, WideLineNumbersRightAligned) {
  Diagnostics d;
  std::string text;
  for (int i = 1; i <= 12345; ++i) text += "k" + std::to_string(i) + ": 1\n";
  d.add_source("f.yaml", text);
  d.error({"f.yaml", 12345, 1, 6}, "bad");
  EXPECT_EQ(d.render(), "f.yaml:12345:1: error: bad\n12345 | k12345: 1\n      | ^~~~~~\n");
}

TEST(Suggest, EditDistanceIsLevenshteinIgnoringCase) {
  EXPECT_EQ(edit_distance("stratgy", "strategy"), 1u);
  EXPECT_EQ(edit_distance("kitten", "sitting"), 3u);
  EXPECT_EQ(edit_distance("Name", "name"), 0u);
  EXPECT_EQ(edit_distance("", "abc"), 3u);
}

TEST(Suggest, DidYouMeanWithinTwoOrAThird) {
  EXPECT_EQ(did_you_mean("stratgy", {"num_bits", "strategy", "symmetric"}), "strategy");
  // 4 edits are allowed for a 12-letter key (a third), not for a 4-letter one.
  EXPECT_EQ(did_you_mean("input_activ", {"input_activations"}), std::nullopt);
  EXPECT_EQ(did_you_mean("inputactivat", {"input_activations"}), "input_activations");
  EXPECT_EQ(did_you_mean("xyz", {"name", "seed"}), std::nullopt);
  EXPECT_EQ(did_you_mean_suffix("nmae", {"name"}), "; did you mean 'name'?");
  EXPECT_EQ(did_you_mean_suffix("zzzzzz", {"name"}), "");
}

}  // namespace
}  // namespace qb::config
