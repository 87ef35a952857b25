// The Merkle core (common/merkle.h) on 1,000,000 leaves, beside the machine's SHA-256
// rate on 65-byte inputs (what an interior node hashes: 0x01 || left || right).
// bench/anchor.sh runs it next to bench/merkle.js (merkletreejs) on the same leaves
// ("leaf-0", "leaf-1", ...) and prints the ratios against the targets.
#include <benchmark/benchmark.h>

#include <string>
#include <vector>

#include "trace/common/encoding.h"
#include "trace/common/merkle.h"
#include "trace/common/sha256.h"

namespace {

constexpr uint64_t kLeaves = 1'000'000;

const std::vector<std::string>& Data() {
  static const std::vector<std::string> data = [] {
    std::vector<std::string> d;
    d.reserve(kLeaves);
    for (uint64_t i = 0; i < kLeaves; ++i) d.push_back("leaf-" + std::to_string(i));
    return d;
  }();
  return data;
}

void BM_Sha256_65Bytes(benchmark::State& state) {
  std::string input(65, '\x01');
  for (auto _ : state) {
    trace::Hash h = trace::Sha256(input);
    benchmark::DoNotOptimize(h);
    input[1] = static_cast<char>(h[0]);
  }
  state.SetBytesProcessed(state.iterations() * 65);
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_Sha256_65Bytes);

// Leaf hashing + append of 1M leaves + the root: the work of building the log.
void BM_MerkleBuild1M(benchmark::State& state) {
  const auto& data = Data();
  for (auto _ : state) {
    trace::merkle::MemoryTree tree;
    for (const auto& d : data) tree.Append(trace::merkle::LeafHash(d));
    trace::Hash root = tree.Root();
    benchmark::DoNotOptimize(root);
    state.counters["root_prefix"] = root[0];
  }
  state.SetItemsProcessed(state.iterations() * kLeaves);
}
BENCHMARK(BM_MerkleBuild1M)->Unit(benchmark::kMillisecond)->Iterations(3);

// Inclusion proof + verification on the 1M tree.
void BM_InclusionProof1M(benchmark::State& state) {
  static trace::merkle::MemoryTree* tree = [] {
    auto* t = new trace::merkle::MemoryTree();
    for (const auto& d : Data()) t->Append(trace::merkle::LeafHash(d));
    return t;
  }();
  static const trace::Hash root = tree->Root();
  uint64_t i = 0;
  for (auto _ : state) {
    uint64_t index = (i++ * 7919) % kLeaves;
    auto proof = trace::merkle::InclusionProof(*tree, index, kLeaves);
    auto ok = trace::merkle::VerifyInclusion(trace::merkle::LeafHash(Data()[index]), index, kLeaves, *proof, root);
    if (!ok.ok()) state.SkipWithError("proof does not verify");
  }
  state.SetLabel("root " + trace::HexEncode(trace::HashBytes(root)));
}
BENCHMARK(BM_InclusionProof1M)->Unit(benchmark::kMicrosecond);

}  // namespace

BENCHMARK_MAIN();
