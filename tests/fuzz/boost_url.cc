// Boost.URL compiled here, with the fuzz build's sanitizers and coverage,
// instead of linking Debian's uninstrumented library.
#include <boost/url/src.hpp>
