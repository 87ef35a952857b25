// deploy/stack.sh against the real servers: PostgreSQL answers with durable settings, the
// broker's ACLs follow the convention of deploy/mosquitto/README.md (checked with the real
// mosquitto_pub and mosquitto_sub), anvil answers, and `down` leaves no process behind.
#include <signal.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <future>
#include <pqxx/pqxx>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "harness/stack.h"

namespace trace::testing {
namespace {

using namespace std::chrono_literals;

// The one value SQL returns (libpqxx 6 has no query_value).
template <typename T>
T Scalar(pqxx::transaction_base& tx, const std::string& sql) {
  return tx.exec1(sql)[0].as<T>();
}

std::string Port(const std::string& url) { return url.substr(url.rfind(':') + 1); }

// mosquitto_pub/mosquitto_sub connection arguments for USER (empty: anonymous).
std::vector<std::string> Connect(const Stack& stack, const std::string& user, const std::string& password) {
  std::vector<std::string> args = {"-h", "127.0.0.1", "-p", Port(stack.Env("TRACE_MQTT_URL"))};
  if (!user.empty()) args.insert(args.end(), {"-u", user, "-P", password});
  return args;
}

std::vector<std::string> Cmd(std::string program, std::vector<std::string> connect,
                             std::vector<std::string> rest) {
  std::vector<std::string> argv = {std::move(program)};
  argv.insert(argv.end(), connect.begin(), connect.end());
  argv.insert(argv.end(), rest.begin(), rest.end());
  return argv;
}

// Runs one `mosquitto_ctrl dynsec` command as the stack's admin. mosquitto_ctrl 2.0.11 exits 0
// even when the broker refuses, so its output is checked for "Error" too.
void Dynsec(const Stack& stack, std::vector<std::string> command) {
  std::vector<std::string> argv =
      Cmd("mosquitto_ctrl",
          Connect(stack, stack.Env("TRACE_MQTT_ADMIN_USERNAME"), stack.Env("TRACE_MQTT_ADMIN_PASSWORD")), {"dynsec"});
  argv.insert(argv.end(), command.begin(), command.end());
  auto r = stack.Run(argv);
  ASSERT_EQ(r.exit_code, 0) << command[0] << ": " << r.err;
  ASSERT_EQ(r.err.find("Error"), std::string::npos) << command[0] << ": " << r.err;
  ASSERT_EQ(r.out.find("Error"), std::string::npos) << command[0] << ": " << r.out;
}

// A device's MQTT client and role, exactly as deploy/mosquitto/README.md says trace-admin
// creates them.
void CreateDevice(const Stack& stack, const std::string& org, const std::string& device,
                  const std::string& password) {
  const std::string id = org + "/" + device;
  const std::string role = "device:" + id;
  const std::string base = "trace/v1/" + id;
  Dynsec(stack, {"createRole", role});
  Dynsec(stack, {"addRoleACL", role, "publishClientSend", base + "/up", "allow"});
  Dynsec(stack, {"addRoleACL", role, "subscribeLiteral", base + "/receipt", "allow"});
  Dynsec(stack, {"addRoleACL", role, "publishClientReceive", base + "/receipt", "allow"});
  Dynsec(stack, {"createClient", id, "-p", password});
  Dynsec(stack, {"addClientRole", id, role});
}

class StackSystem : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto started = Stack::Start({.postgres = true, .mosquitto = true, .anvil = true});
    ASSERT_TRUE(started) << started.error();
    stack_ = started->release();
    CreateDevice(*stack_, "farm", "dev-a", "password-a");
    CreateDevice(*stack_, "farm", "dev-b", "password-b");
  }
  static void TearDownTestSuite() {
    delete stack_;
    stack_ = nullptr;
  }
  void SetUp() override { ASSERT_NE(stack_, nullptr); }

  static std::vector<std::string> Gateway() {
    return Connect(*stack_, stack_->Env("TRACE_MQTT_GATEWAY_USERNAME"), stack_->Env("TRACE_MQTT_GATEWAY_PASSWORD"));
  }
  static std::vector<std::string> DeviceA() { return Connect(*stack_, "farm/dev-a", "password-a"); }
  static std::vector<std::string> DeviceB() { return Connect(*stack_, "farm/dev-b", "password-b"); }

