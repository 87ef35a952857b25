// Ingestion end to end with the shipped programs only: build/bin/trace-gateway
// (one or two, as child processes) and build/bin/trace-devicesim (scenario,
// fault, load) against the real PostgreSQL and Mosquitto that deploy/stack.sh
// starts. The simulator checks every receipt's signature with the platform's
// receipt key (TRACE_KEYS_DIR); the tests check its JSON summary, its outbox
// folders on disk and the database.
//
// Crash tests: a kill -9 of the gateway, and a restart of the broker through
// `deploy/stack.sh restart DIR mosquitto`, in the middle of a 20,000-envelope
// load; then every envelope is stored exactly once and every outbox is empty.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <future>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <boost/json.hpp>
#include <gtest/gtest.h>
#include <pqxx/pqxx>

#include "harness/stack.h"
#include "trace/common/receipt.h"

namespace trace {
namespace {

namespace fs = std::filesystem;
namespace json = boost::json;
using namespace std::chrono_literals;

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string BinDir() { return getenv("TRACE_BIN_DIR") ? getenv("TRACE_BIN_DIR") : "build/bin"; }

// GET `path` from 127.0.0.1:`port`: the body ("" when unreachable).
std::string HttpGet(int port, const std::string& path) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  std::string out;
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0) {
    std::string req = "GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";
    (void)!write(fd, req.data(), req.size());
    char buf[4096];
    for (ssize_t n; (n = read(fd, buf, sizeof buf)) > 0;) out.append(buf, n);
  }
  close(fd);
  auto body = out.find("\r\n\r\n");
  return body == std::string::npos ? "" : out.substr(body + 4);
}

// The value of an unlabelled Prometheus counter in `metrics`, or -1.
double Metric(const std::string& metrics, const std::string& name) {
  std::istringstream in(metrics);
  for (std::string line; std::getline(in, line);) {
    if (line.starts_with(name + " ")) return std::stod(line.substr(name.size() + 1));
  }
  return -1;
}

// A trace-gateway child process with the stack's environment.
class Gateway {
 public:
  Gateway(const testing::Stack& stack, std::string client_id)
      : stack_(stack), client_id_(std::move(client_id)), log_(stack.dir() + "/" + client_id_ + ".log") {}
  ~Gateway() { Kill(); }

  // Starts it and waits until it has subscribed; appends to its log.
  void Start() {
    const size_t offset = ReadFile(log_).size();
    pid_ = fork();
    if (pid_ == 0) {
      for (const char* name : {"TRACE_DB_URL", "TRACE_MQTT_URL", "TRACE_MQTT_GATEWAY_USERNAME",
                               "TRACE_MQTT_GATEWAY_PASSWORD", "TRACE_KEYS_DIR"}) {
        setenv(name, stack_.Env(name).c_str(), 1);
      }
      if (!freopen(log_.c_str(), "a", stderr)) _exit(126);
      std::string exe = BinDir() + "/trace-gateway";
      std::string id = "--client-id=" + client_id_;
      execl(exe.c_str(), exe.c_str(), id.c_str(), "--device-cache-ms=1000", "--max-clock-skew-ms=60000",
            static_cast<char*>(nullptr));
      _exit(127);
    }
    ASSERT_GT(pid_, 0);
    const auto deadline = std::chrono::steady_clock::now() + 30s;
    for (;;) {
      std::string text = ReadFile(log_).substr(offset);
      if (auto at = text.find("\"http_port\":"); at != std::string::npos) {
        http_port_ = std::stoi(text.substr(at + 12));
      }
      if (text.find("\"subscribed\"") != std::string::npos ||
          text.find("subscription kept") != std::string::npos) {
        break;
      }
      ASSERT_LT(std::chrono::steady_clock::now(), deadline) << client_id_ << " did not subscribe:\n" << text;
      std::this_thread::sleep_for(100ms);
    }
  }
  void Kill() {
    if (pid_ <= 0) return;
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
    pid_ = -1;
  }
  // SIGTERM; returns the exit status.
  int Stop() {
    if (pid_ <= 0) return -1;
    kill(pid_, SIGTERM);
    int status = 0;
    waitpid(pid_, &status, 0);
    pid_ = -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  }
  std::string Metrics() const { return HttpGet(http_port_, "/metrics"); }
  std::string log() const { return ReadFile(log_); }

