// Labels: the PNG decoded by a real QR reader (zbarimg, Debian's zbar-tools),
// the PNG's structure and pixels checked against the QR matrix, the SVG checked
// by a real XML parser (xmllint), the sheet's CSP hash, and bad input.
// The PNGs and SVGs go to build/test-artifacts/labels/ for people to look at.
#include "labels.h"

#include <zlib.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "harness/stack.h"
#include "trace/common/encoding.h"
#include "trace/common/sha256.h"

namespace trace::api {
namespace {

namespace fs = std::filesystem;

const char kBase[] = "https://id.example.com";
const char kRiceGtin[] = "09506000134369";

fs::path ArtifactDir() {
  const char* bin = std::getenv("TRACE_BIN_DIR");
  fs::path dir = fs::path(bin != nullptr ? bin : "build/bin") / ".." / "test-artifacts" / "labels";
  fs::create_directories(dir);
  return fs::weakly_canonical(dir);
}

std::string WriteArtifact(const std::string& name, const std::string& bytes) {
  fs::path path = ArtifactDir() / name;
  std::ofstream(path, std::ios::binary) << bytes;
  return path.string();
}

LabelSpec SpecFor(const gs1::DigitalLink& link, const std::string& name) {
  auto spec = ProductLabelSpec(kBase, link, name);
  EXPECT_TRUE(spec.has_value()) << spec.error();
  return spec.value_or(LabelSpec{});
}

// What zbarimg reads from an image file: exit code and raw output.
testing::Stack::RunResult Zbar(const std::string& path) {
  return testing::RunProgram({"zbarimg", "--raw", "-q", path}, {}, 60);
}

::testing::AssertionResult DecodesTo(const LabelSpec& spec, const std::string& name) {
  auto png = LabelPng(spec);
  if (!png) return ::testing::AssertionFailure() << "LabelPng: " << png.error();
  const std::string path = WriteArtifact(name, *png);
  auto r = Zbar(path);
  if (r.exit_code != 0) return ::testing::AssertionFailure() << "zbarimg exit " << r.exit_code << ": " << r.err;
  if (r.out != spec.link + "\n") {
    return ::testing::AssertionFailure() << "zbarimg read \"" << r.out << "\", want \"" << spec.link << "\"";
  }
  return ::testing::AssertionSuccess();
}

TEST(Labels, LotLinkPngDecodesToExactlyTheLink) {
  gs1::DigitalLink link{.gtin = kRiceGtin, .lot = "RICE-0703"};
  LabelSpec spec = SpecFor(link, "Jasmine rice 5 kg");
  EXPECT_EQ(spec.link, "https://id.example.com/01/09506000134369/10/RICE-0703");
  EXPECT_TRUE(DecodesTo(spec, "lot.png"));
}

TEST(Labels, SerialLinkPngDecodesToExactlyTheLink) {
  gs1::DigitalLink link{.gtin = kRiceGtin, .lot = "RICE-0703", .serial = "BAG-000017"};
  LabelSpec spec = SpecFor(link, "Jasmine rice 5 kg");
  EXPECT_EQ(spec.link, "https://id.example.com/01/09506000134369/10/RICE-0703/21/BAG-000017");
  EXPECT_EQ(spec.caption, (std::vector<std::string>{"Jasmine rice 5 kg", "(01) 09506000134369", "(10) RICE-0703",
                                                    "(21) BAG-000017"}));
  EXPECT_TRUE(DecodesTo(spec, "serial.png"));
}

TEST(Labels, PercentEncodedLinkPngDecodesToExactlyTheLink) {
  gs1::DigitalLink link{.gtin = kRiceGtin, .lot = "RICE/07%A&B", .serial = "S<1>\"2\"'3'"};
  LabelSpec spec = SpecFor(link, "Rice & \"friends\" <test>");
  EXPECT_EQ(spec.link, "https://id.example.com/01/09506000134369/10/RICE%2F07%25A%26B/21/S%3C1%3E%222%22%273%27");
  EXPECT_TRUE(DecodesTo(spec, "percent-encoded.png"));
}

TEST(Labels, SmallModulesAndNoCaptionStillDecode) {
  LabelSpec spec{.link = "https://id.example.com/01/09506000134369/10/PADDY-0701", .module_px = 3, .quiet_zone = 4};
  EXPECT_TRUE(DecodesTo(spec, "no-caption.png"));
}

// Reads the 15 format bits of the first copy (ISO/IEC 18004 §7.9) and checks
// their BCH code; returns the error correction bits (M = 0b00).
int EcLevelBits(const QrMatrix& m) {
  auto bit = [&](int x, int y) { return m.Dark(x, y) ? 1 : 0; };
  int bits = 0;
  for (int i = 0; i <= 5; ++i) bits |= bit(8, i) << i;
  bits |= bit(8, 7) << 6;
  bits |= bit(8, 8) << 7;
  bits |= bit(7, 8) << 8;
  for (int i = 9; i < 15; ++i) bits |= bit(14 - i, 8) << i;
  const int unmasked = bits ^ 0x5412;
  const int data = unmasked >> 10;
  int rem = data;
  for (int i = 0; i < 10; ++i) rem = (rem << 1) ^ ((rem >> 9) * 0x537);
  EXPECT_EQ(((data << 10) | (rem & 0x3FF)), unmasked) << "format bits fail their BCH check";
  return data >> 3;
}

TEST(Labels, QrIsLevelMAndSmallestVersion) {
  auto qr = EncodeLinkQr("https://id.example.com/01/09506000134369/10/RICE-0703");
  ASSERT_TRUE(qr.has_value()) << qr.error();
  EXPECT_EQ(qr->width, 17 + 4 * qr->version);
  EXPECT_EQ(EcLevelBits(*qr), 0b00);
  // 53 bytes in byte mode at level M need version 4 (capacity 62; version 3 holds 42).
  EXPECT_EQ(qr->version, 4);
}

struct DecodedPng {
  uint32_t width = 0, height = 0;
  std::vector<uint8_t> ink;  // 1 = black
};

// A strict reader of exactly what LabelPng writes: signature, IHDR (1-bit
// grayscale), IDAT, IEND, every CRC checked, filter type 0 on every row.
::testing::AssertionResult ReadPng(const std::string& png, DecodedPng& out) {
  if (png.compare(0, 8, std::string("\x89PNG\r\n\x1a\n", 8)) != 0) {
    return ::testing::AssertionFailure() << "bad signature";
  }
  auto be32 = [&](size_t at) {
    return (uint32_t(uint8_t(png[at])) << 24) | (uint32_t(uint8_t(png[at + 1])) << 16) |
           (uint32_t(uint8_t(png[at + 2])) << 8) | uint32_t(uint8_t(png[at + 3]));
  };
  std::string idat;
  std::vector<std::string> types;
  size_t at = 8;
  while (at + 12 <= png.size()) {
    const uint32_t len = be32(at);
    if (at + 12 + len > png.size()) return ::testing::AssertionFailure() << "chunk overruns the file";
    const std::string type = png.substr(at + 4, 4);
    const uLong crc = crc32(0L, reinterpret_cast<const Bytef*>(png.data() + at + 4), len + 4);
    if (crc != be32(at + 8 + len)) return ::testing::AssertionFailure() << "bad CRC on " << type;
    const std::string data = png.substr(at + 8, len);
    if (type == "IHDR") {
      if (len != 13) return ::testing::AssertionFailure() << "IHDR length " << len;
      out.width = be32(at + 8);
      out.height = be32(at + 12);
      if (data.substr(8) != std::string("\x01\x00\x00\x00\x00", 5)) {
        return ::testing::AssertionFailure() << "IHDR is not 1-bit grayscale, deflate, no interlace";
      }
    } else if (type == "IDAT") {
      idat += data;
    }
    types.push_back(type);
    at += 12 + len;
  }
  if (at != png.size()) return ::testing::AssertionFailure() << "trailing bytes";
  if (types != std::vector<std::string>{"IHDR", "IDAT", "IEND"}) return ::testing::AssertionFailure() << "chunks";
  const size_t stride = (out.width + 7) / 8;
  uLongf raw_size = (stride + 1) * out.height;
  std::string raw(raw_size, '\0');
  if (uncompress(reinterpret_cast<Bytef*>(raw.data()), &raw_size, reinterpret_cast<const Bytef*>(idat.data()),
                 idat.size()) != Z_OK ||
      raw_size != raw.size()) {
    return ::testing::AssertionFailure() << "IDAT does not inflate to " << raw.size() << " bytes";
  }
  out.ink.assign(size_t(out.width) * out.height, 0);
  for (uint32_t y = 0; y < out.height; ++y) {
    if (raw[y * (stride + 1)] != 0) return ::testing::AssertionFailure() << "row " << y << " filter != 0";
    for (uint32_t x = 0; x < out.width; ++x) {
      const uint8_t byte = raw[y * (stride + 1) + 1 + x / 8];
      out.ink[y * out.width + x] = (byte & (0x80 >> (x % 8))) ? 0 : 1;
    }
  }
  return ::testing::AssertionSuccess();
}

TEST(Labels, PngPixelsMatchTheQrMatrixAndTheCaptionHasInk) {
  LabelSpec spec = SpecFor({.gtin = kRiceGtin, .lot = "RICE-0703"}, "Jasmine rice 5 kg");
  spec.module_px = 5;
  spec.quiet_zone = 4;
  auto png = LabelPng(spec);
  ASSERT_TRUE(png.has_value()) << png.error();
  DecodedPng img;
  ASSERT_TRUE(ReadPng(*png, img));
  auto qr = EncodeLinkQr(spec.link);
  ASSERT_TRUE(qr.has_value());
  const int qr_px = (qr->width + 8) * 5;
  ASSERT_GE(int(img.width), qr_px);
  ASSERT_GT(int(img.height), qr_px);
  const int left = (int(img.width) - qr_px) / 2;
  // Every module's center pixel, and the quiet zone white.
  for (int y = 0; y < qr->width; ++y) {
    for (int x = 0; x < qr->width; ++x) {
      const int px = left + (4 + x) * 5 + 2, py = (4 + y) * 5 + 2;
      ASSERT_EQ(img.ink[size_t(py) * img.width + px], qr->Dark(x, y) ? 1 : 0) << "module " << x << "," << y;
    }
  }
  for (int y = 0; y < 4 * 5; ++y) {
    for (int x = 0; x < int(img.width); ++x) ASSERT_EQ(img.ink[size_t(y) * img.width + x], 0) << x << "," << y;
  }
  // Three caption lines of 2x-scaled glyphs (22 px each) with ink in each band.
  EXPECT_EQ(int(img.height), qr_px + 4 + 3 * 22 + 8);
  for (int line = 0; line < 3; ++line) {
    int ink = 0;
    for (int y = qr_px + 4 + line * 22; y < qr_px + 4 + (line + 1) * 22; ++y) {
      for (uint32_t x = 0; x < img.width; ++x) ink += img.ink[size_t(y) * img.width + x];
    }
    EXPECT_GT(ink, 200) << "caption line " << line;
  }
}

TEST(Labels, UnknownCharactersDrawAsQuestionMarks) {
  LabelSpec a{.link = "https://id.example.com/01/09506000134369", .caption = {"Caf\xC3\xA9 \xE2\x82\xAC"}};
  LabelSpec b = a;
  b.caption = {"Caf? ?"};
  auto pa = LabelPng(a), pb = LabelPng(b);
  ASSERT_TRUE(pa.has_value() && pb.has_value());
  EXPECT_EQ(*pa, *pb);
  LabelSpec c = a;
  c.caption = {"Cafe ?"};
  EXPECT_NE(*LabelPng(c), *pa);
}

// Runs xmllint on the file; returns (exit code, the XPath's value, or the errors).
std::pair<int, std::string> XmlLint(const std::string& path, const std::string& xpath = "") {
  std::vector<std::string> argv = {"xmllint", "--noout", path};
  if (!xpath.empty()) argv = {"xmllint", "--xpath", xpath, path};
  auto r = testing::RunProgram(argv, {}, 60);
  if (r.exit_code == 0 && r.out.ends_with('\n')) r.out.pop_back();  // xmllint ends --xpath output with one
  return {r.exit_code, r.exit_code == 0 ? r.out : r.err};
}

TEST(Labels, SvgIsWellFormedAndHoldsTheCaptionEscaped) {
  gs1::DigitalLink link{.gtin = kRiceGtin, .lot = "RICE/07%A&B", .serial = "S<1>\"2\"'3'"};
  LabelSpec spec = SpecFor(link, "A&B \"x\" <b>caf\xC3\xA9</b>");
  auto svg = LabelSvg(spec);
  ASSERT_TRUE(svg.has_value()) << svg.error();
  const std::string path = WriteArtifact("percent-encoded.svg", *svg);
  auto lint = XmlLint(path);
  ASSERT_EQ(lint.first, 0) << lint.second;
  // Escaped in the text, and a real XML parser gives the caption back.
  EXPECT_NE(svg->find(">A&amp;B &quot;x&quot; &lt;b&gt;caf\xC3\xA9&lt;/b&gt;</text>"), std::string::npos) << *svg;
  EXPECT_EQ(svg->find("<b>"), std::string::npos);
  EXPECT_EQ(XmlLint(path, "string(//*[local-name()='text'][1])").second, spec.caption[0]);
  EXPECT_EQ(XmlLint(path, "string(//*[local-name()='text'][2])").second, "(01) 09506000134369");
  EXPECT_EQ(XmlLint(path, "string(//*[local-name()='text'][3])").second, "(10) RICE/07%A&B");
  EXPECT_EQ(XmlLint(path, "string(//*[local-name()='text'][4])").second, "(21) S<1>\"2\"'3'");
  EXPECT_EQ(XmlLint(path, "string(//*[local-name()='title'])").second, spec.link);
  EXPECT_EQ(XmlLint(path, "count(//*[local-name()='text'])").second, "4");
}

TEST(Labels, SvgHasTheSameGeometryAsThePng) {
  LabelSpec spec = SpecFor({.gtin = kRiceGtin, .lot = "RICE-0703", .serial = "BAG-000017"}, "Jasmine rice 5 kg");
  auto svg = LabelSvg(spec);
  auto png = LabelPng(spec);
  ASSERT_TRUE(svg.has_value() && png.has_value());
  WriteArtifact("serial.svg", *svg);
  DecodedPng img;
  ASSERT_TRUE(ReadPng(*png, img));
  const std::string size = "width=\"" + std::to_string(img.width) + "\" height=\"" + std::to_string(img.height) + "\"";
  EXPECT_NE(svg->find(size), std::string::npos) << *svg;
  EXPECT_EQ(svg->find("<?xml"), std::string::npos);
  EXPECT_EQ(svg->find(" id="), std::string::npos);
}

TEST(Labels, LongCaptionLinesWrapAtSpaces) {
  LabelSpec spec{.link = "https://id.example.com/01/09506000134369",
                 .caption = {"Organic jasmine rice from the Surin cooperative, milled and packed in Ubon"}};
  auto svg = LabelSvg(spec);
  ASSERT_TRUE(svg.has_value());
  const std::string path = WriteArtifact("wrapped.svg", *svg);
  const int lines = std::stoi(XmlLint(path, "count(//*[local-name()='text'])").second);
  EXPECT_GE(lines, 3);
  std::string joined;
  for (int i = 1; i <= lines; ++i) {
    std::string text = XmlLint(path, "string(//*[local-name()='text'][" + std::to_string(i) + "])").second;
    EXPECT_LE(text.size(), 24u) << text;
    joined += (i > 1 ? " " : "") + text;
  }
  EXPECT_EQ(joined, spec.caption[0]);
  auto png = LabelPng(spec);
  ASSERT_TRUE(png.has_value());
  WriteArtifact("wrapped.png", *png);
}

TEST(Labels, BadInputIsInvalidArgument) {
  auto invalid = [](const Result<std::string>& r, const std::string& says) {
    if (r.has_value()) return ::testing::AssertionFailure() << "accepted";
    if (r.error().code() != StatusCode::kInvalidArgument) return ::testing::AssertionFailure() << r.error();
    if (r.error().message().find(says) == std::string::npos) {
      return ::testing::AssertionFailure() << r.error() << " does not say " << says;
    }
    return ::testing::AssertionSuccess();
  };
  const std::string good = "https://id.example.com/01/09506000134369/10/RICE-0703";
  EXPECT_TRUE(invalid(LabelPng({.link = ""}), "link: empty"));
  EXPECT_TRUE(invalid(LabelSvg({.link = ""}), "link: empty"));
  EXPECT_TRUE(invalid(LabelPng({.link = good + std::string(kMaxLabelLinkBytes, 'x')}), "at most 512"));
  EXPECT_TRUE(invalid(LabelPng({.link = std::string(kMaxLabelLinkBytes + 1, 'x')}), "at most 512"));
  EXPECT_TRUE(LabelPng({.link = std::string(kMaxLabelLinkBytes, 'x')}).has_value());
  EXPECT_TRUE(invalid(LabelPng({.link = good + " x"}), "not printable ASCII"));
  EXPECT_TRUE(invalid(LabelSvg({.link = good + "\xC3\xA9"}), "not printable ASCII"));
  EXPECT_TRUE(invalid(LabelPng({.link = good, .module_px = 0}), "module_px"));
  EXPECT_TRUE(invalid(LabelPng({.link = good, .module_px = 33}), "module_px"));
  EXPECT_TRUE(invalid(LabelSvg({.link = good, .quiet_zone = -1}), "quiet_zone"));
  EXPECT_TRUE(invalid(LabelSvg({.link = good, .text_scale = 9}), "text_scale"));
  EXPECT_TRUE(invalid(LabelSvg({.link = good, .caption = {"ok", "bell\x07"}}), "line 2: control character U+0007"));
  EXPECT_TRUE(invalid(LabelSvg({.link = good, .caption = {"\xC3"}}), "not UTF-8"));
  EXPECT_TRUE(invalid(LabelSvg({.link = good, .caption = {"\xC0\xAF"}}), "not UTF-8"));   // overlong '/'
  EXPECT_TRUE(invalid(LabelSvg({.link = good, .caption = {"\xED\xA0\x80"}}), "not UTF-8"));  // surrogate
  EXPECT_TRUE(invalid(LabelSvg({.link = good, .caption = std::vector<std::string>(9, "x")}), "at most 8"));
  EXPECT_TRUE(invalid(LabelSvg({.link = good, .caption = {std::string(121, 'x')}}), "at most 120"));

  auto spec = ProductLabelSpec(kBase, {.gtin = "09506000134368", .lot = "RICE-0703"}, "x");
  ASSERT_FALSE(spec.has_value());
  EXPECT_EQ(spec.error().code(), StatusCode::kInvalidArgument);
  spec = ProductLabelSpec(kBase, {.gtin = kRiceGtin, .lot = "RICE 0703"}, "x");
  EXPECT_FALSE(spec.has_value());
  spec = ProductLabelSpec("ftp://id.example.com", {.gtin = kRiceGtin}, "x");
  ASSERT_FALSE(spec.has_value());
  EXPECT_NE(spec.error().message().find("not an http(s) URL"), std::string::npos);
  spec = ProductLabelSpec("https://", {.gtin = kRiceGtin}, "x");
  EXPECT_FALSE(spec.has_value());
  spec = ProductLabelSpec(kBase, {.gtin = kRiceGtin}, "tab\there");
  EXPECT_FALSE(spec.has_value());
}

TEST(LabelSheet, PrintsEveryLabelWithOnlyTheHashedStyle) {
  LabelSheetSpec sheet{.title = "Lot RICE/07%A&B <24 bags>", .columns = 4};
  for (int i = 1; i <= 6; ++i) {
    sheet.labels.push_back(SpecFor({.gtin = kRiceGtin, .lot = "RICE/07%A&B", .serial = "BAG-" + std::to_string(i)},
                                   "Jasmine rice 5 kg"));
  }
  auto html = LabelSheetHtml(sheet);
  ASSERT_TRUE(html.has_value()) << html.error();
  WriteArtifact("sheet.html", *html);
  auto count = [&](const std::string& needle) {
    size_t n = 0;
    for (size_t at = html->find(needle); at != std::string::npos; at = html->find(needle, at + 1)) ++n;
    return n;
  };
  EXPECT_EQ(count("<svg "), 6u);
  EXPECT_EQ(count("<figure class=\"label\">"), 6u);
  EXPECT_NE(html->find("/21/BAG-6"), std::string::npos);
  EXPECT_NE(html->find("<main class=\"sheet cols-4\">"), std::string::npos);
  EXPECT_NE(html->find("<title>Lot RICE/07%A&amp;B &lt;24 bags&gt;</title>"), std::string::npos);
  EXPECT_EQ(count("<script"), 0u);
  EXPECT_EQ(count(" style="), 0u);
  EXPECT_EQ(count("http://") - count("http://www.w3.org/2000/svg"), 0u);  // no external resources
  EXPECT_EQ(count("<link"), 0u);
  EXPECT_EQ(count("<style>"), 1u);
  // The CSP hash covers exactly the text between <style> and </style>.
  const size_t open = html->find("<style>") + 7, close = html->find("</style>");
  const std::string css = html->substr(open, close - open);
  EXPECT_EQ(css, LabelSheetCss());
  EXPECT_EQ(LabelSheetStyleSource(), "'sha256-" + Base64Encode(HashBytes(Sha256(css))) + "'");
  EXPECT_NE(css.find("size:A4"), std::string::npos);
  // Each inline label is itself well-formed XML: the first one, cut out and linted.
  const size_t svg_at = html->find("<svg "), svg_end = html->find("</svg>") + 6;
  auto lint = XmlLint(WriteArtifact("sheet-first.svg", html->substr(svg_at, svg_end - svg_at)));
  EXPECT_EQ(lint.first, 0) << lint.second;
}

TEST(LabelSheet, LotSheetHasOneLabelPerSerialOrCopies) {
  auto sheet = LotLabelSheet(kBase, kRiceGtin, "RICE-0703", "Jasmine rice 5 kg", {"BAG-1", "BAG-2", "BAG-3"}, 0);
  ASSERT_TRUE(sheet.has_value()) << sheet.error();
  EXPECT_EQ(sheet->title, "Jasmine rice 5 kg - lot RICE-0703");
  ASSERT_EQ(sheet->labels.size(), 3u);
  EXPECT_EQ(sheet->labels[2].link, "https://id.example.com/01/09506000134369/10/RICE-0703/21/BAG-3");
  EXPECT_EQ(sheet->labels[2].caption.back(), "(21) BAG-3");
  auto html = LabelSheetHtml(*sheet);
  ASSERT_TRUE(html.has_value()) << html.error();
  WriteArtifact("lot-sheet.html", *html);

  auto copies = LotLabelSheet(kBase, kRiceGtin, "RICE-0703", "", {}, 12);
  ASSERT_TRUE(copies.has_value()) << copies.error();
  EXPECT_EQ(copies->title, "Lot RICE-0703 of 09506000134369");
  ASSERT_EQ(copies->labels.size(), 12u);
  for (const auto& l : copies->labels) EXPECT_EQ(l.link, "https://id.example.com/01/09506000134369/10/RICE-0703");
  // The third serial's label decodes to its own link.
  EXPECT_TRUE(DecodesTo(sheet->labels[2], "lot-sheet-bag-3.png"));

  EXPECT_FALSE(LotLabelSheet(kBase, kRiceGtin, "RICE-0703", "", {}, 0).has_value());
  EXPECT_FALSE(LotLabelSheet(kBase, kRiceGtin, "RICE-0703", "", {}, 1001).has_value());
  auto bad = LotLabelSheet(kBase, kRiceGtin, "RICE-0703", "", {"OK-1", "NOT OK"}, 0);
  ASSERT_FALSE(bad.has_value());
  EXPECT_EQ(bad.error().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(bad.error().message().find("serial"), std::string::npos) << bad.error();
  EXPECT_FALSE(LotLabelSheet(kBase, "09506000134368", "RICE-0703", "", {}, 1).has_value());
}

TEST(LabelSheet, BadSheetsAreInvalidArgument) {
  LabelSheetSpec sheet{.title = "t"};
  auto r = LabelSheetHtml(sheet);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), StatusCode::kInvalidArgument);
  sheet.labels.push_back({.link = "https://id.example.com/01/09506000134369"});
  sheet.labels.push_back({.link = ""});
  r = LabelSheetHtml(sheet);
  ASSERT_FALSE(r.has_value());
  EXPECT_NE(r.error().message().find("label 2"), std::string::npos) << r.error();
  sheet.labels.pop_back();
  sheet.columns = 7;
  EXPECT_FALSE(LabelSheetHtml(sheet).has_value());
  sheet.columns = 2;
  EXPECT_TRUE(LabelSheetHtml(sheet).has_value());
  sheet.labels.assign(kMaxSheetLabels + 1, sheet.labels[0]);
  r = LabelSheetHtml(sheet);
  ASSERT_FALSE(r.has_value());
  EXPECT_NE(r.error().message().find("at most 1000"), std::string::npos);
}

}  // namespace
}  // namespace trace::api
