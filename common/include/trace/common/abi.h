// Solidity ABI encoding for the TraceAnchor contract (PROTOCOL.md §6): its three calls,
// their results and the Anchored event. All byte strings here are raw (not hex).
//
//   event Anchored(uint64 indexed treeSize, bytes32 root, address indexed anchorer);
//   function anchor(uint64 treeSize, bytes32 root) external;
//   function rootAt(uint64 treeSize) external view returns (bytes32);
//   function latest() external view returns (uint64 treeSize, bytes32 root);
//
// Decoders are strict: wrong lengths, a uint64 or address word with non-zero high bytes,
// or the wrong event topic give InvalidArgument.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "trace/common/status.h"

namespace trace {

// The first 4 bytes of keccak256(signature), e.g. FunctionSelector("latest()").
std::string FunctionSelector(std::string_view signature);
// keccak256(signature): an event's topic 0.
std::string EventTopic(std::string_view signature);

// 32-byte words.
std::string AbiWord(uint64_t value);
Result<uint64_t> AbiWordToUint64(std::string_view word32);
Result<std::string> AbiWordToAddress(std::string_view word32);  // 20 bytes

// Call data. `root` must be 32 bytes (anything else is a caller bug: it is padded or cut).
std::string EncodeAnchorCall(uint64_t tree_size, std::string_view root);
std::string EncodeRootAtCall(uint64_t tree_size);
std::string EncodeLatestCall();

// rootAt's result: 32 bytes (all zero when nothing was anchored at that size).
Result<std::string> DecodeRootAtResult(std::string_view data);

struct AnchoredRoot {
  uint64_t tree_size = 0;
  std::string root;  // 32 bytes
  friend bool operator==(const AnchoredRoot&, const AnchoredRoot&) = default;
};
// latest()'s result: (0, zero root) before the first anchor.
Result<AnchoredRoot> DecodeLatestResult(std::string_view data);

// topic 0 of Anchored(uint64,bytes32,address).
std::string AnchoredEventTopic();

struct AnchoredEvent {
  uint64_t tree_size = 0;
  std::string root;      // 32 bytes
  std::string anchorer;  // 20 bytes
};
// Decodes a log's topics (each 32 raw bytes) and data; InvalidArgument when it is not an
// Anchored event.
Result<AnchoredEvent> DecodeAnchoredEvent(const std::vector<std::string>& topics, std::string_view data);

// The reason string of revert data encoded as Error(string), or InvalidArgument when the
// data is something else (a custom error, empty).
Result<std::string> DecodeRevertReason(std::string_view data);

}  // namespace trace
