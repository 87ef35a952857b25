// The chaos run (issue 9): trace-devicesim's simulated devices send envelopes through the
// real stack while a driver kills -9, at seeded random moments, each of the two gateways on the
// shared subscription, Mosquitto, PostgreSQL, trace-anchor and anvil, and starts each again
// after a random pause. Afterwards everything is checked from outside the services:
//
//   - PostgreSQL (SQL): every envelope the simulator generated is stored, exactly once per
//     (org, device, seq), and nothing else is;
//   - the devices' folders: every outbox (and rejected/ folder) is empty;
//   - the chain (JSON-RPC to anvil): the TraceAnchor contract's latest tree size covers every
//     leaf, and every envelope's inclusion proof, built from the stored log nodes, verifies
//     against rootAt(tree size) read from the chain; the root recomputed from the stored
//     envelopes alone equals it too.
//
// It prints "sent N, stored N, lost 0, duplicated 0, anchored N" and fails unless lost =
// duplicated = 0 and anchored = stored = sent. The seed is printed first; TRACE_CHAOS_SEED=S
// replays the same schedule. The short form runs in ctest (label `chaos`); the long form with
// --long or TRACE_CHAOS_LONG=1 (tests/chaos/README.md).
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <future>
#include <iostream>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include <boost/json.hpp>
#include <gtest/gtest.h>
#include <pqxx/pqxx>

#include "chaos.h"
#include "harness/stack.h"
#include "trace/common/anchor_contract.h"
#include "trace/common/eth_client.h"
#include "trace/common/merkle.h"
#include "trace/common/secp256k1.h"

extern char** environ;

namespace trace::chaos {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
using Env = std::map<std::string, std::string>;

bool g_long_flag = false;  // --long on the command line

constexpr const char* kOrg = "chaos";

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// DIR/env as it is now: a server restarted on another port changes it.
Env ReadEnv(const std::string& dir) {
  Env env;
  std::ifstream in(dir + "/env");
  for (std::string line; std::getline(in, line);) {
    if (line.starts_with("export ")) line.erase(0, 7);
    auto eq = line.find('=');
    if (eq == std::string::npos) continue;
    std::string value = line.substr(eq + 1);
    if (value.size() >= 2 && value.front() == '\'' && value.back() == '\'') value = value.substr(1, value.size() - 2);
    env[line.substr(0, eq)] = value;
  }
  return env;
}

std::string BinDir() {
  const char* bin = std::getenv("TRACE_BIN_DIR");
  return bin ? bin : testing::SourceDir() + "/build/bin";
}

double SecondsSince(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

std::string Fixed(double v, int digits = 1) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", digits, v);
  return buf;
}

// Progress lines go to stderr at once (ctest shows them on failure; a run by hand shows them live).
void Say(const std::string& line) { std::cerr << "[chaos] " << line << std::endl; }

// A project service (trace-gateway, trace-anchor) as a child process in a process group of its
// own, output appended to a log file. Start() takes the stack's environment as it is then.
// Not thread-safe: only the driver thread touches it while the run lasts.
class ServiceProcess {
 public:
  ServiceProcess(std::string name, std::string exe, std::vector<std::string> args, std::string log, std::string ready)
      : name_(std::move(name)), exe_(std::move(exe)), args_(std::move(args)), log_(std::move(log)),
        ready_(std::move(ready)) {}
  ~ServiceProcess() { Kill(); }

  // Spawns it; false (with `error`) when it cannot be spawned.
  bool Start(const Env& stack_env, std::string* error) {
    log_offset_ = ReadFile(log_).size();
    std::vector<std::string> argv = {exe_};
    argv.insert(argv.end(), args_.begin(), args_.end());
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&actions, 1, log_.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    posix_spawn_file_actions_adddup2(&actions, 1, 2);
    int rc = testing::SpawnInOwnGroup(&pid_, argv, testing::EnvironmentWith(stack_env), &actions);
    posix_spawn_file_actions_destroy(&actions);
    if (rc != 0) {
      pid_ = -1;
      *error = name_ + ": cannot start " + exe_ + ": " + std::strerror(rc);
      return false;
    }
    return true;
  }

