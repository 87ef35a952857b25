// Micro-benchmarks of the code on the hot paths (bench/run.sh prints them beside the rows they
// explain): RFC 8785 canonical JSON, envelope parse + check as the gateway does it (strict
// parse, shape check, EPCIS rules for every event, Ed25519 verify), and the anchor's
// transaction encoding (RLP + Keccak-256). Envelopes are the simulator's load envelopes
// (firmware-sim/src/load.h) with 1 and 100 sensor readings, signed with a fresh key.
#include <benchmark/benchmark.h>

#include <boost/json.hpp>
#include <chrono>
#include <string>

#include "device_state.h"
#include "load.h"
#include "trace/common/ed25519.h"
#include "trace/common/envelope.h"
#include "trace/common/epcis.h"
#include "trace/common/eth_tx.h"
#include "trace/common/jcs.h"
#include "trace/common/keccak.h"
#include "trace/common/rlp.h"

namespace {

struct Signed {
  trace::Ed25519PrivateKey key = trace::Ed25519PrivateKey::Generate();
  std::string bytes;  // canonical bytes, as a device publishes them
};

const Signed& LoadEnvelope(int readings) {
  static auto make = [](int n) {
    Signed s;
    const auto now = std::chrono::system_clock::now();
    auto object = trace::devicesim::UnsignedEnvelope("bench", "dev-1", 1, now,
                                                     trace::devicesim::LoadEvents(0, 1, n, now));
    auto env = trace::SignEnvelope(std::move(object), s.key);
    if (!env) std::abort();
    s.bytes = env->canonical_bytes;
    return s;
  };
  static const Signed one = make(1), hundred = make(100);
  return readings == 1 ? one : hundred;
}

void BM_CanonicalizeEnvelope(benchmark::State& state) {
  const std::string& bytes = LoadEnvelope(static_cast<int>(state.range(0))).bytes;
  for (auto _ : state) {
    auto out = trace::CanonicalizeText(bytes);
    if (!out) state.SkipWithError("canonicalize failed");
    benchmark::DoNotOptimize(out);
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(bytes.size()));
}
BENCHMARK(BM_CanonicalizeEnvelope)->Arg(1)->Arg(100);

// What the gateway's check costs per envelope, without the database: parse, shape, EPCIS
// rules, signature.
void BM_EnvelopeParseCheckVerify(benchmark::State& state) {
  const Signed& s = LoadEnvelope(static_cast<int>(state.range(0)));
  const std::string public_key = s.key.public_key();
  for (auto _ : state) {
    auto env = trace::ParseEnvelope(s.bytes);
    if (!env) state.SkipWithError("parse failed");
    for (const auto& event : env->events) {
      if (!trace::epcis::ValidateEvent(event).ok()) state.SkipWithError("event invalid");
    }
    if (!trace::VerifyEnvelopeSignature(*env, public_key)) state.SkipWithError("bad signature");
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_EnvelopeParseCheckVerify)->Arg(1)->Arg(100);

// The same without the signature: the share of the check that is ours.
void BM_EnvelopeParseCheck(benchmark::State& state) {
  const Signed& s = LoadEnvelope(static_cast<int>(state.range(0)));
  for (auto _ : state) {
    auto env = trace::ParseEnvelope(s.bytes);
    if (!env) state.SkipWithError("parse failed");
    for (const auto& event : env->events) {
      if (!trace::epcis::ValidateEvent(event).ok()) state.SkipWithError("event invalid");
    }
    benchmark::DoNotOptimize(env);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_EnvelopeParseCheck)->Arg(1)->Arg(100);

void BM_Keccak256_64Bytes(benchmark::State& state) {
  std::string input(64, 'k');
  for (auto _ : state) {
    std::string h = trace::Keccak256(input);
    input[0] = h[0];
    benchmark::DoNotOptimize(h);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_Keccak256_64Bytes);

// RLP encoding + Keccak-256 of an anchoring transaction (EIP-1559, anchor(treeSize, root) call).
void BM_AnchorTxSigningHash(benchmark::State& state) {
  trace::Eip1559Tx tx;
  tx.chain_id = 31337;
  tx.nonce = 12345;
  tx.max_priority_fee_per_gas = trace::Uint256(1'000'000'000);
  tx.max_fee_per_gas = trace::Uint256(30'000'000'000ULL);
  tx.gas_limit = 100'000;
  tx.to = std::string(20, '\x42');
  tx.data = std::string(4 + 32 + 32, '\x07');
  for (auto _ : state) {
    benchmark::DoNotOptimize(trace::SigningHash(tx));
    ++tx.nonce;
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_AnchorTxSigningHash);

}  // namespace

BENCHMARK_MAIN();
