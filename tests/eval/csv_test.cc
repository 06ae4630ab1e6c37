// RFC 4180 parsing: quoting, multi-line fields, line numbers, and each malformed input.
#include "steps/eval/csv.h"

#include <gtest/gtest.h>

namespace qb::eval {
namespace {

TEST(Csv, PlainRecordsWithLfAndCrlf) {
  auto r = parse_csv("a,b,c\r\n1,2,3\n", "t.csv");
  ASSERT_TRUE(r.is_ok()) << r.status().to_string();
  ASSERT_EQ(r->size(), 2u);
  EXPECT_EQ((*r)[0].fields, (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_EQ((*r)[1].fields, (std::vector<std::string>{"1", "2", "3"}));
  EXPECT_EQ((*r)[1].line, 2);
}

TEST(Csv, QuotedFieldsHoldCommasQuotesAndNewlines) {
  auto r = parse_csv("\"x, y\",\"say \"\"hi\"\"\",\"two\nlines\"\nnext,row,here", "t.csv");
  ASSERT_TRUE(r.is_ok()) << r.status().to_string();
  ASSERT_EQ(r->size(), 2u);
  EXPECT_EQ((*r)[0].fields, (std::vector<std::string>{"x, y", "say \"hi\"", "two\nlines"}));
  EXPECT_EQ((*r)[1].line, 3);  // the record after a two-line field starts on line 3
}

TEST(Csv, EmptyFieldsAndTrailingSeparator) {
  auto r = parse_csv(",\"\",x,\n", "t.csv");
  ASSERT_TRUE(r.is_ok());
  EXPECT_EQ((*r)[0].fields, (std::vector<std::string>{"", "", "x", ""}));
}

TEST(Csv, SkipsBomAndEmptyLines) {
  auto r = parse_csv("\xEF\xBB\xBFq,a\n\n1,2\n", "t.csv");
  ASSERT_TRUE(r.is_ok());
  ASSERT_EQ(r->size(), 2u);
  EXPECT_EQ((*r)[0].fields[0], "q");
  EXPECT_EQ((*r)[1].line, 3);
}

TEST(Csv, UnterminatedQuoteNamesWhereItOpened) {
  auto r = parse_csv("a,b\nc,\"never\nclosed\n", "t.csv");
  ASSERT_FALSE(r.is_ok());
  EXPECT_EQ(r.status().message(), "t.csv:2:3: unterminated quoted field");
}

TEST(Csv, TextAfterClosingQuoteIsAnError) {
  auto r = parse_csv("\"ab\"c,d\n", "t.csv");
  ASSERT_FALSE(r.is_ok());
  EXPECT_EQ(r.status().message(), "t.csv:1:5: unexpected character after closing quote (expected ',' or end of line)");
}

TEST(Csv, QuoteInsideUnquotedFieldIsAnError) {
  auto r = parse_csv("ok\nab\"c\n", "t.csv");
  ASSERT_FALSE(r.is_ok());
  EXPECT_EQ(r.status().message(),
            "t.csv:2:3: quote inside an unquoted field (quote the whole field and double the quote)");
}

}  // namespace
}  // namespace qb::eval
