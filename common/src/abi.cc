#include "trace/common/abi.h"

#include "trace/common/keccak.h"

namespace trace {

std::string FunctionSelector(std::string_view signature) { return Keccak256(signature).substr(0, 4); }
std::string EventTopic(std::string_view signature) { return Keccak256(signature); }

std::string AbiWord(uint64_t value) {
  std::string w(32, '\0');
  for (int i = 0; i < 8; ++i) w[31 - i] = static_cast<char>(value >> (8 * i));
  return w;
}

Result<uint64_t> AbiWordToUint64(std::string_view word) {
  if (word.size() != 32) return Fail(InvalidArgument("abi: word is not 32 bytes"));
  if (word.substr(0, 24).find_first_not_of('\0') != std::string_view::npos) {
    return Fail(InvalidArgument("abi: uint64 word has non-zero high bytes"));
  }
  uint64_t v = 0;
  for (size_t i = 24; i < 32; ++i) v = (v << 8) | static_cast<uint8_t>(word[i]);
  return v;
}

Result<std::string> AbiWordToAddress(std::string_view word) {
  if (word.size() != 32) return Fail(InvalidArgument("abi: word is not 32 bytes"));
  if (word.substr(0, 12).find_first_not_of('\0') != std::string_view::npos) {
    return Fail(InvalidArgument("abi: address word has non-zero high bytes"));
  }
  return std::string(word.substr(12));
}

std::string EncodeAnchorCall(uint64_t tree_size, std::string_view root) {
  std::string r(root.substr(0, 32));
  r.resize(32, '\0');
  return FunctionSelector("anchor(uint64,bytes32)") + AbiWord(tree_size) + r;
}

std::string EncodeRootAtCall(uint64_t tree_size) { return FunctionSelector("rootAt(uint64)") + AbiWord(tree_size); }

std::string EncodeLatestCall() { return FunctionSelector("latest()"); }

Result<std::string> DecodeRootAtResult(std::string_view data) {
  if (data.size() != 32) return Fail(InvalidArgument("abi: rootAt result is not 32 bytes"));
  return std::string(data);
}

Result<AnchoredRoot> DecodeLatestResult(std::string_view data) {
  if (data.size() != 64) return Fail(InvalidArgument("abi: latest result is not 64 bytes"));
  auto size = AbiWordToUint64(data.substr(0, 32));
  if (!size) return Fail(size.error());
  return AnchoredRoot{*size, std::string(data.substr(32, 32))};
}

std::string AnchoredEventTopic() { return EventTopic("Anchored(uint64,bytes32,address)"); }

Result<AnchoredEvent> DecodeAnchoredEvent(const std::vector<std::string>& topics, std::string_view data) {
  if (topics.size() != 3 || topics[0] != AnchoredEventTopic()) {
    return Fail(InvalidArgument("abi: not an Anchored event"));
  }
  if (data.size() != 32) return Fail(InvalidArgument("abi: Anchored data is not 32 bytes"));
  auto size = AbiWordToUint64(topics[1]);
  if (!size) return Fail(size.error());
  auto anchorer = AbiWordToAddress(topics[2]);
  if (!anchorer) return Fail(anchorer.error());
  return AnchoredEvent{*size, std::string(data), *anchorer};
}

Result<std::string> DecodeRevertReason(std::string_view data) {
  // Error(string): selector, offset word (0x20), length word, padded bytes.
  if (data.size() < 4 + 64 || data.substr(0, 4) != FunctionSelector("Error(string)")) {
    return Fail(InvalidArgument("abi: not an Error(string) revert"));
  }
  auto offset = AbiWordToUint64(data.substr(4, 32));
  auto length = AbiWordToUint64(data.substr(36, 32));
  if (!offset || !length || *offset != 32 || *length > data.size() - 68) {
    return Fail(InvalidArgument("abi: malformed Error(string)"));
  }
  return std::string(data.substr(68, *length));
}

}  // namespace trace
