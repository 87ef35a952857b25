// trace-anchor against real PostgreSQL and a real anvil (1 s blocks), both started by
// deploy/stack.sh; the real trace-anchor process anchors through EthChainClient.
// The tests share one stack and run in order, each adding envelopes to the same log:
// 10,000 envelopes anchored and every proof checked against the root read back from
// the chain; kill -9 right after a transaction was sent; anvil stopped for 60 s while
// envelopes keep arriving (one transaction catches up); a reorganization that removes
// the anchoring transaction.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <chrono>
#include <map>
#include <pqxx/pqxx>
#include <set>
#include <thread>

#include "event_index.h"
#include "harness/stack.h"
#include "trace/common/abi.h"
#include "trace/common/anchor_contract.h"
#include "trace/common/ed25519.h"
#include "trace/common/encoding.h"
#include "trace/common/envelope.h"
#include "trace/common/eth_client.h"
#include "trace/common/merkle.h"
#include "trace/common/pg_log.h"
#include "trace/common/secp256k1.h"
#include "trace/common/sha256.h"

namespace trace {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

constexpr const char* kOrg = "chain-org";
constexpr const char* kDevice = "dev-1";

// A trace-anchor process in its own process group, output appended to a log file.
class AnchorProcess {
 public:
  AnchorProcess(const testing::Stack& stack, const std::string& log_file) {
    std::string exe = testing::SourceDir() + "/build/bin/trace-anchor";
    if (const char* bin = std::getenv("TRACE_BIN_DIR")) exe = std::string(bin) + "/trace-anchor";
    std::map<std::string, std::string> env;
    for (const char* name : {"TRACE_DB_URL", "TRACE_KEYS_DIR", "TRACE_CHAIN_RPC", "TRACE_CONTRACT",
                             "TRACE_ANCHOR_KEY_FILE"}) {
      env[name] = stack.Env(name);
    }
    pid_ = ::fork();
    if (pid_ == 0) {
      ::setpgid(0, 0);
      for (const auto& [k, v] : env) ::setenv(k.c_str(), v.c_str(), 1);
      ::setenv("TRACE_CHAIN_CONFIRMATIONS", "2", 1);
      FILE* out = std::freopen(log_file.c_str(), "a", stdout);
      if (out) ::dup2(::fileno(stdout), 2);
      ::execl(exe.c_str(), exe.c_str(), static_cast<char*>(nullptr));
      ::_exit(127);
    }
  }
  ~AnchorProcess() { Stop(SIGTERM); }
  // Sends `sig` and reaps the process; returns its wait status.
  int Stop(int sig) {
    if (pid_ <= 0) return 0;
    ::kill(pid_, sig);
    int status = 0;
    ::waitpid(pid_, &status, 0);
    pid_ = -1;
    return status;
  }
  bool running() const { return pid_ > 0 && ::waitpid(pid_, nullptr, WNOHANG) == 0; }

