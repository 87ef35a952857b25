-- 0006: envelopes and events partitioned by month of received_at (the
-- database's clock: it only moves forward, so every month's rows land in one
-- partition made ahead of time, and cold months can be backed up, frozen and
-- moved to cheaper storage on their own). A device's eventTime can be years
-- old, so it is not the key. See docs/scaling.md, "Partitioning".
--
-- event_keys stays one table: it is the index that trace lookups probe by
-- identifier with no time bound, so partitions would only multiply its index
-- probes and the planning of every trace query (measured: 5 partitions made
-- the trace document's lineage query plan in ~10 ms instead of ~2.5 ms). It
-- gains received_at, its event's, so it names its event's month.
--
-- PostgreSQL makes every unique constraint of a partitioned table include the
-- partition key, so the partitioned envelopes can no longer refuse the same id
-- or the same (org, device, seq) stored in two different months by
-- themselves. envelope_ids, unpartitioned and narrow (~100 bytes a row), keeps
-- those guarantees: a statement trigger on envelopes copies every inserted
-- row's identity into it, so a second row with the same id or (org, device,
-- seq) in any month fails the whole insert (unique_violation), whoever writes.
-- Foreign keys that named envelopes (id) now name envelope_ids (id).
--
-- Partitions are made by trace_add_partitions(), which trace-gateway calls at
-- start and every hour (it is idempotent and takes no lock when there is
-- nothing to make). A DEFAULT partition of each table catches a row whose
-- month has no partition yet, so ingest never fails for a missing one.
--
-- Rows already stored are moved into the new tables here, byte for byte and
-- with their stored_no, in this migration's one transaction; for an
-- installation too large for that, docs/scaling.md describes moving history in
-- ranges while ingest runs.

-- Set the stored rows aside and drop the unpartitioned tables.
CREATE TEMP TABLE moved_envelopes ON COMMIT DROP AS SELECT * FROM envelopes;
CREATE TEMP TABLE moved_events ON COMMIT DROP AS
  SELECT ev.*, e.received_at FROM events ev JOIN envelopes e ON e.id = ev.envelope_id;
CREATE TEMP TABLE moved_event_keys ON COMMIT DROP AS
  SELECT k.*, e.received_at FROM event_keys k JOIN envelopes e ON e.id = k.envelope_id;
ALTER TABLE log_leaves DROP CONSTRAINT log_leaves_envelope_id_fkey;
DROP TABLE event_keys, events, envelopes;

-- The identity of every stored envelope, in one unpartitioned table.
CREATE TABLE envelope_ids (
  id          bytea PRIMARY KEY CHECK (length(id) = 32),
  org         text NOT NULL,
  device      text NOT NULL,
  seq         bigint NOT NULL,
  received_at timestamptz NOT NULL,
  FOREIGN KEY (org, device) REFERENCES devices (org, device),
  UNIQUE (org, device, seq)
);

-- One envelope as the device signed it. id = SHA-256 of `canonical`, the
-- RFC 8785 bytes of the whole envelope (sig included) = the Merkle leaf data.
CREATE TABLE envelopes (
  id          bytea NOT NULL CHECK (length(id) = 32),
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
  stored_no   bigint GENERATED ALWAYS AS IDENTITY,
  PRIMARY KEY (id, received_at),
  FOREIGN KEY (org, device) REFERENCES devices (org, device)
) PARTITION BY RANGE (received_at);
CREATE INDEX envelopes_received ON envelopes (received_at);
CREATE INDEX envelopes_stored_no ON envelopes (stored_no);
CREATE INDEX envelopes_device_seq ON envelopes (org, device, seq);

-- One EPCIS event of an envelope; idx is its position in "events".
-- received_at is its envelope's (the foreign key says so), so an envelope and
-- its events share a month and joins between them stay within one partition.
CREATE TABLE events (
  envelope_id            bytea NOT NULL,
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
  received_at            timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (envelope_id, idx, received_at),
  FOREIGN KEY (envelope_id, received_at) REFERENCES envelopes (id, received_at)
) PARTITION BY RANGE (received_at);
CREATE INDEX events_time ON events (event_time);
CREATE INDEX events_biz_step_time ON events (biz_step, event_time);
CREATE INDEX events_org_time ON events (org, event_time);
CREATE INDEX events_event_id ON events (event_id) WHERE event_id IS NOT NULL;
CREATE INDEX events_biz_location ON events (biz_location) WHERE biz_location IS NOT NULL;
CREATE INDEX events_read_point ON events (read_point) WHERE read_point IS NOT NULL;

-- What an event is about, one row per identifier (kinds as in 0002); not
-- partitioned (above). received_at is its event's.
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
  received_at timestamptz NOT NULL DEFAULT now(),
  FOREIGN KEY (envelope_id, idx, received_at) REFERENCES events (envelope_id, idx, received_at)
);
CREATE INDEX event_keys_event ON event_keys (envelope_id, idx);
CREATE INDEX event_keys_gtin_lot ON event_keys (gtin, lot) WHERE gtin IS NOT NULL;
CREATE INDEX event_keys_value ON event_keys (value);

