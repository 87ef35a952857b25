// Checks of the identifiers trace-admin takes on its command line
// (PROTOCOL.md §1). Each returns OK or InvalidArgument naming the bad value
// and the rule it breaks.
#pragma once

#include <string>
#include <string_view>

#include "trace/common/encoding.h"
#include "trace/common/status.h"

namespace trace::admin {

// ^[a-z0-9][a-z0-9-]{1,31}$
Status ValidateOrgId(std::string_view org);
// ^[a-z0-9][a-z0-9._-]{0,63}$
Status ValidateDeviceId(std::string_view device);
// A base64url (no padding) Ed25519 public key of exactly 32 bytes; returns the raw bytes.
Result<Bytes> DecodeDevicePublicKey(std::string_view b64url);

// The broker login of a device: "{org}/{device}" (the convention the broker
// configuration in deploy/mosquitto/ relies on), and its dynamic-security role
// "device:{org}/{device}".
std::string DeviceMqttUsername(std::string_view org, std::string_view device);
std::string DeviceMqttRole(std::string_view org, std::string_view device);

}  // namespace trace::admin
