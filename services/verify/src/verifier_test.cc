// The checks of verifier.h against a log built in memory: envelopes signed with test keys
// in a merkle::MemoryTree, a checkpoint signed with checkpoint.h, the documents of
// PROTOCOL.md §7 served by a fake Fetcher, and the chain's roots from a fake ChainReader.
// A good trace verifies; each kind of tampering fails with its own message.
#include "verifier.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <filesystem>
#include <map>

#include "cli.h"
#include "trace/common/checkpoint.h"
#include "trace/common/ed25519.h"
#include "trace/common/encoding.h"
#include "trace/common/envelope.h"
#include "trace/common/merkle.h"

namespace trace::verify {
namespace {

namespace json = boost::json;

constexpr const char* kBase = "https://id.example.com";
constexpr const char* kRiceGtin = "09506000134369";
constexpr const char* kPaddyGtin = "09506000134376";
constexpr const char* kLogName = "trace.test/log";
const std::string kContract(20, '\x42');

class FakeFetcher : public Fetcher {
 public:
  Result<std::string> Get(const std::string& url, std::string_view accept) override {
    ++gets;
    if (auto it = down.find(url); it != down.end()) return Fail(Unavailable("GET " + url + ": connection refused"));
    auto it = bodies.find(url);
    if (it == bodies.end()) return Fail(NotFound("GET " + url + ": HTTP 404"));
    return it->second;
  }
  std::map<std::string, std::string> bodies;
  std::set<std::string> down;  // fault switch: these URLs are unreachable
  int gets = 0;
};

class FakeChain : public ChainReader {
 public:
  Result<uint64_t> ChainId() override { return chain_id; }
  Result<Hash> RootAt(uint64_t tree_size) override {
    auto it = roots.find(tree_size);
    return it == roots.end() ? Hash{} : it->second;
  }
  std::string contract() const override { return kContract; }
  Status CheckAnchorTx(std::string_view tx_hash, uint64_t tree_size, const Hash& root) override {
    ++tx_checks;
    auto it = txs.find(std::string(tx_hash));
    if (it == txs.end()) return NotFound("no such transaction mined on the chain");
    if (it->second.first != tree_size || it->second.second != root) return DataLoss("it anchored something else");
    return OkStatus();
  }
  uint64_t chain_id = 31337;
  std::map<uint64_t, Hash> roots;
  std::map<std::string, std::pair<uint64_t, Hash>> txs;  // tx hash (32 bytes) -> what it anchored
  int tx_checks = 0;
};

std::string B64(const Hash& h) { return Base64Encode(HashBytes(h)); }

// A small log: leaf 0 the paddy's commissioning, leaf 1 filler, leaf 2 the milling and
// packing of the rice (two events), leaf 3 filler, leaf 4 the rice's shipping, leaves 5
// and 6 later ones. Anchored at size 5; the newest checkpoint has size 7.
class World {
 public:
  World()
      : device(Ed25519PrivateKey::Generate()),
        mill(Ed25519PrivateKey::Generate()),
        log_key(Ed25519PrivateKey::Generate()) {
    Add(device, "paddy-farm", "field-1", {Event("ObjectEvent", "commissioning", "PADDY-0701")});
    Add(device, "paddy-farm", "field-1", {Event("ObjectEvent", "sensor_reporting", "PADDY-0701")});
    Add(mill, "rice-mill", "line-1",
        {Event("TransformationEvent", "commissioning", "RICE-0703"),
         Event("AggregationEvent", "packing", "RICE-0703")});
    Add(device, "paddy-farm", "field-1", {Event("ObjectEvent", "sensor_reporting", "PADDY-0702")});
    Add(mill, "rice-mill", "line-1", {Event("ObjectEvent", "shipping", "RICE-0703")});
    Add(mill, "rice-mill", "line-1", {Event("ObjectEvent", "receiving", "RICE-0704")});
    Add(mill, "rice-mill", "line-1", {Event("ObjectEvent", "shipping", "RICE-0704")});
    chain.roots[kAnchorSize] = *tree.Root(kAnchorSize);
    chain.txs[std::string(32, '\xaa')] = {kAnchorSize, *tree.Root(kAnchorSize)};
    checkpoint = *SignCheckpoint(
        {.origin = kLogName, .tree_size = kCheckpointSize, .root = *tree.Root(kCheckpointSize)}, kLogName, log_key);
    for (size_t i = 0; i < envelopes.size(); ++i) envelope_docs[envelopes[i].id] = EnvelopeDoc(i);
    keys = {{"log", {{"name", kLogName}, {"public_key", Base64UrlEncode(log_key.public_key())}}},
            {"receipt", json::array{json::object{{"id", "receipt-00000000"}, {"public_key", "AA"}}}}};
    json::object paddy{{"gtin", kPaddyGtin},
                       {"lot", "PADDY-0701"},
                       {"link", std::string(kBase) + "/01/" + kPaddyGtin + "/10/PADDY-0701"},
                       {"events", json::array{Entry(0, 0)}},
                       {"inputs", json::array{}}};
    trace = {{"product", {{"gtin", kRiceGtin}, {"name", "Jasmine rice 5 kg"}, {"org", "rice-mill"}}},
             {"lot", "RICE-0703"},
             {"link", link},
             {"events", json::array{Entry(2, 0), Entry(2, 1), Entry(4, 0)}},
             {"inputs", json::array{paddy}},
             {"checkpoint", checkpoint}};
  }

