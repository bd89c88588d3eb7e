package kms

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/spatehq/spate/apierr"
)

// State is a master key's state, as KMS names it.
type State string

// The key states the keyring knows. Only an Enabled key wraps or unwraps.
const (
	Enabled         State = "Enabled"
	Disabled        State = "Disabled"
	PendingDeletion State = "PendingDeletion"
)

// The AWS-managed aliases: they always resolve, to a key the keyring
// generates the first time it is needed.
const (
	AliasKinesis  = "alias/aws/kinesis"
	AliasFirehose = "alias/aws/firehose"
)

// DataKeySize is the size of the data keys GenerateDataKey returns and of
// master keys: 256 bits, for AES-256.
const DataKeySize = 32

// Key describes a master key. It never holds key material.
type Key struct {
	ID        string
	ARN       string
	Aliases   []string
	State     State
	CreatedAt time.Time
}

// DataKey is a fresh data key: Plaintext to encrypt with (the caller must
// not store it), Wrapped to store (Unwrap gives Plaintext back), and the ARN
// of the master key that wrapped it.
type DataKey struct {
	Plaintext []byte
	Wrapped   []byte
	KeyARN    string
}

// entry is a master key as the keyring file holds it.
type entry struct {
	ID        string    `json:"id"`
	Aliases   []string  `json:"aliases,omitempty"`
	State     State     `json:"state"`
	Material  []byte    `json:"material"` // base64 in JSON
	CreatedAt time.Time `json:"createdAt"`
}

type file struct {
	Keys []entry `json:"keys"`
}

// Keyring holds master keys, in a file or (with an empty path) in memory
// only. All methods are safe for concurrent use; one process at a time may
// use a keyring file.
type Keyring struct {
	path    string
	region  string
	account string
	now     func() time.Time

	mu   sync.Mutex
	keys []entry
	// seen is the file's modification time and size when keys were read:
	// a lookup reads the file again when they change (fresh).
	seen fileStamp
}

type fileStamp struct {
	mod  time.Time
	size int64
}

func stampOf(fi os.FileInfo) fileStamp { return fileStamp{mod: fi.ModTime(), size: fi.Size()} }

func (a fileStamp) same(b fileStamp) bool { return a.mod.Equal(b.mod) && a.size == b.size }

// Option configures Open.
type Option func(*Keyring)

// WithRegion sets the region of the keys' ARNs. Default: us-east-1.
func WithRegion(r string) Option { return func(k *Keyring) { k.region = r } }

// WithAccountID sets the account of the keys' ARNs. Default: 000000000000.
func WithAccountID(a string) Option { return func(k *Keyring) { k.account = a } }

// Open loads the keyring file at path. A missing file is not an error: it
// is created (mode 0600, and its directory 0700 if missing) when the first
// key is, typically the AWS-managed key on the first StartStreamEncryption.
// A file that group or others may read is refused. With an empty path the
// keyring lives in memory and its keys die with the process.
func Open(path string, opts ...Option) (*Keyring, error) {
	k := &Keyring{path: path, region: "us-east-1", account: "000000000000", now: time.Now}
	for _, o := range opts {
		o(k)
	}
	if path == "" {
		return k, nil
	}
	if err := k.reload(); err != nil {
		return nil, err
	}
	return k, nil
}

// Path is the keyring file ("" for a keyring in memory).
func (k *Keyring) Path() string { return k.path }

// read parses the keyring file; a missing file is an empty keyring.
func (k *Keyring) read() ([]entry, fileStamp, error) {
	keys, stamp, err := k.readFile()
	if err != nil {
		return nil, fileStamp{}, fmt.Errorf("kms keyring %s: %w", k.path, err)
	}
	return keys, stamp, nil
}

