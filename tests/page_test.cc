// The consumer page end to end, in a real browser: deploy/stack.sh starts PostgreSQL,
// Mosquitto and the shipped services (trace-gateway, trace-anchor, trace-api);
// trace-devicesim publishes the rice and medicine scenarios through the gateway;
// trace-anchor sequences and checkpoints them. The chain commit is written here as
// trace-anchor will once it has its chain client: a checkpoint of all leaves but
// the last, signed with the log key, and its confirmed anchor (so one medicine step
// stays "not yet anchored"). Then Debian's Chromium, driven by playwright-core
// (tests/browser/page_test.mjs), opens the pages on a 390×844 phone viewport.
// Screenshots go to build/test-artifacts/.
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <chrono>
#include <filesystem>
#include <pqxx/pqxx>
#include <string>
#include <thread>

#include "harness/stack.h"
#include "trace/common/checkpoint.h"
#include "trace/common/encoding.h"
#include "trace/common/merkle.h"
#include "trace/common/platform_keys.h"

namespace trace {
namespace {

namespace fs = std::filesystem;
namespace json = boost::json;
using namespace std::chrono_literals;

constexpr char kRiceLot[] = "HM105-2611-A";
constexpr char kMedicineLot[] = "LK2-26K014";
constexpr char kContract[] = "0x5fbdb2315678afecb367f032d93f642f64180aa3";

template <typename T>
T Value(pqxx::transaction_base& tx, const std::string& sql) {
  return tx.exec1(sql)[0].as<T>();
}

class PageSystemTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto stack = testing::Stack::Start({.postgres = true, .mosquitto = true, .services = true});
    ASSERT_TRUE(stack.has_value()) << stack.error();
    stack_ = std::move(*stack).release();
    ASSERT_FALSE(stack_->Env("TRACE_API_URL").empty()) << "stack.sh --services did not start trace-api";
    const std::string state = stack_->dir() + "/devicesim";
    for (const char* scenario : {"rice", "medicine"}) {
      auto r = stack_->Run({"trace-devicesim", "scenario", scenario, "--register", "--json", "--timeout=60",
                            "--state-dir=" + state});
      ASSERT_EQ(r.exit_code, 0) << scenario << "\n" << r.out << r.err;
    }
    pqxx::connection c(stack_->Env("TRACE_DB_URL"));
    // trace-anchor gives every envelope its leaf and checkpoints the whole log.
    const auto deadline = std::chrono::steady_clock::now() + 60s;
    int64_t envelopes = 0;
    for (;;) {
      pqxx::read_transaction tx(c);
      envelopes = Value<int64_t>(tx, "SELECT count(*) FROM envelopes");
      auto leaves = Value<int64_t>(tx, "SELECT count(*) FROM log_leaves");
      auto checkpointed = Value<int64_t>(tx, "SELECT coalesce(max(tree_size), 0) FROM checkpoints");
      if (leaves == envelopes && checkpointed == envelopes) break;
      ASSERT_LT(std::chrono::steady_clock::now(), deadline)
          << envelopes << " envelopes, " << leaves << " leaves, checkpoint " << checkpointed;
      tx.commit();
      std::this_thread::sleep_for(200ms);
    }
    ASSERT_GT(envelopes, 20);
    AnchorAllButLast(c, static_cast<uint64_t>(envelopes));

    pqxx::work w(c);
    // Product names, as the producer dashboard would register them, and a recall of the medicine lot.
    rice_gtin_ = Value<std::string>(w, 
        "SELECT gtin FROM event_keys WHERE lot = '" + std::string(kRiceLot) + "' AND gtin LIKE '0885045600021%' LIMIT 1");
    medicine_gtin_ = Value<std::string>(w, 
        "SELECT gtin FROM event_keys WHERE lot = '" + std::string(kMedicineLot) + "' LIMIT 1");
    w.exec_params("INSERT INTO products (gtin, org, name) VALUES ($1, 'mun-river-mill', 'Hom Mali jasmine rice 5 kg'), "
                  "($2, 'alpen-pharma', 'Chlorambucil 2 mg tablets, 50') ON CONFLICT DO NOTHING",
                  rice_gtin_, medicine_gtin_);
    w.exec_params("INSERT INTO lots (gtin, lot, org, recalled_at, recall_reason) VALUES "
                  "($1, $2, 'alpen-pharma', now(), 'Cold chain excursion above 8 °C: return to the pharmacy')",
                  medicine_gtin_, kMedicineLot);
    // The envelope to tamper with: the milling step of the rice lot.
    tampered_ = Value<std::string>(w, 
        "SELECT encode(envelope_id, 'hex') FROM events WHERE event_type = 'TransformationEvent' AND body::text LIKE "
        "'%" + std::string(kRiceLot) + "%' LIMIT 1");
    w.commit();
  }