  static json::object Event(std::string type, std::string biz_step, std::string lot) {
    return {{"type", type},
            {"action", "ADD"},
            {"bizStep", biz_step},
            {"eventTime", "2026-11-20T08:00:00.000Z"},
            {"eventTimeZoneOffset", "+07:00"},
            {"quantityList",
             json::array{json::object{
                 {"epcClass", "urn:epc:class:lgtin:950600.013436." + lot}, {"quantity", 1.5}, {"uom", "KGM"}}}}};
  }

  void Add(const Ed25519PrivateKey& key, std::string org, std::string dev, json::array events) {
    json::object e{{"v", 1},
                   {"org", org},
                   {"device", dev},
                   {"seq", static_cast<int64_t>(envelopes.size() + 1)},
                   {"sent", "2026-11-20T08:00:01.000Z"},
                   {"events", events}};
    auto env = SignEnvelope(e, key);
    ASSERT_TRUE(env) << env.error();
    envelopes.push_back(*env);
    signer_keys.push_back(key.public_key());
    tree.Append(merkle::LeafHash(env->canonical_bytes));
  }

  json::object EnvelopeDoc(size_t i) const {
    const Envelope& e = envelopes[i];
    json::object doc{{"envelope", e.json},
                     {"signer", {{"org", e.org}, {"device", e.device}, {"key", Base64UrlEncode(signer_keys[i])}}}};
    if (i >= kAnchorSize) {
      doc["proof"] = nullptr;
      doc["anchor"] = nullptr;
      return doc;
    }
    json::array hashes;
    auto proof = merkle::InclusionProof(tree, i, kAnchorSize);  // named: a range-for over *temporary dangles
    for (const auto& h : *proof) hashes.emplace_back(B64(h));
    doc["proof"] = {{"leafIndex", i}, {"treeSize", kAnchorSize}, {"hashes", hashes}};
    doc["anchor"] = {{"treeSize", kAnchorSize},
                     {"root", B64(*tree.Root(kAnchorSize))},
                     {"chainId", 31337},
                     {"contract", "0x" + HexEncode(kContract)},
                     {"tx", "0x" + std::string(64, 'a')},
                     {"block", 812}};
    return doc;
  }

  json::object Entry(size_t i, size_t index) const {
    const Envelope& e = envelopes[i];
    return {{"event", e.events[index]},
            {"envelope", e.id},
            {"index", index},
            {"signer", {{"org", e.org}, {"device", e.device}, {"key", Base64UrlEncode(signer_keys[i])}}},
            {"leaf", i},
            {"anchored", true}};
  }

  json::object ConsistencyDoc(const merkle::MemoryTree& t, uint64_t from, uint64_t to) const {
    json::array hashes;
    auto proof = merkle::ConsistencyProof(t, from, to);
    for (const auto& h : *proof) hashes.emplace_back(B64(h));
    return {{"from", from}, {"to", to}, {"hashes", hashes}};
  }

