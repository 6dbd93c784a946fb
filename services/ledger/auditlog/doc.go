// Package auditlog is Lantern's tamper-evident record of every event: the
// hash-chained ledger tables in PostgreSQL (schema "ledger"), the signed
// checkpoints kept outside the database, and the verifier that recomputes
// the chain and checks it against those checkpoints.
//
// # The chain
//
// Entries are numbered 1, 2, 3… without gaps, under a lock on the single
// head row. Entry n's hash is SHA-256 over entry n-1's hash, n, and the
// SHA-256 of the event's bytes (ChainHash), so changing, removing or moving
// any entry breaks every link after it.
//
// # Checkpoints
//
// A superuser who rewrites an entry can recompute every later hash, and one
// who restores an old backup leaves a chain that is whole but short. Neither
// can be seen from inside the database, so the ledger service periodically
// signs a checkpoint with an Ed25519 key and writes it to a directory
// outside the database. A checkpoint names the last sequence number and its
// hash and lists the hash of every entry since the previous checkpoint, so
// that the verifier can name the first entry that differs from what was
// signed, not merely the stretch it lies in.
//
// # After a restore
//
// A database legitimately restored from a backup fails verification
// against the checkpoints taken after that backup, and the ledger service
// logs ErrDiverged and signs nothing further, as it should. To carry on,
// an operator runs `lantern audit verify` to record what was lost, moves
// the checkpoint folder aside (kept: it is the evidence of what the ledger
// held) and restarts the ledger, which then checkpoints the restored chain
// from entry 1.
//
// # Why a chain, not a tree
//
// The chain stays linear rather than a Merkle tree (as in
// golang.org/x/mod/sumdb/tlog): a tree pays for itself with short inclusion
// and consistency proofs for parties who do not hold the log, but Lantern's
// auditors read the whole ledger and recompute every hash, and a linear
// chain kept the entries already written valid without rehashing them.
package auditlog
