package kms

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spatehq/spate/apierr"
)

func openTest(t *testing.T) (*Keyring, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "sub", "kms-keys.json")
	k, err := Open(path, WithRegion("eu-west-1"), WithAccountID("111122223333"))
	if err != nil {
		t.Fatal(err)
	}
	return k, path
}

func wantCode(t *testing.T, err error, code apierr.Code) {
	t.Helper()
	if got := apierr.CodeOf(err); err == nil || got != code {
		t.Fatalf("got %v, want %s", err, code)
	}
}

// TestKeyIDForms resolves a key by each of the four AWS forms, and refuses
// the forms and names that do not resolve with the error Kinesis answers.
func TestKeyIDForms(t *testing.T) {
	k, _ := openTest(t)
	key, err := k.CreateKey("alias/orders", "alias/team/orders")
	if err != nil {
		t.Fatal(err)
	}
	arn := "arn:aws:kms:eu-west-1:111122223333:"
	cases := []struct {
		keyID string
		want  apierr.Code // "" resolves to key
	}{
		{key.ID, ""},
		{arn + "key/" + key.ID, ""},
		{"alias/orders", ""},
		{"alias/team/orders", ""},
		{arn + "alias/orders", ""},
		{"arn:aws-cn:kms:eu-west-1:111122223333:alias/orders", ""},
		{"alias/other", apierr.KMSNotFound},
		{"12345678-1234-1234-1234-123456789012", apierr.KMSNotFound},
		{"arn:aws:kms:us-east-1:111122223333:alias/orders", apierr.KMSNotFound},     // another region
		{"arn:aws:kms:eu-west-1:999999999999:alias/orders", apierr.KMSAccessDenied}, // another account
		{"alias/aws/other", apierr.KMSNotFound},
		{"orders", apierr.InvalidArgument},
		{"alias/", apierr.InvalidArgument},
		{"alias/has space", apierr.InvalidArgument},
		{strings.ToUpper(key.ID), apierr.InvalidArgument},
		{arn + "key/not-a-uuid", apierr.InvalidArgument},
		{"arn:aws:kms:eu-west-1:1111:key/" + key.ID, apierr.InvalidArgument},
		{"arn:aws:s3:::bucket", apierr.InvalidArgument},
		{"", apierr.InvalidArgument},
	}
	for _, tc := range cases {
		t.Run(tc.keyID, func(t *testing.T) {
			got, err := k.Describe(tc.keyID)
			if tc.want != "" {
				wantCode(t, err, tc.want)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got.ID != key.ID || got.ARN != arn+"key/"+key.ID {
				t.Fatalf("resolved %+v, want %+v", got, key)
			}
		})
	}
}

// TestManagedAliases checks that alias/aws/kinesis and alias/aws/firehose
// resolve without being created by anyone, to one key each that is kept in
// the file (mode 0600), and that operators cannot create aliases under
// alias/aws/.
func TestManagedAliases(t *testing.T) {
	k, path := openTest(t)
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Fatalf("the keyring file exists before a key was needed: %v", err)
	}
	a, err := k.Describe(AliasKinesis)
	if err != nil {
		t.Fatal(err)
	}
	b, err := k.Describe("arn:aws:kms:eu-west-1:111122223333:" + AliasKinesis)
	if err != nil || b.ID != a.ID {
		t.Fatalf("second lookup: %+v %v, want the same key %s", b, err, a.ID)
	}
	f, err := k.Describe(AliasFirehose)
	if err != nil || f.ID == a.ID {
		t.Fatalf("alias/aws/firehose: %+v %v, want a key of its own", f, err)
	}
	fi, err := os.Stat(path)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("keyring file: %v %v, want mode 0600", fi, err)
	}
	k2, err := Open(path, WithRegion("eu-west-1"), WithAccountID("111122223333"))
	if err != nil {
		t.Fatal(err)
	}
	if c, err := k2.Describe(AliasKinesis); err != nil || c.ID != a.ID {
		t.Fatalf("after reopening: %+v %v, want %s", c, err, a.ID)
	}
	_, err = k.CreateKey("alias/aws/mine")
	wantCode(t, err, apierr.InvalidArgument)
	_, err = k.CreateKey("alias/aws/kinesis")
	wantCode(t, err, apierr.InvalidArgument)
}

