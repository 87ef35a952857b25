-- 0002: what devices and the dashboard send. Envelopes, their EPCIS events and
-- the keys that trace queries look up, rejected messages; append-only.

-- Refuses UPDATE, DELETE and TRUNCATE on the tables attached to it, so stored
-- content can only grow. A superuser can still bypass it (ALTER TABLE ...
-- DISABLE TRIGGER, or session_replication_role = replica): that is what
-- `trace-admin audit` exists to catch, by recomputing everything against the
-- chain.
CREATE FUNCTION trace_refuse_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'trace: table % is append-only; % refused', TG_TABLE_NAME, TG_OP
    USING ERRCODE = 'restrict_violation',
          HINT = 'stored envelopes, events and the Merkle log are never changed or removed';
END;
$$;

-- One envelope as the device signed it. id = SHA-256 of `canonical`, the
-- RFC 8785 bytes of the whole envelope (sig included) = the Merkle leaf data.
CREATE TABLE envelopes (
  id          bytea PRIMARY KEY CHECK (length(id) = 32),
  org         text NOT NULL,
  device      text NOT NULL,
  seq         bigint NOT NULL CHECK (seq BETWEEN 1 AND 9007199254740991),
  canonical   bytea NOT NULL,
  sent_at     timestamptz NOT NULL,
  received_at timestamptz NOT NULL DEFAULT now(),
  source      text NOT NULL CHECK (source IN ('mqtt', 'api')),
  event_count smallint NOT NULL CHECK (event_count BETWEEN 1 AND 256),
  -- Order of storage, for the sequencer (a stable order to hand out leaf
  -- indexes). Identity values are taken before commit, so a smaller number can
  -- become visible after a larger one: read "not yet in the log", not "above
  -- the last number seen".
  stored_no   bigint GENERATED ALWAYS AS IDENTITY UNIQUE,
  FOREIGN KEY (org, device) REFERENCES devices (org, device),
  UNIQUE (org, device, seq)
);
CREATE INDEX envelopes_received ON envelopes (received_at);

-- One EPCIS event of an envelope; idx is its position in "events".
CREATE TABLE events (
  envelope_id            bytea NOT NULL REFERENCES envelopes (id),
  idx                    smallint NOT NULL CHECK (idx BETWEEN 0 AND 255),
  org                    text NOT NULL,
  event_type             text NOT NULL CHECK (event_type IN ('ObjectEvent', 'AggregationEvent',
                           'TransactionEvent', 'TransformationEvent', 'AssociationEvent')),
  action                 text CHECK (action IN ('ADD', 'OBSERVE', 'DELETE')),
  biz_step               text,
  disposition            text,
  event_time             timestamptz NOT NULL,
  event_time_zone_offset text NOT NULL CHECK (event_time_zone_offset ~ '^[+-][0-9]{2}:[0-9]{2}$'),
  event_id               text,
  read_point             text,
  biz_location           text,
  body                   jsonb NOT NULL CHECK (jsonb_typeof(body) = 'object'),
  PRIMARY KEY (envelope_id, idx)
);
CREATE INDEX events_time ON events (event_time);
CREATE INDEX events_biz_step_time ON events (biz_step, event_time);
CREATE INDEX events_org_time ON events (org, event_time);
CREATE INDEX events_event_id ON events (event_id) WHERE event_id IS NOT NULL;
CREATE INDEX events_biz_location ON events (biz_location) WHERE biz_location IS NOT NULL;
CREATE INDEX events_read_point ON events (read_point) WHERE read_point IS NOT NULL;

-- What an event is about, one row per identifier, so that tracing a lot is an
-- index lookup. kind says where the identifier came from:
--   epc, epc_class          epcList, quantityList (ObjectEvent, TransactionEvent)
--   parent, child,          parentID, childEPCs, childQuantityList
--   child_class             (AggregationEvent, AssociationEvent)
--   input, input_class      inputEPCList, inputQuantityList (TransformationEvent)
--   output, output_class    outputEPCList, outputQuantityList
--   lot                     a lot named in ilmd of a commissioning event
--   source, destination     sourceList / destinationList (value = the id; type in detail)
-- value is the identifier as written (URI or Digital Link); gtin, lot and
-- serial are filled when the identifier names a GTIN (SGTIN, LGTIN, Digital
-- Link); quantity and uom for quantity elements.
CREATE TABLE event_keys (
  envelope_id bytea NOT NULL,
  idx         smallint NOT NULL,
  kind        text NOT NULL CHECK (kind IN ('epc', 'epc_class', 'parent', 'child', 'child_class',
                'input', 'input_class', 'output', 'output_class', 'lot', 'source', 'destination')),
  value       text NOT NULL,
  gtin        char(14) CHECK (gtin ~ '^[0-9]{14}$'),
  lot         text,
  serial      text,
  quantity    double precision,
  uom         text,
  detail      text,
  FOREIGN KEY (envelope_id, idx) REFERENCES events (envelope_id, idx)
);
CREATE INDEX event_keys_event ON event_keys (envelope_id, idx);
CREATE INDEX event_keys_gtin_lot ON event_keys (gtin, lot) WHERE gtin IS NOT NULL;
CREATE INDEX event_keys_value ON event_keys (value);

CREATE TRIGGER envelopes_append_only BEFORE UPDATE OR DELETE ON envelopes
  FOR EACH ROW EXECUTE FUNCTION trace_refuse_change();
CREATE TRIGGER envelopes_no_truncate BEFORE TRUNCATE ON envelopes
  FOR EACH STATEMENT EXECUTE FUNCTION trace_refuse_change();
CREATE TRIGGER events_append_only BEFORE UPDATE OR DELETE ON events
  FOR EACH ROW EXECUTE FUNCTION trace_refuse_change();
CREATE TRIGGER events_no_truncate BEFORE TRUNCATE ON events
  FOR EACH STATEMENT EXECUTE FUNCTION trace_refuse_change();
CREATE TRIGGER event_keys_append_only BEFORE UPDATE OR DELETE ON event_keys
  FOR EACH ROW EXECUTE FUNCTION trace_refuse_change();
CREATE TRIGGER event_keys_no_truncate BEFORE TRUNCATE ON event_keys
  FOR EACH STATEMENT EXECUTE FUNCTION trace_refuse_change();

-- Every message the gateway refused, with its raw bytes (PROTOCOL.md §4:
-- nothing received is silently dropped). org, device, seq and envelope_id are
-- filled as far as the message could be parsed.
CREATE TABLE rejected_messages (
  id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  received_at timestamptz NOT NULL DEFAULT now(),
  topic       text NOT NULL,
  payload     bytea NOT NULL,
  reason      text NOT NULL CHECK (reason IN ('malformed', 'too_large', 'schema', 'topic_mismatch',
                'unknown_device', 'revoked_device', 'bad_signature', 'seq_reused', 'clock_skew')),
  detail      text NOT NULL DEFAULT '',
  org         text,
  device      text,
  seq         bigint,
  envelope_id bytea CHECK (length(envelope_id) = 32)
);
CREATE INDEX rejected_messages_received ON rejected_messages (received_at);
CREATE INDEX rejected_messages_device ON rejected_messages (org, device, received_at) WHERE org IS NOT NULL;
CREATE INDEX rejected_messages_reason ON rejected_messages (reason, received_at);
