// Leadership among trace-anchor instances: exactly one holds a PostgreSQL
// session advisory lock on a connection of its own. The lock lives as long as
// that session, so when the leader dies (or its connection does) the server
// releases it and a standby's next TryAcquire wins.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "trace/common/pg_log.h"
#include "trace/common/status.h"

namespace pqxx {
class connection_base;
}

namespace trace::anchor {

// "traceanc" as a big-endian 64-bit number: the key of the leader lock.
inline constexpr int64_t kLeaderLockKey = 0x7472616365616e63;

// Not thread-safe; used by the service's one worker thread.
class LeaderLock {
 public:
  LeaderLock(std::string db_url, int64_t key = kLeaderLockKey);
  ~LeaderLock();  // Release()
  LeaderLock(const LeaderLock&) = delete;
  LeaderLock& operator=(const LeaderLock&) = delete;

  // Connects when needed and tries pg_try_advisory_lock once. Returns true when
  // this instance now holds the lock (or already did), false when another
  // session holds it, Unavailable when the database cannot be reached.
  Result<bool> TryAcquire();
  // True while the lock's connection answers a round trip (SELECT 1). When it
  // does not, the lock is gone: the connection is dropped and held() is false.
  bool CheckAlive();
  // Unlocks and disconnects. Safe when not held.
  void Release();

  bool held() const { return held_; }

 private:
  std::string db_url_;
  int64_t key_;
  pg::ConnectionPtr conn_;
  bool held_ = false;
};

}  // namespace trace::anchor
