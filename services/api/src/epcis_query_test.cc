#include "epcis_query.h"

#include <gtest/gtest.h>

namespace trace::api {
namespace {

std::multimap<std::string, std::string> P(std::initializer_list<std::pair<const std::string, std::string>> l) {
  return std::multimap<std::string, std::string>(l);
}

TEST(EpcisQuery, ParsesListsAndBareBizSteps) {
  auto q = ParseEpcisQuery(P({{"MATCH_epc", "urn:a,urn:b"},
                              {"EQ_bizStep", "urn:epcglobal:cbv:bizstep:shipping"},
                              {"GE_eventTime", "2026-01-01T00:00:00Z"},
                              {"perPage", "5"}}),
                           "k");
  ASSERT_TRUE(q.has_value()) << q.error();
  EXPECT_EQ(q->match_epc.size(), 2u);
  EXPECT_EQ(q->eq_biz_step.at(0), "shipping");
  EXPECT_EQ(q->per_page, 5);
}

TEST(EpcisQuery, RefusesBadParameters) {
  EXPECT_FALSE(ParseEpcisQuery(P({{"perPage", "0"}}), "k").has_value());
  EXPECT_FALSE(ParseEpcisQuery(P({{"perPage", "5x"}}), "k").has_value());
  EXPECT_FALSE(ParseEpcisQuery(P({{"GE_eventTime", "yesterday"}}), "k").has_value());
  EXPECT_FALSE(ParseEpcisQuery(P({{"MATCH_anything", "x"}}), "k").has_value());
}

TEST(EpcisQuery, PageTokenIsTamperEvidentAndBoundToFilters) {
  EpcisQuery q;
  q.eq_biz_step = {"shipping"};
  EpcisQuery::Cursor c{"2026-01-01T00:00:00.000000Z", std::string(64, 'a'), 3};
  std::string token = MakePageToken(c, q.FilterDigest(), "secret");
  auto back = OpenPageToken(token, q.FilterDigest(), "secret");
  ASSERT_TRUE(back.has_value()) << back.error();
  EXPECT_EQ(back->index, 3);
  EXPECT_EQ(back->envelope, c.envelope);
  EXPECT_FALSE(OpenPageToken(token, q.FilterDigest(), "other secret").has_value());
  std::string tampered = token;
  tampered[2] = tampered[2] == 'A' ? 'B' : 'A';
  EXPECT_FALSE(OpenPageToken(tampered, q.FilterDigest(), "secret").has_value());
  EpcisQuery other;
  other.eq_biz_step = {"receiving"};
  EXPECT_FALSE(OpenPageToken(token, other.FilterDigest(), "secret").has_value());
  // Through the parser, with the same filters.
  auto parsed = ParseEpcisQuery(P({{"EQ_bizStep", "shipping"}, {"nextPageToken", token}}), "secret");
  ASSERT_TRUE(parsed.has_value()) << parsed.error();
  ASSERT_TRUE(parsed->after.has_value());
  EXPECT_FALSE(ParseEpcisQuery(P({{"EQ_bizStep", "receiving"}, {"nextPageToken", token}}), "secret").has_value());
}

}  // namespace
}  // namespace trace::api
