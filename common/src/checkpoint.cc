#include "trace/common/checkpoint.h"

#include <charconv>
#include <cstdio>
#include <cstring>

#include "trace/common/encoding.h"

namespace trace {
namespace {

constexpr std::string_view kSigPrefix = "\xE2\x80\x94 ";  // U+2014 EM DASH, space
constexpr uint8_t kAlgEd25519 = 0x01;
constexpr size_t kMaxSignatures = 100;

// Decodes one UTF-8 sequence at s[*i], advancing *i. Returns -1 for anything
// that is not shortest-form UTF-8 of a scalar value.
int32_t NextCodePoint(std::string_view s, size_t* i) {
  const auto byte = [&](size_t k) { return static_cast<uint8_t>(s[k]); };
  const uint8_t b0 = byte(*i);
  if (b0 < 0x80) {
    ++*i;
    return b0;
  }
  size_t len;
  int32_t cp;
  int32_t min;
  if ((b0 & 0xE0) == 0xC0) {
    len = 2, cp = b0 & 0x1F, min = 0x80;
  } else if ((b0 & 0xF0) == 0xE0) {
    len = 3, cp = b0 & 0x0F, min = 0x800;
  } else if ((b0 & 0xF8) == 0xF0) {
    len = 4, cp = b0 & 0x07, min = 0x10000;
  } else {
    return -1;
  }
  if (*i + len > s.size()) return -1;
  for (size_t k = 1; k < len; ++k) {
    const uint8_t b = byte(*i + k);
    if ((b & 0xC0) != 0x80) return -1;
    cp = (cp << 6) | (b & 0x3F);
  }
  if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return -1;
  *i += len;
  return cp;
}

// Note text rules (C2SP signed-note): valid UTF-8, no control characters but
// newline. Returns the offset of the first offence in the message.
Status CheckNoteCharacters(std::string_view text, std::string_view what) {
  for (size_t i = 0; i < text.size();) {
    const size_t at = i;
    const int32_t cp = NextCodePoint(text, &i);
    if (cp < 0) return InvalidArgument(std::string(what) + ": invalid UTF-8 at byte " + std::to_string(at));
    if ((cp < 0x20 && cp != '\n') || cp == 0x7F) {
      return InvalidArgument(std::string(what) + ": control character at byte " + std::to_string(at));
    }
  }
  return OkStatus();
}

// Unicode White_Space, as Go's unicode.IsSpace.
bool IsUnicodeSpace(int32_t cp) {
  switch (cp) {
    case '\t': case '\n': case '\v': case '\f': case '\r': case ' ':
    case 0x85: case 0xA0: case 0x1680: case 0x2028: case 0x2029: case 0x202F: case 0x205F: case 0x3000:
      return true;
    default:
      return cp >= 0x2000 && cp <= 0x200A;
  }
}

std::string Hex8(uint32_t v) {
  char buf[9];
  std::snprintf(buf, sizeof buf, "%08x", v);
  return buf;
}

std::string KeyText(std::string_view name, uint32_t id) { return std::string(name) + "+" + Hex8(id); }

uint32_t BigEndian32(std::string_view b) {
  return (uint32_t{static_cast<uint8_t>(b[0])} << 24) | (uint32_t{static_cast<uint8_t>(b[1])} << 16) |
         (uint32_t{static_cast<uint8_t>(b[2])} << 8) | uint32_t{static_cast<uint8_t>(b[3])};
}

Status CheckNoteText(std::string_view text) {
  if (text.empty() || text.back() != '\n') return InvalidArgument("note text: must end with a newline");
  return CheckNoteCharacters(text, "note text");
}

Result<uint64_t> ParseTreeSize(std::string_view s) {
  // Messages built by appending: g++ 12 warns falsely (-Wrestrict) on
  // "literal" + std::string here.
  std::string quoted;
  quoted.append(1, '"').append(s).append(1, '"');
  if (s.empty()) return Fail(InvalidArgument("empty"));
  for (char c : s) {
    if (c < '0' || c > '9') return Fail(InvalidArgument(quoted.append(" is not decimal digits")));
  }
  if (s.size() > 1 && s[0] == '0') return Fail(InvalidArgument(quoted.append(" has a leading zero")));
  uint64_t v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size()) {
    return Fail(InvalidArgument(quoted.append(" does not fit 64 bits")));
  }
  return v;
}

}  // namespace

std::string FormatCheckpointBody(const Checkpoint& checkpoint) {
  std::string out = checkpoint.origin;
  out += '\n';
  out += std::to_string(checkpoint.tree_size);
  out += '\n';
  out += Base64Encode(HashBytes(checkpoint.root));
  out += '\n';
  for (const std::string& ext : checkpoint.extensions) {
    out += ext;
    out += '\n';
  }
  return out;
}

