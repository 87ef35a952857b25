// EPCIS 2.0 checks (trace/common/epcis.h) on any JSON the strict parser
// accepts, as an event (with and without extension types) and as a document,
// with these properties:
//   - ForEachEvent succeeds exactly when ValidateEpcisDocument does, and then
//     visits every element of epcisBody.eventList once, in order;
//   - each event of a valid document passes ValidateEvent on its own.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include <boost/json.hpp>

#include "fuzz_support.h"
#include "trace/common/epcis.h"
#include "trace/common/jcs.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using trace::fuzz::Require;
  namespace epcis = trace::epcis;
  auto value = trace::ParseJsonStrict(std::string_view(reinterpret_cast<const char*>(data), size));
  if (!value) return 0;

  const epcis::EventRules extensions{.allow_extension_types = true};
  const bool strict_ok = epcis::ValidateEvent(*value).ok();
  const bool loose_ok = epcis::ValidateEvent(*value, "$", extensions).ok();
  Require(!strict_ok || loose_ok, "an event valid without extension types is invalid with them");

  const bool doc_ok = epcis::ValidateEpcisDocument(*value).ok();
  size_t visited = 0;
  trace::Status each = epcis::ForEachEvent(*value, [&](size_t index, const boost::json::object& event) {
    Require(index == visited, "ForEachEvent skipped or repeated an event");
    Require(epcis::ValidateEvent(event, "$").ok(), "an event of a valid document is invalid on its own");
    ++visited;
    return trace::Status();
  });
  Require(each.ok() == doc_ok, "ForEachEvent and ValidateEpcisDocument disagree");
  if (doc_ok) {
    const auto& list = value->at("epcisBody").at("eventList").as_array();
    Require(visited == list.size(), "ForEachEvent did not visit every event");
  }
  (void)epcis::ValidateEpcisDocument(*value, extensions);
  return 0;
}