func (k *Keyring) readFile() ([]entry, fileStamp, error) {
	fi, err := os.Stat(k.path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fileStamp{}, nil
	}
	if err != nil {
		return nil, fileStamp{}, err
	}
	stamp := stampOf(fi)
	if perm := fi.Mode().Perm(); perm&0o077 != 0 {
		return nil, fileStamp{}, fmt.Errorf("mode %04o lets others read the master keys; chmod 600 it", perm)
	}
	b, err := os.ReadFile(k.path)
	if err != nil {
		return nil, fileStamp{}, err
	}
	var f file
	if err := json.Unmarshal(b, &f); err != nil {
		return nil, fileStamp{}, err
	}
	seen := map[string]bool{}
	for i, e := range f.Keys {
		if !uuidRE.MatchString(e.ID) {
			return nil, fileStamp{}, fmt.Errorf("key %d: id %q is not a UUID", i, e.ID)
		}
		if len(e.Material) != DataKeySize {
			return nil, fileStamp{}, fmt.Errorf("key %s: material is %d bytes, want %d", e.ID, len(e.Material), DataKeySize)
		}
		switch e.State {
		case "":
			f.Keys[i].State = Enabled
		case Enabled, Disabled, PendingDeletion:
		default:
			return nil, fileStamp{}, fmt.Errorf("key %s: state %q is not Enabled, Disabled or PendingDeletion", e.ID, e.State)
		}
		for _, name := range append([]string{e.ID}, e.Aliases...) {
			if name != e.ID && !aliasRE.MatchString(name) {
				return nil, fileStamp{}, fmt.Errorf("key %s: alias %q must look like alias/NAME", e.ID, name)
			}
			if seen[name] {
				return nil, fileStamp{}, fmt.Errorf("%s names two keys", name)
			}
			seen[name] = true
		}
	}
	return f.Keys, stamp, nil
}

// write replaces the keyring file with keys, atomically. The caller holds mu.
func (k *Keyring) write(keys []entry) error {
	if k.path == "" {
		return nil
	}
	dir := filepath.Dir(k.path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("kms keyring %s: %w", k.path, err)
	}
	b, err := json.MarshalIndent(file{Keys: keys}, "", "  ")
	if err != nil {
		return fmt.Errorf("kms keyring %s: %w", k.path, err)
	}
	tmp, err := os.CreateTemp(dir, ".kms-keys-*") // mode 0600
	if err != nil {
		return fmt.Errorf("kms keyring %s: %w", k.path, err)
	}
	defer os.Remove(tmp.Name()) // after a successful rename there is nothing to remove
	if _, err := tmp.Write(append(b, '\n')); err != nil {
		_ = tmp.Close()
		return fmt.Errorf("kms keyring %s: %w", k.path, err)
	}
	if err := tmp.Sync(); err != nil {
		_ = tmp.Close()
		return fmt.Errorf("kms keyring %s: %w", k.path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("kms keyring %s: %w", k.path, err)
	}
	if err := os.Rename(tmp.Name(), k.path); err != nil {
		return fmt.Errorf("kms keyring %s: %w", k.path, err)
	}
	if fi, err := os.Stat(k.path); err == nil {
		k.seen = stampOf(fi)
	}
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync() // the rename is durable once the directory is
		_ = d.Close()
	}
	return nil
}

// reload reads the file again (an operator may have added a key or changed
// a state). The caller holds mu.
func (k *Keyring) reload() error {
	if k.path == "" {
		return nil
	}
	keys, stamp, err := k.read()
	if err != nil {
		return err
	}
	k.keys, k.seen = keys, stamp
	return nil
}

// fresh reads the file again if it changed since it was last read, so
// that a key an operator disabled in it stops working without a restart.
// The caller holds mu.
func (k *Keyring) fresh() error {
	if k.path == "" {
		return nil
	}
	fi, err := os.Stat(k.path)
	if err == nil && k.seen.same(stampOf(fi)) {
		return nil
	}
	return k.reload()
}

var (
	uuidRE  = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)
	aliasRE = regexp.MustCompile(`^alias/[a-zA-Z0-9/_-]{1,250}$`)
	arnRE   = regexp.MustCompile(`^arn:aws[a-z-]*:kms:([a-z0-9-]+):([0-9]{12}):(key|alias)/(.+)$`)
)

// ref is a parsed KeyId: a key id or an alias, and for an ARN its region
// and account.
type ref struct {
	id, alias       string
	region, account string
}

// parseKeyID parses a KeyId in any of the four AWS forms; anything else is
// an InvalidArgumentException.
func parseKeyID(s string) (ref, error) {
	switch {
	case uuidRE.MatchString(s):
		return ref{id: s}, nil
	case aliasRE.MatchString(s):
		return ref{alias: s}, nil
	}
	if m := arnRE.FindStringSubmatch(s); m != nil {
		r := ref{region: m[1], account: m[2]}
		if m[3] == "key" && uuidRE.MatchString(m[4]) {
			r.id = m[4]
			return r, nil
		}
		if m[3] == "alias" && aliasRE.MatchString("alias/"+m[4]) {
			r.alias = "alias/" + m[4]
			return r, nil
		}
	}
	return ref{}, apierr.New(apierr.InvalidArgument,
		"KeyId %q is not a KMS key: give a key id (12345678-1234-1234-1234-123456789012), a key ARN (arn:aws:kms:REGION:ACCOUNT:key/ID), an alias (alias/NAME) or an alias ARN (arn:aws:kms:REGION:ACCOUNT:alias/NAME)", s)
}

