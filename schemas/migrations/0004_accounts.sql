-- 0004: the producer dashboard's sign-ins (issue 6). Users and API tokens are in
-- 0001; this adds their sessions and what the dashboard records about who did
-- what.

-- A signed-in browser. The cookie carries "trs_" + base64url(32 random bytes);
-- only SHA-256 of it is stored (as for api_tokens: 256 bits leave nothing to
-- guess). The CSRF token of the session's forms is derived from the cookie's
-- secret on the server (HMAC), so it needs no column.
CREATE TABLE sessions (
  id_hash      bytea PRIMARY KEY CHECK (length(id_hash) = 32),
  user_id      bigint NOT NULL REFERENCES users (id),
  org          text NOT NULL REFERENCES organizations (id),
  created_at   timestamptz NOT NULL DEFAULT now(),
  expires_at   timestamptz NOT NULL,
  last_seen_at timestamptz NOT NULL DEFAULT now(),
  revoked_at   timestamptz,
  client       text NOT NULL DEFAULT ''
);
CREATE INDEX sessions_user ON sessions (user_id);
CREATE INDEX sessions_expires ON sessions (expires_at);

-- What a producer changed through the API or the dashboard: product, lot, site,
-- device, token and recall actions, each with the principal that did it.
-- Envelopes themselves are in the log; this is for the people running the org.
CREATE TABLE producer_actions (
  id        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  org       text NOT NULL REFERENCES organizations (id),
  at        timestamptz NOT NULL DEFAULT now(),
  actor     text NOT NULL,          -- "user:alice@example.com" or "token:trc_AbCdEf"
  action    text NOT NULL,          -- "product.create", "lot.recall", "device.revoke", ...
  object    text NOT NULL,          -- "09506000134369/RICE-0703", a device id, ...
  detail    jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX producer_actions_org ON producer_actions (org, at);
