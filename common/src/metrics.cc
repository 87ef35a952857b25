#include "trace/common/metrics.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <regex>
#include <stdexcept>

namespace trace::metrics {
namespace {

void AtomicAdd(std::atomic<double>& a, double by) {
  double old = a.load(std::memory_order_relaxed);
  while (!a.compare_exchange_weak(old, old + by, std::memory_order_relaxed)) {
  }
}

std::string FormatDouble(double v) {
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  if (std::isnan(v)) return "NaN";
  char buf[64];
  auto r = std::to_chars(buf, buf + sizeof buf, v);  // shortest text that reads back as v
  return std::string(buf, r.ptr);
}

std::string EscapeLabel(const std::string& v) {
  std::string out;
  for (char c : v) {
    if (c == '\\') out += "\\\\";
    else if (c == '"') out += "\\\"";
    else if (c == '\n') out += "\\n";
    else out += c;
  }
  return out;
}

std::string EscapeHelp(const std::string& v) {
  std::string out;
  for (char c : v) {
    if (c == '\\') out += "\\\\";
    else if (c == '\n') out += "\\n";
    else out += c;
  }
  return out;
}

std::string LabelText(const Labels& labels, const std::string& extra_key = "", const std::string& extra_value = "") {
  if (labels.empty() && extra_key.empty()) return "";
  std::string out = "{";
  bool first = true;
  for (const auto& [k, v] : labels) {
    if (!first) out += ",";
    first = false;
    out += k + "=\"" + EscapeLabel(v) + "\"";
  }
  if (!extra_key.empty()) {
    if (!first) out += ",";
    out += extra_key + "=\"" + EscapeLabel(extra_value) + "\"";
  }
  return out + "}";
}

void CheckName(const std::string& name) {
  static const std::regex kName("[a-zA-Z_:][a-zA-Z0-9_:]*");
  if (!std::regex_match(name, kName)) throw std::invalid_argument("metrics: bad metric name '" + name + "'");
}

}  // namespace

void Gauge::Add(double by) { AtomicAdd(value_, by); }

Histogram::Histogram(std::vector<double> bounds)
    : bounds_(std::move(bounds)), buckets_(new std::atomic<uint64_t>[bounds_.size() + 1]) {
  for (size_t i = 1; i < bounds_.size(); ++i) {
    if (!(bounds_[i - 1] < bounds_[i])) throw std::invalid_argument("metrics: histogram bounds must increase");
  }
  for (size_t i = 0; i <= bounds_.size(); ++i) buckets_[i].store(0);
}

void Histogram::Observe(double v) {
  size_t i = std::lower_bound(bounds_.begin(), bounds_.end(), v) - bounds_.begin();
  buckets_[i].fetch_add(1, std::memory_order_relaxed);
  count_.fetch_add(1, std::memory_order_relaxed);
  AtomicAdd(sum_, v);
}

std::vector<uint64_t> Histogram::bucket_counts() const {
  std::vector<uint64_t> out(bounds_.size() + 1);
  for (size_t i = 0; i < out.size(); ++i) out[i] = buckets_[i].load(std::memory_order_relaxed);
  return out;
}

Registry::Family& Registry::FamilyFor(const std::string& name, const std::string& help, Kind kind) {
  CheckName(name);
  for (auto& f : families_) {
    if (f->name != name) continue;
    if (f->kind != kind) throw std::logic_error("metrics: " + name + " registered with another type");
    return *f;
  }
  families_.push_back(std::make_unique<Family>(Family{name, help, kind, {}}));
  return *families_.back();
}

Counter& Registry::AddCounter(const std::string& name, const std::string& help, const Labels& labels) {
  std::lock_guard lock(mu_);
  Family& f = FamilyFor(name, help, Kind::kCounter);
  for (auto& s : f.series) {
    if (s.labels == labels) return *s.counter;
  }
  f.series.push_back(Series{labels, std::make_unique<Counter>(), nullptr, nullptr});
  return *f.series.back().counter;
}

Gauge& Registry::AddGauge(const std::string& name, const std::string& help, const Labels& labels) {
  std::lock_guard lock(mu_);
  Family& f = FamilyFor(name, help, Kind::kGauge);
  for (auto& s : f.series) {
    if (s.labels == labels) return *s.gauge;
  }
  f.series.push_back(Series{labels, nullptr, std::make_unique<Gauge>(), nullptr});
  return *f.series.back().gauge;
}

Histogram& Registry::AddHistogram(const std::string& name, const std::string& help, std::vector<double> bounds) {
  std::lock_guard lock(mu_);
  Family& f = FamilyFor(name, help, Kind::kHistogram);
  if (!f.series.empty()) {
    if (f.series.front().histogram->bounds() != bounds) {
      throw std::logic_error("metrics: " + name + " registered with other bounds");
    }
    return *f.series.front().histogram;
  }
  f.series.push_back(Series{{}, nullptr, nullptr, std::make_unique<Histogram>(std::move(bounds))});
  return *f.series.back().histogram;
}

std::string Registry::Render() const {
  std::lock_guard lock(mu_);
  std::string out;
  for (const auto& f : families_) {
    const char* type = f->kind == Kind::kCounter ? "counter" : f->kind == Kind::kGauge ? "gauge" : "histogram";
    out += "# HELP " + f->name + " " + EscapeHelp(f->help) + "\n";
    out += "# TYPE " + f->name + " " + type + "\n";
    for (const auto& s : f->series) {
      switch (f->kind) {
        case Kind::kCounter:
          out += f->name + LabelText(s.labels) + " " + std::to_string(s.counter->value()) + "\n";
          break;
        case Kind::kGauge:
          out += f->name + LabelText(s.labels) + " " + FormatDouble(s.gauge->value()) + "\n";
          break;
        case Kind::kHistogram: {
          const Histogram& h = *s.histogram;
          std::vector<uint64_t> counts = h.bucket_counts();
          uint64_t cumulative = 0;
          for (size_t i = 0; i < counts.size(); ++i) {
            cumulative += counts[i];
            std::string le = i < h.bounds().size() ? FormatDouble(h.bounds()[i]) : "+Inf";
            out += f->name + "_bucket" + LabelText(s.labels, "le", le) + " " + std::to_string(cumulative) + "\n";
          }
          out += f->name + "_sum" + LabelText(s.labels) + " " + FormatDouble(h.sum()) + "\n";
          out += f->name + "_count" + LabelText(s.labels) + " " + std::to_string(cumulative) + "\n";
          break;
        }
      }
    }
  }
  return out;
}

}  // namespace trace::metrics
