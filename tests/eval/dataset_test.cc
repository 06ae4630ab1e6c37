// Dataset discovery and loading: the demo datasets in every format, and one test per kind of
// malformed record (each naming the file, the row and the field).
#include "steps/eval/dataset.h"

#include <gtest/gtest.h>

#include "steps/eval/rows.h"
#include "test_util.h"

namespace qb::eval {
namespace {

using testing::DatasetDir;
using testing::source_path;

const std::filesystem::path kDemoMmlu = source_path("data/datasets/demo_mmlu");
const std::filesystem::path kDemoGsm8k = source_path("data/datasets/demo_gsm8k");

void expect_same(const std::vector<MmluItem>& a, const std::vector<MmluItem>& b) {
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i].question, b[i].question) << i;
    EXPECT_EQ(a[i].subject, b[i].subject) << i;
    EXPECT_EQ(a[i].choices, b[i].choices) << i;
    EXPECT_EQ(a[i].answer, b[i].answer) << i;
    EXPECT_EQ(a[i].index, b[i].index) << i;
  }
}

TEST(Dataset, DemoMmluJsonlHasFourSubjects) {
  auto test = load_mmlu(kDemoMmlu, "test", FileFormat::kJsonl);
  ASSERT_TRUE(test.is_ok()) << test.status().to_string();
  ASSERT_EQ(test->size(), 40u);
  EXPECT_EQ((*test)[0].subject, "astronomy");
  EXPECT_EQ((*test)[0].question, "What is the largest planet in the Solar System?");
  EXPECT_EQ((*test)[0].answer, 3);
  EXPECT_EQ((*test)[0].where, "demo_mmlu/all/test.jsonl:1");
  EXPECT_EQ((*test)[39].subject, "high_school_geography");
  EXPECT_EQ((*test)[39].index, 39);
  auto dev = load_mmlu(kDemoMmlu, "dev", FileFormat::kJsonl);
  ASSERT_TRUE(dev.is_ok());
  EXPECT_EQ(dev->size(), 20u);
}

TEST(Dataset, DemoMmluCsvMatchesJsonl) {
  auto jsonl = load_mmlu(kDemoMmlu, "test", FileFormat::kJsonl);
  auto csv = load_mmlu(kDemoMmlu, "test", FileFormat::kCsv);
  ASSERT_TRUE(csv.is_ok()) << csv.status().to_string();
  expect_same(*jsonl, *csv);
  EXPECT_EQ((*csv)[0].where, "demo_mmlu/data/test/astronomy_test.csv:1");
  // The multi-line question (quoted in the CSV) survives intact.
  EXPECT_EQ((*csv)[29].question, "Consider the program below.\nx = 3\ny = x * 2\nprint(\"y =\", y)\nWhat does it print?");
}

TEST(Dataset, DemoMmluParquetMatchesJsonl) {
  if (!parquet_available()) GTEST_SKIP() << "built without Parquet";
  auto jsonl = load_mmlu(kDemoMmlu, "test", FileFormat::kJsonl);
  auto pq = load_mmlu(kDemoMmlu, "test", FileFormat::kParquet);
  ASSERT_TRUE(pq.is_ok()) << pq.status().to_string();
  expect_same(*jsonl, *pq);
  EXPECT_EQ((*pq)[5].where, "demo_mmlu/all/test-00000-of-00001.parquet: row 5");
}

TEST(Dataset, AutoPrefersParquetThenJsonl) {
  auto sf = find_split(kDemoMmlu, "mmlu", "test");
  ASSERT_TRUE(sf.is_ok());
  EXPECT_EQ(sf->format, FileFormat::kParquet);  // discovery does not depend on the build
  DatasetDir d("m");
  d.write("all/test.jsonl", "");
  d.write("data/test/x_test.csv", "");
  auto sf2 = find_split(d.root(), "mmlu", "test");
  ASSERT_TRUE(sf2.is_ok());
  EXPECT_EQ(sf2->format, FileFormat::kJsonl);
}

TEST(Dataset, DemoGsm8kAllFormatsAgree) {
  auto jsonl = load_gsm8k(kDemoGsm8k, "test", FileFormat::kJsonl);
  ASSERT_TRUE(jsonl.is_ok()) << jsonl.status().to_string();
  ASSERT_EQ(jsonl->size(), 40u);
  EXPECT_EQ((*jsonl)[0].target, "27");
  EXPECT_EQ((*jsonl)[0].reasoning, "She buys 5*8 = <<5*8=40>>40 stickers.\nShe has 40-13 = <<40-13=27>>27 left.");
  std::vector<FileFormat> formats = {FileFormat::kCsv};
  if (parquet_available()) formats.push_back(FileFormat::kParquet);
  for (FileFormat f : formats) {
    auto other = load_gsm8k(kDemoGsm8k, "test", f);
    ASSERT_TRUE(other.is_ok()) << other.status().to_string();
    ASSERT_EQ(other->size(), jsonl->size());
    for (size_t i = 0; i < jsonl->size(); ++i) {
      EXPECT_EQ((*other)[i].question, (*jsonl)[i].question);
      EXPECT_EQ((*other)[i].answer, (*jsonl)[i].answer);
    }
  }
  auto train = load_gsm8k(kDemoGsm8k, "train", FileFormat::kCsv);
  ASSERT_TRUE(train.is_ok());
  EXPECT_EQ(train->size(), 8u);
}

