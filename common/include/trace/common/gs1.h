// GS1 identifiers: the mod-10 check digit, GTIN and GLN keys, the AI encodable
// character set 82 used by lots and serials, and the small table of Application
// Identifiers (AIs) the platform understands (PROTOCOL.md §1).
//
// The AI table is compiled in, not read from GS1's Barcode Syntax Dictionary at
// run time; gs1_test.cc checks every entry against the dictionary in
// shared/testdata/gs1 so the two cannot drift apart silently.
//
// Example:
//   auto gtin = trace::gs1::NormalizeGtin("4006381333931");   // "04006381333931"
//   if (!gtin) return trace::Fail(gtin.error().WithContext("product"));
//   if (auto s = trace::gs1::ValidateLot(lot); !s.ok()) return trace::Fail(s);
//
// All functions are pure and thread-safe.
#pragma once

#include <span>
#include <string>
#include <string_view>

#include "trace/common/status.h"

namespace trace::gs1 {

// The GS1 mod-10 check digit ('0'..'9') of `digits`, which holds the data digits
// WITHOUT the check digit (weights 3,1,3,... from the right). InvalidArgument
// if `digits` is empty or holds a non-digit.
Result<char> CheckDigit(std::string_view digits);

// True if `digits` is all digits, at least 2 long, and its last digit is the
// check digit of the others.
bool HasValidCheckDigit(std::string_view digits);

// Accepts a GTIN-8, -12, -13 or -14 (digits only, valid check digit) and returns
// the GTIN-14, left-padded with '0'. InvalidArgument names the failed rule, e.g.
// "GTIN: length 11, want 8, 12, 13 or 14 digits", "GTIN: '4x..' position 2 is
// not a digit", "GTIN check digit: expected 9, got 3".
Result<std::string> NormalizeGtin(std::string_view gtin);

// A GLN (AI 414): exactly 13 digits with a valid check digit. InvalidArgument
// names the failed rule, like NormalizeGtin.
Status ValidateGln(std::string_view gln);

// True if `c` belongs to GS1 AI encodable character set 82:
//   ! " % & ' ( ) * + , - . / 0-9 : ; < = > ? A-Z _ a-z
bool IsCset82(char c);

// A batch/lot (AI 10) or serial number (AI 21): 1 to 20 characters of set 82.
// InvalidArgument says "lot: empty", "lot: 21 characters, at most 20" or
// "lot: character ' ' (0x20) at position 4 is not in GS1 character set 82"
// (positions count from 1, bytes; a UTF-8 'é' is reported as its first byte).
Status ValidateLot(std::string_view lot);
Status ValidateSerial(std::string_view serial);

// How the value of an AI is written (GS1 Barcode Syntax Dictionary terms).
enum class AiCharset {
  kNumeric,  // "N": digits
  kCset82,   // "X": GS1 AI encodable character set 82
};

// Content checks beyond charset and length ("linters" in the dictionary).
enum class AiLinter {
  kNone,
  kCheckDigit,   // "csum": last digit is the GS1 mod-10 check digit
  kDateYymmdd0,  // "yymmd0": YYMMDD, day 00 allowed (means the end of the month)
};

// One Application Identifier we use. All string_views point at static storage.
struct AiInfo {
  std::string_view ai;       // "01"
  std::string_view title;    // "GTIN", as in the dictionary
  AiCharset charset;
  int min_length;            // equal to max_length for fixed-length AIs
  int max_length;
  AiLinter linter;
  bool predefined_length;    // dictionary flag '*': no FNC1 separator needed
  bool dl_data_attribute;    // dictionary flag '?': may appear in a Digital Link query
  // Digital Link primary key: "" if the AI is not one, otherwise the dictionary's
  // qualifier sequences, e.g. "22,10,21|235" for 01, "254|7040" for 414, and
  // "-" for a primary key that takes no qualifiers (00, SSCC).
  std::string_view dl_qualifiers;
};

// The AIs the platform knows, in lexical order as in the dictionary:
// 00, 01, 10, 11, 13, 15, 17, 21, 22, 254, 37, 414.
std::span<const AiInfo> KnownAis();

// The entry for `ai`, or nullptr if it is not in KnownAis().
const AiInfo* FindAi(std::string_view ai);

// Checks `value` against the format of `ai` (charset, length, linter).
// InvalidArgument "AI 17: ..." on failure, or "AI 99: not supported" if the AI
// is not in KnownAis().
Status ValidateAiValue(std::string_view ai, std::string_view value);

}  // namespace trace::gs1