Result<Checkpoint> ParseCheckpointBody(std::string_view text) {
  if (text.empty() || text.back() != '\n') return Fail(InvalidArgument("checkpoint: must end with a newline"));
  if (Status s = CheckNoteCharacters(text, "checkpoint"); !s.ok()) return Fail(s);
  std::vector<std::string_view> lines;
  for (size_t start = 0; start < text.size();) {
    const size_t nl = text.find('\n', start);
    lines.push_back(text.substr(start, nl - start));
    start = nl + 1;
  }
  if (lines.size() < 3) {
    return Fail(InvalidArgument("checkpoint: " + std::to_string(lines.size()) +
                                " lines, want origin, tree size and root hash"));
  }
  for (size_t i = 0; i < lines.size(); ++i) {
    if (lines[i].empty()) return Fail(InvalidArgument("checkpoint: line " + std::to_string(i + 1) + " is empty"));
  }
  Checkpoint cp;
  cp.origin = std::string(lines[0]);
  auto size = ParseTreeSize(lines[1]);
  if (!size) return Fail(size.error().WithContext("checkpoint: tree size (line 2)"));
  cp.tree_size = *size;
  auto root = Base64Decode(lines[2]);
  if (!root) return Fail(root.error().WithContext("checkpoint: root hash (line 3)"));
  if (root->size() != cp.root.size()) {
    return Fail(InvalidArgument("checkpoint: root hash (line 3): " + std::to_string(root->size()) +
                                " bytes, want 32"));
  }
  std::memcpy(cp.root.data(), root->data(), cp.root.size());
  for (size_t i = 3; i < lines.size(); ++i) cp.extensions.emplace_back(lines[i]);
  return cp;
}

bool IsValidNoteKeyName(std::string_view name) {
  if (name.empty()) return false;
  for (size_t i = 0; i < name.size();) {
    const int32_t cp = NextCodePoint(name, &i);
    if (cp < 0 || cp == '+' || IsUnicodeSpace(cp)) return false;
  }
  return true;
}

uint32_t NoteKeyId(std::string_view key_name, std::string_view public_key) {
  const char alg = static_cast<char>(kAlgEd25519);
  const Hash h = Sha256({key_name, "\n", std::string_view(&alg, 1), public_key});
  return BigEndian32(std::string_view(reinterpret_cast<const char*>(h.data()), 4));
}

Result<std::string> SignNote(std::string_view text, std::string_view key_name, const Ed25519PrivateKey& key) {
  if (!IsValidNoteKeyName(key_name)) {
    return Fail(InvalidArgument("sign note: invalid key name \"" + std::string(key_name) + "\""));
  }
  if (Status s = CheckNoteText(text); !s.ok()) return Fail(s.WithContext("sign note"));
  const uint32_t id = NoteKeyId(key_name, key.public_key());
  std::string blob;
  blob.reserve(4 + kEd25519SignatureBytes);
  for (int shift = 24; shift >= 0; shift -= 8) blob += static_cast<char>((id >> shift) & 0xFF);
  blob += key.Sign(text);
  std::string note(text);
  note += '\n';
  note += kSigPrefix;
  note += key_name;
  note += ' ';
  note += Base64Encode(blob);
  note += '\n';
  return note;
}

Result<std::string> SignCheckpoint(const Checkpoint& checkpoint, std::string_view key_name,
                                   const Ed25519PrivateKey& key) {
  const std::string body = FormatCheckpointBody(checkpoint);
  auto parsed = ParseCheckpointBody(body);
  if (!parsed) return Fail(parsed.error().WithContext("sign checkpoint"));
  if (*parsed != checkpoint) return Fail(InvalidArgument("sign checkpoint: fields do not survive formatting"));
  return SignNote(body, key_name, key);
}