TEST(Dataset, ParquetShardsAreReadInNameOrder) {
  if (!parquet_available()) GTEST_SKIP() << "built without Parquet";
  auto r = load_gsm8k(source_path("tests/golden/eval/parquet/gsm8k_shards"), "test");
  ASSERT_TRUE(r.is_ok()) << r.status().to_string();
  ASSERT_EQ(r->size(), 4u);
  for (int i = 0; i < 4; ++i) EXPECT_EQ((*r)[i].target, std::to_string(i));
  EXPECT_EQ((*r)[2].where, "gsm8k_shards/main/test-00001-of-00002.parquet: row 0");
}

TEST(Dataset, SplitAnswerAtLastHashes) {
  Gsm8kAnswer a = split_gsm8k_answer("a #### b\nc\n####  42 ");
  EXPECT_EQ(a.reasoning, "a #### b\nc");
  EXPECT_EQ(a.target, "42");
}

// ---- malformed records: one test per kind -------------------------------------------------

std::string mmlu_error(const std::string& line) {
  DatasetDir d("mm");
  d.write("all/test.jsonl",
          "{\"question\":\"ok\",\"subject\":\"s\",\"choices\":[\"a\",\"b\",\"c\",\"d\"],\"answer\":0}\n" + line + "\n");
  auto r = load_mmlu(d.root(), "test");
  EXPECT_FALSE(r.is_ok());
  return r.status().message();
}

TEST(DatasetErrors, JsonSyntax) {
  std::string m = mmlu_error("{\"question\": ");
  EXPECT_EQ(m.rfind("mm/all/test.jsonl:2: [json.exception.parse_error.101] parse error", 0), 0u) << m;
}

TEST(DatasetErrors, NotAnObject) { EXPECT_EQ(mmlu_error("[1,2]"), "mm/all/test.jsonl:2: expected a JSON object, got array"); }

TEST(DatasetErrors, MissingField) {
  EXPECT_EQ(mmlu_error("{\"question\":\"q\",\"choices\":[\"a\",\"b\",\"c\",\"d\"],\"answer\":0}"),
            "mm/all/test.jsonl:2: missing field 'subject'");
}

TEST(DatasetErrors, WrongFieldType) {
  EXPECT_EQ(mmlu_error("{\"question\":7,\"subject\":\"s\",\"choices\":[\"a\",\"b\",\"c\",\"d\"],\"answer\":0}"),
            "mm/all/test.jsonl:2: field 'question': expected a string, got 7");
}

TEST(DatasetErrors, ChoicesNotFour) {
  EXPECT_EQ(mmlu_error("{\"question\":\"q\",\"subject\":\"s\",\"choices\":[\"a\",\"b\"],\"answer\":0}"),
            "mm/all/test.jsonl:2: field 'choices': expected a list of 4 strings, got [\"a\",\"b\"]");
}

TEST(DatasetErrors, ChoiceNotString) {
  EXPECT_EQ(mmlu_error("{\"question\":\"q\",\"subject\":\"s\",\"choices\":[\"a\",\"b\",null,\"d\"],\"answer\":0}"),
            "mm/all/test.jsonl:2: field 'choices': item 2 is not a string: null");
}

TEST(DatasetErrors, AnswerOutOfRange) {
  EXPECT_EQ(mmlu_error("{\"question\":\"q\",\"subject\":\"s\",\"choices\":[\"a\",\"b\",\"c\",\"d\"],\"answer\":4}"),
            "mm/all/test.jsonl:2: field 'answer': expected an integer 0..3 (A..D), got 4");
  EXPECT_EQ(mmlu_error("{\"question\":\"q\",\"subject\":\"s\",\"choices\":[\"a\",\"b\",\"c\",\"d\"],\"answer\":\"B\"}"),
            "mm/all/test.jsonl:2: field 'answer': expected an integer 0..3 (A..D), got \"B\"");
}

TEST(DatasetErrors, HendrycksWrongFieldCount) {
  DatasetDir d("h");
  d.write("data/test/anatomy_test.csv", "q,a,b,c,d,A\n\"multi\nline\",a,b,c,d\n");
  auto r = load_mmlu(d.root(), "test");
  ASSERT_FALSE(r.is_ok());
  EXPECT_EQ(r.status().message(), "h/data/test/anatomy_test.csv:2: expected 6 fields (question, A, B, C, D, answer), got 5");
}