 private:
  pid_t pid_ = -1;
};

struct AnchorRow {
  int64_t id;
  uint64_t tree_size;
  Hash root;
  std::string state;
  std::string tx_hash;
  uint64_t nonce;
  uint64_t block_number;
  std::string block_hash;
  std::string error;
};

Hash ToHash(const pqxx::field& f) {
  pqxx::binarystring b(f);
  Hash h{};
  if (b.size() == 32) std::copy(b.data(), b.data() + 32, h.begin());
  return h;
}

std::string HashString(const Hash& h) { return std::string(reinterpret_cast<const char*>(h.data()), h.size()); }

class AnchorChainTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto stack = testing::Stack::Start({.postgres = true, .anvil = true});
    ASSERT_TRUE(stack) << stack.error();
    stack_ = std::move(*stack).release();
    auto r = stack_->Run({"trace-admin", "keys"});
    ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
    device_key_ = new Ed25519PrivateKey(Ed25519PrivateKey::Generate());
    pqxx::connection conn(stack_->Env("TRACE_DB_URL"));
    pqxx::work w(conn);
    w.exec_params("INSERT INTO organizations (id, name) VALUES ($1, 'Chain test')", kOrg);
    w.exec_params(
        "INSERT INTO devices (org, device, public_key, mqtt_username) VALUES ($1, $2, $3, $1 || '/' || $2)", kOrg,
        kDevice, pqxx::binarystring(device_key_->public_key()));
    w.commit();
    anchor_ = new AnchorProcess(*stack_, stack_->dir() + "/logs/trace-anchor-test.log");
  }
  static void TearDownTestSuite() {
    delete anchor_;
    anchor_ = nullptr;
    delete device_key_;
    device_key_ = nullptr;
    delete stack_;
    stack_ = nullptr;
  }

  void SetUp() override {
    ASSERT_NE(stack_, nullptr);
    auto eth = EthClient::Create(stack_->Env("TRACE_CHAIN_RPC"));
    ASSERT_TRUE(eth) << eth.error();
    eth_ = std::move(*eth);
    auto address = ParseAddress(stack_->Env("TRACE_CONTRACT"));
    ASSERT_TRUE(address) << address.error();
    contract_ = std::make_unique<TraceAnchorContract>(*eth_, *address);
    db_ = std::make_unique<pqxx::connection>(stack_->Env("TRACE_DB_URL"));
  }

  // Signs and stores `count` envelopes (one ObjectEvent each) with the next seqs,
  // with their events and event_keys rows, as the gateway would.
  static void InsertEnvelopes(pqxx::connection& conn, int count) {
    pqxx::work w(conn);
    for (int i = 0; i < count; ++i) {
      uint64_t seq = ++next_seq_;
      boost::json::object event{{"type", "ObjectEvent"},
                                {"action", "OBSERVE"},
                                {"bizStep", "sensor_reporting"},
                                {"eventTime", "2026-07-03T10:00:00.000Z"},
                                {"eventTimeZoneOffset", "+00:00"},
                                {"epcList", boost::json::array{"urn:epc:id:sgtin:9506000.134369." + std::to_string(seq)}}};
      boost::json::object unsigned_env{{"v", 1},
                                       {"org", kOrg},
                                       {"device", kDevice},
                                       {"seq", seq},
                                       {"sent", "2026-07-03T10:00:00.000Z"},
                                       {"events", boost::json::array{event}}};
      auto env = SignEnvelope(unsigned_env, *device_key_);
      ASSERT_TRUE(env) << env.error();
      pqxx::binarystring id(HashBytes(Sha256(env->canonical_bytes)));
      w.exec_params(
          "INSERT INTO envelopes (id, org, device, seq, canonical, sent_at, source, event_count) "
          "VALUES ($1, $2, $3, $4, $5, $6::timestamptz, 'mqtt', 1)",
          id, kOrg, kDevice, static_cast<int64_t>(seq), pqxx::binarystring(env->canonical_bytes), env->sent);
      w.exec_params(
          "INSERT INTO events (envelope_id, idx, org, event_type, action, biz_step, event_time, "
          "event_time_zone_offset, body) VALUES ($1, 0, $2, 'ObjectEvent', 'OBSERVE', 'sensor_reporting', "
          "'2026-07-03T10:00:00Z', '+00:00', $3::jsonb)",
          id, kOrg, boost::json::serialize(event));
      for (const auto& k : gateway::EventKeysFor(event)) {
        w.exec_params(
            "INSERT INTO event_keys (envelope_id, idx, kind, value, gtin, lot, serial) "
            "VALUES ($1, 0, $2, $3, NULLIF($4, ''), NULLIF($5, ''), NULLIF($6, ''))",
            id, k.kind, k.value, k.gtin.value_or(""), k.lot.value_or(""), k.serial.value_or(""));
      }
    }
    w.commit();
  }

  std::vector<AnchorRow> Anchors() {
    pqxx::read_transaction tx(*db_);
    std::vector<AnchorRow> rows;
    for (const auto& r : tx.exec("SELECT id, tree_size, root, state, coalesce(tx_hash, ''), coalesce(nonce, -1), "
                                 "coalesce(block_number, -1), coalesce(block_hash, ''), coalesce(error, '') "
                                 "FROM anchors ORDER BY id")) {
      rows.push_back({r[0].as<int64_t>(), r[1].as<uint64_t>(), ToHash(r[2]), r[3].as<std::string>(),
                      r[4].as<std::string>(), static_cast<uint64_t>(r[5].as<int64_t>()),
                      static_cast<uint64_t>(r[6].as<int64_t>()), r[7].as<std::string>(), r[8].as<std::string>()});
    }
    return rows;
  }

  uint64_t EnvelopeCount() {
    pqxx::read_transaction tx(*db_);
    return tx.exec("SELECT count(*) FROM envelopes")[0][0].as<uint64_t>();
  }

  // Waits until a confirmed anchor covers every stored envelope; returns it.
  std::optional<AnchorRow> WaitAnchored(std::chrono::seconds timeout) {
    uint64_t want = EnvelopeCount();
    auto deadline = Clock::now() + timeout;
    while (Clock::now() < deadline) {
      for (const AnchorRow& row : Anchors()) {
        if (row.state == "confirmed" && row.tree_size == want) return row;
      }
      std::this_thread::sleep_for(200ms);
    }
    ADD_FAILURE() << "no confirmed anchor of tree size " << want << " within " << timeout.count() << " s";
    return std::nullopt;
  }

  // The log has leaf indexes 0..n-1, each envelope once, and n = envelopes.
  void ExpectWholeLog() {
    pqxx::read_transaction tx(*db_);
    auto r = tx.exec(
        "SELECT count(*), count(DISTINCT envelope_id), coalesce(max(leaf_index) + 1, 0), "
        "(SELECT count(*) FROM envelopes) FROM log_leaves")[0];
    EXPECT_EQ(r[0].as<uint64_t>(), r[2].as<uint64_t>()) << "a gap in leaf indexes";
    EXPECT_EQ(r[0].as<uint64_t>(), r[1].as<uint64_t>()) << "an envelope twice in the log";
    EXPECT_EQ(r[0].as<uint64_t>(), r[3].as<uint64_t>()) << "an envelope not in the log";
  }

  // Every confirmed anchor's root equals the checkpoint's and rootAt on the chain.
  void ExpectConfirmedRootsOnChain() {
    std::vector<AnchorRow> rows = Anchors();
    pqxx::read_transaction tx(*db_);
    for (const AnchorRow& row : rows) {
      if (row.state != "confirmed") continue;
      auto on_chain = contract_->RootAt(row.tree_size);
      ASSERT_TRUE(on_chain) << on_chain.error();
      EXPECT_EQ(*on_chain, HashString(row.root)) << "anchor " << row.id << " tree size " << row.tree_size;
      auto cp = tx.exec_params("SELECT root FROM checkpoints WHERE tree_size = $1",
                               static_cast<int64_t>(row.tree_size));
      ASSERT_EQ(cp.size(), 1u);
      EXPECT_EQ(ToHash(cp[0][0]), row.root);
      auto block = eth_->GetBlockByNumber(row.block_number);
      ASSERT_TRUE(block) << block.error();
      EXPECT_EQ(ToHexData(block->hash), row.block_hash) << "anchor " << row.id << " not in the canonical chain";
    }
  }

  // Anchored events emitted from block `from` on.
  size_t AnchoredEventsSince(uint64_t from) {
    boost::json::object filter{{"toBlock", "latest"},
                               {"address", stack_->Env("TRACE_CONTRACT")},
                               {"topics", boost::json::array{ToHexData(AnchoredEventTopic())}}};
    char buf[32];
    std::snprintf(buf, sizeof buf, "0x%llx", static_cast<unsigned long long>(from));
    filter["fromBlock"] = buf;
    auto logs = eth_->rpc().Call("eth_getLogs", {filter});
    EXPECT_TRUE(logs) << logs.error();
    return logs && logs->is_array() ? logs->as_array().size() : 0;
  }

  struct Audit {
    int exit_code;
    boost::json::object summary;
    std::string err;
  };
  Audit RunAudit() {
    auto r = stack_->Run({"trace-admin", "audit", "--json"});
    Audit a{r.exit_code, {}, r.err};
    boost::system::error_code ec;
    auto v = boost::json::parse(r.out, ec);
    EXPECT_FALSE(ec) << r.out << r.err;
    if (!ec && v.is_object()) a.summary = v.as_object();
    return a;
  }
  // Runs `sql` as the superuser with the triggers off (session_replication_role).
  void AsSuperuser(const std::string& sql) {
    std::string url = stack_->Env("TRACE_DB_URL");
    url.replace(url.find("trace@"), 6, "postgres@");
    pqxx::connection conn(url);
    pqxx::work w(conn);
    w.exec("SET LOCAL session_replication_role = replica");
    w.exec(sql);
    w.commit();
  }
  static std::vector<std::string> Problems(const Audit& a, const std::string& table) {
    std::vector<std::string> out;
    if (!a.summary.contains("problems")) return out;
    for (const auto& p : a.summary.at("problems").as_array()) {
      if (p.at("table").as_string() == table) {
        out.push_back(std::string(p.at("key").as_string().c_str()) + ": " + p.at("what").as_string().c_str());
      }
    }
    return out;
  }

  static testing::Stack* stack_;
  static Ed25519PrivateKey* device_key_;
  static AnchorProcess* anchor_;
  static uint64_t next_seq_;
  std::unique_ptr<EthClient> eth_;
  std::unique_ptr<TraceAnchorContract> contract_;
  std::unique_ptr<pqxx::connection> db_;
};