 private:
  const testing::Stack& stack_;
  std::string client_id_, log_;
  pid_t pid_ = -1;
  int http_port_ = 0;
};

class IngestSystemTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto stack = testing::Stack::Start({.postgres = true, .mosquitto = true});
    ASSERT_TRUE(stack.has_value()) << stack.error();
    stack_ = std::move(*stack);
    ASSERT_EQ(stack_->Run({"trace-admin", "keys"}).exit_code, 0);
    state_ = stack_->dir() + "/devicesim";
  }

  // Runs trace-devicesim with the stack's environment and a state folder of the test's.
  testing::Stack::RunResult Sim(std::vector<std::string> args) const {
    args.insert(args.begin(), "trace-devicesim");
    args.push_back("--state-dir=" + state_);
    return stack_->Run(args);
  }

  int64_t Count(const std::string& sql) const {
    pqxx::connection c(stack_->Env("TRACE_DB_URL"));
    pqxx::work w(c);
    return w.exec1(sql)[0].as<int64_t>();
  }

  // Entries left in every device's outbox folder of the simulator.
  int64_t OutboxEntries() const {
    int64_t n = 0;
    if (!fs::exists(state_)) return 0;
    for (const auto& e : fs::recursive_directory_iterator(state_)) {
      if (e.is_regular_file() && e.path().parent_path().filename() == "outbox") ++n;
    }
    return n;
  }

  // The simulator's --json summary (last line of stdout).
  static json::object Summary(const testing::Stack::RunResult& r) {
    std::string out = r.out;
    while (!out.empty() && out.back() == '\n') out.pop_back();
    auto nl = out.rfind('\n');
    std::error_code ec;
    auto v = json::parse(nl == std::string::npos ? out : out.substr(nl + 1), ec);
    if (ec || !v.is_object()) return {};
    return v.as_object();
  }

  // A broker account that may publish on every up topic and read every receipt
  // topic (what `fault unknown_device|revoked_device` needs), made with the
  // broker's admin login from the stack env.
  void CreatePrivilegedBrokerAccount(const std::string& user, const std::string& password) {
    auto ctrl = [&](std::vector<std::string> args) {
      std::vector<std::string> argv = {"mosquitto_ctrl", "-h", "127.0.0.1", "-p",
                                       stack_->Env("TRACE_MQTT_URL").substr(stack_->Env("TRACE_MQTT_URL").rfind(':') + 1),
                                       "-u", stack_->Env("TRACE_MQTT_ADMIN_USERNAME"), "-P",
                                       stack_->Env("TRACE_MQTT_ADMIN_PASSWORD"), "dynsec"};
      argv.insert(argv.end(), args.begin(), args.end());
      auto r = stack_->Run(argv);
      EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
      EXPECT_EQ(r.out.find("Error"), std::string::npos) << r.out;
    };
    ctrl({"createRole", "fault-injector"});
    ctrl({"addRoleACL", "fault-injector", "publishClientSend", "trace/v1/+/+/up", "allow"});
    ctrl({"addRoleACL", "fault-injector", "subscribePattern", "trace/v1/+/+/receipt", "allow"});
    ctrl({"addRoleACL", "fault-injector", "publishClientReceive", "trace/v1/+/+/receipt", "allow"});
    ctrl({"createClient", user, "-p", password});
    ctrl({"addClientRole", user, "fault-injector"});
  }

  // Runs `trace-devicesim load --count total` for `org` in the background; once `disrupt_after` of them are
  // stored, calls `disrupt`; then waits for the simulator, which drains its
  // outboxes (bounded by --timeout), and checks that every envelope is stored
  // exactly once and every outbox is empty. Returns the simulator's summary.
  // Re-sends back off to 20 s at most (the simulator's default: 60 s): with 5 s,
  // the ~14,000 envelopes pending after a broker restart came back ~2,800 times
  // a second, more than the gateway checks on a loaded 2-core CI machine, and the
  // duplicates queued ahead of first copies (p99 receipt latency 50 s, 669 still
  // pending after 180 s, 2026-12-06).
  json::object LoadThrough(const std::string& org, int devices, int rate, int64_t total, int64_t disrupt_after,
                           const std::function<void()>& disrupt) {
    auto sim = std::async(std::launch::async, [&] {
      return Sim({"load", "--org=" + org, "--register", "--devices=" + std::to_string(devices),
                  "--rate=" + std::to_string(rate), "--count=" + std::to_string(total), "--readings=1",
                  "--json", "--timeout=360", "--resend-ms=2000", "--resend-max-ms=20000"});
    });
    const std::string count_sql = "SELECT count(*) FROM envelopes WHERE org = '" + org + "'";
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(total / rate + 120);
    while (Count(count_sql) < disrupt_after && std::chrono::steady_clock::now() < deadline &&
           sim.wait_for(200ms) != std::future_status::ready) {
    }
    EXPECT_GE(Count(count_sql), disrupt_after) << "the load did not get far enough before the disruption";
    disrupt();
    testing::Stack::RunResult r = sim.get();
    EXPECT_EQ(r.exit_code, 0) << r.out << r.err.substr(r.err.size() > 4000 ? r.err.size() - 4000 : 0);
    json::object s = Summary(r);
    EXPECT_TRUE(s.contains("sent")) << r.out;
    if (!s.contains("sent")) return s;
    const int64_t sent = s.at("sent").as_int64();
    EXPECT_EQ(sent, total) << r.out;
    EXPECT_EQ(s.at("pending").as_int64(), 0) << r.out;
    EXPECT_EQ(s.at("rejected").as_int64(), 0) << r.out;
    EXPECT_EQ(s.at("accepted").as_int64() + s.at("duplicate").as_int64(), sent) << r.out;
    EXPECT_EQ(OutboxEntries(), 0);
    // Stored exactly once: as many rows as envelopes sent, one per (org, device, seq), one event each.
    EXPECT_EQ(Count(count_sql), sent);
    EXPECT_EQ(Count("SELECT count(*) FROM (SELECT DISTINCT device, seq FROM envelopes WHERE org = '" + org + "') d"),
              sent);
    EXPECT_EQ(Count("SELECT count(*) FROM events WHERE org = '" + org + "'"), sent);
    EXPECT_EQ(Count("SELECT count(*) FROM rejected_messages WHERE org = '" + org + "'"), 0);
    return s;
  }

  std::unique_ptr<testing::Stack> stack_;
  std::string state_;
};