TEST(DatasetErrors, HendrycksBadLetter) {
  DatasetDir d("h");
  d.write("data/test/anatomy_test.csv", "q,a,b,c,d,E\n");
  auto r = load_mmlu(d.root(), "test");
  ASSERT_FALSE(r.is_ok());
  EXPECT_EQ(r.status().message(), "h/data/test/anatomy_test.csv:1: field 6 (answer): expected a letter A..D, got \"E\"");
}

TEST(DatasetErrors, HendrycksBadCsvQuoting) {
  DatasetDir d("h");
  d.write("data/test/anatomy_test.csv", "q,a,b,c,d,A\n\"open,a,b,c,d,A\n");
  auto r = load_mmlu(d.root(), "test");
  ASSERT_FALSE(r.is_ok());
  EXPECT_EQ(r.status().message(), "h/data/test/anatomy_test.csv:2:1: unterminated quoted field");
}

TEST(DatasetErrors, HendrycksSubjectFromFileName) {
  DatasetDir d("h");
  d.write("data/test/b_subject_test.csv", "q2,a,b,c,d,B\n");
  d.write("data/test/a_subject_test.csv", "q1,a,b,c,d,C\n");
  auto r = load_mmlu(d.root(), "test");
  ASSERT_TRUE(r.is_ok()) << r.status().to_string();
  ASSERT_EQ(r->size(), 2u);
  EXPECT_EQ((*r)[0].subject, "a_subject");
  EXPECT_EQ((*r)[0].answer, 2);
  EXPECT_EQ((*r)[1].subject, "b_subject");
}

TEST(DatasetErrors, Gsm8kNoFinalAnswer) {
  DatasetDir d("g");
  d.write("main/test.jsonl", "{\"question\":\"q\",\"answer\":\"1+1=2\"}\n");
  auto r = load_gsm8k(d.root(), "test");
  ASSERT_FALSE(r.is_ok());
  EXPECT_EQ(r.status().message(),
            "g/main/test.jsonl:1: field 'answer': no final answer (expected the solution to end with \"#### <answer>\")");
}

TEST(DatasetErrors, Gsm8kEmptyFinalAnswer) {
  DatasetDir d("g");
  d.write("main/test.jsonl", "{\"question\":\"q\",\"answer\":\"1+1=2\\n#### \"}\n");
  auto r = load_gsm8k(d.root(), "test");
  ASSERT_FALSE(r.is_ok());
  EXPECT_EQ(r.status().message(), "g/main/test.jsonl:1: field 'answer': empty final answer after \"####\"");
}

// Issue 15 #16: "#### many" was accepted as a gold answer.
TEST(DatasetErrors, Gsm8kFinalAnswerMustBeANumber) {
  DatasetDir d("g");
  d.write("main/test.jsonl", "{\"question\":\"q\",\"answer\":\"lots\\n#### many\"}\n");
  auto r = load_gsm8k(d.root(), "test");
  ASSERT_FALSE(r.is_ok());
  EXPECT_EQ(r.status().message(),
            "g/main/test.jsonl:1: field 'answer': the final answer after \"####\" is 'many', not a number (GSM8K "
            "answers are numbers: 72, -3, 1,250, 0.5)");
  for (const char* ok : {"72", "-3", "1,250", "0.5", "3/4", "+7", ".5"}) EXPECT_TRUE(is_numeric_gold(ok)) << ok;
  for (const char* bad : {"many", "1,25", "7 apples", "", "1.2.3", "$5"}) EXPECT_FALSE(is_numeric_gold(bad)) << bad;
}

// Issue 15 #16: an empty GSM8K file was dropped silently.
TEST(DatasetErrors, AnEmptySplitIsAnError) {
  DatasetDir d("g");
  d.write("main/test.jsonl", "");
  auto r = load_gsm8k(d.root(), "test");
  ASSERT_FALSE(r.is_ok());
  EXPECT_NE(r.status().message().find("dataset 'gsm8k': split 'test' in '"), std::string::npos) << r.status().message();
  EXPECT_NE(r.status().message().find("has no items (empty files?)"), std::string::npos);
}

// Issue 15 #11: a row nested 100,000 levels deep crashed the sample step.
TEST(DatasetErrors, ADeeplyNestedRowIsAnErrorNotACrash) {
  std::string m = mmlu_error("{\"question\": " + std::string(100000, '[') + std::string(100000, ']') + "}");
  EXPECT_EQ(m, "mm/all/test.jsonl:2: nested deeper than 64 levels");
}

