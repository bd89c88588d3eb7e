package shard

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"slices"
	"sync"

	"github.com/cockroachdb/pebble/v2"
	"github.com/spatehq/spate/apierr"
	"github.com/spatehq/spate/kms"
)

// Server-side encryption (StartStreamEncryption) is envelope encryption:
// each Start gives the stream a new 256-bit data key, which a master key of
// the keyring (package kms) wraps; the wrapped key is kept in the stream's
// metadata (encryptionMeta), the plain one only in memory. Each record of
// an encrypted stream is sealed with AES-256-GCM under a key derived from
// the data key for its shard (HKDF-SHA256), so that the record's position
// can be its nonce. See doc.go, "Encrypted records".

// Keys wraps and unwraps the data keys of encrypted streams; *kms.Keyring
// is the implementation.
type Keys interface {
	GenerateDataKey(keyID, encContext string) (kms.DataKey, error)
	Unwrap(wrapped []byte, encContext string) (plaintext []byte, keyARN string, err error)
}

var _ Keys = (*kms.Keyring)(nil)

// WithKeys sets the keyring that StartStreamEncryption takes master keys
// from. Without it, StartStreamEncryption and reads of encrypted records
// fail with KMSNotFoundException.
func WithKeys(k Keys) Option { return func(c *config) { c.keys = k } }

// EncryptionKMS is the EncryptionType of an encrypted stream; EncryptionNone
// of the others.
const (
	EncryptionKMS  = "KMS"
	EncryptionNone = "NONE"
)

// EncryptionTypeOf is the EncryptionType of an append's records, as
// PutRecord and PutRecords report it: KMS when they were stored encrypted.
func EncryptionTypeOf(res []AppendResult) string {
	for _, r := range res {
		if r.ErrorCode == "" && r.Encrypted {
			return EncryptionKMS
		}
	}
	return EncryptionNone
}

// MaxEncryptionChanges is how many times a stream's encryption may be
// started or stopped in a rolling 24 hours, as in Kinesis.
const MaxEncryptionChanges = 25

// encryptionMeta is a stream's encryption state, in its metadata.
type encryptionMeta struct {
	// KeyID is the KeyId of the last StartStreamEncryption, as given;
	// Current the version of the data key new records are sealed with.
	// Both are empty while encryption is off.
	KeyID   string `json:"keyId,omitempty"`
	Current uint32 `json:"current,omitempty"`
	// DataKeys are every data key the stream ever had, so records written
	// before a Stop or a new Start still decrypt.
	DataKeys []dataKeyMeta `json:"dataKeys,omitempty"`
	// UpdatingUntilMs is when the stream turns ACTIVE after the last
	// change (UPDATING until then).
	UpdatingUntilMs int64 `json:"updatingUntilMs,omitempty"`
	// ChangesMs are the times of the changes of the last 24 hours.
	ChangesMs []int64 `json:"changesMs,omitempty"`
}

// dataKeyMeta is one data key of a stream, wrapped by master key KeyARN.
type dataKeyMeta struct {
	Version uint32 `json:"version"`
	KeyARN  string `json:"keyArn"`
	Wrapped []byte `json:"wrapped"`
}

func (e *encryptionMeta) clone() *encryptionMeta {
	if e == nil {
		return &encryptionMeta{}
	}
	c := *e
	c.DataKeys = slices.Clone(e.DataKeys)
	c.ChangesMs = slices.Clone(e.ChangesMs)
	return &c
}

// encryptionUpdating reports whether an encryption change keeps the stream
// UPDATING at nowMs.
func encryptionUpdating(m *streamMeta, nowMs int64) bool {
	return m.Encryption != nil && nowMs < m.Encryption.UpdatingUntilMs
}

// describeEncryption returns a stream's EncryptionType and KeyId.
func describeEncryption(m *streamMeta) (typ, keyID string) {
	if m.Encryption == nil || m.Encryption.Current == 0 {
		return EncryptionNone, ""
	}
	return EncryptionKMS, m.Encryption.KeyID
}

