#include "trace/common/platform_keys.h"

#include <unistd.h>

#include <filesystem>

#include <gtest/gtest.h>

#include "trace/common/encoding.h"
#include "trace/common/files.h"
#include "trace/common/sha256.h"

namespace trace {
namespace {

class PlatformKeysTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = std::filesystem::temp_directory_path() /
            ("platform_keys_test." + std::to_string(::getpid()) + "." +
             ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(root_);
    dir_ = (root_ / "keys").string();
  }
  void TearDown() override { std::filesystem::remove_all(root_); }
  std::filesystem::path root_;
  std::string dir_;
};

TEST_F(PlatformKeysTest, CreatesKeysOnceWithPrivateModes) {
  auto first = LoadOrCreatePlatformKeys(dir_, "example.org/log");
  ASSERT_TRUE(first.has_value()) << first.error();
  EXPECT_TRUE(first->created_log);
  EXPECT_TRUE(first->created_receipt);
  EXPECT_EQ(*FileMode(dir_), 0700u);
  EXPECT_EQ(*FileMode(dir_ + "/log.key"), 0600u);
  EXPECT_EQ(*FileMode(dir_ + "/receipt.key"), 0600u);
  EXPECT_NE(first->log.public_key(), first->receipt.public_key());

  auto second = LoadOrCreatePlatformKeys(dir_, "example.org/log");
  ASSERT_TRUE(second.has_value()) << second.error();
  EXPECT_FALSE(second->created_log);
  EXPECT_FALSE(second->created_receipt);
  EXPECT_EQ(second->log.public_key(), first->log.public_key());
  EXPECT_EQ(second->receipt.public_key(), first->receipt.public_key());

  auto loaded = LoadPlatformKeys(dir_, "example.org/log");
  ASSERT_TRUE(loaded.has_value()) << loaded.error();
  EXPECT_EQ(loaded->receipt_key_id, first->receipt_key_id);
}

TEST_F(PlatformKeysTest, ReceiptKeyAloneNeedsNoLogKey) {
  auto made = LoadOrCreatePlatformKeys(dir_, "example.org/log");
  ASSERT_TRUE(made.has_value()) << made.error();
  std::filesystem::remove(dir_ + "/log.key");  // a gateway host's keys folder
  auto receipt = LoadReceiptKey(dir_);
  ASSERT_TRUE(receipt.has_value()) << receipt.error();
  EXPECT_EQ(receipt->key.public_key(), made->receipt.public_key());
  EXPECT_EQ(receipt->id, made->receipt_key_id);
  EXPECT_FALSE(LoadPlatformKeys(dir_, "example.org/log").has_value());

  std::filesystem::permissions(dir_ + "/receipt.key", std::filesystem::perms::others_read,
                               std::filesystem::perm_options::add);
  EXPECT_FALSE(LoadReceiptKey(dir_).has_value());
  std::filesystem::remove(dir_ + "/receipt.key");
  EXPECT_EQ(LoadReceiptKey(dir_).error().code(), StatusCode::kNotFound);
  EXPECT_EQ(LoadReceiptKey("").error().code(), StatusCode::kInvalidArgument);
}

TEST_F(PlatformKeysTest, LogKeyAloneNeedsNoReceiptKey) {
  auto made = LoadOrCreatePlatformKeys(dir_, "example.org/log");
  ASSERT_TRUE(made.has_value()) << made.error();
  std::filesystem::remove(dir_ + "/receipt.key");
  auto log = LoadLogKey(dir_, "example.org/log");
  ASSERT_TRUE(log.has_value()) << log.error();
  EXPECT_EQ(log->key.public_key(), made->log.public_key());
  EXPECT_EQ(log->id, made->log_key_id);
  EXPECT_EQ(log->log_name, "example.org/log");
  const LogKey of = LogKeyOf(*made);
  EXPECT_EQ(of.id, log->id);
  EXPECT_EQ(LoadLogKey(dir_, "").error().code(), StatusCode::kInvalidArgument);
  std::filesystem::remove(dir_ + "/log.key");
  EXPECT_EQ(LoadLogKey(dir_, "example.org/log").error().code(), StatusCode::kNotFound);
}

TEST_F(PlatformKeysTest, LoadWithoutCreateReportsMissingFile) {
  auto keys = LoadPlatformKeys(dir_, "example.org/log");
  ASSERT_FALSE(keys.has_value());
  EXPECT_EQ(keys.error().code(), StatusCode::kNotFound);
  EXPECT_NE(keys.error().message().find("log.key"), std::string::npos);
  EXPECT_FALSE(std::filesystem::exists(dir_));
}

TEST_F(PlatformKeysTest, RefusesEmptyLogNameAndDir) {
  EXPECT_EQ(LoadOrCreatePlatformKeys(dir_, "").error().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(LoadOrCreatePlatformKeys("", "x").error().code(), StatusCode::kInvalidArgument);
}

TEST_F(PlatformKeysTest, RefusesGroupReadableKeyFile) {
  ASSERT_TRUE(LoadOrCreatePlatformKeys(dir_, "example.org/log").has_value());
  std::filesystem::permissions(dir_ + "/receipt.key", std::filesystem::perms::group_read,
                               std::filesystem::perm_options::add);
  auto keys = LoadPlatformKeys(dir_, "example.org/log");
  ASSERT_FALSE(keys.has_value());
  EXPECT_NE(keys.error().message().find("receipt.key"), std::string::npos);
}

TEST(PlatformKeyIds, AreHashPrefixes) {
  std::string pub(32, '\x01');
  std::string hex = HashHex(Sha256(pub));
  EXPECT_EQ(ReceiptKeyId(pub), "receipt-" + hex.substr(0, 8));
  EXPECT_EQ(LogKeyId(pub), "log-" + hex.substr(0, 8));
  EXPECT_EQ(ReceiptKeyId(pub).size(), 16u);
}

TEST_F(PlatformKeysTest, KeysDocumentHasProtocolShape) {
  auto keys = LoadOrCreatePlatformKeys(dir_, "example.org/log");
  ASSERT_TRUE(keys.has_value());
  boost::json::object doc = KeysDocument(*keys);
  EXPECT_EQ(doc.at("log").at("name").as_string(), "example.org/log");
  auto log_pub = Base64UrlDecode(std::string(doc.at("log").at("public_key").as_string()));
  ASSERT_TRUE(log_pub.has_value());
  EXPECT_EQ(*log_pub, keys->log.public_key());
  const auto& receipts = doc.at("receipt").as_array();
  ASSERT_EQ(receipts.size(), 1u);
  EXPECT_EQ(receipts[0].at("id").as_string(), keys->receipt_key_id);
  EXPECT_EQ(*Base64UrlDecode(std::string(receipts[0].at("public_key").as_string())), keys->receipt.public_key());
}

}  // namespace
}  // namespace trace
