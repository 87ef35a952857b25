#include "epcis_query.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <boost/json.hpp>
#include <chrono>
#include <cstring>
#include <pqxx/pqxx>

#include "trace/common/encoding.h"
#include "trace/common/epc.h"
#include "trace/common/sha256.h"
#include "trace/common/time.h"

namespace trace::api {
namespace {

namespace json = boost::json;

std::vector<std::string> SplitList(const std::string& s) {
  std::vector<std::string> out;
  size_t start = 0;
  for (;;) {
    size_t pos = s.find(',', start);
    std::string part = s.substr(start, pos == std::string::npos ? std::string::npos : pos - start);
    if (!part.empty()) out.push_back(part);
    if (pos == std::string::npos) break;
    start = pos + 1;
  }
  return out;
}

std::string Hmac(std::string_view secret, std::string_view data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), out, &len);
  return std::string(reinterpret_cast<char*>(out), 16);
}

bool ConstantTimeEqual(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  unsigned char d = 0;
  for (size_t i = 0; i < a.size(); ++i) d |= static_cast<unsigned char>(a[i] ^ b[i]);
  return d == 0;
}

// "urn:epcglobal:cbv:bizstep:shipping" and "https://ref.gs1.org/cbv/BizStep-shipping" -> "shipping".
std::string BareBizStep(const std::string& s) {
  for (std::string_view prefix : {"urn:epcglobal:cbv:bizstep:", "https://ref.gs1.org/cbv/BizStep-",
                                  "https://gs1.org/voc/BizStep-", "https://ns.gs1.org/cbv/BizStep-"}) {
    if (s.starts_with(prefix)) return s.substr(prefix.size());
  }
  return s;
}

}  // namespace

std::string EpcisQuery::FilterDigest() const {
  std::string s;
  auto add = [&](const char* name, const std::vector<std::string>& values) {
    s += name;
    for (const auto& v : values) {
      s += '\x1f';
      s += v;
    }
    s += "\x1e";
  };
  add("epc", match_epc);
  add("class", match_epc_class);
  add("bizStep", eq_biz_step);
  s += "ge\x1f";
  s += ge_event_time.value_or("");
  s += "\x1elt\x1f";
  s += lt_event_time.value_or("");
  return HashHex(Sha256(s)).substr(0, 16);
}

std::string MakePageToken(const EpcisQuery::Cursor& cursor, const std::string& filter_digest, std::string_view secret) {
  std::string payload =
      cursor.event_time + "|" + cursor.envelope + "|" + std::to_string(cursor.index) + "|" + filter_digest;
  return Base64UrlEncode(payload) + "." + Base64UrlEncode(Hmac(secret, payload));
}

Result<EpcisQuery::Cursor> OpenPageToken(std::string_view token, const std::string& filter_digest,
                                         std::string_view secret) {
  auto bad = [] { return Fail(InvalidArgument("nextPageToken: not a token of this query")); };
  auto dot = token.find('.');
  if (dot == std::string_view::npos) return bad();
  auto payload = Base64UrlDecode(token.substr(0, dot));
  auto tag = Base64UrlDecode(token.substr(dot + 1));
  if (!payload || !tag || !ConstantTimeEqual(*tag, Hmac(secret, *payload))) return bad();
  std::vector<std::string> parts;
  size_t start = 0;
  for (;;) {
    size_t pos = payload->find('|', start);
    parts.push_back(payload->substr(start, pos == std::string::npos ? std::string::npos : pos - start));
    if (pos == std::string::npos) break;
    start = pos + 1;
  }
  if (parts.size() != 4 || parts[3] != filter_digest) return bad();
  EpcisQuery::Cursor c;
  c.event_time = parts[0];
  c.envelope = parts[1];
  try {
    c.index = std::stoi(parts[2]);
  } catch (...) {
    return bad();
  }
  if (!ParseRfc3339(c.event_time) || c.envelope.size() != 64 || !HexDecode(c.envelope)) return bad();
  return c;
}

Result<EpcisQuery> ParseEpcisQuery(const std::multimap<std::string, std::string>& params, std::string_view secret) {
  EpcisQuery q;
  std::optional<std::string> token;
  for (const auto& [name, value] : params) {
    if (name == "MATCH_epc" || name == "MATCH_epcClass" || name == "EQ_bizStep") {
      auto list = SplitList(value);
      if (list.empty()) return Fail(InvalidArgument(name + ": empty"));
      auto& dest = name == "MATCH_epc" ? q.match_epc : name == "MATCH_epcClass" ? q.match_epc_class : q.eq_biz_step;
      for (auto& v : list) dest.push_back(name == "EQ_bizStep" ? BareBizStep(v) : v);
    } else if (name == "GE_eventTime" || name == "LT_eventTime") {
      if (!ParseRfc3339(value)) return Fail(InvalidArgument(name + ": not an RFC 3339 date-time: " + value));
      (name == "GE_eventTime" ? q.ge_event_time : q.lt_event_time) = value;
    } else if (name == "perPage") {
      int n = 0;
      try {
        size_t used = 0;
        n = std::stoi(value, &used);
        if (used != value.size()) n = 0;
      } catch (...) {
        n = 0;
      }
      if (n < 1 || n > 1000) return Fail(InvalidArgument("perPage: want an integer from 1 to 1000"));
      q.per_page = n;
    } else if (name == "nextPageToken") {
      token = value;
    } else {
      return Fail(InvalidArgument("query parameter " + name + " is not supported"));
    }
  }
  if (token) {
    auto cursor = OpenPageToken(*token, q.FilterDigest(), secret);
    if (!cursor) return Fail(cursor.error());
    q.after = *cursor;
  }
  return q;
}

