#include "event_index.h"

#include <string_view>

#include <boost/json.hpp>

#include "trace/common/epc.h"

namespace trace::gateway {
namespace {

namespace json = boost::json;

std::optional<std::string> StringMember(const json::object& o, std::string_view name) {
  const auto* v = o.if_contains(name);
  if (v == nullptr || !v->is_string()) return std::nullopt;
  return std::string(v->get_string());
}

// readPoint / bizLocation: {"id": "..."}.
std::optional<std::string> IdMember(const json::object& o, std::string_view name) {
  const auto* v = o.if_contains(name);
  if (v == nullptr || !v->is_object()) return std::nullopt;
  return StringMember(v->get_object(), "id");
}

EventKeyRow KeyFor(std::string kind, std::string value) {
  EventKeyRow row;
  row.kind = std::move(kind);
  row.value = std::move(value);
  if (auto key = gs1::ProductKeyFromEpc(row.value)) {
    row.gtin = key->gtin;
    row.lot = key->lot;
    row.serial = key->serial;
  }
  return row;
}

void AddEpcs(const json::object& event, std::string_view member, const char* kind, std::vector<EventKeyRow>& out) {
  const auto* v = event.if_contains(member);
  if (v == nullptr || !v->is_array()) return;
  for (const auto& e : v->get_array()) {
    if (e.is_string()) out.push_back(KeyFor(kind, std::string(e.get_string())));
  }
}

void AddQuantities(const json::object& event, std::string_view member, const char* kind,
                   std::vector<EventKeyRow>& out) {
  const auto* v = event.if_contains(member);
  if (v == nullptr || !v->is_array()) return;
  for (const auto& e : v->get_array()) {
    const auto* q = e.if_object();
    if (q == nullptr) continue;
    auto cls = StringMember(*q, "epcClass");
    if (!cls) continue;
    EventKeyRow row = KeyFor(kind, *cls);
    if (const auto* n = q->if_contains("quantity"); n != nullptr && n->is_number()) row.quantity = n->to_number<double>();
    row.uom = StringMember(*q, "uom");
    out.push_back(std::move(row));
  }
}

void AddSourceDest(const json::object& event, std::string_view member, std::string_view id_name, const char* kind,
                   std::vector<EventKeyRow>& out) {
  const auto* v = event.if_contains(member);
  if (v == nullptr || !v->is_array()) return;
  for (const auto& e : v->get_array()) {
    const auto* o = e.if_object();
    if (o == nullptr) continue;
    auto id = StringMember(*o, id_name);
    if (!id) continue;
    EventKeyRow row;
    row.kind = kind;
    row.value = *id;
    row.detail = StringMember(*o, "type");
    out.push_back(std::move(row));
  }
}

bool EndsWith(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

}  // namespace

EventRow EventRowFor(const json::object& event) {
  EventRow row;
  row.event_type = StringMember(event, "type").value_or("");
  row.action = StringMember(event, "action");
  row.biz_step = StringMember(event, "bizStep");
  row.disposition = StringMember(event, "disposition");
  row.event_time = StringMember(event, "eventTime").value_or("");
  row.event_time_zone_offset = StringMember(event, "eventTimeZoneOffset").value_or("");
  row.event_id = StringMember(event, "eventID");
  row.read_point = IdMember(event, "readPoint");
  row.biz_location = IdMember(event, "bizLocation");
  return row;
}

std::vector<EventKeyRow> EventKeysFor(const json::object& event) {
  std::vector<EventKeyRow> out;
  AddEpcs(event, "epcList", "epc", out);
  AddQuantities(event, "quantityList", "epc_class", out);
  if (auto parent = StringMember(event, "parentID")) out.push_back(KeyFor("parent", *parent));
  AddEpcs(event, "childEPCs", "child", out);
  AddQuantities(event, "childQuantityList", "child_class", out);
  AddEpcs(event, "inputEPCList", "input", out);
  AddQuantities(event, "inputQuantityList", "input_class", out);
  AddEpcs(event, "outputEPCList", "output", out);
  AddQuantities(event, "outputQuantityList", "output_class", out);
  AddSourceDest(event, "sourceList", "source", "source", out);
  AddSourceDest(event, "destinationList", "destination", "destination", out);

  if (const auto* ilmd = event.if_contains("ilmd"); ilmd != nullptr && ilmd->is_object()) {
    std::optional<std::string> gtin;
    for (const auto& k : out) {
      if (k.gtin) {
        gtin = k.gtin;
        break;
      }
    }
    for (const auto& [name, value] : ilmd->get_object()) {
      if (!value.is_string() || !EndsWith(name, "lotNumber")) continue;
      EventKeyRow row;
      row.kind = "lot";
      row.value = std::string(value.get_string());
      row.gtin = gtin;
      row.lot = row.value;
      out.push_back(std::move(row));
    }
  }
  return out;
}

}  // namespace trace::gateway
