// PostgreSQL array literals, so that a whole batch goes to the server as a few
// array parameters (INSERT ... SELECT FROM unnest($1::text[], ...)): one round
// trip per table and a constant number of parameters whatever the batch size.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace trace::gateway {

// Builds "{"a","b\"c",NULL}": every element quoted with " and \ escaped, so any
// text (JSON, hex bytea "\x00ff", timestamps) round-trips; nullopt is NULL.
class PgArray {
 public:
  void Add(std::string_view element);
  void Add(const std::string& element) { Add(std::string_view(element)); }
  void Add(const char* element) { Add(std::string_view(element)); }
  void Add(const std::optional<std::string>& element);
  void AddNull();
  void AddBytea(std::string_view bytes);  // as "\x<hex>"
  std::string Finish() const { return text_ + "}"; }
  size_t size() const { return count_; }

 private:
  void Separator();
  std::string text_ = "{";
  size_t count_ = 0;
};

}  // namespace trace::gateway
