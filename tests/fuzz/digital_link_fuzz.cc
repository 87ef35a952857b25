// GS1 Digital Link parsing (trace/common/digital_link.h, gs1.h, epc.h): the
// same bytes as a request path, an absolute URI, a path segment, a GTIN, a
// value of every known AI and an EPC URN, with these properties:
//   - a link that parses is valid (ValidateDigitalLink), and its formatted form
//     (FormatDigitalLink) parses back to the same link;
//   - a segment that decodes encodes (PercentEncodeValue) into one that decodes
//     to the same bytes;
//   - a normalized GTIN is 14 digits with a valid check digit;
//   - an SGTIN / LGTIN product key formats into a URN that reads back to it.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_support.h"
#include "trace/common/digital_link.h"
#include "trace/common/epc.h"
#include "trace/common/gs1.h"

namespace {

using trace::fuzz::Require;
namespace gs1 = trace::gs1;

void CheckLinkRoundTrip(const gs1::DigitalLink& link, bool with_base) {
  Require(gs1::ValidateDigitalLink(link).ok(), "a parsed Digital Link does not validate");
  if (with_base) {
    const std::string uri = gs1::FormatDigitalLink("https://id.example.com", link);
    auto again = gs1::ParseDigitalLinkUri(uri);
    Require(again.has_value() && *again == link, "a formatted Digital Link URI parses to another link");
  } else {
    const std::string path = gs1::FormatDigitalLink("", link);
    auto again = gs1::ParseDigitalLinkPath(path);
    Require(again.has_value() && *again == link, "a formatted Digital Link path parses to another link");
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);

  if (auto elements = gs1::ParseDigitalLinkElements(text)) {
    Require(text.starts_with(elements->prefix), "the Digital Link prefix is not a prefix of the path");
  }
  if (auto link = gs1::ParseDigitalLinkPath(text)) {
    Require(link->attributes.empty(), "a path gave query attributes");
    CheckLinkRoundTrip(*link, false);
  }
  if (auto link = gs1::ParseDigitalLinkUri(text)) CheckLinkRoundTrip(*link, true);

  if (auto decoded = gs1::PercentDecodeSegment(text)) {
    auto again = gs1::PercentDecodeSegment(gs1::PercentEncodeValue(*decoded));
    Require(again.has_value() && *again == *decoded, "PercentEncodeValue output does not decode back");
  }

  if (auto gtin = gs1::NormalizeGtin(text)) {
    Require(gtin->size() == 14 && gs1::HasValidCheckDigit(*gtin), "NormalizeGtin returned an invalid GTIN-14");
  }
  for (const auto& ai : gs1::KnownAis()) (void)gs1::ValidateAiValue(ai.ai, text);

  if (auto key = gs1::ProductKeyFromEpc(text)) {
    Require(gs1::NormalizeGtin(key->gtin).value_or("") == key->gtin, "a product key's GTIN is not a GTIN-14");
    if (key->serial && !key->lot) {
      auto urn = gs1::SgtinUrn(*key, 7);
      Require(urn.has_value(), "SgtinUrn refused a parsed key");
      auto again = gs1::ProductKeyFromEpc(*urn);
      Require(again.has_value() && *again == *key, "an SGTIN URN reads back to another key");
    }
    if (key->lot && !key->serial) {
      auto urn = gs1::LgtinUrn(*key, 7);
      Require(urn.has_value(), "LgtinUrn refused a parsed key");
      auto again = gs1::ProductKeyFromEpc(*urn);
      Require(again.has_value() && *again == *key, "an LGTIN URN reads back to another key");
    }
  }
  (void)gs1::LocationFromEpc(text);
  return 0;
}
