#include "cli.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <iomanip>
#include <map>
#include <memory>
#include <sstream>
#include <thread>

#include <boost/json.hpp>

#include "admin_client.h"
#include "device_state.h"
#include "fault.h"
#include "load.h"
#include "receipt_keys.h"
#include "scenario.h"
#include "sender.h"
#include "trace/common/config.h"
#include "trace/common/encoding.h"
#include "trace/common/log.h"

namespace trace::devicesim {
namespace {

using Clock = std::chrono::steady_clock;

constexpr const char* kCommands =
    "commands:\n"
    "  keygen ORG DEVICE               create the device's Ed25519 key (0600) unless it exists; print the public key\n"
    "  register ORG DEVICE             keygen, then trace-admin device register; store the MQTT login (0600)\n"
    "  scenario rice|medicine          publish the scenario's envelopes in order, each awaiting its receipt\n"
    "                                  (--dry-run: print them as JSON lines, no broker, no state written;\n"
    "                                   --register: create its organizations and devices first)\n"
    "  load                            --devices N --rate R --readings K --duration S (or --count N): a load\n"
    "                                  generator; waits up to --timeout s until every outbox is empty\n"
    "  fault KIND                      publish one deliberately bad message and print its receipt; KIND is one of\n"
    "                                  malformed too_large schema topic_mismatch bad_signature seq_reused\n"
    "                                  clock_skew unknown_device revoked_device\n"
    "Every command that publishes first re-sends whatever its devices' outboxes still hold.\n";

void DeclareFlags(Flags& f) {
  f.AddBool("json", "", "print one JSON object on stdout");
  f.Add("state-dir", "TRACE_DEVICESIM_STATE", "devicesim-state", "folder of the devices' keys, seq and outboxes");
  f.Add("mqtt-url", "TRACE_MQTT_URL", "tcp://127.0.0.1:1883", "broker URL");
  f.Add("mqtt-ca", "TRACE_MQTT_CA", "", "CA file for ssl:// broker URLs");
  f.Add("receipt-key", "TRACE_RECEIPT_KEY", "", "platform receipt public key, base64url");
  f.Add("keys-file", "TRACE_KEYS_FILE", "", "keys document (GET /api/v1/keys) holding the receipt key(s)");
  f.Add("keys-dir", "TRACE_KEYS_DIR", "", "platform keys folder; the public half of receipt.key is used");
  f.Add("admin", "TRACE_ADMIN", "", "path of trace-admin (default: beside this program)");
  f.AddBool("register", "", "scenario, load, fault: register organizations and devices first");
  f.AddBool("dry-run", "", "scenario: print the envelopes as JSON lines; no broker, no state");
  f.Add("timeout", "", "60", "seconds to wait for a receipt (per scenario step; drain time for load)");
  f.Add("resend-ms", "", "3000", "first re-send after this many ms without a receipt (then doubling, jittered)");
  f.Add("resend-max-ms", "", "60000", "longest wait between re-sends");
  f.Add("devices", "", "10", "load: number of devices");
  f.Add("rate", "", "100", "load: envelopes per second, all devices together");
  f.Add("readings", "", "1", "load: sensor readings per envelope");
  f.Add("duration", "", "10", "load: seconds of sending");
  f.Add("count", "", "0", "load: send exactly this many envelopes at --rate (overrides --duration)");
  f.AddBool("preseal", "", "load with --count: sign and store every envelope before the clock starts (benchmarks)");
  f.Add("org", "", "", "load: organization (default load-sim); fault: organization (default fault-sim)");
  f.Add("device", "", "fault-01", "fault: device id");
  f.Add("privileged-username", "TRACE_MQTT_TEST_USERNAME", "",
        "fault unknown_device/revoked_device: a broker test account allowed to publish to any up topic and read any "
        "receipt topic");
  f.Add("privileged-password", "TRACE_MQTT_TEST_PASSWORD", "", "its password");
  f.Add("log-level", "TRACE_LOG_LEVEL", "info", "debug, info, warn, error");
}

Result<std::vector<std::string>> ReceiptKeys(const Flags& f) {
  return LoadReceiptKeys({f.Get("receipt-key"), f.Get("keys-file"), f.Get("keys-dir")});
}

Result<SenderOptions> SenderFromFlags(const Flags& f) {
  SenderOptions o;
  o.mqtt.url = f.Get("mqtt-url");
  o.mqtt.ca_file = f.Get("mqtt-ca");
  auto keys = ReceiptKeys(f);
  if (!keys) return Fail(keys.error());
  o.receipt_keys = std::move(*keys);
  auto initial = f.GetInt("resend-ms");
  auto max = f.GetInt("resend-max-ms");
  if (!initial) return Fail(initial.error());
  if (!max) return Fail(max.error());
  if (*initial <= 0 || *max < *initial) return Fail(InvalidArgument("need 0 < --resend-ms <= --resend-max-ms"));
  o.backoff.initial = std::chrono::milliseconds(*initial);
  o.backoff.max = std::chrono::milliseconds(*max);
  return o;
}

AdminClient Admin(const Flags& f) { return AdminClient(f.Get("admin").empty() ? DefaultAdminPath() : f.Get("admin")); }

// Registers `device` unless it already has a stored login.
Status EnsureRegistered(const AdminClient& admin, DeviceState& device, std::ostream& err) {
  if (device.ReadCredentials()) return OkStatus();
  auto c = admin.DeviceRegister(device);
  if (!c) return c.error();
  err << "registered " << device.org() << "/" << device.device() << "\n";
  return OkStatus();
}

Status EnsureOrg(const AdminClient& admin, const std::string& org, const std::string& name, std::ostream& err) {
  auto r = admin.OrgCreate(org, name);
  if (r) {
    // The org's API token is shown once; keep it for the operator, not in logs.
    err << "created organization " << org << " (admin token: " << r->at("token").as_string().c_str() << ")\n";
    return OkStatus();
  }
  if (r.error().code() == StatusCode::kAlreadyExists) return OkStatus();
  return r.error();
}

// Opens (creating the key when missing) the device's state.
Result<std::unique_ptr<DeviceState>> OpenDevice(const Flags& f, const std::string& org, const std::string& device,
                                                uint64_t seq_block = 1) {
  auto key = DeviceState::Keygen(f.Get("state-dir"), org, device);
  if (!key) return Fail(key.error());
  return DeviceState::Open(f.Get("state-dir"), org, device, seq_block);
}

// The commands return their exit code, or the error that ended them (RunCli prints it).
Result<int> Keygen(const Flags& f, const std::vector<std::string>& args, std::ostream& out) {
  auto key = DeviceState::Keygen(f.Get("state-dir"), args[1], args[2]);
  if (!key) return Fail(key.error());
  std::string pk = Base64UrlEncode(key->public_key());
  if (f.GetBool("json")) {
    out << boost::json::serialize(boost::json::object{{"org", args[1]}, {"device", args[2]}, {"public_key", pk}})
        << "\n";
  } else {
    out << pk << "\n";
  }
  return 0;
}

Result<int> Register(const Flags& f, const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
  auto dev = OpenDevice(f, args[1], args[2]);
  if (!dev) return Fail(dev.error());
  auto c = Admin(f).DeviceRegister(**dev);
  if (!c) return Fail(c.error());
  boost::json::object o{{"org", args[1]},
                        {"device", args[2]},
                        {"public_key", Base64UrlEncode((*dev)->key().public_key())},
                        {"mqtt_username", c->username},
                        {"credentials", (*dev)->dir() + "/mqtt.json"}};
  if (f.GetBool("json")) {
    out << boost::json::serialize(o) << "\n";
  } else {
    out << "registered " << c->username << "; login stored in " << (*dev)->dir() << "/mqtt.json\n";
  }
  return 0;
}

Result<int> Scenario(const Flags& f, const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
  // The last event lies a few minutes before now, so no eventTime is in the future.
  auto plan = BuildScenario(args[1], std::chrono::system_clock::now() - std::chrono::minutes(5));
  if (!plan) return Fail(plan.error());
  if (f.GetBool("dry-run")) {
    // Fresh in-memory keys and seqs: the output shows exactly what would be
    // published, without touching any device's state.
    std::map<std::string, std::pair<Ed25519PrivateKey, uint64_t>> devices;
    for (const auto& step : plan->steps) {
      auto& [key, seq] = devices.try_emplace(step.org + "/" + step.device, Ed25519PrivateKey::Generate(), 0)
                             .first->second;
      auto env = SignEnvelope(UnsignedEnvelope(step.org, step.device, ++seq, std::chrono::system_clock::now(),
                                               step.events),
                              key);
      if (!env) return Fail(env.error());
      out << env->canonical_bytes << "\n";
    }
    return 0;
  }
  auto options = SenderFromFlags(f);
  if (!options) return Fail(options.error());
  AdminClient admin = Admin(f);
  if (f.GetBool("register")) {
    for (const auto& o : plan->orgs) {
      if (Status s = EnsureOrg(admin, o.id, o.name, err); !s.ok()) return Fail(s);
    }
  }
  std::map<std::string, std::unique_ptr<DeviceState>> devices;
  Sender sender(*options);
  for (const auto& d : plan->devices) {
    auto dev = OpenDevice(f, d.org, d.device);
    if (!dev) return Fail(dev.error());
    if (f.GetBool("register")) {
      if (Status s = EnsureRegistered(admin, **dev, err); !s.ok()) return Fail(s);
    }
    if (Status s = sender.AddDevice(dev->get()); !s.ok()) return Fail(s);
    devices[d.org + "/" + d.device] = std::move(*dev);
  }
  auto timeout = f.GetInt("timeout");
  if (!timeout) return Fail(timeout.error());
  // Envelopes left by an earlier run go first.
  sender.RunUntil([&] { return sender.pending() == 0; }, Clock::now() + std::chrono::seconds(*timeout));
  std::map<std::pair<const DeviceState*, uint64_t>, std::string> outcome;
  sender.on_receipt = [&](const DeviceState& d, const ReceiptOutcome& o) {
    if (!o.receipt || !o.receipt->seq) return;
    std::string text(ReceiptStatusName(o.receipt->status));
    if (o.receipt->reason) text += " (" + std::string(ReasonName(*o.receipt->reason)) + ")";
    outcome[{&d, *o.receipt->seq}] = text;
  };
  boost::json::array steps;
  int failures = 0;
  for (size_t i = 0; i < plan->steps.size(); ++i) {
    const PlanStep& step = plan->steps[i];
    DeviceState& dev = *devices.at(step.org + "/" + step.device);
    auto env = dev.Seal(step.events, std::chrono::system_clock::now());
    if (!env) return Fail(env.error());
    sender.Send(dev, *env);
    bool done = sender.RunUntil([&] { return !sender.IsPending(dev, env->seq); },
                                Clock::now() + std::chrono::seconds(*timeout));
    std::string result = done ? outcome[{&dev, env->seq}] : "no receipt (kept in the outbox)";
    if (result.empty()) result = "accepted";
    if (!result.starts_with("accepted") && !result.starts_with("duplicate")) ++failures;
    err << std::setw(2) << i + 1 << "/" << plan->steps.size() << " " << step.org << "/" << step.device << " seq "
        << env->seq << " (" << step.events.size() << " events) " << step.what << ": " << result << "\n";
    steps.push_back(boost::json::object{{"org", step.org},
                                        {"device", step.device},
                                        {"seq", env->seq},
                                        {"envelope", env->id},
                                        {"events", step.events.size()},
                                        {"what", step.what},
                                        {"result", result}});
  }
  const SendStats& s = sender.stats();
  boost::json::object summary{{"scenario", plan->name}, {"steps", steps},           {"sent", s.sent},
                              {"resent", s.resent},     {"accepted", s.accepted}, {"duplicate", s.duplicate},
                              {"rejected", s.rejected}, {"pending", sender.pending()}};
  if (f.GetBool("json")) {
    out << boost::json::serialize(summary) << "\n";
  } else {
    out << plan->name << ": " << plan->steps.size() << " envelopes, accepted " << s.accepted << ", duplicate "
        << s.duplicate << ", rejected " << s.rejected << ", without receipt " << sender.pending() << "\n";
  }
  return failures == 0 && sender.pending() == 0 ? 0 : 1;
}

// Runs the command named by `a[0]`; usage errors print the usage and return 2.
Result<int> Dispatch(const Flags& flags, const std::vector<std::string>& a, std::ostream& out, std::ostream& err) {
  auto usage = [&](const char* form) {
    err << "usage: trace-devicesim " << form << "\n";
    return 2;
  };
  const std::string& cmd = a[0];
  if (cmd == "keygen") return a.size() == 3 ? Keygen(flags, a, out) : usage("keygen ORG DEVICE [--json]");
  if (cmd == "register") return a.size() == 3 ? Register(flags, a, out, err) : usage("register ORG DEVICE");
  if (cmd == "scenario") {
    return a.size() == 2 ? Scenario(flags, a, out, err) : usage("scenario rice|medicine [--dry-run] [--register]");
  }
  if (cmd == "load") {
    if (a.size() != 1) return usage("load --devices N --rate R --readings K --duration S");
    LoadOptions lo;
    auto n = flags.GetInt("devices");
    auto rate = flags.GetDouble("rate");
    auto k = flags.GetInt("readings");
    auto secs = flags.GetDouble("duration");
    auto timeout = flags.GetInt("timeout");
    auto count = flags.GetInt("count");
    if (!count || *count < 0) return usage("load --count N (N >= 0)");
    lo.count = static_cast<uint64_t>(*count);
    for (const Status& s : {n ? OkStatus() : n.error(), rate ? OkStatus() : rate.error(),
                            k ? OkStatus() : k.error(), secs ? OkStatus() : secs.error(),
                            timeout ? OkStatus() : timeout.error()}) {
      if (!s.ok()) return Fail(s);
    }
    auto options = SenderFromFlags(flags);
    if (!options) return Fail(options.error());
    lo.org = flags.Get("org").empty() ? "load-sim" : flags.Get("org");
    lo.devices = static_cast<int>(*n);
    lo.rate = *rate;
    lo.readings = static_cast<int>(*k);
    lo.duration = std::chrono::duration<double>(*secs);
    lo.drain_timeout = std::chrono::seconds(*timeout);
    lo.state_dir = flags.Get("state-dir");
    lo.register_devices = flags.GetBool("register");
    lo.json = flags.GetBool("json");
    lo.preseal = flags.GetBool("preseal");
    return RunLoad(lo, *options, Admin(flags), out, err);
  }
  if (cmd == "fault") {
    if (a.size() != 2) return usage("fault KIND");
    auto options = SenderFromFlags(flags);
    if (!options) return Fail(options.error());
    FaultOptions fo;
    fo.kind = a[1];
    fo.org = flags.Get("org").empty() ? "fault-sim" : flags.Get("org");
    fo.device = flags.Get("device");
    fo.state_dir = flags.Get("state-dir");
    fo.register_devices = flags.GetBool("register");
    fo.privileged = {flags.Get("privileged-username"), flags.Get("privileged-password")};
    auto timeout = flags.GetInt("timeout");
    if (!timeout) return Fail(timeout.error());
    fo.timeout = std::chrono::seconds(*timeout);
    return RunFault(fo, *options, Admin(flags), out, err);
  }
  err << "trace-devicesim: unknown command \"" << cmd << "\"\n" << kCommands;
  return 2;
}

}  // namespace

int RunCli(int argc, const char* const* argv, std::ostream& out, std::ostream& err) {
  log::SetService("trace-devicesim");
  Flags flags("trace-devicesim", "simulated devices: keys, durable outbox, scenarios, load and faults");
  DeclareFlags(flags);
  auto args = flags.Parse(argc, argv);
  if (!args) {
    if (args.error().code() == StatusCode::kFailedPrecondition) {
      out << args.error().message() << "\n" << kCommands;
      return 0;
    }
    err << "trace-devicesim: " << args.error().message() << "\nrun trace-devicesim --help for usage\n";
    return 2;
  }
  log::SetLevel(flags.Get("log-level"));
  auto usage = [&](const char* form) {
    err << "usage: trace-devicesim " << form << "\n";
    return 2;
  };
  const auto& a = *args;
  if (a.empty()) return usage("keygen|register|scenario|load|fault ... (--help)");
  auto result = Dispatch(flags, a, out, err);
  if (!result) {
    err << "trace-devicesim: " << result.error().message() << "\n";
    return result.error().code() == StatusCode::kInvalidArgument ? 2 : 1;
  }
  return *result;
}

}  // namespace trace::devicesim