-- Every insert into envelopes registers the rows' identities; a repeated id or
-- (org, device, seq) fails the statement.
CREATE FUNCTION trace_register_envelopes() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO envelope_ids (id, org, device, seq, received_at)
    SELECT id, org, device, seq, received_at FROM inserted_envelopes;
  RETURN NULL;
END;
$$;
CREATE TRIGGER envelopes_register AFTER INSERT ON envelopes
  REFERENCING NEW TABLE AS inserted_envelopes
  FOR EACH STATEMENT EXECUTE FUNCTION trace_register_envelopes();

-- Append-only, as in 0002: row triggers on a partitioned table apply to every
-- partition; TRUNCATE triggers are added to each partition as it is made.
CREATE TRIGGER envelope_ids_append_only BEFORE UPDATE OR DELETE ON envelope_ids
  FOR EACH ROW EXECUTE FUNCTION trace_refuse_change();
CREATE TRIGGER envelope_ids_no_truncate BEFORE TRUNCATE ON envelope_ids
  FOR EACH STATEMENT EXECUTE FUNCTION trace_refuse_change();
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

-- Makes the monthly partitions (UTC months) of envelopes and events from the
-- month of `since` through `months_ahead` months after the
-- current one, each with its TRUNCATE trigger; returns how many it made.
-- A month whose rows already sit in the DEFAULT partition is left there with a
-- warning (those rows stay correct, only unpruned). SECURITY DEFINER: the
-- gateway may call it without owning the tables.
CREATE FUNCTION trace_add_partitions(months_ahead integer DEFAULT 3, since timestamptz DEFAULT now())
RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  m_start timestamptz := date_trunc('month', least(since, now()) AT TIME ZONE 'UTC') AT TIME ZONE 'UTC';
  stop timestamptz := (date_trunc('month', now() AT TIME ZONE 'UTC') AT TIME ZONE 'UTC')
                      + make_interval(months => months_ahead + 1);
  parent text;
  part text;
  made integer := 0;
BEGIN
  WHILE m_start < stop LOOP
    FOREACH parent IN ARRAY ARRAY['envelopes', 'events'] LOOP
      part := parent || '_' || to_char(m_start AT TIME ZONE 'UTC', 'YYYY_MM');
      CONTINUE WHEN to_regclass(part) IS NOT NULL;
      BEGIN
        EXECUTE format('CREATE TABLE %I PARTITION OF %I FOR VALUES FROM (%L) TO (%L)',
                       part, parent, m_start, m_start + interval '1 month');
        EXECUTE format('CREATE TRIGGER %I BEFORE TRUNCATE ON %I FOR EACH STATEMENT '
                       'EXECUTE FUNCTION trace_refuse_change()', part || '_no_truncate', part);
        made := made + 1;
      EXCEPTION
        WHEN duplicate_table THEN NULL;  -- made by a concurrent caller
        WHEN check_violation THEN
          RAISE WARNING 'trace: % keeps rows of % in %_default; partition % not made',
            parent, to_char(m_start AT TIME ZONE 'UTC', 'YYYY-MM'), parent, part;
      END;
    END LOOP;
    m_start := m_start + interval '1 month';
  END LOOP;
  RETURN made;
END;
$$;

CREATE TABLE envelopes_default PARTITION OF envelopes DEFAULT;
CREATE TABLE events_default PARTITION OF events DEFAULT;
CREATE TRIGGER envelopes_default_no_truncate BEFORE TRUNCATE ON envelopes_default
  FOR EACH STATEMENT EXECUTE FUNCTION trace_refuse_change();
CREATE TRIGGER events_default_no_truncate BEFORE TRUNCATE ON events_default
  FOR EACH STATEMENT EXECUTE FUNCTION trace_refuse_change();

SELECT trace_add_partitions(3, coalesce((SELECT min(received_at) FROM moved_envelopes), now()));

-- Put the stored rows back, in their months, with their stored_no.
INSERT INTO envelopes (id, org, device, seq, canonical, sent_at, received_at, source, event_count, stored_no)
  OVERRIDING SYSTEM VALUE
  SELECT id, org, device, seq, canonical, sent_at, received_at, source, event_count, stored_no
  FROM moved_envelopes ORDER BY stored_no;
SELECT setval(pg_get_serial_sequence('envelopes', 'stored_no'),
              coalesce((SELECT max(stored_no) FROM moved_envelopes), 0) + 1, false);
INSERT INTO events (envelope_id, idx, org, event_type, action, biz_step, disposition, event_time,
                    event_time_zone_offset, event_id, read_point, biz_location, body, received_at)
  SELECT envelope_id, idx, org, event_type, action, biz_step, disposition, event_time,
         event_time_zone_offset, event_id, read_point, biz_location, body, received_at
  FROM moved_events;
INSERT INTO event_keys (envelope_id, idx, kind, value, gtin, lot, serial, quantity, uom, detail, received_at)
  SELECT envelope_id, idx, kind, value, gtin, lot, serial, quantity, uom, detail, received_at
  FROM moved_event_keys;

-- The log's leaves name the envelopes' identities (checked now for the moved rows).
ALTER TABLE log_leaves ADD FOREIGN KEY (envelope_id) REFERENCES envelope_ids (id);
