#include "pg.h"

#include <pqxx/pqxx>

namespace trace::admin {

Status PgError(std::string_view context, const std::exception& e) {
  std::string what = e.what();
  while (!what.empty() && (what.back() == '\n' || what.back() == ' ')) what.pop_back();
  Status s;
  if (dynamic_cast<const pqxx::broken_connection*>(&e) != nullptr) {
    s = Unavailable("database unreachable: " + what);
  } else if (dynamic_cast<const pqxx::unique_violation*>(&e) != nullptr) {
    s = AlreadyExists(what);
  } else if (dynamic_cast<const pqxx::foreign_key_violation*>(&e) != nullptr) {
    s = NotFound(what);
  } else if (dynamic_cast<const pqxx::check_violation*>(&e) != nullptr) {
    s = InvalidArgument(what);
  } else if (const auto* sql = dynamic_cast<const pqxx::sql_error*>(&e); sql != nullptr) {
    s = Internal("SQLSTATE " + sql->sqlstate() + ": " + what);
  } else {
    s = Internal(what);
  }
  return s.WithContext(context);
}

}  // namespace trace::admin
