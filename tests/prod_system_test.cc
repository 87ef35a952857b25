// The production layout of deploy/prod/ where one machine can exercise it: PostgreSQL with a
// streaming replica (deploy/stack.sh --replica: pg_basebackup -R), trace-api reading its public
// routes from the replica (--read-db-url), and Debian's nginx in front of it with TLS, rendered
// from deploy/prod/nginx/trace-api.conf.in with a certificate openssl makes here.
//
// Data is written on the primary only: the organization and device by trace-admin, a signed
// envelope and its event rows as the gateway stores them. trace-api must serve them through
// the replica, and keep serving them with the primary stopped.
//
// Two gateways on one shared subscription and two anchors with failover are tested elsewhere:
// tests/ingest_system_test.cc (TwoGatewaysShareTheLoadAndStoreEachEnvelopeOnce) and
// services/anchor/src/anchor_pg_test.cc (StandbyTakesOverWhenTheLeaderIsKilled).
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <map>
#include <pqxx/pqxx>
#include <regex>
#include <sstream>
#include <string>
#include <thread>

#include "harness/stack.h"
#include "trace/common/ed25519.h"
#include "trace/common/encoding.h"
#include "trace/common/envelope.h"

namespace trace {
namespace {

namespace fs = std::filesystem;
namespace json = boost::json;
using namespace std::chrono_literals;

constexpr char kOrg[] = "paddy-coop";
constexpr char kDevice[] = "mill-line-1";
constexpr char kGtin[] = "09506000134369";
constexpr char kLot[] = "RICE-0703";
constexpr char kLotClass[] = "urn:epc:class:lgtin:9506000.013436.RICE-0703";

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

void WriteFile(const std::string& path, const std::string& text) {
  std::ofstream out(path);
  out << text;
}

std::string Replace(std::string text, const std::string& from, const std::string& to) {
  for (size_t pos = 0; (pos = text.find(from, pos)) != std::string::npos; pos += to.size()) {
    text.replace(pos, from.size(), to);
  }
  return text;
}

int FreePort() {
  auto r = testing::RunProgram(
      {"python3", "-c", "import socket; s=socket.socket(); s.bind(('127.0.0.1', 0)); print(s.getsockname()[1])"}, {});
  return r.exit_code == 0 ? std::stoi(r.out) : -1;
}

// A background process of the test, its output in `log_path`; killed by Stop().
struct Child {
  pid_t pid = -1;
  void Start(const std::vector<std::string>& argv, const std::map<std::string, std::string>& env,
             const std::string& log_path) {
    pid = fork();
    if (pid == 0) {
      // Dies with the test, even when the test crashes before TearDownTestSuite.
      prctl(PR_SET_PDEATHSIG, SIGKILL);
      for (const auto& [k, v] : env) setenv(k.c_str(), v.c_str(), 1);
      if (!freopen(log_path.c_str(), "w", stderr) || !freopen(log_path.c_str(), "a", stdout)) _exit(126);
      std::vector<char*> args;
      for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
      args.push_back(nullptr);
      execvp(args[0], args.data());
      _exit(127);
    }
  }
  void Stop() {
    if (pid <= 0) return;
    kill(pid, SIGTERM);
    for (int i = 0; i < 100 && waitpid(pid, nullptr, WNOHANG) == 0; ++i) std::this_thread::sleep_for(100ms);
    if (waitpid(pid, nullptr, WNOHANG) == 0) {
      kill(pid, SIGKILL);
      waitpid(pid, nullptr, 0);
    }
    pid = -1;
  }
};

struct Response {
  int status = 0;
  std::string headers;  // as curl printed them
  std::string body;
  // The value of header `name` (any case; HTTP/2 names are lowercase, HTTP/1.1 ones need not
  // be), "" when absent.
  std::string Header(std::string name) const {
    for (char& ch : name) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    std::istringstream lines(headers);
    for (std::string line; std::getline(lines, line);) {
      if (!line.empty() && line.back() == '\r') line.pop_back();
      auto colon = line.find(':');
      if (colon == std::string::npos) continue;
      std::string n = line.substr(0, colon);
      for (char& ch : n) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
      if (n != name) continue;
      std::string v = line.substr(colon + 1);
      while (!v.empty() && v.front() == ' ') v.erase(0, 1);
      return v;
    }
    return "";
  }
  json::value Json() const {
    boost::system::error_code ec;
    auto v = json::parse(body, ec);
    return ec ? json::value() : v;
  }
};

class ProdSystemTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto stack = testing::Stack::Start({.postgres = true, .replica = true});
    ASSERT_TRUE(stack.has_value()) << stack.error();
    stack_ = std::move(*stack).release();
    ASSERT_FALSE(stack_->Env("TRACE_REPLICA_DB_URL").empty()) << "stack.sh --replica wrote no TRACE_REPLICA_DB_URL";
    ASSERT_EQ(stack_->Env("TRACE_API_READ_DB_URL"), stack_->Env("TRACE_REPLICA_DB_URL"));
    dir_ = new std::string(stack_->dir() + "/prod");
    fs::create_directories(*dir_ + "/nginx/tmp");

