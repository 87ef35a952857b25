#include "ids.h"

#include <gtest/gtest.h>

namespace trace::admin {
namespace {

TEST(Ids, OrgIdFollowsProtocol) {
  EXPECT_TRUE(ValidateOrgId("green-valley-farm").ok());
  EXPECT_TRUE(ValidateOrgId("a1").ok());
  EXPECT_TRUE(ValidateOrgId(std::string(32, 'a')).ok());
  EXPECT_FALSE(ValidateOrgId("a").ok());                  // too short
  EXPECT_FALSE(ValidateOrgId(std::string(33, 'a')).ok());  // too long
  EXPECT_FALSE(ValidateOrgId("-abc").ok());
  EXPECT_FALSE(ValidateOrgId("Acme").ok());
  EXPECT_FALSE(ValidateOrgId("a_b").ok());
  EXPECT_FALSE(ValidateOrgId("a/b").ok());
  Status s = ValidateOrgId("Bad Org");
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("Bad Org"), std::string::npos);
}

TEST(Ids, DeviceIdFollowsProtocol) {
  EXPECT_TRUE(ValidateDeviceId("field-7-soil").ok());
  EXPECT_TRUE(ValidateDeviceId("x").ok());
  EXPECT_TRUE(ValidateDeviceId("a.b_c-d").ok());
  EXPECT_TRUE(ValidateDeviceId(std::string(64, 'd')).ok());
  EXPECT_FALSE(ValidateDeviceId("").ok());
  EXPECT_FALSE(ValidateDeviceId(std::string(65, 'd')).ok());
  EXPECT_FALSE(ValidateDeviceId(".hidden").ok());
  EXPECT_FALSE(ValidateDeviceId("a+b").ok());  // MQTT wildcard
  EXPECT_FALSE(ValidateDeviceId("a#").ok());
  EXPECT_FALSE(ValidateDeviceId("a/b").ok());
}

TEST(Ids, PublicKeyMustBe32BytesOfBase64Url) {
  std::string key = Base64UrlEncode(std::string(32, '\x07'));
  auto ok = DecodeDevicePublicKey(key);
  ASSERT_TRUE(ok.has_value());
  EXPECT_EQ(*ok, std::string(32, '\x07'));
  EXPECT_EQ(DecodeDevicePublicKey("").error().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(DecodeDevicePublicKey(Base64UrlEncode(std::string(31, 'x'))).error().message().find("31 bytes"),
            std::string::npos);
  EXPECT_FALSE(DecodeDevicePublicKey(key + "=").has_value());  // padding refused
  EXPECT_FALSE(DecodeDevicePublicKey("not base64!").has_value());
}

TEST(Ids, MqttNamesFollowConvention) {
  EXPECT_EQ(DeviceMqttUsername("acme", "s-1"), "acme/s-1");
  EXPECT_EQ(DeviceMqttRole("acme", "s-1"), "device:acme/s-1");
}

}  // namespace
}  // namespace trace::admin
