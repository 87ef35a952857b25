// The consumer page served at a Digital Link URL to browsers (issue 5 item 3):
// web/trace.html filled in on the server with the product header, a recall banner
// and a server-rendered timeline (what the page says without JavaScript), plus
// web/trace.js and web/verify.js, which render the journey and verify every
// signature and proof in the browser. The assets are embedded (web_assets.h) and
// served under content-hashed names from /static/, so they can be cached forever.
// All functions are pure and thread-safe.
#pragma once

#include <boost/json/object.hpp>
#include <optional>
#include <string>
#include <string_view>

namespace trace::api {

// Renders the trace document `trace` (as BuildTrace returns it) as the HTML5 page.
std::string RenderTracePage(const boost::json::object& trace);

// The Content-Security-Policy of the page: scripts, styles and fetches from this
// origin only, no inline script or style, no frames, no plugins.
std::string_view PageContentSecurityPolicy();

// The path of an embedded asset by its plain name ("trace.css" ->
// "/static/trace.1a2b3c4d5e6f.css"); "" when there is no such file.
std::string StaticPath(std::string_view name);

// An embedded asset served at /static/{hashed name}.
struct StaticAsset {
  std::string_view body;
  std::string_view content_type;
  std::string etag;  // strong, from the SHA-256 of body
};
// The asset whose hashed name is `hashed_name`; nullopt for any other name
// (an old hash included: those are gone, and answer 404).
std::optional<StaticAsset> FindStaticAsset(std::string_view hashed_name);

// Escapes & < > " ' for HTML text and attributes.
std::string HtmlEscape(std::string_view text);

}  // namespace trace::api
