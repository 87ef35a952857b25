#include "trace/common/status.h"

#include <cerrno>

#include <gtest/gtest.h>

namespace trace {
namespace {

Result<int> Half(int n) {
  if (n % 2 != 0) return Fail(InvalidArgument("odd: " + std::to_string(n)));
  return n / 2;
}

TEST(Status, DefaultIsOk) {
  Status s;
  EXPECT_TRUE(s.ok());
  EXPECT_EQ(s.ToString(), "OK");
}

TEST(Status, WithContextPrefixesMessageAndKeepsCode) {
  Status s = NotFound("device x").WithContext("register");
  EXPECT_EQ(s.code(), StatusCode::kNotFound);
  EXPECT_EQ(s.message(), "register: device x");
  EXPECT_EQ(s.ToString(), "NOT_FOUND: register: device x");
  EXPECT_TRUE(OkStatus().WithContext("ignored").ok());
}

TEST(Status, ResultCarriesValueOrStatus) {
  auto good = Half(8);
  ASSERT_TRUE(good.has_value());
  EXPECT_EQ(*good, 4);
  auto bad = Half(3);
  ASSERT_FALSE(bad.has_value());
  EXPECT_EQ(bad.error().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(bad.error().message(), "odd: 3");
}

TEST(Status, HttpMappingIsTheProblemDocumentStatus) {
  EXPECT_EQ(HttpStatusFor(StatusCode::kInvalidArgument), 400);
  EXPECT_EQ(HttpStatusFor(StatusCode::kUnauthenticated), 401);
  EXPECT_EQ(HttpStatusFor(StatusCode::kPermissionDenied), 403);
  EXPECT_EQ(HttpStatusFor(StatusCode::kNotFound), 404);
  EXPECT_EQ(HttpStatusFor(StatusCode::kAlreadyExists), 409);
  EXPECT_EQ(HttpStatusFor(StatusCode::kResourceExhausted), 429);
  EXPECT_EQ(HttpStatusFor(StatusCode::kUnavailable), 503);
}

TEST(Status, ErrnoErrorNamesContextAndCause) {
  Status s = ErrnoError("open /nope", ENOENT);
  EXPECT_EQ(s.code(), StatusCode::kNotFound);
  EXPECT_NE(s.message().find("open /nope: "), std::string::npos);
  EXPECT_EQ(ErrnoError("x", EACCES).code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(ErrnoError("x", EIO).code(), StatusCode::kUnavailable);
}

}  // namespace
}  // namespace trace