testing::Stack* AnchorChainTest::stack_ = nullptr;
Ed25519PrivateKey* AnchorChainTest::device_key_ = nullptr;
AnchorProcess* AnchorChainTest::anchor_ = nullptr;
uint64_t AnchorChainTest::next_seq_ = 0;

TEST_F(AnchorChainTest, TenThousandEnvelopesAnchoredAndEveryProofVerifiesAgainstTheChain) {
  // Arriving in ten bursts, so that several checkpoints get anchored.
  for (int burst = 0; burst < 10; ++burst) {
    InsertEnvelopes(*db_, 1000);
    std::this_thread::sleep_for(700ms);
  }
  auto anchored = WaitAnchored(120s);
  ASSERT_TRUE(anchored);
  ASSERT_EQ(anchored->tree_size, 10000u);
  ExpectWholeLog();
  ExpectConfirmedRootsOnChain();

  auto latest = contract_->Latest();
  ASSERT_TRUE(latest) << latest.error();
  EXPECT_EQ(latest->tree_size, 10000u);
  Hash chain_root{};
  {
    auto root = contract_->RootAt(10000);
    ASSERT_TRUE(root) << root.error();
    std::copy(root->begin(), root->end(), chain_root.begin());
  }
  // Consistency between every pair of anchored sizes, with the roots from the chain.
  std::vector<std::pair<uint64_t, Hash>> sizes;
  for (const AnchorRow& row : Anchors()) {
    if (row.state != "confirmed") continue;
    auto root = contract_->RootAt(row.tree_size);
    ASSERT_TRUE(root) << root.error();
    Hash h{};
    std::copy(root->begin(), root->end(), h.begin());
    sizes.emplace_back(row.tree_size, h);
  }
  pqxx::read_transaction tx(*db_);
  pg::PgHashReader reader(tx);
  uint64_t verified = 0;
  for (const auto& row : tx.exec("SELECT l.leaf_index, e.canonical FROM log_leaves l "
                                 "JOIN envelopes e ON e.id = l.envelope_id ORDER BY l.leaf_index")) {
    uint64_t index = row[0].as<uint64_t>();
    pqxx::binarystring canonical(row[1]);
    auto proof = merkle::InclusionProof(reader, index, 10000);
    ASSERT_TRUE(proof) << proof.error();
    Status ok = merkle::VerifyInclusion(merkle::LeafHash(std::string_view(canonical.get(), canonical.size())), index,
                                        10000, *proof, chain_root);
    ASSERT_TRUE(ok.ok()) << "leaf " << index << ": " << ok;
    ++verified;
  }
  EXPECT_EQ(verified, 10000u);

  EXPECT_GE(sizes.size(), 2u) << "the bursts should have made several anchors";
  for (size_t a = 0; a < sizes.size(); ++a) {
    for (size_t b = a + 1; b < sizes.size(); ++b) {
      auto proof = merkle::ConsistencyProof(reader, sizes[a].first, sizes[b].first);
      ASSERT_TRUE(proof) << proof.error();
      Status ok =
          merkle::VerifyConsistency(sizes[a].first, sizes[b].first, sizes[a].second, sizes[b].second, *proof);
      EXPECT_TRUE(ok.ok()) << sizes[a].first << " -> " << sizes[b].first << ": " << ok;
    }
  }
}

