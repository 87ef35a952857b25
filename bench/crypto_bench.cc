// One-core crypto rates that the whole-system figures are divided by
// (bench/ingest.sh, row P1): Ed25519 verify of an envelope-sized message, and
// for context Ed25519 sign (receipts). Single-threaded by design: "one core".
#include <benchmark/benchmark.h>

#include <string>

#include "trace/common/ed25519.h"

namespace {

// About the canonical bytes of a 1-event load envelope.
const std::string kMessage(600, 'x');

void BM_Ed25519Verify(benchmark::State& state) {
  auto key = trace::Ed25519PrivateKey::Generate();
  const std::string sig = key.Sign(kMessage);
  for (auto _ : state) {
    benchmark::DoNotOptimize(trace::Ed25519Verify(key.public_key(), kMessage, sig));
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_Ed25519Verify);

void BM_Ed25519Sign(benchmark::State& state) {
  auto key = trace::Ed25519PrivateKey::Generate();
  for (auto _ : state) benchmark::DoNotOptimize(key.Sign(kMessage));
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_Ed25519Sign);

}  // namespace

BENCHMARK_MAIN();
