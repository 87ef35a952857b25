#include "event_submitter.h"

#include <algorithm>
#include <atomic>
#include <map>

#include <boost/json.hpp>

#include "checker.h"
#include "clock.h"
#include "device_directory.h"
#include "pg_envelope_store.h"
#include "trace/common/envelope.h"
#include "trace/common/epcis.h"
#include "trace/common/jcs.h"
#include "trace/common/time.h"

namespace trace::api {
namespace {

namespace json = boost::json;

// Room left in an envelope for everything but its events (org, device, seq,
// sent, sig, punctuation: about 200 bytes), with a wide margin.
constexpr std::size_t kEnvelopeOverhead = 1024;
constexpr std::size_t kEventBudget = kMaxEnvelopeBytes - kEnvelopeOverhead;

// The signer as the gateway's Checker sees it: the devices row's key (which
// OrgSigner checked equals the key file's). The store re-reads and locks the
// row, so a revocation is still honoured.
class SignerDirectory final : public gateway::DeviceDirectory {
 public:
  SignerDirectory(std::string org, std::string device, std::string public_key)
      : org_(std::move(org)), device_(std::move(device)), public_key_(std::move(public_key)) {}
  Result<std::optional<gateway::DeviceInfo>> Lookup(std::string_view org, std::string_view device) override {
    if (org != org_ || device != device_) return std::optional<gateway::DeviceInfo>();
    return std::optional<gateway::DeviceInfo>(gateway::DeviceInfo{public_key_, true, 0});
  }

 private:
  std::string org_, device_, public_key_;
};

// Splits a validator message "$.events[2].bizStep: not a ..." into its path
// and the rest.
EventError MakeError(std::size_t index, const std::string& fallback_path, const std::string& message) {
  EventError e{index, fallback_path, message};
  if (message.starts_with("$")) {
    auto colon = message.find(": ");
    if (colon != std::string::npos) {
      e.path = message.substr(0, colon);
      e.message = message.substr(colon + 2);
    }
  }
  return e;
}

// The per-event checks of the gateway (Checker::CheckContent), event by event
// so that every failing event is named. Returns the event's canonical size.
std::optional<EventError> CheckEvent(std::size_t index, const json::value& event, const std::string& path,
                                     std::chrono::system_clock::time_point limit, std::chrono::milliseconds max_skew,
                                     std::size_t* canonical_size) {
  if (!event.is_object()) return EventError{index, path, "not a JSON object"};
  auto canonical = Canonicalize(event);
  if (!canonical) return MakeError(index, path, canonical.error().message());
  *canonical_size = canonical->size();
  if (canonical->size() > kEventBudget) {
    return EventError{index, path,
                      std::to_string(canonical->size()) + " bytes; an envelope holds at most " +
                          std::to_string(kMaxEnvelopeBytes) + " bytes"};
  }
  if (Status s = epcis::ValidateEvent(event, path); !s.ok()) return MakeError(index, path, s.message());
  if (const auto* t = event.as_object().if_contains("eventTime"); t != nullptr && t->is_string()) {
    auto when = ParseRfc3339(t->get_string());
    if (when && when->utc > limit) {
      return EventError{
          index, JsonPathMember(path, "eventTime"),
          std::string(t->get_string()) + " is more than " + std::to_string(max_skew.count()) + " ms in the future"};
    }
  }
  return std::nullopt;
}

}  // namespace

namespace detail {

uint64_t NextSeq() {
  static std::atomic<uint64_t> last{0};
  const uint64_t now = static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::system_clock::now().time_since_epoch())
          .count());
  uint64_t prev = last.load();
  uint64_t next = 0;
  do {
    next = std::max(now, prev + 1);
  } while (!last.compare_exchange_weak(prev, next));
  return next;
}

}  // namespace detail

bool SubmitResult::complete() const {
  if (!errors.empty() || envelopes.empty()) return false;
  return std::all_of(envelopes.begin(), envelopes.end(),
                     [](const EnvelopeOutcome& e) { return e.decision == "accepted" || e.decision == "duplicate"; });
}

json::object SubmitResult::ToJson() const {
  json::array envs;
  for (const auto& e : envelopes) {
    json::array idx;
    for (auto i : e.event_indexes) idx.push_back(static_cast<uint64_t>(i));
    envs.push_back(json::object{{"id", e.id},
                                {"seq", e.seq},
                                {"sent", e.sent},
                                {"decision", e.decision},
                                {"detail", e.detail},
                                {"events", std::move(idx)}});
  }
  json::array errs;
  for (const auto& e : errors) {
    errs.push_back(json::object{{"index", static_cast<uint64_t>(e.index)}, {"path", e.path}, {"message", e.message}});
  }
  return json::object{{"envelopes", std::move(envs)}, {"errors", std::move(errs)}};
}