TEST_F(AnchorChainTest, KillNineRightAfterSubmissionLosesNothing) {
  ASSERT_TRUE(WaitAnchored(60s));
  size_t before = Anchors().size();
  InsertEnvelopes(*db_, 500);
  // Poll for the transaction of the new anchor to be sent (the node took it: 'submitted'),
  // then kill at once. Not merely recorded: a row that is 'pending' with a hash may not have
  // reached the node yet, and re-signing it later (same nonce, the base fee of a newer block)
  // rightly gives another hash (ChainAnchorer.CrashBetweenRecordingAndBroadcastingIsRecovered).
  std::optional<AnchorRow> in_flight;
  auto deadline = Clock::now() + 30s;
  while (!in_flight && Clock::now() < deadline) {
    for (const AnchorRow& row : Anchors()) {
      if (static_cast<size_t>(row.id) > before && !row.tx_hash.empty() && row.state == "submitted") in_flight = row;
    }
    if (!in_flight) std::this_thread::sleep_for(5ms);
  }
  ASSERT_TRUE(in_flight) << "no anchor transaction seen in flight";
  int status = anchor_->Stop(SIGKILL);
  EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
  // The transaction gets mined while nobody follows it.
  std::this_thread::sleep_for(3s);
  delete anchor_;
  anchor_ = new AnchorProcess(*stack_, stack_->dir() + "/logs/trace-anchor-test.log");

  auto anchored = WaitAnchored(60s);
  ASSERT_TRUE(anchored);
  ExpectWholeLog();
  ExpectConfirmedRootsOnChain();
  // The anchor that was in flight was not lost: it ended confirmed (same row).
  bool found = false;
  std::set<uint64_t> nonces;
  for (const AnchorRow& row : Anchors()) {
    EXPECT_NE(row.state, "failed") << "anchor " << row.id << ": " << row.error;
    if (row.state == "confirmed") EXPECT_TRUE(nonces.insert(row.nonce).second) << "nonce " << row.nonce << " twice";
    if (row.id == in_flight->id) {
      found = true;
      EXPECT_EQ(row.state, "confirmed");
      EXPECT_EQ(row.tx_hash, in_flight->tx_hash) << "the sent transaction should have been followed, not replaced";
      EXPECT_EQ(row.nonce, in_flight->nonce);
    }
  }
  EXPECT_TRUE(found);
}

