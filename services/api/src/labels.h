// QR labels for products (issue 6 item 3): a GS1 Digital Link QR code made with
// libqrencode, human-readable text under it, as PNG or SVG, and a printable A4
// sheet of labels for a lot.
//
// The QR code holds exactly `LabelSpec::link`, byte for byte, as one 8-bit
// (byte mode) segment at error correction level M; never kanji or any other
// mode that could change what a scanner returns. The smallest QR version that
// fits is used.
//
// Caption lines are printed under the code, centered. A line longer than the
// code is wide wraps at spaces to at most max(24, code width in characters)
// characters; a single word longer than that stays whole and widens the image.
//  - PNG: drawn with a built-in 5x9 bitmap font covering ASCII 0x20-0x7E; any
//    other character (one UTF-8 sequence) is drawn as '?'. 1-bit grayscale,
//    zlib-compressed, written by our own encoder (PNG 1.2, no ancillary chunks).
//  - SVG: <text> elements in a monospace font, XML-escaped, so any Unicode the
//    caption holds is shown. No XML declaration and no id attributes, so the
//    same text can be served as image/svg+xml or inlined into HTML any number
//    of times.
//
// Example:
//   gs1::DigitalLink dl{.gtin = "09506000134369", .lot = "RICE-0703"};
//   auto spec = ProductLabelSpec("https://id.example.com", dl, "Jasmine rice 5 kg");
//   if (!spec) return Fail(spec.error());
//   auto png = LabelPng(*spec);   // bytes of a .png file
//
// All functions are pure and thread-safe (libqrencode is built thread-safe on
// Debian).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "trace/common/digital_link.h"
#include "trace/common/status.h"

namespace trace::api {

// Limits checked by every function below; beyond them: InvalidArgument.
inline constexpr size_t kMaxLabelLinkBytes = 512;     // link: 1..512 bytes of printable ASCII (0x21-0x7E)
inline constexpr size_t kMaxCaptionLines = 8;         // before wrapping
inline constexpr size_t kMaxCaptionLineChars = 120;   // code points per caption line
inline constexpr size_t kMaxSheetLabels = 1000;

struct LabelSpec {
  // What the QR code encodes, exactly; normally a Digital Link URI
  // (https://host/01/{gtin14}/10/{lot}[/21/{serial}], percent-encoded).
  std::string link;
  // Lines of text under the code, top to bottom: valid UTF-8 without control
  // characters (C0, DEL); may be empty (no text area then).
  std::vector<std::string> caption;
  int module_px = 4;   // pixels (PNG) or SVG user units per QR module, 1..32
  int quiet_zone = 4;  // white modules around the code, 0..16 (ISO 18004 asks for 4)
  int text_scale = 2;  // font pixels per glyph pixel, 1..8 (2: 10x18 px glyphs)
};

// A label for a product link: `link` formatted under `public_base` with
// gs1::FormatDigitalLink, caption {product_name (when not empty), "(01) {gtin}",
// "(10) {lot}" (when there is a lot), "(21) {serial}" (when there is a serial)},
// one element string per line so that none wraps between AI and value. Lots and serials appear decoded in the caption, percent-encoded in
// the link. InvalidArgument when `link` fails gs1::ValidateDigitalLink, when
// public_base is not an http(s) URL, or when the product name is not valid
// caption text or longer than kMaxCaptionLineChars.
Result<LabelSpec> ProductLabelSpec(std::string_view public_base, const gs1::DigitalLink& link,
                                   std::string_view product_name);

// The QR symbol of a link: `width` x `width` modules, row-major, 1 = dark.
struct QrMatrix {
  int version = 0;  // 1..40
  int width = 0;    // 17 + 4 * version
  std::vector<uint8_t> modules;
  bool Dark(int x, int y) const { return modules[static_cast<size_t>(y) * width + x] != 0; }
};

// The QR code of `link` (8-bit mode, level M, smallest version), without a quiet
// zone. InvalidArgument when `link` is empty, longer than kMaxLabelLinkBytes or
// holds a byte outside 0x21-0x7E; Internal if libqrencode fails otherwise.
Result<QrMatrix> EncodeLinkQr(std::string_view link);

// The label as the bytes of a PNG file (1-bit grayscale). InvalidArgument when
// the spec breaks a rule above (the message names the field).
Result<std::string> LabelPng(const LabelSpec& spec);

// The label as an SVG document (UTF-8 text; the root <svg> carries width,
// height and viewBox in user units = pixels of the PNG at the same spec, and a
// <title> with the link). Errors as LabelPng.
Result<std::string> LabelSvg(const LabelSpec& spec);

struct LabelSheetSpec {
  std::string title;              // page title and heading (escaped), e.g. "Lot RICE-0703, 24 bags"
  std::vector<LabelSpec> labels;  // in print order, 1..kMaxSheetLabels
  int columns = 3;                // labels per row on A4, 1..6
};

// A printable A4 HTML5 page of the labels, each an inline SVG (LabelSvg) in a
// grid cell with a dashed cut line; a heading and a "print this page" hint that
// are hidden in print. No script, no external resources, no style attributes,
// no ids: its only style is one <style> element whose exact content is
// LabelSheetCss(), so the page works under a CSP whose style-src allows
// LabelSheetStyleSource() (see there). InvalidArgument when a label is invalid
// (the message names its position), there are no labels or more than
// kMaxSheetLabels, or columns is out of range.
Result<std::string> LabelSheetHtml(const LabelSheetSpec& sheet);

// The sheet for a lot of product `gtin`: one label per serial (links with /21/)
// when `serials` is not empty, otherwise `copies` labels of the lot's link; each
// made by ProductLabelSpec. Title "{product_name} - lot {lot}" (or "Lot {lot} of
// {gtin}" without a name). InvalidArgument for a bad GTIN, lot or serial (the
// message names it), copies outside 1..kMaxSheetLabels when there are no
// serials, or more than kMaxSheetLabels serials.
Result<LabelSheetSpec> LotLabelSheet(std::string_view public_base, const std::string& gtin, const std::string& lot,
                                     std::string_view product_name, const std::vector<std::string>& serials,
                                     int copies);

// The text of the sheet's <style> element (fixed; the same for every sheet).
std::string_view LabelSheetCss();

// The CSP source expression that allows that <style> element:
// "'sha256-<base64 of SHA-256(LabelSheetCss())>'". A policy for the sheet:
//   default-src 'none'; style-src 'sha256-...'; img-src 'self' data:;
//   base-uri 'none'; form-action 'none'; frame-ancestors 'none'
// (inline <svg> needs no img-src; it is there only for a favicon request).
const std::string& LabelSheetStyleSource();

}  // namespace trace::api