TEST(DatasetErrors, Gsm8kCsvFieldCount) {
  DatasetDir d("g");
  d.write("main/test.csv", "question,answer\nq,\"a\n#### 1\"\nonly-one-field\n");
  auto r = load_gsm8k(d.root(), "test");
  ASSERT_FALSE(r.is_ok());
  EXPECT_EQ(r.status().message(), "g/main/test.csv:4: expected 2 fields (as the header), got 1");
}

TEST(DatasetErrors, ParquetAnswerOutOfRange) {
  if (!parquet_available()) GTEST_SKIP() << "built without Parquet";
  auto r = load_mmlu(source_path("tests/golden/eval/parquet/mmlu_bad_answer"), "test");
  ASSERT_FALSE(r.is_ok());
  EXPECT_EQ(r.status().message(),
            "mmlu_bad_answer/all/test-00000-of-00001.parquet: row 1: field 'answer': expected an integer 0..3 (A..D), got 7");
}

TEST(DatasetErrors, ParquetThreeChoices) {
  if (!parquet_available()) GTEST_SKIP() << "built without Parquet";
  auto r = load_mmlu(source_path("tests/golden/eval/parquet/mmlu_three_choices"), "test");
  ASSERT_FALSE(r.is_ok());
  EXPECT_EQ(r.status().message(),
            "mmlu_three_choices/all/test-00000-of-00001.parquet: row 0: field 'choices': expected a list of 4 "
            "strings, got [\"a\",\"b\",\"c\"]");
}

TEST(DatasetErrors, ParquetGsm8kNoFinalAnswer) {
  if (!parquet_available()) GTEST_SKIP() << "built without Parquet";
  auto r = load_gsm8k(source_path("tests/golden/eval/parquet/gsm8k_no_final"), "test");
  ASSERT_FALSE(r.is_ok());
  EXPECT_EQ(r.status().message(),
            "gsm8k_no_final/main/test-00000-of-00001.parquet: row 0: field 'answer': no final answer (expected the "
            "solution to end with \"#### <answer>\")");
}

TEST(DatasetErrors, ParquetTruncatedFile) {
  if (!parquet_available()) GTEST_SKIP() << "built without Parquet";
  auto bytes = qb::fs::read_file(kDemoGsm8k / "main/test-00000-of-00001.parquet");
  ASSERT_TRUE(bytes.is_ok());
  DatasetDir d("g");
  d.write("main/test-00000-of-00001.parquet", bytes->substr(0, bytes->size() / 2));
  auto r = load_gsm8k(d.root(), "test");
  ASSERT_FALSE(r.is_ok());
  EXPECT_EQ(r.status().code(), Code::kCorrupt);
  EXPECT_EQ(r.status().message().rfind("g/main/test-00000-of-00001.parquet: not a readable Parquet file: ", 0), 0u)
      << r.status().message();
}

TEST(DatasetErrors, MissingSplit) {
  DatasetDir d("g");
  d.write("main/train.jsonl", "");
  auto r = load_gsm8k(d.root(), "test");
  ASSERT_FALSE(r.is_ok());
  EXPECT_EQ(r.status().code(), Code::kNotFound);
  EXPECT_EQ(r.status().message(),
            "dataset folder '" + d.root().string() +
                "': no file for split 'test' (expected e.g. main/test.jsonl or main/test-00000-of-00001.parquet; see "
                "data/HELP.md)");
}

TEST(DatasetErrors, RequestedFormatAbsent) {
  DatasetDir d("g");
  d.write("main/test.jsonl", "");
  auto r = load_gsm8k(d.root(), "test", FileFormat::kParquet);
  ASSERT_FALSE(r.is_ok());
  EXPECT_EQ(r.status().message(), "dataset folder '" + d.root().string() + "': no parquet file for split 'test' (found: jsonl in " +
                                      (d.root() / "main").string() + ")");
}

TEST(Dataset, PerSubjectFolders) {
  DatasetDir d("m");
  d.write("zoology/test.jsonl", "{\"question\":\"z\",\"subject\":\"zoology\",\"choices\":[\"a\",\"b\",\"c\",\"d\"],\"answer\":1}\n");
  d.write("anatomy/test.jsonl", "{\"question\":\"a\",\"subject\":\"anatomy\",\"choices\":[\"a\",\"b\",\"c\",\"d\"],\"answer\":2}\n");
  auto r = load_mmlu(d.root(), "test");
  ASSERT_TRUE(r.is_ok()) << r.status().to_string();
  ASSERT_EQ(r->size(), 2u);
  EXPECT_EQ((*r)[0].subject, "anatomy");
  EXPECT_EQ((*r)[1].where, "m/zoology/test.jsonl:1");
}

TEST(Dataset, ParseFormat) {
  EXPECT_EQ(*parse_format("parquet"), FileFormat::kParquet);
  EXPECT_EQ(parse_format("xlsx").status().message(), "unknown dataset format 'xlsx' (expected auto, jsonl, csv or parquet)");
}

}  // namespace
}  // namespace qb::eval