  // Waits until its log (since the last Start) shows the ready marker; false after `timeout`
  // or when it exited.
  bool WaitReady(std::chrono::seconds timeout) {
    if (ready_.empty()) return true;
    const auto deadline = Clock::now() + timeout;
    while (Clock::now() < deadline) {
      std::string text = ReadFile(log_);
      if (text.size() > log_offset_ && text.find(ready_, log_offset_) != std::string::npos) return true;
      if (ExitedByItself()) return false;
      std::this_thread::sleep_for(100ms);
    }
    return false;
  }

  // kill -9 of the process group; reaps the process.
  void Kill() {
    if (pid_ <= 0) return;
    ::kill(-pid_, SIGKILL);
    ::kill(pid_, SIGKILL);
    while (::waitpid(pid_, nullptr, 0) < 0 && errno == EINTR) {
    }
    pid_ = -1;
  }

  // SIGTERM, then waits up to `timeout` for the drain (SIGKILL after it); the exit status.
  int Terminate(std::chrono::seconds timeout) {
    if (pid_ <= 0) return -1;
    ::kill(pid_, SIGTERM);
    const auto deadline = Clock::now() + timeout;
    int status = 0;
    while (Clock::now() < deadline) {
      pid_t r = ::waitpid(pid_, &status, WNOHANG);
      if (r == pid_) {
        pid_ = -1;
        return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      }
      std::this_thread::sleep_for(50ms);
    }
    Kill();
    return 128 + SIGKILL;
  }

  // When the process ended without being killed by us: how ("exited 1", "signal 6"); reaps it.
  std::optional<std::string> ExitedByItself() {
    if (pid_ <= 0) return std::nullopt;
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) != pid_) return std::nullopt;
    pid_ = -1;
    return WIFEXITED(status) ? "exited " + std::to_string(WEXITSTATUS(status))
                             : "signal " + std::to_string(WTERMSIG(status));
  }

  bool running() const { return pid_ > 0; }
  const std::string& name() const { return name_; }
  const std::string& log() const { return log_; }

 private:
  std::string name_, exe_;
  std::vector<std::string> args_;
  std::string log_, ready_;
  size_t log_offset_ = 0;
  pid_t pid_ = -1;
};

// A HashReader over every log_nodes row, read once: proofs for all leaves without a query each.
class NodeMapReader : public merkle::HashReader {
 public:
  void Add(uint64_t level, uint64_t index, const Hash& h) { nodes_[Key(level, index)] = h; }
  Result<Hash> SubtreeHash(const merkle::SubtreeId& id) const override {
    auto it = nodes_.find(Key(id.level, id.index));
    if (it == nodes_.end()) {
      return Fail(NotFound("log_nodes: no subtree (" + std::to_string(id.level) + ", " + std::to_string(id.index) + ")"));
    }
    return it->second;
  }
  size_t size() const { return nodes_.size(); }

 private:
  static uint64_t Key(uint64_t level, uint64_t index) { return (level << 56) | index; }
  std::unordered_map<uint64_t, Hash> nodes_;
};

Hash ToHash(const pqxx::field& f) {
  pqxx::binarystring b(f);
  Hash h{};
  if (b.size() == 32) std::copy(b.data(), b.data() + 32, h.begin());
  return h;
}

class ChaosTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string error;
    config_ = ConfigFromEnvironment(g_long_flag, &error);
    ASSERT_TRUE(error.empty()) << error;
    Say(std::string(config_.long_form ? "long" : "short") + " form, seed " + std::to_string(config_.seed) +
        " (replay with TRACE_CHAOS_SEED=" + std::to_string(config_.seed) + "): " + std::to_string(config_.envelopes) +
        " envelopes from " + std::to_string(config_.devices) + " devices at " + Fixed(config_.rate, 0) + "/s, " +
        std::to_string(config_.kills_per_target) + " kill -9 of each of " + std::to_string(config_.targets.size()) +
        " targets");
    started_ = Clock::now();
    auto stack = testing::Stack::Start({.postgres = true, .mosquitto = true, .anvil = true});
    ASSERT_TRUE(stack.has_value()) << stack.error();
    stack_ = std::move(*stack);
    auto keys = stack_->Run({"trace-admin", "keys"});
    ASSERT_EQ(keys.exit_code, 0) << keys.out << keys.err;
    ASSERT_FALSE(stack_->Env("TRACE_CONTRACT").empty()) << "TraceAnchor not deployed (is trace-admin built?)";
    contract_ = stack_->Env("TRACE_CONTRACT");
    state_ = stack_->dir() + "/devicesim";
    const std::string logs = stack_->dir() + "/logs/";
    for (const char* id : {"a", "b"}) {
      services_["gateway-" + std::string(id)] = std::make_unique<ServiceProcess>(
          "gateway-" + std::string(id), BinDir() + "/trace-gateway",
          std::vector<std::string>{"--client-id=chaos-gw-" + std::string(id)},
          logs + "trace-gateway-" + std::string(id) + ".log", "\"subscribed\"");
    }
    services_["anchor"] = std::make_unique<ServiceProcess>("anchor", BinDir() + "/trace-anchor",
                                                           std::vector<std::string>{}, logs + "trace-anchor.log",
                                                           "anchor service running");
    for (auto& [name, s] : services_) {
      std::string err;
      ASSERT_TRUE(s->Start(ReadEnv(stack_->dir()), &err)) << err;
    }
    for (auto& [name, s] : services_) {
      ASSERT_TRUE(s->WaitReady(60s)) << name << " did not get ready:\n" << ReadFile(s->log());
    }
    Say("stack and services up in " + Fixed(SecondsSince(started_)) + " s (" + stack_->dir() + ")");
  }

  void TearDown() override {
    for (auto& [name, s] : services_) s->Kill();
    services_.clear();
    if (HasFailure() && stack_) {
      Say("logs are in " + stack_->dir() + "/logs (kept with TRACE_KEEP_STACK=1)");
    }
  }

  // Adds a problem the run found (a restart that failed, a service that died by itself).
  void Problem(const std::string& what) {
    std::lock_guard lock(problems_mu_);
    problems_.push_back(what);
    Say("PROBLEM: " + what);
  }

  Status RunStack(const std::string& action, const std::string& name) {
    auto r = testing::RunProgram({testing::SourceDir() + "/deploy/stack.sh", action, stack_->dir(), name}, {}, 180);
    if (r.exit_code != 0) {
      return Internal("deploy/stack.sh " + action + " " + name + " exited " + std::to_string(r.exit_code) + ": " +
                      r.err + r.out);
    }
    return OkStatus();
  }

  void KillTarget(const std::string& target) {
    if (auto it = services_.find(target); it != services_.end()) {
      it->second->Kill();
      return;
    }
    if (Status s = RunStack("kill", target); !s.ok()) Problem(s.message());
  }

  void StartTarget(const std::string& target) {
    if (auto it = services_.find(target); it != services_.end()) {
      std::string err;
      if (!it->second->Start(ReadEnv(stack_->dir()), &err)) Problem(err);
      return;
    }
    Status s = RunStack("start", target);
    if (!s.ok()) {
      // Once more: a port taken meanwhile, or a slow start under load.
      Problem(s.message() + " (retrying)");
      s = RunStack("start", target);
      if (!s.ok()) Problem(s.message());
    }
    if (target == "anvil" && ReadEnv(stack_->dir())["TRACE_CONTRACT"] != contract_) {
      Problem("anvil came back without the TraceAnchor contract (its state file lost the chain)");
    }
  }

  // Restarts any service that died without being killed; each such death is a problem.
  void ReviveCrashed(double t) {
    for (auto& [name, s] : services_) {
      if (auto how = s->ExitedByItself()) {
        const std::string text = ReadFile(s->log());
        Problem(name + " " + *how + " by itself at t=" + Fixed(t) + " s; restarted. Its log ends:\n" +
                text.substr(text.size() > 3000 ? text.size() - 3000 : 0));
        std::string err;
        if (!s->Start(ReadEnv(stack_->dir()), &err)) Problem(err);
      }
    }
  }

  // Runs every event of the schedule from `t0` on (each target is started again before the next
  // event), restarting meanwhile any service that died by itself; then keeps watching for such
  // deaths until `stop`.
  void Drive(const std::vector<KillEvent>& events, Clock::time_point t0, const std::atomic<bool>& stop) {
    for (const KillEvent& e : events) {
      while (SecondsSince(t0) < e.at_s) {
        ReviveCrashed(SecondsSince(t0));
        std::this_thread::sleep_for(100ms);
      }
      const double t = SecondsSince(t0);
      Say("t=" + Fixed(t) + " s: kill -9 " + e.target + " (down " + Fixed(e.down_s) + " s)");
      const auto killed = Clock::now();
      KillTarget(e.target);
      std::this_thread::sleep_for(std::chrono::duration<double>(e.down_s));
      StartTarget(e.target);
      Say("t=" + Fixed(SecondsSince(t0)) + " s: " + e.target + " started again, " + Fixed(SecondsSince(killed)) +
          " s after the kill");
    }
    while (!stop) {
      ReviveCrashed(SecondsSince(t0));
      std::this_thread::sleep_for(100ms);
    }
  }

  int64_t Count(const std::string& sql) {
    pqxx::connection c(ReadEnv(stack_->dir())["TRACE_DB_URL"]);
    pqxx::read_transaction w(c);
    return w.exec1(sql)[0].as<int64_t>();
  }

  // Files in every device's `sub` folder (outbox, rejected) under the simulator's state.
  int64_t FilesIn(const std::string& sub) const {
    int64_t n = 0;
    std::error_code ec;
    for (auto it = fs::recursive_directory_iterator(state_, ec); !ec && it != fs::recursive_directory_iterator();
         it.increment(ec)) {
      if (it->is_regular_file() && it->path().parent_path().filename() == sub) ++n;
    }
    return n;
  }

  Config config_;
  Clock::time_point started_;
  std::unique_ptr<testing::Stack> stack_;
  std::string contract_, state_;
  std::map<std::string, std::unique_ptr<ServiceProcess>> services_;
  std::mutex problems_mu_;
  std::vector<std::string> problems_;
};