  // A checkpoint of all leaves but the last, signed with the log key the services
  // use, and its confirmed anchor (what trace-anchor records once the chain confirms).
  static void AnchorAllButLast(pqxx::connection& c, uint64_t leaves) {
    pqxx::work w(c);
    auto name_row = w.exec("SELECT name FROM platform_keys WHERE kind = 'log' AND retired_at IS NULL LIMIT 1");
    const std::string log_name = name_row.empty() ? std::string(kDefaultLogName) : name_row[0][0].as<std::string>();
    auto keys = LoadPlatformKeys(stack_->Env("TRACE_KEYS_DIR"), log_name);
    ASSERT_TRUE(keys.has_value()) << keys.error();
    const uint64_t size = leaves - 1;
    merkle::CompactRange range;
    pqxx::result r = w.exec_params(
        "SELECT encode(e.canonical, 'hex') FROM log_leaves l JOIN envelopes e ON e.id = l.envelope_id "
        "WHERE l.leaf_index < $1 ORDER BY l.leaf_index",
        static_cast<int64_t>(size));
    ASSERT_EQ(r.size(), size);
    for (const auto& row : r) range.Append(merkle::LeafHash(HexDecode(row[0].as<std::string>()).value()));
    Checkpoint cp{.origin = log_name, .tree_size = size, .root = range.Root(), .extensions = {}};
    auto note = SignCheckpoint(cp, log_name, keys->log);
    ASSERT_TRUE(note.has_value()) << note.error();
    w.exec_params("INSERT INTO checkpoints (tree_size, root, note) VALUES ($1, decode($2, 'hex'), $3) "
                  "ON CONFLICT DO NOTHING",
                  static_cast<int64_t>(size), HashHex(range.Root()), *note);
    auto stored_root = Value<std::string>(w, 
        "SELECT encode(root, 'hex') FROM checkpoints WHERE tree_size = " + std::to_string(size));
    ASSERT_EQ(stored_root, HashHex(range.Root())) << "trace-anchor's checkpoint of size " << size << " differs";
    const std::string tx = "0x" + HashHex(range.Root());  // any 32 bytes stand for the transaction hash
    w.exec_params(
        "INSERT INTO anchors (tree_size, root, chain_id, contract, tx_hash, state, block_number, block_hash) "
        "VALUES ($1, decode($2, 'hex'), 31337, $3, $4, 'confirmed', 812, $4)",
        static_cast<int64_t>(size), HashHex(range.Root()), kContract, tx);
    w.commit();
  }

  static void TearDownTestSuite() {
    delete stack_;
    stack_ = nullptr;
  }

  // Runs the browser test; returns its output after asserting that it passed.
  static std::string Browser(const std::string& mode, const std::string& path, const std::string& extra = "") {
    const fs::path artifacts = fs::path(getenv("TRACE_BIN_DIR") ? getenv("TRACE_BIN_DIR") : "build/bin") /
                               ".." / "test-artifacts";
    fs::create_directories(artifacts);
    std::vector<std::string> argv = {"node", testing::SourceDir() + "/tests/browser/page_test.mjs", mode,
                                     stack_->Env("TRACE_API_URL") + path,
                                     fs::weakly_canonical(artifacts / ("page-" + mode + ".png")).string()};
    if (!extra.empty()) argv.push_back(extra);
    auto r = stack_->Run(argv);
    EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
    EXPECT_NE(r.out.find("PAGE OK"), std::string::npos) << r.out << r.err;
    EXPECT_TRUE(fs::exists(artifacts / ("page-" + mode + ".png")));
    std::cout << r.out;
    return r.out;
  }

  static std::string RicePath() { return "/01/" + rice_gtin_ + "/10/" + kRiceLot; }

  static testing::Stack* stack_;
  static std::string rice_gtin_, medicine_gtin_, tampered_;
};

testing::Stack* PageSystemTest::stack_ = nullptr;
std::string PageSystemTest::rice_gtin_, PageSystemTest::medicine_gtin_, PageSystemTest::tampered_;

TEST_F(PageSystemTest, VerifierPassesSharedVectorsUnderNode) {
  auto r = stack_->Run({"node", testing::SourceDir() + "/tests/browser/verify_test.mjs",
                        getenv("TRACE_TESTDATA") ? getenv("TRACE_TESTDATA") : ""});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("checks passed"), std::string::npos) << r.out;
}

TEST_F(PageSystemTest, RiceTraceVerifiesInTheBrowserOnAPhone) {
  std::string out = Browser("good", RicePath());
  EXPECT_NE(out.find("\"summary\":\"verified\""), std::string::npos) << out;
  EXPECT_NE(out.find("\"failed\":0"), std::string::npos) << out;
}

TEST_F(PageSystemTest, MedicineShowsIngredientLotsExcursionAndRecall) {
  std::string out = Browser("medicine", "/01/" + medicine_gtin_ + "/10/" + kMedicineLot);
  EXPECT_NE(out.find("\"summary\":\"verified\""), std::string::npos) << out;
}

TEST_F(PageSystemTest, WithoutJavaScriptTheServerRenderedTimelineShows) { Browser("nojs", RicePath()); }

// Last: it changes the store. One byte of a stored envelope's canonical bytes is
// changed as the superuser, past the append-only trigger; the page must say FAILED.
TEST_F(PageSystemTest, TamperedEnvelopeShowsFailed) {
  ASSERT_EQ(tampered_.size(), 64u);
  std::string url = stack_->Env("TRACE_DB_URL");
  auto at = url.find("trace@");
  ASSERT_NE(at, std::string::npos) << url;
  url.replace(at, 6, "postgres@");
  {
    pqxx::connection su(url);
    pqxx::work w(su);
    w.exec("SET LOCAL session_replication_role = replica");
    auto r = w.exec_params(
        "UPDATE envelopes SET canonical = convert_to(regexp_replace(convert_from(canonical, 'UTF8'), "
        "'\"sent\":\"2', '\"sent\":\"3'), 'UTF8') WHERE id = decode($1, 'hex')",
        tampered_);
    ASSERT_EQ(r.affected_rows(), 1);
    w.commit();
  }
  std::string out = Browser("tampered", RicePath(), tampered_);
  EXPECT_NE(out.find("\"summary\":\"failed\""), std::string::npos) << out;
}

}  // namespace
}  // namespace trace
