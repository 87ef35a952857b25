// EPCIS 2.0 events and documents in GS1's JSON form: the checks GS1's JSON Schema
// (EPCIS-JSON-Schema.json, draft-07) makes, written as code.
//
// The rules follow the schema's definitions of ObjectEvent, AggregationEvent,
// TransactionEvent, TransformationEvent and AssociationEvent (as reached through
// "EPCIS-Document-Event", i.e. without a per-event "@context"), with "format" treated as
// an assertion, as ajv with ajv-formats does:
//   - "uri" is an RFC 3986 URI (scheme required), "date-time" an RFC 3339 date-time
//     with an offset (trace::ParseRfc3339).
//   - A member name outside the type's list is allowed only if the name itself is a URI
//     (a user extension such as "example:myField"); its value is not checked.
//   - CBV values (bizStep, disposition, source/destination and bizTransaction types,
//     error reasons, sensor components) are the schema's bare words, or a URI that is
//     not in the CBV namespace (urn:epcglobal:cbv..., http(s)://ns.gs1.org/cbv/). The
//     schema refuses full CBV URIs such as "urn:epcglobal:cbv:bizstep:shipping".
//   - Sensor measurement types and alert types are the schema's words or a URI outside
//     the GS1 Web Vocabulary (http(s)://(www.)gs1.org/voc/).
//
// Deliberate differences from the schema, all narrower or documented:
//   - Event types are the five standard ones unless EventRules::allow_extension_types;
//     the schema also accepts an "extension event" whose type is a URI and checks only
//     eventTime and eventTimeZoneOffset in it.
//   - Date-times: ajv also accepts a space for "T" and offsets like "+01" or "+0100";
//     RFC 3339 (and this code) does not.
//   - EPCISDocument "id": a JSON-LD blank node identifier ("_:document1") is accepted,
//     as every GS1 example document uses one; the schema's "uri" format refuses it.
//
// Errors are InvalidArgument naming the JSON path of the first violation found, e.g.
// "$.events[0].sourceList[0].source: not a URI". Checks run in document order of the
// members, then the cross-member rules (ObjectEvent needs epcList or quantityList, ...).
//
// All functions are pure and thread-safe.
#pragma once

#include <boost/json/value.hpp>
#include <cstddef>
#include <functional>
#include <optional>
#include <string_view>

#include "trace/common/status.h"

namespace trace::epcis {

enum class EventType {
  kObject,
  kAggregation,
  kTransaction,
  kTransformation,
  kAssociation,
};

// "ObjectEvent" -> kObject, ...; nullopt for anything else.
std::optional<EventType> EventTypeFromName(std::string_view name);

// kObject -> "ObjectEvent", ...
std::string_view EventTypeName(EventType type);

struct EventRules {
  // Also accept events whose "type" is a URI (the schema's "Extended-Event"), checking
  // only the members every event has. Off by default: the platform stores the five
  // standard types only.
  bool allow_extension_types = false;
};

// Returns OK when `event` is an EPCIS 2.0 event the schema accepts (see above), else
// InvalidArgument "<path>...: reason" for the first violation. `path` is the JSON path
// of `event` in its container, e.g. "$.events[3]".
Status ValidateEvent(const boost::json::value& event, std::string_view path = "$", EventRules rules = {});

// Returns OK when `doc` is an EPCISDocument: "@context", "type": "EPCISDocument",
// "schemaVersion", "creationDate", optional "id", "instanceIdentifier", "sender",
// "receiver", "epcisHeader" (master data vocabularies), other members only with URI
// names, and "epcisBody.eventList" whose every element passes ValidateEvent with path
// "$.epcisBody.eventList[i]".
Status ValidateEpcisDocument(const boost::json::value& doc, EventRules rules = {});

// Validates `doc` as ValidateEpcisDocument does, then calls `fn(i, event)` for each
// event of epcisBody.eventList in order. Nothing is called if the document is invalid.
// Stops at the first non-OK status `fn` returns and returns it with the event's path as
// context ("$.epcisBody.eventList[4]: ..."). Use for importing a document.
Status ForEachEvent(const boost::json::value& doc,
                    const std::function<Status(std::size_t index, const boost::json::object& event)>& fn,
                    EventRules rules = {});

}  // namespace trace::epcis