    // Written on the primary: the platform keys, an organization and its device.
    const std::vector<std::vector<std::string>> commands = {
        {"trace-admin", "keys"},
        {"trace-admin", "org", "create", kOrg, "--name=Paddy coop"},
        {"trace-admin", "device", "register", kOrg, kDevice, "--public-key=" + Base64UrlEncode(key().public_key())}};
    for (const auto& argv : commands) {
      auto r = stack_->Run(argv);
      ASSERT_EQ(r.exit_code, 0) << argv[1] << ": " << r.out << r.err;
    }
    StoreEnvelope(1, "2026-07-03T06:00:00.000Z");

    // trace-api as deploy/prod/env/api.env runs it: primary for writes and /healthz, the replica
    // for the public routes, no per-client limit of its own (nginx's instead).
    api_port_ = FreePort();
    ASSERT_GT(api_port_, 0);
    api_.Start({BinDir() + "/trace-api"},
               {{"TRACE_DB_URL", stack_->Env("TRACE_DB_URL")},
                {"TRACE_API_READ_DB_URL", stack_->Env("TRACE_REPLICA_DB_URL")},
                {"TRACE_API_LISTEN", "127.0.0.1:" + std::to_string(api_port_)},
                {"TRACE_PUBLIC_URL", "https://localhost"},
                {"TRACE_API_RATE_LIMIT", "0"}},
               *dir_ + "/trace-api.log");
    ASSERT_TRUE(WaitFor([] { return Get(Direct("/healthz")).status == 200; }, 30s))
        << ReadFile(*dir_ + "/trace-api.log");
    ASSERT_NE(ReadFile(*dir_ + "/trace-api.log").find("\"read_replica\":true"), std::string::npos);

    StartNginx();
  }

  static void TearDownTestSuite() {
    nginx_.Stop();
    api_.Stop();
    delete stack_;
    stack_ = nullptr;
  }

  static const Ed25519PrivateKey& key() {
    static const Ed25519PrivateKey k = Ed25519PrivateKey::Generate();
    return k;
  }

  static std::string BinDir() { return getenv("TRACE_BIN_DIR") ? getenv("TRACE_BIN_DIR") : "build/bin"; }

