#include "trace/common/gs1.h"

#include <array>
#include <cstdio>
#include <string>

namespace trace::gs1 {
namespace {

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// "'x' (0x78)", printable or not.
std::string DescribeChar(char c) {
  char buf[16];
  unsigned u = static_cast<unsigned char>(c);
  if (u >= 0x21 && u < 0x7f) {
    std::snprintf(buf, sizeof buf, "'%c' (0x%02X)", c, u);
  } else {
    std::snprintf(buf, sizeof buf, "0x%02X", u);
  }
  return buf;
}

// First non-digit in `s`, as an error for `what`, or OK.
Status RequireDigits(std::string_view what, std::string_view s) {
  for (size_t i = 0; i < s.size(); ++i) {
    if (!IsDigit(s[i])) {
      return InvalidArgument(std::string(what) + ": character " + DescribeChar(s[i]) + " at position " +
                             std::to_string(i + 1) + " is not a digit");
    }
  }
  return OkStatus();
}

// Checks the last digit of an all-digit string.
Status RequireCheckDigit(std::string_view what, std::string_view digits) {
  auto expected = CheckDigit(digits.substr(0, digits.size() - 1));
  if (!expected) return expected.error().WithContext(what);
  if (*expected != digits.back()) {
    return InvalidArgument(std::string(what) + " check digit: expected " + *expected + ", got " + digits.back());
  }
  return OkStatus();
}

Status ValidateCset82Value(std::string_view what, std::string_view value, int max_length) {
  if (value.empty()) return InvalidArgument(std::string(what) + ": empty");
  if (value.size() > static_cast<size_t>(max_length)) {
    return InvalidArgument(std::string(what) + ": " + std::to_string(value.size()) + " characters, at most " +
                           std::to_string(max_length));
  }
  for (size_t i = 0; i < value.size(); ++i) {
    if (!IsCset82(value[i])) {
      return InvalidArgument(std::string(what) + ": character " + DescribeChar(value[i]) + " at position " +
                             std::to_string(i + 1) + " is not in GS1 character set 82");
    }
  }
  return OkStatus();
}

Status ValidateYymmdd0(std::string_view what, std::string_view v) {
  // Length and digits were checked by the caller.
  int yy = (v[0] - '0') * 10 + (v[1] - '0');
  int mm = (v[2] - '0') * 10 + (v[3] - '0');
  int dd = (v[4] - '0') * 10 + (v[5] - '0');
  if (mm < 1 || mm > 12) return InvalidArgument(std::string(what) + ": month " + std::to_string(mm) + " in YYMMDD");
  // YY maps to a century through GS1's sliding window (General Specifications
  // §7.12); every year it can yield today (1977..2076) is a leap year exactly
  // when YY % 4 == 0, so February needs no century.
  static constexpr std::array<int, 12> kDays = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  int max_day = kDays[mm - 1];
  if (mm == 2 && yy % 4 != 0) max_day = 28;
  if (dd > max_day) {
    return InvalidArgument(std::string(what) + ": day " + std::to_string(dd) + " of month " + std::to_string(mm) +
                           " in YYMMDD");
  }
  return OkStatus();
}

// The table. Formats and flags as in GS1's Barcode Syntax Dictionary (checked by
// gs1_test.cc); titles as the dictionary's.
constexpr AiInfo kAis[] = {
    {"00", "SSCC", AiCharset::kNumeric, 18, 18, AiLinter::kCheckDigit, true, true, "-"},
    {"01", "GTIN", AiCharset::kNumeric, 14, 14, AiLinter::kCheckDigit, true, true, "22,10,21|235"},
    {"10", "BATCH/LOT", AiCharset::kCset82, 1, 20, AiLinter::kNone, false, true, ""},
    {"11", "PROD DATE", AiCharset::kNumeric, 6, 6, AiLinter::kDateYymmdd0, true, true, ""},
    {"13", "PACK DATE", AiCharset::kNumeric, 6, 6, AiLinter::kDateYymmdd0, true, true, ""},
    {"15", "BEST BEFORE or BEST BY", AiCharset::kNumeric, 6, 6, AiLinter::kDateYymmdd0, true, true, ""},
    {"17", "USE BY or EXPIRY", AiCharset::kNumeric, 6, 6, AiLinter::kDateYymmdd0, true, true, ""},
    {"21", "SERIAL", AiCharset::kCset82, 1, 20, AiLinter::kNone, false, false, ""},
    {"22", "CPV", AiCharset::kCset82, 1, 20, AiLinter::kNone, false, false, ""},
    {"254", "GLN EXTENSION COMPONENT", AiCharset::kCset82, 1, 20, AiLinter::kNone, false, false, ""},
    {"37", "COUNT", AiCharset::kNumeric, 1, 8, AiLinter::kNone, false, true, ""},
    {"414", "LOC No.", AiCharset::kNumeric, 13, 13, AiLinter::kCheckDigit, true, true, "254|7040"},
};

}  // namespace

Result<char> CheckDigit(std::string_view digits) {
  if (digits.empty()) return Fail(InvalidArgument("check digit: no digits"));
  if (auto s = RequireDigits("check digit input", digits); !s.ok()) return Fail(s);
  int sum = 0;
  int weight = 3;  // the digit next to the check digit weighs 3
  for (auto it = digits.rbegin(); it != digits.rend(); ++it) {
    sum += (*it - '0') * weight;
    weight = 4 - weight;
  }
  return static_cast<char>('0' + (10 - sum % 10) % 10);
}

bool HasValidCheckDigit(std::string_view digits) {
  if (digits.size() < 2) return false;
  auto expected = CheckDigit(digits.substr(0, digits.size() - 1));
  return expected && *expected == digits.back();
}

Result<std::string> NormalizeGtin(std::string_view gtin) {
  if (gtin.size() != 8 && gtin.size() != 12 && gtin.size() != 13 && gtin.size() != 14) {
    return Fail(InvalidArgument("GTIN: length " + std::to_string(gtin.size()) + ", want 8, 12, 13 or 14 digits"));
  }
  if (auto s = RequireDigits("GTIN", gtin); !s.ok()) return Fail(s);
  if (auto s = RequireCheckDigit("GTIN", gtin); !s.ok()) return Fail(s);
  std::string out(14 - gtin.size(), '0');
  out.append(gtin);
  return out;
}

Status ValidateGln(std::string_view gln) {
  if (gln.size() != 13) return InvalidArgument("GLN: length " + std::to_string(gln.size()) + ", want 13 digits");
  if (auto s = RequireDigits("GLN", gln); !s.ok()) return s;
  return RequireCheckDigit("GLN", gln);
}

bool IsCset82(char c) {
  if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) return true;
  switch (c) {
    case '!': case '"': case '%': case '&': case '\'': case '(': case ')': case '*': case '+': case ',':
    case '-': case '.': case '/': case ':': case ';': case '<': case '=': case '>': case '?': case '_':
      return true;
    default:
      return false;
  }
}