  // Puts every document where the fake server serves it.
  void Serve() {
    fetcher.bodies.clear();
    fetcher.bodies[link] = json::serialize(trace);
    fetcher.bodies[std::string(kBase) + "/api/v1/keys"] = json::serialize(keys);
    fetcher.bodies[std::string(kBase) + "/api/v1/checkpoint"] = checkpoint;
    for (const auto& [id, doc] : envelope_docs)
      fetcher.bodies[std::string(kBase) + "/api/v1/envelopes/" + id] = json::serialize(doc);
    for (uint64_t from = 1; from <= tree.size(); ++from) {
      for (uint64_t to = from; to <= tree.size(); ++to) {
        fetcher.bodies[std::string(kBase) + "/api/v1/proofs/consistency?from=" + std::to_string(from) +
                       "&to=" + std::to_string(to)] = json::serialize(ConsistencyDoc(tree, from, to));
      }
    }
  }

  Report Run() {
    Serve();
    auto report = Verify(link, fetcher, chain, options);
    EXPECT_TRUE(report) << report.error();
    return report.value_or(Report{});
  }

  json::object& TraceEntry(size_t n) { return trace["events"].as_array()[n].as_object(); }
  json::object& EnvDoc(size_t i) { return envelope_docs[envelopes[i].id]; }

  static constexpr uint64_t kAnchorSize = 5;
  static constexpr uint64_t kCheckpointSize = 7;
  Ed25519PrivateKey device, mill, log_key;
  std::vector<Envelope> envelopes;
  std::vector<std::string> signer_keys;
  merkle::MemoryTree tree;
  std::string checkpoint;
  std::map<std::string, json::object> envelope_docs;
  json::object keys, trace;
  std::string link = std::string(kBase) + "/01/" + kRiceGtin + "/10/RICE-0703";
  FakeFetcher fetcher;
  FakeChain chain;
  VerifyOptions options;
};

class VerifierTest : public ::testing::Test {
 protected:
  void SetUp() override {
    cache_ =
        (std::filesystem::temp_directory_path() / ("trace-verify-test-" + std::to_string(::getpid()) + "-" +
                                                   ::testing::UnitTest::GetInstance()->current_test_info()->name()))
            .string();
    std::filesystem::remove_all(cache_);
    w_.options.cache_dir = cache_;
  }
  void TearDown() override { std::filesystem::remove_all(cache_); }