// ValidateKeyID reports whether s is a KeyId in one of the four AWS forms,
// without looking the key up.
func ValidateKeyID(s string) error {
	_, err := parseKeyID(s)
	return err
}

func (k *Keyring) arn(id string) string {
	return fmt.Sprintf("arn:aws:kms:%s:%s:key/%s", k.region, k.account, id)
}

func (k *Keyring) describe(e *entry) Key {
	return Key{ID: e.ID, ARN: k.arn(e.ID), Aliases: slices.Clone(e.Aliases), State: e.State, CreatedAt: e.CreatedAt}
}

// find returns the key r names, or nil. The caller holds mu.
func (k *Keyring) find(r ref) *entry {
	for i := range k.keys {
		e := &k.keys[i]
		if e.ID == r.id || (r.alias != "" && slices.Contains(e.Aliases, r.alias)) {
			return e
		}
	}
	return nil
}

// lookup resolves keyID to a usable (Enabled) key, reading the file again
// when it is not found, and creating an AWS-managed key on first use. The
// caller holds mu.
func (k *Keyring) lookup(keyID string) (*entry, error) {
	r, err := parseKeyID(keyID)
	if err != nil {
		return nil, err
	}
	if r.account != "" && r.account != k.account {
		return nil, apierr.New(apierr.KMSAccessDenied,
			"User is not authorized to use KMS key %s: it belongs to account %s, and this server serves account %s", keyID, r.account, k.account)
	}
	if r.region != "" && r.region != k.region {
		return nil, apierr.New(apierr.KMSNotFound,
			"Key '%s' does not exist: KMS keys are regional, and this server serves region %s", keyID, k.region)
	}
	if err := k.fresh(); err != nil {
		return nil, err
	}
	e := k.find(r)
	if e == nil && (r.alias == AliasKinesis || r.alias == AliasFirehose) {
		if e, err = k.create([]string{r.alias}); err != nil {
			return nil, err
		}
	}
	if e == nil {
		return nil, apierr.New(apierr.KMSNotFound, "Key '%s' does not exist in the keyring %s", keyID, k.where())
	}
	return e, usable(e, keyID)
}

func (k *Keyring) where() string {
	if k.path == "" {
		return "(in memory)"
	}
	return k.path
}

// usable reports why key e cannot be used, as KMS does.
func usable(e *entry, name string) error {
	switch e.State {
	case Disabled:
		return apierr.New(apierr.KMSDisabled, "%s is disabled (key %s); enable it in the keyring to use it", name, e.ID)
	case PendingDeletion:
		return apierr.New(apierr.KMSInvalidState, "%s is pending deletion (key %s)", name, e.ID)
	}
	return nil
}

// create adds a fresh Enabled key with the given aliases and persists the
// keyring. The caller holds mu.
func (k *Keyring) create(aliases []string) (*entry, error) {
	for _, a := range aliases {
		if !aliasRE.MatchString(a) {
			return nil, apierr.New(apierr.InvalidArgument, "alias %q must look like alias/NAME", a)
		}
		if k.find(ref{alias: a}) != nil {
			return nil, apierr.New(apierr.InvalidArgument, "alias %s already names a key", a)
		}
	}
	e := entry{ID: newUUID(), Aliases: aliases, State: Enabled, Material: randomBytes(DataKeySize), CreatedAt: k.now().UTC().Truncate(time.Second)}
	keys := append(slices.Clone(k.keys), e)
	if err := k.write(keys); err != nil {
		return nil, err
	}
	k.keys = keys
	return &k.keys[len(k.keys)-1], nil
}

