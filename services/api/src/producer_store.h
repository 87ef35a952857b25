// The producer's own records (issue 6): sites, products, lots, API tokens,
// users, the action log, devices as seen by their owner (last seen, seq gaps,
// rejections by reason), and the org's ingest and anchoring status. The JSON
// API (producer_api.h) and the dashboard (dashboard.h) both go through here, so
// both check and store the same way.
//
// Every function takes the caller's organization and touches only its rows:
// reading another organization's object answers NotFound (its existence is not
// revealed), except where a global key is taken (a GTIN or GLN registered by
// another organization: AlreadyExists, since the identifier itself is public).
// Inputs are checked before any SQL runs; InvalidArgument names the field.
// Functions run inside the caller's transaction and do not commit.
#pragma once

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <optional>
#include <pqxx/transaction_base>
#include <string>
#include <vector>

#include "auth.h"
#include "trace/common/status.h"

namespace trace::api {

struct SiteInput {
  std::string gln, name, kind, address;
  std::optional<double> latitude, longitude;
};
struct ProductInput {
  std::string gtin, name, description, category;
  boost::json::object attributes;
};
struct LotInput {
  std::string gtin, lot;
  boost::json::object attributes;
};

// Reads the members of a JSON body into an input, refusing unknown members
// and wrong types (InvalidArgument naming the member).
Result<SiteInput> SiteFromJson(const boost::json::value& body);
Result<ProductInput> ProductFromJson(const boost::json::value& body);
Result<LotInput> LotFromJson(const boost::json::value& body);

Result<boost::json::object> CreateSite(pqxx::transaction_base& tx, const Principal& who, const SiteInput& in);
boost::json::array ListSites(pqxx::transaction_base& tx, const std::string& org);

Result<boost::json::object> CreateProduct(pqxx::transaction_base& tx, const Principal& who, const ProductInput& in);
boost::json::array ListProducts(pqxx::transaction_base& tx, const std::string& org);
Result<boost::json::object> GetProduct(pqxx::transaction_base& tx, const std::string& org, const std::string& gtin);

// The product must be the caller's (NotFound otherwise).
Result<boost::json::object> CreateLot(pqxx::transaction_base& tx, const Principal& who, const LotInput& in);
// The org's lots, newest first, each with events, anchored events and recall state.
boost::json::array ListLots(pqxx::transaction_base& tx, const std::string& org, const std::string& gtin = "");
// One lot with its events (time, type, bizStep, envelope, signer, leaf, anchored).
Result<boost::json::object> GetLot(pqxx::transaction_base& tx, const std::string& org, const std::string& gtin,
                                   const std::string& lot);

// Whether `org` may label and recall lot (gtin, lot): its lots row is the
// org's, or, for a lot that has no row (recorded by devices only), the product
// is recorded by events and either the product is the org's or the org
// signed one of them. Returns the product's
// name ("" when the product is not registered); NotFound otherwise, so another
// organization's lot looks like an unknown one.
Result<std::string> OwnedLot(pqxx::transaction_base& tx, const std::string& org, const std::string& gtin,
                             const std::string& lot);

// Devices of the org with status, last seen, last seq, envelopes, seq gaps and
// rejections by reason.
boost::json::array ListDevices(pqxx::transaction_base& tx, const std::string& org);

// API tokens: the secret is in the answer of Create only.
Result<boost::json::object> CreateToken(pqxx::transaction_base& tx, const Principal& who, const std::string& name,
                                        Role role, const std::vector<std::string>& scopes);
boost::json::array ListTokens(pqxx::transaction_base& tx, const std::string& org);
Status RevokeToken(pqxx::transaction_base& tx, const Principal& who, int64_t id);

// Users of the dashboard (password hashed with scrypt). AlreadyExists for a taken e-mail.
Result<boost::json::object> CreateUser(pqxx::transaction_base& tx, const Principal& who, const std::string& email,
                                       const std::string& password, Role role);
boost::json::array ListUsers(pqxx::transaction_base& tx, const std::string& org);

// Ingest rates (last minute, hour, day, by source), rejections by reason (last
// day), log and anchoring state, and per lot: events and anchored events.
boost::json::object OrgStatus(pqxx::transaction_base& tx, const std::string& org);

// Appends to producer_actions.
void RecordAction(pqxx::transaction_base& tx, const Principal& who, std::string_view action, std::string_view object,
                  const boost::json::object& detail = {});

}  // namespace trace::api
