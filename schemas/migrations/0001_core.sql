-- 0001: who takes part. Organizations, their API tokens and users, sites,
-- products, lots, devices, and the public halves of the platform's own keys.
--
-- Applied by `trace-admin migrate` inside one transaction and recorded in
-- schema_migrations with the file's SHA-256: never edit this file once it has
-- been applied anywhere; add a new numbered file instead.

-- Identifiers follow PROTOCOL.md §1; the database checks the shape, the
-- application checks the rest (GS1 check digits, character set 82).

CREATE TABLE organizations (
  id         text PRIMARY KEY CHECK (id ~ '^[a-z0-9][a-z0-9-]{1,31}$'),
  name       text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
  created_at timestamptz NOT NULL DEFAULT now()
);

-- API tokens are "trc_" + base64url(32 random bytes). Only SHA-256(token) is
-- stored. A fast hash is right here, unlike for passwords: a token carries 256
-- bits of entropy, so there is nothing to guess and a slow KDF would only make
-- every API request slower. SHA-256 also lets a request find its token with one
-- unique-index lookup on token_hash (a salted KDF could not be looked up).
CREATE TABLE api_tokens (
  id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  org          text NOT NULL REFERENCES organizations (id),
  token_hash   bytea NOT NULL UNIQUE CHECK (length(token_hash) = 32),
  -- The first characters of the token ("trc_AbCdEf"), so people can tell
  -- their tokens apart in a list; 6 characters of 43 reveal nothing useful.
  prefix       text NOT NULL DEFAULT '',
  name         text NOT NULL DEFAULT '',
  role         text NOT NULL CHECK (role IN ('admin', 'operator', 'viewer')),
  scopes       text[] NOT NULL DEFAULT '{}',
  created_at   timestamptz NOT NULL DEFAULT now(),
  last_used_at timestamptz,
  revoked_at   timestamptz
);
CREATE INDEX api_tokens_org ON api_tokens (org);

-- People who log in to the producer dashboard (issue 6). password_hash is a
-- self-describing scrypt string written by the API ("scrypt$N$r$p$salt$hash").
CREATE TABLE users (
  id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  org           text NOT NULL REFERENCES organizations (id),
  email         text NOT NULL UNIQUE CHECK (email = lower(email) AND email LIKE '%_@_%'),
  password_hash text NOT NULL,
  role          text NOT NULL CHECK (role IN ('admin', 'operator', 'viewer')),
  created_at    timestamptz NOT NULL DEFAULT now(),
  disabled_at   timestamptz
);
CREATE INDEX users_org ON users (org);

-- A place with a GLN: farm, mill, factory, warehouse, shop...
CREATE TABLE sites (
  gln        char(13) PRIMARY KEY CHECK (gln ~ '^[0-9]{13}$'),
  org        text NOT NULL REFERENCES organizations (id),
  name       text NOT NULL,
  kind       text NOT NULL CHECK (kind ~ '^[a-z][a-z_]{0,31}$'),
  latitude   double precision CHECK (latitude BETWEEN -90 AND 90),
  longitude  double precision CHECK (longitude BETWEEN -180 AND 180),
  address    text NOT NULL DEFAULT '',
  created_at timestamptz NOT NULL DEFAULT now(),
  CHECK ((latitude IS NULL) = (longitude IS NULL))
);
CREATE INDEX sites_org ON sites (org);

-- Products by GTIN, always stored as GTIN-14 (left-padded).
CREATE TABLE products (
  gtin        char(14) PRIMARY KEY CHECK (gtin ~ '^[0-9]{14}$'),
  org         text NOT NULL REFERENCES organizations (id),
  name        text NOT NULL,
  description text NOT NULL DEFAULT '',
  category    text NOT NULL DEFAULT '',
  attributes  jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(attributes) = 'object'),
  created_at  timestamptz NOT NULL DEFAULT now(),
  updated_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX products_org ON products (org);

-- Lots (AI 10): at most 20 characters of GS1 character set 82.
CREATE TABLE lots (
  gtin          char(14) NOT NULL REFERENCES products (gtin),
  lot           text NOT NULL CHECK (lot ~ '^[!"%&''()*+,./0-9:;<=>?A-Z_a-z-]{1,20}$'),
  org           text NOT NULL REFERENCES organizations (id),
  attributes    jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(attributes) = 'object'),
  created_at    timestamptz NOT NULL DEFAULT now(),
  recalled_at   timestamptz,
  recall_reason text,
  PRIMARY KEY (gtin, lot)
);
CREATE INDEX lots_org ON lots (org);
CREATE INDEX lots_recalled ON lots (recalled_at) WHERE recalled_at IS NOT NULL;

-- Devices sign envelopes with Ed25519; the public key is what the gateway
-- verifies against. Their MQTT login is "{org}/{device}" in the broker's
-- dynamic-security store; the MQTT password lives only there (hashed).
-- Envelopes signed on the server for the dashboard (issue 6) use a device row
-- of their own, so every envelope's signer is a row here.
CREATE TABLE devices (
  org           text NOT NULL REFERENCES organizations (id),
  device        text NOT NULL CHECK (device ~ '^[a-z0-9][a-z0-9._-]{0,63}$'),
  name          text NOT NULL DEFAULT '',
  public_key    bytea NOT NULL CHECK (length(public_key) = 32),
  status        text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'revoked')),
  mqtt_username text NOT NULL UNIQUE,
  created_at    timestamptz NOT NULL DEFAULT now(),
  revoked_at    timestamptz,
  last_seen_at  timestamptz,
  -- Highest seq stored for the device (0: none yet); the gateway raises it in
  -- the transaction that stores the envelope.
  last_seq      bigint NOT NULL DEFAULT 0 CHECK (last_seq >= 0),
  PRIMARY KEY (org, device),
  CHECK ((status = 'revoked') = (revoked_at IS NOT NULL))
);

-- The platform's own Ed25519 keys: public halves only. The private halves live
-- in files of mode 0600 under TRACE_KEYS_DIR (log.key, receipt.key), never here.
-- id: "log-" or "receipt-" + the first 8 hex digits of SHA-256(public key)
-- (see trace/common/platform_keys.h); name: the log's name (the signature line
-- of checkpoints) for the log key, the id for receipt keys.
CREATE TABLE platform_keys (
  id         text PRIMARY KEY,
  kind       text NOT NULL CHECK (kind IN ('log', 'receipt')),
  name       text NOT NULL,
  public_key bytea NOT NULL UNIQUE CHECK (length(public_key) = 32),
  created_at timestamptz NOT NULL DEFAULT now(),
  retired_at timestamptz
);
-- One log key signs checkpoints at a time.
CREATE UNIQUE INDEX platform_keys_one_log_key ON platform_keys (kind) WHERE kind = 'log' AND retired_at IS NULL;
