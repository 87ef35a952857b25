#include "receipt_keys.h"

#include <unistd.h>

#include <filesystem>

#include <boost/json.hpp>
#include <gtest/gtest.h>

#include "trace/common/encoding.h"
#include "trace/common/files.h"
#include "trace/common/platform_keys.h"

namespace trace::devicesim {
namespace {

TEST(ReceiptKeys, FromFlagDocumentAndKeysDir) {
  std::string tmpl = (std::filesystem::temp_directory_path() / "devicesim-keys-XXXXXX").string();
  std::string dir = ::mkdtemp(tmpl.data());
  auto platform = LoadOrCreatePlatformKeys(dir + "/keys", kDefaultLogName);
  ASSERT_TRUE(platform) << platform.error();
  std::string doc = boost::json::serialize(KeysDocument(*platform));
  ASSERT_TRUE(WriteFileAtomic(dir + "/keys.json", doc).ok());
  auto flag_key = Ed25519PrivateKey::Generate();

  auto keys = LoadReceiptKeys({Base64UrlEncode(flag_key.public_key()), dir + "/keys.json", dir + "/keys"});
  ASSERT_TRUE(keys) << keys.error();
  ASSERT_EQ(keys->size(), 3u);
  EXPECT_EQ((*keys)[0], flag_key.public_key());
  EXPECT_EQ((*keys)[1], platform->receipt.public_key());
  EXPECT_EQ((*keys)[2], platform->receipt.public_key());

  EXPECT_EQ(LoadReceiptKeys({}).error().code(), StatusCode::kNotFound);
  EXPECT_EQ(LoadReceiptKeys(ReceiptKeySources{"not-a-key", "", ""}).error().code(), StatusCode::kInvalidArgument);
  EXPECT_FALSE(ReceiptKeysFromDocument(R"({"receipt":[{"id":"r","public_key":"AAAA"}]})"));
  EXPECT_FALSE(ReceiptKeysFromDocument(R"({"log":{}})"));
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace trace::devicesim
