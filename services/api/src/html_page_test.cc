#include "html_page.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <regex>

#include "web_assets.h"

namespace trace::api {
namespace {

namespace json = boost::json;

json::object Trace() {
  return json::parse(R"({"product":{"gtin":"09506000134369","name":"Rice <5 kg>","org":"farm"},
    "lot":"R-1","link":"https://id.example.com/01/09506000134369/10/R-1",
    "events":[{"event":{"type":"ObjectEvent","bizStep":"shipping","eventTime":"2026-07-04T07:00:00.000Z"},
               "envelope":"ab","index":0,"signer":{"org":"farm","device":"truck-1","key":"k"},"leaf":3,"anchored":true}],
    "inputs":[],"checkpoint":null,"recall":{"at":"2026-08-01T00:00:00.000Z","reason":"glass & stones"}})")
      .as_object();
}

TEST(HtmlPage, EveryFileIsEmbeddedUnderAHashedName) {
  for (std::string_view name : {"trace.html", "trace.css", "trace.js", "verify.js"}) {
    bool found = false;
    for (const auto& f : WebFiles()) {
      if (f.name != name) continue;
      found = true;
      EXPECT_FALSE(f.body.empty()) << name;
      EXPECT_EQ(f.sha256_hex.size(), 64u);
      EXPECT_NE(f.hashed_name.find(f.sha256_hex.substr(0, 12)), std::string_view::npos) << f.hashed_name;
    }
    EXPECT_TRUE(found) << name;
  }
}

TEST(HtmlPage, PageLinksItsAssetsAndHasNoInlineScriptOrStyle) {
  const std::string page = RenderTracePage(Trace());
  for (std::string_view name : {"trace.css", "trace.js", "verify.js"}) {
    const std::string path = StaticPath(name);
    ASSERT_TRUE(path.starts_with("/static/")) << name;
    EXPECT_NE(page.find("\"" + path + "\""), std::string::npos) << name;
    auto asset = FindStaticAsset(path.substr(8));
    ASSERT_TRUE(asset.has_value()) << path;
    EXPECT_FALSE(asset->body.empty());
  }
  EXPECT_EQ(FindStaticAsset("trace.css"), std::nullopt);  // only the hashed name
  EXPECT_FALSE(FindStaticAsset(StaticPath("trace.html").substr(8)).has_value());  // the template is not served
  // Every <script> has a src; no style attribute or element (CSP: no 'unsafe-inline').
  std::regex inline_script("<script(?![^>]*\\bsrc=)[^>]*>");
  EXPECT_FALSE(std::regex_search(page, inline_script)) << page;
  EXPECT_EQ(page.find("<style"), std::string::npos);
  EXPECT_EQ(page.find("style=\""), std::string::npos);
  EXPECT_EQ(page.find("{{"), std::string::npos) << "a placeholder left unfilled";
  EXPECT_NE(PageContentSecurityPolicy().find("script-src 'self'"), std::string_view::npos);
  EXPECT_EQ(PageContentSecurityPolicy().find("unsafe"), std::string_view::npos);
}

TEST(HtmlPage, ServerRenderedHeaderRecallAndFallbackAreEscaped) {
  const std::string page = RenderTracePage(Trace());
  EXPECT_NE(page.find("<h1>Rice &lt;5 kg&gt;</h1>"), std::string::npos) << page;
  EXPECT_NE(page.find("id=\"recall\""), std::string::npos);
  EXPECT_NE(page.find("glass &amp; stones"), std::string::npos);
  EXPECT_NE(page.find("id=\"fallback\""), std::string::npos);
  EXPECT_NE(page.find("<b>shipping</b>"), std::string::npos);
  EXPECT_NE(page.find("signed by farm / truck-1"), std::string::npos);

  json::object no_recall = Trace();
  no_recall["recall"] = nullptr;
  EXPECT_EQ(RenderTracePage(no_recall).find("id=\"recall\""), std::string::npos);
}

}  // namespace
}  // namespace trace::api
