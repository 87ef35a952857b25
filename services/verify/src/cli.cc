#include "cli.h"

#include <boost/json.hpp>
#include <cstdlib>

#include "adapters.h"
#include "trace/common/config.h"

namespace trace::verify {

namespace json = boost::json;

int ExitCodeFor(const Report& report) {
  if (report.any_failure()) return kExitFailed;
  if (report.any_unavailable()) return kExitUnavailable;
  return kExitVerified;
}

std::string FormatText(const Report& r) {
  std::string out = "trace " + r.link + "\n";
  if (r.checkpoint_size) {
    out +=
        "checkpoint " + r.origin + " size " + std::to_string(*r.checkpoint_size) + " root " + r.checkpoint_root + "\n";
  }
  std::string lot;
  for (const auto& e : r.events) {
    if (e.lot != lot) {
      lot = e.lot;
      out += std::string(static_cast<size_t>(e.depth) * 2, ' ') + (e.depth == 0 ? "lot " : "input lot ") + lot + "\n";
    }
    std::string indent(static_cast<size_t>(e.depth) * 2 + 2, ' ');
    out += indent + (e.ok() ? "✓ " : "✗ ") + (e.type.empty() ? "event" : e.type);
    if (!e.biz_step.empty()) out += " " + e.biz_step;
    if (!e.event_time.empty()) out += " " + e.event_time;
    out += " signed by " + e.signer + " envelope " + e.envelope.substr(0, 16) + "[" + std::to_string(e.index) + "]";
    if (e.leaf) out += " leaf " + std::to_string(*e.leaf);
    if (e.anchor_size) out += " anchored at size " + std::to_string(*e.anchor_size);
    if (!e.anchor_tx.empty()) out += " tx " + e.anchor_tx;
    out += "\n";
    for (const auto& f : e.failures) out += indent + "    failed: " + f + "\n";
    for (const auto& f : e.unavailable) out += indent + "    could not fetch: " + f + "\n";
  }
  for (const auto& n : r.notes) out += "note: " + n + "\n";
  for (const auto& f : r.failures) out += "✗ " + f + "\n";
  for (const auto& f : r.unavailable) out += "✗ could not fetch: " + f + "\n";
  size_t bad = 0;
  for (const auto& e : r.events) bad += e.ok() ? 0 : 1;
  if (r.verified()) {
    out += "verified (" + std::to_string(r.events.size()) + " events)\n";
  } else if (r.any_failure()) {
    out += "NOT VERIFIED: " + std::to_string(bad) + " of " + std::to_string(r.events.size()) + " events failed";
    if (!r.failures.empty()) out += ", " + std::to_string(r.failures.size()) + " other failures";
    out += "\n";
  } else {
    out += "NOT VERIFIED: something could not be fetched\n";
  }
  return out;
}

namespace {
json::array Strings(const std::vector<std::string>& v) {
  json::array a;
  for (const auto& s : v) a.emplace_back(s);
  return a;
}
}  // namespace

std::string FormatJson(const Report& r) {
  json::object o;
  o["link"] = r.link;
  o["verified"] = r.verified();
  if (r.checkpoint_size) {
    o["checkpoint"] = json::object{{"origin", r.origin}, {"treeSize", *r.checkpoint_size}, {"root", r.checkpoint_root}};
  } else {
    o["checkpoint"] = nullptr;
  }
  o["failures"] = Strings(r.failures);
  o["unavailable"] = Strings(r.unavailable);
  o["notes"] = Strings(r.notes);
  json::array events;
  for (const auto& e : r.events) {
    json::object x{{"lot", e.lot},
                   {"depth", e.depth},
                   {"envelope", e.envelope},
                   {"index", e.index},
                   {"type", e.type},
                   {"bizStep", e.biz_step},
                   {"eventTime", e.event_time},
                   {"signer", e.signer},
                   {"verified", e.ok()},
                   {"failures", Strings(e.failures)},
                   {"unavailable", Strings(e.unavailable)}};
    x["leaf"] = e.leaf ? json::value(*e.leaf) : json::value(nullptr);
    x["anchorTreeSize"] = e.anchor_size ? json::value(*e.anchor_size) : json::value(nullptr);
    x["anchorTx"] = e.anchor_tx;
    events.push_back(std::move(x));
  }
  o["events"] = std::move(events);
  return json::serialize(o) + "\n";
}

namespace {

constexpr const char* kSummary =
    "verify a product's trace from its GS1 Digital Link, trusting nothing but the chain\n"
    "\n"
    "usage: trace-verify LINK [flags]\n"
    "\n"
    "Fetches the trace document, the keys, the newest checkpoint and every envelope; checks\n"
    "each envelope's id, signature and signer, that each event shown is the one signed, each\n"
    "inclusion proof, each anchor against rootAt() read from the chain itself, the\n"
    "checkpoint's signature and its consistency with the anchors and with the checkpoint seen\n"
    "last time (kept in --cache-dir), upstream lots included.\n"
    "\n"
    "exit codes:\n"
    "  0  everything verified\n"
    "  1  a check failed (the output says which)\n"
    "  2  usage error (flags, link)\n"
    "  3  something could not be fetched (server or chain unreachable); nothing failed";

std::string DefaultCacheDir() {
  if (const char* xdg = std::getenv("XDG_CACHE_HOME"); xdg && *xdg) return std::string(xdg) + "/trace-verify";
  if (const char* home = std::getenv("HOME"); home && *home) return std::string(home) + "/.cache/trace-verify";
  return "";
}

}  // namespace

int RunCli(int argc, const char* const* argv, std::ostream& out, std::ostream& err) {
  Flags flags("trace-verify", kSummary);
  flags.Add("chain-rpc", "TRACE_CHAIN_RPC", "", "JSON-RPC URL of a chain node (http or https)");
  flags.Add("contract", "TRACE_CONTRACT", "", "address of the TraceAnchor contract, 0x + 40 hex digits");
  flags.Add("cache-dir", "TRACE_VERIFY_CACHE_DIR", DefaultCacheDir(),
            "where the last checkpoint seen per log is kept (default $XDG_CACHE_HOME or ~/.cache/trace-verify)");
  flags.Add("api-base", "TRACE_VERIFY_API_BASE", "",
            "fetch from this base URL instead of the link's own host (the link's path is kept)");
  flags.Add("log-key", "TRACE_VERIFY_LOG_KEY", "",
            "the log key known out of band, <name>+<id>+<base64> (signed-note verifier key); "
            "default: trust /api/v1/keys on first use and pin it in the cache");
  flags.Add("timeout-ms", "", "15000", "per HTTP request");
  flags.AddBool("json", "", "print one JSON object instead of text");
  auto args = flags.Parse(argc, argv);
  if (!args) {
    if (args.error().code() == StatusCode::kFailedPrecondition) {  // --help
      out << args.error().message() << "\n";
      return kExitVerified;
    }
    err << args.error().message() << "\n" << flags.Usage();
    return kExitUsage;
  }
  if (args->size() != 1) {
    err << "trace-verify: exactly one LINK expected\n" << flags.Usage();
    return kExitUsage;
  }
  if (flags.Get("chain-rpc").empty() || flags.Get("contract").empty()) {
    err << "trace-verify: --chain-rpc and --contract (or TRACE_CHAIN_RPC and TRACE_CONTRACT) are required: "
           "the chain is the one thing trusted\n";
    return kExitUsage;
  }
  auto timeout = flags.GetInt("timeout-ms");
  if (!timeout || *timeout <= 0) {
    err << "trace-verify: --timeout-ms: a positive number of milliseconds expected\n";
    return kExitUsage;
  }
  auto chain = EthChainReader::Create(flags.Get("chain-rpc"), flags.Get("contract"));
  if (!chain) {
    err << "trace-verify: " << chain.error().message() << "\n";
    return kExitUsage;
  }
  HttpFetcher fetcher({.timeout = std::chrono::milliseconds(*timeout), .user_agent = "trace-verify"});
  VerifyOptions options{
      .api_base = flags.Get("api-base"), .cache_dir = flags.Get("cache-dir"), .log_key = flags.Get("log-key")};
  auto report = Verify((*args)[0], fetcher, **chain, options);
  if (!report) {
    err << "trace-verify: " << report.error().message() << "\n";
    return kExitUsage;
  }
  out << (flags.GetBool("json") ? FormatJson(*report) : FormatText(*report));
  return ExitCodeFor(*report);
}

}  // namespace trace::verify
