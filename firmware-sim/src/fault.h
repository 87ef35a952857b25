// `fault KIND`: publishes one deliberately bad message and prints the receipt
// the platform answered (PROTOCOL.md §4), exit 0 when it was `rejected` with
// the reason KIND.
//
// How each reason is produced (device D of org O, registered, publishing on its
// own topic with its own login unless said otherwise):
//   malformed       bytes that are not a JSON object
//   too_large       a JSON object of 257 KiB (over the 256 KiB limit, under the
//                   broker's 260 KiB max_packet_size)
//   schema          a signed envelope with an empty `events` array
//   topic_mismatch  a signed envelope naming device "{D}-other" in its body
//   bad_signature   a valid envelope with one bit of its signature flipped
//   clock_skew      a signed envelope whose `sent` and eventTime are a day ahead
//   seq_reused      a valid envelope is published and accepted first (through
//                   the outbox), then a different envelope with the same seq
//   unknown_device  cannot come from a device: the broker's ACL lets a login
//                   publish only on its own topic, and trace-admin creates the
//                   login and the device row together. It is produced with a
//                   broker test account (--privileged-username/-password) that
//                   may publish on any up topic and read any receipt topic: a
//                   signed envelope for the never-registered device
//                   "{D}-unregistered" on that device's topic.
//   revoked_device  D (a fresh device "{D}-revoked-{time}", registered here) is
//                   revoked with `trace-admin device revoke`, which also
//                   disables its broker login; the envelope is then published
//                   on its topic through the privileged test account.
#pragma once

#include <chrono>
#include <ostream>
#include <string>
#include <vector>

#include "admin_client.h"
#include "sender.h"
#include "trace/common/ed25519.h"
#include "trace/common/envelope.h"

namespace trace::devicesim {

std::vector<std::string> FaultKinds();

// The message for the kinds built from bytes alone (malformed, too_large,
// schema, topic_mismatch, bad_signature, clock_skew) for device org/device with
// `key` and `seq`. InvalidArgument for other kinds.
Result<std::string> FaultPayload(std::string_view kind, const std::string& org, const std::string& device,
                                 const Ed25519PrivateKey& key, uint64_t seq, std::chrono::system_clock::time_point now);

struct FaultOptions {
  std::string kind;
  std::string org = "fault-sim";
  std::string device = "fault-01";
  std::string state_dir;
  bool register_devices = false;
  Credentials privileged;  // for unknown_device and revoked_device
  std::chrono::seconds timeout{30};
};

int RunFault(const FaultOptions& options, const SenderOptions& sender_options, const AdminClient& admin,
             std::ostream& out, std::ostream& err);

}  // namespace trace::devicesim
