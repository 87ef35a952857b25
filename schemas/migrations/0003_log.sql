-- 0003: the one Merkle log (RFC 9162) over all stored envelopes, its signed
-- checkpoints, and their anchors on the chain.

-- Leaf i of the log is envelope envelope_id; its leaf data is
-- envelopes.canonical. An index is given once and never changes.
CREATE TABLE log_leaves (
  leaf_index   bigint PRIMARY KEY CHECK (leaf_index >= 0),
  envelope_id  bytea NOT NULL UNIQUE REFERENCES envelopes (id),
  sequenced_at timestamptz NOT NULL DEFAULT now()
);

-- The log's nodes as complete subtree hashes: (level, idx) is the root of the
-- perfect subtree over leaves [idx * 2^level, (idx + 1) * 2^level); level 0
-- holds the leaf hashes SHA-256(0x00 || data). A row is written once, when its
-- subtree becomes complete, and never changes.
--
-- Why nodes rather than C2SP tlog-tiles (rows of up to 256 hashes): a tile
-- grows until it is full, so storing tiles means updating rows or keeping
-- every partial version of them; complete subtrees are immutable from the
-- moment they exist, which fits an append-only table and its trigger. Every
-- RFC 9162 inclusion or consistency proof for any tree size n is made of
-- complete subtree hashes plus at most log2(n) right-edge hashes computed from
-- them, so a proof is O(log n) primary-key lookups, fetchable in one query
-- (WHERE (level, idx) IN (...)), and the writer keeps only the right edge (at
-- most log2(n) hashes) in memory. Tiles can still be served later: the tile
-- (L, N) is the 256 rows of level 8L with idx 256N..256N+255. The cost is
-- about two rows per leaf.
CREATE TABLE log_nodes (
  level smallint NOT NULL CHECK (level BETWEEN 0 AND 63),
  idx   bigint NOT NULL CHECK (idx >= 0),
  hash  bytea NOT NULL CHECK (length(hash) = 32),
  PRIMARY KEY (level, idx)
);

-- A signed C2SP tlog-checkpoint: note is the whole signed note (origin line,
-- tree size, base64 root, empty line, signature line).
CREATE TABLE checkpoints (
  tree_size  bigint PRIMARY KEY CHECK (tree_size >= 0),
  root       bytea NOT NULL CHECK (length(root) = 32),
  note       text NOT NULL,
  key_id     text REFERENCES platform_keys (id),
  created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TRIGGER log_leaves_append_only BEFORE UPDATE OR DELETE ON log_leaves
  FOR EACH ROW EXECUTE FUNCTION trace_refuse_change();
CREATE TRIGGER log_leaves_no_truncate BEFORE TRUNCATE ON log_leaves
  FOR EACH STATEMENT EXECUTE FUNCTION trace_refuse_change();
CREATE TRIGGER log_nodes_append_only BEFORE UPDATE OR DELETE ON log_nodes
  FOR EACH ROW EXECUTE FUNCTION trace_refuse_change();
CREATE TRIGGER log_nodes_no_truncate BEFORE TRUNCATE ON log_nodes
  FOR EACH STATEMENT EXECUTE FUNCTION trace_refuse_change();
CREATE TRIGGER checkpoints_append_only BEFORE UPDATE OR DELETE ON checkpoints
  FOR EACH ROW EXECUTE FUNCTION trace_refuse_change();
CREATE TRIGGER checkpoints_no_truncate BEFORE TRUNCATE ON checkpoints
  FOR EACH STATEMENT EXECUTE FUNCTION trace_refuse_change();

-- A commitment of a checkpoint to TraceAnchor on an EVM chain. Its state moves
-- (pending -> submitted -> confirmed, or failed; a dropped or reorganized
-- transaction is re-submitted with a new tx_hash and nonce), so this table is
-- not append-only. Addresses and hashes are 0x-prefixed lowercase hex.
CREATE TABLE anchors (
  id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  tree_size    bigint NOT NULL REFERENCES checkpoints (tree_size),
  root         bytea NOT NULL CHECK (length(root) = 32),
  chain_id     bigint NOT NULL,
  contract     text NOT NULL CHECK (contract ~ '^0x[0-9a-f]{40}$'),
  sender       text CHECK (sender ~ '^0x[0-9a-f]{40}$'),
  tx_hash      text CHECK (tx_hash ~ '^0x[0-9a-f]{64}$'),
  nonce        bigint CHECK (nonce >= 0),
  state        text NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'submitted', 'confirmed', 'failed')),
  block_number bigint,
  block_hash   text CHECK (block_hash ~ '^0x[0-9a-f]{64}$'),
  gas_used     bigint,
  error        text,
  created_at   timestamptz NOT NULL DEFAULT now(),
  submitted_at timestamptz,
  confirmed_at timestamptz,
  updated_at   timestamptz NOT NULL DEFAULT now(),
  CHECK (state <> 'confirmed' OR (tx_hash IS NOT NULL AND block_number IS NOT NULL AND block_hash IS NOT NULL))
);
CREATE INDEX anchors_tree_size ON anchors (tree_size);
CREATE INDEX anchors_state ON anchors (state) WHERE state IN ('pending', 'submitted');
CREATE UNIQUE INDEX anchors_tx ON anchors (chain_id, tx_hash) WHERE tx_hash IS NOT NULL;
