// fuzz_seeds OUT TESTDATA: writes the generated part of the seed corpora into
// OUT/<target>/ (target = envelope, jcs, digital_link, epcis, api, checkpoint,
// rlp): inputs that need the code to make them, such as envelopes and
// checkpoints signed with the keys of fuzz_support.h, requests for every route,
// RLP encodings, and envelopes wrapping each event of GS1's EPCIS examples in
// TESTDATA/epcis/examples. run.sh adds the files of TESTDATA and the string
// literals of the unit tests beside these.
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json.hpp>

#include "fuzz_support.h"
#include "html_page.h"
#include "trace/common/checkpoint.h"
#include "trace/common/digital_link.h"
#include "trace/common/envelope.h"
#include "trace/common/files.h"
#include "trace/common/jcs.h"
#include "trace/common/merkle.h"
#include "trace/common/rlp.h"
#include "trace/common/uint256.h"

namespace {

namespace fs = std::filesystem;
namespace json = boost::json;
using namespace trace;

class Writer {
 public:
  explicit Writer(fs::path root) : root_(std::move(root)) {}
  void Add(const std::string& target, std::string_view bytes) {
    fs::create_directories(root_ / target);
    const fs::path file = root_ / target / ("gen-" + std::to_string(++count_));
    std::ofstream(file, std::ios::binary).write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  }
  int count() const { return count_; }

 private:
  fs::path root_;
  int count_ = 0;
};

json::object Event(std::string_view time = "2026-11-23T08:15:00.000Z") {
  return json::object{{"type", "ObjectEvent"},
                      {"action", "OBSERVE"},
                      {"bizStep", "sensor_reporting"},
                      {"eventTime", time},
                      {"eventTimeZoneOffset", "+01:00"},
                      {"epcList", json::array{"urn:epc:id:sgtin:0614141.107346.2018"}},
                      {"readPoint", json::object{{"id", "urn:epc:id:sgln:9506000.13436.0"}}}};
}

json::object Unsigned(std::string_view device, uint64_t seq, json::array events,
                      std::string_view sent = "2026-11-23T08:15:30.250Z") {
  return json::object{{"v", 1},           {"org", fuzz::kOrg},        {"device", device},
                      {"seq", seq},       {"sent", sent},             {"events", std::move(events)}};
}

// "<topic>\n<canonical envelope>", as envelope_fuzz reads it.
std::string SignedMessage(const json::object& unsigned_envelope, std::string_view topic = "") {
  auto env = SignEnvelope(unsigned_envelope, fuzz::DeviceKey());
  if (!env) {
    std::fprintf(stderr, "fuzz_seeds: %s\n", env.error().message().c_str());
    return "";
  }
  const std::string t = topic.empty() ? UpTopic(env->org, env->device) : std::string(topic);
  return t + "\n" + env->canonical_bytes;
}

void Envelopes(Writer& w, const fs::path& testdata) {
  w.Add("envelope", SignedMessage(Unsigned(fuzz::kDevice, 1042, json::array{Event()})));
  w.Add("envelope", SignedMessage(Unsigned(fuzz::kDevice, 1, json::array{Event(), Event("2026-11-23T08:14:00.000Z")})));
  w.Add("envelope", SignedMessage(Unsigned(fuzz::kRevokedDevice, 7, json::array{Event()})));
  w.Add("envelope", SignedMessage(Unsigned("unknown-device", 7, json::array{Event()})));
  w.Add("envelope", SignedMessage(Unsigned(fuzz::kDevice, 8, json::array{Event()}),
                                  UpTopic(fuzz::kOrg, "another-device")));
  // Clock skew: sent and an eventTime an hour after the fake clock's now.
  w.Add("envelope", SignedMessage(Unsigned(fuzz::kDevice, 9, json::array{Event()}, "2026-11-23T09:16:00.000Z")));
  w.Add("envelope", SignedMessage(Unsigned(fuzz::kDevice, 10, json::array{Event("2026-11-23T09:16:00.000Z")})));
  // A bad signature: one byte of the canonical bytes changed after signing.
  std::string bad = SignedMessage(Unsigned(fuzz::kDevice, 11, json::array{Event()}));
  if (auto pos = bad.find("OBSERVE"); pos != std::string::npos) bad[pos] = 'X';
  w.Add("envelope", bad);
  // Every event of GS1's examples, one envelope each (EPCIS checks after the signature).
  uint64_t seq = 100;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(testdata / "epcis" / "examples", ec)) {
    auto text = ReadFile(entry.path().string());
    if (!text) continue;
    auto doc = ParseJsonStrict(*text);
    if (!doc || !doc->is_object()) continue;
    const auto* body = doc->as_object().if_contains("epcisBody");
    const auto* list = body && body->is_object() ? body->as_object().if_contains("eventList") : nullptr;
    if (!list || !list->is_array()) continue;
    for (const auto& event : list->as_array()) {
      w.Add("envelope", SignedMessage(Unsigned(fuzz::kDevice, ++seq, json::array{event})));
    }
  }
}

