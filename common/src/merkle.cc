#include "trace/common/merkle.h"

#include <algorithm>
#include <bit>
#include <cstring>
#include <string>
#include <utility>

namespace trace::merkle {
namespace {

std::string_view View(const Hash& h) {
  return {reinterpret_cast<const char*>(h.data()), h.size()};
}

// The largest power of two strictly below n (n >= 2): RFC 9162's split point k.
uint64_t SplitPoint(uint64_t n) { return std::bit_floor(n - 1); }

std::string IdText(const SubtreeId& id) {
  return "subtree (level " + std::to_string(id.level) + ", index " + std::to_string(id.index) + ")";
}

// A leaf range [begin, end) whose hash (MTH of those leaves) is one proof component.
struct Range {
  uint64_t begin;
  uint64_t end;
};

// Appends the complete subtrees that make up [begin, end), left to right. The
// ranges the RFC recursion produces start at a multiple of the largest power of
// two not above their length, so the greedy split is always aligned.
Status AppendRangeIds(const Range& r, std::vector<SubtreeId>& out) {
  uint64_t pos = r.begin;
  const uint64_t len = r.end - r.begin;
  for (int bit = 63; bit >= 0; --bit) {
    const uint64_t width = uint64_t{1} << bit;
    if ((len & width) == 0) continue;
    if (pos % width != 0) {
      return Internal("merkle: range [" + std::to_string(r.begin) + ", " + std::to_string(r.end) +
                      ") is not aligned to complete subtrees");
    }
    out.push_back({static_cast<uint64_t>(bit), pos >> bit});
    pos += width;
  }
  return OkStatus();
}

// MTH of a range from its complete subtrees, given left to right: the largest
// (leftmost) subtree is the left child of the root, the rest folds likewise.
Hash FoldRight(std::span<const Hash> parts) {
  Hash acc = parts.back();
  for (size_t i = parts.size() - 1; i-- > 0;) acc = NodeHash(parts[i], acc);
  return acc;
}

// Reads every complete subtree the ranges need in one batch and folds each
// range into its hash.
Result<std::vector<Hash>> ResolveRanges(const HashReader& reader, const std::vector<Range>& ranges) {
  std::vector<SubtreeId> ids;
  std::vector<size_t> counts;
  counts.reserve(ranges.size());
  for (const Range& r : ranges) {
    const size_t before = ids.size();
    if (Status s = AppendRangeIds(r, ids); !s.ok()) return Fail(s);
    counts.push_back(ids.size() - before);
  }
  auto hashes = reader.SubtreeHashes(ids);
  if (!hashes) return Fail(hashes.error());
  if (hashes->size() != ids.size()) {
    return Fail(Internal("merkle: reader returned " + std::to_string(hashes->size()) + " hashes for " +
                         std::to_string(ids.size()) + " subtrees"));
  }
  std::vector<Hash> out;
  out.reserve(ranges.size());
  size_t at = 0;
  for (size_t count : counts) {
    out.push_back(FoldRight(std::span<const Hash>(*hashes).subspan(at, count)));
    at += count;
  }
  return out;
}

Hash RootOfRange(std::span<const Hash> leaves) {
  if (leaves.size() == 1) return leaves[0];
  const uint64_t k = SplitPoint(leaves.size());
  return NodeHash(RootOfRange(leaves.first(k)), RootOfRange(leaves.subspan(k)));
}

// The number of hashes in the inclusion proof of `index` in a tree of `size`:
// the levels below the point where the paths to `index` and `size - 1` part
// ("inner"), plus one left sibling per set bit above it ("border").
struct ProofShape {
  uint64_t inner;
  uint64_t border;
};
ProofShape InclusionShape(uint64_t index, uint64_t size) {
  const uint64_t inner = std::bit_width(index ^ (size - 1));
  const uint64_t border = std::popcount(index >> inner);
  return {inner, border};
}

}  // namespace

Hash LeafHash(std::string_view data) { return Sha256({std::string_view("\x00", 1), data}); }

Hash NodeHash(const Hash& left, const Hash& right) {
  return Sha256({std::string_view("\x01", 1), View(left), View(right)});
}

Hash EmptyRoot() { return Sha256(std::string_view()); }

Hash RootOf(std::span<const Hash> leaf_hashes) {
  if (leaf_hashes.empty()) return EmptyRoot();
  return RootOfRange(leaf_hashes);
}

std::vector<SubtreeId> Decompose(uint64_t size) {
  std::vector<SubtreeId> ids;
  uint64_t pos = 0;
  for (int bit = 63; bit >= 0; --bit) {
    const uint64_t width = uint64_t{1} << bit;
    if ((size & width) == 0) continue;
    ids.push_back({static_cast<uint64_t>(bit), pos >> bit});
    pos += width;
  }
  return ids;
}

Result<std::vector<Hash>> HashReader::SubtreeHashes(std::span<const SubtreeId> ids) const {
  std::vector<Hash> out;
  out.reserve(ids.size());
  for (const SubtreeId& id : ids) {
    auto h = SubtreeHash(id);
    if (!h) return Fail(h.error().WithContext(IdText(id)));
    out.push_back(*h);
  }
  return out;
}

Result<Hash> RootHash(const HashReader& reader, uint64_t tree_size) {
  if (tree_size == 0) return EmptyRoot();
  auto parts = ResolveRanges(reader, {Range{0, tree_size}});
  if (!parts) return Fail(parts.error().WithContext("root of tree size " + std::to_string(tree_size)));
  return (*parts)[0];
}

Result<std::vector<Hash>> InclusionProof(const HashReader& reader, uint64_t leaf_index,
                                         uint64_t tree_size) {
  if (leaf_index >= tree_size) {
    return Fail(InvalidArgument("inclusion proof: leaf index " + std::to_string(leaf_index) +
                                " is not below tree size " + std::to_string(tree_size)));
  }
  // RFC 9162 §2.1.3.1 PATH(m, D[n]), unrolled: walk down from the root towards
  // the leaf, collecting the sibling range at each level, then list them
  // bottom-up.
  std::vector<Range> ranges;
  Range cur{0, tree_size};
  while (cur.end - cur.begin > 1) {
    const uint64_t mid = cur.begin + SplitPoint(cur.end - cur.begin);
    if (leaf_index < mid) {
      ranges.push_back({mid, cur.end});
      cur.end = mid;
    } else {
      ranges.push_back({cur.begin, mid});
      cur.begin = mid;
    }
  }
  std::reverse(ranges.begin(), ranges.end());
  auto proof = ResolveRanges(reader, ranges);
  if (!proof) {
    return Fail(proof.error().WithContext("inclusion proof of leaf " + std::to_string(leaf_index) +
                                          " in tree size " + std::to_string(tree_size)));
  }
  return proof;
}

Result<std::vector<Hash>> ConsistencyProof(const HashReader& reader, uint64_t old_size,
                                           uint64_t new_size) {
  const std::string what =
      "consistency proof " + std::to_string(old_size) + " -> " + std::to_string(new_size);
  if (old_size == 0) return Fail(InvalidArgument(what + ": a proof from the empty tree is meaningless"));
  if (old_size > new_size) return Fail(InvalidArgument(what + ": old size exceeds new size"));
  // RFC 9162 §2.1.4.1 SUBPROOF(m, D[n], b), unrolled. `complete` is b: true
  // while the current subtree is one the verifier knows the root of.
  std::vector<Range> ranges;
  Range cur{0, new_size};
  bool complete = true;
  while (true) {
    if (old_size == cur.end) {
      if (!complete) ranges.push_back(cur);
      break;
    }
    const uint64_t mid = cur.begin + SplitPoint(cur.end - cur.begin);
    if (old_size <= mid) {
      ranges.push_back({mid, cur.end});
      cur.end = mid;
    } else {
      ranges.push_back({cur.begin, mid});
      cur.begin = mid;
      complete = false;
    }
  }
  std::reverse(ranges.begin(), ranges.end());
  auto proof = ResolveRanges(reader, ranges);
  if (!proof) return Fail(proof.error().WithContext(what));
  return proof;
}

Status VerifyInclusion(const Hash& leaf_hash, uint64_t leaf_index, uint64_t tree_size,
                       std::span<const Hash> proof, const Hash& root) {
  const std::string what =
      "inclusion proof of leaf " + std::to_string(leaf_index) + " in tree size " + std::to_string(tree_size);
  if (leaf_index >= tree_size) return InvalidArgument(what + ": leaf index not below tree size");
  const ProofShape shape = InclusionShape(leaf_index, tree_size);
  if (proof.size() != shape.inner + shape.border) {
    return InvalidArgument(what + ": has " + std::to_string(proof.size()) + " hashes, the tree shape needs " +
                           std::to_string(shape.inner + shape.border));
  }
  // RFC 9162 §2.1.3.2, step by step.
  uint64_t fn = leaf_index;
  uint64_t sn = tree_size - 1;
  Hash r = leaf_hash;
  for (const Hash& p : proof) {
    if (sn == 0) return InvalidArgument(what + ": proof longer than the path to the root");
    if ((fn & 1) != 0 || fn == sn) {
      r = NodeHash(p, r);
      while ((fn & 1) == 0 && fn != 0) {
        fn >>= 1;
        sn >>= 1;
      }
    } else {
      r = NodeHash(r, p);
    }
    fn >>= 1;
    sn >>= 1;
  }
  if (sn != 0) return InvalidArgument(what + ": proof shorter than the path to the root");
  if (r != root) return DataLoss(what + ": computed root " + HashHex(r) + " is not " + HashHex(root));
  return OkStatus();
}

Status VerifyConsistency(uint64_t old_size, uint64_t new_size, const Hash& old_root,
                         const Hash& new_root, std::span<const Hash> proof) {
  const std::string what =
      "consistency proof " + std::to_string(old_size) + " -> " + std::to_string(new_size);
  if (old_size > new_size) return InvalidArgument(what + ": old size exceeds new size");
  if (old_size == 0) return InvalidArgument(what + ": a proof from the empty tree is meaningless");
  if (old_size == new_size) {
    if (!proof.empty()) return InvalidArgument(what + ": equal sizes need an empty proof");
    if (old_root != new_root) return DataLoss(what + ": equal sizes but different roots");
    return OkStatus();
  }
  // Expected length: the inclusion path of leaf old_size - 1 in the new tree,
  // minus the levels inside the largest complete subtree ending at old_size,
  // whose root is sent first unless it is the whole old tree.
  const ProofShape shape = InclusionShape(old_size - 1, new_size);
  const uint64_t shift = std::countr_zero(old_size);
  const bool old_is_power_of_two = std::has_single_bit(old_size);
  const uint64_t want = (old_is_power_of_two ? 0 : 1) + (shape.inner - shift) + shape.border;
  if (proof.size() != want) {
    return InvalidArgument(what + ": has " + std::to_string(proof.size()) + " hashes, the tree shapes need " +
                           std::to_string(want));
  }
  // RFC 9162 §2.1.4.2, step by step. Step 2 prepends old_root to the path when
  // old_size is a power of two; `path` reads through that without copying.
  const size_t path_size = proof.size() + (old_is_power_of_two ? 1 : 0);
  auto path = [&](size_t i) -> const Hash& {
    if (old_is_power_of_two) return i == 0 ? old_root : proof[i - 1];
    return proof[i];
  };
  uint64_t fn = old_size - 1;
  uint64_t sn = new_size - 1;
  while ((fn & 1) != 0) {
    fn >>= 1;
    sn >>= 1;
  }
  Hash fr = path(0);
  Hash sr = path(0);
  for (size_t i = 1; i < path_size; ++i) {
    const Hash& c = path(i);
    if (sn == 0) return InvalidArgument(what + ": proof longer than the path to the root");
    if ((fn & 1) != 0 || fn == sn) {
      fr = NodeHash(c, fr);
      sr = NodeHash(c, sr);
      while ((fn & 1) == 0 && fn != 0) {
        fn >>= 1;
        sn >>= 1;
      }
    } else {
      sr = NodeHash(sr, c);
    }
    fn >>= 1;
    sn >>= 1;
  }
  if (sn != 0) return InvalidArgument(what + ": proof shorter than the path to the root");
  if (fr != old_root) return DataLoss(what + ": computed old root " + HashHex(fr) + " is not " + HashHex(old_root));
  if (sr != new_root) return DataLoss(what + ": computed new root " + HashHex(sr) + " is not " + HashHex(new_root));
  return OkStatus();
}

Result<Hash> HashFromBytes(std::string_view bytes) {
  Hash h{};
  if (bytes.size() != h.size()) {
    return Fail(InvalidArgument("hash: " + std::to_string(bytes.size()) + " bytes, want 32"));
  }
  std::memcpy(h.data(), bytes.data(), h.size());
  return h;
}

// ---- MemoryTree ----

uint64_t MemoryTree::Append(const Hash& leaf_hash) {
  if (levels_.empty()) levels_.emplace_back();
  const uint64_t index = levels_[0].size();
  levels_[0].push_back(leaf_hash);
  // Each odd index at a level completes a pair whose parent is now fixed.
  uint64_t i = index;
  for (size_t level = 0; (i & 1) == 1; ++level, i >>= 1) {
    if (levels_.size() == level + 1) levels_.emplace_back();
    const std::vector<Hash>& row = levels_[level];
    levels_[level + 1].push_back(NodeHash(row[i - 1], row[i]));
  }
  return index;
}

Result<Hash> MemoryTree::SubtreeHash(const SubtreeId& id) const {
  if (id.level < levels_.size() && id.index < levels_[id.level].size()) return levels_[id.level][id.index];
  // The id itself is added as context by SubtreeHashes, the path proofs take.
  return Fail(NotFound("not complete in a tree of size " + std::to_string(size())));
}

Result<Hash> MemoryTree::Root(uint64_t tree_size) const {
  if (tree_size > size()) {
    return Fail(NotFound("root of tree size " + std::to_string(tree_size) + ": the tree has only " +
                         std::to_string(size()) + " leaves"));
  }
  return RootHash(*this, tree_size);
}

Hash MemoryTree::Root() const {
  auto root = Root(size());
  // Every subtree of Decompose(size()) is stored, so this cannot fail.
  return root ? *root : Hash{};
}

// ---- CompactRange ----

Result<CompactRange> CompactRange::FromHashes(uint64_t size, std::vector<Hash> hashes) {
  const size_t want = std::popcount(size);
  if (hashes.size() != want) {
    return Fail(InvalidArgument("compact range of size " + std::to_string(size) + ": " +
                                std::to_string(hashes.size()) + " hashes, want " + std::to_string(want)));
  }
  CompactRange range;
  range.size_ = size;
  range.hashes_ = std::move(hashes);
  return range;
}

Result<CompactRange> CompactRange::Load(const HashReader& reader, uint64_t size) {
  const std::vector<SubtreeId> ids = Decompose(size);
  auto hashes = reader.SubtreeHashes(ids);
  if (!hashes) return Fail(hashes.error().WithContext("loading compact range of size " + std::to_string(size)));
  return FromHashes(size, std::move(*hashes));
}

std::vector<Subtree> CompactRange::Append(const Hash& leaf_hash) {
  std::vector<Subtree> created;
  created.push_back({{0, size_}, leaf_hash});
  Hash cur = leaf_hash;
  uint64_t index = size_;
  uint64_t level = 0;
  // The trailing one bits of size_ are the smallest subtrees, held last in
  // hashes_; each merges with the new right neighbour into its parent.
  while ((index & 1) == 1) {
    cur = NodeHash(hashes_.back(), cur);
    hashes_.pop_back();
    index >>= 1;
    ++level;
    created.push_back({{level, index}, cur});
  }
  hashes_.push_back(cur);
  ++size_;
  return created;
}

Hash CompactRange::Root() const {
  if (hashes_.empty()) return EmptyRoot();
  return FoldRight(hashes_);
}

}  // namespace trace::merkle
