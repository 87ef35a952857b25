// Checkpoint parsing (trace/common/checkpoint.h): checkpoint bodies, signed
// notes and verifier keys from arbitrary bytes, with these properties:
//   - a body ParseCheckpointBody accepts formats back to exactly its bytes (one
//     spelling per checkpoint: the root's base64 and the size's decimal are
//     canonical);
//   - a note VerifyNote opens under the seeds' log key returns a text that is a
//     prefix of the note and that VerifyCheckpointNote agrees with;
//   - a verifier key that parses formats into a key text that parses to the same key.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_support.h"
#include "trace/common/checkpoint.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using trace::fuzz::Require;
  const std::string_view text(reinterpret_cast<const char*>(data), size);

  if (auto body = trace::ParseCheckpointBody(text)) {
    Require(trace::FormatCheckpointBody(*body) == text, "a parsed checkpoint body formats differently");
  }

  const std::string& public_key = trace::fuzz::LogKey().public_key();
  auto opened = trace::VerifyNote(text, trace::fuzz::kLogName, public_key);
  if (opened) Require(text.starts_with(*opened), "VerifyNote returned text that does not begin the note");
  auto checkpoint = trace::VerifyCheckpointNote(text, trace::fuzz::kLogName, public_key);
  if (checkpoint) {
    Require(opened.has_value(), "VerifyCheckpointNote accepted a note VerifyNote refused");
    Require(trace::FormatCheckpointBody(*checkpoint) == *opened, "the verified checkpoint is not the note's text");
  }

  if (auto key = trace::ParseVerifierKey(text)) {
    auto formatted = trace::FormatVerifierKey(key->name, key->public_key);
    Require(formatted.has_value(), "FormatVerifierKey refused a parsed key");
    auto again = trace::ParseVerifierKey(*formatted);
    Require(again.has_value() && *again == *key, "a formatted verifier key parses to another key");
  }
  return 0;
}