Result<std::string> VerifyNote(std::string_view note, std::string_view key_name, std::string_view public_key) {
  if (!IsValidNoteKeyName(key_name)) {
    return Fail(InvalidArgument("note: invalid key name \"" + std::string(key_name) + "\""));
  }
  if (public_key.size() != kEd25519KeyBytes) {
    return Fail(InvalidArgument("note: public key is " + std::to_string(public_key.size()) + " bytes, want 32"));
  }
  if (Status s = CheckNoteCharacters(note, "note"); !s.ok()) return Fail(s);
  const size_t split = note.rfind("\n\n");
  if (split == std::string_view::npos) return Fail(InvalidArgument("note: no empty line before the signatures"));
  const std::string_view text = note.substr(0, split + 1);
  std::string_view sigs = note.substr(split + 2);
  if (sigs.empty()) return Fail(InvalidArgument("note: no signature lines"));
  if (sigs.back() != '\n') return Fail(InvalidArgument("note: last signature line does not end with a newline"));

  const uint32_t want_id = NoteKeyId(key_name, public_key);
  size_t count = 0;
  bool verified = false;
  while (!sigs.empty()) {
    const size_t nl = sigs.find('\n');
    std::string_view line = sigs.substr(0, nl);
    sigs.remove_prefix(nl + 1);
    const std::string where = "note: signature line " + std::to_string(++count);
    if (count > kMaxSignatures) return Fail(InvalidArgument("note: more than 100 signature lines"));
    if (!line.starts_with(kSigPrefix)) return Fail(InvalidArgument(where + ": does not start with \"— \""));
    line.remove_prefix(kSigPrefix.size());
    const size_t space = line.find(' ');
    if (space == std::string_view::npos) return Fail(InvalidArgument(where + ": no space after the key name"));
    const std::string_view name = line.substr(0, space);
    const std::string_view b64 = line.substr(space + 1);
    if (!IsValidNoteKeyName(name)) return Fail(InvalidArgument(where + ": invalid key name"));
    auto blob = Base64Decode(b64);
    if (!blob) return Fail(blob.error().WithContext(where));
    if (blob->size() < 5) return Fail(InvalidArgument(where + ": signature shorter than 5 bytes"));
    const uint32_t id = BigEndian32(*blob);
    // Lines by other keys are left unverified; the first line by this key
    // decides (repeats of a verified line are harmless, as in sumdb/note).
    if (name != key_name || id != want_id || verified) continue;
    const std::string_view signature = std::string_view(*blob).substr(4);
    if (!Ed25519Verify(public_key, text, signature)) {
      return Fail(Unauthenticated(where + ": invalid signature for key " + KeyText(key_name, want_id)));
    }
    verified = true;
  }
  if (!verified) return Fail(Unauthenticated("note: no signature by key " + KeyText(key_name, want_id)));
  return std::string(text);
}

Result<Checkpoint> VerifyCheckpointNote(std::string_view note, std::string_view key_name,
                                        std::string_view public_key) {
  auto text = VerifyNote(note, key_name, public_key);
  if (!text) return Fail(text.error());
  return ParseCheckpointBody(*text);
}

Result<std::string> FormatVerifierKey(std::string_view name, std::string_view public_key) {
  if (!IsValidNoteKeyName(name)) return Fail(InvalidArgument("verifier key: invalid name \"" + std::string(name) + "\""));
  if (public_key.size() != kEd25519KeyBytes) {
    return Fail(InvalidArgument("verifier key: public key is " + std::to_string(public_key.size()) +
                                " bytes, want 32"));
  }
  std::string key(1, static_cast<char>(kAlgEd25519));
  key += public_key;
  return std::string(name) + "+" + Hex8(NoteKeyId(name, public_key)) + "+" + Base64Encode(key);
}

Result<NoteVerifierKey> ParseVerifierKey(std::string_view text) {
  const size_t p1 = text.find('+');
  const size_t p2 = p1 == std::string_view::npos ? p1 : text.find('+', p1 + 1);
  if (p2 == std::string_view::npos) return Fail(InvalidArgument("verifier key: want <name>+<id>+<key>"));
  NoteVerifierKey out;
  out.name = std::string(text.substr(0, p1));
  const std::string_view hex = text.substr(p1 + 1, p2 - p1 - 1);
  const std::string_view b64 = text.substr(p2 + 1);
  if (!IsValidNoteKeyName(out.name)) return Fail(InvalidArgument("verifier key: invalid name \"" + out.name + "\""));
  if (hex.size() != 8) return Fail(InvalidArgument("verifier key: key id must be 8 hex digits"));
  auto id = HexDecode(hex);
  if (!id) return Fail(id.error().WithContext("verifier key: key id"));
  out.key_id = BigEndian32(*id);
  auto key = Base64Decode(b64);
  if (!key) return Fail(key.error().WithContext("verifier key: key"));
  if (key->size() != 1 + kEd25519KeyBytes) {
    return Fail(InvalidArgument("verifier key: key is " + std::to_string(key->size()) + " bytes, want 33"));
  }
  if (static_cast<uint8_t>((*key)[0]) != kAlgEd25519) {
    return Fail(InvalidArgument("verifier key: algorithm " + std::to_string(static_cast<uint8_t>((*key)[0])) +
                                " is not Ed25519 (1)"));
  }
  out.public_key = key->substr(1);
  const uint32_t want = NoteKeyId(out.name, out.public_key);
  if (out.key_id != want) {
    return Fail(InvalidArgument("verifier key: key id " + Hex8(out.key_id) + " does not match the key (" +
                                Hex8(want) + ")"));
  }
  return out;
}

}  // namespace trace