  // Publishes at QoS 1 with MQTT 5, so a refusal comes back as a reason code on stderr.
  static Stack::RunResult Publish(const std::vector<std::string>& who, const std::string& topic,
                                  const std::string& payload) {
    return stack_->Run(Cmd("mosquitto_pub", who, {"-V", "mqttv5", "-q", "1", "-t", topic, "-m", payload}));
  }

  // A persistent QoS 1 session (MQTT 3.1.1, which keeps it until cleaned) subscribed to
  // FILTER, then disconnected: what is published meanwhile is queued for it, in order, so
  // tests need no sleeps. Drain() reconnects and reads COUNT messages ("topic payload").
  static void Subscribe(const std::vector<std::string>& who, const std::string& client_id,
                        const std::string& filter) {
    auto r = stack_->Run(Cmd("mosquitto_sub", who, {"-c", "-i", client_id, "-q", "1", "-t", filter, "-E"}));
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }
  static Stack::RunResult Drain(const std::vector<std::string>& who, const std::string& client_id,
                                const std::string& filter, int count) {
    return stack_->Run(Cmd("mosquitto_sub", who,
                           {"-c", "-i", client_id, "-q", "1", "-t", filter, "-v", "-C",
                            std::to_string(count), "-W", "5"}));
  }

  static Stack* stack_;
};
Stack* StackSystem::stack_ = nullptr;

TEST_F(StackSystem, EnvNamesEveryServer) {
  for (const char* name : {"TRACE_DB_URL", "TRACE_MQTT_URL", "TRACE_CHAIN_RPC", "TRACE_MQTT_ADMIN_USERNAME",
                           "TRACE_MQTT_ADMIN_PASSWORD", "TRACE_MQTT_GATEWAY_USERNAME", "TRACE_MQTT_GATEWAY_PASSWORD",
                           "TRACE_KEYS_DIR", "TRACE_STACK_DIR"}) {
    EXPECT_FALSE(stack_->Env(name).empty()) << name;
  }
  EXPECT_EQ(stack_->Env("TRACE_STACK_DIR"), stack_->dir());
  EXPECT_TRUE(stack_->Env("TRACE_DB_URL").starts_with("postgresql://trace@127.0.0.1:"));
  EXPECT_TRUE(stack_->Env("TRACE_MQTT_URL").starts_with("tcp://127.0.0.1:"));
  EXPECT_TRUE(stack_->Env("TRACE_CHAIN_RPC").starts_with("http://127.0.0.1:"));
  EXPECT_EQ(stack_->Env("NO_SUCH_NAME"), "");
  struct stat st{};
  ASSERT_EQ(::stat(stack_->Env("TRACE_KEYS_DIR").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700u);
  // Run() hands the stack's environment to the program.
  auto r = stack_->Run({"sh", "-c", "echo \"$TRACE_MQTT_URL\"; echo oops >&2; exit 3"});
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_EQ(r.out, stack_->Env("TRACE_MQTT_URL") + "\n");
  EXPECT_EQ(r.err, "oops\n");
}

TEST_F(StackSystem, PostgresAnswersWithDurableSettings) {
  pqxx::connection db(stack_->Env("TRACE_DB_URL"));
  pqxx::nontransaction tx(db);
  EXPECT_EQ(Scalar<int>(tx, "select 1"), 1);
  EXPECT_EQ(Scalar<std::string>(tx, "show synchronous_commit"), "on");
  EXPECT_EQ(Scalar<std::string>(tx, "show fsync"), "on");
  EXPECT_EQ(Scalar<std::string>(tx, "show listen_addresses"), "127.0.0.1");
  EXPECT_EQ(Scalar<std::string>(tx, "select current_user"), "trace");
  EXPECT_EQ(Scalar<std::string>(tx, "select current_database()"), "trace");
  EXPECT_EQ(Scalar<std::string>(tx, "show server_version_num").substr(0, 2), "15");
}

TEST_F(StackSystem, AnonymousAndWrongPasswordAreRefused) {
  auto anonymous = Publish(Connect(*stack_, "", ""), "trace/v1/farm/dev-a/up", "x");
  EXPECT_NE(anonymous.exit_code, 0);
  EXPECT_NE(anonymous.err.find("authorized"), std::string::npos) << anonymous.err;
  auto wrong = Publish(Connect(*stack_, "farm/dev-a", "not-the-password"), "trace/v1/farm/dev-a/up", "x");
  EXPECT_NE(wrong.exit_code, 0);
  EXPECT_NE(wrong.err.find("authorized"), std::string::npos) << wrong.err;
}

TEST_F(StackSystem, GatewayReceivesDevicePublishThroughSharedSubscription) {
  // A live shared subscriber; the device publishes until the gateway has one message.
  auto gateway = std::async(std::launch::async, [] {
    return stack_->Run(Cmd("mosquitto_sub", Gateway(),
                           {"-V", "mqttv5", "-q", "1", "-t", "$share/trace-gateways/trace/v1/+/+/up", "-v", "-C", "1",
                            "-W", "10"}));
  });
  auto deadline = std::chrono::steady_clock::now() + 9s;
  while (gateway.wait_for(200ms) != std::future_status::ready && std::chrono::steady_clock::now() < deadline) {
    auto r = Publish(DeviceA(), "trace/v1/farm/dev-a/up", "envelope-from-a");
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.err.find("failed"), std::string::npos) << r.err;
  }
  auto got = gateway.get();
  EXPECT_EQ(got.exit_code, 0) << got.err;
  EXPECT_EQ(got.out, "trace/v1/farm/dev-a/up envelope-from-a\n");
}

