#include "trace/common/merkle.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <bit>
#include <map>
#include <boost/json.hpp>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "trace/common/encoding.h"
#include "trace/common/files.h"

namespace trace::merkle {
namespace {

namespace fs = std::filesystem;

Hash FromHex(std::string_view hex) {
  auto bytes = HexDecode(hex);
  EXPECT_TRUE(bytes.has_value()) << hex;
  auto h = HashFromBytes(bytes ? *bytes : std::string());
  EXPECT_TRUE(h.has_value()) << hex;
  return h ? *h : Hash{};
}

// Leaf data of the RFC 6962 reference tree (testdata/README.md).
std::vector<std::string> ReferenceLeaves() {
  std::vector<std::string> out;
  for (const char* hex : {"", "00", "10", "2021", "3031", "40414243", "5051525354555657",
                          "606162636465666768696a6b6c6d6e6f"}) {
    out.push_back(*HexDecode(hex));
  }
  return out;
}

// Distinct leaf hashes for generated trees.
std::vector<Hash> MakeLeaves(size_t n) {
  std::vector<Hash> out;
  out.reserve(n);
  for (size_t i = 0; i < n; ++i) out.push_back(LeafHash("leaf " + std::to_string(i)));
  return out;
}

// RFC 9162 §2.1.3.1 PATH and §2.1.4.1 SUBPROOF written straight from the
// recursive definitions over a leaf list: the reference the complete-subtree
// code is checked against.
std::vector<Hash> RefPath(uint64_t m, std::span<const Hash> d) {
  if (d.size() <= 1) return {};
  const uint64_t k = std::bit_floor(d.size() - 1);
  std::vector<Hash> out;
  if (m < k) {
    out = RefPath(m, d.first(k));
    out.push_back(RootOf(d.subspan(k)));
  } else {
    out = RefPath(m - k, d.subspan(k));
    out.push_back(RootOf(d.first(k)));
  }
  return out;
}

std::vector<Hash> RefSubproof(uint64_t m, std::span<const Hash> d, bool b) {
  if (m == d.size()) {
    if (b) return {};
    return {RootOf(d)};
  }
  const uint64_t k = std::bit_floor(d.size() - 1);
  std::vector<Hash> out;
  if (m <= k) {
    out = RefSubproof(m, d.first(k), b);
    out.push_back(RootOf(d.subspan(k)));
  } else {
    out = RefSubproof(m - k, d.subspan(k), false);
    out.push_back(RootOf(d.first(k)));
  }
  return out;
}

// ---- Hashing ----

TEST(Merkle, HashesAreDomainSeparated) {
  EXPECT_EQ(HashHex(EmptyRoot()), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(RootOf({}), EmptyRoot());
  // SHA-256 of the single byte 0x00: the leaf hash of empty data.
  EXPECT_EQ(HashHex(LeafHash("")), "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d");
  const Hash a = LeafHash("a");
  const Hash b = LeafHash("b");
  EXPECT_EQ(NodeHash(a, b), Sha256({std::string_view("\x01", 1), HashBytes(a), HashBytes(b)}));
  EXPECT_NE(NodeHash(a, b), NodeHash(b, a));
}

TEST(Merkle, ReferenceTreeRootsMatchRfc6962) {
  // Roots of the first 1..8 leaves of the reference tree (RFC 6962 test tree,
  // as published with transparency-dev/merkle); the 8-leaf root is the one in
  // testdata/README.md.
  const char* kRoots[] = {
      "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
      "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
      "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
      "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
      "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
      "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
      "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
      "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
  };
  std::vector<Hash> leaves;
  MemoryTree tree;
  CompactRange range;
  for (const std::string& data : ReferenceLeaves()) {
    leaves.push_back(LeafHash(data));
    tree.Append(leaves.back());
    range.Append(leaves.back());
    const size_t n = leaves.size();
    EXPECT_EQ(HashHex(RootOf(leaves)), kRoots[n - 1]) << n;
    EXPECT_EQ(HashHex(tree.Root()), kRoots[n - 1]) << n;
    EXPECT_EQ(HashHex(range.Root()), kRoots[n - 1]) << n;
  }
  // Known proofs in the reference tree (RFC 6962 test data): leaf 5 of 8.
  auto proof = InclusionProof(tree, 5, 8);
  ASSERT_TRUE(proof.has_value()) << proof.error();
  ASSERT_EQ(proof->size(), 3u);
  EXPECT_EQ(HashHex((*proof)[0]), "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b");
  EXPECT_EQ(HashHex((*proof)[1]), "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0");
  EXPECT_EQ(HashHex((*proof)[2]), "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7");
  auto consistency = ConsistencyProof(tree, 6, 8);
  ASSERT_TRUE(consistency.has_value()) << consistency.error();
  ASSERT_EQ(consistency->size(), 3u);
  EXPECT_EQ(HashHex((*consistency)[0]), "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a");
  EXPECT_EQ(HashHex((*consistency)[1]), "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0");
  EXPECT_EQ(HashHex((*consistency)[2]), "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7");
  EXPECT_TRUE(VerifyConsistency(6, 8, FromHex(kRoots[5]), FromHex(kRoots[7]), *consistency).ok());
}

TEST(Merkle, DecomposeListsCompleteSubtreesLargestFirst) {
  EXPECT_TRUE(Decompose(0).empty());
  const std::vector<SubtreeId> want = {{3, 0}, {1, 4}, {0, 10}};  // 11 = 8 + 2 + 1
  EXPECT_EQ(Decompose(11), want);
  const std::vector<SubtreeId> pow = {{5, 0}};
  EXPECT_EQ(Decompose(32), pow);
}

// ---- External vectors (transparency-dev/merkle) ----

fs::path TestdataDir() {
  const char* dir = std::getenv("TRACE_TESTDATA");
  return dir ? fs::path(dir) : fs::path("../shared/testdata");
}

std::vector<fs::path> JsonFilesUnder(const fs::path& dir) {
  std::vector<fs::path> out;
  for (const auto& entry : fs::recursive_directory_iterator(dir)) {
    if (entry.is_regular_file() && entry.path().extension() == ".json") out.push_back(entry.path());
  }
  std::sort(out.begin(), out.end());
  return out;
}

boost::json::object ReadJson(const fs::path& path) {
  auto text = ReadFile(path.string());
  EXPECT_TRUE(text.has_value()) << path;
  boost::system::error_code ec;
  boost::json::value v = boost::json::parse(text ? *text : "{}", ec);
  EXPECT_FALSE(ec) << path << ": " << ec.message();
  EXPECT_TRUE(v.is_object()) << path;
  return v.is_object() ? v.as_object() : boost::json::object();
}

Result<Bytes> DecodeField(const boost::json::value& v) { return Base64Decode(v.as_string()); }

// A proof field (null means empty) as typed hashes. A component that is not
// 32 bytes cannot be expressed in the typed API; such a proof is refused at
// decoding, as a wire decoder refuses it.
Result<std::vector<Hash>> DecodeProof(const boost::json::value& v) {
  std::vector<Hash> out;
  if (v.is_null()) return out;
  for (const auto& item : v.as_array()) {
    auto bytes = DecodeField(item);
    if (!bytes) return Fail(bytes.error());
    auto h = HashFromBytes(*bytes);
    if (!h) return Fail(h.error());
    out.push_back(*h);
  }
  return out;
}

// Runs one inclusion case: decoding failures count as refusal.
Status RunInclusionCase(const boost::json::object& c) {
  auto leaf = DecodeField(c.at("leafHash"));
  if (!leaf) return leaf.error();
  auto leaf_hash = HashFromBytes(*leaf);
  if (!leaf_hash) return leaf_hash.error().WithContext("leafHash");
  auto root_bytes = DecodeField(c.at("root"));
  if (!root_bytes) return root_bytes.error();
  auto root = HashFromBytes(*root_bytes);
  if (!root) return root.error().WithContext("root");
  auto proof = DecodeProof(c.at("proof"));
  if (!proof) return proof.error().WithContext("proof");
  return VerifyInclusion(*leaf_hash, c.at("leafIdx").to_number<uint64_t>(), c.at("treeSize").to_number<uint64_t>(),
                         *proof, *root);
}

// The consistency cases of `additional/` use 12-byte placeholder roots ("don't
// care 1", "don't care 2") where only their equality matters (equal sizes). The
// typed API needs 32 bytes, so a root of another length is mapped to its
// SHA-256: equal placeholders stay equal, different ones stay different, and
// none equals a real root.
Result<Hash> DecodeRoot(const boost::json::value& v) {
  auto bytes = DecodeField(v);
  if (!bytes) return Fail(bytes.error());
  if (bytes->size() == 32) return HashFromBytes(*bytes);
  return Sha256(*bytes);
}

Status RunConsistencyCase(const boost::json::object& c) {
  auto root1 = DecodeRoot(c.at("root1"));
  if (!root1) return root1.error().WithContext("root1");
  auto root2 = DecodeRoot(c.at("root2"));
  if (!root2) return root2.error().WithContext("root2");
  auto proof = DecodeProof(c.at("proof"));
  if (!proof) return proof.error().WithContext("proof");
  return VerifyConsistency(c.at("size1").to_number<uint64_t>(), c.at("size2").to_number<uint64_t>(), *root1,
                           *root2, *proof);
}

TEST(Merkle, InclusionProofMatchesRfc9162Vectors) {
  const auto files = JsonFilesUnder(TestdataDir() / "merkle" / "inclusion");
  int good = 0;
  int bad = 0;
  for (const fs::path& file : files) {
    const boost::json::object c = ReadJson(file);
    const bool want_err = c.at("wantErr").as_bool();
    const Status s = RunInclusionCase(c);
    if (want_err) {
      EXPECT_FALSE(s.ok()) << file << " (" << c.at("desc").as_string() << ") verified but should not";
      ++bad;
    } else {
      EXPECT_TRUE(s.ok()) << file << ": " << s;
      ++good;
    }
  }
  EXPECT_EQ(files.size(), 98u);
  EXPECT_EQ(good, 6);
  EXPECT_EQ(good + bad, 98);
}

TEST(Merkle, ConsistencyProofMatchesRfc9162Vectors) {
  const auto files = JsonFilesUnder(TestdataDir() / "merkle" / "consistency");
  int good = 0;
  int bad = 0;
  for (const fs::path& file : files) {
    const boost::json::object c = ReadJson(file);
    const bool want_err = c.at("wantErr").as_bool();
    const Status s = RunConsistencyCase(c);
    if (want_err) {
      EXPECT_FALSE(s.ok()) << file << " (" << c.at("desc").as_string() << ") verified but should not";
      ++bad;
    } else {
      EXPECT_TRUE(s.ok()) << file << ": " << s;
      ++good;
    }
  }
  EXPECT_EQ(files.size(), 98u);
  EXPECT_EQ(good, 6);
  EXPECT_EQ(good + bad, 98);
}

// The happy-path vectors were made from real trees: our generator must produce
// exactly those proofs for the reference tree.
TEST(Merkle, GeneratedProofsEqualHappyPathVectors) {
  MemoryTree tree;
  for (const std::string& data : ReferenceLeaves()) tree.Append(LeafHash(data));
  int checked = 0;
  for (const char* kind : {"inclusion", "consistency"}) {
    for (const fs::path& file : JsonFilesUnder(TestdataDir() / "merkle" / kind)) {
      if (file.filename() != "happy-path.json") continue;
      const boost::json::object c = ReadJson(file);
      auto want = DecodeProof(c.at("proof"));
      ASSERT_TRUE(want.has_value()) << file;
      Result<std::vector<Hash>> got;
      if (std::string_view(kind) == "inclusion") {
        const uint64_t size = c.at("treeSize").to_number<uint64_t>();
        const uint64_t index = c.at("leafIdx").to_number<uint64_t>();
        EXPECT_EQ(HashBytes(*tree.SubtreeHash({0, index})), *DecodeField(c.at("leafHash"))) << file;
        got = InclusionProof(tree, index, size);
        EXPECT_EQ(HashBytes(*tree.Root(size)), *DecodeField(c.at("root"))) << file;
      } else {
        const uint64_t size2 = c.at("size2").to_number<uint64_t>();
        got = ConsistencyProof(tree, c.at("size1").to_number<uint64_t>(), size2);
        EXPECT_EQ(HashBytes(*tree.Root(size2)), *DecodeField(c.at("root2"))) << file;
      }
      ASSERT_TRUE(got.has_value()) << file << ": " << got.error();
      EXPECT_EQ(*got, *want) << file;
      ++checked;
    }
  }
  EXPECT_EQ(checked, 10);
}

// ---- Generated proofs ----

TEST(Merkle, ProofsMatchRecursiveDefinition) {
  const std::vector<Hash> leaves = MakeLeaves(70);
  MemoryTree tree;
  for (const Hash& h : leaves) tree.Append(h);
  for (uint64_t n = 1; n <= leaves.size(); ++n) {
    std::span<const Hash> d(leaves.data(), n);
    for (uint64_t m = 0; m < n; ++m) {
      auto proof = InclusionProof(tree, m, n);
      ASSERT_TRUE(proof.has_value()) << proof.error();
      EXPECT_EQ(*proof, RefPath(m, d)) << m << " of " << n;
    }
    for (uint64_t m = 1; m <= n; ++m) {
      auto proof = ConsistencyProof(tree, m, n);
      ASSERT_TRUE(proof.has_value()) << proof.error();
      EXPECT_EQ(*proof, RefSubproof(m, d, true)) << m << " -> " << n;
    }
  }
}

Hash FlipBit(Hash h, size_t bit) {
  h[bit / 8 % 32] ^= static_cast<uint8_t>(1u << (bit % 8));
  return h;
}

TEST(Merkle, EveryInclusionProofVerifiesAndTamperingFails) {
  constexpr uint64_t kMax = 300;
  MemoryTree tree;
  for (const Hash& h : MakeLeaves(kMax + 1)) tree.Append(h);
  uint64_t proofs = 0;
  for (uint64_t n = 1; n <= kMax; ++n) {
    const Hash root = *tree.Root(n);
    ASSERT_EQ(root, RootOf(std::vector<Hash>(MakeLeaves(n)))) << n;
    for (uint64_t m = 0; m < n; ++m) {
      const Hash leaf = *tree.SubtreeHash({0, m});
      auto proof = InclusionProof(tree, m, n);
      ASSERT_TRUE(proof.has_value()) << proof.error();
      ASSERT_TRUE(VerifyInclusion(leaf, m, n, *proof, root).ok()) << m << " of " << n;
      ++proofs;
      // Tampering: every proof hash with a flipped bit, wrong index and size,
      // wrong leaf and root, a component added or removed.
      for (size_t i = 0; i < proof->size(); ++i) {
        std::vector<Hash> bad = *proof;
        bad[i] = FlipBit(bad[i], (m * 7 + i * 13) % 256);
        EXPECT_FALSE(VerifyInclusion(leaf, m, n, bad, root).ok()) << m << " of " << n << " flip " << i;
      }
      if (m + 1 < n) {
        EXPECT_FALSE(VerifyInclusion(leaf, m + 1, n, *proof, root).ok());
      }
      if (m > 0) {
        EXPECT_FALSE(VerifyInclusion(leaf, m - 1, n, *proof, root).ok());
      }
      // A proof pins the tree size only through its shape, so a neighbouring
      // size is checked against that size's own root: it must fail.
      EXPECT_FALSE(VerifyInclusion(leaf, m, n + 1, *proof, *tree.Root(n + 1)).ok()) << m << " of " << n;
      if (n > m + 1) {
        EXPECT_FALSE(VerifyInclusion(leaf, m, n - 1, *proof, *tree.Root(n - 1)).ok()) << m << " of " << n;
      }
      EXPECT_FALSE(VerifyInclusion(FlipBit(leaf, m % 256), m, n, *proof, root).ok());
      EXPECT_FALSE(VerifyInclusion(leaf, m, n, *proof, FlipBit(root, n % 256)).ok());
      std::vector<Hash> longer = *proof;
      longer.push_back(root);
      EXPECT_FALSE(VerifyInclusion(leaf, m, n, longer, root).ok());
      if (!proof->empty()) {
        std::vector<Hash> shorter(proof->begin(), proof->end() - 1);
        EXPECT_FALSE(VerifyInclusion(leaf, m, n, shorter, root).ok());
      }
    }
  }
  EXPECT_EQ(proofs, kMax * (kMax + 1) / 2);
}

TEST(Merkle, EveryConsistencyProofVerifiesAndTamperingFails) {
  constexpr uint64_t kMax = 300;
  MemoryTree tree;
  for (const Hash& h : MakeLeaves(kMax)) tree.Append(h);
  std::vector<Hash> roots(kMax + 1);
  for (uint64_t n = 1; n <= kMax; ++n) roots[n] = *tree.Root(n);
  uint64_t proofs = 0;
  for (uint64_t n = 1; n <= kMax; ++n) {
    for (uint64_t m = 1; m <= n; ++m) {
      auto proof = ConsistencyProof(tree, m, n);
      ASSERT_TRUE(proof.has_value()) << proof.error();
      ASSERT_TRUE(VerifyConsistency(m, n, roots[m], roots[n], *proof).ok()) << m << " -> " << n;
      ++proofs;
      if (m == n) {
        EXPECT_TRUE(proof->empty());
        EXPECT_FALSE(VerifyConsistency(m, n, roots[m], FlipBit(roots[n], 3), *proof).ok());
        continue;
      }
      for (size_t i = 0; i < proof->size(); ++i) {
        std::vector<Hash> bad = *proof;
        bad[i] = FlipBit(bad[i], (m * 5 + n + i * 11) % 256);
        EXPECT_FALSE(VerifyConsistency(m, n, roots[m], roots[n], bad).ok()) << m << " -> " << n << " flip " << i;
      }
      // Wrong sizes (with the roots of the sizes claimed, so only the proof
      // shape is wrong), wrong and swapped roots, garbage around the proof.
      if (m > 1) {
        EXPECT_FALSE(VerifyConsistency(m - 1, n, roots[m - 1], roots[n], *proof).ok()) << m << "->" << n;
      }
      if (m + 1 < n) {
        EXPECT_FALSE(VerifyConsistency(m + 1, n, roots[m + 1], roots[n], *proof).ok()) << m << "->" << n;
      }
      if (n + 1 <= kMax) {
        EXPECT_FALSE(VerifyConsistency(m, n + 1, roots[m], roots[n + 1], *proof).ok());
      }
      if (n - 1 > m) {
        EXPECT_FALSE(VerifyConsistency(m, n - 1, roots[m], roots[n - 1], *proof).ok());
      }
      EXPECT_FALSE(VerifyConsistency(m, n, roots[n], roots[m], *proof).ok());
      EXPECT_FALSE(VerifyConsistency(m, n, FlipBit(roots[m], 1), roots[n], *proof).ok());
      EXPECT_FALSE(VerifyConsistency(m, n, roots[m], FlipBit(roots[n], 2), *proof).ok());
      std::vector<Hash> longer = *proof;
      longer.push_back(roots[m]);
      EXPECT_FALSE(VerifyConsistency(m, n, roots[m], roots[n], longer).ok());
      std::vector<Hash> preceded = *proof;
      preceded.insert(preceded.begin(), roots[m]);
      EXPECT_FALSE(VerifyConsistency(m, n, roots[m], roots[n], preceded).ok());
      std::vector<Hash> shorter(proof->begin(), proof->end() - 1);
      EXPECT_FALSE(VerifyConsistency(m, n, roots[m], roots[n], shorter).ok());
    }
  }
  EXPECT_EQ(proofs, kMax * (kMax + 1) / 2);
}

TEST(Merkle, ArgumentsOutOfRangeAreRefused) {
  MemoryTree tree;
  for (const Hash& h : MakeLeaves(5)) tree.Append(h);
  const Hash root = tree.Root();
  EXPECT_EQ(InclusionProof(tree, 5, 5).error().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(InclusionProof(tree, 0, 0).error().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(ConsistencyProof(tree, 0, 5).error().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(ConsistencyProof(tree, 4, 3).error().code(), StatusCode::kInvalidArgument);
  // Beyond the stored tree: the reader's NotFound, with context.
  auto beyond = InclusionProof(tree, 0, 9);
  ASSERT_FALSE(beyond.has_value());
  EXPECT_EQ(beyond.error().code(), StatusCode::kNotFound);
  EXPECT_NE(beyond.error().message().find("inclusion proof of leaf 0 in tree size 9"), std::string::npos)
      << beyond.error();
  EXPECT_EQ(tree.Root(6).error().code(), StatusCode::kNotFound);
  EXPECT_EQ(VerifyInclusion(root, 0, 0, {}, root).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(VerifyConsistency(0, 0, EmptyRoot(), EmptyRoot(), {}).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(VerifyConsistency(0, 5, EmptyRoot(), root, {}).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(VerifyConsistency(5, 4, root, root, {}).code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(VerifyConsistency(5, 5, root, root, {}).ok());
  const Hash extra[] = {root};
  EXPECT_EQ(VerifyConsistency(5, 5, root, root, extra).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(HashFromBytes("short").error().code(), StatusCode::kInvalidArgument);
}

// A reader that counts what it is asked for and can be told to fail.
class CountingReader : public HashReader {
 public:
  explicit CountingReader(const HashReader& inner) : inner_(inner) {}
  Result<Hash> SubtreeHash(const SubtreeId& id) const override {
    ++single_reads_;
    if (fail_) return Fail(Unavailable("database down"));
    return inner_.SubtreeHash(id);
  }
  Result<std::vector<Hash>> SubtreeHashes(std::span<const SubtreeId> ids) const override {
    ++batches_;
    batch_ids_ += ids.size();
    return HashReader::SubtreeHashes(ids);
  }
  const HashReader& inner_;
  bool fail_ = false;
  mutable int single_reads_ = 0;
  mutable int batches_ = 0;
  mutable size_t batch_ids_ = 0;
};

TEST(Merkle, ProofsReadLogarithmicallyManySubtreesInOneBatch) {
  MemoryTree tree;
  for (const Hash& h : MakeLeaves(1000)) tree.Append(h);
  for (uint64_t n : std::vector<uint64_t>{1, 2, 7, 255, 256, 257, 999, 1000}) {
    for (uint64_t m : std::vector<uint64_t>{0, n / 3, n / 2, n - 1}) {
      CountingReader reader(tree);
      ASSERT_TRUE(InclusionProof(reader, m, n).has_value());
      EXPECT_EQ(reader.batches_, 1);
      // The path has at most ceil(log2 n) components; the one incomplete
      // sibling range adds at most log2 n more reads.
      EXPECT_LE(reader.batch_ids_, 2 * std::bit_width(n)) << m << " of " << n;
      if (m == 0) continue;
      CountingReader creader(tree);
      ASSERT_TRUE(ConsistencyProof(creader, m, n).has_value());
      EXPECT_EQ(creader.batches_, 1);
      EXPECT_LE(creader.batch_ids_, 2 * std::bit_width(n)) << m << " -> " << n;
    }
  }
  CountingReader reader(tree);
  reader.fail_ = true;
  auto proof = InclusionProof(reader, 3, 100);
  ASSERT_FALSE(proof.has_value());
  EXPECT_EQ(proof.error().code(), StatusCode::kUnavailable);
  EXPECT_NE(proof.error().message().find("database down"), std::string::npos);
  EXPECT_EQ(RootHash(reader, 100).error().code(), StatusCode::kUnavailable);
  EXPECT_EQ(ConsistencyProof(reader, 3, 100).error().code(), StatusCode::kUnavailable);
}

// ---- CompactRange ----

TEST(Merkle, CompactRangeRootEqualsMemoryTreeForEverySize) {
  MemoryTree tree;
  CompactRange range;
  EXPECT_EQ(range.Root(), EmptyRoot());
  // The store the contract describes: every subtree Append returns.
  std::map<SubtreeId, Hash> store;
  for (const Hash& h : MakeLeaves(1000)) {
    tree.Append(h);
    for (const Subtree& s : range.Append(h)) {
      EXPECT_TRUE(store.emplace(s.id, s.hash).second) << "subtree returned twice";
      EXPECT_EQ(*tree.SubtreeHash(s.id), s.hash);
    }
    ASSERT_EQ(range.size(), tree.size());
    ASSERT_EQ(range.Root(), tree.Root()) << tree.size();
    EXPECT_EQ(range.hashes().size(), Decompose(range.size()).size());
  }
  // Every complete subtree of the 1000-leaf tree was returned exactly once:
  // 1000 leaves + 500 + 250 + 125 + 62 + 31 + 15 + 7 + 3 + 1.
  EXPECT_EQ(store.size(), 1994u);
}

TEST(Merkle, CompactRangeLoadsFromStoreAndContinues) {
  MemoryTree tree;
  const std::vector<Hash> leaves = MakeLeaves(300);
  for (size_t i = 0; i < 200; ++i) tree.Append(leaves[i]);
  for (uint64_t size : std::vector<uint64_t>{0, 1, 64, 127, 200}) {
    auto range = CompactRange::Load(tree, size);
    ASSERT_TRUE(range.has_value()) << range.error();
    EXPECT_EQ(range->Root(), *tree.Root(size));
    MemoryTree copy;
    for (size_t i = 0; i < size; ++i) copy.Append(leaves[i]);
    for (size_t i = size; i < 300; ++i) {
      range->Append(leaves[i]);
      copy.Append(leaves[i]);
    }
    EXPECT_EQ(range->Root(), copy.Root()) << size;
  }
  EXPECT_EQ(CompactRange::Load(tree, 201).error().code(), StatusCode::kNotFound);
  EXPECT_EQ(CompactRange::FromHashes(3, {EmptyRoot()}).error().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace trace::merkle
