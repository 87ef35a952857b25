// The dashboard's event forms (harvest, processing, packing, shipping,
// receiving): HTML for each, and the reading of their fields into the builders
// of manual_events.h. The JSON API reads the same fields from a JSON object
// ({"kind": "harvest", "gtin": ..., ...}), so a form and an API call make the
// same event. Pure and thread-safe.
#pragma once

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <functional>
#include <string>
#include <string_view>

#include "manual_events.h"
#include "trace/common/status.h"

namespace trace::api {


// Field values by name ("" when absent).
using FieldGetter = std::function<std::string(const std::string&)>;

// The EPCIS event a form of `kind` describes. InvalidArgument naming the field
// for a bad or missing value, or an unknown kind.
Result<boost::json::object> EventFromFields(std::string_view kind, const FieldGetter& get);

// The lot the event is about, for the page to show afterwards: the harvested,
// output, packed or moved lot ({gtin, lot}); empty when it names none.
struct EventLot {
  std::string gtin, lot;
};
EventLot LotOfFields(std::string_view kind, const FieldGetter& get);

// The <form> of `kind` posting to `action`, with the CSRF token, the org's
// products and sites as choices (arrays as ListProducts / ListSites give them),
// and `values` prefilled (after an error, or from the query string).
std::string EventFormHtml(std::string_view kind, std::string_view action, std::string_view csrf,
                          const boost::json::array& products, const boost::json::array& sites,
                          const FieldGetter& values);

}  // namespace trace::api