TEST_F(StackSystem, DevicePublishesOnlyToItsOwnUpTopic) {
  Subscribe(Gateway(), "gw-up-check", "trace/v1/+/+/up");
  // MQTT 5 reports the refusal (reason code 135, not authorized); the broker drops the message.
  auto forbidden = Publish(DeviceA(), "trace/v1/farm/dev-b/up", "forged-by-a");
  EXPECT_NE(forbidden.err.find("Not authorized"), std::string::npos) << forbidden.err;
  // MQTT 3.1.1 has no reason code: the broker acknowledges and drops silently.
  auto forbidden311 = stack_->Run(
      Cmd("mosquitto_pub", DeviceA(), {"-q", "1", "-t", "trace/v1/farm/dev-b/up", "-m", "forged-by-a-311"}));
  EXPECT_EQ(forbidden311.exit_code, 0) << forbidden311.err;
  auto to_receipt = Publish(DeviceA(), "trace/v1/farm/dev-a/receipt", "self-receipt");
  EXPECT_NE(to_receipt.err.find("Not authorized"), std::string::npos) << to_receipt.err;
  auto own_a = Publish(DeviceA(), "trace/v1/farm/dev-a/up", "from-a");
  EXPECT_EQ(own_a.exit_code, 0) << own_a.err;
  EXPECT_EQ(own_a.err.find("failed"), std::string::npos) << own_a.err;
  auto own_b = Publish(DeviceB(), "trace/v1/farm/dev-b/up", "from-b");
  EXPECT_EQ(own_b.exit_code, 0) << own_b.err;
  // The gateway's queue holds exactly the two allowed messages, in order, and nothing else.
  auto got = Drain(Gateway(), "gw-up-check", "trace/v1/+/+/up", 3);
  EXPECT_EQ(got.out, "trace/v1/farm/dev-a/up from-a\ntrace/v1/farm/dev-b/up from-b\n") << got.err;
}

