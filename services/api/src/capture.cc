#include "capture.h"

#include <boost/json.hpp>
#include <openssl/rand.h>
#include <pqxx/pqxx>

#include "event_submitter.h"
#include "trace/common/encoding.h"
#include "trace/common/epcis.h"
#include "trace/common/jcs.h"

namespace trace::api {
namespace {

namespace json = boost::json;

constexpr std::string_view kEventsPath = "$.epcisBody.eventList";

Status DbError(std::string_view what, const std::exception& e) {
  return Unavailable(std::string(what) + ": database: " + e.what());
}

// A context entry that GS1's standard context already covers.
bool IsStandardContext(const json::value& v) {
  if (!v.is_string()) return false;
  std::string_view s = v.get_string();
  return s.starts_with("https://ref.gs1.org/standards/epcis/") || s.starts_with("https://gs1.github.io/EPCIS/");
}

bool NeedsContext(const json::value& context) {
  if (context.is_array()) {
    for (const auto& c : context.get_array()) {
      if (!IsStandardContext(c)) return true;
    }
    return false;
  }
  return !IsStandardContext(context);
}

json::object Problem(std::optional<std::size_t> index, std::string path, std::string message) {
  json::object p{{"type", index ? "epcisException:ValidationException" : "epcisException:ImplementationException"},
                 {"title", index ? "Invalid EPCIS event" : "Capture failed"},
                 {"status", index ? 400 : 500},
                 {"detail", path.empty() ? message : path + ": " + message}};
  if (index) {
    p["index"] = static_cast<uint64_t>(*index);
    p["path"] = std::move(path);
    p["message"] = std::move(message);
  }
  return p;
}

json::array EnvelopesJson(std::span<const EnvelopeOutcome> envelopes) {
  json::array out;
  for (const auto& e : envelopes) {
    json::array idx;
    for (auto i : e.event_indexes) idx.push_back(static_cast<uint64_t>(i));
    out.push_back(json::object{{"id", e.id},
                               {"seq", e.seq},
                               {"sent", e.sent},
                               {"decision", e.decision},
                               {"detail", e.detail},
                               {"events", std::move(idx)}});
  }
  return out;
}

// The plan an earlier attempt recorded (EnvelopesJson's form).
std::vector<EnvelopeOutcome> PlanFromJson(const json::value& v) {
  std::vector<EnvelopeOutcome> plan;
  if (!v.is_array()) return plan;
  for (const auto& item : v.get_array()) {
    const auto* o = item.if_object();
    if (o == nullptr) continue;
    EnvelopeOutcome e;
    if (const auto* x = o->if_contains("id"); x && x->is_string()) e.id = x->get_string();
    if (const auto* x = o->if_contains("seq"); x && (x->is_int64() || x->is_uint64())) e.seq = x->to_number<uint64_t>();
    if (const auto* x = o->if_contains("sent"); x && x->is_string()) e.sent = x->get_string();
    if (const auto* x = o->if_contains("events"); x && x->is_array()) {
      for (const auto& i : x->get_array()) {
        if (i.is_int64() || i.is_uint64()) e.event_indexes.push_back(i.to_number<std::size_t>());
      }
    }
    plan.push_back(std::move(e));
  }
  return plan;
}

std::string NewCaptureId() {
  unsigned char bytes[16];
  if (RAND_bytes(bytes, sizeof bytes) != 1) return {};
  return "cap-" + HexEncode(std::string_view(reinterpret_cast<char*>(bytes), sizeof bytes));
}

std::string BehaviourName(CaptureErrorBehaviour b) {
  return b == CaptureErrorBehaviour::kProceed ? "proceed" : "rollback";
}

// Finishes a job (status, errors, envelopes, stored_events).
void FinishJob(pqxx::connection& conn, const std::string& id, bool success, const json::array& errors,
               const json::array& envelopes, std::size_t stored_events) {
  pqxx::work w(conn);
  w.exec_params(
      "UPDATE capture_jobs SET status = $2, errors = $3::jsonb, envelopes = $4::jsonb, stored_events = $5, "
      "finished_at = now() WHERE id = $1",
      id, success ? "succeeded" : "failed", json::serialize(errors), json::serialize(envelopes),
      static_cast<int64_t>(stored_events));
  w.commit();
}

}  // namespace

Result<CaptureErrorBehaviour> ParseCaptureErrorBehaviour(std::string_view header) {
  if (header.empty() || header == "rollback") return CaptureErrorBehaviour::kRollback;
  if (header == "proceed") return CaptureErrorBehaviour::kProceed;
  return Fail(InvalidArgument("GS1-Capture-Error-Behaviour: \"" + std::string(header) +
                              "\" is not supported (rollback or proceed)"));
}

std::vector<json::value> CaptureEvents(const json::value& document) {
  std::vector<json::value> events;
  const auto* doc = document.if_object();
  if (doc == nullptr) return events;
  const json::value* context = doc->if_contains("@context");
  bool add_context = context != nullptr && NeedsContext(*context);
  const auto* body = doc->if_contains("epcisBody");
  if (body == nullptr || !body->is_object()) return events;
  const auto* list = body->get_object().if_contains("eventList");
  if (list == nullptr || !list->is_array()) return events;
  for (const auto& e : list->get_array()) {
    json::value event = e;
    if (add_context && event.is_object() && !event.get_object().contains("@context")) {
      event.get_object()["@context"] = *context;
    }
    events.push_back(std::move(event));
  }
  return events;
}

Result<std::string> CreateCaptureJob(pqxx::connection& conn, std::string_view org, std::string_view document_text,
                                     CaptureErrorBehaviour behaviour) {
  if (document_text.size() > kMaxCaptureBytes) {
    return Fail(ResourceExhausted("capture document of " + std::to_string(document_text.size()) + " bytes; at most " +
                                  std::to_string(kMaxCaptureBytes)));
  }
  auto parsed = ParseJsonStrict(document_text);
  if (!parsed) return Fail(parsed.error());
  if (!parsed->is_object()) return Fail(InvalidArgument("$: not an EPCISDocument object"));
  const json::object& doc = parsed->get_object();
  const auto* body = doc.if_contains("epcisBody");
  const json::value* list = nullptr;
  if (body != nullptr && body->is_object()) list = body->get_object().if_contains("eventList");
  if (list == nullptr) return Fail(InvalidArgument("$.epcisBody.eventList: required member missing"));
  if (!list->is_array()) return Fail(InvalidArgument("$.epcisBody.eventList: not an array"));
  const std::size_t count = list->get_array().size();
  if (count == 0) return Fail(InvalidArgument("$.epcisBody.eventList: no events to capture"));
  if (count > kMaxCaptureEvents) {
    return Fail(ResourceExhausted("$.epcisBody.eventList: " + std::to_string(count) + " events; at most " +
                                  std::to_string(kMaxCaptureEvents) + " per capture"));
  }
  // The document without its events: the events are the worker's, one by one.
  {
    json::value shell = *parsed;
    shell.get_object()["epcisBody"].get_object()["eventList"] = json::array();
    if (Status s = epcis::ValidateEpcisDocument(shell); !s.ok()) return Fail(s);
  }
  std::string id = NewCaptureId();
  if (id.empty()) return Fail(Internal("RAND_bytes failed"));
  try {
    pqxx::work w(conn);
    w.exec_params(
        "INSERT INTO capture_jobs (id, org, error_behaviour, document, event_count) VALUES ($1, $2, $3, $4, $5)", id,
        std::string(org), BehaviourName(behaviour), std::string(document_text), static_cast<int64_t>(count));
    w.commit();
  } catch (const pqxx::foreign_key_violation&) {
    return Fail(NotFound("organization \"" + std::string(org) + "\" does not exist"));
  } catch (const std::exception& e) {
    return Fail(DbError("capture job", e));
  }
  return id;
}

Status ProcessCaptureJob(pqxx::connection& conn, OrgSigner& signer, std::string_view capture_id,
                         std::chrono::seconds stale_after) {
  const std::string id(capture_id);
  std::string org, document, behaviour_name, plan_text;
  try {
    pqxx::work w(conn);
    auto rows = w.exec_params(
        "UPDATE capture_jobs SET status = 'running', started_at = now(), attempts = attempts + 1 "
        "WHERE id = $1 AND (status = 'pending' OR "
        "(status = 'running' AND started_at < now() - make_interval(secs => $2))) "
        "RETURNING org, document, error_behaviour, envelopes::text",
        id, static_cast<double>(stale_after.count()));
    w.commit();
    if (rows.empty()) return OkStatus();  // finished, or another worker has it
    org = rows[0][0].as<std::string>();
    document = rows[0][1].as<std::string>();
    behaviour_name = rows[0][2].as<std::string>();
    plan_text = rows[0][3].as<std::string>();
  } catch (const std::exception& e) {
    return DbError("claim capture job " + id, e);
  }

  try {
    auto parsed = ParseJsonStrict(document);
    if (!parsed) {  // CreateCaptureJob parsed it; only a changed row gets here
      FinishJob(conn, id, false, json::array{Problem(std::nullopt, "$", parsed.error().message())}, json::array(), 0);
      return OkStatus();
    }
    json::array events;
    for (auto& e : CaptureEvents(*parsed)) events.push_back(std::move(e));

    SubmitOptions options;
    options.on_error =
        behaviour_name == "proceed" ? SubmitOptions::OnError::kProceed : SubmitOptions::OnError::kRollback;
    options.events_path = std::string(kEventsPath);
    options.reuse = PlanFromJson(json::parse(plan_text));
    options.on_planned = [&conn, &id](std::span<const EnvelopeOutcome> plan) -> Status {
      try {
        pqxx::work w(conn);
        w.exec_params("UPDATE capture_jobs SET envelopes = $2::jsonb WHERE id = $1", id,
                      json::serialize(EnvelopesJson(plan)));
        w.commit();
        return OkStatus();
      } catch (const std::exception& e) {
        return DbError("capture job " + id + ": record the plan", e);
      }
    };
    auto result = SubmitEvents(conn, signer, org, events, options);
    if (!result) {
      if (result.error().code() == StatusCode::kUnavailable) return result.error();  // claimed again later
      FinishJob(conn, id, false, json::array{Problem(std::nullopt, "", result.error().ToString())}, json::array(), 0);
      return OkStatus();
    }
    json::array errors;
    for (const auto& e : result->errors) errors.push_back(Problem(e.index, e.path, e.message));
    std::size_t stored = 0;
    for (const auto& env : result->envelopes) {
      if (env.decision == "accepted" || env.decision == "duplicate") {
        stored += env.event_indexes.size();
      } else {
        errors.push_back(Problem(std::nullopt, "",
                                 "envelope " + env.id + " (" + std::to_string(env.event_indexes.size()) +
                                     " events) not stored: " + env.detail));
      }
    }
    FinishJob(conn, id, result->complete(), errors, EnvelopesJson(result->envelopes), stored);
  } catch (const std::exception& e) {
    return DbError("capture job " + id, e);
  }
  return OkStatus();
}

Result<std::size_t> ProcessPendingCaptureJobs(pqxx::connection& conn, OrgSigner& signer, std::size_t max_jobs,
                                              std::chrono::seconds stale_after) {
  std::vector<std::string> ids;
  try {
    pqxx::read_transaction r(conn);
    auto rows = r.exec_params(
        "SELECT id FROM capture_jobs WHERE status = 'pending' OR "
        "(status = 'running' AND started_at < now() - make_interval(secs => $1)) "
        "ORDER BY created_at LIMIT $2",
        static_cast<double>(stale_after.count()), static_cast<int64_t>(max_jobs));
    for (const auto& row : rows) ids.push_back(row[0].as<std::string>());
  } catch (const std::exception& e) {
    return Fail(DbError("capture jobs", e));
  }
  std::size_t done = 0;
  for (const auto& id : ids) {
    if (Status s = ProcessCaptureJob(conn, signer, id, stale_after); !s.ok()) return Fail(s);
    ++done;
  }
  return done;
}

Result<json::value> CaptureJobJson(pqxx::connection& conn, std::string_view org, std::string_view capture_id) {
  try {
    pqxx::read_transaction r(conn);
    auto rows = r.exec_params(
        "SELECT status, error_behaviour, errors::text, envelopes::text, event_count, stored_events, "
        "to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"'), "
        "to_char(finished_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"') "
        "FROM capture_jobs WHERE id = $1 AND org = $2",
        std::string(capture_id), std::string(org));
    if (rows.empty()) return Fail(NotFound("no capture job \"" + std::string(capture_id) + "\""));
    const auto& row = rows[0];
    const std::string status = row[0].as<std::string>();
    json::object job{{"captureID", std::string(capture_id)}, {"createdAt", row[6].as<std::string>()}};
    if (!row[7].is_null()) job["finishedAt"] = row[7].as<std::string>();
    job["running"] = status == "pending" || status == "running";
    job["success"] = status != "failed";
    job["captureErrorBehaviour"] = row[1].as<std::string>();
    job["errors"] = json::parse(row[2].as<std::string>());
    job["eventCount"] = row[4].as<int64_t>();
    job["storedEvents"] = row[5].as<int64_t>();
    // A finished job lists the envelopes stored for it; a running one its plan so far.
    const bool finished = status == "succeeded" || status == "failed";
    json::array ids;
    const json::value envelopes = json::parse(row[3].as<std::string>());
    for (const auto& e : envelopes.as_array()) {
      const auto& o = e.as_object();
      const json::string* decision = o.contains("decision") ? o.at("decision").if_string() : nullptr;
      bool stored = decision != nullptr && (*decision == "accepted" || *decision == "duplicate");
      if (!finished || stored) ids.push_back(o.at("id"));
    }
    job["envelopes"] = std::move(ids);
    return json::value(std::move(job));
  } catch (const std::exception& e) {
    return Fail(DbError("capture job", e));
  }
}

}  // namespace trace::api
