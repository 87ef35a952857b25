#include "mqtt_link.h"

#include <mqtt/async_client.h>

#include "trace/common/envelope.h"
#include "trace/common/log.h"

namespace trace::devicesim {

void ReceiptQueue::Push(IncomingReceipt r) {
  {
    std::lock_guard lock(mu_);
    items_.push_back(std::move(r));
  }
  cv_.notify_one();
}

std::optional<IncomingReceipt> ReceiptQueue::PopUntil(std::chrono::steady_clock::time_point deadline) {
  std::unique_lock lock(mu_);
  if (!cv_.wait_until(lock, deadline, [&] { return !items_.empty(); })) return std::nullopt;
  IncomingReceipt r = std::move(items_.front());
  items_.pop_front();
  return r;
}

struct MqttLink::Impl {
  Impl(const std::string& url, const std::string& client_id) : client(url, client_id) {}
  std::string org, device, up_topic, receipt_topic;
  mqtt::async_client client;
};

MqttLink::MqttLink(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

MqttLink::~MqttLink() {
  try {
    if (impl_->client.is_connected()) impl_->client.disconnect()->wait_for(std::chrono::seconds(2));
  } catch (const std::exception&) {
    // Going away regardless; the broker keeps the session.
  }
}

Result<std::unique_ptr<MqttLink>> MqttLink::Connect(const MqttOptions& options, const std::string& org,
                                                    const std::string& device, const Credentials& credentials,
                                                    ReceiptQueue* queue) {
  // The broker's ACL expects client id = username = "{org}/{device}".
  return ConnectAs(options, org + "/" + device, org, device, credentials, queue);
}

Result<std::unique_ptr<MqttLink>> MqttLink::ConnectAs(const MqttOptions& options, const std::string& client_id,
                                                      const std::string& org, const std::string& device,
                                                      const Credentials& credentials, ReceiptQueue* queue) {
  std::unique_ptr<Impl> impl;
  try {
    impl = std::make_unique<Impl>(options.url, client_id);
  } catch (const std::exception& e) {
    return Fail(InvalidArgument("MQTT URL \"" + options.url + "\": " + e.what()));
  }
  impl->org = org;
  impl->device = device;
  impl->up_topic = UpTopic(org, device);
  impl->receipt_topic = ReceiptTopic(org, device);
  Impl* raw = impl.get();
  impl->client.set_message_callback([raw, queue](mqtt::const_message_ptr msg) {
    if (msg->get_topic() != raw->receipt_topic) return;
    queue->Push({raw->org, raw->device, msg->get_payload_str(), std::chrono::steady_clock::now()});
  });
  // On every (re)connect: subscribe again. With a persistent session this is
  // a no-op for the broker; if the session expired it restores the receipts.
  impl->client.set_connected_handler([raw](const std::string&) {
    try {
      raw->client.subscribe(raw->receipt_topic, 1);
    } catch (const std::exception& e) {
      log::Warn("receipt subscribe failed", {{"topic", raw->receipt_topic}, {"error", e.what()}});
    }
  });
  impl->client.set_connection_lost_handler([raw](const std::string& cause) {
    log::Warn("MQTT connection lost; reconnecting", {{"client", raw->org + "/" + raw->device}, {"cause", cause}});
  });
  auto builder = mqtt::connect_options_builder();
  builder.clean_session(false)
      .user_name(credentials.username)
      .password(credentials.password)
      .connect_timeout(options.connect_timeout)
      .keep_alive_interval(options.keep_alive)
      .max_inflight(options.max_inflight)
      .automatic_reconnect(std::chrono::seconds(1), std::chrono::seconds(30));
  if (options.url.starts_with("ssl://") || options.url.starts_with("mqtts://")) {
    auto ssl = mqtt::ssl_options_builder();
    ssl.enable_server_cert_auth(true).verify(true);  // the chain and the host name
    if (!options.ca_file.empty()) ssl.trust_store(options.ca_file);
    builder.ssl(ssl.finalize());
  }
  try {
    impl->client.connect(builder.finalize())->wait();
  } catch (const mqtt::exception& e) {
    int rc = e.get_return_code();
    if (rc == 4 || rc == 5) {
      return Fail(Unauthenticated("broker " + options.url + " refused the login \"" + credentials.username + "\""));
    }
    return Fail(Unavailable("broker " + options.url + " unreachable for " + client_id + ": " + e.what()));
  }
  try {
    // The connected handler subscribes too; waiting here makes the first
    // subscription certain before anything is published.
    if (!impl->client.subscribe(impl->receipt_topic, 1)->wait_for(options.connect_timeout)) {
      return Fail(DeadlineExceeded("no SUBACK for " + impl->receipt_topic));
    }
  } catch (const mqtt::exception& e) {
    return Fail(Unavailable("subscribe " + impl->receipt_topic + ": " + e.what()));
  }
  return std::unique_ptr<MqttLink>(new MqttLink(std::move(impl)));
}

Status MqttLink::Publish(const std::string& topic, const std::string& payload) {
  try {
    impl_->client.publish(topic, payload.data(), payload.size(), 1, false);
  } catch (const mqtt::exception& e) {
    return Unavailable("publish to " + topic + ": " + e.what());
  }
  return OkStatus();
}

Status MqttLink::PublishUp(const std::string& payload) { return Publish(impl_->up_topic, payload); }

bool MqttLink::connected() const { return impl_->client.is_connected(); }

}  // namespace trace::devicesim
