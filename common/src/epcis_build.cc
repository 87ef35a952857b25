#include "trace/common/epcis_build.h"

namespace trace::epcis {

boost::json::object EventBase(std::string_view type, std::string_view event_time, std::string_view offset) {
  return boost::json::object{{"type", type}, {"eventTime", event_time}, {"eventTimeZoneOffset", offset}};
}

boost::json::object QuantityElement(std::string_view epc_class, double quantity, std::string_view uom) {
  boost::json::object q{{"epcClass", epc_class}, {"quantity", quantity}};
  if (!uom.empty()) q["uom"] = uom;
  return q;
}

boost::json::object IdRef(std::string_view uri) { return boost::json::object{{"id", uri}}; }

boost::json::array PartyList(std::string_view party, std::string_view location, std::string_view key) {
  return boost::json::array{boost::json::object{{"type", "owning_party"}, {key, party}},
                            boost::json::object{{"type", "location"}, {key, location}}};
}

}  // namespace trace::epcis