TEST_F(AnchorChainTest, AnvilDownSixtySecondsCaughtUpWithOneTransaction) {
  // The last anchor before the outage: every Anchored event after its block is the catch-up.
  auto last_before = WaitAnchored(60s);
  ASSERT_TRUE(last_before);
  size_t confirmed_before = 0;
  for (const AnchorRow& row : Anchors()) confirmed_before += row.state == "confirmed";
  std::string dir = stack_->dir();
  auto stop = testing::RunProgram({testing::SourceDir() + "/deploy/stack.sh", "stop", dir, "anvil"}, {}, 60);
  ASSERT_EQ(stop.exit_code, 0) << stop.err;
  auto down_since = Clock::now();
  while (Clock::now() - down_since < 60s) {
    InsertEnvelopes(*db_, 100);
    std::this_thread::sleep_for(2s);
  }
  // Let the last checkpoint be written, then bring the chain back with its state.
  std::this_thread::sleep_for(1500ms);
  // trace-anchor may send and get mined its catch-up transaction before `start` has returned
  // (it polls anvil while stack.sh still checks the contract), so the events are counted from
  // the block after the last anchor before the outage, not from the head seen afterwards.
  auto start = testing::RunProgram({testing::SourceDir() + "/deploy/stack.sh", "start", dir, "anvil"}, {}, 120);
  ASSERT_EQ(start.exit_code, 0) << start.err;

  auto anchored = WaitAnchored(60s);
  ASSERT_TRUE(anchored);
  EXPECT_TRUE(anchor_->running());
  ExpectWholeLog();
  ExpectConfirmedRootsOnChain();
  size_t confirmed_after = 0;
  for (const AnchorRow& row : Anchors()) {
    confirmed_after += row.state == "confirmed";
    EXPECT_NE(row.state, "failed") << "anchor " << row.id << ": " << row.error;
  }
  EXPECT_EQ(confirmed_after, confirmed_before + 1) << "one transaction should cover the whole outage";
  EXPECT_EQ(AnchoredEventsSince(last_before->block_number + 1), 1u);
}

