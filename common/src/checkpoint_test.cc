#include "trace/common/checkpoint.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "trace/common/encoding.h"
#include "trace/common/merkle.h"

namespace trace {
namespace {

const std::string kEmDash = "\xE2\x80\x94";

Ed25519PrivateKey KeyFromSeedByte(char b) { return *Ed25519PrivateKey::FromSeed(std::string(32, b)); }

Checkpoint SampleCheckpoint() {
  Checkpoint cp;
  cp.origin = "trace.example.org/log";
  cp.tree_size = 1234;
  cp.root = merkle::LeafHash("root");
  return cp;
}

// ---- Checkpoint bodies ----

TEST(Checkpoint, BodyFormatIsC2spTlogCheckpoint) {
  Checkpoint cp = SampleCheckpoint();
  cp.extensions = {"ext one", "ext-two"};
  const std::string want = "trace.example.org/log\n1234\n" + Base64Encode(HashBytes(cp.root)) + "\next one\next-two\n";
  EXPECT_EQ(FormatCheckpointBody(cp), want);
  auto back = ParseCheckpointBody(want);
  ASSERT_TRUE(back.has_value()) << back.error();
  EXPECT_EQ(*back, cp);
  // Size 0 and the empty root.
  Checkpoint empty{.origin = "o", .tree_size = 0, .root = merkle::EmptyRoot(), .extensions = {}};
  EXPECT_EQ(FormatCheckpointBody(empty), "o\n0\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n");
  EXPECT_EQ(*ParseCheckpointBody(FormatCheckpointBody(empty)), empty);
  // The largest size.
  auto max = ParseCheckpointBody("o\n18446744073709551615\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n");
  ASSERT_TRUE(max.has_value()) << max.error();
  EXPECT_EQ(max->tree_size, UINT64_MAX);
}

TEST(Checkpoint, MalformedBodiesAreRefused) {
  const std::string root = "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=";
  const std::vector<std::pair<std::string, std::string>> bad = {
      {"no final newline", "o\n1\n" + root},
      {"too few lines", "o\n1\n"},
      {"empty origin", "\n1\n" + root + "\n"},
      {"empty extension", "o\n1\n" + root + "\n\next\n"},
      {"size with sign", "o\n+1\n" + root + "\n"},
      {"negative size", "o\n-1\n" + root + "\n"},
      {"leading zero", "o\n01\n" + root + "\n"},
      {"hex size", "o\n0x10\n" + root + "\n"},
      {"size with space", "o\n1 \n" + root + "\n"},
      {"size overflows", "o\n18446744073709551616\n" + root + "\n"},
      {"empty size", "o\n\n" + root + "\n"},
      {"root not base64", "o\n1\n!!!!\n"},
      {"root unpadded", "o\n1\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU\n"},
      {"root 31 bytes", "o\n1\n" + Base64Encode(std::string(31, 'x')) + "\n"},
      {"root 33 bytes", "o\n1\n" + Base64Encode(std::string(33, 'x')) + "\n"},
      {"root base64url", "o\n1\n" + Base64UrlEncode(std::string(32, '\xff')) + "=\n"},
      {"tab in origin", "o\tx\n1\n" + root + "\n"},
      {"carriage return", "o\r\n1\n" + root + "\n"},
      {"NUL in extension", "o\n1\n" + root + "\nab" + std::string(1, '\0') + "c\n"},
      {"DEL in origin", "o\x7f\n1\n" + root + "\n"},
      {"invalid UTF-8", "o\xff\n1\n" + root + "\n"},
      {"overlong UTF-8", "o\xc0\xaf\n1\n" + root + "\n"},
      {"UTF-16 surrogate", "o\xed\xa0\x80\n1\n" + root + "\n"},
  };
  for (const auto& [what, text] : bad) {
    auto cp = ParseCheckpointBody(text);
    EXPECT_FALSE(cp.has_value()) << what;
    if (!cp) {
      EXPECT_EQ(cp.error().code(), StatusCode::kInvalidArgument) << what;
    }
  }
  // Non-ASCII UTF-8 is fine.
  EXPECT_TRUE(ParseCheckpointBody("r\xc3\xaes.example/log\n1\n" + root + "\n").has_value());
}

// ---- Key ids and verifier keys ----

TEST(Checkpoint, KeyIdIsSha256OfNameNewlineAlgorithmKey) {
  const Ed25519PrivateKey key = KeyFromSeedByte(7);
  const std::string name = "trace.example.org/log";
  // Written out byte by byte, independently of NoteKeyId.
  std::string preimage = name;
  preimage.push_back('\x0a');
  preimage.push_back('\x01');
  preimage += key.public_key();
  const Hash h = Sha256(preimage);
  const uint32_t want = (uint32_t{h[0]} << 24) | (uint32_t{h[1]} << 16) | (uint32_t{h[2]} << 8) | h[3];
  EXPECT_EQ(NoteKeyId(name, key.public_key()), want);
  EXPECT_NE(NoteKeyId("other", key.public_key()), want);
}

// golang.org/x/mod/sumdb/note's test keys (note_test.go): an external known
// answer for the key id, the verifier key text and the signature line.
constexpr std::string_view kPeterSigner = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz";
constexpr std::string_view kPeterVerifier = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW";
constexpr std::string_view kEnochVerifier = "EnochRoot+af0cfe78+ATtqJ7zOtqQtYqOo0CpvDXNlMhV3HeJDpjrASKGLWdop";
const std::string kGoText =
    "If you think cryptography is the answer to your problem,\n"
    "then you don't know what your problem is.\n";
const std::string kPeterSig =
    kEmDash + " PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n";
const std::string kEnochSig =
    kEmDash + " EnochRoot rwz+eBzmZa0SO3NbfRGzPCpDckykFXSdeX+MNtCOXm2/5n2tiOHp+vAF1aGrQ5ovTG01oOTGwnWLox33WWd1RvMc+QQ=\n";

Ed25519PrivateKey PeterKey() {
  // "PRIVATE+KEY+<name>+<id>+" then base64(0x01 || seed).
  // The base64 part may itself hold '+': it starts after the fourth '+'.
  size_t at = 0;
  for (int i = 0; i < 4; ++i) at = kPeterSigner.find('+', at) + 1;
  auto raw = Base64Decode(kPeterSigner.substr(at));
  if (!raw || raw->size() != 33 || (*raw)[0] != '\x01') {
    ADD_FAILURE() << "cannot decode the Go signer key";
    return KeyFromSeedByte(0);
  }
  auto key = Ed25519PrivateKey::FromSeed(raw->substr(1));
  if (!key) {
    ADD_FAILURE() << key.error();
    return KeyFromSeedByte(0);
  }
  return *key;
}

TEST(Checkpoint, MatchesGoSumdbNoteVectors) {
  const Ed25519PrivateKey peter = PeterKey();
  EXPECT_EQ(NoteKeyId("PeterNeumann", peter.public_key()), 0xc74f20a3u);
  auto vkey = FormatVerifierKey("PeterNeumann", peter.public_key());
  ASSERT_TRUE(vkey.has_value()) << vkey.error();
  EXPECT_EQ(*vkey, kPeterVerifier);

  auto signed_note = SignNote(kGoText, "PeterNeumann", peter);
  ASSERT_TRUE(signed_note.has_value()) << signed_note.error();
  EXPECT_EQ(*signed_note, kGoText + "\n" + kPeterSig);

  auto enoch = ParseVerifierKey(kEnochVerifier);
  ASSERT_TRUE(enoch.has_value()) << enoch.error();
  EXPECT_EQ(enoch->key_id, 0xaf0cfe78u);

  // Both of Go's signatures verify, each with its own key, in either order.
  for (const std::string& note : {kGoText + "\n" + kPeterSig + kEnochSig, kGoText + "\n" + kEnochSig + kPeterSig}) {
    auto by_peter = VerifyNote(note, "PeterNeumann", peter.public_key());
    ASSERT_TRUE(by_peter.has_value()) << by_peter.error();
    EXPECT_EQ(*by_peter, kGoText);
    auto by_enoch = VerifyNote(note, "EnochRoot", enoch->public_key);
    ASSERT_TRUE(by_enoch.has_value()) << by_enoch.error();
    EXPECT_EQ(*by_enoch, kGoText);
  }
  // Only Enoch's line: no signature by Peter.
  auto missing = VerifyNote(kGoText + "\n" + kEnochSig, "PeterNeumann", peter.public_key());
  ASSERT_FALSE(missing.has_value());
  EXPECT_EQ(missing.error().code(), StatusCode::kUnauthenticated);
  EXPECT_NE(missing.error().message().find("PeterNeumann+c74f20a3"), std::string::npos) << missing.error();

  // Go's "invalid signature" case: bytes spliced into Peter's signature.
  const std::string spliced = kPeterSig.substr(0, 60) + "ABCD" + kPeterSig.substr(60);
  auto bad_sig = VerifyNote(kGoText + "\n" + spliced, "PeterNeumann", peter.public_key());
  ASSERT_FALSE(bad_sig.has_value());
  EXPECT_EQ(bad_sig.error().code(), StatusCode::kUnauthenticated);

  // Go's malformed messages.
  const std::vector<std::string> bad_msgs = {
      kGoText,
      kGoText + "\n",
      kGoText + "\n" + kPeterSig.substr(0, kPeterSig.size() - 1),
      "\x01" + kGoText + "\n" + kPeterSig,
      "\xff" + kGoText + "\n" + kPeterSig,
      kGoText + "\n" + kEmDash +
          " Bad Name x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=",
      kGoText + "\n" + kPeterSig + "Unexpected line.\n",
  };
  for (const std::string& msg : bad_msgs) {
    auto r = VerifyNote(msg, "PeterNeumann", peter.public_key());
    ASSERT_FALSE(r.has_value()) << msg;
    EXPECT_EQ(r.error().code(), StatusCode::kInvalidArgument) << msg << r.error();
  }
  // More than 100 signature lines.
  std::string many = kGoText + "\n";
  for (int i = 0; i < 101; ++i) many += kPeterSig;
  EXPECT_EQ(VerifyNote(many, "PeterNeumann", peter.public_key()).error().code(), StatusCode::kInvalidArgument);
}

TEST(Checkpoint, VerifierKeyRoundTripAndManglingsRefused) {
  const Ed25519PrivateKey key = KeyFromSeedByte(3);
  auto text = FormatVerifierKey("trace.example.org/log", key.public_key());
  ASSERT_TRUE(text.has_value());
  auto parsed = ParseVerifierKey(*text);
  ASSERT_TRUE(parsed.has_value()) << parsed.error();
  EXPECT_EQ(parsed->name, "trace.example.org/log");
  EXPECT_EQ(parsed->public_key, key.public_key());
  EXPECT_EQ(parsed->key_id, NoteKeyId("trace.example.org/log", key.public_key()));

  EXPECT_FALSE(FormatVerifierKey("a+b", key.public_key()).has_value());
  EXPECT_FALSE(FormatVerifierKey("a b", key.public_key()).has_value());
  EXPECT_FALSE(FormatVerifierKey("", key.public_key()).has_value());
  EXPECT_FALSE(FormatVerifierKey("name", "short").has_value());

  // As Go's TestNewVerifier: every proper substring and every single-byte
  // change of a valid key is refused.
  const std::string vkey(kPeterVerifier);
  ASSERT_TRUE(ParseVerifierKey(vkey).has_value());
  int refused = 0;
  for (size_t i = 0; i <= vkey.size(); ++i) {
    for (size_t j = i + 1; j <= vkey.size(); ++j) {
      if (i == 0 && j == vkey.size()) continue;
      EXPECT_FALSE(ParseVerifierKey(vkey.substr(i, j - i)).has_value()) << vkey.substr(i, j - i);
      ++refused;
    }
  }
  for (size_t i = 0; i < vkey.size(); ++i) {
    std::string b = vkey;
    ++b[i];
    EXPECT_FALSE(ParseVerifierKey(b).has_value()) << b;
  }
  EXPECT_GT(refused, 2000);
  // Go's: wrong-length key and unknown algorithm, each with a matching id.
  EXPECT_FALSE(ParseVerifierKey("PeterNeumann+cc469956+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TWBADKEY==").has_value());
  EXPECT_FALSE(ParseVerifierKey("PeterNeumann+173116ae+ZRpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW").has_value());
}

// ---- Signed checkpoints ----

TEST(Checkpoint, SignedCheckpointRoundTrips) {
  const Ed25519PrivateKey key = KeyFromSeedByte(1);
  Checkpoint cp = SampleCheckpoint();
  cp.extensions = {"anchor 0x1234"};
  auto note = SignCheckpoint(cp, "trace.example.org/log", key);
  ASSERT_TRUE(note.has_value()) << note.error();
  // Body, empty line, one signature line of 4 + 64 bytes.
  const std::string body = FormatCheckpointBody(cp);
  ASSERT_TRUE(note->starts_with(body + "\n" + kEmDash + " trace.example.org/log "));
  const std::string b64 = note->substr(body.size() + 1 + kEmDash.size() + 1 + 22, note->size() - body.size() - 1 -
                                                                                     kEmDash.size() - 1 - 22 - 1);
  auto blob = Base64Decode(b64);
  ASSERT_TRUE(blob.has_value()) << b64;
  EXPECT_EQ(blob->size(), 68u);
  EXPECT_TRUE(Ed25519Verify(key.public_key(), body, blob->substr(4)));

  auto back = VerifyCheckpointNote(*note, "trace.example.org/log", key.public_key());
  ASSERT_TRUE(back.has_value()) << back.error();
  EXPECT_EQ(*back, cp);

  // SignCheckpoint refuses what would not parse back.
  Checkpoint bad = cp;
  bad.origin = "two\nlines";
  EXPECT_FALSE(SignCheckpoint(bad, "k", key).has_value());
  bad = cp;
  bad.extensions = {""};
  EXPECT_FALSE(SignCheckpoint(bad, "k", key).has_value());
  EXPECT_FALSE(SignCheckpoint(cp, "bad name", key).has_value());
  EXPECT_FALSE(SignNote("no newline", "k", key).has_value());
  EXPECT_FALSE(SignNote("ctl\x01\n", "k", key).has_value());
}

TEST(Checkpoint, TamperedOrForeignNotesAreRefused) {
  const Ed25519PrivateKey key = KeyFromSeedByte(1);
  const Ed25519PrivateKey other = KeyFromSeedByte(2);
  const std::string name = "trace.example.org/log";
  const Checkpoint cp = SampleCheckpoint();
  const std::string body = FormatCheckpointBody(cp);
  const std::string note = *SignCheckpoint(cp, name, key);
  const std::string sig_lines = note.substr(body.size() + 1);

  auto code_of = [&](const std::string& text) {
    auto r = VerifyCheckpointNote(text, name, key.public_key());
    return r ? StatusCode::kOk : r.error().code();
  };
  ASSERT_EQ(code_of(note), StatusCode::kOk);

  // Changed body: the size, one root character.
  Checkpoint grown = cp;
  grown.tree_size += 1;
  EXPECT_EQ(code_of(FormatCheckpointBody(grown) + "\n" + sig_lines), StatusCode::kUnauthenticated);
  std::string flipped = note;
  flipped[body.size() - 5] = flipped[body.size() - 5] == 'A' ? 'B' : 'A';
  EXPECT_EQ(code_of(flipped), StatusCode::kUnauthenticated);

  // Another key with the same name: its id differs, so no line is by our key.
  const std::string foreign = *SignCheckpoint(cp, name, other);
  EXPECT_EQ(code_of(foreign), StatusCode::kUnauthenticated);
  // The other key's line first, ours second: still verifies.
  const std::string foreign_line = foreign.substr(body.size() + 1);
  EXPECT_EQ(code_of(body + "\n" + foreign_line + sig_lines), StatusCode::kOk);
  // Our name and id but another key's signature bytes.
  auto foreign_blob = *Base64Decode(foreign_line.substr(kEmDash.size() + 1 + name.size() + 1,
                                                        foreign_line.size() - kEmDash.size() - name.size() - 3));
  auto our_blob = *Base64Decode(sig_lines.substr(kEmDash.size() + 1 + name.size() + 1,
                                                 sig_lines.size() - kEmDash.size() - name.size() - 3));
  const std::string forged = our_blob.substr(0, 4) + foreign_blob.substr(4);
  EXPECT_EQ(code_of(body + "\n" + kEmDash + " " + name + " " + Base64Encode(forged) + "\n"),
            StatusCode::kUnauthenticated);
  // Wrong key id with a valid signature.
  std::string wrong_id = our_blob;
  wrong_id[0] = static_cast<char>(wrong_id[0] ^ 1);
  EXPECT_EQ(code_of(body + "\n" + kEmDash + " " + name + " " + Base64Encode(wrong_id) + "\n"),
            StatusCode::kUnauthenticated);
  // The right key under another name.
  EXPECT_FALSE(VerifyCheckpointNote(note, "other.example/log", key.public_key()).has_value());

  // Malformed notes.
  const std::vector<std::pair<std::string, std::string>> malformed = {
      {"missing blank line", body + sig_lines},
      {"no signatures", body + "\n"},
      {"hyphen instead of em dash", body + "\n- " + sig_lines.substr(kEmDash.size() + 1)},
      {"bad base64", body + "\n" + kEmDash + " " + name + " !!notbase64!!\n"},
      {"unpadded base64", body + "\n" + sig_lines.substr(0, sig_lines.size() - 2) + "\n"},
      {"signature too short", body + "\n" + kEmDash + " " + name + " AAAA\n"},
      {"no space after name", body + "\n" + kEmDash + " " + name + "\n"},
      {"name with plus", body + "\n" + kEmDash + " a+b " + Base64Encode(our_blob) + "\n"},
      {"missing final newline", note.substr(0, note.size() - 1)},
      {"trailing text line", note + "more\n"},
      {"control character", "\x02" + note},
  };
  for (const auto& [what, text] : malformed) EXPECT_EQ(code_of(text), StatusCode::kInvalidArgument) << what;

  // A valid note whose body is not a checkpoint.
  const std::string not_cp = *SignNote("just one line\n", name, key);
  EXPECT_TRUE(VerifyNote(not_cp, name, key.public_key()).has_value());
  EXPECT_EQ(code_of(not_cp), StatusCode::kInvalidArgument);
  // Bad arguments.
  EXPECT_FALSE(VerifyCheckpointNote(note, name, "short").has_value());
  EXPECT_FALSE(VerifyCheckpointNote(note, "", key.public_key()).has_value());
}

}  // namespace
}  // namespace trace
