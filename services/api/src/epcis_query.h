// EPCIS 2.0 event queries over the stored events (GS1 EPCIS 2.0 REST binding,
// GET /events with SimpleEventQuery parameters):
//   MATCH_epc        epcList, childEPCs, inputEPCList, outputEPCList (an SGTIN URN,
//                    an idpat for every serial of a GTIN, or a Digital Link)
//   MATCH_epcClass   quantityList, childQuantityList, input/outputQuantityList
//                    (an LGTIN URN or a Digital Link with /10/)
//   EQ_bizStep       bare CBV word or its URN/URI form
//   GE_eventTime, LT_eventTime   RFC 3339
//   perPage (1..1000, default 30), nextPageToken
// Several values of one parameter are given comma-separated or by repeating it
// ("OR"); different parameters combine with "AND". Results are ordered by
// (eventTime, envelope, index).
//
// nextPageToken is opaque and tamper-evident: base64url of the last row's
// (eventTime, envelope id, index) and a hash of the filters, followed by an
// HMAC-SHA256 tag under the server's secret. A token that was altered, or is used
// with other filters, is refused (400).
//
// Pure functions apart from RunEpcisQuery (one transaction). Thread-safe.
#pragma once

#include <boost/json/object.hpp>
#include <map>
#include <optional>
#include <pqxx/transaction_base>
#include <string>
#include <vector>

#include "trace/common/status.h"

namespace trace::api {

struct EpcisQuery {
  std::vector<std::string> match_epc, match_epc_class, eq_biz_step;
  std::optional<std::string> ge_event_time, lt_event_time;  // as given, validated
  int per_page = 30;
  // Where the previous page ended.
  struct Cursor {
    std::string event_time;  // "2026-01-01T00:00:00.000000Z"
    std::string envelope;    // hex
    int index = 0;
  };
  std::optional<Cursor> after;

  // A digest of the filters (not perPage, not the token): what a token is bound to.
  std::string FilterDigest() const;
};

// Validates the parameters (InvalidArgument naming the parameter). Unknown
// parameters are refused too, as the EPCIS query interface requires for
// unknown query parameters.
Result<EpcisQuery> ParseEpcisQuery(const std::multimap<std::string, std::string>& params, std::string_view secret);

std::string MakePageToken(const EpcisQuery::Cursor& cursor, const std::string& filter_digest, std::string_view secret);
Result<EpcisQuery::Cursor> OpenPageToken(std::string_view token, const std::string& filter_digest,
                                         std::string_view secret);

struct EpcisPage {
  boost::json::object document;           // the EPCISQueryDocument
  std::optional<std::string> next_token;  // when there may be more
};

Result<EpcisPage> RunEpcisQuery(pqxx::transaction_base& tx, const EpcisQuery& query, std::string_view secret);

// The EPCIS 2.0 JSON-LD context URI.
inline constexpr char kEpcisContext[] = "https://ref.gs1.org/standards/epcis/epcis-context.jsonld";

}  // namespace trace::api
