// Package sealed keeps Lantern's personal data encrypted at rest with a key
// per incident (envelope encryption).
//
// Every incident gets its own random 256-bit data key. Personal fields are
// sealed with that key under AES-256-GCM, bound by the additional data to the
// incident id and to the field's purpose, so that a ciphertext moved to
// another row or another incident fails to open. The data key is stored in
// PostgreSQL (schema sealed, table incident_keys) only wrapped by a
// key-encryption key (KEK) that never leaves its keeper: a file in
// development, a KMS in production.
//
// Shredding an incident deletes its wrapped data key and records that the
// incident was shredded; from then on every copy of its ciphertext, in
// every table, stream, dump and backup taken afterwards, is noise, while
// the identifiers and timestamps stored beside it stay readable.
//
// Rotating the KEK rewraps each data key under the new KEK, one row at a
// time, while the services keep running: the keyring opens keys wrapped by
// any KEK it still holds and wraps new ones with the current KEK only.
package sealed