TEST_F(AnchorChainTest, ReorganizationRemovingTheAnchorIsAnchoredAgain) {
  ASSERT_TRUE(WaitAnchored(60s));
  InsertEnvelopes(*db_, 200);
  auto first = WaitAnchored(60s);
  ASSERT_TRUE(first);
  auto head = eth_->BlockNumber();
  ASSERT_TRUE(head) << head.error();
  ASSERT_GE(*head, first->block_number);
  // Drop every block from the one holding the anchor on.
  uint64_t depth = *head - first->block_number + 1;
  auto rolled = eth_->rpc().Call("anvil_rollback", {depth});
  ASSERT_TRUE(rolled) << rolled.error();
  auto gone = eth_->rpc().Call("eth_getTransactionByHash", {first->tx_hash});
  ASSERT_TRUE(gone) << gone.error();

  // Anchored again: a confirmed anchor of that size, in a canonical block, on the chain.
  auto deadline = Clock::now() + 60s;
  std::optional<AnchorRow> again;
  while (!again && Clock::now() < deadline) {
    for (const AnchorRow& row : Anchors()) {
      if (row.state == "confirmed" && row.tree_size == first->tree_size && row.block_hash != first->block_hash) {
        again = row;
      }
    }
    std::this_thread::sleep_for(200ms);
  }
  ASSERT_TRUE(again) << "not anchored again after the reorganization";
  ExpectConfirmedRootsOnChain();
  auto root = contract_->RootAt(first->tree_size);
  ASSERT_TRUE(root) << root.error();
  EXPECT_EQ(*root, HashString(first->root));
}

