#include "pg_array.h"

#include "trace/common/encoding.h"

namespace trace::gateway {

void PgArray::Separator() {
  if (count_++ > 0) text_ += ',';
}

void PgArray::Add(std::string_view element) {
  Separator();
  text_.reserve(text_.size() + element.size() + 2);
  text_ += '"';
  for (char c : element) {
    if (c == '"' || c == '\\') text_ += '\\';
    text_ += c;
  }
  text_ += '"';
}

void PgArray::Add(const std::optional<std::string>& element) {
  if (element) {
    Add(*element);
  } else {
    AddNull();
  }
}

void PgArray::AddNull() {
  Separator();
  text_ += "NULL";
}

void PgArray::AddBytea(std::string_view bytes) { Add("\\x" + HexEncode(bytes)); }

}  // namespace trace::gateway