  // A commissioning event of the lot, signed by the device, stored on the primary in the rows
  // trace-gateway writes (envelopes, events, event_keys). Returns the envelope id (hex).
  static std::string StoreEnvelope(uint64_t seq, const std::string& time) {
    json::object event{{"type", "ObjectEvent"},
                       {"action", "ADD"},
                       {"bizStep", "commissioning"},
                       {"eventTime", time},
                       {"eventTimeZoneOffset", "+07:00"},
                       {"epcList", json::array{}},
                       {"quantityList", json::array{json::object{{"epcClass", kLotClass}, {"quantity", 500},
                                                                 {"uom", "KGM"}}}}};
    json::object unsigned_envelope{{"v", 1},     {"org", kOrg},           {"device", kDevice},
                                   {"seq", seq}, {"sent", time},          {"events", json::array{event}}};
    auto envelope = SignEnvelope(unsigned_envelope, key());
    EXPECT_TRUE(envelope.has_value()) << envelope.error();
    if (!envelope) return "";
    const std::string id = EnvelopeId(*envelope);  // lowercase hex
    pqxx::connection c(stack_->Env("TRACE_DB_URL"));
    pqxx::work w(c);
    w.exec_params(
        "INSERT INTO envelopes (id, org, device, seq, canonical, sent_at, source, event_count) "
        "VALUES (decode($1, 'hex'), $2, $3, $4, decode($5, 'hex'), $6, 'mqtt', 1)",
        id, kOrg, kDevice, static_cast<int64_t>(seq), HexEncode(CanonicalBytes(*envelope)), time);
    w.exec_params(
        "INSERT INTO events (envelope_id, idx, org, event_type, action, biz_step, event_time, "
        "event_time_zone_offset, body) VALUES (decode($1, 'hex'), 0, $2, 'ObjectEvent', 'ADD', 'commissioning', $3, "
        "'+07:00', $4::jsonb)",
        id, kOrg, time, json::serialize(event));
    w.exec_params(
        "INSERT INTO event_keys (envelope_id, idx, kind, value, gtin, lot, quantity, uom) "
        "VALUES (decode($1, 'hex'), 0, 'epc_class', $2, $3, $4, 500, 'KGM')",
        id, kLotClass, kGtin, kLot);
    w.exec_params("UPDATE devices SET last_seq = $3 WHERE org = $1 AND device = $2", kOrg, kDevice,
                  static_cast<int64_t>(seq));
    w.commit();
    return id;
  }

  static void StartNginx() {
    const std::string d = *dir_ + "/nginx";
    // A self-signed certificate for localhost, made here.
    auto cert = testing::RunProgram({"openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                                     "ec_paramgen_curve:P-256", "-nodes", "-keyout", d + "/key.pem", "-out",
                                     d + "/cert.pem", "-days", "1", "-subj", "/CN=localhost", "-addext",
                                     "subjectAltName=DNS:localhost,IP:127.0.0.1"},
                                    {});
    ASSERT_EQ(cert.exit_code, 0) << cert.err;
    https_port_ = FreePort();
    http_port_ = FreePort();
    ASSERT_GT(https_port_, 0);
    ASSERT_GT(http_port_, 0);
    std::string site = ReadFile(testing::SourceDir() + "/deploy/prod/nginx/trace-api.conf.in");
    ASSERT_FALSE(site.empty());
    site = Replace(site, "@HTTPS_LISTEN@", "127.0.0.1:" + std::to_string(https_port_) + " ssl http2");
    site = Replace(site, "@HTTP_LISTEN@", "127.0.0.1:" + std::to_string(http_port_));
    site = Replace(site, "@SERVER_NAME@", "localhost");
    site = Replace(site, "@CERT@", d + "/cert.pem");
    site = Replace(site, "@KEY@", d + "/key.pem");
    site = Replace(site, "@UPSTREAM@", "server 127.0.0.1:" + std::to_string(api_port_) + ";");
    ASSERT_FALSE(std::regex_search(site, std::regex("@[A-Z_]+@"))) << "a placeholder is left:\n" << site;
    WriteFile(d + "/trace-api.conf", site);
    // The main configuration around it, as Debian's /etc/nginx/nginx.conf includes conf.d/.
    std::string main_conf = geteuid() == 0 ? "user root;\n" : "";
    main_conf += "worker_processes 1;\ndaemon off;\npid " + d + "/nginx.pid;\nerror_log " + d +
                 "/error.log warn;\nevents { worker_connections 512; }\nhttp {\n  access_log " + d +
                 "/access.log;\n";
    for (const char* t : {"client_body", "proxy", "fastcgi", "uwsgi", "scgi"}) {
      main_conf += std::string("  ") + t + "_temp_path " + d + "/tmp/" + t + ";\n";
    }
    main_conf += "  include " + d + "/trace-api.conf;\n}\n";
    WriteFile(d + "/nginx.conf", main_conf);
    auto check = testing::RunProgram({"nginx", "-t", "-p", d, "-e", d + "/error.log", "-c", d + "/nginx.conf"}, {});
    ASSERT_EQ(check.exit_code, 0) << check.err << check.out;
    nginx_.Start({"nginx", "-p", d, "-e", d + "/error.log", "-c", d + "/nginx.conf"}, {}, d + "/nginx.out");
    ASSERT_TRUE(WaitFor([] { return Get(Https("/api/v1/keys")).status == 200; }, 20s))
        << ReadFile(d + "/error.log") << ReadFile(d + "/nginx.out");
  }

