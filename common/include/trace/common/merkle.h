// RFC 9162 (Certificate Transparency 2.0) Merkle tree hashing, proofs and their
// verification, for the one append-only log of the platform.
//
// Hashing: a leaf hash is SHA-256(0x00 || data), an interior node is
// SHA-256(0x01 || left || right), the root of the empty tree is SHA-256("").
//
// Storage model. A *complete subtree* (level L, index i) covers the leaves
// [i * 2^L, (i + 1) * 2^L); level 0 holds the leaf hashes. Every complete
// subtree's hash is fixed once its last leaf exists, so a log can store each
// one exactly once (CompactRange::Append says which ones an append produced)
// and answer any root or proof from them: the hash of a tree of any size, and
// so every proof component, is a fold of O(log n) complete subtrees. The proof
// functions below ask a HashReader for complete subtrees only, in one batch,
// which lets a database-backed log serve a proof with one query.
//
// Example:
//   trace::merkle::MemoryTree tree;
//   for (const auto& record : records) tree.Append(trace::merkle::LeafHash(record));
//   auto proof = trace::merkle::InclusionProof(tree, 3, tree.size());
//   auto root = trace::merkle::RootHash(tree, tree.size());
//   trace::Status ok = trace::merkle::VerifyInclusion(
//       trace::merkle::LeafHash(records[3]), 3, tree.size(), *proof, *root);
#pragma once

#include <compare>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "trace/common/sha256.h"
#include "trace/common/status.h"

namespace trace::merkle {

// SHA-256(0x00 || data).
Hash LeafHash(std::string_view data);
// SHA-256(0x01 || left || right).
Hash NodeHash(const Hash& left, const Hash& right);
// SHA-256 of the empty string: the root of the tree with no leaves.
Hash EmptyRoot();

// MTH(D[n]) of RFC 9162 §2.1.1 for the leaves whose hashes are `leaf_hashes`
// (recomputes everything; O(n)). Meant for small trees and tests.
Hash RootOf(std::span<const Hash> leaf_hashes);

// The complete subtree at `level` covering leaves [index << level, (index + 1) << level).
struct SubtreeId {
  uint64_t level = 0;
  uint64_t index = 0;

  uint64_t first_leaf() const { return index << level; }
  uint64_t end_leaf() const { return (index + 1) << level; }
  friend auto operator<=>(const SubtreeId&, const SubtreeId&) = default;
};

// A complete subtree and its hash.
struct Subtree {
  SubtreeId id;
  Hash hash{};
  friend bool operator==(const Subtree&, const Subtree&) = default;
};

// The complete subtrees that make up the leaf range [0, size): one per set bit
// of `size`, largest (leftmost) first. Empty for size 0. This is also what a
// CompactRange of that size holds.
std::vector<SubtreeId> Decompose(uint64_t size);

// Where proofs get their hashes. Implementations: MemoryTree below; the anchor
// service's PostgreSQL table of subtrees.
class HashReader {
 public:
  virtual ~HashReader() = default;

  // The hash of one complete subtree. Returns NotFound when that subtree is not
  // complete (yet) in this log, or another error (Unavailable, DataLoss) when it
  // cannot be read. Must be safe to call concurrently if the reader is shared
  // between threads.
  virtual Result<Hash> SubtreeHash(const SubtreeId& id) const = 0;

