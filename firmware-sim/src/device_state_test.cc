#include "device_state.h"

#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include <boost/json.hpp>
#include <gtest/gtest.h>

#include "trace/common/files.h"
#include "trace/common/receipt.h"
#include "trace/common/time.h"

namespace trace::devicesim {
namespace {
namespace fs = std::filesystem;

class TempDir {
 public:
  TempDir() {
    std::string tmpl = (fs::temp_directory_path() / "devicesim-test-XXXXXX").string();
    path_ = ::mkdtemp(tmpl.data());
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

boost::json::array Reading(double celsius) {
  return boost::json::array{boost::json::object{
      {"type", "ObjectEvent"},
      {"action", "OBSERVE"},
      {"bizStep", "sensor_reporting"},
      {"eventTime", "2026-03-01T06:00:00.000Z"},
      {"eventTimeZoneOffset", "+07:00"},
      {"readPoint", {{"id", "urn:epc:id:sgln:8850123.00010.1"}}},
      {"sensorElementList",
       boost::json::array{{{"sensorReport", boost::json::array{{{"type", "Temperature"}, {"value", celsius},
                                                               {"uom", "CEL"}}}}}}}}};
}

// A receipt as the gateway would sign it.
std::string SignedReceipt(const Envelope& env, ReceiptStatus status, const Ed25519PrivateKey& key,
                          std::optional<Reason> reason = std::nullopt) {
  Receipt r = ReceiptForEnvelope(env, status);
  r.reason = reason;
  r.at = "2026-03-01T06:00:01.000Z";
  r.key = "receipt-0123abcd";
  auto payload = SignReceipt(r, key);
  EXPECT_TRUE(payload.has_value()) << payload.error();
  return payload.value_or("");
}

TEST(SeqAllocator, StrictlyIncreasesAcrossReopen) {
  TempDir dir;
  std::string path = dir.path() + "/seq";
  {
    auto seq = SeqAllocator::Open(path, 1);
    ASSERT_TRUE(seq) << seq.error();
    EXPECT_EQ(*(*seq)->Next(), 1u);
    EXPECT_EQ(*(*seq)->Next(), 2u);
    EXPECT_EQ(*(*seq)->Next(), 3u);
    EXPECT_EQ((*seq)->reserved(), 3u);
  }
  EXPECT_EQ(*ReadFile(path), "3\n");
  auto again = SeqAllocator::Open(path, 1);
  ASSERT_TRUE(again);
  EXPECT_EQ(*(*again)->Next(), 4u);
}

TEST(SeqAllocator, BlockReservationIsPersistedBeforeUseAndSkippedAfterCrash) {
  TempDir dir;
  std::string path = dir.path() + "/seq";
  {
    auto seq = SeqAllocator::Open(path, 100);
    ASSERT_TRUE(seq);
    EXPECT_EQ(*(*seq)->Next(), 1u);
    // The whole block is on disk before seq 1 is handed out.
    EXPECT_EQ(*ReadFile(path), "100\n");
    for (int i = 2; i <= 100; ++i) ASSERT_EQ(*(*seq)->Next(), static_cast<uint64_t>(i));
    EXPECT_EQ(*(*seq)->Next(), 101u);
    EXPECT_EQ(*ReadFile(path), "200\n");
    // "Crash" here: numbers 102..200 are never used.
  }
  auto again = SeqAllocator::Open(path, 100);
  ASSERT_TRUE(again);
  EXPECT_EQ(*(*again)->Next(), 201u);
}

TEST(SeqAllocator, AtLeastAndBadFiles) {
  TempDir dir;
  std::string path = dir.path() + "/seq";
  ASSERT_TRUE(WriteFileAtomic(path, "7\n").ok());
  auto seq = SeqAllocator::Open(path, 1, 40);
  ASSERT_TRUE(seq);
  EXPECT_EQ(*(*seq)->Next(), 41u);

  ASSERT_TRUE(WriteFileAtomic(path, "seven").ok());
  EXPECT_EQ(SeqAllocator::Open(path, 1).error().code(), StatusCode::kInvalidArgument);
  ASSERT_TRUE(WriteFileAtomic(path, "9007199254740992").ok());  // 2^53, beyond kMaxSeq
  EXPECT_FALSE(SeqAllocator::Open(path, 1));
  ASSERT_TRUE(WriteFileAtomic(path, "9007199254740991").ok());  // kMaxSeq itself: nothing left
  auto full = SeqAllocator::Open(path, 1);
  ASSERT_TRUE(full);
  EXPECT_EQ((*full)->Next().error().code(), StatusCode::kResourceExhausted);
  EXPECT_FALSE(SeqAllocator::Open(path, 0));
}

class OutboxTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto key = DeviceState::Keygen(dir_.path(), "green-valley-farm", "field-7-soil");
    ASSERT_TRUE(key) << key.error();
    auto dev = DeviceState::Open(dir_.path(), "green-valley-farm", "field-7-soil");
    ASSERT_TRUE(dev) << dev.error();
    dev_ = std::move(*dev);
    keys_ = {platform_.public_key()};
  }
  Envelope Seal(double celsius) {
    auto env = dev_->Seal(Reading(celsius), std::chrono::system_clock::now());
    EXPECT_TRUE(env) << env.error();
    return env.value_or(Envelope{});
  }

