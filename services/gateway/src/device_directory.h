// What the gateway knows about a device: its key and whether it may publish.
// A seam: PgDeviceDirectory reads the devices table (with a short cache), tests
// use FakeDeviceDirectory.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "trace/common/status.h"

namespace trace::gateway {

struct DeviceInfo {
  std::string public_key;  // 32 raw Ed25519 bytes
  bool active = true;      // false once revoked
  uint64_t last_seq = 0;   // highest seq stored (0: none); may lag behind the store
};

class DeviceDirectory {
 public:
  virtual ~DeviceDirectory() = default;
  // The device (org, device), nullopt when there is no such device, or
  // Unavailable when the directory cannot be read now (the caller retries).
  // Thread-safe.
  virtual Result<std::optional<DeviceInfo>> Lookup(std::string_view org, std::string_view device) = 0;
};

// An in-memory directory for tests, with a fault switch.
class FakeDeviceDirectory final : public DeviceDirectory {
 public:
  void Put(std::string org, std::string device, DeviceInfo info) {
    std::lock_guard lock(mu_);
    devices_[{std::move(org), std::move(device)}] = std::move(info);
  }
  void set_unavailable(bool on) {
    std::lock_guard lock(mu_);
    unavailable_ = on;
  }
  Result<std::optional<DeviceInfo>> Lookup(std::string_view org, std::string_view device) override {
    std::lock_guard lock(mu_);
    if (unavailable_) return Fail(Unavailable("fake directory down"));
    auto it = devices_.find({std::string(org), std::string(device)});
    if (it == devices_.end()) return std::optional<DeviceInfo>();
    return std::optional<DeviceInfo>(it->second);
  }

 private:
  std::mutex mu_;
  bool unavailable_ = false;
  std::map<std::pair<std::string, std::string>, DeviceInfo> devices_;
};

}  // namespace trace::gateway