// encContext binds a stream's wrapped data keys to the stream (kms's
// encryption context): a key copied into another stream's metadata does
// not unwrap there.
func encContext(m *streamMeta) string { return fmt.Sprintf("spate:kinesis:stream:%d:%s", m.ID, m.Name) }

// checkEncryptionArgs checks the EncryptionType and the form of the KeyId
// of StartStreamEncryption and StopStreamEncryption.
func checkEncryptionArgs(encryptionType, keyID string) error {
	if encryptionType != EncryptionKMS {
		return apierr.New(apierr.InvalidArgument, "EncryptionType %q is invalid: the only valid value is KMS", encryptionType)
	}
	return kms.ValidateKeyID(keyID)
}

// noteChange records an encryption change at nowMs: the stream is UPDATING
// for the store's change delay, and at most MaxEncryptionChanges changes
// fit in 24 hours.
func (s *Store) noteChange(name string, e *encryptionMeta, nowMs int64) error {
	const day = 24 * 60 * 60 * 1000
	e.ChangesMs = slices.DeleteFunc(e.ChangesMs, func(ms int64) bool { return ms <= nowMs-day })
	if len(e.ChangesMs) >= MaxEncryptionChanges {
		return apierr.New(apierr.LimitExceeded,
			"Stream %s under account %s has had its encryption started or stopped %d times in the last 24 hours, the limit", name, s.cfg.accountID, MaxEncryptionChanges)
	}
	e.ChangesMs = append(e.ChangesMs, nowMs)
	e.UpdatingUntilMs = 0
	if s.cfg.createDelay > 0 {
		e.UpdatingUntilMs = nowMs + s.cfg.createDelay.Milliseconds()
	}
	return nil
}

// StartEncryption turns server-side encryption on (or moves it to another
// master key): records appended from now on are sealed with a new data
// key, wrapped by the master key keyID names in any of the four AWS forms
// (key id, key ARN, alias, alias ARN). The stream is UPDATING for the
// store's create delay, then ACTIVE.
func (s *Store) StartEncryption(ctx context.Context, name, encryptionType, keyID string) error {
	if err := checkEncryptionArgs(encryptionType, keyID); err != nil {
		return err
	}
	if s.cfg.keys == nil {
		return apierr.New(apierr.KMSNotFound, "Key '%s' does not exist: this server has no keyring", keyID)
	}
	s.mu.RLock()
	st, err := s.lookup(name)
	var ctxt string
	if err == nil {
		ctxt = encContext(&st.meta)
	}
	s.mu.RUnlock()
	if err != nil {
		return err
	}
	// Generated outside s.mu: the keyring may write its file (the first
	// use of alias/aws/kinesis).
	dk, err := s.cfg.keys.GenerateDataKey(keyID, ctxt)
	if err != nil {
		return err
	}
	var version uint32
	err = s.mutateActive(name, func(m *streamMeta) error {
		if m.ID != st.id {
			return s.notFound(name) // deleted and created again meanwhile
		}
		e := m.Encryption.clone()
		if err := s.noteChange(name, e, s.cfg.now().UnixMilli()); err != nil {
			return err
		}
		version = uint32(len(e.DataKeys)) + 1
		e.DataKeys = append(e.DataKeys, dataKeyMeta{Version: version, KeyARN: dk.KeyARN, Wrapped: dk.Wrapped})
		e.Current, e.KeyID = version, keyID
		m.Encryption = e
		return nil
	})
	if err != nil {
		return err
	}
	st.keys.put(version, dk.Plaintext, st.id)
	return nil
}