  TempDir dir_;
  std::unique_ptr<DeviceState> dev_;
  Ed25519PrivateKey platform_ = Ed25519PrivateKey::Generate();
  std::vector<std::string> keys_;
};

TEST_F(OutboxTest, KeygenWritesKeyWithMode0600AndIsIdempotent) {
  std::string path = dev_->dir() + "/device.key";
  EXPECT_EQ(*FileMode(path), 0600u);
  auto again = DeviceState::Keygen(dir_.path(), "green-valley-farm", "field-7-soil");
  ASSERT_TRUE(again);
  EXPECT_EQ(again->public_key(), dev_->key().public_key());
  auto replaced = DeviceState::Keygen(dir_.path(), "green-valley-farm", "field-7-soil", /*replace=*/true);
  ASSERT_TRUE(replaced);
  EXPECT_NE(replaced->public_key(), dev_->key().public_key());
  EXPECT_FALSE(DeviceState::Keygen(dir_.path(), "Green Valley", "x"));
  EXPECT_EQ(DeviceState::Open(dir_.path(), "green-valley-farm", "no-such").error().code(), StatusCode::kNotFound);
}

TEST_F(OutboxTest, SealWritesEnvelopeToDiskBeforeReturningAndListsInSeqOrder) {
  Envelope a = Seal(21.5), b = Seal(22.0), c = Seal(22.5);
  EXPECT_EQ(a.seq, 1u);
  EXPECT_EQ(c.seq, 3u);
  EXPECT_TRUE(VerifyEnvelopeSignature(a, dev_->key().public_key()));
  std::string file = dev_->dir() + "/outbox/00000000000000000002.json";
  EXPECT_EQ(*ReadFile(file), b.canonical_bytes);
  EXPECT_EQ(*FileMode(file), 0600u);

  // A fresh process (kill -9 and restart) sees the same entries in order, and
  // continues the seq after them.
  dev_.reset();
  auto reopened = DeviceState::Open(dir_.path(), "green-valley-farm", "field-7-soil");
  ASSERT_TRUE(reopened);
  auto list = (*reopened)->outbox().List();
  ASSERT_EQ(list.size(), 3u);
  EXPECT_EQ(list[0].seq, 1u);
  EXPECT_EQ(list[1].id, b.id);
  EXPECT_EQ(list[2].bytes, c.canonical_bytes);
  auto d = (*reopened)->Seal(Reading(23.0), std::chrono::system_clock::now());
  ASSERT_TRUE(d);
  EXPECT_EQ(d->seq, 4u);
}

TEST_F(OutboxTest, AcceptedAndDuplicateReceiptsDeleteTheEntry) {
  Envelope a = Seal(21.5), b = Seal(22.0);
  auto out = dev_->outbox().ApplyReceipt(SignedReceipt(a, ReceiptStatus::kAccepted, platform_), keys_);
  EXPECT_EQ(out.action, ReceiptAction::kDeleted) << out.detail;
  out = dev_->outbox().ApplyReceipt(SignedReceipt(b, ReceiptStatus::kDuplicate, platform_), keys_);
  EXPECT_EQ(out.action, ReceiptAction::kDeleted) << out.detail;
  EXPECT_EQ(dev_->outbox().size(), 0u);
  EXPECT_FALSE(fs::exists(dev_->dir() + "/outbox/00000000000000000001.json"));
  // The same receipt again finds nothing to delete.
  out = dev_->outbox().ApplyReceipt(SignedReceipt(a, ReceiptStatus::kAccepted, platform_), keys_);
  EXPECT_EQ(out.action, ReceiptAction::kUnknown);
}

TEST_F(OutboxTest, ForgedOrMismatchedReceiptsAreIgnored) {
  Envelope a = Seal(21.5);
  Envelope b = Seal(22.0);
  // Signed by someone else's key.
  auto forger = Ed25519PrivateKey::Generate();
  auto out = dev_->outbox().ApplyReceipt(SignedReceipt(a, ReceiptStatus::kAccepted, forger), keys_);
  EXPECT_EQ(out.action, ReceiptAction::kBadReceipt);
  // Signed correctly, then altered: status flipped from rejected to accepted.
  std::string genuine = SignedReceipt(a, ReceiptStatus::kRejected, platform_, Reason::kSchema);
  auto tampered = boost::json::parse(genuine).as_object();
  tampered["status"] = "accepted";
  tampered.erase("reason");
  out = dev_->outbox().ApplyReceipt(boost::json::serialize(tampered), keys_);
  EXPECT_EQ(out.action, ReceiptAction::kBadReceipt);
  // Not JSON at all.
  out = dev_->outbox().ApplyReceipt("accepted", keys_);
  EXPECT_EQ(out.action, ReceiptAction::kBadReceipt);
  // Genuine, but naming a's seq with b's envelope id.
  Envelope mixed = a;
  mixed.id = b.id;
  out = dev_->outbox().ApplyReceipt(SignedReceipt(mixed, ReceiptStatus::kAccepted, platform_), keys_);
  EXPECT_EQ(out.action, ReceiptAction::kMismatch);
  // Genuine, for another device.
  Envelope other = a;
  other.device = "field-8-soil";
  out = dev_->outbox().ApplyReceipt(SignedReceipt(other, ReceiptStatus::kAccepted, platform_), keys_);
  EXPECT_EQ(out.action, ReceiptAction::kNotForUs);
  // No key configured at all verifies nothing.
  out = dev_->outbox().ApplyReceipt(SignedReceipt(a, ReceiptStatus::kAccepted, platform_), {});
  EXPECT_EQ(out.action, ReceiptAction::kBadReceipt);

  EXPECT_EQ(dev_->outbox().size(), 2u);
  EXPECT_TRUE(fs::exists(dev_->dir() + "/outbox/00000000000000000001.json"));
}

TEST_F(OutboxTest, SecondReceiptKeyIsAcceptedDuringRotation) {
  Envelope a = Seal(21.5);
  auto next = Ed25519PrivateKey::Generate();
  std::vector<std::string> both = {platform_.public_key(), next.public_key()};
  auto out = dev_->outbox().ApplyReceipt(SignedReceipt(a, ReceiptStatus::kAccepted, next), both);
  EXPECT_EQ(out.action, ReceiptAction::kDeleted) << out.detail;
}

TEST_F(OutboxTest, RejectedReceiptMovesEntryToRejectedFolder) {
  Envelope a = Seal(21.5);
  std::string receipt = SignedReceipt(a, ReceiptStatus::kRejected, platform_, Reason::kClockSkew);
  auto out = dev_->outbox().ApplyReceipt(receipt, keys_);
  EXPECT_EQ(out.action, ReceiptAction::kRejected);
  EXPECT_EQ(out.detail, "clock_skew");
  ASSERT_TRUE(out.receipt);
  EXPECT_EQ(out.receipt->reason, Reason::kClockSkew);
  EXPECT_EQ(dev_->outbox().size(), 0u);
  EXPECT_EQ(*ReadFile(dev_->dir() + "/rejected/00000000000000000001.json"), a.canonical_bytes);
  EXPECT_EQ(*ReadFile(dev_->dir() + "/rejected/00000000000000000001.receipt.json"), receipt);
  // Not re-sent after a restart.
  dev_.reset();
  auto reopened = DeviceState::Open(dir_.path(), "green-valley-farm", "field-7-soil");
  ASSERT_TRUE(reopened);
  EXPECT_EQ((*reopened)->outbox().size(), 0u);
  EXPECT_EQ(*(*reopened)->seq().Next(), 2u);
}

TEST_F(OutboxTest, CorruptEntryIsSetAsideOnOpen) {
  Seal(21.5);
  ASSERT_TRUE(WriteFileAtomic(dev_->dir() + "/outbox/00000000000000000009.json", "{\"v\":1,", 0600).ok());
  // A leftover temporary file of an interrupted write is not an entry.
  std::ofstream(dev_->dir() + "/outbox/.00000000000000000010.json.tmp") << "partial";
  dev_.reset();
  auto reopened = DeviceState::Open(dir_.path(), "green-valley-farm", "field-7-soil");
  ASSERT_TRUE(reopened) << reopened.error();
  EXPECT_EQ((*reopened)->outbox().size(), 1u);
  EXPECT_TRUE(fs::exists((*reopened)->dir() + "/rejected/00000000000000000009.json"));
}

TEST_F(OutboxTest, CredentialsAreStoredWithMode0600) {
  EXPECT_EQ(dev_->ReadCredentials().error().code(), StatusCode::kNotFound);
  ASSERT_TRUE(dev_->WriteCredentials({"green-valley-farm/field-7-soil", "s3cret-from-admin"}).ok());
  EXPECT_EQ(*FileMode(dev_->dir() + "/mqtt.json"), 0600u);
  auto c = dev_->ReadCredentials();
  ASSERT_TRUE(c);
  EXPECT_EQ(c->username, "green-valley-farm/field-7-soil");
  EXPECT_EQ(c->password, "s3cret-from-admin");
  ::chmod((dev_->dir() + "/mqtt.json").c_str(), 0644);
  EXPECT_EQ(dev_->ReadCredentials().error().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace trace::devicesim
