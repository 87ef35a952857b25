// One raw HTTP/1.1 request to a server on 127.0.0.1, for system tests that need
// what a browser or a hostile client sends: any method, any header (cookies,
// CSRF tokens, bad requests), and the answer's status, headers and body as is.
//
// Example:
//   auto r = trace::testing::HttpCall(port, "POST", "/api/v1/products",
//                                     {{"Authorization", "Bearer " + token},
//                                      {"Content-Type", "application/json"}}, body);
//   EXPECT_EQ(r.status, 201) << r.body;
//
// Each call opens a fresh connection (Connection: close). Thread-safe.
#pragma once

#include <boost/json/object.hpp>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace trace::testing {

struct HttpResult {
  int status = 0;  // 0 when nothing (or no complete header) came back
  std::map<std::string, std::string> headers;  // lowercase names; the last of repeated fields
  std::string body;

  std::string Header(const std::string& name) const;
  // The body parsed once as a JSON object ({} when it is not one); the
  // reference lives as long as this result.
  const boost::json::object& Json() const;

  mutable std::optional<boost::json::object> parsed;
};

// Sends `method target` with `headers` (plus Host, Connection: close and, when
// `body` is not empty, Content-Length) and reads the answer to the end.
HttpResult HttpCall(int port, const std::string& method, const std::string& target,
                    const std::vector<std::pair<std::string, std::string>>& headers = {},
                    const std::string& body = "");

}  // namespace trace::testing