// StopEncryption turns server-side encryption off: records appended from
// now on are stored in the clear. Records already sealed stay sealed and
// still decrypt. Stopping a stream that is not encrypted changes nothing.
func (s *Store) StopEncryption(ctx context.Context, name, encryptionType, keyID string) error {
	if err := checkEncryptionArgs(encryptionType, keyID); err != nil {
		return err
	}
	return s.mutateActive(name, func(m *streamMeta) error {
		if m.Encryption == nil || m.Encryption.Current == 0 {
			return nil
		}
		e := m.Encryption.clone()
		if err := s.noteChange(name, e, s.cfg.now().UnixMilli()); err != nil {
			return err
		}
		e.Current, e.KeyID = 0, ""
		m.Encryption = e
		return nil
	})
}

// streamKeys caches a stream's unwrapped data keys by version.
type streamKeys struct {
	mu        sync.Mutex
	byVersion map[uint32]*dataKey
}

// dataKey is an unwrapped data key and the AEADs of the shards that used it.
type dataKey struct {
	version  uint32
	streamID uint32
	key      []byte

	mu     sync.Mutex
	shards map[uint32]cipher.AEAD
}

func (k *streamKeys) get(version uint32) *dataKey {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.byVersion[version]
}

func (k *streamKeys) put(version uint32, key []byte, streamID uint32) *dataKey {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.byVersion == nil {
		k.byVersion = map[uint32]*dataKey{}
	}
	if dk, ok := k.byVersion[version]; ok {
		return dk
	}
	dk := &dataKey{version: version, streamID: streamID, key: key, shards: map[uint32]cipher.AEAD{}}
	k.byVersion[version] = dk
	return dk
}

// shard returns the AEAD of one shard: AES-256-GCM under
// HKDF-SHA256(data key, info = "spate-record-1" | stream ID | shard | version).
// A key per shard is what lets a record's counter be its nonce: counters
// are unique within a shard, not across shards.
//
// It cannot fail: every size is fixed (a failure would be a defect, and
// panics).
func (dk *dataKey) shard(index uint32) cipher.AEAD {
	dk.mu.Lock()
	defer dk.mu.Unlock()
	if a, ok := dk.shards[index]; ok {
		return a
	}
	var info [14 + 12]byte
	copy(info[:], "spate-record-1")
	binary.BigEndian.PutUint32(info[14:], dk.streamID)
	binary.BigEndian.PutUint32(info[18:], index)
	binary.BigEndian.PutUint32(info[22:], dk.version)
	key, err := hkdf.Key(sha256.New, dk.key, nil, string(info[:]), 32)
	if err != nil {
		panic(fmt.Sprintf("derive record key of shard %d: %v", index, err))
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		panic(fmt.Sprintf("record key of shard %d: %v", index, err))
	}
	a, err := cipher.NewGCM(block)
	if err != nil {
		panic(fmt.Sprintf("record key of shard %d: %v", index, err))
	}
	dk.shards[index] = a
	return a
}

// dataKeyOf returns data key version of st, unwrapping it through the
// keyring on first use. Unwrapping fails with the keyring's KMS error
// (KMSNotFoundException when the master key is gone).
func (s *Store) dataKeyOf(st *stream, version uint32) (*dataKey, error) {
	if dk := st.keys.get(version); dk != nil {
		return dk, nil
	}
	s.mu.RLock()
	var wrapped dataKeyMeta
	var ctxt string
	if e := st.meta.Encryption; e != nil {
		for _, k := range e.DataKeys {
			if k.Version == version {
				wrapped = k
			}
		}
	}
	ctxt = encContext(&st.meta)
	s.mu.RUnlock()
	if wrapped.Version == 0 {
		return nil, fmt.Errorf("stream %s has no data key version %d", st.name, version)
	}
	if s.cfg.keys == nil {
		return nil, apierr.New(apierr.KMSNotFound,
			"Key '%s' that encrypted stream %s does not exist: this server has no keyring", wrapped.KeyARN, st.name)
	}
	plain, _, err := s.cfg.keys.Unwrap(wrapped.Wrapped, ctxt)
	if err != nil {
		return nil, fmt.Errorf("data key %d of stream %s: %w", version, st.name, err)
	}
	return st.keys.put(version, plain, st.id), nil
}

