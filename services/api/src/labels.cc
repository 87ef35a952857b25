#include "labels.h"

#include <qrencode.h>
#include <zlib.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>

#include "trace/common/encoding.h"
#include "trace/common/sha256.h"

namespace trace::api {
namespace {

// ---------------------------------------------------------------------------
// The bitmap font: glyphs 5 pixels wide and up to 9 tall, one string per
// character from 0x20 to 0x7E, rows top to bottom separated by '|', '#' = ink.
// Rows 0-6 sit on the baseline (capitals are 7 tall, lowercase 5), rows 7-8
// hold descenders. Drawn for this file.
constexpr int kGlyphW = 5;
constexpr int kGlyphH = 9;
constexpr int kAdvance = 6;     // glyph + 1 column of space
constexpr int kLineHeight = 11;  // glyph + 2 rows of space
constexpr int kCaptionMinWrap = 24;

constexpr std::array<std::string_view, 95> kFont = {
    ".....",  // space
    "..#..|..#..|..#..|..#..|..#..|.....|..#..",  // !
    ".#.#.|.#.#.|.#.#.",  // "
    ".#.#.|.#.#.|#####|.#.#.|#####|.#.#.|.#.#.",  // #
    "..#..|.####|#.#..|.###.|..#.#|####.|..#..",  // $
    "##...|##..#|...#.|..#..|.#...|#..##|...##",  // %
    ".##..|#..#.|#.#..|.#...|#.#.#|#..#.|.##.#",  // &
    "..#..|..#..|.#...",  // apostrophe
    "...#.|..#..|.#...|.#...|.#...|..#..|...#.",  // (
    ".#...|..#..|...#.|...#.|...#.|..#..|.#...",  // )
    ".....|..#..|#.#.#|.###.|#.#.#|..#..|.....",  // *
    ".....|..#..|..#..|#####|..#..|..#..|.....",  // +
    ".....|.....|.....|.....|.....|.##..|.##..|..#..|.#...",  // ,
    ".....|.....|.....|.###.",  // -
    ".....|.....|.....|.....|.....|.##..|.##..",  // .
    "....#|....#|...#.|..#..|.#...|#....|#....",  // /
    ".###.|#...#|#..##|#.#.#|##..#|#...#|.###.",  // 0
    "..#..|.##..|..#..|..#..|..#..|..#..|.###.",  // 1
    ".###.|#...#|....#|...#.|..#..|.#...|#####",  // 2
    "#####|...#.|..#..|...#.|....#|#...#|.###.",  // 3
    "...#.|..##.|.#.#.|#..#.|#####|...#.|...#.",  // 4
    "#####|#....|####.|....#|....#|#...#|.###.",  // 5
    "..##.|.#...|#....|####.|#...#|#...#|.###.",  // 6
    "#####|....#|...#.|..#..|.#...|.#...|.#...",  // 7
    ".###.|#...#|#...#|.###.|#...#|#...#|.###.",  // 8
    ".###.|#...#|#...#|.####|....#|...#.|.##..",  // 9
    ".....|.##..|.##..|.....|.##..|.##..|.....",  // :
    ".....|.##..|.##..|.....|.##..|.##..|..#..|.#...",  // ;
    "...#.|..#..|.#...|#....|.#...|..#..|...#.",  // <
    ".....|.....|#####|.....|#####|.....|.....",  // =
    ".#...|..#..|...#.|....#|...#.|..#..|.#...",  // >
    ".###.|#...#|....#|...#.|..#..|.....|..#..",  // ?
    ".###.|#...#|#.###|#.#.#|#.###|#....|.####",  // @
    ".###.|#...#|#...#|#####|#...#|#...#|#...#",  // A
    "####.|#...#|#...#|####.|#...#|#...#|####.",  // B
    ".###.|#...#|#....|#....|#....|#...#|.###.",  // C
    "####.|#...#|#...#|#...#|#...#|#...#|####.",  // D
    "#####|#....|#....|####.|#....|#....|#####",  // E
    "#####|#....|#....|####.|#....|#....|#....",  // F
    ".###.|#...#|#....|#.###|#...#|#...#|.####",  // G
    "#...#|#...#|#...#|#####|#...#|#...#|#...#",  // H
    ".###.|..#..|..#..|..#..|..#..|..#..|.###.",  // I
    "..###|...#.|...#.|...#.|...#.|#..#.|.##..",  // J
    "#...#|#..#.|#.#..|##...|#.#..|#..#.|#...#",  // K
    "#....|#....|#....|#....|#....|#....|#####",  // L
    "#...#|##.##|#.#.#|#.#.#|#...#|#...#|#...#",  // M
    "#...#|#...#|##..#|#.#.#|#..##|#...#|#...#",  // N
    ".###.|#...#|#...#|#...#|#...#|#...#|.###.",  // O
    "####.|#...#|#...#|####.|#....|#....|#....",  // P
    ".###.|#...#|#...#|#...#|#.#.#|#..#.|.##.#",  // Q
    "####.|#...#|#...#|####.|#.#..|#..#.|#...#",  // R
    ".####|#....|#....|.###.|....#|....#|####.",  // S
    "#####|..#..|..#..|..#..|..#..|..#..|..#..",  // T
    "#...#|#...#|#...#|#...#|#...#|#...#|.###.",  // U
    "#...#|#...#|#...#|#...#|#...#|.#.#.|..#..",  // V
    "#...#|#...#|#...#|#.#.#|#.#.#|#.#.#|.#.#.",  // W
    "#...#|#...#|.#.#.|..#..|.#.#.|#...#|#...#",  // X
    "#...#|#...#|.#.#.|..#..|..#..|..#..|..#..",  // Y
    "#####|....#|...#.|..#..|.#...|#....|#####",  // Z
    ".###.|.#...|.#...|.#...|.#...|.#...|.###.",  // [
    "#....|#....|.#...|..#..|...#.|....#|....#",  // backslash
    ".###.|...#.|...#.|...#.|...#.|...#.|.###.",  // ]
    "..#..|.#.#.|#...#",  // ^
    ".....|.....|.....|.....|.....|.....|.....|#####",  // _
    ".#...|..#..|...#.",  // `
    ".....|.....|.###.|....#|.####|#...#|.####",  // a
    "#....|#....|####.|#...#|#...#|#...#|####.",  // b
    ".....|.....|.###.|#....|#....|#...#|.###.",  // c
    "....#|....#|.####|#...#|#...#|#...#|.####",  // d
    ".....|.....|.###.|#...#|#####|#....|.###.",  // e
    "..##.|.#..#|.#...|###..|.#...|.#...|.#...",  // f
    ".....|.....|.####|#...#|#...#|#...#|.####|....#|.###.",  // g
    "#....|#....|####.|#...#|#...#|#...#|#...#",  // h
    "..#..|.....|.##..|..#..|..#..|..#..|.###.",  // i
    "...#.|.....|..##.|...#.|...#.|...#.|...#.|#..#.|.##..",  // j
    "#....|#....|#..#.|#.#..|##...|#.#..|#..#.",  // k
    ".##..|..#..|..#..|..#..|..#..|..#..|.###.",  // l
    ".....|.....|##.#.|#.#.#|#.#.#|#.#.#|#.#.#",  // m
    ".....|.....|####.|#...#|#...#|#...#|#...#",  // n
    ".....|.....|.###.|#...#|#...#|#...#|.###.",  // o
    ".....|.....|####.|#...#|#...#|#...#|####.|#....|#....",  // p
    ".....|.....|.####|#...#|#...#|#...#|.####|....#|....#",  // q
    ".....|.....|#.##.|##..#|#....|#....|#....",  // r
    ".....|.....|.####|#....|.###.|....#|####.",  // s
    ".#...|.#...|###..|.#...|.#...|.#..#|..##.",  // t
    ".....|.....|#...#|#...#|#...#|#..##|.##.#",  // u
    ".....|.....|#...#|#...#|#...#|.#.#.|..#..",  // v
    ".....|.....|#...#|#...#|#.#.#|#.#.#|.#.#.",  // w
    ".....|.....|#...#|.#.#.|..#..|.#.#.|#...#",  // x
    ".....|.....|#...#|#...#|#...#|#...#|.####|....#|.###.",  // y
    ".....|.....|#####|...#.|..#..|.#...|#####",  // z
    "...#.|..#..|..#..|.#...|..#..|..#..|...#.",  // {
    "..#..|..#..|..#..|..#..|..#..|..#..|..#..",  // |
    ".#...|..#..|..#..|...#.|..#..|..#..|.#...",  // }
    ".....|.....|.#...|#.#.#|...#.",  // ~
};

// One glyph as 9 rows of 5 bits (bit 4 = leftmost column).
using Glyph = std::array<uint8_t, kGlyphH>;

const std::array<Glyph, 95>& FontGlyphs() {
  static const std::array<Glyph, 95> glyphs = [] {
    std::array<Glyph, 95> out{};
    for (size_t c = 0; c < kFont.size(); ++c) {
      std::string_view rows = kFont[c];
      for (int r = 0; r < kGlyphH && !rows.empty(); ++r) {
        std::string_view row = rows.substr(0, std::min<size_t>(kGlyphW, rows.size()));
        uint8_t bits = 0;
        for (int x = 0; x < static_cast<int>(row.size()); ++x) {
          if (row[x] == '#') bits |= static_cast<uint8_t>(1u << (kGlyphW - 1 - x));
        }
        out[c][r] = bits;
        rows.remove_prefix(std::min(rows.size(), static_cast<size_t>(kGlyphW + 1)));
      }
    }
    return out;
  }();
  return glyphs;
}

// ---------------------------------------------------------------------------
// Text.

// Decodes strict UTF-8 (no overlong forms, no surrogates, at most U+10FFFF).
Result<std::u32string> DecodeUtf8(std::string_view s) {
  std::u32string out;
  size_t i = 0;
  while (i < s.size()) {
    const auto b0 = static_cast<unsigned char>(s[i]);
    int extra = 0;
    char32_t cp = 0, min = 0;
    if (b0 < 0x80) {
      cp = b0;
    } else if ((b0 & 0xE0) == 0xC0) {
      extra = 1, cp = b0 & 0x1F, min = 0x80;
    } else if ((b0 & 0xF0) == 0xE0) {
      extra = 2, cp = b0 & 0x0F, min = 0x800;
    } else if ((b0 & 0xF8) == 0xF0) {
      extra = 3, cp = b0 & 0x07, min = 0x10000;
    } else {
      return Fail(InvalidArgument("not UTF-8: byte " + std::to_string(i + 1)));
    }
    if (i + extra >= s.size() && extra > 0) {
      return Fail(InvalidArgument("not UTF-8: sequence cut short at byte " + std::to_string(i + 1)));
    }
    for (int k = 1; k <= extra; ++k) {
      const auto b = static_cast<unsigned char>(s[i + k]);
      if ((b & 0xC0) != 0x80) return Fail(InvalidArgument("not UTF-8: byte " + std::to_string(i + k + 1)));
      cp = (cp << 6) | (b & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
      return Fail(InvalidArgument("not UTF-8: bad sequence at byte " + std::to_string(i + 1)));
    }
    out.push_back(cp);
    i += 1 + extra;
  }
  return out;
}

void AppendUtf8(std::string& out, char32_t cp) {
  if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

// Caption text: UTF-8 without C0, DEL, C1 controls or the XML non-characters
// U+FFFE and U+FFFF (they would make the SVG ill-formed), at most
// kMaxCaptionLineChars code points.
Result<std::u32string> CaptionLine(std::string_view line, const std::string& what) {
  auto cps = DecodeUtf8(line);
  if (!cps) return Fail(cps.error().WithContext(what));
  for (size_t i = 0; i < cps->size(); ++i) {
    char32_t c = (*cps)[i];
    if (c < 0x20 || (c >= 0x7F && c <= 0x9F) || c == 0xFFFE || c == 0xFFFF) {
      char code[16];
      std::snprintf(code, sizeof code, "U+%04X", static_cast<unsigned>(c));
      return Fail(InvalidArgument(what + ": control character " + code +
                                  " at character " + std::to_string(i + 1)));
    }
  }
  if (cps->size() > kMaxCaptionLineChars) {
    return Fail(InvalidArgument(what + ": " + std::to_string(cps->size()) + " characters, at most " +
                                std::to_string(kMaxCaptionLineChars)));
  }
  return std::move(*cps);
}

// Greedy word wrap at spaces to `max` characters; longer words stay whole.
void WrapInto(const std::u32string& line, size_t max, std::vector<std::u32string>& out) {
  std::u32string current;
  bool any_word = false;
  size_t i = 0;
  while (i < line.size()) {
    if (line[i] == U' ') {
      ++i;
      continue;
    }
    size_t j = line.find(U' ', i);
    if (j == std::u32string::npos) j = line.size();
    std::u32string word = line.substr(i, j - i);
    i = j;
    if (!any_word) {
      current = std::move(word);
      any_word = true;
    } else if (current.size() + 1 + word.size() <= max) {
      current += U' ';
      current += word;
    } else {
      out.push_back(std::move(current));
      current = std::move(word);
    }
  }
  out.push_back(std::move(current));  // an empty line stays an empty line
}

std::string XmlEscape(const std::u32string& text) {
  std::string out;
  for (char32_t c : text) {
    switch (c) {
      case U'&': out += "&amp;"; break;
      case U'<': out += "&lt;"; break;
      case U'>': out += "&gt;"; break;
      case U'"': out += "&quot;"; break;
      case U'\'': out += "&apos;"; break;
      default: AppendUtf8(out, c);
    }
  }
  return out;
}

std::string XmlEscape(std::string_view ascii) {
  std::u32string wide(ascii.begin(), ascii.end());
  return XmlEscape(wide);
}

// ---------------------------------------------------------------------------
// Geometry shared by PNG and SVG, so both show the same lines at the same place.

struct Layout {
  QrMatrix qr;
  int module = 0, quiet = 0, scale = 0;
  int qr_px = 0;     // side of the code with its quiet zone
  int qr_left = 0;   // x of that square
  int width = 0, height = 0;
  int text_top = 0;  // y of the first caption line's top
  std::vector<std::u32string> lines;
};

Status CheckRange(int value, int lo, int hi, const char* name) {
  if (value < lo || value > hi) {
    return InvalidArgument(std::string("label ") + name + ": " + std::to_string(value) + ", want " +
                           std::to_string(lo) + ".." + std::to_string(hi));
  }
  return OkStatus();
}

Result<Layout> MakeLayout(const LabelSpec& spec) {
  for (auto s : {CheckRange(spec.module_px, 1, 32, "module_px"), CheckRange(spec.quiet_zone, 0, 16, "quiet_zone"),
                 CheckRange(spec.text_scale, 1, 8, "text_scale")}) {
    if (!s.ok()) return Fail(s);
  }
  if (spec.caption.size() > kMaxCaptionLines) {
    return Fail(InvalidArgument("label caption: " + std::to_string(spec.caption.size()) + " lines, at most " +
                                std::to_string(kMaxCaptionLines)));
  }
  Layout l;
  auto qr = EncodeLinkQr(spec.link);
  if (!qr) return Fail(qr.error());
  l.qr = std::move(*qr);
  l.module = spec.module_px;
  l.quiet = spec.quiet_zone;
  l.scale = spec.text_scale;
  l.qr_px = (l.qr.width + 2 * l.quiet) * l.module;

  const int advance = kAdvance * l.scale;
  const size_t wrap = std::max<size_t>(kCaptionMinWrap, static_cast<size_t>(l.qr_px / advance));
  for (size_t i = 0; i < spec.caption.size(); ++i) {
    auto line = CaptionLine(spec.caption[i], "label caption line " + std::to_string(i + 1));
    if (!line) return Fail(line.error());
    WrapInto(*line, wrap, l.lines);
  }
  size_t longest = 0;
  for (const auto& line : l.lines) longest = std::max(longest, line.size());
  const int pad = 4 * l.scale;
  const int text_w = longest == 0 ? 0 : static_cast<int>(longest) * advance - l.scale + 2 * pad;
  l.width = std::max(l.qr_px, text_w);
  l.qr_left = (l.width - l.qr_px) / 2;
  l.text_top = l.qr_px + 2 * l.scale;
  l.height = l.lines.empty() ? l.qr_px : l.text_top + static_cast<int>(l.lines.size()) * kLineHeight * l.scale + pad;
  return l;
}

int LineWidth(const Layout& l, const std::u32string& line) {
  return line.empty() ? 0 : static_cast<int>(line.size()) * kAdvance * l.scale - l.scale;
}

// ---------------------------------------------------------------------------
// PNG (ISO/IEC 15948): signature, IHDR, one IDAT, IEND.

void AppendBe32(std::string& out, uint32_t v) {
  out.push_back(static_cast<char>(v >> 24));
  out.push_back(static_cast<char>(v >> 16));
  out.push_back(static_cast<char>(v >> 8));
  out.push_back(static_cast<char>(v));
}

void AppendChunk(std::string& out, const char type[4], std::string_view data) {
  AppendBe32(out, static_cast<uint32_t>(data.size()));
  const size_t start = out.size();
  out.append(type, 4);
  out.append(data);
  uLong crc = crc32(0L, Z_NULL, 0);
  crc = crc32(crc, reinterpret_cast<const Bytef*>(out.data() + start), static_cast<uInt>(out.size() - start));
  AppendBe32(out, static_cast<uint32_t>(crc));
}

// `ink` is width * height bytes, 1 = black.
Result<std::string> EncodePng1Bit(int width, int height, const std::vector<uint8_t>& ink) {
  const size_t stride = (static_cast<size_t>(width) + 7) / 8;
  std::string raw;
  raw.reserve((stride + 1) * height);
  for (int y = 0; y < height; ++y) {
    raw.push_back('\0');  // filter type None
    for (size_t bx = 0; bx < stride; ++bx) {
      uint8_t byte = 0;
      for (int bit = 0; bit < 8; ++bit) {
        const size_t x = bx * 8 + bit;
        // Grayscale, bit depth 1: 1 = white. Padding bits at the row's end are white too.
        const bool white = x >= static_cast<size_t>(width) || ink[static_cast<size_t>(y) * width + x] == 0;
        if (white) byte |= static_cast<uint8_t>(0x80u >> bit);
      }
      raw.push_back(static_cast<char>(byte));
    }
  }
  uLongf packed_size = compressBound(static_cast<uLong>(raw.size()));
  std::string packed(packed_size, '\0');
  int rc = compress2(reinterpret_cast<Bytef*>(packed.data()), &packed_size,
                     reinterpret_cast<const Bytef*>(raw.data()), static_cast<uLong>(raw.size()), 9);
  if (rc != Z_OK) return Fail(Internal("PNG: zlib compress2 failed with " + std::to_string(rc)));
  packed.resize(packed_size);

  std::string png("\x89PNG\r\n\x1a\n", 8);
  std::string ihdr;
  AppendBe32(ihdr, static_cast<uint32_t>(width));
  AppendBe32(ihdr, static_cast<uint32_t>(height));
  ihdr += std::string{'\x01', '\x00', '\x00', '\x00', '\x00'};  // depth 1, grayscale, deflate, filter 0, no interlace
  AppendChunk(png, "IHDR", ihdr);
  AppendChunk(png, "IDAT", packed);
  AppendChunk(png, "IEND", "");
  return png;
}

}  // namespace

// ---------------------------------------------------------------------------

Result<QrMatrix> EncodeLinkQr(std::string_view link) {
  if (link.empty()) return Fail(InvalidArgument("label link: empty"));
  if (link.size() > kMaxLabelLinkBytes) {
    return Fail(InvalidArgument("label link: " + std::to_string(link.size()) + " bytes, at most " +
                                std::to_string(kMaxLabelLinkBytes)));
  }
  for (size_t i = 0; i < link.size(); ++i) {
    const auto c = static_cast<unsigned char>(link[i]);
    if (c < 0x21 || c > 0x7E) {
      return Fail(InvalidArgument("label link: byte 0x" + HexEncode(std::string(1, link[i])) + " at position " +
                                  std::to_string(i + 1) + " is not printable ASCII (percent-encode it)"));
    }
  }
  // QRcode_encodeData: the whole input as one 8-bit segment, version chosen automatically (0).
  std::unique_ptr<QRcode, decltype(&QRcode_free)> code(
      QRcode_encodeData(static_cast<int>(link.size()), reinterpret_cast<const unsigned char*>(link.data()), 0,
                        QR_ECLEVEL_M),
      &QRcode_free);
  if (!code) {
    const int err = errno;
    if (err == ERANGE) return Fail(InvalidArgument("label link: too long for a QR code"));
    return Fail(Internal(std::string("libqrencode: ") + std::strerror(err)));
  }
  QrMatrix m;
  m.version = code->version;
  m.width = code->width;
  m.modules.resize(static_cast<size_t>(m.width) * m.width);
  for (size_t i = 0; i < m.modules.size(); ++i) m.modules[i] = code->data[i] & 1;
  return m;
}

Result<LabelSpec> ProductLabelSpec(std::string_view public_base, const gs1::DigitalLink& link,
                                   std::string_view product_name) {
  if (Status s = gs1::ValidateDigitalLink(link); !s.ok()) return Fail(s.WithContext("label"));
  const bool http = public_base.starts_with("http://") || public_base.starts_with("https://");
  const size_t host_at = public_base.find("//") + 2;
  if (!http || public_base.size() <= host_at || public_base[host_at] == '/') {
    return Fail(InvalidArgument("label: public base \"" + std::string(public_base) + "\" is not an http(s) URL"));
  }
  LabelSpec spec;
  spec.link = gs1::FormatDigitalLink(public_base, link);
  if (!product_name.empty()) {
    if (auto name = CaptionLine(product_name, "label product name"); !name) return Fail(name.error());
    spec.caption.emplace_back(product_name);
  }
  spec.caption.push_back("(01) " + link.gtin);
  if (link.lot) spec.caption.push_back("(10) " + *link.lot);
  if (link.serial) spec.caption.push_back("(21) " + *link.serial);
  return spec;
}

Result<std::string> LabelPng(const LabelSpec& spec) {
  auto layout = MakeLayout(spec);
  if (!layout) return Fail(layout.error());
  const Layout& l = *layout;
  std::vector<uint8_t> ink(static_cast<size_t>(l.width) * l.height, 0);
  auto fill = [&](int x0, int y0, int w, int h) {
    for (int y = y0; y < y0 + h; ++y) {
      std::fill_n(ink.begin() + static_cast<ptrdiff_t>(y) * l.width + x0, w, uint8_t{1});
    }
  };
  const int origin_x = l.qr_left + l.quiet * l.module, origin_y = l.quiet * l.module;
  for (int y = 0; y < l.qr.width; ++y) {
    for (int x = 0; x < l.qr.width; ++x) {
      if (l.qr.Dark(x, y)) fill(origin_x + x * l.module, origin_y + y * l.module, l.module, l.module);
    }
  }
  const auto& glyphs = FontGlyphs();
  const int s = l.scale;
  for (size_t n = 0; n < l.lines.size(); ++n) {
    const auto& line = l.lines[n];
    int x = (l.width - LineWidth(l, line)) / 2;
    const int top = l.text_top + static_cast<int>(n) * kLineHeight * s;
    for (char32_t c : line) {
      const Glyph& g = glyphs[(c >= 0x20 && c <= 0x7E) ? c - 0x20 : '?' - 0x20];
      for (int r = 0; r < kGlyphH; ++r) {
        for (int col = 0; col < kGlyphW; ++col) {
          if (g[r] & (1u << (kGlyphW - 1 - col))) fill(x + col * s, top + r * s, s, s);
        }
      }
      x += kAdvance * s;
    }
  }
  return EncodePng1Bit(l.width, l.height, ink);
}

Result<std::string> LabelSvg(const LabelSpec& spec) {
  auto layout = MakeLayout(spec);
  if (!layout) return Fail(layout.error());
  const Layout& l = *layout;
  const std::string w = std::to_string(l.width), h = std::to_string(l.height);
  const std::string link = XmlEscape(spec.link);
  std::string out = "<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" width=\"" + w + "\" height=\"" + h +
                    "\" viewBox=\"0 0 " + w + " " + h + "\" role=\"img\" aria-label=\"" + link + "\">";
  out += "<title>" + link + "</title>";
  out += "<rect width=\"" + w + "\" height=\"" + h + "\" fill=\"#fff\"/>";
  // The dark modules as one path: each horizontal run of a row is a rectangle.
  out += "<path fill=\"#000\" shape-rendering=\"crispEdges\" d=\"";
  const int origin_x = l.qr_left + l.quiet * l.module, origin_y = l.quiet * l.module;
  for (int y = 0; y < l.qr.width; ++y) {
    int x = 0;
    while (x < l.qr.width) {
      if (!l.qr.Dark(x, y)) {
        ++x;
        continue;
      }
      int end = x;
      while (end < l.qr.width && l.qr.Dark(end, y)) ++end;
      const int run = (end - x) * l.module;
      out += "M" + std::to_string(origin_x + x * l.module) + " " + std::to_string(origin_y + y * l.module) + "h" +
             std::to_string(run) + "v" + std::to_string(l.module) + "h-" + std::to_string(run) + "z";
      x = end;
    }
  }
  out += "\"/>";
  const int s = l.scale;
  for (size_t n = 0; n < l.lines.size(); ++n) {
    if (l.lines[n].empty()) continue;
    // Baseline at glyph row 7, as in the PNG; a monospace font's advance is about 0.6 em.
    const int baseline = l.text_top + static_cast<int>(n) * kLineHeight * s + 7 * s;
    out += "<text x=\"" + std::to_string(l.width / 2) + "\" y=\"" + std::to_string(baseline) +
           "\" font-family=\"monospace\" font-size=\"" + std::to_string(10 * s) +
           "\" text-anchor=\"middle\" fill=\"#000\">" + XmlEscape(l.lines[n]) + "</text>";
  }
  out += "</svg>";
  return out;
}

Result<LabelSheetSpec> LotLabelSheet(std::string_view public_base, const std::string& gtin, const std::string& lot,
                                     std::string_view product_name, const std::vector<std::string>& serials,
                                     int copies) {
  if (serials.size() > kMaxSheetLabels) {
    return Fail(InvalidArgument("label sheet: " + std::to_string(serials.size()) + " serials, at most " +
                                std::to_string(kMaxSheetLabels)));
  }
  if (serials.empty() && (copies < 1 || static_cast<size_t>(copies) > kMaxSheetLabels)) {
    return Fail(InvalidArgument("label sheet: copies " + std::to_string(copies) + ", want 1.." +
                                std::to_string(kMaxSheetLabels)));
  }
  LabelSheetSpec sheet;
  sheet.title = product_name.empty() ? "Lot " + lot + " of " + gtin : std::string(product_name) + " - lot " + lot;
  gs1::DigitalLink link;
  link.gtin = gtin;
  link.lot = lot;
  if (serials.empty()) {
    auto spec = ProductLabelSpec(public_base, link, product_name);
    if (!spec) return Fail(spec.error());
    sheet.labels.assign(static_cast<size_t>(copies), *spec);
    return sheet;
  }
  for (const auto& serial : serials) {
    link.serial = serial;
    auto spec = ProductLabelSpec(public_base, link, product_name);
    if (!spec) return Fail(spec.error());
    sheet.labels.push_back(std::move(*spec));
  }
  return sheet;
}

std::string_view LabelSheetCss() {
  static constexpr std::string_view kCss =
      "@page{size:A4 portrait;margin:10mm}"
      "*{box-sizing:border-box}"
      "html{background:#fff;color:#000;font-family:sans-serif}"
      "body{margin:0 auto;max-width:190mm;padding:4mm 0}"
      "header h1{font-size:14pt;margin:0 0 2mm}"
      "header p{font-size:10pt;margin:0 0 4mm}"
      ".sheet{display:grid;gap:4mm}"
      ".cols-1{grid-template-columns:repeat(1,1fr)}"
      ".cols-2{grid-template-columns:repeat(2,1fr)}"
      ".cols-3{grid-template-columns:repeat(3,1fr)}"
      ".cols-4{grid-template-columns:repeat(4,1fr)}"
      ".cols-5{grid-template-columns:repeat(5,1fr)}"
      ".cols-6{grid-template-columns:repeat(6,1fr)}"
      ".label{margin:0;padding:2mm;border:0.2mm dashed #999;break-inside:avoid;page-break-inside:avoid}"
      ".label svg{display:block;width:100%;height:auto}"
      "@media print{header{display:none}body{max-width:none;padding:0}.label{border-color:#ccc}}";
  return kCss;
}

const std::string& LabelSheetStyleSource() {
  static const std::string source = "'sha256-" + Base64Encode(HashBytes(Sha256(LabelSheetCss()))) + "'";
  return source;
}

Result<std::string> LabelSheetHtml(const LabelSheetSpec& sheet) {
  if (sheet.labels.empty()) return Fail(InvalidArgument("label sheet: no labels"));
  if (sheet.labels.size() > kMaxSheetLabels) {
    return Fail(InvalidArgument("label sheet: " + std::to_string(sheet.labels.size()) + " labels, at most " +
                                std::to_string(kMaxSheetLabels)));
  }
  if (Status s = CheckRange(sheet.columns, 1, 6, "sheet columns"); !s.ok()) return Fail(s);
  auto title = CaptionLine(sheet.title, "label sheet title");
  if (!title) return Fail(title.error());
  const std::string escaped_title = XmlEscape(*title);

  std::string body;
  for (size_t i = 0; i < sheet.labels.size(); ++i) {
    auto svg = LabelSvg(sheet.labels[i]);
    if (!svg) return Fail(svg.error().WithContext("label sheet: label " + std::to_string(i + 1)));
    body += "<figure class=\"label\">" + *svg + "</figure>\n";
  }
  const size_t n = sheet.labels.size();
  std::string html = "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n";
  html += "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n";
  html += "<title>" + escaped_title + "</title>\n";
  html += "<style>" + std::string(LabelSheetCss()) + "</style>\n</head>\n<body>\n";
  html += "<header><h1>" + escaped_title + "</h1><p>" + std::to_string(n) + (n == 1 ? " label" : " labels") +
          ". Print this page on A4 paper at 100% scale, then cut along the dashed lines.</p></header>\n";
  html += "<main class=\"sheet cols-" + std::to_string(sheet.columns) + "\">\n" + body + "</main>\n</body>\n</html>\n";
  return html;
}

}  // namespace trace::api
