package auditlog

// Where the ledger service keeps its checkpoints and signing key unless
// told otherwise (LANTERN_CHECKPOINT_DIR, LANTERN_LEDGER_KEY_FILE), and so
// where `lantern audit verify` looks for them. Both are relative to the
// working directory, which for `make run` is the project root.
const (
	DefaultCheckpointDir = ".lantern/checkpoints"
	DefaultKeyFile       = ".lantern/ledger.key"
)