// sealerFor returns the sealer of an append to st: the zero sealer (no
// encryption) unless the stream is encrypted. The caller does not hold s.mu.
func (s *Store) sealerFor(st *stream, version uint32) (sealer, error) {
	if version == 0 {
		return sealer{}, nil
	}
	dk, err := s.dataKeyOf(st, version)
	if err != nil {
		return sealer{}, err
	}
	return sealer{key: dk}, nil
}

// currentVersion is the data key version new records of st are sealed
// with (0: none). The caller holds s.mu.
func currentVersion(st *stream) uint32 {
	if st.meta.Encryption == nil {
		return 0
	}
	return st.meta.Encryption.Current
}

// sealer seals the records of one append; the zero value stores them in the
// clear. epoch is filled in by the writer when it stages them (sealing).
type sealer struct {
	key   *dataKey
	epoch uint32
	// The AEAD of the last shard staged: an append's records mostly go
	// to few shards.
	shard *shardState
	aead  cipher.AEAD
	// scratch holds the nonce and additional data of the record being
	// sealed: here rather than on the stack, where passing them to the
	// AEAD (an interface) would allocate them on every record.
	scratch sealScratch
}

// sealScratch is the nonce and additional data of one record.
type sealScratch struct {
	nonce [12]byte
	aad   [recordKeyLen + 8]byte
}

// set fills in the nonce (epoch | counter) and additional data (record
// key | header) of the record stored under key with header.
func (sc *sealScratch) set(key, header []byte, epoch uint32, ctr uint64) {
	binary.BigEndian.PutUint32(sc.nonce[:], epoch)
	binary.BigEndian.PutUint64(sc.nonce[4:], ctr)
	copy(sc.aad[:], key)
	copy(sc.aad[recordKeyLen:], header)
}

// sealing returns se ready for the writer to stage with, under its epoch,
// or nil when se is the zero sealer (records in the clear). Only the writer
// calls it.
func (s *Store) sealing(se *sealer) *sealer {
	if se.key == nil {
		return nil
	}
	se.epoch = s.epoch
	return se
}

// stage adds entry e to b as the sealed record ctr of shard sh.
func (se *sealer) stage(b *pebble.Batch, sh *shardState, ctr uint64, arrivalMs int64, e Entry) {
	if se.shard != sh {
		se.shard, se.aead = sh, se.key.shard(sh.index)
	}
	d := b.SetDeferred(recordKeyLen, encryptedRecordLen(se.key.version, e.PartitionKey, e.Data))
	putRecordKey(d.Key, sh.streamID, sh.index, ctr)
	putSealedRecord(d.Value, d.Key, se.aead, &se.scratch, se.key.version, se.epoch, ctr, arrivalMs, e.PartitionKey, e.Data)
	_ = d.Finish()
}

// Encrypted records (see doc.go):
//
//	arrival ms | 1<<63 (8) | uvarint data key version | epoch (4) |
//	AES-256-GCM(uvarint len(partition key) | partition key | data) + tag (16)
//
// The nonce is epoch (4) | counter (8); the additional data is the record's
// key and the 8-byte header, so a sealed value moved to another position
// (or given another arrival time) does not open.
const (
	encryptedFlag = uint64(1) << 63
	epochLen      = 4
	gcmTagLen     = 16
)

// encryptedRecordLen is the stored size of a sealed record value.
func encryptedRecordLen(version uint32, pk string, data []byte) int {
	return encodedRecordLen(pk, data) + uvarintLen(uint64(version)) + epochLen + gcmTagLen
}

