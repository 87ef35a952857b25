#include "event_index.h"

#include <boost/json.hpp>
#include <gtest/gtest.h>

#include "pg_array.h"

namespace trace::gateway {
namespace {

TEST(EventIndex, RowAndKeysOfATransformation) {
  auto event = boost::json::parse(R"({
    "type": "TransformationEvent", "eventTime": "2026-07-03T10:00:00.000+09:00", "eventTimeZoneOffset": "+09:00",
    "bizStep": "commissioning", "eventID": "ni:///sha-256;abc",
    "readPoint": {"id": "urn:epc:id:sgln:9506000.13436.0"},
    "bizLocation": {"id": "urn:epc:id:sgln:9506000.13436.1"},
    "inputQuantityList": [{"epcClass": "urn:epc:class:lgtin:0614141.107346.PADDY1", "quantity": 1200.5, "uom": "KGM"}],
    "outputEPCList": ["https://id.gs1.org/01/10614141073464/21/S1"],
    "sourceList": [{"type": "owning_party", "source": "urn:epc:id:pgln:9506000.13436"}],
    "ilmd": {"cbvmda:lotNumber": "RICE-0703"}
  })").as_object();
  EventRow row = EventRowFor(event);
  EXPECT_EQ(row.event_type, "TransformationEvent");
  EXPECT_FALSE(row.action.has_value());
  EXPECT_EQ(row.biz_step, "commissioning");
  EXPECT_EQ(row.event_time_zone_offset, "+09:00");
  EXPECT_EQ(row.read_point, "urn:epc:id:sgln:9506000.13436.0");
  EXPECT_EQ(row.biz_location, "urn:epc:id:sgln:9506000.13436.1");
  EXPECT_EQ(row.event_id, "ni:///sha-256;abc");

  auto keys = EventKeysFor(event);
  ASSERT_EQ(keys.size(), 4u);
  EXPECT_EQ(keys[0].kind, "input_class");
  EXPECT_EQ(keys[0].gtin, "10614141073464");
  EXPECT_EQ(keys[0].lot, "PADDY1");
  EXPECT_EQ(keys[0].quantity, 1200.5);
  EXPECT_EQ(keys[0].uom, "KGM");
  EXPECT_EQ(keys[1].kind, "output");
  EXPECT_EQ(keys[1].serial, "S1");
  EXPECT_EQ(keys[2].kind, "source");
  EXPECT_EQ(keys[2].detail, "owning_party");
  EXPECT_FALSE(keys[2].gtin.has_value());
  EXPECT_EQ(keys[3].kind, "lot");
  EXPECT_EQ(keys[3].lot, "RICE-0703");
  EXPECT_EQ(keys[3].gtin, "10614141073464");
}

TEST(EventIndex, AggregationParentAndChildren) {
  auto event = boost::json::parse(R"({"type": "AggregationEvent", "action": "ADD",
    "parentID": "urn:epc:id:sscc:0614141.1234567890",
    "childEPCs": ["urn:epc:id:sgtin:0614141.107346.2018"],
    "childQuantityList": [{"epcClass": "urn:epc:idpat:sgtin:0614141.107346.*", "quantity": 3}]})")
                   .as_object();
  auto keys = EventKeysFor(event);
  ASSERT_EQ(keys.size(), 3u);
  EXPECT_EQ(keys[0].kind, "parent");
  EXPECT_FALSE(keys[0].gtin.has_value());  // an SSCC names no GTIN
  EXPECT_EQ(keys[1].kind, "child");
  EXPECT_EQ(keys[1].serial, "2018");
  EXPECT_EQ(keys[2].kind, "child_class");
  EXPECT_EQ(keys[2].gtin, "10614141073464");
  EXPECT_FALSE(keys[2].lot.has_value());
  EXPECT_EQ(keys[2].quantity, 3.0);
}

TEST(PgArray, QuotesEscapesAndNulls) {
  PgArray a;
  EXPECT_EQ(a.Finish(), "{}");
  a.Add("plain");
  a.Add(R"(q"u\o)");
  a.AddNull();
  a.Add(std::optional<std::string>());
  a.AddBytea(std::string("\x00\xff", 2));
  EXPECT_EQ(a.size(), 5u);
  EXPECT_EQ(a.Finish(), R"({"plain","q\"u\\o",NULL,NULL,"\\x00ff"})");
}

}  // namespace
}  // namespace trace::gateway