TEST_F(IngestSystemTest, ScenariosFaultsAndResends) {
  Gateway gw(*stack_, "ingest-gw-a");
  ASSERT_NO_FATAL_FAILURE(gw.Start());

  struct Expect {
    const char* scenario;
    std::vector<std::string> orgs, lots;
  };
  for (const Expect& x : {Expect{"rice",
                                 {"ubon-jasmine-coop", "mun-river-mill", "siam-fresh-dist", "baan-market"},
                                 {"PDY-F7-2611", "HM105-2611-A"}},
                          Expect{"medicine",
                                 {"deccan-api-labs", "rhein-excipients", "alpen-pharma", "kuehl-logistik",
                                  "stadt-apotheke"},
                                 {"CHL-26-0417", "MCC102-6611", "LMH-6652", "LK2-26K014"}}}) {
    SCOPED_TRACE(x.scenario);
    auto r = Sim({"scenario", x.scenario, "--register", "--json", "--timeout=30"});
    ASSERT_EQ(r.exit_code, 0) << r.out << r.err << gw.log();
    json::object s = Summary(r);
    ASSERT_TRUE(s.contains("steps")) << r.out;
    const int64_t steps = static_cast<int64_t>(s.at("steps").as_array().size());
    EXPECT_GT(steps, 5);
    EXPECT_EQ(s.at("accepted").as_int64(), steps);
    EXPECT_EQ(s.at("rejected").as_int64(), 0);
    EXPECT_EQ(s.at("pending").as_int64(), 0);
    std::string in_orgs;
    for (const auto& o : x.orgs) in_orgs += (in_orgs.empty() ? "'" : ",'") + o + "'";
    EXPECT_EQ(Count("SELECT count(*) FROM envelopes WHERE org IN (" + in_orgs + ")"), steps);
    int64_t events = 0;
    for (const auto& step : s.at("steps").as_array()) {
      events += step.as_object().at("events").as_int64();
      const std::string id(step.as_object().at("envelope").as_string());
      EXPECT_EQ(Count("SELECT count(*) FROM envelopes WHERE id = '\\x" + id + "'::bytea"), 1) << id;
    }
    EXPECT_EQ(Count("SELECT count(*) FROM events e JOIN envelopes v ON v.id = e.envelope_id WHERE v.org IN (" +
                    in_orgs + ")"),
              events);
    for (const auto& lot : x.lots) {
      EXPECT_GT(Count("SELECT count(*) FROM event_keys WHERE lot = '" + lot + "'"), 0) << lot;
    }
  }
  EXPECT_EQ(OutboxEntries(), 0);

  // Every rejection reason of PROTOCOL.md §4, produced by the simulator.
  CreatePrivilegedBrokerAccount("fault-injector", "fault-injector-secret");
  for (const std::string& kind : {"malformed", "too_large", "schema", "topic_mismatch", "bad_signature",
                                  "seq_reused", "clock_skew", "unknown_device", "revoked_device"}) {
    SCOPED_TRACE(kind);
    const int64_t before = Count("SELECT count(*) FROM rejected_messages WHERE reason = '" + kind + "'");
    auto r = Sim({"fault", kind, "--register", "--timeout=30", "--privileged-username=fault-injector",
                  "--privileged-password=fault-injector-secret"});
    EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
    std::error_code ec;
    auto v = json::parse(r.out, ec);
    ASSERT_FALSE(ec) << r.out << r.err;
    const auto& receipt = v.as_object();
    EXPECT_EQ(receipt.at("status").as_string(), "rejected") << r.out;
    ASSERT_TRUE(receipt.contains("reason")) << r.out;
    EXPECT_EQ(receipt.at("reason").as_string(), kind) << r.out;
    const std::string id(receipt.at("envelope").as_string());
    EXPECT_EQ(Count("SELECT count(*) FROM rejected_messages WHERE reason = '" + kind + "'"), before + 1);
    EXPECT_EQ(Count("SELECT count(*) FROM rejected_messages WHERE reason = '" + kind + "' AND envelope_id = '\\x" +
                    id + "'::bytea AND length(payload) > 0 AND topic LIKE 'trace/v1/%/up'"),
              1);
    EXPECT_EQ(Count("SELECT count(*) FROM envelopes WHERE id = '\\x" + id + "'::bytea"), 0);
  }

  // Re-sends: a device's outbox copied back (as if its receipts were lost) is
  // re-sent on the next run and answered `duplicate`, and nothing is stored twice.
  const std::string dev_dir = state_ + "/load-dup/sim-0001";
  const std::string keep = stack_->dir() + "/outbox-copy";
  auto first = Sim({"load", "--org=load-dup", "--register", "--devices=1", "--rate=20", "--duration=1", "--json"});
  ASSERT_EQ(first.exit_code, 0) << first.out << first.err;
  const int64_t sent = Summary(first).at("sent").as_int64();
  ASSERT_GT(sent, 0);
  EXPECT_EQ(Count("SELECT count(*) FROM envelopes WHERE org = 'load-dup'"), sent);
  // Put the accepted envelopes back in the outbox from the database's copies.
  {
    pqxx::connection c(stack_->Env("TRACE_DB_URL"));
    pqxx::work w(c);
    for (const auto& row : w.exec("SELECT seq, canonical FROM envelopes WHERE org = 'load-dup'")) {
      char name[64];
      std::snprintf(name, sizeof name, "%020llu.json", static_cast<unsigned long long>(row[0].as<uint64_t>()));
      std::ofstream(dev_dir + "/outbox/" + name) << pqxx::binarystring(row[1]).str();
    }
  }
  ASSERT_EQ(OutboxEntries(), sent);
  auto again = Sim({"load", "--org=load-dup", "--devices=1", "--rate=1", "--duration=0.5", "--json"});
  ASSERT_EQ(again.exit_code, 0) << again.out << again.err;
  json::object s2 = Summary(again);
  EXPECT_EQ(s2.at("leftovers_resent").as_int64(), sent) << again.out;
  EXPECT_EQ(s2.at("duplicate").as_int64(), sent) << again.out;
  EXPECT_EQ(OutboxEntries(), 0);
  const int64_t total = sent + s2.at("sent").as_int64();
  EXPECT_EQ(Count("SELECT count(*) FROM envelopes WHERE org = 'load-dup'"), total);
  EXPECT_EQ(Count("SELECT count(DISTINCT seq) FROM envelopes WHERE org = 'load-dup'"), total);
  EXPECT_GE(Metric(gw.Metrics(), "trace_gateway_duplicate_total"), sent);
  // The same gateway stored them: it knew their ids and did not verify them again.
  EXPECT_GE(Metric(gw.Metrics(), "trace_gateway_known_resends_total"), sent);
  EXPECT_EQ(gw.Stop(), 0) << gw.log();
}

