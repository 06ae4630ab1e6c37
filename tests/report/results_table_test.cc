// Reading results CSVs by column name, and every way a results file can be bad.
#include <cmath>

#include <gtest/gtest.h>

#include "report/results_table.h"
#include "report_fixture.h"

namespace qb::report {
namespace {

using testing::csv_row;
using testing::kHeader;

std::string demo_csv() {
  return std::string(kHeader) + csv_row("base", "(source)", "(none)", 0.4, 0.5, "", "k0", "base model") +
         csv_row("v-dyn", "original", "dyn", 0.3, 0.5, "0.001", "k1") + csv_row("v-st", "original", "st", 0.2, 0.25, "0.01", "k2");
}

TEST(ResultsTable, ReadsRowsByColumnName) {
  auto t = ResultsTable::parse(demo_csv(), "results/demo.csv");
  ASSERT_TRUE(t.is_ok()) << t.status().to_string();
  ASSERT_EQ(t->rows().size(), 3u);
  EXPECT_EQ(t->rows()[1].text("variant"), "v-dyn");
  EXPECT_EQ(t->rows()[1].line, 3);
  EXPECT_DOUBLE_EQ(cell(t->rows()[2], "mmlu_acc").value, 0.25);
  ASSERT_NE(t->base(), nullptr);
  EXPECT_EQ(t->base()->text("variant"), "base");
  EXPECT_FALSE(cell(*t->base(), "fidelity_kl").present);
}

TEST(ResultsTable, BenchmarksInColumnOrderWithOverallLast) {
  auto t = ResultsTable::parse("variant,status,overall_acc,zeta_acc,alpha_acc,alpha_acc_norm\nv,current,1,1,1,1\n", "r.csv");
  ASSERT_TRUE(t.is_ok()) << t.status().to_string();
  EXPECT_EQ(t->benchmarks(), (std::vector<std::string>{"zeta", "alpha", "overall"}));
}

TEST(ResultsTable, ColumnOrderDoesNotMatter) {
  auto t = ResultsTable::parse("status,mmlu_acc,variant\nbase model,0.5,b\ncurrent,0.25,v\n", "r.csv");
  ASSERT_TRUE(t.is_ok()) << t.status().to_string();
  EXPECT_DOUBLE_EQ(*recovery(*t, *t->row("v"), "mmlu"), 0.5);
}

TEST(ResultsTable, RecoveryIsAccuracyOverTheBaseModelsWithoutARecoveryColumn) {
  auto t = ResultsTable::parse(demo_csv(), "r.csv");
  ASSERT_TRUE(t.is_ok());
  bool from_column = true;
  EXPECT_DOUBLE_EQ(*recovery(*t, *t->row("v-st"), "mmlu", &from_column), 0.5);
  EXPECT_FALSE(from_column);
  EXPECT_DOUBLE_EQ(*recovery(*t, *t->row("base"), "gsm8k"), 1.0);
}

TEST(ResultsTable, RecoveryComesFromTheRecoveryColumnWhenTheFileHasOne) {
  // The score step's own ratio (issue 21) wins over the report's: it may compare acc_norm.
  auto t = ResultsTable::parse("variant,status,mmlu_acc,mmlu_recovery\nb,base model,0.5,\nv,current,0.25,0.9\n", "r.csv");
  ASSERT_TRUE(t.is_ok()) << t.status().to_string();
  bool from_column = false;
  EXPECT_DOUBLE_EQ(*recovery(*t, *t->row("v"), "mmlu", &from_column), 0.9);
  EXPECT_TRUE(from_column);
  EXPECT_DOUBLE_EQ(*recovery(*t, *t->row("b"), "mmlu"), 1.0);
}

TEST(ResultsTable, NoRecoveryWithoutABaseRowOrWithAZeroBase) {
  auto no_base = ResultsTable::parse("variant,status,mmlu_acc\nv,current,0.25\n", "r.csv");
  ASSERT_TRUE(no_base.is_ok());
  EXPECT_FALSE(recovery(*no_base, *no_base->row("v"), "mmlu").has_value());
  auto zero = ResultsTable::parse("variant,status,mmlu_acc\nb,base model,0\nv,current,0.25\n", "r.csv");
  ASSERT_TRUE(zero.is_ok());
  EXPECT_FALSE(recovery(*zero, *zero->row("v"), "mmlu").has_value());
}

TEST(ResultsTable, NanAndNullAreValuesThatAreNotFinite) {
  // NaN as printf writes it, and as it comes back from the index's JSON (null).
  auto t = ResultsTable::parse("variant,status,mmlu_acc,fidelity_kl\nb,base model,nan,\nv,current,0.5,null\n", "r.csv");
  ASSERT_TRUE(t.is_ok()) << t.status().to_string();
  Number a = cell(*t->row("b"), "mmlu_acc");
  EXPECT_TRUE(a.present);
  EXPECT_TRUE(std::isnan(a.value));
  EXPECT_FALSE(a.finite());
  EXPECT_FALSE(cell(*t->row("v"), "fidelity_kl").finite());
  EXPECT_TRUE(cell(*t->row("v"), "fidelity_kl").present);
  EXPECT_FALSE(recovery(*t, *t->row("v"), "mmlu").has_value());  // the base's accuracy is NaN
}

TEST(ResultsTable, MissingFileSaysHowToBuildIt) {
  auto t = ResultsTable::load("/nonexistent/results/x.csv", "results/x.csv");
  ASSERT_FALSE(t.is_ok());
  EXPECT_EQ(t.status().code(), Code::kNotFound);
  EXPECT_EQ(t.status().message(), "results/x.csv does not exist: build it first (`qbuild results/x.csv`)");
}

// Each corruption is an error naming the file, the line and what is wrong.
TEST(ResultsTable, CorruptFilesAreErrorsNamingFileAndLine) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"", "r.csv: the file is empty (no header): rebuild it with `qbuild r.csv`"},
      {"mmlu_acc,status\n0.5,current\n", "r.csv:1: no 'variant' column: this is not a qbuild results file"},
      {"variant,status,mmlu_acc\nv,current\n", "r.csv:2: 2 field(s), but the header has 3 column(s)"},
      {"variant,status,mmlu_acc\nv,current,0.5,7\n", "r.csv:2: 4 field(s), but the header has 3 column(s)"},
      {"variant,status,mmlu_acc\nv,current,abc\n", "r.csv:2: column 'mmlu_acc': 'abc' is not a number"},
      {"variant,status,fidelity_kl\nv,current,0.1x\n", "r.csv:2: column 'fidelity_kl': '0.1x' is not a number"},
      {"variant,status,mmlu_acc\nv,cur\"rent,1\n", "r.csv:2:6: quote inside an unquoted field"},
      {"variant,status,mmlu_acc\n\"v,current,1\n", "r.csv:2:1: unterminated quoted field"},
      {"variant,status,variant\nv,current,w\n", "r.csv:1: column 'variant' appears twice"},
      {"variant,status\nv,current\nv,current\n", "r.csv:3: variant 'v' appears twice (also on line 2)"},
      {"variant,status\n,current\n", "r.csv:2: the row has no variant name"},
  };
  for (const auto& [text, want] : cases) {
    auto t = ResultsTable::parse(text, "r.csv");
    ASSERT_FALSE(t.is_ok()) << text;
    EXPECT_NE(t.status().message().find(want), std::string::npos) << t.status().message();
  }
}

TEST(ResultsTable, TextInColumnsItDoesNotKnowIsKept) {
  auto t = ResultsTable::parse("variant,status,notes,wikitext_word_perplexity\nv,current,\"a, b\",12.5\n", "r.csv");
  ASSERT_TRUE(t.is_ok()) << t.status().to_string();
  EXPECT_EQ(t->rows()[0].text("notes"), "a, b");
  EXPECT_EQ(t->rows()[0].text("wikitext_word_perplexity"), "12.5");
}

}  // namespace
}  // namespace qb::report