void Checkpoints(Writer& w) {
  const auto& key = fuzz::LogKey();
  std::vector<Hash> leaves;
  for (uint64_t size : {0, 1, 7, 8, 1000}) {
    while (leaves.size() < size) leaves.push_back(merkle::LeafHash(std::to_string(leaves.size())));
    Checkpoint cp{.origin = fuzz::kLogName, .tree_size = size, .root = merkle::RootOf(leaves)};
    if (size == 7) cp.extensions = {"anchored on chain 31337"};
    w.Add("checkpoint", FormatCheckpointBody(cp));
    if (auto note = SignCheckpoint(cp, fuzz::kLogName, key)) {
      w.Add("checkpoint", *note);
      // The same note with a second signature line by another key first.
      if (auto other = SignCheckpoint(cp, "witness.example.org", fuzz::DeviceKey())) {
        const std::string body = FormatCheckpointBody(cp);
        w.Add("checkpoint", body + "\n" + other->substr(body.size() + 1) + note->substr(body.size() + 1));
      }
    }
  }
  Checkpoint big{.origin = fuzz::kLogName, .tree_size = 18446744073709551615ull, .root = {}};
  w.Add("checkpoint", FormatCheckpointBody(big));
  if (auto vkey = FormatVerifierKey(fuzz::kLogName, key.public_key())) w.Add("checkpoint", *vkey);
}

void Rlp(Writer& w) {
  w.Add("rlp", RlpBytes(""));
  w.Add("rlp", RlpBytes(std::string(1, '\x7f')));
  w.Add("rlp", RlpBytes(std::string(1, '\x80')));
  w.Add("rlp", RlpBytes(std::string(55, 'a')));
  w.Add("rlp", RlpBytes(std::string(56, 'b')));
  w.Add("rlp", RlpBytes(std::string(300, 'c')));
  w.Add("rlp", RlpUint(0));
  w.Add("rlp", RlpUint(1024));
  w.Add("rlp", RlpUint(UINT64_MAX));
  if (auto big = Uint256::FromHex("0xffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff")) {
    w.Add("rlp", RlpUint(*big));
  }
  w.Add("rlp", RlpList({}));
  w.Add("rlp", RlpList({RlpList({}), RlpList({RlpList({})})}));
  // The shape of an EIP-1559 transaction (less its type byte).
  std::vector<std::string> tx = {RlpUint(31337), RlpUint(9),  RlpUint(1'000'000'000), RlpUint(30'000'000'000),
                                 RlpUint(210000), RlpBytes(std::string(20, '\x11')), RlpUint(0),
                                 RlpBytes(std::string(68, '\x22')), RlpList({}), RlpUint(1),
                                 RlpBytes(std::string(32, '\x33')), RlpBytes(std::string(32, '\x44'))};
  w.Add("rlp", RlpList(tx));
  std::vector<std::string> long_list(30, RlpBytes("dog"));
  w.Add("rlp", RlpList(long_list));
}

void Links(Writer& w) {
  for (std::string_view s : {"/01/09506000134369/10/RICE%2F0703", "/01/09506000134369/10/L1/21/S1",
                             "/01/9506000134369/21/2018", "/shop/x/01/09506000134369",
                             "/414/9506000134376/254/A1", "/00/095060001343699996",
                             "https://id.example.com/01/09506000134369/10/L1?17=261231&15=270101&linkType=all",
                             "http://example.org/01/09506000134369/21/S%2F1#frag", "urn:epc:id:sgtin:0614141.107346.2018",
                             "urn:epc:class:lgtin:0614141.107346.L%2F1", "urn:epc:idpat:sgtin:0614141.107346.*",
                             "urn:epc:id:sgln:9506000.13436.0", "urn:epc:id:sgln:9506000.13436.ext1",
                             "4006381333931", "RICE%2F0703"}) {
    w.Add("digital_link", s);
  }
}

void Requests(Writer& w) {
  const std::string id(64, 'a');
  for (std::string s :
       {std::string("GET /01/09506000134369/10/RICE%2F0703\naccept: text/html,application/json;q=0.9\n"),
        std::string("GET /01/9506000134369/10/L1?linkType=gs1:epcis\n"),
        std::string("GET /01/09506000134369/10/l%2f1\n"),
        std::string("GET /01/09506000134369/21/S1?linkType=linkset\naccept: application/linkset+json\n"),
        std::string("GET /01/09506000134369/10/L1?linkType=https://gs1.org/voc/pip\n"),
        std::string("GET /01/09506000134369\naccept: */*;q=0\n"),
        "GET /api/v1/envelopes/" + id + "?treeSize=5\n",
        std::string("GET /api/v1/checkpoint\nif-none-match: W/\"abc\", *\n"),
        std::string("GET /api/v1/proofs/consistency?from=1&to=8\n"),
        std::string("GET /api/v1/anchors?limit=5&before=100\n"),
        std::string("GET /api/v1/keys\n"),
        std::string("GET /api/v1/epcis/events?MATCH_epc=urn%3Aepc%3Aid%3Asgtin%3A0614141.107346.2018"
                    "&GE_eventTime=2026-01-01T00:00:00Z&LT_eventTime=2027-01-01T00:00:00.000Z"
                    "&eventType=ObjectEvent&EQ_bizStep=shipping&perPage=10\n"),
        std::string("GET /api/v1/epcis/events?MATCH_epcClass=https%3A%2F%2Fid.example.com%2F01%2F09506000134369%2F10%2FL1"
                    "&nextPageToken=abc\n"),
        std::string("GET /api/v1/lots/09506000134369/RICE%2F0703/readings\n"),
        "GET " + api::StaticPath("trace.css") + "\nif-none-match: *\n",
        "GET " + api::StaticPath("trace.js") + "\n",
        std::string("GET /healthz\n"), std::string("GET /metrics\n"), std::string("POST /api/v1/keys\n"),
        std::string("GET /nothing/here\n")}) {
    w.Add("api", s);
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: fuzz_seeds OUT TESTDATA\n");
    return 2;
  }
  Writer w{fs::path(argv[1])};
  Envelopes(w, argv[2]);
  Checkpoints(w);
  Rlp(w);
  Links(w);
  Requests(w);
  std::printf("fuzz_seeds: %d files\n", w.count());
  return 0;
}
