#include "leader.h"

#include <pqxx/pqxx>

#include "trace/common/pg_log.h"

namespace trace::anchor {

LeaderLock::LeaderLock(std::string db_url, int64_t key) : db_url_(std::move(db_url)), key_(key) {}

LeaderLock::~LeaderLock() { Release(); }

Result<bool> LeaderLock::TryAcquire() {
  if (held_) return true;
  try {
    if (!conn_ || !conn_->is_open()) {
      auto conn = pg::Connect(db_url_);
      if (!conn) return Fail(conn.error().WithContext("leader lock"));
      conn_ = std::move(*conn);
    }
    pqxx::nontransaction n(*conn_);
    held_ = n.exec_params("SELECT pg_try_advisory_lock($1)", key_)[0][0].as<bool>();
    return held_;
  } catch (const std::exception& e) {
    conn_.reset();
    held_ = false;
    return Fail(pg::PgError("leader lock", e));
  }
}

bool LeaderLock::CheckAlive() {
  if (!held_ || !conn_) return false;
  try {
    pqxx::nontransaction n(*conn_);
    n.exec("SELECT 1");
    return true;
  } catch (const std::exception&) {
    conn_.reset();
    held_ = false;
    return false;
  }
}

void LeaderLock::Release() {
  if (conn_) {
    try {
      if (held_) {
        pqxx::nontransaction n(*conn_);
        n.exec_params("SELECT pg_advisory_unlock($1)", key_);
      }
    } catch (const std::exception&) {
      // Closing the session releases the lock anyway.
    }
    try {
      conn_->disconnect();
    } catch (const std::exception&) {
    }
  }
  conn_.reset();
  held_ = false;
}

}  // namespace trace::anchor
