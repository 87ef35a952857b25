// trace-anchor: sequences stored envelopes into the Merkle log, signs
// checkpoints, anchors them on the chain (when configured). See src/service.h.
#include <pthread.h>
#include <signal.h>

#include <iostream>
#include <memory>
#include <thread>

#include "eth_chain_client.h"
#include "service.h"
#include "trace/common/config.h"
#include "trace/common/log.h"
#include "trace/common/metrics.h"
#include "trace/common/metrics_server.h"
#include "trace/common/platform_keys.h"

namespace {

int Main(int argc, char** argv) {
  trace::log::SetService("trace-anchor");
  trace::Flags flags("trace-anchor", "sequence envelopes into the Merkle log, sign checkpoints, anchor them");
  flags.Add("db-url", "TRACE_DB_URL", "", "libpq URI of the database");
  flags.Add("keys-dir", "TRACE_KEYS_DIR", "", "directory holding log.key (see trace-admin keys)");
  flags.Add("log-name", "TRACE_LOG_NAME", std::string(trace::kDefaultLogName), "the log's name (checkpoint origin)");
  flags.Add("http-host", "TRACE_ANCHOR_HTTP_HOST", "127.0.0.1", "address of /metrics and /healthz");
  flags.Add("http-port", "TRACE_ANCHOR_HTTP_PORT", "0", "port of /metrics and /healthz (0: any free port)");
  flags.Add("batch-size", "TRACE_ANCHOR_BATCH", "1000", "envelopes sequenced per transaction at most");
  flags.Add("checkpoint-interval-ms", "TRACE_CHECKPOINT_INTERVAL_MS", "1000", "least time between checkpoints");
  flags.Add("poll-ms", "TRACE_ANCHOR_POLL_MS", "100", "pause between cycles when idle");
  flags.Add("chain-rpc", "TRACE_CHAIN_RPC", "", "JSON-RPC URL of the chain");
  flags.Add("contract", "TRACE_CONTRACT", "", "address of the TraceAnchor contract");
  flags.Add("anchor-key-file", "TRACE_ANCHOR_KEY_FILE", "", "secp256k1 key of the anchoring account (mode 0600)");
  // 2 for a chain we know nothing about: the block holding the transaction and one on top.
  // A QBFT network (Besu, Quorum) has immediate finality: 1; deploy/stack.sh sets 1 for its
  // anvil. A proof-of-work or proof-of-stake chain needs far more. See README.md.
  flags.Add("confirmations", "TRACE_CHAIN_CONFIRMATIONS", "2",
            "blocks, counting the one holding the transaction, that make an anchor confirmed");
  // Each anchoring step is a few JSON-RPC calls; 250 ms keeps the steps (create + send,
  // mined, confirmed) from adding whole seconds to the accepted -> anchored latency.
  flags.Add("anchor-interval-ms", "TRACE_ANCHOR_INTERVAL_MS", "250", "pause between anchoring steps");
  // While anchors wait for confirmations, newer checkpoints go out with the next nonces.
  flags.Add("max-in-flight", "TRACE_ANCHOR_MAX_IN_FLIGHT", "3", "anchor transactions pending or submitted at once");
  flags.Add("gas-limit", "TRACE_ANCHOR_GAS_LIMIT", "150000", "gas limit of each anchor transaction");
  flags.Add("log-level", "TRACE_LOG_LEVEL", "info", "debug, info, warn or error");
  auto args = flags.Parse(argc, argv);
  if (!args) {
    std::cerr << args.error().message() << "\n" << flags.Usage();
    return 2;
  }
  trace::log::SetLevel(flags.Get("log-level"));
  auto port = flags.GetInt("http-port");
  auto batch = flags.GetInt("batch-size");
  auto interval = flags.GetInt("checkpoint-interval-ms");
  auto poll = flags.GetInt("poll-ms");
  auto confirmations = flags.GetInt("confirmations");
  auto gas_limit = flags.GetInt("gas-limit");
  auto anchor_interval = flags.GetInt("anchor-interval-ms");
  auto max_in_flight = flags.GetInt("max-in-flight");
  for (const auto* r :
       {&port, &batch, &interval, &poll, &confirmations, &gas_limit, &anchor_interval, &max_in_flight}) {
    if (!*r) {
      std::cerr << r->error().message() << "\n";
      return 2;
    }
  }
  if (flags.Get("db-url").empty() || flags.Get("keys-dir").empty()) {
    std::cerr << "trace-anchor: --db-url (TRACE_DB_URL) and --keys-dir (TRACE_KEYS_DIR) are required\n";
    return 2;
  }

  // Signals are taken by one thread with sigwait; every other thread inherits the mask.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  // The keys are made by an operator command (trace-admin keys), never here; a fresh
  // stack may start this service first, so a missing key is waited for.
  // The log key only: an anchor host has no use for receipt.key.
  auto keys = trace::LoadLogKey(flags.Get("keys-dir"), flags.Get("log-name"));
  for (bool said = false; !keys; keys = trace::LoadLogKey(flags.Get("keys-dir"), flags.Get("log-name"))) {
    if (keys.error().code() != trace::StatusCode::kNotFound) {
      trace::log::Error("cannot load the log key", {{"error", keys.error().ToString()}});
      return 1;
    }
    if (!said) {
      trace::log::Warn("waiting for the log key; run `trace-admin keys`", {{"error", keys.error().ToString()}});
      said = true;
    }
    timespec wait{2, 0};
    if (sigtimedwait(&signals, nullptr, &wait) > 0) return 0;
  }

  // Declared in dependency order; destroyed in reverse.
  trace::metrics::Registry registry;
  std::unique_ptr<trace::anchor::EthChainClient> chain;
  std::unique_ptr<trace::anchor::Anchorer> anchorer;
  if (flags.Get("chain-rpc").empty() || flags.Get("contract").empty() || flags.Get("anchor-key-file").empty()) {
    trace::log::Info("anchoring disabled: TRACE_CHAIN_RPC, TRACE_CONTRACT and TRACE_ANCHOR_KEY_FILE are not all "
                     "set; sequencing and checkpoints only");
  } else {
    if (*confirmations < 1 || *max_in_flight < 1 || *gas_limit < 21000) {
      std::cerr << "trace-anchor: --confirmations and --max-in-flight must be at least 1 and --gas-limit at least "
                   "21000\n";
      return 2;
    }
    trace::anchor::EthChainClientOptions chain_options{.rpc_url = flags.Get("chain-rpc"),
                                                       .contract = flags.Get("contract"),
                                                       .key_file = flags.Get("anchor-key-file"),
                                                       .gas_limit = static_cast<uint64_t>(*gas_limit)};
    // The node may come up after this service: wait for it (the chain id is needed to sign).
    auto client = trace::anchor::EthChainClient::Create(chain_options);
    for (bool said = false; !client; client = trace::anchor::EthChainClient::Create(chain_options)) {
      if (client.error().code() != trace::StatusCode::kUnavailable) {
        trace::log::Error("cannot set up the chain client", {{"error", client.error().ToString()}});
        return 1;
      }
      if (!said) {
        trace::log::Warn("waiting for the chain node", {{"error", client.error().ToString()}});
        said = true;
      }
      timespec wait{2, 0};
      if (sigtimedwait(&signals, nullptr, &wait) > 0) return 0;
    }
    chain = std::move(*client);
    anchorer = std::make_unique<trace::anchor::ChainAnchorer>(
        *chain, trace::anchor::ChainAnchorerOptions{.confirmations = static_cast<uint64_t>(*confirmations),
                                                     .max_in_flight = static_cast<uint64_t>(*max_in_flight)});
    trace::log::Info("anchoring enabled", {{"chain_id", chain->chain_id()},
                                           {"contract", chain->contract()},
                                           {"sender", chain->sender()},
                                           {"confirmations", *confirmations},
                                           {"max_in_flight", *max_in_flight}});
  }
  trace::anchor::ServiceOptions options{
      .db_url = flags.Get("db-url"),
      .sequencer = {.batch_size = static_cast<int>(*batch)},
      .checkpoint_interval = std::chrono::milliseconds(*interval),
      .anchor_interval = std::chrono::milliseconds(*anchor_interval),
      .idle_poll = std::chrono::milliseconds(*poll),
  };
  trace::anchor::AnchorService service(options, *keys, anchorer.get(), registry);
  trace::metrics::MetricsServer http(registry, [&] { return service.Health(); });
  auto bound = http.Start(flags.Get("http-host"), static_cast<uint16_t>(*port));
  if (!bound) {
    trace::log::Error("cannot start the HTTP server", {{"error", bound.error().ToString()}});
    return 1;
  }
  trace::log::Info("http listening", {{"host", flags.Get("http-host")}, {"port", static_cast<int64_t>(*bound)}});

  std::thread signal_thread([&] {
    int sig = 0;
    sigwait(&signals, &sig);
    trace::log::Info("signal received; draining", {{"signal", sig}});
    service.RequestStop();
  });
  service.Run();
  // Run returns only after a stop request, which came from the signal thread.
  signal_thread.join();
  http.Stop();
  return 0;
}

}  // namespace

int main(int argc, char** argv) { return Main(argc, argv); }
