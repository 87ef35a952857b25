#include "mqtt_source.h"

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <random>
#include <thread>

#include <mqtt/async_client.h>

#include "trace/common/log.h"

namespace trace::gateway {
namespace {

// Receipts unacknowledged by the broker (it may grant fewer with its Receive
// Maximum), and receipts queued inside Paho: together about 10 MB at most.
// Large on purpose, although Paho scans these lists linearly per publish and
// per PUBACK (about 10% of the gateway's CPU under load): PUBACKs are read by
// Paho's one receive thread, which is held while Pipeline::Submit waits, so
// the window must cover what the pipeline can produce meanwhile. Measured with
// 256/1024: receipts stalled, latency passed the devices' re-send timeout, and
// P1 fell from 820 to 318 envelopes/s (bench/ingest.sh, same machine).
constexpr int kMaxInflightReceipts = 4096;
constexpr int kMaxBufferedReceipts = 16384;

}  // namespace

struct MqttSource::Impl {
  Options options;
  Handler handler;
  std::unique_ptr<mqtt::async_client> client;      // consumes the shared subscription
  std::unique_ptr<mqtt::async_client> pub_client;  // publishes receipts
  std::atomic<bool> consuming{true};
  std::atomic<bool> subscribed{false};
  std::atomic<uint64_t> abandoned{0};

  std::mutex mu;
  std::condition_variable cv;
  bool stop = false;
  bool lost = true;  // needs a (re)connect
  std::thread thread;

  std::atomic<bool> pub_connected{false};