Status ValidateLot(std::string_view lot) { return ValidateCset82Value("lot", lot, 20); }
Status ValidateSerial(std::string_view serial) { return ValidateCset82Value("serial", serial, 20); }

std::span<const AiInfo> KnownAis() { return kAis; }

const AiInfo* FindAi(std::string_view ai) {
  for (const AiInfo& info : kAis) {
    if (info.ai == ai) return &info;
  }
  return nullptr;
}

Status ValidateAiValue(std::string_view ai, std::string_view value) {
  const AiInfo* info = FindAi(ai);
  std::string what = "AI " + std::string(ai);
  if (info == nullptr) return InvalidArgument(what + ": not supported");
  if (info->charset == AiCharset::kCset82) return ValidateCset82Value(what, value, info->max_length);
  if (value.size() < static_cast<size_t>(info->min_length) || value.size() > static_cast<size_t>(info->max_length)) {
    std::string want = info->min_length == info->max_length
                           ? std::to_string(info->max_length)
                           : std::to_string(info->min_length) + ".." + std::to_string(info->max_length);
    return InvalidArgument(what + ": length " + std::to_string(value.size()) + ", want " + want + " digits");
  }
  if (auto s = RequireDigits(what, value); !s.ok()) return s;
  switch (info->linter) {
    case AiLinter::kNone:
      return OkStatus();
    case AiLinter::kCheckDigit:
      return RequireCheckDigit(what, value);
    case AiLinter::kDateYymmdd0:
      return ValidateYymmdd0(what, value);
  }
  return Internal(what + ": unknown linter");
}

}  // namespace trace::gs1
