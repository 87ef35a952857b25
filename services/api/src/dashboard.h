// The producer dashboard (issue 6): server-rendered HTML pages under
// /dashboard, plain forms that work without JavaScript, usable on a tablet.
// Sign-in opens a session (auth.h); every form carries the session's CSRF token;
// every page and action goes through ProducerApi::Guarded, so the dashboard
// checks exactly what the JSON API checks and stores through the same code.
//
// Pages:
//   /dashboard/login, /dashboard/logout           sign in and out
//   /dashboard                                    status: ingest, rejections, anchoring per lot
//   /dashboard/products, /dashboard/lots, /dashboard/sites   lists and create forms
//   /dashboard/lots/{gtin}/{lot}                  a lot: events and anchoring, labels, recall
//   /dashboard/devices                            register (credentials shown once), revoke
//   /dashboard/events/new?kind=...                harvest, processing, packing, shipping, receiving
//   /dashboard/recall/{gtin}/{lot}                downstream lots and where they went; mark recalled
//   /dashboard/labels/{gtin}/{lot}                printable sheet of QR labels
//   /dashboard/tokens, /dashboard/users           admin
//
// Thread-safe.
#pragma once

#include "producer_api.h"

namespace trace::api {

class Dashboard {
 public:
  // Registers the pages on producer.api(); `producer` must outlive this object.
  explicit Dashboard(ProducerApi& producer);

 private:
  void Routes();
  ProducerApi& producer_;
};

// The Content-Security-Policy of the dashboard: this origin's stylesheet and
// images only, no script at all, forms posting to this origin only.
std::string_view DashboardContentSecurityPolicy();

}  // namespace trace::api