  static bool WaitFor(const std::function<bool()>& done, std::chrono::seconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      if (done()) return true;
      std::this_thread::sleep_for(200ms);
    }
    return done();
  }

  static std::string Direct(const std::string& path) { return "http://127.0.0.1:" + std::to_string(api_port_) + path; }
  static std::string Https(const std::string& path) {
    return "https://localhost:" + std::to_string(https_port_) + path;
  }

  // One request with curl, the certificate checked against the test's own.
  static Response Get(const std::string& url, const std::vector<std::string>& extra = {}) {
    const std::string head = *dir_ + "/head.txt";
    std::vector<std::string> argv = {"curl", "-sS", "-m", "10", "--cacert", *dir_ + "/nginx/cert.pem", "-D", head,
                                     "-w", "\n%{http_code}"};
    // localhost is 127.0.0.1, where nginx listens (not ::1).
    for (int port : {https_port_, http_port_}) {
      if (port > 0) argv.insert(argv.end(), {"--resolve", "localhost:" + std::to_string(port) + ":127.0.0.1"});
    }
    argv.insert(argv.end(), extra.begin(), extra.end());
    argv.push_back(url);
    auto r = testing::RunProgram(argv, {}, 30);
    Response res;
    auto nl = r.out.rfind('\n');
    if (r.exit_code != 0 || nl == std::string::npos) return res;
    res.status = std::atoi(r.out.c_str() + nl + 1);
    res.body = r.out.substr(0, nl);
    res.headers = ReadFile(head);
    return res;
  }

  static std::string TracePath() { return std::string("/01/") + kGtin + "/10/" + kLot; }

  static testing::Stack* stack_;
  static std::string* dir_;
  static Child api_, nginx_;
  static int api_port_, https_port_, http_port_;
};

testing::Stack* ProdSystemTest::stack_ = nullptr;
std::string* ProdSystemTest::dir_ = nullptr;
Child ProdSystemTest::api_, ProdSystemTest::nginx_;
int ProdSystemTest::api_port_ = -1, ProdSystemTest::https_port_ = -1, ProdSystemTest::http_port_ = -1;

TEST_F(ProdSystemTest, NginxServesKeysAndDigitalLinkOverTls) {
  Response keys = Get(Https("/api/v1/keys"));
  ASSERT_EQ(keys.status, 200) << keys.body;
  EXPECT_TRUE(keys.Json().as_object().at("log").is_object()) << keys.body;
  EXPECT_EQ(keys.Json().as_object().at("receipt").as_array().size(), 1u) << keys.body;
  EXPECT_EQ(keys.Header("Strict-Transport-Security"), "max-age=63072000") << keys.headers;

  Response trace = Get(Https(TracePath()), {"-H", "Accept: application/json"});
  ASSERT_EQ(trace.status, 200) << trace.body;
  const json::value parsed = trace.Json();
  ASSERT_TRUE(parsed.is_object()) << trace.body;
  const json::object& doc = parsed.as_object();
  EXPECT_EQ(doc.at("lot").as_string(), kLot);
  EXPECT_EQ(doc.at("link").as_string(), std::string("https://localhost") + TracePath());
  ASSERT_GE(doc.at("events").as_array().size(), 1u) << trace.body;
  const json::object& first = doc.at("events").as_array()[0].as_object();
  EXPECT_EQ(first.at("signer").as_object().at("device").as_string(), kDevice);
  EXPECT_EQ(first.at("signer").as_object().at("key").as_string(), Base64UrlEncode(key().public_key()));

  // The same bytes as trace-api answers directly: nginx passes the path and the answer unchanged.
  Response direct = Get(Direct(TracePath()), {"-H", "Accept: application/json"});
  EXPECT_EQ(direct.body, trace.body);
  // A short GTIN is redirected by trace-api to its canonical path, through nginx too.
  Response short_gtin = Get(Https("/01/9506000134369/10/RICE-0703"));
  EXPECT_EQ(short_gtin.status, 301);
  EXPECT_EQ(short_gtin.Header("Location"), TracePath()) << short_gtin.headers;
  // Unknown lots are trace-api's problem documents.
  Response unknown = Get(Https(std::string("/01/") + kGtin + "/10/NOPE-1"), {"-H", "Accept: application/json"});
  EXPECT_EQ(unknown.status, 404);
  EXPECT_EQ(unknown.Header("Content-Type"), "application/problem+json") << unknown.headers;
}