Result<EpcisPage> RunEpcisQuery(pqxx::transaction_base& tx, const EpcisQuery& query, std::string_view secret) {
  std::vector<std::string> args;
  auto param = [&](std::string v) {
    args.push_back(std::move(v));
    std::string ref = "$";
    ref += std::to_string(args.size());
    return ref;
  };
  std::string where = "TRUE";
  // An identifier matches by its text, or by the GTIN key it names (so URNs and
  // Digital Links of the same thing match each other).
  auto key_match = [&](const std::vector<std::string>& values, const char* kinds, bool is_class) {
    std::string any;
    for (const auto& v : values) {
      std::string one = "k.value = " + param(v);
      if (auto key = gs1::ProductKeyFromEpc(v)) {
        std::string g = param(key->gtin);
        if (is_class && key->lot) {
          one += " OR (k.gtin = " + g + " AND k.lot = " + param(*key->lot) + ")";
        } else if (!is_class && key->serial) {
          one += " OR (k.gtin = " + g + " AND k.serial = " + param(*key->serial) + ")";
        } else if (!is_class && !key->lot) {
          one += " OR (k.gtin = " + g + " AND k.serial IS NOT NULL)";  // idpat: every serial
        }
      }
      any += (any.empty() ? "" : " OR ") + ("(" + one + ")");
    }
    return " AND EXISTS (SELECT 1 FROM event_keys k WHERE k.envelope_id = e.envelope_id AND k.idx = e.idx "
           "AND k.kind IN (" +
           std::string(kinds) + ") AND (" + any + "))";
  };
  if (!query.match_epc.empty()) where += key_match(query.match_epc, "'epc', 'child', 'input', 'output'", false);
  if (!query.match_epc_class.empty()) {
    where += key_match(query.match_epc_class, "'epc_class', 'child_class', 'input_class', 'output_class'", true);
  }
  if (!query.eq_biz_step.empty()) {
    std::string any;
    for (const auto& s : query.eq_biz_step) {
      std::string p = param(s);
      any += (any.empty() ? "" : ", ") + p + ", 'urn:epcglobal:cbv:bizstep:' || " + p;
    }
    where += " AND e.biz_step IN (" + any + ")";
  }
  if (query.ge_event_time) where += " AND e.event_time >= " + param(*query.ge_event_time) + "::timestamptz";
  if (query.lt_event_time) where += " AND e.event_time < " + param(*query.lt_event_time) + "::timestamptz";
  if (query.after) {
    where += " AND (e.event_time, e.envelope_id, e.idx) > (" + param(query.after->event_time) +
             "::timestamptz, decode(" + param(query.after->envelope) + ", 'hex'), " +
             param(std::to_string(query.after->index)) + "::smallint)";
  }
  const std::string sql =
      "SELECT e.body::text, to_char(e.event_time AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"'), "
      "encode(e.envelope_id, 'hex'), e.idx FROM events e WHERE " +
      where + " ORDER BY e.event_time, e.envelope_id, e.idx LIMIT " + std::to_string(query.per_page + 1);
  pqxx::result r = tx.exec_params(sql, pqxx::prepare::make_dynamic_params(args));

  EpcisPage page;
  json::array events;
  const size_t n = std::min<size_t>(r.size(), static_cast<size_t>(query.per_page));
  for (size_t i = 0; i < n; ++i) events.push_back(json::parse(r[i][0].as<std::string>()));
  if (r.size() > n && n > 0) {
    EpcisQuery::Cursor c{r[n - 1][1].as<std::string>(), r[n - 1][2].as<std::string>(), r[n - 1][3].as<int>()};
    page.next_token = MakePageToken(c, query.FilterDigest(), secret);
  }
  page.document = json::object{
      {"@context", json::array{kEpcisContext}},
      {"type", "EPCISQueryDocument"},
      {"schemaVersion", "2.0"},
      {"creationDate", FormatRfc3339Millis(std::chrono::system_clock::now())},
      {"epcisBody",
       json::object{{"queryResults", json::object{{"queryName", "SimpleEventQuery"},
                                                  {"resultsBody", json::object{{"eventList", std::move(events)}}}}}}}};
  return page;
}

}  // namespace trace::api
