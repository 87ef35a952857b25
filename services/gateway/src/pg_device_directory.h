// DeviceDirectory over the devices table, with a short cache so that the
// worker threads do not ask PostgreSQL for every message, while a device
// revoked with `trace-admin device revoke` is refused within `ttl` (the store
// also re-reads the device row, locked, in the transaction of each batch, so a
// revoked device's envelopes are never stored after the revocation commits).
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "device_directory.h"

namespace trace::gateway {

class PgDeviceDirectory final : public DeviceDirectory {
 public:
  // `url` is a libpq URI; entries (also "no such device") live for `ttl`.
  PgDeviceDirectory(std::string url, std::chrono::milliseconds ttl);
  ~PgDeviceDirectory() override;

  // Thread-safe; a cache miss queries the database under a lock (one
  // connection). Unavailable when the database cannot be reached.
  Result<std::optional<DeviceInfo>> Lookup(std::string_view org, std::string_view device) override;

 private:
  struct Entry {
    std::optional<DeviceInfo> info;
    std::chrono::steady_clock::time_point expires;
  };
  struct Conn;

  const std::string url_;
  const std::chrono::milliseconds ttl_;
  std::mutex mu_;
  std::unique_ptr<Conn> conn_;
  std::map<std::pair<std::string, std::string>, Entry> cache_;
};

}  // namespace trace::gateway