TEST_F(ProdSystemTest, OperationsRoutesStayPrivateAndPlainHttpRedirects) {
  EXPECT_EQ(Get(Https("/healthz")).status, 404);
  EXPECT_EQ(Get(Https("/metrics")).status, 404);
  EXPECT_EQ(Get(Direct("/healthz")).status, 200) << "trace-api's own address still answers";
  Response metrics = Get(Direct("/metrics"));
  EXPECT_EQ(metrics.status, 200);
  EXPECT_NE(metrics.body.find("trace_api_"), std::string::npos) << metrics.body.substr(0, 400);

  Response plain = Get("http://localhost:" + std::to_string(http_port_) + TracePath());
  EXPECT_EQ(plain.status, 301);
  EXPECT_EQ(plain.Header("Location"), "https://localhost" + TracePath()) << plain.headers;
}

TEST_F(ProdSystemTest, NginxLimitsEachClientAddressSeparately) {
  // Two clients, 127.0.0.1 and 127.0.0.2, each send 120 requests at once, at the same time. Each
  // has its own bucket (20/s, burst 40): each gets its burst through and the rest refused by
  // nginx with the problem document (trace-api runs with its own limit off, so every 429 is
  // nginx's).
  const std::string cert = *dir_ + "/nginx/cert.pem";
  const std::string resolve = "localhost:" + std::to_string(https_port_) + ":127.0.0.1";
  const std::string script =
      "start=$(date +%s%N)\n"
      "for ip in 127.0.0.1 127.0.0.2; do\n"
      "  curl -s --parallel --parallel-max 60 --interface $ip --cacert '" + cert + "' --resolve '" + resolve +
      "' -o '" + *dir_ + "/burst-'$ip'-#1' -w \"%{http_code} %{content_type} %header{retry-after}\\n\" '" +
      Https("/api/v1/keys?n=[1-120]") + "' > '" + *dir_ + "/codes-'$ip &\n"
      "done\n"
      "wait\n"
      // Each curl writes its own file: two writing one pipe could interleave their lines.
      "for ip in 127.0.0.1 127.0.0.2; do sed \"s/^/$ip /\" '" + *dir_ + "/codes-'$ip; done\n"
      "echo elapsed_ms $(( ($(date +%s%N) - start) / 1000000 ))\n";
  auto r = testing::RunProgram({"bash", "-c", script}, {}, 60);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::map<std::string, int> ok, limited;
  int elapsed_ms = -1;
  std::istringstream lines(r.out);
  for (std::string line; std::getline(lines, line);) {
    std::istringstream f(line);
    std::string ip, code, type, retry;
    f >> ip >> code >> type >> retry;
    if (ip == "elapsed_ms") {
      elapsed_ms = std::stoi(code);
    } else if (code == "200") {
      ++ok[ip];
    } else if (code == "429") {
      ++limited[ip];
      EXPECT_EQ(type, "application/problem+json") << line;
      EXPECT_EQ(retry, "1") << line;
    } else {
      ADD_FAILURE() << "unexpected answer: " << line;
    }
  }
  for (const char* ip : {"127.0.0.1", "127.0.0.2"}) {
    EXPECT_GE(ok[ip], 40) << ip << "\n" << r.out;
    EXPECT_GE(limited[ip], 20) << ip << "\n" << r.out;
    EXPECT_EQ(ok[ip] + limited[ip], 120) << ip;
  }
  // One shared bucket would let about 41 + 20 per second through in total.
  std::cout << "[ info ] both bursts took " << elapsed_ms << " ms; passed " << ok["127.0.0.1"] << " + "
            << ok["127.0.0.2"] << "\n";
  if (elapsed_ms >= 0 && elapsed_ms < 1500) EXPECT_GE(ok["127.0.0.1"] + ok["127.0.0.2"], 80);
  // A refused answer's body is the problem document.
  bool seen = false;
  for (int i = 1; i <= 120 && !seen; ++i) {
    std::string body = ReadFile(*dir_ + "/burst-127.0.0.1-" + std::to_string(i));
    if (body.find("\"status\":429") != std::string::npos) {
      seen = true;
      EXPECT_NE(body.find("\"title\":\"Too Many Requests\""), std::string::npos) << body;
    }
  }
  EXPECT_TRUE(seen) << "no 429 body among the burst's answers";
  // The static files are not rate limited (a page view needs them all at once): trace-api's 404.
  EXPECT_EQ(Get(Https("/static/none.js")).status, 404);
  std::this_thread::sleep_for(3s);  // the buckets refill for the tests that follow
}