  std::string cache_;
  World w_;
};

// All failures of the report in one text, for matching and for the assertion message.
std::string AllFailures(const Report& r) {
  std::string s;
  for (const auto& f : r.failures) s += "[global] " + f + "\n";
  for (const auto& e : r.events) {
    for (const auto& f : e.failures)
      s += "[" + e.envelope.substr(0, 8) + "#" + std::to_string(e.index) + "] " + f + "\n";
  }
  return s;
}

// The failures of the event(s) from envelope `id`.
std::string FailuresOf(const Report& r, const std::string& id) {
  std::string s;
  for (const auto& e : r.events) {
    if (e.envelope == id) {
      for (const auto& f : e.failures) s += f + "\n";
    }
  }
  return s;
}

int FailedEvents(const Report& r) {
  int n = 0;
  for (const auto& e : r.events) n += e.failures.empty() ? 0 : 1;
  return n;
}

#define EXPECT_HAS(text, needle) \
  EXPECT_NE((text).find(needle), std::string::npos) << "no \"" << (needle) << "\" in:\n" << (text)

TEST_F(VerifierTest, GoodTraceVerifies) {
  Report r = w_.Run();
  EXPECT_TRUE(r.verified()) << AllFailures(r) << FormatText(r);
  EXPECT_EQ(ExitCodeFor(r), kExitVerified);
  ASSERT_EQ(r.events.size(), 4u);  // three of the rice, one of its input
  EXPECT_EQ(r.events[0].type, "TransformationEvent");
  EXPECT_EQ(r.events[3].depth, 1);
  EXPECT_EQ(r.events[3].lot, std::string(kPaddyGtin) + "/PADDY-0701");
  EXPECT_EQ(r.checkpoint_size.value_or(0), World::kCheckpointSize);
  EXPECT_EQ(r.origin, kLogName);
  std::string text = FormatText(r);
  EXPECT_HAS(text, "✓ TransformationEvent commissioning");
  EXPECT_HAS(text, "verified (4 events)");
  auto parsed = json::parse(FormatJson(r));
  EXPECT_TRUE(parsed.at("verified").as_bool());
  EXPECT_EQ(parsed.at("events").as_array().size(), 4u);

  // The checkpoint was remembered; the second run compares against it.
  EXPECT_TRUE(std::filesystem::exists(CacheFileFor(cache_, kLogName)));
  Report again = w_.Run();
  EXPECT_TRUE(again.verified()) << AllFailures(again);
  bool compared = false;
  for (const auto& n : again.notes)
    compared |= n.find("consistent with the one of size 7 seen before") != std::string::npos;
  EXPECT_TRUE(compared);
}

TEST_F(VerifierTest, OneByteOfTheEnvelopeChanged) {
  // "2026-11-20T08:00:01.000Z" -> "...01.001Z" in the stored envelope of the shipping event.
  w_.EnvDoc(4)["envelope"].as_object()["sent"] = "2026-11-20T08:00:01.001Z";
  Report r = w_.Run();
  EXPECT_FALSE(r.verified());
  EXPECT_EQ(ExitCodeFor(r), kExitFailed);
  std::string f = FailuresOf(r, w_.envelopes[4].id);
  EXPECT_HAS(f, "envelope: its canonical bytes hash to");
  EXPECT_HAS(f, "(altered)");
  EXPECT_HAS(f, "signature: the envelope's Ed25519 signature does not verify");
  EXPECT_HAS(f, "inclusion proof");
  EXPECT_EQ(FailedEvents(r), 1) << AllFailures(r);
  EXPECT_HAS(FormatText(r), "✗ ObjectEvent shipping");
}

TEST_F(VerifierTest, EventShownDiffersFromTheSignedOne) {
  w_.TraceEntry(1)["event"].as_object()["bizStep"] = "receiving";
  Report r = w_.Run();
  EXPECT_EQ(ExitCodeFor(r), kExitFailed);
  EXPECT_HAS(FailuresOf(r, w_.envelopes[2].id), "event: the trace document's event differs from events[1]");
  EXPECT_EQ(FailedEvents(r), 1) << AllFailures(r);
}

TEST_F(VerifierTest, NumbersCompareCanonically) {
  // 1.5 written as 1.50 and members reordered: the same JSON value, so still verified.
  json::object& ev = w_.TraceEntry(0)["event"].as_object();
  json::object reordered;
  for (auto it = ev.end(); it != ev.begin();) {
    --it;
    reordered[it->key()] = it->value();
  }
  ev = reordered;
  Report r = w_.Run();
  EXPECT_TRUE(r.verified()) << AllFailures(r);
}

TEST_F(VerifierTest, WrongSignerKeyInTheEnvelopeDocument) {
  std::string other = Base64UrlEncode(Ed25519PrivateKey::Generate().public_key());
  w_.EnvDoc(4)["signer"].as_object()["key"] = other;
  w_.TraceEntry(2)["signer"].as_object()["key"] = other;  // the server lies consistently
  Report r = w_.Run();
  EXPECT_EQ(ExitCodeFor(r), kExitFailed);
  std::string f = FailuresOf(r, w_.envelopes[4].id);
  EXPECT_HAS(f, "signature: the envelope's Ed25519 signature does not verify under the signer key " + other);
}

TEST_F(VerifierTest, TraceDocumentNamesAnotherSignerKey) {
  std::string other = Base64UrlEncode(Ed25519PrivateKey::Generate().public_key());
  w_.TraceEntry(2)["signer"].as_object()["key"] = other;
  Report r = w_.Run();
  EXPECT_EQ(ExitCodeFor(r), kExitFailed);
  std::string f = FailuresOf(r, w_.envelopes[4].id);
  EXPECT_HAS(f, "signer: the trace document names rice-mill/line-1 key " + other);
  EXPECT_EQ(f.find("signature:"), std::string::npos) << f;  // the signature itself is good
}

TEST_F(VerifierTest, ProofHashFlipped) {
  json::array& hashes = w_.EnvDoc(2)["proof"].as_object()["hashes"].as_array();
  ASSERT_FALSE(hashes.empty());
  std::string raw = *Base64Decode(hashes[0].as_string());
  raw[0] = static_cast<char>(raw[0] ^ 1);
  hashes[0] = Base64Encode(raw);
  Report r = w_.Run();
  EXPECT_EQ(ExitCodeFor(r), kExitFailed);
  std::string f = FailuresOf(r, w_.envelopes[2].id);
  EXPECT_HAS(f, "inclusion proof of leaf 2 in tree size 5");
  EXPECT_EQ(FailedEvents(r), 2) << AllFailures(r);  // both events of that envelope
}

TEST_F(VerifierTest, WrongLeafIndex) {
  w_.EnvDoc(2)["proof"].as_object()["leafIndex"] = 3;
  w_.TraceEntry(0)["leaf"] = 3;
  w_.TraceEntry(1)["leaf"] = 3;
  Report r = w_.Run();
  EXPECT_EQ(ExitCodeFor(r), kExitFailed);
  EXPECT_HAS(FailuresOf(r, w_.envelopes[2].id), "inclusion proof of leaf 3 in tree size 5");

  // The trace document and the proof disagree on the leaf.
  World w2;
  w2.options.cache_dir = "";
  w2.TraceEntry(2)["leaf"] = 1;
  Report r2 = w2.Run();
  EXPECT_HAS(FailuresOf(r2, w2.envelopes[4].id), "leaf index: the trace document says 1, the proof 4");
}

TEST_F(VerifierTest, AnchorRootIsNotTheChains) {
  w_.chain.roots[World::kAnchorSize] = merkle::LeafHash("something else");
  Report r = w_.Run();
  EXPECT_EQ(ExitCodeFor(r), kExitFailed);
  EXPECT_EQ(FailedEvents(r), 4) << AllFailures(r);
  EXPECT_HAS(FailuresOf(r, w_.envelopes[4].id), "is not the chain's rootAt(5)");

  w_.chain.roots.clear();
  Report none = w_.Run();
  EXPECT_HAS(FailuresOf(none, w_.envelopes[4].id), "anchor: the chain has no root at tree size 5");

  w_.chain.roots[World::kAnchorSize] = *w_.tree.Root(World::kAnchorSize);
  w_.chain.chain_id = 1;
  Report other_chain = w_.Run();
  EXPECT_HAS(FailuresOf(other_chain, w_.envelopes[4].id), "anchor is on chain id 31337, the chain read has id 1");
}

TEST_F(VerifierTest, AnchorTransactionIsCheckedOnTheChain) {
  // The good world's transaction is looked up once, however many events share the anchor.
  Report good = w_.Run();
  EXPECT_TRUE(good.verified()) << AllFailures(good);
  EXPECT_EQ(w_.chain.tx_checks, 1);

  // A transaction hash the chain does not know (altered in the anchors table).
  w_.EnvDoc(4)["anchor"].as_object()["tx"] = "0x" + std::string(63, 'a') + "b";
  Report unknown = w_.Run();
  EXPECT_EQ(ExitCodeFor(unknown), kExitFailed);
  EXPECT_EQ(FailedEvents(unknown), 1) << AllFailures(unknown);
  EXPECT_HAS(FailuresOf(unknown, w_.envelopes[4].id),
             "anchor: tx 0x" + std::string(63, 'a') + "b: no such transaction mined on the chain");

  // A real transaction that anchored something else.
  w_.chain.txs[std::string(31, '\xaa') + "\xab"] = {3, *w_.tree.Root(3)};
  Report other = w_.Run();
  EXPECT_HAS(FailuresOf(other, w_.envelopes[4].id), "it anchored something else");

  // Not a hash at all.
  w_.EnvDoc(4)["anchor"].as_object()["tx"] = "0x1234";
  Report bad = w_.Run();
  EXPECT_HAS(FailuresOf(bad, w_.envelopes[4].id), "is not a transaction hash");
}

TEST_F(VerifierTest, CheckpointSignedByAnotherKey) {
  auto other = Ed25519PrivateKey::Generate();
  w_.checkpoint = *SignCheckpoint({.origin = kLogName, .tree_size = 7, .root = *w_.tree.Root(7)}, kLogName, other);
  Report r = w_.Run();
  EXPECT_EQ(ExitCodeFor(r), kExitFailed);
  std::string f = AllFailures(r);
  EXPECT_HAS(
      f, "checkpoint: signed by key id " + [&] {
        char b[9];
        std::snprintf(b, sizeof b, "%08x", NoteKeyId(kLogName, other.public_key()));
        return std::string(b);
      }());
  EXPECT_FALSE(std::filesystem::exists(CacheFileFor(cache_, kLogName)));  // a bad checkpoint is not remembered
}

TEST_F(VerifierTest, CheckpointRolledBackSinceLastTime) {
  Report first = w_.Run();
  ASSERT_TRUE(first.verified()) << AllFailures(first);
  // The server now shows an older (but validly signed) checkpoint.
  w_.checkpoint = *SignCheckpoint({.origin = kLogName, .tree_size = 6, .root = *w_.tree.Root(6)}, kLogName, w_.log_key);
  w_.trace["checkpoint"] = w_.checkpoint;
  Report r = w_.Run();
  EXPECT_EQ(ExitCodeFor(r), kExitFailed);
  EXPECT_HAS(AllFailures(r), "ROLLBACK: the log's checkpoint went back from tree size 7");
  EXPECT_EQ(FailedEvents(r), 0);
}

TEST_F(VerifierTest, CheckpointForkedSinceLastTime) {
  Report first = w_.Run();
  ASSERT_TRUE(first.verified()) << AllFailures(first);
  // Another history: the first 5 leaves (the anchored ones) are the same, leaf 5 differs.
  merkle::MemoryTree fork;
  for (uint64_t i = 0; i < 5; ++i) fork.Append(merkle::LeafHash(w_.envelopes[i].canonical_bytes));
  for (int i = 0; i < 3; ++i) fork.Append(merkle::LeafHash("rewritten " + std::to_string(i)));
  w_.checkpoint = *SignCheckpoint({.origin = kLogName, .tree_size = 8, .root = fork.Root()}, kLogName, w_.log_key);
  w_.trace["checkpoint"] = w_.checkpoint;
  w_.Serve();
  for (uint64_t from = 1; from <= 8; ++from) {
    w_.fetcher.bodies[std::string(kBase) + "/api/v1/proofs/consistency?from=" + std::to_string(from) + "&to=8"] =
        json::serialize(w_.ConsistencyDoc(fork, from, 8));
  }
  auto r = Verify(w_.link, w_.fetcher, w_.chain, w_.options);
  ASSERT_TRUE(r);
  EXPECT_EQ(ExitCodeFor(*r), kExitFailed);
  EXPECT_HAS(AllFailures(*r), "FORK: the checkpoint of size 8 does not extend the one of size 7");
  EXPECT_EQ(FailedEvents(*r), 0) << AllFailures(*r);  // the anchored prefix is shared
}

TEST_F(VerifierTest, LogKeyChangedSinceLastTime) {
  ASSERT_TRUE(w_.Run().verified());
  auto other = Ed25519PrivateKey::Generate();
  w_.keys["log"].as_object()["public_key"] = Base64UrlEncode(other.public_key());
  w_.checkpoint = *SignCheckpoint({.origin = kLogName, .tree_size = 7, .root = *w_.tree.Root(7)}, kLogName, other);
  w_.trace["checkpoint"] = w_.checkpoint;
  Report r = w_.Run();
  EXPECT_HAS(AllFailures(r), "LOG KEY CHANGED");
}

TEST_F(VerifierTest, LogKeyGivenOutOfBand) {
  w_.options.log_key = *FormatVerifierKey(kLogName, w_.log_key.public_key());
  Report good = w_.Run();
  EXPECT_TRUE(good.verified()) << AllFailures(good);

  // The server swaps in its own log key and signs its own checkpoint with it.
  auto other = Ed25519PrivateKey::Generate();
  w_.keys["log"].as_object()["public_key"] = Base64UrlEncode(other.public_key());
  w_.checkpoint = *SignCheckpoint({.origin = kLogName, .tree_size = 7, .root = *w_.tree.Root(7)}, kLogName, other);
  w_.options.cache_dir = "";  // not the cache: the pinned key alone catches it
  Report r = w_.Run();
  EXPECT_EQ(ExitCodeFor(r), kExitFailed);
  EXPECT_HAS(AllFailures(r), "is not the one given with --log-key");

  w_.options.log_key = "not a key";
  EXPECT_FALSE(Verify(w_.link, w_.fetcher, w_.chain, w_.options));
}

TEST_F(VerifierTest, UpstreamInputTampered) {
  json::object& paddy = w_.trace["inputs"].as_array()[0].as_object();
  paddy["events"].as_array()[0].as_object()["event"].as_object()["eventTime"] = "2026-11-21T08:00:00.000Z";
  Report r = w_.Run();
  EXPECT_EQ(ExitCodeFor(r), kExitFailed);
  ASSERT_EQ(r.events.size(), 4u);
  EXPECT_EQ(r.events[3].depth, 1);
  EXPECT_HAS(FailuresOf(r, w_.envelopes[0].id), "event: the trace document's event differs from events[0]");
  EXPECT_EQ(FailedEvents(r), 1);
  EXPECT_HAS(FormatText(r), "input lot 09506000134376/PADDY-0701");
}

TEST_F(VerifierTest, TraceOfAnotherLot) {
  w_.trace["lot"] = "RICE-0704";
  Report r = w_.Run();
  EXPECT_HAS(AllFailures(r), "trace document: it is about 09506000134369/RICE-0704, the link names");
}

TEST_F(VerifierTest, NotAnchoredYetIsNotVerified) {
  json::array& events = w_.trace["events"].as_array();
  json::object entry = w_.Entry(5, 0);
  entry["anchored"] = false;
  events.push_back(entry);
  Report r = w_.Run();
  EXPECT_EQ(ExitCodeFor(r), kExitFailed);
  EXPECT_HAS(FailuresOf(r, w_.envelopes[5].id), "not anchored yet");
}

TEST_F(VerifierTest, UnreachableIsNotAFailure) {
  w_.Serve();
  w_.fetcher.down.insert(std::string(kBase) + "/api/v1/envelopes/" + w_.envelopes[4].id);
  auto r = Verify(w_.link, w_.fetcher, w_.chain, w_.options);
  ASSERT_TRUE(r);
  EXPECT_FALSE(r->verified());
  EXPECT_FALSE(r->any_failure()) << AllFailures(*r);
  EXPECT_EQ(ExitCodeFor(*r), kExitUnavailable);
  EXPECT_HAS(FormatText(*r), "could not fetch: envelope " + w_.envelopes[4].id);

  // A failure elsewhere wins: exit 1.
  w_.chain.roots.clear();
  auto both = Verify(w_.link, w_.fetcher, w_.chain, w_.options);
  ASSERT_TRUE(both);
  EXPECT_EQ(ExitCodeFor(*both), kExitFailed);
}

TEST_F(VerifierTest, ApiBaseReplacesTheLinksHost) {
  w_.options.api_base = "http://127.0.0.1:9/";
  w_.Serve();
  std::map<std::string, std::string> moved;
  for (auto& [url, body] : w_.fetcher.bodies)
    moved["http://127.0.0.1:9" + url.substr(std::string(kBase).size())] = body;
  w_.fetcher.bodies = moved;
  auto r = Verify(w_.link, w_.fetcher, w_.chain, w_.options);
  ASSERT_TRUE(r);
  EXPECT_TRUE(r->verified()) << AllFailures(*r);

  EXPECT_FALSE(Verify("https://id.example.com/01/09506000134360/10/X", w_.fetcher, w_.chain, w_.options));
  w_.options.api_base = "ftp://x";
  EXPECT_FALSE(Verify(w_.link, w_.fetcher, w_.chain, w_.options));
}

TEST(VerifyCli, UsageErrorsExitTwo) {
  std::ostringstream out, err;
  const char* no_link[] = {"trace-verify", "--chain-rpc", "http://127.0.0.1:1", "--contract", "0x00"};
  EXPECT_EQ(RunCli(5, no_link, out, err), kExitUsage);
  const char* bad_contract[] = {"trace-verify", "https://id.example.com/01/09506000134369/10/A",
                                "--chain-rpc",  "http://127.0.0.1:1",
                                "--contract",   "0x00"};
  EXPECT_EQ(RunCli(6, bad_contract, out, err), kExitUsage);
  EXPECT_HAS(err.str(), "contract");
  const char* help[] = {"trace-verify", "--help"};
  std::ostringstream help_out;
  EXPECT_EQ(RunCli(2, help, help_out, err), 0);
  EXPECT_HAS(help_out.str(), "3  something could not be fetched");
}

}  // namespace
}  // namespace trace::verify
