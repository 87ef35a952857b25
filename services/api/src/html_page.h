// The consumer page served at a Digital Link URL to browsers. For now a minimal
// server-rendered page (product, lot, timeline, sensors, inputs); the phone page
// that verifies in the browser replaces this function (issue 5 item 3).
#pragma once

#include <boost/json/object.hpp>
#include <string>

namespace trace::api {

// Renders the trace document `trace` (as BuildTrace returns it) as HTML5.
std::string RenderTracePage(const boost::json::object& trace);

// Escapes & < > " ' for HTML text and attributes.
std::string HtmlEscape(std::string_view text);

}  // namespace trace::api
