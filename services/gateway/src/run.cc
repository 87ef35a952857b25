#include "run.h"

#include <unistd.h>

#include <iostream>
#include <thread>

#include "checker.h"
#include "metrics.h"
#include "mqtt_source.h"
#include "pg_device_directory.h"
#include "pg_envelope_store.h"
#include "pipeline.h"
#include "trace/common/config.h"
#include "trace/common/log.h"
#include "trace/common/metrics_server.h"
#include "trace/common/platform_keys.h"

namespace trace::gateway {

int Run(int argc, char** argv, const sigset_t& stop_signals) {
  log::SetService("trace-gateway");
  char host[256] = "localhost";
  gethostname(host, sizeof host - 1);
  Flags flags("trace-gateway", "consume envelopes over MQTT, check and store them, answer signed receipts");
  flags.Add("db-url", "TRACE_DB_URL", "", "libpq URI of the database");
  flags.Add("mqtt-url", "TRACE_MQTT_URL", "tcp://127.0.0.1:1883", "MQTT broker URL");
  flags.Add("mqtt-ca", "TRACE_MQTT_CA", "", "CA file for ssl:// broker URLs (empty: the system's trust store)");
  flags.Add("mqtt-username", "TRACE_MQTT_GATEWAY_USERNAME", "gateway", "MQTT user name");
  flags.Add("mqtt-password", "TRACE_MQTT_GATEWAY_PASSWORD", "", "MQTT password");
  flags.Add("client-id", "TRACE_GATEWAY_CLIENT_ID", std::string("trace-gateway-") + host,
            "MQTT client id; keep it stable across restarts (it names the persistent session)");
  flags.Add("share-group", "TRACE_GATEWAY_SHARE_GROUP", "trace-gateways", "shared subscription group");
  flags.Add("session-expiry", "TRACE_GATEWAY_SESSION_EXPIRY", "86400", "MQTT session expiry, seconds");
  flags.Add("keys-dir", "TRACE_KEYS_DIR", "", "directory of receipt.key (trace-admin keys)");
  flags.Add("workers", "TRACE_GATEWAY_WORKERS", "2", "signature-check threads");
  flags.Add("batch-size", "TRACE_GATEWAY_BATCH_SIZE", "256", "messages per database transaction, at most");
  flags.Add("batch-ms", "TRACE_GATEWAY_BATCH_MS", "20", "longest wait to fill a batch, milliseconds");
  flags.Add("queue", "TRACE_GATEWAY_QUEUE", "1024", "capacity of each internal queue");
  flags.Add("known-ids", "TRACE_GATEWAY_KNOWN_IDS", "65536",
            "ids of stored envelopes remembered, so that their re-sends are not verified again (0: none)");
  flags.Add("max-clock-skew-ms", "TRACE_GATEWAY_MAX_CLOCK_SKEW_MS", "300000",
            "how far in the future `sent` or an eventTime may be, milliseconds");
  flags.Add("device-cache-ms", "TRACE_GATEWAY_DEVICE_CACHE_MS", "2000",
            "how long device rows are cached (a revocation takes effect within this)");
  flags.Add("http-address", "TRACE_GATEWAY_HTTP_ADDRESS", "127.0.0.1", "address of /metrics and /healthz");
  flags.Add("http-port", "TRACE_GATEWAY_HTTP_PORT", "0", "port of /metrics and /healthz (0: a free one)");
  flags.Add("drain-timeout", "TRACE_GATEWAY_DRAIN_TIMEOUT", "30", "seconds to finish in-flight work on SIGTERM");
  flags.Add("log-level", "TRACE_LOG_LEVEL", "info", "debug, info, warn or error");
  auto args = flags.Parse(argc, argv);
  if (!args) {
    std::cerr << args.error().message() << "\n";
    if (args.error().code() != StatusCode::kFailedPrecondition) std::cerr << flags.Usage();
    return args.error().code() == StatusCode::kFailedPrecondition ? 0 : 2;
  }
  log::SetLevel(flags.Get("log-level"));
  int64_t ints[10];
  const char* names[] = {"workers",         "batch-size", "batch-ms",      "queue",          "max-clock-skew-ms",
                         "device-cache-ms", "http-port",  "drain-timeout", "session-expiry", "known-ids"};
  for (int i = 0; i < 10; ++i) {
    auto v = flags.GetInt(names[i]);
    if (!v || *v < 0) {
      std::cerr << "--" << names[i] << ": not a non-negative integer\n";
      return 2;
    }
    ints[i] = *v;
  }
  if (flags.Get("db-url").empty() || flags.Get("keys-dir").empty()) {
    std::cerr << "--db-url (TRACE_DB_URL) and --keys-dir (TRACE_KEYS_DIR) are required\n";
    return 2;
  }
  // The receipt key only: a gateway host has no use for log.key (docs/security.md).
  auto keys = LoadReceiptKey(flags.Get("keys-dir"));
  if (!keys) {
    log::Error("cannot load the receipt key (run `trace-admin keys`)", {{"error", keys.error().ToString()}});
    return 1;
  }

  // Declared in dependency order; destroyed in reverse.
  Metrics metrics;
  SystemClock clock;
  PgDeviceDirectory directory(flags.Get("db-url"), std::chrono::milliseconds(ints[5]));
  StoredIds stored(static_cast<size_t>(ints[9]));
  Checker checker(directory, clock, {.max_clock_skew = std::chrono::milliseconds(ints[4])}, &stored);
  PgEnvelopeStore store(flags.Get("db-url"));
  MqttSource* source_ptr = nullptr;
  Pipeline pipeline(
      {.workers = static_cast<int>(ints[0]),
       .batch_size = static_cast<size_t>(std::max<int64_t>(1, ints[1])),
       .batch_time = std::chrono::milliseconds(ints[2]),
       .queue_capacity = static_cast<size_t>(std::max<int64_t>(1, ints[3])),
       .stored = &stored},
      checker, store, keys->key, keys->id,
      [&source_ptr](const std::string& topic, const std::string& payload) {
        return source_ptr->Publish(topic, payload);
      },
      metrics);
  MqttSource source({.url = flags.Get("mqtt-url"),
                     .ca_file = flags.Get("mqtt-ca"),
                     .client_id = flags.Get("client-id"),
                     .username = flags.Get("mqtt-username"),
                     .password = flags.Get("mqtt-password"),
                     .share_group = flags.Get("share-group"),
                     .session_expiry = std::chrono::seconds(ints[8])},
                    [&pipeline, &metrics](std::string topic, std::string payload) {
                      if (pipeline.Submit(std::move(topic), std::move(payload)) == Pipeline::SubmitResult::kDraining) {
                        metrics.Abandoned();
                      }
                    });
  source_ptr = &source;
  metrics.AddGauge("trace_gateway_inbound_queue_depth", "Messages waiting for a check worker.",
                   [&] { return static_cast<double>(pipeline.inbound_depth()); });
  metrics.AddGauge("trace_gateway_store_queue_depth", "Checked messages waiting for the database writer.",
                   [&] { return static_cast<double>(pipeline.reorder_depth()); });
  metrics.AddGauge("trace_gateway_receipt_queue_depth", "Receipts waiting to be published.",
                   [&] { return static_cast<double>(pipeline.receipt_depth()); });
  metrics.AddGauge("trace_gateway_mqtt_subscribed", "1 while the shared subscription is active.",
                   [&] { return source.subscribed() ? 1.0 : 0.0; });

  metrics.StartSampling(std::chrono::milliseconds(250));
  metrics::MetricsServer http(metrics.registry(), [&source]() -> Status {
    return source.subscribed() ? OkStatus() : Unavailable("not subscribed");
  });
  auto port = http.Start(flags.Get("http-address"), static_cast<uint16_t>(ints[6]));
  if (!port) {
    log::Error("cannot serve http", {{"error", port.error().ToString()}});
    return 1;
  }
  pipeline.Start();
  if (Status s = source.Start(); !s.ok()) {
    log::Error("cannot start mqtt", {{"error", s.ToString()}});
    pipeline.Drain();
    return 1;
  }
  log::Info("trace-gateway started", {{"http_port", *port},
                                      {"mqtt_url", flags.Get("mqtt-url")},
                                      {"client_id", flags.Get("client-id")},
                                      {"receipt_key", keys->id},
                                      {"workers", ints[0]}});

  int sig = 0;
  sigwait(&stop_signals, &sig);
  log::Info("draining", {{"signal", sig}});
  // A second signal, or the drain timeout, ends the process at once: nothing is
  // lost (what is not committed has no receipt and is re-sent by devices).
  std::thread watchdog([&stop_signals, timeout = ints[7]] {
    struct timespec ts {
      static_cast<time_t>(timeout), 0
    };
    siginfo_t info;
    sigtimedwait(&stop_signals, &info, &ts);
    log::Warn("drain cut short; exiting");
    _exit(1);
  });
  watchdog.detach();
  source.StopConsuming();
  pipeline.Drain();
  source.Disconnect();
  http.Stop();
  log::Info("stopped", {{"accepted", metrics.accepted()}, {"received", metrics.received()}});
  return 0;
}

}  // namespace trace::gateway