TEST_F(ProdSystemTest, ZReplicaServesWritesOfThePrimaryAndOutlivesIt) {
  // A second envelope written on the primary reaches trace-api's answers through the replica.
  const std::string second = StoreEnvelope(2, "2026-07-03T07:00:00.000Z");
  ASSERT_FALSE(second.empty());
  ASSERT_TRUE(WaitFor(
      [&] {
        Response r = Get(Direct("/api/v1/envelopes/" + second));
        return r.status == 200;
      },
      30s))
      << "the replica never served envelope " << second;
  {
    pqxx::connection replica(stack_->Env("TRACE_REPLICA_DB_URL"));
    pqxx::read_transaction tx(replica);
    EXPECT_TRUE(tx.exec1("SELECT pg_is_in_recovery()")[0].as<bool>()) << "TRACE_REPLICA_DB_URL is not a standby";
    EXPECT_EQ(tx.exec1("SELECT count(*) FROM envelopes")[0].as<int64_t>(), 2);
  }
  // The trace document may come from trace-api's document cache for at most its bound (1 s,
  // document_cache.h) after the replica has the envelope.
  Response trace;
  EXPECT_TRUE(WaitFor(
      [&] {
        trace = Get(Https(TracePath()), {"-H", "Accept: application/json"});
        return trace.status == 200 && trace.Json().as_object().at("events").as_array().size() == 2u;
      },
      5s))
      << trace.status << " " << trace.body;

  // The primary stops: the public routes keep answering from the replica; /healthz, which
  // checks the primary, says so.
  auto stop = testing::RunProgram({testing::SourceDir() + "/deploy/stack.sh", "stop", stack_->dir(), "postgres"}, {});
  ASSERT_EQ(stop.exit_code, 0) << stop.err;
  EXPECT_EQ(Get(Direct("/healthz")).status, 503);
  Response keys = Get(Https("/api/v1/keys"));
  EXPECT_EQ(keys.status, 200) << keys.body;
  Response without_primary = Get(Https(TracePath()), {"-H", "Accept: application/json"});
  EXPECT_EQ(without_primary.status, 200) << without_primary.body;
  EXPECT_EQ(without_primary.Json().as_object().at("events").as_array().size(), 2u);
  Response envelope = Get(Https("/api/v1/envelopes/" + second));
  EXPECT_EQ(envelope.status, 200) << envelope.body;

  auto start = testing::RunProgram({testing::SourceDir() + "/deploy/stack.sh", "start", stack_->dir(), "postgres"}, {});
  ASSERT_EQ(start.exit_code, 0) << start.err;
  EXPECT_TRUE(WaitFor([] { return Get(Direct("/healthz")).status == 200; }, 30s));
}

}  // namespace
}  // namespace trace