// trace-admin audit over the store the tests above built: clean, then one byte changed
// (bypassing the append-only triggers as the superuser) in an envelope, a log node and a
// checkpoint note, each named by table and key; the byte is put back after each.
TEST_F(AnchorChainTest, AuditCleanThenEachChangedByteIsNamed) {
  ASSERT_TRUE(WaitAnchored(60s));
  uint64_t envelopes = EnvelopeCount();
  Audit clean = RunAudit();
  EXPECT_EQ(clean.exit_code, 0) << boost::json::serialize(clean.summary) << clean.err;
  EXPECT_EQ(clean.summary["envelopes"].to_number<uint64_t>(), envelopes);
  EXPECT_EQ(clean.summary["leaves"].to_number<uint64_t>(), envelopes);
  EXPECT_GE(clean.summary["anchors"].to_number<uint64_t>(), 3u);
  EXPECT_EQ(clean.summary["chain"], "checked");
  EXPECT_TRUE(clean.summary["problems"].as_array().empty()) << boost::json::serialize(clean.summary["problems"]);
  EXPECT_NE(clean.err.find("audit: envelopes"), std::string::npos) << "progress on stderr";

  // An envelope: one byte of the canonical bytes of leaf 4321.
  std::string id;
  {
    pqxx::read_transaction tx(*db_);
    id = HexEncode(pqxx::binarystring(tx.exec("SELECT envelope_id FROM log_leaves WHERE leaf_index = 4321")[0][0]).str());
  }
  const std::string flip = "UPDATE envelopes SET canonical = set_byte(canonical, 40, get_byte(canonical, 40) # 1) "
                           "WHERE id = decode('" + id + "', 'hex')";
  AsSuperuser(flip);
  Audit a = RunAudit();
  EXPECT_EQ(a.exit_code, 1);
  auto env_problems = Problems(a, "envelopes");
  ASSERT_FALSE(env_problems.empty()) << boost::json::serialize(a.summary);
  for (const auto& p : env_problems) EXPECT_EQ(p.rfind(id, 0), 0u) << p;
  auto leaf = Problems(a, "log_nodes");
  ASSERT_FALSE(leaf.empty());
  EXPECT_EQ(leaf[0].rfind("level 0 idx 4321:", 0), 0u) << leaf[0];
  AsSuperuser(flip);  // back as it was

  // A log node: one byte of the hash of subtree (level 3, idx 7).
  const std::string node = "UPDATE log_nodes SET hash = set_byte(hash, 0, get_byte(hash, 0) # 1) "
                           "WHERE level = 3 AND idx = 7";
  AsSuperuser(node);
  a = RunAudit();
  EXPECT_EQ(a.exit_code, 1);
  ASSERT_EQ(a.summary["problems"].as_array().size(), 1u) << boost::json::serialize(a.summary["problems"]);
  auto nodes = Problems(a, "log_nodes");
  ASSERT_EQ(nodes.size(), 1u);
  EXPECT_EQ(nodes[0].rfind("level 3 idx 7: hash ", 0), 0u) << nodes[0];
  AsSuperuser(node);

  // A checkpoint note: one character of the signed note of the 10,000-leaf checkpoint.
  const std::string note = "UPDATE checkpoints SET note = overlay(note placing "
                           "CASE WHEN substr(note, 3, 1) = 'x' THEN 'y' ELSE 'x' END from 3 for 1) "
                           "WHERE tree_size = 10000";
  pqxx::read_transaction read(*db_);
  std::string original = read.exec("SELECT note FROM checkpoints WHERE tree_size = 10000")[0][0].as<std::string>();
  read.commit();
  AsSuperuser(note);
  a = RunAudit();
  EXPECT_EQ(a.exit_code, 1);
  ASSERT_EQ(a.summary["problems"].as_array().size(), 1u) << boost::json::serialize(a.summary["problems"]);
  auto cps = Problems(a, "checkpoints");
  ASSERT_EQ(cps.size(), 1u);
  EXPECT_EQ(cps[0].rfind("10000: note does not verify", 0), 0u) << cps[0];
  {
    std::string url = stack_->Env("TRACE_DB_URL");
    url.replace(url.find("trace@"), 6, "postgres@");
    pqxx::connection conn(url);
    pqxx::work w(conn);
    w.exec("SET LOCAL session_replication_role = replica");
    w.exec_params("UPDATE checkpoints SET note = $1 WHERE tree_size = 10000", original);
    w.commit();
  }
  EXPECT_EQ(RunAudit().exit_code, 0);
}

}  // namespace
}  // namespace trace