TEST_F(StackSystem, DeviceReadsOnlyItsOwnReceiptTopic) {
  for (const std::string filter : {"trace/v1/farm/dev-b/receipt", "trace/v1/farm/+/receipt", "trace/v1/#",
                                   "$share/g/trace/v1/farm/dev-b/receipt"}) {
    auto r = stack_->Run(Cmd("mosquitto_sub", DeviceA(), {"-V", "mqttv5", "-t", filter, "-E"}));
    EXPECT_NE(r.err.find("denied"), std::string::npos) << filter << ": " << r.err;
  }
  // Devices cannot read the up topics either.
  auto up = stack_->Run(Cmd("mosquitto_sub", DeviceA(), {"-V", "mqttv5", "-t", "trace/v1/farm/dev-b/up", "-E"}));
  EXPECT_NE(up.err.find("denied"), std::string::npos) << up.err;

  Subscribe(DeviceA(), "dev-a-receipts", "trace/v1/farm/dev-a/receipt");
  auto to_b = Publish(Gateway(), "trace/v1/farm/dev-b/receipt", "receipt-for-b");
  EXPECT_EQ(to_b.err.find("failed"), std::string::npos) << to_b.err;
  auto to_a = Publish(Gateway(), "trace/v1/farm/dev-a/receipt", "receipt-for-a");
  EXPECT_EQ(to_a.err.find("failed"), std::string::npos) << to_a.err;
  auto got = Drain(DeviceA(), "dev-a-receipts", "trace/v1/farm/dev-a/receipt", 2);
  EXPECT_EQ(got.out, "trace/v1/farm/dev-a/receipt receipt-for-a\n") << got.err;
}

