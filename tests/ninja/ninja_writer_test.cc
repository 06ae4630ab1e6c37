// Unit tests for src/ninja/ninja_writer.h: Ninja escaping and exact manifest text.
#include "ninja/ninja_writer.h"

#include <gtest/gtest.h>

namespace qb::ninja {
namespace {

TEST(EscapePathTest, EscapesDollarSpaceAndColon) {
  EXPECT_EQ(escape_path("a$b c:d"), "a$$b$ c$:d");
}

TEST(EscapePathTest, LeavesOtherCharactersAlone) {
  EXPECT_EQ(escape_path("cache/objects/ab/ab12-_.json"), "cache/objects/ab/ab12-_.json");
}

TEST(EscapePathTest, EscapesEveryOccurrence) {
  EXPECT_EQ(escape_path("$$  ::"), "$$$$$ $ $:$:");
}

TEST(EscapeValueTest, EscapesOnlyDollar) {
  EXPECT_EQ(escape_value("a$b c:d"), "a$$b c:d");
}

TEST(EscapeValueTest, EmptyStaysEmpty) {
  EXPECT_EQ(escape_value(""), "");
  EXPECT_EQ(escape_path(""), "");
}

TEST(NinjaWriterTest, VariableLine) {
  NinjaWriter w;
  ASSERT_TRUE(w.variable("qbuild", "/bin/qbuild --project '/a b'").is_ok());
  EXPECT_EQ(w.str(), "qbuild = /bin/qbuild --project '/a b'\n");
}

TEST(NinjaWriterTest, VariableValueEscapesDollar) {
  NinjaWriter w;
  ASSERT_TRUE(w.variable("cmd", "echo $HOME: x").is_ok());
  EXPECT_EQ(w.str(), "cmd = echo $$HOME: x\n");
}

TEST(NinjaWriterTest, IndentedVariableUsesTwoSpacesPerLevel) {
  NinjaWriter w;
  ASSERT_TRUE(w.variable("key", "v", 2).is_ok());
  EXPECT_EQ(w.str(), "    key = v\n");
}

TEST(NinjaWriterTest, VariableWithNewlineIsRejected) {
  NinjaWriter w;
  Status s = w.variable("desc", "a\nb");
  ASSERT_FALSE(s.is_ok());
  EXPECT_EQ(s.code(), Code::kInvalidArgument);
  EXPECT_EQ(s.message(), "value of 'desc' contains a newline, which Ninja cannot represent: 'a\nb'");
  EXPECT_EQ(w.str(), "");
}

TEST(NinjaWriterTest, VariableWithCarriageReturnIsRejected) {
  NinjaWriter w;
  Status s = w.variable("desc", "a\rb");
  ASSERT_FALSE(s.is_ok());
  EXPECT_EQ(s.message(), "value of 'desc' contains a newline, which Ninja cannot represent: 'a\rb'");
}

TEST(NinjaWriterTest, BuildPathWithNewlineIsRejected) {
  NinjaWriter w;
  BuildEdge e;
  e.outputs = {"out\nput"};
  e.rule = "quant";
  Status s = w.build(e);
  ASSERT_FALSE(s.is_ok());
  EXPECT_EQ(s.code(), Code::kInvalidArgument);
  EXPECT_EQ(s.message(), "path contains a newline, which Ninja cannot represent: 'out\nput'");
  EXPECT_EQ(w.str(), "");
}

TEST(NinjaWriterTest, BuildEdgeVariableWithNewlineIsRejected) {
  NinjaWriter w;
  BuildEdge e;
  e.outputs = {"o"};
  e.rule = "r";
  e.vars = {{"desc", "x\ny"}};
  Status s = w.build(e);
  ASSERT_FALSE(s.is_ok());
  EXPECT_EQ(s.message(), "value of 'desc' contains a newline, which Ninja cannot represent: 'x\ny'");
}

TEST(NinjaWriterTest, BuildEdgeWithImplicitAndOrderOnlyDeps) {
  NinjaWriter w;
  BuildEdge e;
  e.outputs = {"out/a b.json", "out/c:d"};
  e.rule = "quant";
  e.inputs = {"in1", "in$2"};
  e.implicit = {"imp"};
  e.order_only = {"oo1", "oo 2"};
  e.vars = {{"key", "abc"}, {"desc", "m $x"}};
  ASSERT_TRUE(w.build(e).is_ok());
  EXPECT_EQ(w.str(),
            "build out/a$ b.json out/c$:d: quant in1 in$$2 | imp || oo1 oo$ 2\n"
            "  key = abc\n"
            "  desc = m $$x\n");
}

TEST(NinjaWriterTest, BuildEdgeWithOnlyOrderOnlyDeps) {
  NinjaWriter w;
  BuildEdge e;
  e.outputs = {"o"};
  e.rule = "eval";
  e.order_only = {"a", "b"};
  ASSERT_TRUE(w.build(e).is_ok());
  EXPECT_EQ(w.str(), "build o: eval || a b\n");
}

TEST(NinjaWriterTest, BuildEdgeWithoutInputs) {
  NinjaWriter w;
  BuildEdge e;
  e.outputs = {"o"};
  e.rule = "sample";
  ASSERT_TRUE(w.build(e).is_ok());
  EXPECT_EQ(w.str(), "build o: sample\n");
}

TEST(NinjaWriterTest, PoolLines) {
  NinjaWriter w;
  w.pool("gpu", 2);
  EXPECT_EQ(w.str(), "pool gpu\n  depth = 2\n");
}

TEST(NinjaWriterTest, IncludeLineEscapesPath) {
  NinjaWriter w;
  w.include("/my proj/rules/quant.ninja");
  EXPECT_EQ(w.str(), "include /my$ proj/rules/quant.ninja\n");
}

TEST(NinjaWriterTest, DefaultLineEscapesTargets) {
  NinjaWriter w;
  w.default_targets({"a", "b c", "d:e"});
  EXPECT_EQ(w.str(), "default a b$ c d$:e\n");
}

TEST(NinjaWriterTest, DefaultWithNoTargetsWritesNothing) {
  NinjaWriter w;
  w.default_targets({});
  EXPECT_EQ(w.str(), "");
}

TEST(NinjaWriterTest, CommentPrefixesEveryLine) {
  NinjaWriter w;
  w.comment("one\ntwo");
  EXPECT_EQ(w.str(), "# one\n# two\n");
}

TEST(NinjaWriterTest, NewlineAppendsEmptyLine) {
  NinjaWriter w;
  w.comment("x");
  w.newline();
  EXPECT_EQ(w.str(), "# x\n\n");
}

std::string sample_manifest() {
  NinjaWriter w;
  w.comment("header");
  (void)w.variable("builddir", "cache");
  w.pool("gpu", 1);
  w.include("rules/quant.ninja");
  BuildEdge e;
  e.outputs = {"o1"};
  e.rule = "quant";
  e.order_only = {"o0"};
  e.vars = {{"key", "k1"}};
  (void)w.build(e);
  w.newline();
  w.default_targets({"o1"});
  return w.str();
}

TEST(NinjaWriterTest, OutputIsDeterministicAndInCallOrder) {
  std::string a = sample_manifest();
  EXPECT_EQ(a, sample_manifest());
  EXPECT_EQ(a,
            "# header\n"
            "builddir = cache\n"
            "pool gpu\n  depth = 1\n"
            "include rules/quant.ninja\n"
            "build o1: quant || o0\n"
            "  key = k1\n"
            "\n"
            "default o1\n");
}

}  // namespace
}  // namespace qb::ninja
