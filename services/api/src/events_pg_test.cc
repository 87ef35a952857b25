// Server-signed envelopes (org_signer, event_submitter) and EPCIS capture
// (capture) against a real PostgreSQL, started once for this executable by the
// test harness (deploy/stack.sh). Databases are migrated from
// schemas/migrations, as trace-admin migrate applies them.
#include <sys/stat.h>

#include <algorithm>
#include <filesystem>
#include <iostream>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <boost/json.hpp>
#include <gtest/gtest.h>
#include <pqxx/pqxx>

#include "capture.h"
#include "checker.h"
#include "clock.h"
#include "device_directory.h"
#include "event_submitter.h"
#include "harness/shared_stack.h"
#include "harness/stack.h"
#include "manual_events.h"
#include "org_signer.h"
#include "pg_envelope_store.h"
#include "trace/common/envelope.h"
#include "trace/common/epcis.h"
#include "trace/common/files.h"
#include "trace/common/time.h"

namespace trace::api {
namespace {

namespace json = boost::json;
namespace fs = std::filesystem;

testing::SharedStack* const g_env = testing::RegisterSharedStack({.postgres = true});

// A fresh database with every migration of schemas/migrations applied in order.
std::string NewDatabase(const std::string& name) {
  const std::string url = testing::CreateDatabase(g_env->stack(), name);
  std::vector<fs::path> files;
  for (const auto& e : fs::directory_iterator(fs::path(testing::SourceDir()) / "schemas" / "migrations")) {
    if (e.path().extension() == ".sql") files.push_back(e.path());
  }
  std::sort(files.begin(), files.end());
  pqxx::connection conn(url);
  for (const auto& f : files) {
    auto sql = ReadFile(f.string());
    EXPECT_TRUE(sql.has_value()) << f;
    pqxx::work w(conn);
    w.exec("SET client_min_messages = warning");
    w.exec(*sql);
    w.commit();
  }
  return url;
}

void CreateOrg(const std::string& url, const std::string& org) {
  pqxx::connection conn(url);
  pqxx::work w(conn);
  w.exec_params("INSERT INTO organizations (id, name) VALUES ($1, $1)", org);
  w.commit();
}

std::string NewKeysDir(const std::string& name) {
  std::string dir = g_env->stack().dir() + "/test-keys-" + name;
  fs::create_directories(dir);
  return dir;
}

int64_t Count(pqxx::connection& conn, const std::string& sql) {
  pqxx::read_transaction r(conn);
  return r.exec(sql)[0][0].as<int64_t>();
}

// Keys with valid check digits, company prefix 8850123.
const std::string kGtin = "08850123000119";
const std::string kGtin2 = "08850123000218";
const std::string kFarm = "8850123000010";
const std::string kMill = "8850456000015";

json::array TwoEvents() {
  HarvestForm h;
  h.when.event_time = "2026-11-20T10:00:00+07:00";
  h.gtin = kGtin;
  h.lot = "PDY-F7-2611";
  h.quantity = 8450;
  h.site_gln = kFarm;
  h.variety = "Khao Dawk Mali 105";
  h.latitude = 15.2287;
  h.longitude = 104.8564;
  MovementForm s;
  s.when.event_time = "2026-11-21T06:00:00+07:00";
  s.site_gln = kFarm;
  s.from_gln = kFarm;
  s.to_gln = kMill;
  s.lots = {{kGtin, "PDY-F7-2611", 8450, "KGM"}};
  auto harvest = BuildHarvestEvent(h);
  auto ship = BuildShippingEvent(s);
  EXPECT_TRUE(harvest.has_value() && ship.has_value());
  return json::array{*harvest, *ship};
}

// All rows of a query, each as text, for comparing two databases.
std::vector<std::string> Rows(const std::string& url, const std::string& sql) {
  pqxx::connection conn(url);
  pqxx::read_transaction r(conn);
  std::vector<std::string> out;
  for (const auto& row : r.exec(sql)) {
    std::string line;
    for (const auto& f : row) line += (f.is_null() ? std::string("NULL") : f.as<std::string>()) + "|";
    out.push_back(line);
  }
  return out;
}

TEST(OrgSigner, CreatesKeyFileAndDeviceRowOnce) {
  std::string url = NewDatabase("signer_once");
  CreateOrg(url, "farm-a");
  std::string keys = NewKeysDir("signer_once");
  pqxx::connection conn(url);
  OrgSigner signer(keys);
  auto first = signer.Get(conn, "farm-a");
  ASSERT_TRUE(first.has_value()) << first.error();
  EXPECT_EQ(first->device, "dashboard");
  auto mode = FileMode(keys + "/orgs/farm-a.key");
  ASSERT_TRUE(mode.has_value()) << mode.error();
  EXPECT_EQ(*mode, 0600u);
  {
    pqxx::read_transaction r(conn);
    auto row = r.exec_params1(
        "SELECT public_key, mqtt_username, status FROM devices WHERE org = 'farm-a' AND device = 'dashboard'");
    EXPECT_EQ(pqxx::binarystring(row[0]).str(), first->public_key);
    EXPECT_EQ(row[1].as<std::string>(), "farm-a/dashboard");
    EXPECT_EQ(row[2].as<std::string>(), "active");
  }
  // Another process (a new OrgSigner) with the same keys_dir signs with the same key.
  OrgSigner again(keys);
  auto second = again.Get(conn, "farm-a");
  ASSERT_TRUE(second.has_value()) << second.error();
  EXPECT_EQ(second->public_key, first->public_key);
  EXPECT_EQ(Count(conn, "SELECT count(*) FROM devices WHERE org = 'farm-a'"), 1);

  auto unknown = signer.Get(conn, "no-such-org");
  ASSERT_FALSE(unknown.has_value());
  EXPECT_EQ(unknown.error().code(), StatusCode::kNotFound);
  EXPECT_FALSE(fs::exists(keys + "/orgs/no-such-org.key"));
  auto bad = signer.Get(conn, "Bad Org");
  ASSERT_FALSE(bad.has_value());
  EXPECT_EQ(bad.error().code(), StatusCode::kInvalidArgument);
}

TEST(OrgSigner, KeyFileThatIsNotTheRowsKeyIsRefused) {
  std::string url = NewDatabase("signer_mismatch");
  CreateOrg(url, "farm-b");
  pqxx::connection conn(url);
  OrgSigner a(NewKeysDir("signer_mismatch_a"));
  ASSERT_TRUE(a.Get(conn, "farm-b").has_value());
  // A process with another keys_dir makes another key: refused, nothing replaced.
  OrgSigner b(NewKeysDir("signer_mismatch_b"));
  auto other = b.Get(conn, "farm-b");
  ASSERT_FALSE(other.has_value());
  EXPECT_EQ(other.error().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(other.error().message().find("restore the original key file"), std::string::npos) << other.error();
  auto events = TwoEvents();
  auto submitted = SubmitEvents(conn, b, "farm-b", events);
  ASSERT_FALSE(submitted.has_value());
  EXPECT_EQ(submitted.error().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(Count(conn, "SELECT count(*) FROM envelopes"), 0);
}

TEST(SubmitEvents, StoresWhatTheGatewayWouldStoreWithSourceApi) {
  std::string url = NewDatabase("submit_same");
  CreateOrg(url, "farm-c");
  pqxx::connection conn(url);
  OrgSigner signer(NewKeysDir("submit_same"));
  auto result = SubmitEvents(conn, signer, "farm-c", TwoEvents());
  ASSERT_TRUE(result.has_value()) << result.error();
  ASSERT_TRUE(result->complete()) << json::serialize(result->ToJson());
  ASSERT_EQ(result->envelopes.size(), 1u);
  const EnvelopeOutcome& out = result->envelopes[0];
  EXPECT_EQ(out.decision, "accepted");
  EXPECT_EQ(out.event_indexes, (std::vector<std::size_t>{0, 1}));

  std::string canonical, public_key;
  {
    pqxx::read_transaction r(conn);
    auto row = r.exec_params1(
        "SELECT encode(e.id, 'hex'), e.org, e.device, e.seq, e.source, e.event_count, e.canonical, d.public_key, "
        "d.last_seq FROM envelopes e JOIN devices d USING (org, device)");
    EXPECT_EQ(row[0].as<std::string>(), out.id);
    EXPECT_EQ(row[1].as<std::string>(), "farm-c");
    EXPECT_EQ(row[2].as<std::string>(), "dashboard");
    EXPECT_EQ(row[3].as<uint64_t>(), out.seq);
    EXPECT_EQ(row[4].as<std::string>(), "api");
    EXPECT_EQ(row[5].as<int>(), 2);
    canonical = pqxx::binarystring(row[6]).str();
    public_key = pqxx::binarystring(row[7]).str();
    EXPECT_EQ(row[8].as<uint64_t>(), out.seq);
  }
  // The stored bytes are a PROTOCOL.md §3 envelope whose signature verifies
  // under the key of the devices row.
  auto env = ParseEnvelope(canonical);
  ASSERT_TRUE(env.has_value()) << env.error().detail;
  EXPECT_EQ(env->id, out.id);
  EXPECT_EQ(env->org, "farm-c");
  EXPECT_EQ(env->device, "dashboard");
  EXPECT_EQ(env->seq, out.seq);
  EXPECT_TRUE(IsRfc3339UtcMillis(env->sent)) << env->sent;
  EXPECT_EQ(env->events.size(), 2u);
  EXPECT_TRUE(VerifyEnvelopeSignature(*env, public_key));
  EXPECT_EQ(env->canonical_bytes, canonical);

  // The same envelope through the gateway's own path into a second database.
  std::string url2 = NewDatabase("submit_same_gw");
  CreateOrg(url2, "farm-c");
  {
    pqxx::connection c2(url2);
    pqxx::work w(c2);
    w.exec_params(
        "INSERT INTO devices (org, device, public_key, mqtt_username) VALUES ('farm-c', 'dashboard', $1, "
        "'farm-c/dashboard')",
        pqxx::binarystring(public_key));
    w.commit();
  }
  gateway::FakeDeviceDirectory directory;
  directory.Put("farm-c", "dashboard", {public_key, true, 0});
  gateway::SystemClock clock;
  gateway::Checker checker(directory, clock, {});
  const std::string topic = UpTopic("farm-c", "dashboard");
  auto checked = checker.Check(topic, canonical);
  ASSERT_TRUE(checked.has_value());
  EXPECT_FALSE(checked->rejection.has_value());
  EXPECT_FALSE(checked->deferred.has_value());
  gateway::PgEnvelopeStore store(url2);
  std::vector<gateway::CheckedMessage> batch{{topic, canonical, std::chrono::system_clock::now(), *checked}};
  auto decisions = store.StoreBatch(batch);
  ASSERT_TRUE(decisions.has_value()) << decisions.error();
  EXPECT_EQ((*decisions)[0].status, ReceiptStatus::kAccepted);

  const std::string envelopes_sql =
      "SELECT encode(id, 'hex'), org, device, seq, md5(canonical), sent_at, event_count FROM envelopes";
  const std::string events_sql =
      "SELECT encode(envelope_id, 'hex'), idx, org, event_type, action, biz_step, disposition, event_time, "
      "event_time_zone_offset, event_id, read_point, biz_location, body::text FROM events ORDER BY idx";
  const std::string keys_sql =
      "SELECT encode(envelope_id, 'hex'), idx, kind, value, gtin, lot, serial, quantity, uom, detail "
      "FROM event_keys ORDER BY idx, kind, value";
  EXPECT_EQ(Rows(url, envelopes_sql), Rows(url2, envelopes_sql));
  EXPECT_EQ(Rows(url, events_sql), Rows(url2, events_sql));
  EXPECT_EQ(Rows(url, keys_sql), Rows(url2, keys_sql));
  EXPECT_EQ(Rows(url2, "SELECT source FROM envelopes"), std::vector<std::string>{"mqtt|"});
  EXPECT_EQ(Rows(url, "SELECT source FROM envelopes"), std::vector<std::string>{"api|"});
  // The index found the lot: the trace page's lookup works for these events.
  EXPECT_GE(Count(conn, "SELECT count(*) FROM event_keys WHERE gtin = '" + kGtin + "' AND lot = 'PDY-F7-2611'"), 2);
}

TEST(SubmitEvents, SeqsIncreaseAndFourThreadsGetDistinctSeqs) {
  std::string url = NewDatabase("submit_threads");
  CreateOrg(url, "farm-d");
  std::string keys = NewKeysDir("submit_threads");
  constexpr int kThreads = 4, kEach = 6;
  // Each thread is its own "process": its own OrgSigner and connection.
  std::vector<std::vector<uint64_t>> seqs(kThreads);
  std::vector<std::string> failures(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      pqxx::connection conn(url);
      OrgSigner signer(keys);
      for (int i = 0; i < kEach; ++i) {
        auto r = SubmitEvents(conn, signer, "farm-d", TwoEvents());
        if (!r || !r->complete()) {
          failures[t] = r ? json::serialize(r->ToJson()) : r.error().ToString();
          return;
        }
        seqs[t].push_back(r->envelopes[0].seq);
      }
    });
  }
  for (auto& th : threads) th.join();
  std::set<uint64_t> all;
  for (int t = 0; t < kThreads; ++t) {
    EXPECT_EQ(failures[t], "") << "thread " << t;
    EXPECT_TRUE(std::is_sorted(seqs[t].begin(), seqs[t].end()));
    EXPECT_EQ(std::set<uint64_t>(seqs[t].begin(), seqs[t].end()).size(), seqs[t].size());
    all.insert(seqs[t].begin(), seqs[t].end());
  }
  EXPECT_EQ(all.size(), static_cast<size_t>(kThreads * kEach));
  pqxx::connection conn(url);
  EXPECT_EQ(Count(conn, "SELECT count(DISTINCT seq) FROM envelopes WHERE org = 'farm-d'"), kThreads * kEach);
  EXPECT_EQ(Count(conn, "SELECT last_seq FROM devices WHERE org = 'farm-d'"), static_cast<int64_t>(*all.rbegin()));
  // One key, one row, whichever thread came first.
  EXPECT_EQ(Count(conn, "SELECT count(*) FROM devices WHERE org = 'farm-d'"), 1);

  uint64_t a = detail::NextSeq(), b = detail::NextSeq();
  EXPECT_LT(a, b);
  EXPECT_LT(b, kMaxSeq);
}

TEST(SubmitEvents, SplitsIntoEnvelopesOfAtMost256EventsInOneTransaction) {
  std::string url = NewDatabase("submit_split");
  CreateOrg(url, "farm-e");
  pqxx::connection conn(url);
  OrgSigner signer(NewKeysDir("submit_split"));
  json::array events;
  for (int i = 0; i < 300; ++i) events.push_back(TwoEvents()[i % 2]);
  auto r = SubmitEvents(conn, signer, "farm-e", events);
  ASSERT_TRUE(r.has_value()) << r.error();
  ASSERT_TRUE(r->complete());
  ASSERT_EQ(r->envelopes.size(), 2u);
  EXPECT_EQ(r->envelopes[0].event_indexes.size(), 256u);
  EXPECT_EQ(r->envelopes[1].event_indexes.size(), 44u);
  EXPECT_EQ(r->envelopes[1].event_indexes.front(), 256u);
  EXPECT_LT(r->envelopes[0].seq, r->envelopes[1].seq);
  EXPECT_EQ(Count(conn, "SELECT count(*) FROM events"), 300);
  EXPECT_EQ(Count(conn, "SELECT count(DISTINCT xmin::text) FROM envelopes"), 1);  // one transaction

  auto empty = SubmitEvents(conn, signer, "farm-e", json::array());
  ASSERT_FALSE(empty.has_value());
  EXPECT_EQ(empty.error().code(), StatusCode::kInvalidArgument);
}

TEST(SubmitEvents, BadEventsAreReportedAndNeverStored) {
  std::string url = NewDatabase("submit_bad");
  CreateOrg(url, "farm-f");
  pqxx::connection conn(url);
  OrgSigner signer(NewKeysDir("submit_bad"));
  json::array events = TwoEvents();
  json::object bad = events[1].as_object();
  bad["bizStep"] = "urn:epcglobal:cbv:bizstep:shipping";  // the schema wants the bare word
  json::object future = events[0].as_object();
  future["eventTime"] = "2099-01-01T00:00:00Z";
  events.push_back(bad);
  events.push_back(future);
  events.push_back(json::value("not an event"));

  auto rolled = SubmitEvents(conn, signer, "farm-f", events);
  ASSERT_TRUE(rolled.has_value()) << rolled.error();
  EXPECT_FALSE(rolled->complete());
  EXPECT_TRUE(rolled->envelopes.empty());
  ASSERT_EQ(rolled->errors.size(), 3u);
  EXPECT_EQ(rolled->errors[0].index, 2u);
  EXPECT_EQ(rolled->errors[0].path, "$.events[2].bizStep");
  EXPECT_EQ(rolled->errors[1].index, 3u);
  EXPECT_EQ(rolled->errors[1].path, "$.events[3].eventTime");
  EXPECT_NE(rolled->errors[1].message.find("in the future"), std::string::npos);
  EXPECT_EQ(rolled->errors[2].index, 4u);
  EXPECT_EQ(rolled->errors[2].path, "$.events[4]");
  EXPECT_EQ(Count(conn, "SELECT count(*) FROM envelopes"), 0);
  EXPECT_EQ(Count(conn, "SELECT count(*) FROM rejected_messages"), 0);

  SubmitOptions proceed;
  proceed.on_error = SubmitOptions::OnError::kProceed;
  auto kept = SubmitEvents(conn, signer, "farm-f", events, proceed);
  ASSERT_TRUE(kept.has_value()) << kept.error();
  EXPECT_FALSE(kept->complete());
  EXPECT_EQ(kept->errors.size(), 3u);
  ASSERT_EQ(kept->envelopes.size(), 1u);
  EXPECT_EQ(kept->envelopes[0].decision, "accepted");
  EXPECT_EQ(kept->envelopes[0].event_indexes, (std::vector<std::size_t>{0, 1}));
  EXPECT_EQ(Count(conn, "SELECT count(*) FROM events"), 2);
}

// Two processes that pick the same seq for different content: the second is
// answered seq_reused by the store (and recorded, like every refused message),
// then signed again with a fresh seq and stored.
TEST(SubmitEvents, SeqReusedIsSignedAgainWithANewSeq) {
  std::string url = NewDatabase("submit_seq_reused");
  CreateOrg(url, "farm-h");
  pqxx::connection conn(url);
  OrgSigner signer(NewKeysDir("submit_seq_reused"));
  auto first = SubmitEvents(conn, signer, "farm-h", json::array{TwoEvents()[0]});
  ASSERT_TRUE(first.has_value() && first->complete());
  const EnvelopeOutcome& taken = first->envelopes[0];

  SubmitOptions options;
  options.reuse = {taken};  // the same (seq, sent) for other events: another process's choice
  std::vector<uint64_t> planned_seqs;
  options.on_planned = [&](std::span<const EnvelopeOutcome> plan) {
    planned_seqs.push_back(plan[0].seq);
    return OkStatus();
  };
  auto second = SubmitEvents(conn, signer, "farm-h", json::array{TwoEvents()[1]}, options);
  ASSERT_TRUE(second.has_value()) << second.error();
  ASSERT_TRUE(second->complete()) << json::serialize(second->ToJson());
  EXPECT_EQ(second->envelopes[0].decision, "accepted");
  EXPECT_GT(second->envelopes[0].seq, taken.seq);
  ASSERT_EQ(planned_seqs.size(), 2u);
  EXPECT_EQ(planned_seqs[0], taken.seq);
  EXPECT_EQ(planned_seqs[1], second->envelopes[0].seq);
  EXPECT_EQ(Count(conn, "SELECT count(*) FROM envelopes"), 2);
  EXPECT_EQ(Count(conn,
                  "SELECT count(*) FROM rejected_messages WHERE reason = 'seq_reused' AND org = 'farm-h' "
                  "AND device = 'dashboard' AND seq = " +
                      std::to_string(taken.seq)),
            1);

  // The same events with the same plan again: the identical envelope, "duplicate".
  options.reuse = {second->envelopes[0]};
  auto again = SubmitEvents(conn, signer, "farm-h", json::array{TwoEvents()[1]}, options);
  ASSERT_TRUE(again.has_value()) << again.error();
  EXPECT_EQ(again->envelopes[0].decision, "duplicate");
  EXPECT_EQ(again->envelopes[0].id, second->envelopes[0].id);
  EXPECT_EQ(Count(conn, "SELECT count(*) FROM envelopes"), 2);
}

TEST(SubmitEvents, RevokedSignerIsRefused) {
  std::string url = NewDatabase("submit_revoked");
  CreateOrg(url, "farm-g");
  pqxx::connection conn(url);
  OrgSigner signer(NewKeysDir("submit_revoked"));
  ASSERT_TRUE(SubmitEvents(conn, signer, "farm-g", TwoEvents()).has_value());
  {
    pqxx::work w(conn);
    w.exec("UPDATE devices SET status = 'revoked', revoked_at = now() WHERE org = 'farm-g'");
    w.commit();
  }
  // The cached signer still signs; the store, reading the locked row, refuses.
  auto r = SubmitEvents(conn, signer, "farm-g", TwoEvents());
  ASSERT_TRUE(r.has_value()) << r.error();
  EXPECT_FALSE(r->complete());
  ASSERT_EQ(r->envelopes.size(), 1u);
  EXPECT_EQ(r->envelopes[0].decision, "rejected");
  EXPECT_TRUE(r->envelopes[0].detail.starts_with("revoked_device")) << r->envelopes[0].detail;
  EXPECT_EQ(Count(conn, "SELECT count(*) FROM envelopes"), 1);
  // A fresh signer (a restarted trace-api) refuses before signing.
  OrgSigner fresh(NewKeysDir("submit_revoked"));
  auto refused = fresh.Get(conn, "farm-g");
  ASSERT_FALSE(refused.has_value());
  EXPECT_EQ(refused.error().code(), StatusCode::kFailedPrecondition);
}

// --- capture ---------------------------------------------------------------

std::string ExamplesDir() {
  const char* dir = std::getenv("TRACE_TESTDATA");
  return std::string(dir != nullptr ? dir : "../shared/testdata") + "/epcis/examples";
}

json::object JobOf(pqxx::connection& conn, const std::string& org, const std::string& id) {
  auto job = CaptureJobJson(conn, org, id);
  EXPECT_TRUE(job.has_value()) << (job ? "" : job.error().ToString());
  return job && job->is_object() ? job->as_object() : json::object();
}

TEST(Capture, EveryGs1ExampleTheSchemaAcceptsImports) {
  std::string url = NewDatabase("capture_examples");
  CreateOrg(url, "importer");
  pqxx::connection conn(url);
  OrgSigner signer(NewKeysDir("capture_examples"));
  std::vector<fs::path> files;
  for (const auto& e : fs::directory_iterator(ExamplesDir())) {
    if (e.path().extension() == ".jsonld") files.push_back(e.path());
  }
  std::sort(files.begin(), files.end());
  ASSERT_EQ(files.size(), 46u);
  std::size_t imported = 0, events_stored = 0;
  std::map<std::string, std::string> refused;  // file -> reason
  for (const auto& f : files) {
    const std::string name = f.filename().string();
    auto text = ReadFile(f.string());
    ASSERT_TRUE(text.has_value());
    // What GS1's schema accepts (epcis.h agrees with ajv on every example; see epcis_test.cc).
    const bool schema_ok = epcis::ValidateEpcisDocument(json::parse(*text)).ok();
    auto id = CreateCaptureJob(conn, "importer", *text);
    if (!id && name == "AssociationEvent-h.jsonld") {
      // Its first event has "eventID" twice. JSON.parse (and so ajv) keeps the
      // last; the strict parser refuses duplicate keys everywhere, since the
      // canonical bytes that are signed would depend on the parser (jcs.h).
      EXPECT_TRUE(schema_ok);
      EXPECT_EQ(id.error().message(), "$.epcisBody.eventList[0].eventID: duplicate key (at byte 523)");
      refused[name] = "400: " + id.error().message();
      continue;
    }
    if (!id) {
      EXPECT_FALSE(schema_ok) << name << ": " << id.error();
      EXPECT_EQ(id.error().code(), StatusCode::kInvalidArgument) << name;
      refused[name] = "400: " + id.error().message();
      continue;
    }
    ASSERT_TRUE(ProcessCaptureJob(conn, signer, *id).ok()) << name;
    json::object job = JobOf(conn, "importer", *id);
    EXPECT_EQ(job.at("running"), false) << name;
    if (job.at("success").as_bool()) {
      EXPECT_TRUE(schema_ok) << name;
      EXPECT_EQ(job.at("storedEvents"), job.at("eventCount")) << name;
      EXPECT_TRUE(job.at("errors").as_array().empty()) << name;
      EXPECT_FALSE(job.at("envelopes").as_array().empty()) << name;
      ++imported;
      events_stored += job.at("storedEvents").to_number<std::size_t>();
    } else {
      EXPECT_FALSE(schema_ok) << name << ": " << json::serialize(job);
      EXPECT_EQ(job.at("storedEvents"), 0) << name;  // rollback
      ASSERT_FALSE(job.at("errors").as_array().empty()) << name;
      refused[name] = "job failed: " + std::string(job.at("errors").at(0).at("detail").as_string());
    }
  }
  for (const auto& [name, why] : refused) std::cout << "refused " << name << ": " << why << "\n";
  // 35 documents pass GS1's schema; one of them has a duplicate key (above).
  EXPECT_EQ(imported, 34u);
  const std::set<std::string> expected_refused = {
      "AssociationEvent-h.jsonld",  // duplicate key
      // GS1's schema refuses these (see epcis_test.cc for what ajv reports):
      "Example-TransactionEvents-2020_07_03y.jsonld", "PersistentDisposition-example.jsonld",
      "SensorDataExample12.jsonld", "SensorDataExample14.jsonld", "SensorDataExample15.jsonld",
      "SensorDataExample17.jsonld", "aggregation_event_all_possible_fields.jsonld",
      "association_event_all_possible_fields.jsonld", "object_event_all_possible_fields.jsonld",
      "transaction_event_all_possible_fields.jsonld", "transformation_event_all_possible_fields.jsonld"};
  std::set<std::string> names;
  for (const auto& [name, why] : refused) names.insert(name);
  EXPECT_EQ(names, expected_refused);
  EXPECT_EQ(Count(conn, "SELECT count(*) FROM events"), static_cast<int64_t>(events_stored));
  EXPECT_EQ(Count(conn, "SELECT count(*) FROM envelopes WHERE source <> 'api' OR device <> 'dashboard'"), 0);
  EXPECT_EQ(Count(conn, "SELECT count(*) FROM rejected_messages"), 0);
}

std::string DocumentWith(const json::array& events) {
  json::object doc{{"@context", json::array{"https://ref.gs1.org/standards/epcis/epcis-context.jsonld",
                                            json::object{{"example", "https://ns.example.com/epcis/"}}}},
                   {"type", "EPCISDocument"},
                   {"schemaVersion", "2.0"},
                   {"creationDate", "2026-11-23T08:00:00Z"},
                   {"epcisBody", json::object{{"eventList", events}}}};
  return json::serialize(doc);
}

TEST(Capture, OneBadEventRollsBackOrProceeds) {
  std::string url = NewDatabase("capture_bad");
  CreateOrg(url, "mill-a");
  pqxx::connection conn(url);
  OrgSigner signer(NewKeysDir("capture_bad"));
  json::array events = TwoEvents();
  json::object bad = events[0].as_object();
  bad.erase("eventTimeZoneOffset");
  json::object extended = events[1].as_object();
  extended["example:shipmentNote"] = "two trucks";
  json::array three{events[0], bad, extended};

  auto id = CreateCaptureJob(conn, "mill-a", DocumentWith(three));
  ASSERT_TRUE(id.has_value()) << id.error();
  EXPECT_TRUE(id->starts_with("cap-"));
  json::object pending = JobOf(conn, "mill-a", *id);
  EXPECT_EQ(pending.at("running"), true);
  EXPECT_EQ(pending.at("success"), true);
  EXPECT_FALSE(pending.contains("finishedAt"));
  ASSERT_TRUE(ProcessCaptureJob(conn, signer, *id).ok());
  json::object job = JobOf(conn, "mill-a", *id);
  EXPECT_EQ(job.at("captureID"), json::value(*id));
  EXPECT_EQ(job.at("running"), false);
  EXPECT_EQ(job.at("success"), false);
  EXPECT_EQ(job.at("captureErrorBehaviour"), "rollback");
  EXPECT_TRUE(job.contains("createdAt") && job.contains("finishedAt"));
  EXPECT_EQ(job.at("eventCount"), 3);
  EXPECT_EQ(job.at("storedEvents"), 0);
  EXPECT_TRUE(job.at("envelopes").as_array().empty());
  ASSERT_EQ(job.at("errors").as_array().size(), 1u);
  const auto& err = job.at("errors").at(0).as_object();
  EXPECT_EQ(err.at("index"), 1);
  EXPECT_EQ(err.at("path"), "$.epcisBody.eventList[1].eventTimeZoneOffset");
  EXPECT_EQ(err.at("type"), "epcisException:ValidationException");
  EXPECT_EQ(err.at("status"), 400);
  EXPECT_EQ(Count(conn, "SELECT count(*) FROM envelopes"), 0);

  auto proceed = CreateCaptureJob(conn, "mill-a", DocumentWith(three), CaptureErrorBehaviour::kProceed);
  ASSERT_TRUE(proceed.has_value());
  ASSERT_TRUE(ProcessCaptureJob(conn, signer, *proceed).ok());
  json::object kept = JobOf(conn, "mill-a", *proceed);
  EXPECT_EQ(kept.at("success"), false);
  EXPECT_EQ(kept.at("captureErrorBehaviour"), "proceed");
  EXPECT_EQ(kept.at("storedEvents"), 2);
  EXPECT_EQ(kept.at("errors").as_array().size(), 1u);
  ASSERT_EQ(kept.at("envelopes").as_array().size(), 1u);
  EXPECT_EQ(Count(conn, "SELECT count(*) FROM events"), 2);
  // The extension member kept its meaning: the document's @context went into the event.
  EXPECT_EQ(Count(conn,
                  "SELECT count(*) FROM events WHERE body ? 'example:shipmentNote' AND "
                  "body->'@context'->1->>'example' = 'https://ns.example.com/epcis/'"),
            1);

  auto good = CreateCaptureJob(conn, "mill-a", DocumentWith(events));
  ASSERT_TRUE(good.has_value());
  auto processed = ProcessPendingCaptureJobs(conn, signer);
  ASSERT_TRUE(processed.has_value()) << processed.error();
  EXPECT_EQ(*processed, 1u);
  json::object ok = JobOf(conn, "mill-a", *good);
  EXPECT_EQ(ok.at("success"), true);
  EXPECT_EQ(ok.at("storedEvents"), 2);
  EXPECT_TRUE(ok.at("errors").as_array().empty());
}

TEST(Capture, DocumentErrorsAreRefusedUpFront) {
  std::string url = NewDatabase("capture_refused");
  CreateOrg(url, "mill-b");
  pqxx::connection conn(url);
  auto code = [&](std::string_view text) {
    auto id = CreateCaptureJob(conn, "mill-b", text);
    return id ? StatusCode::kOk : id.error().code();
  };
  EXPECT_EQ(code("{"), StatusCode::kInvalidArgument);
  EXPECT_EQ(code("[]"), StatusCode::kInvalidArgument);
  EXPECT_EQ(code(R"({"a":1,"a":2})"), StatusCode::kInvalidArgument);
  EXPECT_EQ(code(DocumentWith(json::array())), StatusCode::kInvalidArgument);
  json::value no_context = json::parse(DocumentWith(TwoEvents()));
  no_context.as_object().erase("@context");
  EXPECT_EQ(code(json::serialize(no_context)), StatusCode::kInvalidArgument);
  json::value wrong_type = json::parse(DocumentWith(TwoEvents()));
  wrong_type.as_object()["type"] = "EPCISQueryDocument";
  EXPECT_EQ(code(json::serialize(wrong_type)), StatusCode::kInvalidArgument);
  EXPECT_EQ(code(std::string(kMaxCaptureBytes + 1, ' ')), StatusCode::kResourceExhausted);
  json::array many;
  for (std::size_t i = 0; i <= kMaxCaptureEvents; ++i) many.push_back(json::object());
  EXPECT_EQ(code(DocumentWith(many)), StatusCode::kResourceExhausted);
  auto unknown = CreateCaptureJob(conn, "no-such-org", DocumentWith(TwoEvents()));
  ASSERT_FALSE(unknown.has_value());
  EXPECT_EQ(unknown.error().code(), StatusCode::kNotFound);
  EXPECT_EQ(Count(conn, "SELECT count(*) FROM capture_jobs"), 0);

  EXPECT_EQ(*ParseCaptureErrorBehaviour(""), CaptureErrorBehaviour::kRollback);
  EXPECT_EQ(*ParseCaptureErrorBehaviour("proceed"), CaptureErrorBehaviour::kProceed);
  EXPECT_FALSE(ParseCaptureErrorBehaviour("all").has_value());
}

TEST(Capture, OtherOrganizationsJobsAreNotFound) {
  std::string url = NewDatabase("capture_orgs");
  CreateOrg(url, "mill-c");
  CreateOrg(url, "mill-d");
  pqxx::connection conn(url);
  auto id = CreateCaptureJob(conn, "mill-c", DocumentWith(TwoEvents()));
  ASSERT_TRUE(id.has_value());
  EXPECT_TRUE(CaptureJobJson(conn, "mill-c", *id).has_value());
  auto other = CaptureJobJson(conn, "mill-d", *id);
  ASSERT_FALSE(other.has_value());
  EXPECT_EQ(other.error().code(), StatusCode::kNotFound);
  auto missing = CaptureJobJson(conn, "mill-c", "cap-00000000000000000000000000000000");
  ASSERT_FALSE(missing.has_value());
  EXPECT_EQ(missing.error().code(), StatusCode::kNotFound);
}

TEST(Capture, AJobReRunAfterACrashStoresNothingTwice) {
  std::string url = NewDatabase("capture_rerun");
  CreateOrg(url, "mill-e");
  pqxx::connection conn(url);
  OrgSigner signer(NewKeysDir("capture_rerun"));
  json::array events;
  for (int i = 0; i < 300; ++i) events.push_back(TwoEvents()[i % 2]);
  auto id = CreateCaptureJob(conn, "mill-e", DocumentWith(events));
  ASSERT_TRUE(id.has_value());
  ASSERT_TRUE(ProcessCaptureJob(conn, signer, *id).ok());
  json::object first = JobOf(conn, "mill-e", *id);
  ASSERT_EQ(first.at("success"), true);
  EXPECT_EQ(first.at("envelopes").as_array().size(), 2u);
  // A running job is not taken by another worker...
  {
    pqxx::work w(conn);
    w.exec_params("UPDATE capture_jobs SET status = 'running', finished_at = NULL, started_at = now() WHERE id = $1",
                  *id);
    w.commit();
  }
  ASSERT_TRUE(ProcessCaptureJob(conn, signer, *id).ok());
  EXPECT_EQ(JobOf(conn, "mill-e", *id).at("running"), true);
  // ...until it is stale (its worker died after storing): the same envelopes
  // are signed again to the same bytes and answered duplicate.
  ASSERT_TRUE(ProcessCaptureJob(conn, signer, *id, std::chrono::seconds(0)).ok());
  json::object again = JobOf(conn, "mill-e", *id);
  EXPECT_EQ(again.at("success"), true);
  EXPECT_EQ(again.at("storedEvents"), 300);
  EXPECT_EQ(again.at("envelopes"), first.at("envelopes"));
  EXPECT_EQ(Count(conn, "SELECT count(*) FROM envelopes"), 2);
  EXPECT_EQ(Count(conn, "SELECT count(*) FROM events"), 300);
  EXPECT_EQ(Count(conn, "SELECT attempts FROM capture_jobs"), 2);
}

}  // namespace
}  // namespace trace::api
