// EPCIS identifiers for the trace index: GS1 EPC URNs (Tag Data Standard) and
// GS1 Digital Link URIs, reduced to the keys the index stores (GTIN-14 plus lot
// or serial; GLN plus extension).
//
// EPC URN rules (TDS 2.x, pure identity forms):
//   urn:epc:id:sgtin:{CompanyPrefix}.{ItemRef}.{Serial}    an instance
//   urn:epc:class:lgtin:{CompanyPrefix}.{ItemRef}.{Lot}    a lot of a product class
//   urn:epc:idpat:sgtin:{CompanyPrefix}.{ItemRef}.*        every instance of a GTIN
//   urn:epc:id:sgln:{CompanyPrefix}.{LocationRef}.{Ext}    a location; Ext "0" = none
// CompanyPrefix and ItemRef are digits, 6..12 and 13 together (a GTIN-14 without
// its check digit); the GTIN-14's indicator digit is the first digit of ItemRef:
//   GTIN-14 = ItemRef[0] + CompanyPrefix + ItemRef[1..] + check digit.
// The company prefix length is whatever the URN says; converting back needs it,
// since a GTIN alone does not tell where the prefix ends. Serial, lot and
// extension may contain %XX escapes (TDS escapes " % & / < > ?), which are
// decoded; the decoded value must be 1..20 characters of set 82. The "urn:epc:"
// prefix is matched in lowercase only, as every EPCIS document writes it.
//
// Example:
//   auto key = trace::gs1::ProductKeyFromEpc("urn:epc:id:sgtin:0614141.107346.2018");
//   // key->gtin == "10614141073464", *key->serial == "2018"
//
// All functions are pure and thread-safe.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "trace/common/status.h"

namespace trace::gs1 {

// What the trace index stores for a product identifier. Neither lot nor serial
// means the whole GTIN (an idpat, or a Digital Link with only /01/).
struct ProductKey {
  std::string gtin;  // GTIN-14
  std::optional<std::string> lot;
  std::optional<std::string> serial;

  friend bool operator==(const ProductKey&, const ProductKey&) = default;
};

// Accepts an SGTIN, LGTIN or SGTIN-pattern URN, or an http(s) product Digital
// Link URI with any host (https://id.gs1.org/01/09521234543213/21/1234). A
// Digital Link with both lot and serial keeps both. InvalidArgument with the
// input in the context on failure (unknown scheme, bad digits, bad check digit
// in a Digital Link, bad value, ...).
Result<ProductKey> ProductKeyFromEpc(std::string_view epc_or_class);

// A GLN with its optional extension (AI 254).
struct Location {
  std::string gln;  // 13 digits
  std::optional<std::string> extension;

  friend bool operator==(const Location&, const Location&) = default;
};

// Accepts an SGLN URN or an http(s) Digital Link /414/{gln}[/254/{ext}].
Result<Location> LocationFromEpc(std::string_view epc);

// The URNs back from keys, for exports and EPCIS queries. `company_prefix_length`
// is 6..12. The serial or lot is escaped as TDS requires. InvalidArgument if the
// key is invalid or lacks the serial (Sgtin) or lot (Lgtin).
Result<std::string> SgtinUrn(const ProductKey& key, int company_prefix_length);
Result<std::string> LgtinUrn(const ProductKey& key, int company_prefix_length);
Result<std::string> SglnUrn(const Location& location, int company_prefix_length);

// An SSCC (AI 00: 18 digits, extension digit + company prefix + serial
// reference + check digit) as urn:epc:id:sscc:{prefix}.{extension}{serial ref}.
// InvalidArgument for a wrong length, a non-digit or a bad check digit.
Result<std::string> SsccUrn(std::string_view sscc, int company_prefix_length);
// A party GLN (13 digits with check digit) as urn:epc:id:pgln:{prefix}.{party ref}.
Result<std::string> PglnUrn(std::string_view gln, int company_prefix_length);

}  // namespace trace::gs1
