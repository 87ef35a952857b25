// Translation of libpqxx exceptions into Status, in one place for trace-admin.
#pragma once

#include <exception>
#include <string_view>

#include "trace/common/status.h"

namespace trace::admin {

// Maps the exception being handled to a Status with `context` prepended:
// a broken connection -> Unavailable, unique violation -> AlreadyExists,
// foreign-key violation -> NotFound, check violation -> InvalidArgument,
// other SQL errors -> Internal (with the SQLSTATE). Call inside a catch block.
Status PgError(std::string_view context, const std::exception& e);

}  // namespace trace::admin