Result<SubmitResult> SubmitEvents(pqxx::connection& conn, OrgSigner& signer, std::string_view org,
                                  const json::array& events, const SubmitOptions& options) {
  if (events.empty()) return Fail(InvalidArgument(options.events_path + ": no events"));
  if (events.size() > kMaxSubmitEvents) {
    return Fail(InvalidArgument(options.events_path + ": " + std::to_string(events.size()) + " events; at most " +
                                std::to_string(kMaxSubmitEvents) + " per submission"));
  }
  gateway::SystemClock clock;
  SubmitResult result;

  // 1. Each event on its own.
  const auto limit = clock.Now() + options.max_clock_skew;
  std::vector<std::size_t> valid;
  std::vector<std::size_t> sizes(events.size(), 0);
  for (std::size_t i = 0; i < events.size(); ++i) {
    std::string path = JsonPathIndex(options.events_path, i);
    if (auto err = CheckEvent(i, events[i], path, limit, options.max_clock_skew, &sizes[i])) {
      result.errors.push_back(std::move(*err));
    } else {
      valid.push_back(i);
    }
  }
  if (!result.errors.empty() && options.on_error == SubmitOptions::OnError::kRollback) return result;
  if (valid.empty()) return result;

  auto who = signer.Get(conn, org);
  if (!who) return Fail(who.error());

  // 2. Envelopes of at most 256 events and kEventBudget bytes of events.
  std::vector<EnvelopeOutcome> plan;
  {
    EnvelopeOutcome current;
    std::size_t bytes = 0;
    for (std::size_t i : valid) {
      if (!current.event_indexes.empty() &&
          (current.event_indexes.size() == kMaxEventsPerEnvelope || bytes + sizes[i] + 1 > kEventBudget)) {
        plan.push_back(std::move(current));
        current = EnvelopeOutcome();
        bytes = 0;
      }
      current.event_indexes.push_back(i);
      bytes += sizes[i] + 1;
    }
    plan.push_back(std::move(current));
  }
  for (std::size_t k = 0; k < plan.size(); ++k) {
    if (k < options.reuse.size() && options.reuse[k].event_indexes == plan[k].event_indexes &&
        options.reuse[k].seq != 0 && !options.reuse[k].sent.empty()) {
      plan[k].seq = options.reuse[k].seq;
      plan[k].sent = options.reuse[k].sent;
    }
  }

  SignerDirectory directory(who->org, who->device, who->public_key);
  gateway::Checker checker(directory, clock, {.max_clock_skew = options.max_clock_skew});
  const std::string topic = UpTopic(who->org, who->device);

  // 3. Sign, check and store; envelopes answered seq_reused go round again.
  std::vector<std::size_t> pending(plan.size());
  for (std::size_t k = 0; k < plan.size(); ++k) pending[k] = k;
  for (int attempt = 0; !pending.empty(); ++attempt) {
    if (attempt >= options.max_seq_attempts) {
      return Fail(Unavailable("seq reused " + std::to_string(attempt) + " times in a row for " + who->org + "/" +
                              who->device + "; giving up"));
    }
    std::vector<gateway::CheckedMessage> batch;
    for (std::size_t k : pending) {
      EnvelopeOutcome& p = plan[k];
      if (p.seq == 0) {
        p.seq = detail::NextSeq();
        p.sent = FormatRfc3339Millis(clock.Now());
      }
      json::array list;
      for (std::size_t i : p.event_indexes) list.push_back(events[i]);
      json::object unsigned_env{{"v", kEnvelopeVersion}, {"org", who->org}, {"device", who->device},
                                {"seq", p.seq},          {"sent", p.sent},  {"events", std::move(list)}};
      auto env = SignEnvelope(std::move(unsigned_env), who->key);
      if (!env) return Fail(Internal("signing an envelope: " + env.error().message()));
      p.id = env->id;
      auto checked = checker.Check(topic, env->canonical_bytes);
      if (!checked) return Fail(checked.error());
      const auto& refusal = checked->rejection ? checked->rejection : checked->deferred;
      if (refusal) {
        return Fail(Internal("the gateway's checks refuse an envelope signed for " + who->org + ": " +
                             std::string(ReasonName(refusal->reason)) + ": " + refusal->detail));
      }
      batch.push_back(gateway::CheckedMessage{topic, env->canonical_bytes, std::chrono::system_clock::now(),
                                              std::move(*checked), gateway::Source::kApi});
    }
    if (options.on_planned) {
      if (Status s = options.on_planned(plan); !s.ok()) return Fail(s);
    }
    auto decisions = gateway::StoreCheckedBatch(conn, batch);
    if (!decisions) return Fail(decisions.error());
    std::vector<std::size_t> again;
    for (std::size_t j = 0; j < pending.size(); ++j) {
      EnvelopeOutcome& p = plan[pending[j]];
      const gateway::Decision& d = (*decisions)[j];
      if (d.status == ReceiptStatus::kRejected && d.rejection && d.rejection->reason == Reason::kSeqReused) {
        p.seq = 0;  // a new seq (and sent) next round
        again.push_back(pending[j]);
        continue;
      }
      p.decision = std::string(ReceiptStatusName(d.status));
      p.detail = d.rejection ? std::string(ReasonName(d.rejection->reason)) + ": " + d.rejection->detail : d.detail;
    }
    pending = std::move(again);
  }
  result.envelopes = std::move(plan);
  return result;
}

}  // namespace trace::api