// CreateKey adds a new master key with the given aliases (none under
// alias/aws/, which AWS reserves) and returns it.
func (k *Keyring) CreateKey(aliases ...string) (Key, error) {
	for _, a := range aliases {
		if strings.HasPrefix(a, "alias/aws/") {
			return Key{}, apierr.New(apierr.InvalidArgument, "alias %s: aliases under alias/aws/ are reserved for AWS-managed keys", a)
		}
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	if err := k.reload(); err != nil {
		return Key{}, err
	}
	e, err := k.create(aliases)
	if err != nil {
		return Key{}, err
	}
	return k.describe(e), nil
}

// Keys lists the keyring's master keys.
func (k *Keyring) Keys() ([]Key, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if err := k.reload(); err != nil {
		return nil, err
	}
	out := make([]Key, len(k.keys))
	for i := range k.keys {
		out[i] = k.describe(&k.keys[i])
	}
	return out, nil
}

// Describe resolves a KeyId in any of the four forms to an Enabled key,
// creating an AWS-managed key on first use. Its errors are the KMS error
// types Kinesis answers: KMSNotFoundException, KMSDisabledException,
// KMSInvalidStateException, KMSAccessDeniedException, and
// InvalidArgumentException for a KeyId in no valid form.
func (k *Keyring) Describe(keyID string) (Key, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	e, err := k.lookup(keyID)
	if err != nil {
		return Key{}, err
	}
	return k.describe(e), nil
}

// GenerateDataKey returns a fresh 256-bit data key wrapped by the master
// key keyID names. encContext is bound to the wrapped key: Unwrap must be
// given the same.
func (k *Keyring) GenerateDataKey(keyID, encContext string) (DataKey, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	e, err := k.lookup(keyID)
	if err != nil {
		return DataKey{}, err
	}
	plain := randomBytes(DataKeySize)
	wrapped, err := wrap(e, plain, encContext)
	if err != nil {
		return DataKey{}, err
	}
	return DataKey{Plaintext: plain, Wrapped: wrapped, KeyARN: k.arn(e.ID)}, nil
}

// Wrapped data key layout (see the package documentation).
const (
	wrapVersion = 1
	idLen       = 16
	nonceLen    = 12
	tagLen      = 16
	wrappedLen  = 1 + idLen + nonceLen + DataKeySize + tagLen
)

func wrap(e *entry, plain []byte, encContext string) ([]byte, error) {
	aead, err := newGCM(e.Material)
	if err != nil {
		return nil, err
	}
	out := make([]byte, 1+idLen+nonceLen, wrappedLen)
	out[0] = wrapVersion
	id, _ := hex.DecodeString(strings.ReplaceAll(e.ID, "-", "")) // a UUID: checked on load and create
	copy(out[1:], id)
	copy(out[1+idLen:], randomBytes(nonceLen))
	return aead.Seal(out, out[1+idLen:], plain, wrapAAD(out[1:1+idLen], encContext)), nil
}

func wrapAAD(id []byte, encContext string) []byte {
	return append(append([]byte("spate-kms-1"), id...), encContext...)
}

// Unwrap returns the data key in wrapped, which GenerateDataKey made with
// the same encContext, and the ARN of the master key that wrapped it. A
// master key missing from the keyring is KMSNotFoundException; one that is
// not Enabled is KMSDisabledException or KMSInvalidStateException; a
// wrapped key that does not authenticate (altered, or moved to another
// context) is KMSInvalidStateException.
func (k *Keyring) Unwrap(wrapped []byte, encContext string) ([]byte, string, error) {
	if len(wrapped) != wrappedLen || wrapped[0] != wrapVersion {
		return nil, "", apierr.New(apierr.KMSInvalidState, "a wrapped data key is malformed (%d bytes)", len(wrapped))
	}
	h := hex.EncodeToString(wrapped[1 : 1+idLen])
	id := h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
	k.mu.Lock()
	defer k.mu.Unlock()
	if err := k.fresh(); err != nil {
		return nil, "", err
	}
	e := k.find(ref{id: id})
	if e == nil {
		return nil, "", apierr.New(apierr.KMSNotFound,
			"Key '%s' that encrypted this data does not exist in the keyring %s; restore the keyring that holds it", k.arn(id), k.where())
	}
	if err := usable(e, k.arn(id)); err != nil {
		return nil, "", err
	}
	aead, err := newGCM(e.Material)
	if err != nil {
		return nil, "", err
	}
	plain, err := aead.Open(nil, wrapped[1+idLen:1+idLen+nonceLen], wrapped[1+idLen+nonceLen:], wrapAAD(wrapped[1:1+idLen], encContext))
	if err != nil {
		return nil, "", apierr.New(apierr.KMSInvalidState,
			"a data key wrapped by %s does not unwrap: it was altered, or the key's material in %s is not the one that wrapped it", k.arn(id), k.where())
	}
	return plain, k.arn(id), nil
}

func newGCM(key []byte) (cipher.AEAD, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("kms: %w", err)
	}
	return cipher.NewGCM(block)
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand.Read never fails (Go 1.24+)
	return b
}

// newUUID returns a random (version 4) UUID, the form of KMS key ids.
func newUUID() string {
	b := randomBytes(16)
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b)
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}