TEST_F(IngestSystemTest, GatewayKilledMidLoadLosesNothing) {
  Gateway gw(*stack_, "ingest-gw-a");
  ASSERT_NO_FATAL_FAILURE(gw.Start());
  LoadThrough("load-kill", 20, 1000, 20000, 6000, [&] {
    gw.Kill();  // kill -9: whatever it took from the broker and had not committed is lost
    std::this_thread::sleep_for(2s);
    gw.Start();  // the same client id: the broker kept its session and queued messages
  });
  EXPECT_NE(gw.log().find("session_present\":true"), std::string::npos) << gw.log();
  EXPECT_EQ(gw.Stop(), 0) << gw.log();
}

TEST_F(IngestSystemTest, BrokerRestartedMidLoadLosesNothing) {
  Gateway gw(*stack_, "ingest-gw-a");
  ASSERT_NO_FATAL_FAILURE(gw.Start());
  LoadThrough("load-broker", 20, 1000, 20000, 6000, [&] {
    // What an operator runs; Mosquitto saves its persistence file on SIGTERM.
    auto r = stack_->Run({testing::SourceDir() + "/deploy/stack.sh", "restart", stack_->dir(), "mosquitto"});
    EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  });
  EXPECT_NE(gw.log().find("mqtt connection lost"), std::string::npos) << gw.log();
  EXPECT_NE(gw.log().find("\"resubscribed\""), std::string::npos) << gw.log();
  EXPECT_EQ(gw.Stop(), 0) << gw.log();
}

TEST_F(IngestSystemTest, TwoGatewaysShareTheLoadAndStoreEachEnvelopeOnce) {
  Gateway a(*stack_, "ingest-gw-a"), b(*stack_, "ingest-gw-b");
  ASSERT_NO_FATAL_FAILURE(a.Start());
  ASSERT_NO_FATAL_FAILURE(b.Start());
  json::object s = LoadThrough("load-two", 20, 1000, 5000, 0, [] {});
  const std::string ma = a.Metrics(), mb = b.Metrics();
  const double ra = Metric(ma, "trace_gateway_received_total"), rb = Metric(mb, "trace_gateway_received_total");
  EXPECT_GT(ra, 0) << ma;
  EXPECT_GT(rb, 0) << mb;
  const double acc = Metric(ma, "trace_gateway_accepted_total") + Metric(mb, "trace_gateway_accepted_total");
  EXPECT_EQ(static_cast<int64_t>(acc), Count("SELECT count(*) FROM envelopes WHERE org = 'load-two'"));
  EXPECT_EQ(a.Stop(), 0) << a.log();
  EXPECT_EQ(b.Stop(), 0) << b.log();
}

}  // namespace
}  // namespace trace
