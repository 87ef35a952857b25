// Boost.JSON compiled here, with the fuzz build's sanitizers and coverage,
// instead of linking Debian's uninstrumented library.
#include <boost/json/src.hpp>
