// Package kms is Spate's local stand-in for AWS KMS: a keyring of 256-bit
// master keys, kept in one file, that wraps and unwraps the data keys of
// encrypted streams (envelope encryption).
//
// It owns the keyring file, the four forms of an AWS KeyId, and the
// wrapping of data keys. It does not encrypt records (package shard does,
// with the data keys it gets here) and speaks no wire protocol.
//
// # Key ids
//
// A master key has a key id (a UUID), an ARN in the keyring's region and
// account (arn:aws:kms:REGION:ACCOUNT:key/ID) and any number of aliases
// ("alias/NAME"). A KeyId names it in any of the four AWS forms: the key id,
// the key ARN, an alias name, or an alias ARN
// (arn:aws:kms:REGION:ACCOUNT:alias/NAME). Aliases under "alias/aws/" are
// AWS-managed: "alias/aws/kinesis" (and "alias/aws/firehose", which stands
// in for Firehose's AWS-owned key) always resolve; their key is generated
// the first time it is needed and kept in the file like any other.
//
// # The keyring file
//
// JSON, written with mode 0600 and replaced atomically (write to a
// temporary file, fsync, rename). A file that others can read is refused:
// whoever reads it can read every encrypted stream.
//
//	{"keys": [{"id": "UUID", "aliases": ["alias/orders"], "state": "Enabled",
//	           "material": "base64 of 32 random bytes", "createdAt": "RFC 3339"}]}
//
// A key's state is Enabled, Disabled or PendingDeletion, as in KMS; an
// operator edits it in the file to take a key out of service, or adds keys
// (the keyring reads the file again whenever it changed). A stream whose
// data key is already unwrapped keeps using it until the server restarts,
// as AWS services cache data keys for a while.
//
// # Wrapped data keys
//
//	version 1 (1 byte) | master key id (16 bytes) | nonce (12) | AES-256-GCM(data key) + tag (16)
//
// The additional data is "spate-kms-1" + the master key id + the caller's
// encryption context (for streams, the stream's ARN), so a wrapped key
// moved to another stream, or to another master key, does not unwrap.
//
// Invariant: master key material never leaves this package; callers only
// ever see data keys.
package kms
