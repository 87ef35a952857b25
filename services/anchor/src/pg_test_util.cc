#include "pg_test_util.h"

#include <memory>

#include <gtest/gtest.h>
#include <pqxx/pqxx>

#include "trace/common/checkpoint.h"
#include "trace/common/merkle.h"
#include "harness/shared_stack.h"
#include "trace/common/pg_log.h"

namespace trace::anchor::test {
namespace {

testing::Stack* g_stack = nullptr;
PlatformKeys* g_keys = nullptr;

class StackEnvironment : public ::testing::Environment {
 public:
  void SetUp() override {
    auto stack = testing::Stack::Start({.postgres = true});
    ASSERT_TRUE(stack.has_value()) << stack.error();
    stack_ = std::move(*stack);
    g_stack = stack_.get();
    auto keys = LoadOrCreatePlatformKeys(stack_->Env("TRACE_KEYS_DIR"), kDefaultLogName);
    ASSERT_TRUE(keys.has_value()) << keys.error();
    keys_ = std::make_unique<PlatformKeys>(std::move(*keys));
    g_keys = keys_.get();
  }
  void TearDown() override {
    g_stack = nullptr;
    g_keys = nullptr;
    stack_.reset();
  }

 private:
  std::unique_ptr<testing::Stack> stack_;
  std::unique_ptr<PlatformKeys> keys_;
};

const ::testing::Environment* const kEnv = ::testing::AddGlobalTestEnvironment(new StackEnvironment);

}  // namespace

testing::Stack& TheStack() { return *g_stack; }
const PlatformKeys& Keys() { return *g_keys; }

std::string NewDatabase(const std::string& name) {
  const std::string url = testing::CreateDatabase(*g_stack, name);
  auto r = g_stack->Run({"trace-admin", "migrate", "--db-url", url});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  r = g_stack->Run({"trace-admin", "keys", "--db-url", url});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  return url;
}

void InsertEnvelopes(const std::string& url, int64_t first, int64_t last, const std::string& salt) {
  pqxx::connection conn(url);
  pqxx::work w(conn);
  w.exec("INSERT INTO organizations (id, name) VALUES ('test-org', 'Test') ON CONFLICT DO NOTHING");
  w.exec(
      "INSERT INTO devices (org, device, public_key, mqtt_username) "
      "VALUES ('test-org', 'dev-1', decode(repeat('ab', 32), 'hex'), 'test-org/dev-1') ON CONFLICT DO NOTHING");
  w.exec_params(
      "INSERT INTO envelopes (id, org, device, seq, canonical, sent_at, source, event_count) "
      "SELECT sha256(c), 'test-org', 'dev-1', i, c, now(), 'mqtt', 1 FROM "
      "(SELECT i, convert_to('{\"n\":' || i || ',\"salt\":\"' || $3 || '\"}', 'UTF8') AS c "
      " FROM generate_series($1::bigint, $2::bigint) i) s ORDER BY i",
      first, last, salt);
  w.commit();
}

LogCheck CheckLog(const std::string& url, bool all_proofs) {
  LogCheck out;
  pqxx::connection conn(url);
  pqxx::read_transaction tx(conn);  // one snapshot for everything below
  out.envelopes = tx.exec("SELECT count(*) FROM envelopes")[0][0].as<uint64_t>();
  out.leaves = tx.exec("SELECT count(*) FROM log_leaves")[0][0].as<uint64_t>();
  auto size = pg::ReadTreeSize(tx);
  EXPECT_TRUE(size.has_value());
  EXPECT_EQ(*size, out.leaves) << "a gap in leaf indexes";
  EXPECT_EQ(tx.exec("SELECT count(DISTINCT envelope_id) FROM log_leaves")[0][0].as<uint64_t>(), out.leaves)
      << "an envelope twice in the log";

  std::vector<Hash> leaf_hashes;
  leaf_hashes.reserve(out.leaves);
  int64_t previous_index = -1;
  for (const auto& row :
       tx.exec("SELECT l.leaf_index, e.canonical FROM log_leaves l JOIN envelopes e ON e.id = l.envelope_id "
               "ORDER BY l.leaf_index")) {
    int64_t index = row[0].as<int64_t>();
    EXPECT_EQ(index, previous_index + 1);
    previous_index = index;
    pqxx::binarystring canonical(row[1]);
    leaf_hashes.push_back(merkle::LeafHash(std::string_view(canonical.get(), canonical.size())));
  }
  uint64_t n = leaf_hashes.size();
  pg::PgHashReader reader(tx);
  auto root = merkle::RootHash(reader, n);
  EXPECT_TRUE(root.has_value()) << root.error();
  if (!root) return out;
  EXPECT_EQ(*root, merkle::RootOf(leaf_hashes));
  // Rows of log_nodes: exactly the complete subtrees of a tree of size n.
  uint64_t expected_nodes = 0;
  for (uint64_t level = 0; level < 64 && (n >> level) > 0; ++level) expected_nodes += n >> level;
  EXPECT_EQ(tx.exec("SELECT count(*) FROM log_nodes")[0][0].as<uint64_t>(), expected_nodes);

  uint64_t step = all_proofs ? 1 : std::max<uint64_t>(1, n / 500);
  for (uint64_t i = 0; i < n; i += step) {
    uint64_t before = reader.queries();
    auto proof = merkle::InclusionProof(reader, i, n);
    EXPECT_TRUE(proof.has_value()) << proof.error();
    if (!proof) continue;
    EXPECT_EQ(reader.queries() - before, 1u) << "an inclusion proof should take one query";
    Status ok = merkle::VerifyInclusion(leaf_hashes[i], i, n, *proof, *root);
    EXPECT_TRUE(ok.ok()) << "leaf " << i << ": " << ok;
  }

  std::vector<std::pair<uint64_t, Hash>> checkpoints;
  for (const auto& row : tx.exec("SELECT tree_size, root, note, key_id FROM checkpoints ORDER BY tree_size")) {
    uint64_t size_i = row[0].as<uint64_t>();
    pqxx::binarystring r(row[1]);
    Hash h{};
    std::copy(r.data(), r.data() + 32, h.begin());
    auto cp = VerifyCheckpointNote(row[2].as<std::string>(), g_keys->log_name, g_keys->log.public_key());
    EXPECT_TRUE(cp.has_value()) << cp.error();
    if (cp) {
      EXPECT_EQ(cp->tree_size, size_i);
      EXPECT_EQ(cp->root, h);
    }
    EXPECT_EQ(row[3].as<std::string>(""), g_keys->log_key_id);
    EXPECT_LE(size_i, n);
    if (size_i <= n) {
      EXPECT_EQ(h, merkle::RootOf(std::span<const Hash>(leaf_hashes.data(), size_i))) << "checkpoint " << size_i;
    }
    checkpoints.emplace_back(size_i, h);
  }
  for (size_t a = 0; a < checkpoints.size(); ++a) {
    for (size_t b = a; b < checkpoints.size(); ++b) {
      auto proof = merkle::ConsistencyProof(reader, checkpoints[a].first, checkpoints[b].first);
      EXPECT_TRUE(proof.has_value()) << proof.error();
      if (!proof) continue;
      Status ok = merkle::VerifyConsistency(checkpoints[a].first, checkpoints[b].first, checkpoints[a].second,
                                            checkpoints[b].second, *proof);
      EXPECT_TRUE(ok.ok()) << checkpoints[a].first << " -> " << checkpoints[b].first << ": " << ok;
    }
  }
  return out;
}

}  // namespace trace::anchor::test