  void Loop();
  bool ConnectOnce(bool& first);
  bool ConnectPublisher();
};

MqttSource::MqttSource(Options options, Handler on_message) : impl_(std::make_unique<Impl>()) {
  impl_->options = std::move(options);
  impl_->handler = std::move(on_message);
}

MqttSource::~MqttSource() { Disconnect(std::chrono::seconds(1)); }

Status MqttSource::Start() {
  try {
    impl_->client = std::make_unique<mqtt::async_client>(impl_->options.url, impl_->options.client_id,
                                                         mqtt::create_options(MQTTVERSION_5));
    // Paho refuses a publish (MQTTASYNC_MAX_BUFFERED_MESSAGES) while this many
    // are queued but not yet written to the socket; its default, 100, is less
    // than one batch of receipts.
    impl_->pub_client = std::make_unique<mqtt::async_client>(impl_->options.url, impl_->options.client_id + "-receipts",
                                                             mqtt::create_options(MQTTVERSION_5, kMaxBufferedReceipts));
  } catch (const std::exception& e) {
    return InvalidArgument(std::string("mqtt client: ") + e.what());
  }
  Impl* impl = impl_.get();
  impl->client->set_message_callback([impl](mqtt::const_message_ptr msg) {
    if (!impl->consuming.load()) {
      impl->abandoned.fetch_add(1);
      return;
    }
    impl->handler(msg->get_topic(), msg->to_string());
  });
  impl->client->set_connection_lost_handler([impl](const std::string& cause) {
    log::Warn("mqtt connection lost", {{"cause", cause}});
    std::lock_guard lock(impl->mu);
    impl->lost = true;
    impl->subscribed = false;
    impl->cv.notify_all();
  });
  impl->pub_client->set_connection_lost_handler([impl](const std::string& cause) {
    impl->pub_connected = false;
    log::Warn("mqtt receipt connection lost", {{"cause", cause}});
    std::lock_guard lock(impl->mu);
    impl->lost = true;
    impl->cv.notify_all();
  });
  impl->thread = std::thread([impl] { impl->Loop(); });
  return OkStatus();
}

// The receipt connection: clean start, no subscription. A receipt lost with it
// is harmless (the envelope is stored; the device's re-send gets `duplicate`).
namespace {

// TLS options for ssl:// and mqtts:// URLs: the broker's chain must verify
// against `ca_file` (or the default trust store) and name the host.
std::optional<mqtt::ssl_options> TlsOptions(const MqttSource::Options& options) {
  if (!options.url.starts_with("ssl://") && !options.url.starts_with("mqtts://")) return std::nullopt;
  auto ssl = mqtt::ssl_options_builder();
  ssl.enable_server_cert_auth(true).verify(true);
  if (!options.ca_file.empty()) ssl.trust_store(options.ca_file);
  return ssl.finalize();
}

}  // namespace

bool MqttSource::Impl::ConnectPublisher() {
  if (pub_client->is_connected()) return true;
  pub_connected = false;
  try {
    auto opts = mqtt::connect_options_builder()
                    .mqtt_version(MQTTVERSION_5)
                    .clean_start(true)
                    .keep_alive_interval(std::chrono::seconds(20))
                    .connect_timeout(std::chrono::seconds(10))
                    .user_name(options.username)
                    .password(options.password)
                    .automatic_reconnect(false)
                    .max_inflight(kMaxInflightReceipts)
                    .finalize();
    if (auto tls = TlsOptions(options)) opts.set_ssl(*tls);
    pub_client->connect(opts)->wait();
    pub_connected = true;
    return true;
  } catch (const std::exception& e) {
    log::Warn("mqtt receipt connection failed", {{"url", options.url}, {"error", e.what()}});
    return false;
  }
}

bool MqttSource::Impl::ConnectOnce(bool& first) {
  if (!ConnectPublisher()) return false;
  if (client->is_connected() && subscribed) return true;
  try {
    mqtt::properties props{
        {mqtt::property::SESSION_EXPIRY_INTERVAL, static_cast<int>(options.session_expiry.count())},
        {mqtt::property::RECEIVE_MAXIMUM, options.receive_maximum},
    };
    auto opts = mqtt::connect_options_builder()
                    .mqtt_version(MQTTVERSION_5)
                    .clean_start(false)
                    .properties(props)
                    .keep_alive_interval(std::chrono::seconds(20))
                    .connect_timeout(std::chrono::seconds(10))
                    .user_name(options.username)
                    .password(options.password)
                    .automatic_reconnect(false)
                    .finalize();
    if (auto tls = TlsOptions(options)) opts.set_ssl(*tls);
    auto tok = client->connect(opts);
    tok->wait();
    const bool session_present = tok->get_connect_response().is_session_present();
    // Subscribe on every connect, even when the broker says the session is
    // present: Mosquitto 2.0 restores a persistent session after a restart but
    // not its shared subscription (seen: session present, nothing delivered
    // until the gateway restarted). Subscribing again is idempotent.
    const std::string filter = "$share/" + options.share_group + "/trace/v1/+/+/up";
    client->subscribe(filter, 1)->wait();
    log::Info(first ? "subscribed" : "resubscribed", {{"filter", filter}, {"session_present", session_present}});
    first = false;
    subscribed = true;
    return true;
  } catch (const std::exception& e) {
    log::Warn("mqtt connect failed", {{"url", options.url}, {"error", e.what()}});
    try {
      if (client->is_connected()) client->disconnect()->wait_for(std::chrono::seconds(2));
    } catch (const std::exception&) {
    }
    return false;
  }
}

void MqttSource::Impl::Loop() {
  std::mt19937_64 rng(std::random_device{}());
  bool first = true;
  auto backoff = std::chrono::milliseconds(500);
  std::unique_lock lock(mu);
  while (!stop) {
    if (!lost) {
      cv.wait(lock, [&] { return stop || lost; });
      continue;
    }
    lost = false;
    lock.unlock();
    const bool ok = ConnectOnce(first);
    lock.lock();
    if (ok) {
      backoff = std::chrono::milliseconds(500);
      continue;
    }
    lost = true;
    // Full jitter: sleep a random time in [0, backoff], so gateways that lost
    // the broker together do not come back together.
    std::uniform_int_distribution<int64_t> pick(100, backoff.count());
    cv.wait_for(lock, std::chrono::milliseconds(pick(rng)), [&] { return stop; });
    backoff = std::min(backoff * 2, std::chrono::milliseconds(30000));
  }
}

bool MqttSource::subscribed() const { return impl_->subscribed.load(); }

Status MqttSource::Publish(const std::string& topic, const std::string& payload) {
  // No is_connected() here: it takes Paho's library-wide lock, which the
  // receive thread already holds when Publish is called from the message
  // callback (Pipeline::Submit publishes receipts while it waits), and that
  // lock is not recursive. Paho's own check (MQTTASYNC_DISCONNECTED) answers.
  if (!impl_->pub_client || !impl_->pub_connected.load()) return Unavailable("mqtt: not connected");
  try {
    // Never waits for the PUBACK: Paho keeps up to kMaxInflightReceipts in
    // flight and kMaxBufferedReceipts queued, and refuses more (an exception,
    // so Unavailable: the caller retries).
    impl_->pub_client->publish(topic, payload.data(), payload.size(), 1, false);
    return OkStatus();
  } catch (const std::exception& e) {
    return Unavailable(std::string("mqtt publish: ") + e.what());
  }
}

void MqttSource::StopConsuming() { impl_->consuming = false; }

void MqttSource::Disconnect(std::chrono::milliseconds timeout) {
  {
    std::lock_guard lock(impl_->mu);
    if (impl_->stop) return;
    impl_->stop = true;
    impl_->cv.notify_all();
  }
  if (impl_->thread.joinable()) impl_->thread.join();
  if (!impl_->client) return;
  try {
    if (impl_->client->is_connected()) impl_->client->disconnect()->wait_for(timeout);
    // Paho's disconnect waits up to `timeout` for receipts still in flight.
    if (impl_->pub_client->is_connected()) {
      impl_->pub_client->disconnect(static_cast<int>(timeout.count()))->wait_for(timeout + std::chrono::seconds(1));
    }
  } catch (const std::exception& e) {
    log::Warn("mqtt disconnect", {{"error", e.what()}});
  }
}

uint64_t MqttSource::abandoned() const { return impl_->abandoned.load(); }

}  // namespace trace::gateway
