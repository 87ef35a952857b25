// The producer API of trace-api (issue 6): JSON routes under /api/v1 for sites,
// products, lots, devices, tokens, users, sessions, status, manual events, EPCIS
// capture, labels and recall. Every route authenticates (auth.h: a bearer token
// or the dashboard's session cookie, with the CSRF token on unsafe methods),
// checks the permission it needs, and touches only the caller's organization's
// objects (another organization's: 404, nothing changed).
//
// Routes:
//   POST/GET    /api/v1/session                 sign in ({"email","password"}) / who am I
//   DELETE      /api/v1/session                 sign out
//   GET, POST   /api/v1/sites                   read / write
//   GET, POST   /api/v1/products                read / write ({"gtin","name",...} -> 201)
//   GET         /api/v1/products/{gtin}         read
//   GET, POST   /api/v1/lots[?gtin=]            read / write ({"gtin","lot",...} -> 201)
//   GET         /api/v1/lots/{gtin}/{lot}       read: the lot, its events and their anchoring
//   GET, POST   /api/v1/devices                 read / devices ({"device","publicKey"} -> 201 with
//                                               the MQTT credentials, shown once)
//   POST        /api/v1/devices/{device}/revoke devices
//   GET, POST   /api/v1/tokens                  admin; DELETE /api/v1/tokens/{id}
//   GET, POST   /api/v1/users                   admin
//   GET         /api/v1/status                  read: ingest, rejections, anchoring per lot
//   POST        /api/v1/events                  write: manual events, signed with the org's key
//   POST        /api/v1/epcis/capture           write: 202 + Location (GS1 REST binding); GET .../capture/{id}
//   GET         /api/v1/labels/{gtin}/{lot}.png|.svg, .../21/{serial}.png|.svg, .../sheet
//   GET         /api/v1/recall/{gtin}/{lot}[.csv]; POST (recall) marks the lots recalled
//
// Thread-safe.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <optional>
#include <string>

#include "api.h"
#include "auth.h"
#include "dynsec.h"
#include "org_signer.h"
#include "recall.h"

namespace trace::api {

struct ProducerOptions {
  std::string db_url;                        // device register/revoke open their own connection
  std::optional<admin::BrokerConfig> broker;  // unset: devices get no broker login (database only)
  std::string keys_dir;                      // the orgs' signing keys (org_signer.h)
};

// What a label sheet request asks for (?copies=N&columns=C&serials=A,B,...).
struct LabelSheetQuery {
  std::string gtin, lot;
  std::vector<std::string> serials;
  int copies = 12;
  int columns = 3;
};

// A handler body that runs on a pool thread for an authenticated principal.
using GuardedFn = std::function<HttpResponse(pqxx::connection&, const Principal&)>;

class ProducerApi {
 public:
  // Registers the routes on `api`; all references must outlive this object.
  ProducerApi(Api& api, Authenticator& auth, ProducerOptions options);
  ~ProducerApi();

  // Runs `fn` on the pool once `req` is authenticated, holds `permission` and
  // (for a session and an unsafe method) carries the CSRF token `form_token`
  // or X-CSRF-Token. Answers 401 (with WWW-Authenticate), 403 or 429 otherwise.
  void Guarded(const HttpRequest& req, Reply reply, Permission permission, std::string form_token, GuardedFn fn);

  // Shared with the dashboard: the same checks and effects as the JSON routes.
  Result<boost::json::object> RegisterDevice(const Principal& who, const std::string& device,
                                             const std::string& public_key, const std::string& name);
  Result<boost::json::object> RevokeDevice(const Principal& who, const std::string& device);

  // Labels and recall, for the JSON routes and the dashboard alike. Each checks
  // that the lot is the caller's (OwnedLot: NotFound otherwise).
  Result<LabelSheetQuery> LabelSheetRequest(const HttpRequest& req, const std::string& gtin,
                                            const std::string& lot) const;
  HttpResponse LabelSheet(pqxx::connection& c, const Principal& who, const LabelSheetQuery& q);
  Result<RecallReport> Recall(pqxx::connection& c, const Principal& who, const std::string& gtin,
                              const std::string& lot);
  // Marks the caller's lots of the recall report recalled; {"marked", "affected", "otherOrganizations"}.
  Result<boost::json::object> MarkLotRecalled(pqxx::connection& c, const Principal& who, const std::string& gtin,
                                              const std::string& lot, const std::string& reason);

  // Signs `events` with the caller's organization key and stores them through
  // the gateway's checks and store (event_submitter.h), all or nothing. The
  // answer: 201 with {"envelopes", "errors"}, 400 listing per-event errors, or
  // the problem (409 for a revoked or mismatched signer, 503).
  HttpResponse SubmitEventsFor(pqxx::connection& c, const Principal& who, const boost::json::array& events);

  Api& api() { return api_; }
  Authenticator& auth() { return auth_; }

 private:
  void Routes();
  // The capture worker: processes queued jobs, and every minute any job left
  // pending or stalled by a crashed process, on a connection of its own (a
  // 10,000-event document would hold a request thread for seconds).
  void CaptureWorker();

  Api& api_;
  Authenticator& auth_;
  ProducerOptions options_;
  OrgSigner signer_;

  std::mutex capture_mu_;
  std::condition_variable capture_cv_;
  std::deque<std::string> capture_queue_;
  bool stopping_ = false;
  std::thread capture_thread_;
};

// Parses a JSON request body (Content-Type application/json). InvalidArgument
// with the parser's message otherwise.
Result<boost::json::value> JsonBody(const HttpRequest& req);

}  // namespace trace::api