  // The hashes of `ids`, in the same order. The default calls SubtreeHash once
  // per id; a database reader overrides it to fetch all of them in one query.
  // Fails (without partial results) if any id fails.
  virtual Result<std::vector<Hash>> SubtreeHashes(std::span<const SubtreeId> ids) const;
};

// The root hash of the tree of the first `tree_size` leaves (EmptyRoot() for 0),
// from at most popcount(tree_size) complete subtrees. Errors from `reader` are
// returned with context (NotFound if the log is shorter than `tree_size`).
Result<Hash> RootHash(const HashReader& reader, uint64_t tree_size);

// The RFC 9162 §2.1.3.1 inclusion proof (audit path) of leaf `leaf_index` in the
// tree of size `tree_size`, bottom-up, as VerifyInclusion takes it. Reads
// O(log n) complete subtrees. InvalidArgument if leaf_index >= tree_size.
Result<std::vector<Hash>> InclusionProof(const HashReader& reader, uint64_t leaf_index,
                                         uint64_t tree_size);

// The RFC 9162 §2.1.4.1 consistency proof between the trees of sizes `old_size`
// and `new_size`, as VerifyConsistency takes it. Empty when the sizes are equal.
// InvalidArgument unless 0 < old_size <= new_size (a proof from the empty tree is
// meaningless, and the verifier refuses it). Reads O(log n) complete subtrees.
Result<std::vector<Hash>> ConsistencyProof(const HashReader& reader, uint64_t old_size,
                                           uint64_t new_size);

// Checks an inclusion proof per RFC 9162 §2.1.3.2: `proof` must lead from
// `leaf_hash` at `leaf_index` to `root` of the tree of size `tree_size`, with
// exactly the number of components that tree shape needs. Returns OK, or
// InvalidArgument for impossible arguments (leaf_index >= tree_size, a proof of
// the wrong length) and DataLoss when the hashes do not lead to `root`.
Status VerifyInclusion(const Hash& leaf_hash, uint64_t leaf_index, uint64_t tree_size,
                       std::span<const Hash> proof, const Hash& root);

// Checks a consistency proof per RFC 9162 §2.1.4.2: the tree of size `old_size`
// with root `old_root` is a prefix of the tree of size `new_size` with root
// `new_root`. Equal sizes need an empty proof and equal roots. Returns
// InvalidArgument when old_size is 0 or greater than new_size, or the proof has
// the wrong length, and DataLoss when the hashes do not match the roots.
Status VerifyConsistency(uint64_t old_size, uint64_t new_size, const Hash& old_root,
                         const Hash& new_root, std::span<const Hash> proof);

// Decodes one hash from its raw bytes (as carried in a base64 JSON field).
// InvalidArgument unless exactly 32 bytes.
Result<Hash> HashFromBytes(std::string_view bytes);

// An append-only tree in memory that keeps every level: level 0 is the leaf
// hashes, level L + 1 the parents of complete pairs at level L. Serves proofs as
// a HashReader and is the reference the other code is tested against. Not
// thread-safe for writes; concurrent reads without writes are fine.
class MemoryTree : public HashReader {
 public:
  MemoryTree() = default;

  // Appends one leaf hash; returns its index.
  uint64_t Append(const Hash& leaf_hash);
  uint64_t size() const { return levels_.empty() ? 0 : levels_[0].size(); }

  Result<Hash> SubtreeHash(const SubtreeId& id) const override;

  // RootHash(*this, tree_size), for convenience. tree_size must be <= size().
  Result<Hash> Root(uint64_t tree_size) const;
  Hash Root() const;

 private:
  std::vector<std::vector<Hash>> levels_;
};

// A compact range (the log's "frontier"): the complete subtrees of the leaf
// range [0, size) -- see Decompose -- which is all it takes to append leaves and
// compute the root, O(log n) hashes in memory.
//
// Contract with the store: every complete subtree of the log becomes complete
// in exactly one Append, and that Append returns it. A store that keeps every
// Subtree ever returned therefore holds all complete subtrees of the log, which
// is what RootHash, InclusionProof and ConsistencyProof need. After a restart,
// Load rebuilds the range from such a store.
//
// Not thread-safe.
class CompactRange {
 public:
  CompactRange() = default;

  // Rebuilds the range of size `size` from the complete subtrees it consists
  // of (Decompose(size)), read from `reader` in one batch.
  static Result<CompactRange> Load(const HashReader& reader, uint64_t size);
  // Rebuilds the range from its subtrees given in Decompose(size) order.
  // InvalidArgument if the count does not match.
  static Result<CompactRange> FromHashes(uint64_t size, std::vector<Hash> hashes);

  // Appends leaf number size() with hash `leaf_hash`. Returns the complete
  // subtrees this append created, lowest level first: the leaf itself (level 0)
  // then each parent it completed, up to the largest.
  std::vector<Subtree> Append(const Hash& leaf_hash);

  uint64_t size() const { return size_; }
  // The root hash of the tree of size(): EmptyRoot() for an empty range.
  Hash Root() const;
  // The subtree hashes, in Decompose(size()) order.
  const std::vector<Hash>& hashes() const { return hashes_; }

 private:
  uint64_t size_ = 0;
  std::vector<Hash> hashes_;  // Decompose(size_) order: largest subtree first
};

}  // namespace trace::merkle
