#include "metrics.h"

#include <sstream>

namespace trace::api {

void Metrics::Record(const std::string& route, int status, double seconds) {
  std::lock_guard lock(mu_);
  ++requests_[{route, status}];
  Histogram& h = latency_[route];
  for (size_t i = 0; i < kBuckets.size(); ++i) {
    if (seconds <= kBuckets[i]) ++h.counts[i];
  }
  ++h.count;
  h.sum += seconds;
}

std::string Metrics::Render(int in_flight, std::size_t db_queue) const {
  std::ostringstream out;
  for (const auto& source : sources_) out << source();
  std::lock_guard lock(mu_);
  out << "# HELP trace_api_requests_total HTTP requests answered, by route and status.\n"
      << "# TYPE trace_api_requests_total counter\n";
  for (const auto& [key, n] : requests_) {
    out << "trace_api_requests_total{route=\"" << key.first << "\",status=\"" << key.second << "\"} " << n << "\n";
  }
  out << "# HELP trace_api_request_duration_seconds Time from request to answer, by route.\n"
      << "# TYPE trace_api_request_duration_seconds histogram\n";
  for (const auto& [route, h] : latency_) {
    for (size_t i = 0; i < kBuckets.size(); ++i) {
      out << "trace_api_request_duration_seconds_bucket{route=\"" << route << "\",le=\"" << kBuckets[i] << "\"} "
          << h.counts[i] << "\n";
    }
    out << "trace_api_request_duration_seconds_bucket{route=\"" << route << "\",le=\"+Inf\"} " << h.count << "\n"
        << "trace_api_request_duration_seconds_sum{route=\"" << route << "\"} " << h.sum << "\n"
        << "trace_api_request_duration_seconds_count{route=\"" << route << "\"} " << h.count << "\n";
  }
  out << "# HELP trace_api_rate_limited_total Requests refused with 429.\n"
      << "# TYPE trace_api_rate_limited_total counter\n"
      << "trace_api_rate_limited_total " << rate_limited_ << "\n"
      << "# HELP trace_api_in_flight Requests being answered.\n# TYPE trace_api_in_flight gauge\n"
      << "trace_api_in_flight " << in_flight << "\n"
      << "# HELP trace_api_db_queue Database jobs waiting for a connection.\n# TYPE trace_api_db_queue gauge\n"
      << "trace_api_db_queue " << db_queue << "\n";
  return out.str();
}

}  // namespace trace::api
