-- 0005: EPCIS 2.0 capture jobs (GS1's REST binding: POST /capture answers 202
-- with a job; GET /capture/{captureID} shows it). trace-api writes them
-- (services/api/src/capture.h): a request stores the document and answers;
-- a worker signs and stores its events as envelopes of the organization's
-- signer device (org, 'dashboard') and records the outcome here.
--
-- Not append-only: a job moves pending -> running -> succeeded | failed. The
-- events themselves are in envelopes/events like every other event.

CREATE TABLE capture_jobs (
  -- The captureID: "cap-" + 32 lowercase hex digits (128 random bits).
  id              text PRIMARY KEY CHECK (id ~ '^cap-[0-9a-f]{32}$'),
  org             text NOT NULL REFERENCES organizations (id),
  status          text NOT NULL DEFAULT 'pending'
                    CHECK (status IN ('pending', 'running', 'succeeded', 'failed')),
  -- GS1-Capture-Error-Behaviour: rollback stores nothing when any event is
  -- refused; proceed stores the valid events.
  error_behaviour text NOT NULL DEFAULT 'rollback' CHECK (error_behaviour IN ('rollback', 'proceed')),
  -- The EPCISDocument as the client sent it (UTF-8 JSON text).
  document        text NOT NULL,
  event_count     integer NOT NULL CHECK (event_count >= 1),
  -- Per-event errors: [{"index", "path", "message"}]; a job-level failure has
  -- index null.
  errors          jsonb NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(errors) = 'array'),
  -- The envelopes planned or stored for the job: [{"id", "seq", "sent",
  -- "decision", "events": [index...]}]. Written before each store attempt, so
  -- a job re-run after a crash signs the same envelopes again (answered
  -- duplicate) instead of storing its events twice.
  envelopes       jsonb NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(envelopes) = 'array'),
  stored_events   integer NOT NULL DEFAULT 0 CHECK (stored_events >= 0),
  attempts        integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
  created_at      timestamptz NOT NULL DEFAULT now(),
  started_at      timestamptz,
  finished_at     timestamptz,
  CHECK ((status IN ('succeeded', 'failed')) = (finished_at IS NOT NULL))
);
CREATE INDEX capture_jobs_org ON capture_jobs (org, created_at);
-- What workers look for: jobs not finished, oldest first.
CREATE INDEX capture_jobs_open ON capture_jobs (created_at) WHERE status IN ('pending', 'running');