TEST_F(ChaosTest, KillNineEveryServerLosesNothing) {
  const Config& c = config_;
  // The load: fresh state folder, devices registered by the simulator itself, re-sends after
  // 2 s doubling to 5 s at most (the ingest tests' settings) so that outages cost little.
  const int send_s = static_cast<int>(static_cast<double>(c.envelopes) / c.rate) + 1;
  const Env env = ReadEnv(stack_->dir());
  auto sim = std::async(std::launch::async, [&, env] {
    return testing::RunProgram(
        {"trace-devicesim", "load", "--org=" + std::string(kOrg), "--register",
         "--devices=" + std::to_string(c.devices), "--rate=" + Fixed(c.rate, 0),
         "--count=" + std::to_string(c.envelopes), "--readings=1", "--json",
         "--timeout=" + std::to_string(c.drain_timeout_s), "--resend-ms=2000", "--resend-max-ms=5000",
         "--state-dir=" + state_},
        env, send_s + c.drain_timeout_s + 300);
  });

  // The schedule's clock starts with the first stored envelope: devices are registered and
  // connected, the load is flowing.
  const auto wait_first = Clock::now() + 120s;
  const std::string count_sql = "SELECT count(*) FROM envelopes WHERE org = '" + std::string(kOrg) + "'";
  while (Count(count_sql) == 0 && Clock::now() < wait_first && sim.wait_for(200ms) != std::future_status::ready) {
  }
  const auto t0 = Clock::now();
  ASSERT_GT(Count(count_sql), 0) << "the load never started";
  const double window_end = std::max(2.0, 0.9 * static_cast<double>(c.envelopes) / c.rate);
  const std::vector<KillEvent> schedule = MakeSchedule(c.seed, c.targets, c.kills_per_target, 1.0, window_end,
                                                       c.min_down_s, c.max_down_s);
  {
    std::string plan;
    for (const KillEvent& e : schedule) plan += " " + e.target + "@" + Fixed(e.at_s) + "s";
    Say("load sending; schedule:" + plan);
  }
  std::atomic<bool> stop{false};
  std::thread driver([&] { Drive(schedule, t0, stop); });
  testing::Stack::RunResult sim_result = sim.get();
  const double sim_s = SecondsSince(t0);
  stop = true;
  driver.join();  // every kill done and its target started again
  Say("load done at t=" + Fixed(sim_s) + " s (exit " + std::to_string(sim_result.exit_code) + "); kills done at t=" +
      Fixed(SecondsSince(t0)) + " s");
  ReviveCrashed(SecondsSince(t0));

  // The simulator's own account: its --json summary (last stdout line).
  boost::json::object summary;
  {
    std::string out = sim_result.out;
    while (!out.empty() && out.back() == '\n') out.pop_back();
    auto nl = out.rfind('\n');
    boost::system::error_code ec;
    auto v = boost::json::parse(nl == std::string::npos ? out : out.substr(nl + 1), ec);
    if (!ec && v.is_object()) summary = v.as_object();
  }
  EXPECT_EQ(sim_result.exit_code, 0) << sim_result.out
                                     << sim_result.err.substr(sim_result.err.size() > 6000 ? sim_result.err.size() - 6000 : 0);
  ASSERT_TRUE(summary.contains("sent")) << "no summary from the simulator:\n" << sim_result.out << sim_result.err;
  Say("simulator: " + boost::json::serialize(summary));

  Tally tally;
  tally.sent = summary.at("sent").to_number<uint64_t>();
  EXPECT_EQ(tally.sent, c.envelopes) << "the simulator did not generate every envelope";
  const std::map<std::string, uint64_t> expected = ExpectedSeqs(tally.sent, c.devices);
  // Its durable seq counters agree: each reserved at least as far as it sealed.
  for (const auto& [device, count] : expected) {
    const std::string seq_file = state_ + "/" + kOrg + "/" + device + "/seq";
    uint64_t reserved = 0;
    std::istringstream(ReadFile(seq_file)) >> reserved;
    EXPECT_GE(reserved, count) << seq_file;
  }

  // Outboxes: empty once every envelope has its receipt; nothing refused.
  const int64_t outbox = FilesIn("outbox"), rejected = FilesIn("rejected");
  EXPECT_EQ(outbox, 0) << "envelopes left in the devices' outboxes";
  EXPECT_EQ(rejected, 0) << "envelopes the platform refused";

  // The chain must come to cover every stored envelope: wait for it (the anchor may have been
  // killed a moment ago; anvil may have lost its last blocks and need a new anchor).
  const std::string db_url = ReadEnv(stack_->dir())["TRACE_DB_URL"];
  const int64_t stored_rows = Count(count_sql);
  auto eth = EthClient::Create(ReadEnv(stack_->dir())["TRACE_CHAIN_RPC"]);
  ASSERT_TRUE(eth) << eth.error();
  auto address = ParseAddress(contract_);
  ASSERT_TRUE(address) << address.error();
  TraceAnchorContract contract(**eth, *address);
  const auto anchor_deadline = Clock::now() + std::chrono::seconds(c.anchor_timeout_s);
  const int64_t all_rows = Count("SELECT count(*) FROM envelopes");
  AnchoredRoot latest;
  for (double last_note = 0;;) {
    auto l = contract.Latest();
    if (l) latest = *l;
    if (l && static_cast<int64_t>(latest.tree_size) >= all_rows) break;
    ReviveCrashed(SecondsSince(t0));
    if (Clock::now() >= anchor_deadline) break;
    if (SecondsSince(t0) - last_note > 10) {
      last_note = SecondsSince(t0);
      Say("waiting for the chain: latest tree size " + std::to_string(latest.tree_size) + " of " +
          std::to_string(all_rows) + (l ? "" : " (" + l.error().message() + ")"));
    }
    std::this_thread::sleep_for(500ms);
  }
  Say("chain covers tree size " + std::to_string(latest.tree_size) + " at t=" + Fixed(SecondsSince(t0)) + " s");
  auto chain_root_bytes = contract.RootAt(latest.tree_size);
  ASSERT_TRUE(chain_root_bytes) << chain_root_bytes.error();
  ASSERT_EQ(chain_root_bytes->size(), 32u);
  EXPECT_EQ(*chain_root_bytes, latest.root) << "rootAt(latest tree size) differs from latest()";
  Hash chain_root{};
  std::copy(chain_root_bytes->begin(), chain_root_bytes->end(), chain_root.begin());

  // The database, read in one snapshot.
  pqxx::connection conn(db_url);
  pqxx::read_transaction tx(conn);
  std::map<std::pair<std::string, uint64_t>, uint64_t> rows_per_key;
  for (const auto& r : tx.exec("SELECT device, seq FROM envelopes WHERE org = " + tx.quote(kOrg))) {
    ++rows_per_key[{r[0].as<std::string>(), r[1].as<uint64_t>()}];
  }
  uint64_t unexpected = 0;
  for (const auto& [key, n] : rows_per_key) {
    tally.stored += n;
    tally.duplicated += n - 1;
    auto it = expected.find(key.first);
    if (it == expected.end() || key.second < 1 || key.second > it->second) ++unexpected;
  }
  for (const auto& [device, count] : expected) {
    for (uint64_t seq = 1; seq <= count; ++seq) tally.lost += rows_per_key.contains({device, seq}) ? 0 : 1;
  }
  EXPECT_EQ(static_cast<int64_t>(tally.stored), stored_rows);
  EXPECT_EQ(unexpected, 0u) << "stored envelopes the simulator did not generate";
  EXPECT_EQ(tx.exec1("SELECT count(*) FROM events e JOIN envelopes v ON v.id = e.envelope_id WHERE v.org = " +
                     tx.quote(kOrg))[0]
                .as<uint64_t>(),
            tally.stored)
      << "one event per envelope";
  EXPECT_EQ(tx.exec1("SELECT count(*) FROM rejected_messages")[0].as<int64_t>(), 0) << "messages refused";

  // The log: each envelope once, leaf indexes 0..n-1 without a gap.
  auto log = tx.exec1(
      "SELECT count(*), count(DISTINCT envelope_id), coalesce(max(leaf_index) + 1, 0), "
      "(SELECT count(*) FROM envelopes) FROM log_leaves");
  EXPECT_EQ(log[0].as<uint64_t>(), log[1].as<uint64_t>()) << "an envelope twice in the log";
  EXPECT_EQ(log[0].as<uint64_t>(), log[2].as<uint64_t>()) << "a gap in the leaf indexes";
  EXPECT_EQ(log[0].as<uint64_t>(), log[3].as<uint64_t>()) << "an envelope not in the log";

  // Every proof against the root on the chain, from the stored subtrees; and the root again
  // from the envelopes' bytes alone, trusting no stored hash.
  NodeMapReader nodes;
  for (const auto& r : tx.exec("SELECT level, idx, hash FROM log_nodes")) {
    nodes.Add(r[0].as<uint64_t>(), r[1].as<uint64_t>(), ToHash(r[2]));
  }
  merkle::MemoryTree recomputed;
  uint64_t bad_proofs = 0;
  std::string first_bad;
  const uint64_t tree_size = latest.tree_size;
  for (const auto& r : tx.exec("SELECT l.leaf_index, e.org, e.canonical FROM log_leaves l "
                               "JOIN envelopes e ON e.id = l.envelope_id ORDER BY l.leaf_index")) {
    const uint64_t index = r[0].as<uint64_t>();
    pqxx::binarystring canonical(r[2]);
    const Hash leaf = merkle::LeafHash(std::string_view(canonical.get(), canonical.size()));
    if (index == recomputed.size()) recomputed.Append(leaf);
    if (index >= tree_size || r[1].as<std::string>() != kOrg) continue;
    auto proof = merkle::InclusionProof(nodes, index, tree_size);
    Status ok = proof ? merkle::VerifyInclusion(leaf, index, tree_size, *proof, chain_root) : proof.error();
    if (ok.ok()) {
      ++tally.anchored;
    } else if (bad_proofs++ == 0) {
      first_bad = "leaf " + std::to_string(index) + ": " + ok.ToString();
    }
  }
  EXPECT_EQ(bad_proofs, 0u) << first_bad;
  if (recomputed.size() >= tree_size && tree_size > 0) {
    auto root = recomputed.Root(tree_size);
    ASSERT_TRUE(root) << root.error();
    EXPECT_EQ(*root, chain_root) << "the root recomputed from the stored envelopes is not the one on the chain";
  }
  tx.commit();

  const std::string line = TallyLine(tally);
  std::cout << line << std::endl;
  Say(line + " (outboxes " + std::to_string(outbox) + ", rejected " + std::to_string(rejected) + ", seed " +
      std::to_string(c.seed) + ", " + Fixed(SecondsSince(started_)) + " s in all)");
  EXPECT_TRUE(TallyPasses(tally)) << line;
  {
    std::lock_guard lock(problems_mu_);
    for (const std::string& p : problems_) ADD_FAILURE() << p;
  }
}

}  // namespace
}  // namespace trace::chaos

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  for (int i = 1; i < argc; ++i) {
    if (std::string_view(argv[i]) == "--long") {
      trace::chaos::g_long_flag = true;
    } else {
      std::cerr << "chaos_test: unknown argument " << argv[i] << " (only --long and gtest's flags)\n";
      return 2;
    }
  }
  return RUN_ALL_TESTS();
}
