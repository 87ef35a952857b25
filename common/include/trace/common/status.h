// One result type for the whole project.
//
// A Status is a code plus a message that carries context ("envelope.events[2].eventTime:
// not RFC 3339"). Functions that can fail return `Result<T>` (std::expected<T, Status>)
// or a bare Status when there is no value. Codes map onto HTTP statuses in one place
// (HttpStatusFor); receipt reasons live with the envelope, which knows them.
//
// Example:
//   trace::Result<int> ParsePort(std::string_view s) {
//     int port = 0;
//     if (!absl_like_parse(s, &port)) return trace::InvalidArgument("port: not a number");
//     return port;
//   }
//   auto port = ParsePort(text);
//   if (!port) return port.error().WithContext("--http-port");
#pragma once

#include <expected>
#include <ostream>
#include <string>
#include <string_view>
#include <utility>

namespace trace {

enum class StatusCode {
  kOk = 0,
  kInvalidArgument,     // the caller's input is wrong; retrying the same input fails again
  kNotFound,            // the thing asked for does not exist
  kAlreadyExists,       // a unique key is taken (for envelopes: a duplicate)
  kFailedPrecondition,  // the system is not in a state for this (revoked device, ...)
  kPermissionDenied,    // authenticated, but not allowed
  kUnauthenticated,     // no or bad credentials
  kResourceExhausted,   // a limit was hit (size, rate, queue)
  kUnavailable,         // a dependency is down; retrying later may work
  kDeadlineExceeded,    // took too long
  kDataLoss,            // stored data does not check out (tampering, corruption)
  kInternal,            // a bug or an invariant broken
};

std::string_view StatusCodeName(StatusCode code);

class [[nodiscard]] Status {
 public:
  Status() = default;  // OK
  Status(StatusCode code, std::string message) : code_(code), message_(std::move(message)) {}

  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }

  // Returns a copy whose message is "context: message".
  Status WithContext(std::string_view context) const;

  // "INVALID_ARGUMENT: message", or "OK".
  std::string ToString() const;

  friend bool operator==(const Status&, const Status&) = default;

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
};

std::ostream& operator<<(std::ostream& os, const Status& status);

inline Status OkStatus() { return Status(); }
inline Status InvalidArgument(std::string m) { return {StatusCode::kInvalidArgument, std::move(m)}; }
inline Status NotFound(std::string m) { return {StatusCode::kNotFound, std::move(m)}; }
inline Status AlreadyExists(std::string m) { return {StatusCode::kAlreadyExists, std::move(m)}; }
inline Status FailedPrecondition(std::string m) { return {StatusCode::kFailedPrecondition, std::move(m)}; }
inline Status PermissionDenied(std::string m) { return {StatusCode::kPermissionDenied, std::move(m)}; }
inline Status Unauthenticated(std::string m) { return {StatusCode::kUnauthenticated, std::move(m)}; }
inline Status ResourceExhausted(std::string m) { return {StatusCode::kResourceExhausted, std::move(m)}; }
inline Status Unavailable(std::string m) { return {StatusCode::kUnavailable, std::move(m)}; }
inline Status DeadlineExceeded(std::string m) { return {StatusCode::kDeadlineExceeded, std::move(m)}; }
inline Status DataLoss(std::string m) { return {StatusCode::kDataLoss, std::move(m)}; }
inline Status Internal(std::string m) { return {StatusCode::kInternal, std::move(m)}; }

// Like leveldb's PosixError: "context: strerror(errno)" as Unavailable or NotFound.
Status ErrnoError(std::string_view context, int err);

// The HTTP status a problem document for `code` carries (400, 404, 409, ...).
int HttpStatusFor(StatusCode code);

// A value or the Status saying why there is none.
template <typename T>
using Result = std::expected<T, Status>;

// Lets `return InvalidArgument("...")` work in functions returning Result<T>.
// std::expected does not convert from E implicitly, so Result<T> users write
// `return std::unexpected(status)` or use this short form.
inline std::unexpected<Status> Fail(Status status) { return std::unexpected(std::move(status)); }

}  // namespace trace
