// Sequencing, integration and checkpoints against a real PostgreSQL: in
// process (Sequencer, Checkpointer) and as the shipped build/bin/trace-anchor,
// killed with SIGKILL at random moments and run as leader plus standby.
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <random>
#include <sstream>
#include <string>
#include <thread>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <gtest/gtest.h>
#include <pqxx/pqxx>

#include "checkpointer.h"
#include "leader.h"
#include "pg_test_util.h"
#include "sequencer.h"
#include "trace/common/merkle.h"
#include "trace/common/pg_log.h"

namespace trace::anchor {
namespace {

using namespace std::chrono_literals;
using test::CheckLog;
using test::InsertEnvelopes;
using test::Keys;
using test::NewDatabase;

uint64_t TreeSize(const std::string& url) {
  pqxx::connection conn(url);
  pqxx::read_transaction tx(conn);
  return *pg::ReadTreeSize(tx);
}

TEST(Sequencer, EveryEnvelopeOnceInStoredOrderWithVerifiableProofs) {
  std::string url = NewDatabase("anchor_seq");
  pqxx::connection conn(url);
  Sequencer seq({.batch_size = 128});
  Checkpointer cp({.log_name = Keys().log_name, .key_id = Keys().log_key_id}, Keys().log);

  // Empty log: nothing to do, no checkpoint.
  auto first = seq.RunCycle(conn);
  ASSERT_TRUE(first.has_value()) << first.error();
  EXPECT_EQ(first->appended, 0u);
  EXPECT_EQ(first->root, merkle::EmptyRoot());
  auto none = cp.MaybeCheckpoint(conn, true);
  ASSERT_TRUE(none.has_value()) << none.error();
  EXPECT_FALSE(none->has_value());

  int64_t next = 1;
  for (int64_t chunk : {1, 2, 300, 5, 700, 1}) {
    InsertEnvelopes(url, next, next + chunk - 1);
    next += chunk;
    for (;;) {
      auto r = seq.RunCycle(conn);
      ASSERT_TRUE(r.has_value()) << r.error();
      EXPECT_LE(r->appended, 128u);
      if (r->appended == 0) break;
    }
    auto c = cp.MaybeCheckpoint(conn, true);
    ASSERT_TRUE(c.has_value()) << c.error();
    ASSERT_TRUE(c->has_value());
    EXPECT_EQ((*c)->tree_size, static_cast<uint64_t>(next - 1));
  }
  auto check = CheckLog(url);
  EXPECT_EQ(check.leaves, 1009u);
  EXPECT_EQ(check.envelopes, 1009u);

  // Leaf order is stored order.
  pqxx::read_transaction tx(conn);
  EXPECT_EQ(tx.exec("SELECT count(*) FROM log_leaves l JOIN envelopes e ON e.id = l.envelope_id "
                    "WHERE e.seq <> l.leaf_index + 1")[0][0]
                .as<int>(),
            0);
  // Checkpoints: one per chunk, none repeated without growth.
  EXPECT_EQ(tx.exec("SELECT count(*) FROM checkpoints")[0][0].as<int>(), 6);
}

TEST(Sequencer, BatchesAreBoundedByBytes) {
  std::string url = NewDatabase("anchor_bytes");
  InsertEnvelopes(url, 1, 10);  // about 20 bytes each
  pqxx::connection conn(url);
  Sequencer seq({.batch_size = 100, .max_batch_bytes = 45});
  std::vector<uint64_t> appended;
  for (;;) {
    auto r = seq.RunCycle(conn);
    ASSERT_TRUE(r.has_value()) << r.error();
    if (r->appended == 0) {
      EXPECT_FALSE(r->more);
      break;
    }
    appended.push_back(r->appended);
    EXPECT_EQ(r->more, r->tree_size < 10) << r->tree_size;
  }
  // 20-21 byte envelopes under a 45-byte cap: batches of 3 (the third starts below the cap).
  EXPECT_EQ(appended, (std::vector<uint64_t>{3, 3, 3, 1}));
  Sequencer one({.batch_size = 100, .max_batch_bytes = 1});
  InsertEnvelopes(url, 11, 12);
  EXPECT_EQ(one.RunCycle(conn)->appended, 1u);  // never stuck: the first envelope always fits
  EXPECT_EQ(CheckLog(url).leaves, 11u);
}

TEST(Sequencer, RestartRebuildsTheRangeFromLogNodesInOneQuery) {
  std::string url = NewDatabase("anchor_restart");
  pqxx::connection conn(url);
  InsertEnvelopes(url, 1, 1000);
  {
    Sequencer seq({.batch_size = 333});
    while (seq.RunCycle(conn)->appended > 0) {
    }
  }
  // A new process: its range comes from log_nodes (Decompose(1000) = 6 subtrees, one query).
  {
    pqxx::read_transaction tx(conn);
    pg::PgHashReader reader(tx);
    auto range = merkle::CompactRange::Load(reader, 1000);
    ASSERT_TRUE(range.has_value()) << range.error();
    EXPECT_EQ(reader.queries(), 1u);
    EXPECT_EQ(range->hashes().size(), 6u);
  }
  InsertEnvelopes(url, 1001, 1500);
  Sequencer seq({.batch_size = 1000});
  auto r = seq.RunCycle(conn);
  ASSERT_TRUE(r.has_value()) << r.error();
  EXPECT_EQ(r->appended, 500u);
  EXPECT_EQ(r->tree_size, 1500u);
  Checkpointer cp({.log_name = Keys().log_name, .key_id = Keys().log_key_id}, Keys().log);
  ASSERT_TRUE(cp.MaybeCheckpoint(conn, true).has_value());
  auto check = CheckLog(url);
  EXPECT_EQ(check.leaves, 1500u);
}

TEST(Sequencer, TwoWritersNeverDoubleAnIndex) {
  // Split brain (a leader that lost its lock mid-cycle and its successor):
  // the transaction lock and the primary keys keep the log whole.
  std::string url = NewDatabase("anchor_two_writers");
  InsertEnvelopes(url, 1, 3000);
  std::atomic<uint64_t> total{0};
  auto writer = [&] {
    pqxx::connection conn(url);
    Sequencer seq({.batch_size = 50});
    for (;;) {
      auto r = seq.RunCycle(conn);
      ASSERT_TRUE(r.has_value()) << r.error();
      if (r->appended == 0) break;
      total += r->appended;
    }
  };
  std::thread a(writer), b(writer);
  a.join();
  b.join();
  EXPECT_EQ(total.load(), 3000u);
  EXPECT_EQ(CheckLog(url, false).leaves, 3000u);
}

TEST(Sequencer, LateVisibleEnvelopeIsSequencedByTheNextFullScan) {
  std::string url = NewDatabase("anchor_late");
  InsertEnvelopes(url, 1, 10);
  // A transaction takes stored_no values, and commits after larger ones are sequenced.
  pqxx::connection late_conn(url);
  pqxx::work late(late_conn);
  late.exec(
      "INSERT INTO envelopes (id, org, device, seq, canonical, sent_at, source, event_count) "
      "SELECT sha256(c), 'test-org', 'dev-1', 1000, c, now(), 'api', 1 FROM (SELECT convert_to('late', 'UTF8') c) s");
  InsertEnvelopes(url, 11, 20);
  pqxx::connection conn(url);
  Sequencer seq({.batch_size = 100, .lookback = 0, .full_scan_every = 200ms});
  ASSERT_EQ(seq.RunCycle(conn)->appended, 20u);
  late.commit();
  EXPECT_EQ(seq.RunCycle(conn)->appended, 0u);  // behind the (zero) lookback window
  std::this_thread::sleep_for(250ms);
  EXPECT_EQ(seq.RunCycle(conn)->appended, 1u);  // the full scan finds it
  EXPECT_EQ(CheckLog(url).leaves, 21u);
}

TEST(Checkpointer, RefusesToSignWhenLogNodesDisagreeWithTheSequencer) {
  std::string url = NewDatabase("anchor_cp_mismatch");
  InsertEnvelopes(url, 1, 7);
  pqxx::connection conn(url);
  Sequencer seq({});
  auto r = seq.RunCycle(conn);
  ASSERT_TRUE(r.has_value()) << r.error();
  Checkpointer cp({.log_name = Keys().log_name, .key_id = Keys().log_key_id}, Keys().log);
  Hash wrong = r->root;
  wrong[0] ^= 1;
  auto refused = cp.MaybeCheckpoint(conn, true, Checkpointer::Expected{r->tree_size, wrong});
  ASSERT_FALSE(refused.has_value());
  EXPECT_EQ(refused.error().code(), StatusCode::kDataLoss) << refused.error();
  auto signed_cp = cp.MaybeCheckpoint(conn, true, Checkpointer::Expected{r->tree_size, r->root});
  ASSERT_TRUE(signed_cp.has_value()) << signed_cp.error();
  ASSERT_TRUE(signed_cp->has_value());
  EXPECT_EQ((*signed_cp)->root, r->root);
}

TEST(LeaderLock, OneHolderAndTakeoverWhenTheConnectionDies) {
  std::string url = NewDatabase("anchor_lock");
  LeaderLock a(url), b(url);
  ASSERT_EQ(a.TryAcquire().value_or(false), true);
  EXPECT_EQ(b.TryAcquire().value_or(true), false);
  EXPECT_TRUE(a.CheckAlive());
  // Kill a's session from outside, as a crashed host or a network cut would.
  {
    pqxx::connection admin(url);
    pqxx::nontransaction n(admin);
    n.exec_params(
        "SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory' AND granted "
        "AND objid::text::bigint = ($1::bigint & 4294967295) "
        "AND database = (SELECT oid FROM pg_database WHERE datname = current_database())",
        kLeaderLockKey);
  }
  std::this_thread::sleep_for(200ms);
  EXPECT_FALSE(a.CheckAlive());
  EXPECT_FALSE(a.held());
  EXPECT_EQ(b.TryAcquire().value_or(false), true);
  b.Release();
  EXPECT_EQ(a.TryAcquire().value_or(false), true);
}

// --- the shipped binary -------------------------------------------------------------------------

struct Child {
  pid_t pid = -1;
  std::string log_path;
};

Child StartAnchor(const std::string& url, const std::string& log_path, std::vector<std::string> extra = {}) {
  std::string bin = std::string(std::getenv("TRACE_BIN_DIR")) + "/trace-anchor";
  std::vector<std::string> args = {bin, "--db-url", url, "--keys-dir", test::TheStack().Env("TRACE_KEYS_DIR"),
                                   "--log-level", "debug"};
  args.insert(args.end(), extra.begin(), extra.end());
  pid_t pid = ::fork();
  if (pid == 0) {
    int fd = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    ::dup2(fd, 1);
    ::dup2(fd, 2);
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    ::execv(bin.c_str(), argv.data());
    ::_exit(127);
  }
  return {pid, log_path};
}

int Wait(pid_t pid) {
  int status = 0;
  ::waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

std::string ReadAll(const std::string& path) {
  std::ifstream f(path);
  std::stringstream s;
  s << f.rdbuf();
  return s.str();
}

int Count(const std::string& text, const std::string& what) {
  int n = 0;
  for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

// Waits up to `timeout` for `pred`.
template <typename Pred>
bool WaitFor(Pred pred, std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (pred()) return true;
    std::this_thread::sleep_for(50ms);
  }
  return pred();
}

std::string TempLog(const std::string& name) {
  std::string path = test::TheStack().dir() + "/" + name + ".log";
  ::unlink(path.c_str());
  return path;
}

int HttpPort(const std::string& log) {
  size_t at = log.find("\"msg\":\"http listening\"");
  if (at == std::string::npos) return 0;
  size_t p = log.find("\"port\":", at);
  return p == std::string::npos ? 0 : std::atoi(log.c_str() + p + 7);
}

std::string HttpGet(int port, const std::string& path) {
  namespace asio = boost::asio;
  asio::io_context io;
  asio::ip::tcp::socket s(io);
  boost::system::error_code ec;
  s.connect({asio::ip::make_address("127.0.0.1"), static_cast<unsigned short>(port)}, ec);
  if (ec) return "";
  asio::write(s, asio::buffer("GET " + path + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"), ec);
  std::string out;
  asio::read(s, asio::dynamic_buffer(out), ec);
  return out;
}

TEST(AnchorProcess, KilledDuringSequencingLeavesNoGapNoDoubleIndex) {
  std::string url = NewDatabase("anchor_crash");
  InsertEnvelopes(url, 1, 20000);
  std::mt19937 rng(std::random_device{}());
  std::uniform_int_distribution<int> delay_ms(5, 120);
  std::string log = TempLog("anchor_crash");
  int kills = 0, kills_mid_sequencing = 0;
  uint64_t previous = 0;
  std::string sizes;
  for (int round = 0; round < 8; ++round) {
    Child c = StartAnchor(url, log, {"--batch-size", "500", "--checkpoint-interval-ms", "100"});
    // Kill only once it is the leader, then at a random moment of its work.
    EXPECT_TRUE(WaitFor([&] { return Count(ReadAll(log), "became leader") > round; }, 10s));
    std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms(rng)));
    ::kill(c.pid, SIGKILL);
    EXPECT_EQ(Wait(c.pid), 128 + SIGKILL);
    ++kills;
    uint64_t size = TreeSize(url);
    sizes += " " + std::to_string(size);
    EXPECT_GE(size, previous);
    if (size > previous && size < 20000) ++kills_mid_sequencing;
    previous = size;
    if (size == 20000) break;
  }
  std::cerr << "tree size after each kill:" << sizes << "\n";
  EXPECT_GE(kills_mid_sequencing, 2) << sizes;
  // The partial log after the kills is already whole.
  CheckLog(url, false);
  // SIGTERM mid-sequencing drains: the cycle in flight commits, exit 0, lock released.
  {
    Child c = StartAnchor(url, log, {"--batch-size", "500", "--checkpoint-interval-ms", "100"});
    EXPECT_TRUE(WaitFor([&] { return Count(ReadAll(log), "became leader") > kills; }, 10s));
    std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms(rng)));
    ::kill(c.pid, SIGTERM);
    EXPECT_EQ(Wait(c.pid), 0) << ReadAll(log);
    EXPECT_EQ(Count(ReadAll(log), "anchor service stopped"), 1);
    EXPECT_GE(TreeSize(url), previous);
    CheckLog(url, false);
  }
  Child c = StartAnchor(url, log, {"--batch-size", "500", "--checkpoint-interval-ms", "100"});
  EXPECT_TRUE(WaitFor([&] { return TreeSize(url) == 20000; }, 60s));
  EXPECT_TRUE(WaitFor([&] { return Count(ReadAll(log), "became leader") == kills + 2; }, 10s));
  std::this_thread::sleep_for(300ms);  // a last checkpoint
  ::kill(c.pid, SIGTERM);
  EXPECT_EQ(Wait(c.pid), 0) << ReadAll(log);
  std::string text = ReadAll(log);
  EXPECT_NE(text.find("releasing the leader lock"), std::string::npos);
  auto check = CheckLog(url, false);
  EXPECT_EQ(check.leaves, 20000u);
  EXPECT_EQ(check.envelopes, 20000u);
  pqxx::connection conn(url);
  pqxx::read_transaction tx(conn);
  EXPECT_EQ(tx.exec("SELECT max(tree_size) FROM checkpoints")[0][0].as<int64_t>(), 20000);
}

TEST(AnchorProcess, StandbyTakesOverWhenTheLeaderIsKilled) {
  std::string url = NewDatabase("anchor_failover");
  InsertEnvelopes(url, 1, 2000);
  std::string log_a = TempLog("anchor_a"), log_b = TempLog("anchor_b");
  Child a = StartAnchor(url, log_a, {"--batch-size", "100"});
  ASSERT_TRUE(WaitFor([&] { return Count(ReadAll(log_a), "became leader") == 1; }, 10s)) << ReadAll(log_a);
  Child b = StartAnchor(url, log_b, {"--batch-size", "100"});
  ASSERT_TRUE(WaitFor([&] { return HttpPort(ReadAll(log_b)) > 0; }, 10s)) << ReadAll(log_b);
  ASSERT_TRUE(WaitFor([&] { return TreeSize(url) == 2000; }, 30s));
  std::this_thread::sleep_for(1500ms);  // b has tried the lock at least once
  EXPECT_EQ(Count(ReadAll(log_b), "became leader"), 0);

  int port_a = HttpPort(ReadAll(log_a)), port_b = HttpPort(ReadAll(log_b));
  ASSERT_GT(port_a, 0);
  std::string metrics_a = HttpGet(port_a, "/metrics"), metrics_b = HttpGet(port_b, "/metrics");
  EXPECT_NE(metrics_a.find("trace_anchor_is_leader 1\n"), std::string::npos) << metrics_a;
  EXPECT_NE(metrics_a.find("trace_anchor_tree_size 2000\n"), std::string::npos) << metrics_a;
  EXPECT_NE(metrics_a.find("trace_anchor_leaves_sequenced_total 2000\n"), std::string::npos) << metrics_a;
  EXPECT_NE(metrics_a.find("trace_anchor_cycle_seconds_count"), std::string::npos) << metrics_a;
  EXPECT_NE(metrics_a.find("trace_anchor_anchors{state=\"confirmed\"} 0"), std::string::npos) << metrics_a;
  EXPECT_NE(metrics_b.find("trace_anchor_is_leader 0\n"), std::string::npos) << metrics_b;
  EXPECT_NE(HttpGet(port_b, "/healthz").find("200 OK"), std::string::npos);

  ::kill(a.pid, SIGKILL);
  EXPECT_EQ(Wait(a.pid), 128 + SIGKILL);
  auto killed_at = std::chrono::steady_clock::now();
  ASSERT_TRUE(WaitFor([&] { return Count(ReadAll(log_b), "became leader") == 1; }, 10s)) << ReadAll(log_b);
  auto takeover = std::chrono::steady_clock::now() - killed_at;
  EXPECT_LT(takeover, 5s);
  InsertEnvelopes(url, 2001, 3000);
  EXPECT_TRUE(WaitFor([&] { return TreeSize(url) == 3000; }, 30s));
  EXPECT_NE(HttpGet(port_b, "/metrics").find("trace_anchor_is_leader 1\n"), std::string::npos);
  std::this_thread::sleep_for(1200ms);  // the checkpoint of 3000
  ::kill(b.pid, SIGTERM);
  EXPECT_EQ(Wait(b.pid), 0) << ReadAll(log_b);
  auto check = CheckLog(url, false);
  EXPECT_EQ(check.leaves, 3000u);
}

}  // namespace
}  // namespace trace::anchor