TEST_F(StackSystem, AnvilAnswersChainIdAndMines) {
  const std::string rpc = stack_->Env("TRACE_CHAIN_RPC");
  auto call = [&](const std::string& method) {
    return stack_->Run({"curl", "-sS", "-m", "5", "-H", "content-type: application/json", "-d",
                        R"({"jsonrpc":"2.0","id":1,"method":")" + method + R"(","params":[]})", rpc});
  };
  auto chain = call("eth_chainId");
  ASSERT_EQ(chain.exit_code, 0) << chain.err;
  EXPECT_NE(chain.out.find(R"("result":"0x7a69")"), std::string::npos) << chain.out;
  // One-second blocks: within a few seconds the chain is past block 0.
  auto deadline = std::chrono::steady_clock::now() + 6s;
  std::string last;
  while (std::chrono::steady_clock::now() < deadline) {
    last = call("eth_blockNumber").out;
    if (last.find(R"("result":"0x0")") == std::string::npos && last.find(R"("result":"0x)") != std::string::npos) break;
    std::this_thread::sleep_for(300ms);
  }
  EXPECT_EQ(last.find(R"("result":"0x0")"), std::string::npos) << last;
  EXPECT_NE(last.find(R"("result":"0x)"), std::string::npos) << last;
}

// ---------------------------------------------------------------------------------------------

struct Proc {
  pid_t pid;
  std::string start_time;
};

std::string StartTime(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  auto close = stat.rfind(')');
  if (close == std::string::npos) return "";
  std::istringstream rest(stat.substr(close + 2));
  std::string state, field;
  rest >> state;
  // A zombie has exited and only waits for init to reap it.
  if (state == "Z" || state == "X") return "";
  for (int i = 4; i <= 22 && rest >> field; ++i) {
  }
  return field;
}

bool Alive(const Proc& p) { return !p.start_time.empty() && StartTime(p.pid) == p.start_time; }

// Every process whose command line mentions TEXT.
std::vector<std::string> ProcessesMentioning(const std::string& text) {
  std::vector<std::string> found;
  for (const auto& entry : std::filesystem::directory_iterator("/proc")) {
    const std::string name = entry.path().filename();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    std::ifstream in(entry.path() / "cmdline");
    std::string cmdline((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    std::replace(cmdline.begin(), cmdline.end(), '\0', ' ');
    if (cmdline.find(text) != std::string::npos) found.push_back(name + ": " + cmdline);
  }
  return found;
}

// The recorded leaders (DIR/pids/*) and their children (PostgreSQL's backends).
std::vector<Proc> StackProcesses(const std::string& dir) {
  std::vector<Proc> procs;
  for (const auto& entry : std::filesystem::directory_iterator(dir + "/pids")) {
    std::ifstream in(entry.path());
    Proc p{};
    in >> p.pid >> p.start_time;
    procs.push_back(p);
  }
  const size_t leaders = procs.size();
  for (const auto& entry : std::filesystem::directory_iterator("/proc")) {
    const std::string name = entry.path().filename();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    std::ifstream in(entry.path() / "stat");
    std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    auto close = stat.rfind(')');
    if (close == std::string::npos) continue;
    std::istringstream rest(stat.substr(close + 2));
    std::string state;
    pid_t ppid = 0;
    rest >> state >> ppid;
    for (size_t i = 0; i < leaders; ++i) {
      if (procs[i].pid == ppid) procs.push_back({static_cast<pid_t>(std::stoi(name)), StartTime(std::stoi(name))});
    }
  }
  return procs;
}

TEST(StackLifecycle, DownStopsEveryProcessAndUpRefusesARunningDir) {
  auto started = Stack::Start({.postgres = true, .mosquitto = true, .anvil = true});
  ASSERT_TRUE(started) << started.error();
  std::unique_ptr<Stack> stack = std::move(*started);
  const std::string dir = stack->dir();

  std::vector<Proc> procs = StackProcesses(dir);
  ASSERT_GE(procs.size(), 4u);  // three servers and at least one PostgreSQL child
  // The recorded leaders come first. Their children may come and go on their own (a backend
  // of a client that just disconnected), so only the leaders must stay alive; every process
  // seen, children included, must be gone after `down`.
  const auto leaders = static_cast<size_t>(
      std::distance(std::filesystem::directory_iterator(dir + "/pids"), std::filesystem::directory_iterator()));
  ASSERT_EQ(leaders, 3u);
  for (size_t i = 0; i < leaders; ++i) EXPECT_TRUE(Alive(procs[i])) << procs[i].pid;
  EXPECT_FALSE(ProcessesMentioning(dir).empty());

  // A second `up` on a running DIR refuses and leaves the running stack alone.
  auto again = RunProgram({SourceDir() + "/deploy/stack.sh", "up", dir}, {});
  EXPECT_NE(again.exit_code, 0);
  EXPECT_NE(again.err.find("already running"), std::string::npos) << again.err;
  for (size_t i = 0; i < leaders; ++i) EXPECT_TRUE(Alive(procs[i])) << procs[i].pid;

  stack.reset();  // deploy/stack.sh down
  for (const auto& p : procs) EXPECT_FALSE(Alive(p)) << "pid " << p.pid << " survived down";
  auto left = ProcessesMentioning(dir);
  EXPECT_TRUE(left.empty()) << left.front();
  EXPECT_FALSE(std::filesystem::exists(dir));
}

TEST(StackLifecycle, DownCleansUpAfterAKilledServerAndRestartKeepsData) {
  char pattern[] = "/tmp/trace-stack-restart-XXXXXX";
  ASSERT_NE(::mkdtemp(pattern), nullptr);
  const std::string dir = pattern;
  const std::string script = SourceDir() + "/deploy/stack.sh";
  // Whatever fails below, stop the stack and remove its directory.
  struct Cleanup {
    std::string script, dir;
    ~Cleanup() {
      RunProgram({script, "down", dir}, {});
      std::error_code ec;
      std::filesystem::remove_all(dir, ec);
    }
  } cleanup{script, dir};
  auto up = RunProgram({script, "up", dir, "--only", "postgres,anvil"}, {});
  ASSERT_EQ(up.exit_code, 0) << up.err;
  auto env_of = [&](const std::string& name) {
    auto r = RunProgram({"sh", "-c", ". \"$0\"/env && printf %s \"$" + name + "\"", dir}, {});
    return r.out;
  };
  const std::string db_url = env_of("TRACE_DB_URL");
  ASSERT_FALSE(db_url.empty());
  {
    pqxx::connection db(db_url);
    pqxx::work tx(db);
    tx.exec("create table kept (v text)");
    tx.exec("insert into kept values ('still here')");
    tx.commit();
  }
  EXPECT_TRUE(std::filesystem::exists(dir + "/env"));
  EXPECT_NE(env_of("TRACE_CHAIN_RPC"), "");
  EXPECT_EQ(env_of("TRACE_MQTT_URL"), "");  // only the servers started are in env

  // Half-dead stack: kill -9 the postmaster (its backends linger); down must still clean up.
  std::vector<Proc> procs = StackProcesses(dir);
  std::ifstream pg_pid_file(dir + "/pids/postgres");
  pid_t postmaster = 0;
  pg_pid_file >> postmaster;
  ASSERT_GT(postmaster, 0);
  ASSERT_EQ(::kill(postmaster, SIGKILL), 0);
  auto down = RunProgram({script, "down", dir}, {});
  EXPECT_EQ(down.exit_code, 0) << down.err;
  for (const auto& p : procs) EXPECT_FALSE(Alive(p)) << "pid " << p.pid << " survived down";
  EXPECT_TRUE(ProcessesMentioning(dir).empty());
  // down on a stopped DIR is fine too.
  EXPECT_EQ(RunProgram({script, "down", dir}, {}).exit_code, 0);

  // up again on the same DIR: the same data (PostgreSQL recovers from the kill).
  up = RunProgram({script, "up", dir, "--only", "postgres,anvil"}, {});
  ASSERT_EQ(up.exit_code, 0) << up.err;
  {
    pqxx::connection db(env_of("TRACE_DB_URL"));
    pqxx::nontransaction tx(db);
    EXPECT_EQ(Scalar<std::string>(tx, "select v from kept"), "still here");
  }
  down = RunProgram({script, "down", dir}, {});
  EXPECT_EQ(down.exit_code, 0) << down.err;
  EXPECT_TRUE(ProcessesMentioning(dir).empty());
}

// `stack.sh kill DIR NAME` (the chaos run's kill -9): every process of the server is gone at once
// when it returns, a second kill is harmless, and `start` brings it back on the same data and port.
TEST(StackLifecycle, KillNineLeavesNothingAndStartRecoversTheData) {
  auto started = Stack::Start({.postgres = true, .mosquitto = true});
  ASSERT_TRUE(started) << started.error();
  std::unique_ptr<Stack> stack = std::move(*started);
  const std::string dir = stack->dir(), script = SourceDir() + "/deploy/stack.sh";
  const std::string db_url = stack->Env("TRACE_DB_URL");
  {
    pqxx::connection db(db_url);
    pqxx::work tx(db);
    tx.exec("create table kept (v text)");
    tx.exec("insert into kept values ('committed before the kill')");
    tx.commit();
  }
  pqxx::connection held(db_url);  // a backend of its own, killed with the rest
  std::vector<Proc> before = StackProcesses(dir);
  std::vector<Proc> postgres;
  pid_t postmaster = 0;
  std::ifstream(dir + "/pids/postgres") >> postmaster;
  auto parent_of = [](pid_t pid) {
    std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
    std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    auto close = stat.rfind(')');
    std::istringstream rest(close == std::string::npos ? "" : stat.substr(close + 2));
    std::string state;
    pid_t ppid = 0;
    rest >> state >> ppid;
    return ppid;
  };
  for (const Proc& p : before) {
    if (p.pid == postmaster || parent_of(p.pid) == postmaster) postgres.push_back(p);
  }
  ASSERT_GE(postgres.size(), 2u) << "the postmaster and at least one backend";

  auto kill = RunProgram({script, "kill", dir, "postgres"}, {});
  ASSERT_EQ(kill.exit_code, 0) << kill.err;
  for (const auto& p : postgres) EXPECT_FALSE(Alive(p)) << "pid " << p.pid << " survived kill";
  EXPECT_FALSE(std::filesystem::exists(dir + "/pids/postgres"));
  EXPECT_FALSE(std::filesystem::exists(dir + "/postgres/data/postmaster.pid"));
  pid_t broker = 0;
  std::ifstream(dir + "/pids/mosquitto") >> broker;
  EXPECT_GT(broker, 0);
  EXPECT_EQ(::kill(broker, 0), 0) << "the other servers run on";
  auto again = RunProgram({script, "kill", dir, "postgres"}, {});
  EXPECT_EQ(again.exit_code, 0) << again.err;
  EXPECT_NE(again.err.find("not running"), std::string::npos) << again.err;
  EXPECT_NE(RunProgram({script, "kill", dir, "no-such-server"}, {}).exit_code, 0);

  auto start = RunProgram({script, "start", dir, "postgres"}, {});
  ASSERT_EQ(start.exit_code, 0) << start.err;
  pqxx::connection db(db_url);  // the same port
  pqxx::nontransaction tx(db);
  EXPECT_EQ(Scalar<std::string>(tx, "select v from kept"), "committed before the kill");
}

}  // namespace
}  // namespace trace::testing
