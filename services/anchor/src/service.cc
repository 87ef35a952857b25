#include "service.h"

#include <unistd.h>

#include <thread>

#include <pqxx/pqxx>

#include "trace/common/log.h"
#include "trace/common/pg_log.h"

namespace trace::anchor {
namespace {

constexpr const char* kStates[4] = {"pending", "submitted", "confirmed", "failed"};

}  // namespace

AnchorService::AnchorService(ServiceOptions options, const LogKey& log_key, Anchorer* anchorer,
                             metrics::Registry& registry)
    : options_(std::move(options)),
      log_key_(log_key),
      anchorer_(anchorer),
      lock_(options_.db_url),
      sequencer_(options_.sequencer),
      checkpointer_(CheckpointerOptions{.log_name = log_key.log_name,
                                        .key_id = log_key.id,
                                        .interval = options_.checkpoint_interval},
                    log_key.key),
      tree_size_(registry.AddGauge("trace_anchor_tree_size", "leaves in the log (as last seen by the leader)")),
      sequenced_(registry.AddCounter("trace_anchor_leaves_sequenced_total", "leaves sequenced by this process")),
      checkpoints_(registry.AddCounter("trace_anchor_checkpoints_total", "checkpoints signed by this process")),
      leader_gauge_(registry.AddGauge("trace_anchor_is_leader", "1 while this process holds the leader lock")),
      errors_(registry.AddCounter("trace_anchor_cycle_errors_total", "cycles that failed")),
      cycle_seconds_(registry.AddHistogram("trace_anchor_cycle_seconds", "duration of one leader cycle",
                                           {0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5})) {
  for (int i = 0; i < 4; ++i) {
    anchors_[i] = &registry.AddGauge("trace_anchor_anchors", "anchors by state", {{"state", kStates[i]}});
  }
}

void AnchorService::RequestStop() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
}

void AnchorService::Sleep(std::chrono::milliseconds d) {
  std::unique_lock lock(mu_);
  cv_.wait_for(lock, d, [&] { return stop_.load(); });
}

Status AnchorService::Health() const {
  std::lock_guard lock(health_mu_);
  return health_;
}

void AnchorService::SetHealth(Status s) {
  std::lock_guard lock(health_mu_);
  health_ = std::move(s);
}

void AnchorService::Run() {
  log::Info("anchor service running", {{"anchoring", anchorer_ != nullptr}, {"log_name", log_key_.log_name}});
  std::thread anchoring;
  if (anchorer_ != nullptr) anchoring = std::thread([this] { AnchorLoop(); });
  while (!stop_) {
    if (!lock_.held()) {
      auto got = lock_.TryAcquire();
      if (!got) {
        SetHealth(got.error());
        log::Warn("database unreachable; will retry", {{"error", got.error().ToString()}});
        Sleep(options_.error_backoff);
        continue;
      }
      SetHealth(OkStatus());
      if (!*got) {
        Sleep(options_.standby_poll);
        continue;
      }
      is_leader_ = true;
      leader_gauge_.Set(1);
      sequencer_.Reset();
      log::Info("became leader", {{"pid", static_cast<int64_t>(getpid())}});
    }
    if (!lock_.CheckAlive()) {
      is_leader_ = false;
      leader_gauge_.Set(0);
      conn_.reset();
      log::Warn("lost the leader lock's connection; stepping down");
      continue;
    }
    auto start = std::chrono::steady_clock::now();
    auto more = Cycle();
    cycle_seconds_.Observe(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
    if (!more) {
      errors_.Increment();
      SetHealth(more.error());
      log::Error("cycle failed", {{"error", more.error().ToString()}});
      if (more.error().code() == StatusCode::kUnavailable) conn_.reset();
      Sleep(options_.error_backoff);
      continue;
    }
    SetHealth(OkStatus());
    if (!*more) Sleep(options_.idle_poll);
  }
  if (anchoring.joinable()) anchoring.join();  // its current step finishes first
  conn_.reset();
  if (lock_.held()) log::Info("releasing the leader lock");
  lock_.Release();
  is_leader_ = false;
  leader_gauge_.Set(0);
  log::Info("anchor service stopped");
}

Result<bool> AnchorService::Cycle() {
  if (!conn_ || !conn_->is_open()) {
    auto conn = pg::Connect(options_.db_url);
    if (!conn) return Fail(conn.error());
    conn_ = std::move(*conn);
  }
  auto seq = sequencer_.RunCycle(*conn_);
  if (!seq) return Fail(seq.error());
  sequenced_.Increment(seq->appended);
  tree_size_.Set(static_cast<double>(seq->tree_size));
  if (seq->appended > 0) {
    log::Debug("sequenced", {{"leaves", seq->appended}, {"tree_size", seq->tree_size}});
  }
  bool full_batch = seq->more;
  // While a backlog drains, checkpoints still come at their interval.
  auto cp = checkpointer_.MaybeCheckpoint(*conn_, false, Checkpointer::Expected{seq->tree_size, seq->root});
  if (!cp) return Fail(cp.error());
  if (*cp) {
    checkpoints_.Increment();
    log::Info("checkpoint", {{"tree_size", (*cp)->tree_size}, {"root", HashHex((*cp)->root)}});
  }
  return full_batch;
}

void AnchorService::AnchorLoop() {
  pg::ConnectionPtr conn;
  while (!stop_) {
    if (!is_leader_) {
      conn.reset();
      Sleep(options_.anchor_interval);
      continue;
    }
    if (!conn || !conn->is_open()) {
      auto c = pg::Connect(options_.db_url);
      if (!c) {
        log::Warn("anchoring: database unreachable", {{"error", c.error().ToString()}});
        Sleep(options_.error_backoff);
        continue;
      }
      conn = std::move(*c);
    }
    Status s = anchorer_->Step(*conn);
    if (!s.ok()) {
      errors_.Increment();
      log::Warn("anchoring step failed", {{"error", s.ToString()}});
    }
    RefreshAnchorGauges(*conn);
    Sleep(options_.anchor_interval);
  }
}

void AnchorService::RefreshAnchorGauges(pqxx::connection_base& conn) {
  try {
    pqxx::read_transaction tx(conn);
    double counts[4] = {0, 0, 0, 0};
    for (const auto& row : tx.exec("SELECT state, count(*) FROM anchors GROUP BY state")) {
      std::string state = row[0].as<std::string>();
      for (int i = 0; i < 4; ++i) {
        if (state == kStates[i]) counts[i] = row[1].as<double>();
      }
    }
    for (int i = 0; i < 4; ++i) anchors_[i]->Set(counts[i]);
  } catch (const std::exception& e) {
    log::Warn("reading anchor counts failed", {{"error", pg::PgError("anchors", e).ToString()}});
  }
}

}  // namespace trace::anchor
