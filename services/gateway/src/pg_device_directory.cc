#include "pg_device_directory.h"

#include <pqxx/pqxx>

namespace trace::gateway {

struct PgDeviceDirectory::Conn {
  explicit Conn(const std::string& url) : c(url) {}
  pqxx::connection c;
};

PgDeviceDirectory::PgDeviceDirectory(std::string url, std::chrono::milliseconds ttl)
    : url_(std::move(url)), ttl_(ttl) {}
PgDeviceDirectory::~PgDeviceDirectory() = default;

Result<std::optional<DeviceInfo>> PgDeviceDirectory::Lookup(std::string_view org, std::string_view device) {
  std::lock_guard lock(mu_);
  const auto now = std::chrono::steady_clock::now();
  std::pair<std::string, std::string> key{std::string(org), std::string(device)};
  if (auto it = cache_.find(key); it != cache_.end() && it->second.expires > now) return it->second.info;
  try {
    if (!conn_ || !conn_->c.is_open()) {
      conn_.reset();
      conn_ = std::make_unique<Conn>(url_);
    }
    pqxx::read_transaction tx(conn_->c);
    auto rows = tx.exec_params("SELECT public_key, status, last_seq FROM devices WHERE org = $1 AND device = $2",
                               key.first, key.second);
    std::optional<DeviceInfo> info;
    if (!rows.empty()) {
      info = DeviceInfo{pqxx::binarystring(rows[0][0]).str(), rows[0][1].as<std::string>() == "active",
                        rows[0][2].as<uint64_t>()};
    }
    tx.commit();
    if (cache_.size() > 100000) cache_.clear();  // bounded memory
    cache_[key] = Entry{info, now + ttl_};
    return info;
  } catch (const std::exception& e) {
    conn_.reset();
    return Fail(Unavailable(std::string("device directory: ") + e.what()));
  }
}

}  // namespace trace::gateway
