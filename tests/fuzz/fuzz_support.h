// What the fuzz targets (tests/fuzz/*_fuzz.cc) and the seed writer (seeds.cc)
// share: the fixed keys and names the seeds are signed with, the fake clock's
// time, and Require(), which turns a broken property into a crash libFuzzer
// reports with the input that broke it.
#pragma once

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "trace/common/ed25519.h"
#include "trace/common/sha256.h"
#include "trace/common/time.h"

namespace trace::fuzz {

// The device every generated envelope seed comes from; the envelope target's
// directory knows it as active, kRevokedDevice (same key) as revoked.
inline constexpr char kOrg[] = "fuzz-farm";
inline constexpr char kDevice[] = "sensor-1";
inline constexpr char kRevokedDevice[] = "sensor-revoked";
// The log whose checkpoints the checkpoint seeds are.
inline constexpr char kLogName[] = "trace.example.org/log";
// "Now" for the envelope target: the seeds are sent shortly before.
inline constexpr char kNow[] = "2026-11-23T08:16:00.000Z";

// A key from a fixed seed: SHA-256 of `label`.
inline const Ed25519PrivateKey& FixedKey(std::string_view label) {
  static const Ed25519PrivateKey device = Ed25519PrivateKey::FromSeed(HashBytes(Sha256("trace fuzz device"))).value();
  static const Ed25519PrivateKey log = Ed25519PrivateKey::FromSeed(HashBytes(Sha256("trace fuzz log"))).value();
  return label == "log" ? log : device;
}
inline const Ed25519PrivateKey& DeviceKey() { return FixedKey("device"); }
inline const Ed25519PrivateKey& LogKey() { return FixedKey("log"); }

inline std::chrono::system_clock::time_point Now() { return ParseRfc3339(kNow).value().utc; }

// Aborts with `what` when `ok` is false: a property of the code under test does
// not hold for this input.
inline void Require(bool ok, std::string_view what) {
  if (ok) return;
  std::fprintf(stderr, "fuzz property violated: %.*s\n", static_cast<int>(what.size()), what.data());
  std::abort();
}

}  // namespace trace::fuzz