// putSealedRecord encodes and seals a record into dst, which must be
// exactly encryptedRecordLen bytes long; key is the record's key.
func putSealedRecord(dst, key []byte, aead cipher.AEAD, sc *sealScratch, version, epoch uint32, ctr uint64, arrivalMs int64, pk string, data []byte) {
	binary.BigEndian.PutUint64(dst, uint64(arrivalMs)|encryptedFlag)
	n := 8 + binary.PutUvarint(dst[8:], uint64(version))
	binary.BigEndian.PutUint32(dst[n:], epoch)
	n += epochLen
	// The plaintext is laid out where the ciphertext goes and sealed in
	// place (cipher.AEAD allows dst == plaintext[:0]).
	p := n + binary.PutUvarint(dst[n:], uint64(len(pk)))
	p += copy(dst[p:], pk)
	p += copy(dst[p:], data)
	sc.set(key, dst[:8], epoch, ctr)
	aead.Seal(dst[n:n], sc.nonce[:], dst[n:p], sc.aad[:])
}

// isSealed reports whether a stored record value is sealed.
func isSealed(v []byte) bool { return len(v) >= 8 && v[0]&0x80 != 0 }

// arrivalOf returns the arrival time of a stored record value, sealed or not.
func arrivalOf(v []byte) int64 { return int64(binary.BigEndian.Uint64(v) &^ encryptedFlag) }

// opener opens the sealed records of one read; the zero value is ready.
// It keeps the last data key and shard AEAD, as a read's records almost
// always share them, and one buffer for the plaintext.
type opener struct {
	version uint32
	shard   uint32
	aead    cipher.AEAD
	buf     []byte
	scratch sealScratch
}

// open decrypts the sealed record value v stored under key. pk and data
// alias the opener's buffer and are valid until the next call.
func (o *opener) open(s *Store, st *stream, key, v []byte) (arrivalMs int64, pk, data []byte, err error) {
	if len(v) < 8+1+epochLen+gcmTagLen {
		return 0, nil, nil, fmt.Errorf("sealed record value too short (%d bytes)", len(v))
	}
	version, n := binary.Uvarint(v[8:])
	if n <= 0 || version == 0 || version > 1<<32-1 || len(v) < 8+n+epochLen+gcmTagLen {
		return 0, nil, nil, fmt.Errorf("corrupt data key version in sealed record value")
	}
	shard := binary.BigEndian.Uint32(key[5:9])
	if o.aead == nil || o.version != uint32(version) || o.shard != shard {
		dk, err := s.dataKeyOf(st, uint32(version))
		if err != nil {
			return 0, nil, nil, err
		}
		o.aead = dk.shard(shard)
		o.version, o.shard = uint32(version), shard
	}
	off := 8 + n
	o.scratch.set(key, v[:8], binary.BigEndian.Uint32(v[off:]), binary.BigEndian.Uint64(key[shardPrefixLen:]))
	off += epochLen
	o.buf, err = o.aead.Open(o.buf[:0], o.scratch.nonce[:], v[off:], o.scratch.aad[:])
	if err != nil {
		return 0, nil, nil, fmt.Errorf("sealed record does not authenticate: it was altered or moved")
	}
	l, m := binary.Uvarint(o.buf)
	if m <= 0 || uint64(len(o.buf)-m) < l {
		return 0, nil, nil, fmt.Errorf("corrupt partition key length in sealed record value")
	}
	return arrivalOf(v), o.buf[m : m+int(l)], o.buf[m+int(l):], nil
}

// newEpoch draws the writer's nonce epoch. Only the writer calls it (and
// openStore, before the writer starts).
//
// Invariant: within one epoch a shard's counter is never sealed twice. A
// committed counter is never handed out again (the store's invariant), and
// when a commit fails, and its counters are handed out again, the writer
// draws a new epoch first. Every open draws one too, so a store restored
// from a copy does not repeat the nonces it already used, except with
// probability 2^-32 per pair of runs.
func newEpoch() uint32 {
	var b [4]byte
	_, _ = rand.Read(b[:]) // never fails (Go 1.24+)
	return binary.BigEndian.Uint32(b[:])
}
