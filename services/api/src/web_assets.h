// The consumer page's files (services/api/web/: the HTML template, CSS and the two
// scripts), embedded at build time by web/embed.cmake. Static data; thread-safe.
#pragma once

#include <span>
#include <string_view>

namespace trace::api {

struct WebFile {
  std::string_view name;         // "trace.css"
  std::string_view hashed_name;  // "trace.1a2b3c4d5e6f.css": changes whenever the bytes do
  std::string_view sha256_hex;   // of body
  std::string_view body;
};

// Every embedded file, in the order CMake lists them.
std::span<const WebFile> WebFiles();

}  // namespace trace::api
