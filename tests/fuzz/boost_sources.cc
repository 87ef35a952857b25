// Boost.JSON and Boost.URL compiled here, with the fuzz build's sanitizers and
// coverage, instead of linking Debian's uninstrumented libraries.
#include <boost/json/src.hpp>
#include <boost/url/src.hpp>