// TestWrapUnwrap wraps data keys and unwraps them, and checks that a
// wrapped key does not unwrap when altered, under another context, or
// with its master key gone, disabled or pending deletion.
func TestWrapUnwrap(t *testing.T) {
	k, path := openTest(t)
	key, err := k.CreateKey("alias/w")
	if err != nil {
		t.Fatal(err)
	}
	dk, err := k.GenerateDataKey("alias/w", "ctx-1")
	if err != nil {
		t.Fatal(err)
	}
	if len(dk.Plaintext) != DataKeySize || dk.KeyARN != key.ARN || bytes.Contains(dk.Wrapped, dk.Plaintext) {
		t.Fatalf("data key %+v", dk)
	}
	plain, arn, err := k.Unwrap(dk.Wrapped, "ctx-1")
	if err != nil || !bytes.Equal(plain, dk.Plaintext) || arn != key.ARN {
		t.Fatalf("Unwrap: %x %s %v", plain, arn, err)
	}
	dk2, err := k.GenerateDataKey(key.ID, "ctx-1")
	if err != nil || bytes.Equal(dk2.Plaintext, dk.Plaintext) {
		t.Fatalf("a second data key equals the first: %v", err)
	}
	flip := func(i int) []byte {
		w := bytes.Clone(dk.Wrapped)
		w[i] ^= 1
		return w
	}
	cases := []struct {
		name    string
		wrapped []byte
		ctx     string
		want    apierr.Code
	}{
		{"other context", dk.Wrapped, "ctx-2", apierr.KMSInvalidState},
		{"altered ciphertext", flip(len(dk.Wrapped) - 20), "ctx-1", apierr.KMSInvalidState},
		{"altered nonce", flip(1 + 16), "ctx-1", apierr.KMSInvalidState},
		{"other master key id", flip(1), "ctx-1", apierr.KMSNotFound},
		{"truncated", dk.Wrapped[:20], "ctx-1", apierr.KMSInvalidState},
		{"other version", append([]byte{2}, dk.Wrapped[1:]...), "ctx-1", apierr.KMSInvalidState},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := k.Unwrap(tc.wrapped, tc.ctx)
			wantCode(t, err, tc.want)
		})
	}

	for _, st := range []struct {
		state State
		want  apierr.Code
	}{{Disabled, apierr.KMSDisabled}, {PendingDeletion, apierr.KMSInvalidState}} {
		t.Run(string(st.state), func(t *testing.T) {
			setState(t, path, key.ID, st.state)
			_, _, err := k.Unwrap(dk.Wrapped, "ctx-1")
			wantCode(t, err, st.want)
			_, err = k.GenerateDataKey("alias/w", "ctx-1")
			wantCode(t, err, st.want)
			setState(t, path, key.ID, Enabled)
			if _, _, err := k.Unwrap(dk.Wrapped, "ctx-1"); err != nil {
				t.Fatalf("enabled again: %v", err)
			}
		})
	}

	t.Run("keyring without the key", func(t *testing.T) {
		other, err := Open(filepath.Join(t.TempDir(), "k.json"))
		if err != nil {
			t.Fatal(err)
		}
		_, _, err = other.Unwrap(dk.Wrapped, "ctx-1")
		wantCode(t, err, apierr.KMSNotFound)
	})
}

// setState rewrites a key's state in the file, as an operator would; the
// keyring reads the file again when a key is not usable.
func setState(t *testing.T, path, id string, state State) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	i := bytes.Index(b, []byte(id))
	for _, s := range []State{Enabled, Disabled, PendingDeletion} {
		b = append(b[:i:i], bytes.Replace(b[i:], []byte(`"state": "`+s+`"`), []byte(`"state": "`+state+`"`), 1)...)
	}
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestBadKeyringFiles checks that Open refuses a keyring file others may
// read and files that are not keyrings, saying why.
func TestBadKeyringFiles(t *testing.T) {
	good, path := openTest(t)
	if _, err := good.CreateKey("alias/a"); err != nil {
		t.Fatal(err)
	}
	valid, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name    string
		content string
		mode    os.FileMode
		want    string
	}{
		{"readable by others", string(valid), 0o644, "chmod 600"},
		{"not JSON", "{", 0o600, "kms keyring"},
		{"short material", `{"keys":[{"id":"12345678-1234-1234-1234-123456789012","material":"AAAA"}]}`, 0o600, "material is 3 bytes"},
		{"bad id", `{"keys":[{"id":"k1","material":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="}]}`, 0o600, "not a UUID"},
		{"bad state", strings.Replace(string(valid), `"Enabled"`, `"On"`, 1), 0o600, "state \"On\""},
		{"bad alias", strings.Replace(string(valid), `"alias/a"`, `"a"`, 1), 0o600, "must look like alias/NAME"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "k.json")
			if err := os.WriteFile(p, []byte(tc.content), tc.mode); err != nil {
				t.Fatal(err)
			}
			if err := os.Chmod(p, tc.mode); err != nil {
				t.Fatal(err)
			}
			_, err := Open(p)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Open: %v, want an error with %q", err, tc.want)
			}
		})
	}
}

// TestInMemoryKeyring checks a keyring without a file.
func TestInMemoryKeyring(t *testing.T) {
	k, err := Open("")
	if err != nil {
		t.Fatal(err)
	}
	dk, err := k.GenerateDataKey(AliasKinesis, "c")
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := k.Unwrap(dk.Wrapped, "c"); err != nil {
		t.Fatal(err)
	}
	keys, err := k.Keys()
	if err != nil || len(keys) != 1 || keys[0].Aliases[0] != AliasKinesis {
		t.Fatalf("Keys: %+v %v", keys, err)
	}
}
