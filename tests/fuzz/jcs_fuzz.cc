// Canonical JSON (trace/common/jcs.h): the strict parser on arbitrary bytes, and
// for every text it accepts, RFC 8785 canonicalization with its properties:
//   - what ParseJsonStrict accepts, Canonicalize can represent (no error);
//   - the canonical bytes parse again and canonicalize to themselves (identity);
//   - CanonicalizeText gives the same bytes in one call.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_support.h"
#include "trace/common/jcs.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using trace::fuzz::Require;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto value = trace::ParseJsonStrict(text);
  auto direct = trace::CanonicalizeText(text);
  Require(value.has_value() == direct.has_value(), "CanonicalizeText and ParseJsonStrict disagree on acceptance");
  if (!value) return 0;
  auto canonical = trace::Canonicalize(*value);
  Require(canonical.has_value(), "Canonicalize refused a value ParseJsonStrict accepted");
  Require(*canonical == *direct, "CanonicalizeText differs from ParseJsonStrict + Canonicalize");
  auto again = trace::CanonicalizeText(*canonical);
  Require(again.has_value(), "canonical output does not parse back");
  Require(*again == *canonical, "canonicalizing the canonical output changed it");
  return 0;
}
