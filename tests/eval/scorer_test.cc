// The scorer's rules one behaviour at a time, with the reason evalscope 1.12.0 behaves so (the
// full evalscope-made table is in scorer_oracle_test.cc).
#include <gtest/gtest.h>

#include "steps/eval/eval_set.h"
#include "steps/eval/latex_expr.h"
#include "steps/eval/math_answer.h"
#include "steps/eval/python_expr.h"
#include "steps/eval/scorer.h"
#include "steps/eval/symbolic_equal.h"
#include "test_util.h"

namespace qb::eval {
namespace {

ScoreTrace gsm8k(const std::string& output, const std::string& gold) {
  auto t = score_output(Benchmark::kGsm8k, output, gold, 0);
  EXPECT_TRUE(t.is_ok()) << t.status().to_string();
  return t.is_ok() ? *t : ScoreTrace{};
}

ScoreTrace mmlu(const std::string& output, const std::string& gold, const ScorerOptions& o = {}) {
  auto t = score_output(Benchmark::kMmlu, output, gold, 4, o);
  EXPECT_TRUE(t.is_ok()) << t.status().to_string();
  return t.is_ok() ? *t : ScoreTrace{};
}

// ---- (b) the first <think> block goes, in every mode ----------------------------------------------

TEST(ThinkBlock, FirstBlockIsRemovedAndTheRestStripped) {
  bool removed = false;
  EXPECT_EQ(strip_think_block("<think>\nANSWER: A\n</think>\n\nANSWER: C ", &removed), "ANSWER: C");
  EXPECT_TRUE(removed);
}

TEST(ThinkBlock, TextWithoutABlockIsKeptUnstripped) {
  bool removed = true;
  EXPECT_EQ(strip_think_block("  ANSWER: C \n", &removed), "  ANSWER: C \n");
  EXPECT_FALSE(removed);
}

TEST(ThinkBlock, OnlyTheFirstBlockGoes) {
  EXPECT_EQ(strip_think_block("<think>a</think> <think>b</think> c"), "<think>b</think> c");
}

TEST(ThinkBlock, ABlockInTheMiddleGoesToo) { EXPECT_EQ(strip_think_block("x <think>y</think> z"), "x  z"); }

TEST(ThinkBlock, SignatureAndRedactedAttributesAreAccepted) {
  EXPECT_EQ(strip_think_block("<think signature=\"s1\" redacted=\"true\">y</think>z"), "z");
}

TEST(ThinkBlock, AClosingTagAloneIsNotABlock) {
  EXPECT_EQ(strip_think_block("reasoning</think> ANSWER: B"), "reasoning</think> ANSWER: B");
}

TEST(ThinkBlock, AnUnclosedBlockStays) { EXPECT_EQ(strip_think_block("<think> still thinking"), "<think> still thinking"); }

TEST(ThinkBlock, MmluAnswerInsideThinkingDoesNotCount) {
  ScoreTrace t = mmlu("<think>\nIs it ANSWER: A? Let me check.\n</think>\n\nANSWER: C", "C");
  EXPECT_TRUE(t.think_removed);
  EXPECT_EQ(t.extracted, "C");
  EXPECT_TRUE(t.correct);
}

TEST(ThinkBlock, Gsm8kBoxInsideThinkingDoesNotCount) {
  ScoreTrace t = gsm8k("<think>\\boxed{99}</think>The answer is 12.", "12");
  EXPECT_EQ(t.rule, "the answer is");
  EXPECT_TRUE(t.correct);
}

TEST(ThinkBlock, EvalSetScoringStripsWithoutAnyOption) {
  EvalEntry e;
  e.dataset_name = "mmlu";
  e.choices = {"a", "b", "c", "d"};
  e.gold = "C";
  auto s = score_generation(e, "<think>ANSWER: A</think>ANSWER: C");
  ASSERT_TRUE(s.is_ok()) << s.status().to_string();
  EXPECT_EQ(s->extracted, "C");
  EXPECT_TRUE(s->correct);
}

TEST(Filters, RemoveUntilRunsAfterTheThinkBlockIsGone) {
  ScorerOptions o;
  o.remove_until = "</think>";
  // The block goes first; remove_until then finds the second closing tag.
  ScoreTrace t = mmlu("<think>x</think> ANSWER: A </think> ANSWER: B", "B", o);
  EXPECT_EQ(t.completion, "ANSWER: A </think> ANSWER: B");
  EXPECT_EQ(t.filtered, " ANSWER: B");
  EXPECT_EQ(t.extracted, "B");
}

// ---- (c) math_equal's symbolic fallback --------------------------------------------------------------

TEST(MathEqual, BracedPowerIsAPower) { EXPECT_TRUE(gsm8k("\\boxed{2^{10}}", "1024").correct); }

TEST(MathEqual, UnbracedPowerIsPythonXor) {
  // parse_expr reads "2^10" as Python: Integer(2) ^ Integer(10) == 8.
  EXPECT_FALSE(gsm8k("\\boxed{2^10}", "1024").correct);
  EXPECT_TRUE(gsm8k("\\boxed{2^10}", "8").correct);
  EXPECT_FALSE(gsm8k("\\boxed{10^6}", "1000000").correct);
}

TEST(MathEqual, FloatBasePowerFallsToLatex) { EXPECT_TRUE(gsm8k("\\boxed{2.5^2}", "6.25").correct); }

TEST(MathEqual, MixedNumberIsASum) {
  EXPECT_TRUE(gsm8k("\\boxed{2\\frac{1}{2}}", "2.5").correct);
  EXPECT_TRUE(gsm8k("\\boxed{-2\\frac{1}{2}}", "-2.5").correct);
  EXPECT_FALSE(gsm8k("\\boxed{2\\frac{1}{2}}", "1").correct);
}

TEST(MathEqual, JuxtaposedIntegersAddLikeAMixedNumber) {
  // latex2sympy's mixed-number rule sees Integer 3 as a positive Rational: 2(3) is 2 + 3.
  EXPECT_TRUE(gsm8k("\\boxed{2(3)}", "5").correct);
  EXPECT_FALSE(gsm8k("\\boxed{2(3)}", "6").correct);
}

TEST(MathEqual, UnicodeMinusIsAMinus) {
  EXPECT_TRUE(gsm8k("\\boxed{−5}", "-5").correct);
  EXPECT_TRUE(gsm8k("\\boxed{−\\frac{1}{2}}", "-0.5").correct);
}

TEST(MathEqual, FractionAgainstDecimalWithinRelativeTolerance) {
  EXPECT_TRUE(gsm8k("\\boxed{\\frac{1}{3}}", "0.3333").correct);
  EXPECT_FALSE(gsm8k("\\boxed{\\frac{1}{3}}", "0.33").correct);
}

TEST(MathEqual, IrrationalConstantsEvaluate) {
  EXPECT_TRUE(gsm8k("\\boxed{3\\sqrt{2}}", "4.2426").correct);
  EXPECT_TRUE(gsm8k("\\boxed{2\\pi}", "6.2832").correct);
}

TEST(MathEqual, ApproximationKeepsTheExactSide) {
  EXPECT_FALSE(gsm8k("\\boxed{\\frac{10}{3} \\approx 3.33}", "3.33").correct);
  EXPECT_TRUE(gsm8k("\\boxed{x \\approx 5}", "5").correct);
}

TEST(MathEqual, ThinSpaceThousandsMultiply) {
  // "5\,000": the thin space is skipped and 5 times 000 is 0.
  EXPECT_FALSE(gsm8k("\\boxed{5\\,000}", "5000").correct);
  EXPECT_TRUE(gsm8k("\\boxed{5\\,000}", "0").correct);
}

TEST(MathEqual, SymbolNamedLikeANumberPrintsLikeIt) {
  // \mathrm{18} becomes Symbol('18'), and str(Symbol('18')) == str(Integer(18)).
  EXPECT_TRUE(gsm8k("\\boxed{\\mathrm{18}}", "18").correct);
}

TEST(MathEqual, ComplexRootIsNotReal) { EXPECT_FALSE(gsm8k("\\boxed{(-8)^{\\frac{1}{3}}}", "-2").correct); }

TEST(MathEqual, TraceNamesTheDecidingRule) {
  EXPECT_EQ(math_equal_traced("18", "18.0").rule, "numeric");
  EXPECT_EQ(math_equal_traced("0.18", "18").rule, "numeric (reference / 100)");
  EXPECT_EQ(math_equal_traced("", "18").rule, "no answer");
  EXPECT_EQ(math_equal_traced("\\frac{9}{4}", "2.25").rule.rfind("symbolic: latex2sympy: 2.25", 0), 0u);
}

TEST(MathEqual, OutsideTheModelledSubsetIsNotEqualAndSaysSo) {
  MathVerdict v = math_equal_traced("\\log_{2}{8}", "3");
  EXPECT_FALSE(v.equal);
  EXPECT_NE(v.rule.find("outside the modelled SymPy subset"), std::string::npos) << v.rule;
}

TEST(MathEqual, PmatrixElementWise) {
  EXPECT_TRUE(math_equal("\\begin{pmatrix}1\\\\2\\end{pmatrix}", "\\begin{pmatrix}1.0\\\\2\\end{pmatrix}"));
}

// ---- the two parsers ------------------------------------------------------------------------------------

TEST(PythonExpr, PythonPrecedenceAndTypes) {
  EXPECT_EQ(*sym::parse_python_expr("2^3+1").value.to_float(), 6);   // + binds tighter than ^
  EXPECT_EQ(*sym::parse_python_expr("-2**2").value.to_float(), -4);  // ** binds tighter than unary -
  EXPECT_EQ(*sym::parse_python_expr("7//2").value.to_float(), 3);
  EXPECT_EQ(*sym::parse_python_expr("-7%3").value.to_float(), 2);
  EXPECT_EQ(*sym::parse_python_expr("3!!").value.to_float(), 3);     // factorial2
  EXPECT_EQ(sym::parse_python_expr("1/2").str, "1/2");
  EXPECT_EQ(sym::parse_python_expr("2.5").str, "2.50000000000000");
}

TEST(PythonExpr, RaisesWhereParseExprRaises) {
  using O = sym::Parsed::Outcome;
  EXPECT_EQ(sym::parse_python_expr("2^{10}").outcome, O::kError);  // Integer ^ set
  EXPECT_EQ(sym::parse_python_expr("2.5^2").outcome, O::kError);   // Float ^ Integer
  EXPECT_EQ(sym::parse_python_expr("2(3)").outcome, O::kError);    // Integer is not callable
  EXPECT_EQ(sym::parse_python_expr("5apples").outcome, O::kError);
  EXPECT_EQ(sym::parse_python_expr("007+1").outcome, O::kError);   // "00" "7": two numbers
  EXPECT_EQ(sym::parse_python_expr("−5").outcome, O::kError);
  EXPECT_EQ(sym::parse_python_expr("[1]*2").outcome, O::kOk);      // list repetition is fine
}

TEST(PythonExpr, ComparisonsGiveBooleans) {
  using O = sym::Parsed::Outcome;
  EXPECT_EQ(sym::parse_python_expr("2<3").str, "True");                 // sympy's BooleanTrue
  EXPECT_EQ(sym::parse_python_expr("-(2)!=2.5").py_bool, 1);            // a Python bool
  EXPECT_EQ(sym::parse_python_expr("2<[1]").outcome, O::kError);       // TypeError
  EXPECT_EQ(sym::parse_python_expr("I<2").outcome, O::kError);         // no order on complex numbers
  EXPECT_EQ(sym::parse_python_expr("(2<3)+1").outcome, O::kError);     // arithmetic on a Boolean
  EXPECT_EQ(*sym::parse_python_expr("0.5//100^1-3!").value.to_float(), -5);  // Float // Integer is an Integer
  // True == Integer(1) in evalscope's a == b check.
  EXPECT_TRUE(symbolic_equal("-(2)!=2.5", "1").equal());
  EXPECT_FALSE(symbolic_equal("2<3", "1").equal());
}

TEST(LatexExpr, NormalizationRemovesBoxAndDollars) {
  EXPECT_EQ(sym::normalize_latex("2\\boxed{3}"), "3");
  EXPECT_EQ(sym::normalize_latex("\\$5 \\dfrac{1}{2}"), "5 \\frac{1}{2}");
  EXPECT_EQ(sym::normalize_latex("\\left( 3 \\right)"), "( 3 )");
}

TEST(LatexExpr, SetsAndTuplesHaveNoNumber) {
  EXPECT_FALSE(sym::parse_latex_expr("{18}").value.to_float());
  EXPECT_FALSE(sym::parse_latex_expr("1,5").value.to_float());
  EXPECT_FALSE(sym::parse_latex_expr("\\pm 3").value.to_float());
  EXPECT_EQ(*sym::parse_latex_expr("(18)").value.to_float(), 18);
  EXPECT_EQ(*sym::parse_latex_expr("{18}+1").value.to_float(), 19);
  EXPECT_EQ(*sym::parse_latex_expr("1,000").value.to_float(), 1000);  // comma_number_regex
}

TEST(LatexExpr, PowersAreLeftAssociativeAndTakeAnAtom) {
  EXPECT_EQ(*sym::parse_latex_expr("2^3^2").value.to_float(), 64);
  EXPECT_EQ(sym::parse_latex_expr("2^-1").outcome, sym::Parsed::Outcome::kError);
  EXPECT_EQ(*sym::parse_latex_expr("e^{0}\\frac{1}{2}").value.to_float(), 1.5);  // exp(0) is Integer 1
}

TEST(LatexExpr, PercentNumberRaises) {
  // The converter checks atom.FUNC_GAMMA() before PERCENT_NUMBER and raises AttributeError.
  EXPECT_EQ(sym::parse_latex_expr("3\\%").outcome, sym::Parsed::Outcome::kError);
}

TEST(SymbolicEqual, TextLeftUnparsedIsSympifiedWithXorAsPower) {
  // Both parsers reject "2.5^-1"; N() then sympifies the text with convert_xor: 0.4.
  EXPECT_TRUE(symbolic_equal("2.5^-1", "0.4").equal());
}

// ---- the scorer's interface -------------------------------------------------------------------------

TEST(Scorer, VersionNamesEvalscope) { EXPECT_EQ(std::string(kScorerVersion).rfind("evalscope-1.12.0/", 0), 0u); }

TEST(Scorer, MmluGoldMustBeAnOption) {
  auto t = score_output(Benchmark::kMmlu, "ANSWER: A", "E", 4);
  ASSERT_FALSE(t.is_ok());
  EXPECT_EQ(t.status().message(), "mmlu: gold \"E\" is not one of the letters A..D");
}

TEST(Scorer, UnknownDatasetIsAnError) {
  EXPECT_EQ(parse_benchmark("math500").status().message(), "unknown dataset 'math500' (known: gsm8k, mmlu, mmlu_pro, math_500, gpqa_diamond)");
}

TEST(Scorer, Gsm8kTraceShowsEachStep) {
  ScoreTrace t = gsm8k("<think>hmm</think>So \\boxed{\\$1,250.00}.", "1250");
  EXPECT_TRUE(t.think_removed);
  EXPECT_EQ(t.completion, "So \\boxed{\\$1,250.00}.");
  EXPECT_EQ(t.rule, "last boxed");
  EXPECT_EQ(t.extracted, "1250");
  EXPECT_EQ(t.reference, "1250");
  EXPECT_TRUE(t.correct);
  EXPECT_EQ(t.verdict, "same text");
}

// ---- (a) the draw follows subset_list's order ---------------------------------------------------

std::vector<std::pair<std::string, int64_t>> draw(const std::vector<std::string>& subsets) {
  nlohmann::json args = {{"dataset_dir", testing::source_path("tests/golden/eval/sampling/mmlu")},
                         {"format", "jsonl"}, {"few_shot_num", 0}, {"subset_list", subsets}};
  auto schema = CollectionNode::from_json({{"name", "c"}, {"datasets", {{{"name", "mmlu"}, {"args", args}}}}});
  EXPECT_TRUE(schema.is_ok()) << schema.status().to_string();
  SampleOptions o;
  o.total = 6;
  o.seed = 42;
  auto set = build_eval_set(*schema, o);
  EXPECT_TRUE(set.is_ok()) << set.status().to_string();
  std::vector<std::pair<std::string, int64_t>> out;
  for (const auto& e : *set) out.emplace_back(e.subset_name, e.subset_id);
  return out;
}

TEST(Sampling, SubsetListOrderDecidesTheDraw) {
  // Same subjects, same seed: the population is laid out in subset_list order, so another order
  // draws other questions (evalscope does the same; sorting the list would change the set).
  EXPECT_NE(draw({"virology", "anatomy", "astronomy"}), draw({"anatomy", "astronomy", "virology"}));
}

TEST(Sampling, RepeatedSubsetCountsOnce) {
  EXPECT_EQ(draw({"virology", "anatomy", "virology"}), draw({"virology", "anatomy"}));
}

TEST(Sampling, DefaultFewShotIsEvalscopes) {
  EXPECT_EQ(default_few_shot_num("mmlu", "generative"), 5);
  EXPECT_EQ(default_few_shot_num("gsm8k", "generative"), 4);
  EXPECT_EQ(default_few_shot_num("mmlu", "loglikelihood"), 0);  // lm-evaluation-harness 0.4.13
}

}  // namespace
}  // namespace qb::eval

namespace qb::eval {
namespace {

// The score spec's strip_thinking: false scores the raw text, think block included.
TEST(Scorer, StripThinkBlockCanBeTurnedOff) {
  const std::string out = "<think>The answer is 5.</think>The answer is 7.";
  auto on = score_output(Benchmark::kGsm8k, out, "5", 0);
  ASSERT_TRUE(on.is_ok());
  EXPECT_TRUE(on->think_removed);
  EXPECT_EQ(on->extracted, "7");
  ScorerOptions off;
  off.strip_think_block = false;
  auto raw = score_output(Benchmark::kGsm8k, out, "5", 0, off);
  ASSERT_TRUE(raw.is_ok());
  EXPECT_FALSE(raw->think_removed);
  EXPECT_EQ(raw->completion, out);
}

}  // namespace
}  // namespace qb::eval

