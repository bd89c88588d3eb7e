package functions

import (
	"archive/zip"
	"bytes"
	"compress/flate"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/spatehq/spate/apierr"
	"github.com/spatehq/spate/shard"
)

// fakeExec is an Executor made of a function; it records the Configs it
// ran and the ARNs it retired.
type fakeExec struct {
	mu      sync.Mutex
	run     func(Config, Invocation) (Result, error)
	configs []Config
	retired []string
}

func (f *fakeExec) Execute(ctx context.Context, fn Config, inv Invocation) (Result, error) {
	f.mu.Lock()
	f.configs = append(f.configs, fn)
	run := f.run
	f.mu.Unlock()
	if run == nil {
		return Result{Payload: inv.Payload}, nil
	}
	return run(fn, inv)
}

func (f *fakeExec) Retire(arn string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.retired = append(f.retired, arn)
}

func (f *fakeExec) Close() error { return nil }

type fixture struct {
	t     *testing.T
	ctx   context.Context
	dir   string
	store *shard.Store
	exec  *fakeExec
	svc   *Service
}

const role = "arn:aws:iam::000000000000:role/lambda"

func newFixture(t *testing.T, opts ...Option) *fixture {
	t.Helper()
	f := &fixture{t: t, ctx: context.Background(), dir: t.TempDir(), exec: &fakeExec{}}
	st, err := shard.Open(filepath.Join(f.dir, "db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	f.store = st
	f.open(opts...)
	return f
}

func (f *fixture) open(opts ...Option) {
	f.t.Helper()
	svc, err := New(f.store, f.exec, append([]Option{WithCodeDir(filepath.Join(f.dir, "functions"))}, opts...)...)
	if err != nil {
		f.t.Fatal(err)
	}
	f.t.Cleanup(svc.Close)
	f.svc = svc
}

// zipOfFiles builds a zip of name → content; a name ending in "*" is
// executable (the star is dropped).
func zipOfFiles(t testing.TB, files map[string]string) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for name, body := range files {
		h := &zip.FileHeader{Name: strings.TrimSuffix(name, "*"), Method: zip.Deflate}
		h.SetMode(0o644)
		if strings.HasSuffix(name, "*") {
			h.SetMode(0o755)
		}
		w, err := zw.CreateHeader(h)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write([]byte(body)); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func (f *fixture) create(name string) FunctionConfiguration {
	f.t.Helper()
	c, err := f.svc.CreateFunction(f.ctx, CreateInput{FunctionName: name, Runtime: RuntimeProvidedAL2023, Role: role,
		Handler: "bootstrap", Code: &FunctionCode{ZipFile: zipOfFiles(f.t, map[string]string{"bootstrap*": "#!/bin/sh\n"})}})
	if err != nil {
		f.t.Fatal(err)
	}
	return c
}

func wantCode(t *testing.T, err error, code apierr.Code) {
	t.Helper()
	if apierr.CodeOf(err) != code {
		t.Fatalf("err = %v, want %s", err, code)
	}
}

func TestCreateGetAndRestart(t *testing.T) {
	f := newFixture(t)
	zipBytes := zipOfFiles(t, map[string]string{"bootstrap*": "#!/bin/sh\n", "lib/data.txt": "x"})
	c, err := f.svc.CreateFunction(f.ctx, CreateInput{FunctionName: "fn", Runtime: RuntimeProvidedAL2, Role: role,
		Handler: "h", Code: &FunctionCode{ZipFile: zipBytes}, Environment: &Environment{Variables: map[string]string{"A_B": "1"}},
		Tags: map[string]string{"team": "x"}})
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(zipBytes)
	if c.CodeSha256 != base64.StdEncoding.EncodeToString(sum[:]) || c.CodeSize != int64(len(zipBytes)) {
		t.Fatalf("code %s/%d", c.CodeSha256, c.CodeSize)
	}
	if c.State != "Active" || c.LastUpdateStatus != "Successful" || c.Version != "$LATEST" || c.Timeout != 3 || c.MemorySize != 128 {
		t.Fatalf("config %+v", c)
	}
	if c.FunctionArn != "arn:aws:lambda:us-east-1:000000000000:function:fn" {
		t.Fatalf("arn %s", c.FunctionArn)
	}
	// The code is unpacked, with the executable bit kept.
	cfg := f.svc.execConfig(f.svc.fns["fn"])
	st, err := os.Stat(filepath.Join(cfg.CodeDir, "bootstrap"))
	if err != nil || st.Mode().Perm()&0o100 == 0 {
		t.Fatalf("bootstrap: %v %v", st, err)
	}
	if b, err := os.ReadFile(filepath.Join(cfg.CodeDir, "lib", "data.txt")); err != nil || string(b) != "x" {
		t.Fatalf("data: %q %v", b, err)
	}
	_, err = f.svc.CreateFunction(f.ctx, CreateInput{FunctionName: "fn", Runtime: RuntimeProvidedAL2, Role: role, Code: &FunctionCode{ZipFile: zipBytes}})
	wantCode(t, err, apierr.ResourceConflict)

	// A restart finds it again, by any name form.
	f.svc.Close()
	f.open()
	for _, ref := range []string{"fn", "fn:$LATEST", "000000000000:function:fn", "arn:aws:lambda:us-east-1:000000000000:function:fn"} {
		got, err := f.svc.GetFunction(f.ctx, ref)
		if err != nil {
			t.Fatalf("%s: %v", ref, err)
		}
		if got.Configuration.RevisionID != c.RevisionID || got.Tags["team"] != "x" || got.Configuration.Environment.Variables["A_B"] != "1" {
			t.Fatalf("%s: %+v", ref, got)
		}
	}
	if _, err := os.Stat(filepath.Join(cfg.CodeDir, "bootstrap")); err != nil {
		t.Fatalf("code gone after restart: %v", err)
	}
	for _, ref := range []string{"nope", "fn:1", "arn:aws:lambda:eu-west-1:000000000000:function:fn", "111111111111:function:fn"} {
		_, err := f.svc.GetFunction(f.ctx, ref)
		wantCode(t, err, apierr.ResourceNotFound)
	}
}

func TestCreateValidation(t *testing.T) {
	good := zipOfFiles(t, map[string]string{"bootstrap*": "x"})
	ok := func(mod func(*CreateInput)) CreateInput {
		in := CreateInput{FunctionName: "fn", Runtime: RuntimeProvidedAL2023, Role: role, Code: &FunctionCode{ZipFile: good}}
		mod(&in)
		return in
	}
	n := func(v int) *int { return &v }
	cases := []struct {
		name string
		in   CreateInput
		code apierr.Code
		msg  string
	}{
		{"no name", ok(func(in *CreateInput) { in.FunctionName = "" }), apierr.InvalidParameterValue, "required"},
		{"bad name", ok(func(in *CreateInput) { in.FunctionName = "a b" }), apierr.InvalidParameterValue, "invalid"},
		{"long name", ok(func(in *CreateInput) { in.FunctionName = strings.Repeat("a", 65) }), apierr.InvalidParameterValue, "at most 64"},
		{"qualified", ok(func(in *CreateInput) { in.FunctionName = "fn:$LATEST" }), apierr.InvalidParameterValue, "qualifier"},
		{"other account", ok(func(in *CreateInput) { in.FunctionName = "arn:aws:lambda:us-east-1:111111111111:function:fn" }), apierr.ResourceNotFound, "account"},
		{"python", ok(func(in *CreateInput) { in.Runtime = "python3.12" }), apierr.InvalidParameterValue, "provided.al2023"},
		{"no runtime", ok(func(in *CreateInput) { in.Runtime = "" }), apierr.InvalidParameterValue, "Runtime is required"},
		{"no role", ok(func(in *CreateInput) { in.Role = "" }), apierr.InvalidParameterValue, "Role is required"},
		{"bad role", ok(func(in *CreateInput) { in.Role = "admin" }), apierr.InvalidParameterValue, "IAM role ARN"},
		{"timeout 0", ok(func(in *CreateInput) { in.Timeout = n(0) }), apierr.InvalidParameterValue, "1 to 900"},
		{"timeout 901", ok(func(in *CreateInput) { in.Timeout = n(901) }), apierr.InvalidParameterValue, "1 to 900"},
		{"memory 127", ok(func(in *CreateInput) { in.MemorySize = n(127) }), apierr.InvalidParameterValue, "128 to 10240"},
		{"memory 10241", ok(func(in *CreateInput) { in.MemorySize = n(10241) }), apierr.InvalidParameterValue, "128 to 10240"},
		{"env 4 KB", ok(func(in *CreateInput) {
			in.Environment = &Environment{Variables: map[string]string{"BIG": strings.Repeat("x", 4090)}}
		}), apierr.InvalidParameterValue, "4KB"},
		{"env reserved", ok(func(in *CreateInput) {
			in.Environment = &Environment{Variables: map[string]string{"AWS_REGION": "x"}}
		}), apierr.InvalidParameterValue, "AWS_REGION"},
		{"env key", ok(func(in *CreateInput) { in.Environment = &Environment{Variables: map[string]string{"1A": "x"}} }), apierr.InvalidParameterValue, "invalid"},
		{"no code", ok(func(in *CreateInput) { in.Code = nil }), apierr.InvalidParameterValue, "Code is required"},
		{"empty zip", ok(func(in *CreateInput) { in.Code = &FunctionCode{} }), apierr.InvalidParameterValue, "ZipFile is required"},
		{"s3", ok(func(in *CreateInput) { in.Code = &FunctionCode{S3Bucket: "b", S3Key: "k"} }), apierr.InvalidParameterValue, "ZipFile only"},
		{"image", ok(func(in *CreateInput) { in.PackageType = "Image" }), apierr.InvalidParameterValue, "zip packages only"},
		{"layers", ok(func(in *CreateInput) { in.Layers = []string{"arn:x"} }), apierr.InvalidParameterValue, "layers"},
		{"not a zip", ok(func(in *CreateInput) { in.Code = &FunctionCode{ZipFile: []byte("hello")} }), apierr.InvalidParameterValue, "Could not unzip"},
		{"http no url", ok(func(in *CreateInput) { in.Runtime = RuntimeHTTP; in.Code = &FunctionCode{} }), apierr.InvalidParameterValue, EndpointVariable},
		{"http bad url", ok(func(in *CreateInput) {
			in.Runtime = RuntimeHTTP
			in.Environment = &Environment{Variables: map[string]string{EndpointVariable: "ftp://x"}}
		}), apierr.InvalidParameterValue, "http://"},
		{"tags", ok(func(in *CreateInput) { in.Tags = map[string]string{"aws:x": "y"} }), apierr.InvalidParameterValue, "tag key"},
		{"arch", ok(func(in *CreateInput) { in.Architectures = []string{"mips"} }), apierr.InvalidParameterValue, "x86_64"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			_, err := f.svc.CreateFunction(f.ctx, tc.in)
			wantCode(t, err, tc.code)
			if !strings.Contains(err.Error(), tc.msg) {
				t.Fatalf("message %q does not say %q", err, tc.msg)
			}
			if len(f.svc.fns) != 0 {
				t.Fatal("a refused function was kept")
			}
		})
	}
}

func TestHTTPFunctionWithoutCode(t *testing.T) {
	f := newFixture(t)
	_, err := f.svc.CreateFunction(f.ctx, CreateInput{FunctionName: "web", Runtime: RuntimeHTTP, Role: role, Code: &FunctionCode{},
		Environment: &Environment{Variables: map[string]string{EndpointVariable: "http://127.0.0.1:1/x"}}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.Invoke(f.ctx, "web", []byte(`{}`)); err != nil {
		t.Fatal(err)
	}
	got := f.exec.configs[0]
	if got.Endpoint != "http://127.0.0.1:1/x" || got.CodeDir != "" || got.MaxConcurrency != DefaultUnreservedConcurrency {
		t.Fatalf("config %+v", got)
	}
}

// TestZipLimits feeds hostile zips: each is refused with a typed error
// and leaves nothing on disk. The size and count limits are lowered so
// that the bombs are small; TestZipLimitsAreAWS checks the real ones.
func TestZipLimits(t *testing.T) {
	const limit = 64 << 10
	zipWith := func(add func(zw *zip.Writer)) []byte {
		var b bytes.Buffer
		zw := zip.NewWriter(&b)
		add(zw)
		if err := zw.Close(); err != nil {
			t.Fatal(err)
		}
		return b.Bytes()
	}
	zeros := make([]byte, limit+1)
	bomb := zipWith(func(zw *zip.Writer) {
		w, _ := zw.Create("zeros")
		_, _ = w.Write(zeros)
	})
	// A bomb whose header claims 10 bytes.
	var deflated bytes.Buffer
	fw, _ := flate.NewWriter(&deflated, flate.BestCompression)
	_, _ = fw.Write(zeros)
	_ = fw.Close()
	liar := zipWith(func(zw *zip.Writer) {
		w, _ := zw.CreateRaw(&zip.FileHeader{Name: "zeros", Method: zip.Deflate, CompressedSize64: uint64(deflated.Len()),
			UncompressedSize64: 10})
		_, _ = w.Write(deflated.Bytes())
	})
	// Small files that add up to more than the limit.
	spread := zipWith(func(zw *zip.Writer) {
		for i := range 5 {
			w, _ := zw.Create(fmt.Sprintf("f%d", i))
			_, _ = w.Write(zeros[:limit/4])
		}
	})
	symlink := zipWith(func(zw *zip.Writer) {
		h := &zip.FileHeader{Name: "link"}
		h.SetMode(fs.ModeSymlink | 0o777)
		w, _ := zw.CreateHeader(h)
		_, _ = w.Write([]byte("/etc/passwd"))
	})
	raw := func(names ...string) []byte {
		return zipWith(func(zw *zip.Writer) {
			for _, n := range names {
				w, _ := zw.CreateRaw(&zip.FileHeader{Name: n, Method: zip.Store})
				_, _ = w.Write(nil)
			}
		})
	}
	many := make([]string, 101)
	for i := range many {
		many[i] = fmt.Sprintf("d/%d", i)
	}
	cases := []struct {
		name string
		zip  []byte
		msg  string
	}{
		{"bomb", bomb, "Unzipped size must be smaller than 65536 bytes"},
		{"lying header", liar, "Could not unzip"},
		{"spread", spread, "Unzipped size must be smaller than 65536 bytes"},
		{"slip", raw("../evil"), "unsafe name"},
		{"deep slip", raw("a/../../evil"), "unsafe name"},
		{"absolute", raw("/etc/evil"), "unsafe name"},
		{"backslash", raw(`..\evil`), "unsafe name"},
		{"dot parts", raw("a/./b"), "unsafe name"},
		{"symlink", symlink, "symbolic link"},
		{"duplicate", raw("a", "a"), "twice"},
		{"file then directory", raw("a", "a/b"), "cannot be unpacked"},
		{"too many files", raw(many...), "at most 100"},
		{"truncated", bomb[:len(bomb)/2], "Could not unzip"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, withZipLimits(limit, 100))
			_, err := f.svc.CreateFunction(f.ctx, CreateInput{FunctionName: "fn", Runtime: RuntimeProvidedAL2, Role: role, Code: &FunctionCode{ZipFile: tc.zip}})
			wantCode(t, err, apierr.InvalidParameterValue)
			if !strings.Contains(err.Error(), tc.msg) {
				t.Fatalf("message %q does not say %q", err, tc.msg)
			}
			// Nothing is left on disk.
			left, _ := os.ReadDir(filepath.Join(f.dir, "functions", "fn"))
			if len(left) != 0 {
				t.Fatalf("left behind: %v", left)
			}
			if _, err := os.Stat(filepath.Join(f.dir, "evil")); err == nil {
				t.Fatal("zip slip wrote outside the code directory")
			}
		})
	}
}

// TestZipLimitsAreAWS checks the default limits are AWS's.
func TestZipLimitsAreAWS(t *testing.T) {
	if awsZipLimits.bytes != 262144000 || MaxZipBytes != 52428800 {
		t.Fatalf("limits %+v, %d", awsZipLimits, MaxZipBytes)
	}
	f := newFixture(t)
	_, err := f.svc.CreateFunction(f.ctx, CreateInput{FunctionName: "fn", Runtime: RuntimeProvidedAL2, Role: role,
		Code: &FunctionCode{ZipFile: make([]byte, MaxZipBytes+1)}})
	wantCode(t, err, apierr.RequestTooLarge)
}

func TestUpdates(t *testing.T) {
	f := newFixture(t)
	c := f.create("fn")
	oldDir := f.svc.execConfig(f.svc.fns["fn"]).CodeDir

	// A stale RevisionId is refused.
	timeout := 30
	_, err := f.svc.UpdateFunctionConfiguration(f.ctx, UpdateConfigInput{FunctionName: "fn", Timeout: &timeout, RevisionID: "stale"})
	wantCode(t, err, PreconditionFailed)

	c2, err := f.svc.UpdateFunctionConfiguration(f.ctx, UpdateConfigInput{FunctionName: "fn", Timeout: &timeout, RevisionID: c.RevisionID,
		Environment: &Environment{Variables: map[string]string{"K1": "v"}}})
	if err != nil {
		t.Fatal(err)
	}
	if c2.Timeout != 30 || c2.RevisionID == c.RevisionID || c2.Handler != "bootstrap" || c2.Environment.Variables["K1"] != "v" {
		t.Fatalf("after config update: %+v", c2)
	}
	bad := 0
	_, err = f.svc.UpdateFunctionConfiguration(f.ctx, UpdateConfigInput{FunctionName: "fn", Timeout: &bad})
	wantCode(t, err, apierr.InvalidParameterValue)

	newZip := zipOfFiles(t, map[string]string{"bootstrap*": "v2"})
	// DryRun changes nothing.
	d, err := f.svc.UpdateFunctionCode(f.ctx, UpdateCodeInput{FunctionName: "fn", ZipFile: newZip, DryRun: true})
	if err != nil || d.RevisionID != c2.RevisionID {
		t.Fatalf("dry run: %+v %v", d, err)
	}
	c3, err := f.svc.UpdateFunctionCode(f.ctx, UpdateCodeInput{FunctionName: "fn", ZipFile: newZip, RevisionID: c2.RevisionID})
	if err != nil {
		t.Fatal(err)
	}
	if c3.CodeSha256 == c2.CodeSha256 || c3.RevisionID == c2.RevisionID || c3.Timeout != 30 {
		t.Fatalf("after code update: %+v", c3)
	}
	newDir := f.svc.execConfig(f.svc.fns["fn"]).CodeDir
	if b, _ := os.ReadFile(filepath.Join(newDir, "bootstrap")); string(b) != "v2" {
		t.Fatalf("new code %q", b)
	}
	if _, err := os.Stat(oldDir); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("old code kept: %v", err)
	}
	// A refused update leaves no unzipped revision behind.
	_, err = f.svc.UpdateFunctionCode(f.ctx, UpdateCodeInput{FunctionName: "fn", ZipFile: newZip, RevisionID: c2.RevisionID})
	wantCode(t, err, PreconditionFailed)
	if revs, _ := os.ReadDir(filepath.Join(f.dir, "functions", "fn")); len(revs) != 1 {
		t.Fatalf("code revisions on disk: %v, want 1", revs)
	}
	_, err = f.svc.UpdateFunctionCode(f.ctx, UpdateCodeInput{FunctionName: "fn", S3Bucket: "b", S3Key: "k"})
	wantCode(t, err, apierr.InvalidParameterValue)
	_, err = f.svc.UpdateFunctionCode(f.ctx, UpdateCodeInput{FunctionName: "fn", ZipFile: []byte("junk")})
	wantCode(t, err, apierr.InvalidParameterValue)
	if got := f.svc.fns["fn"].RevisionID; got != c3.RevisionID {
		t.Fatal("a refused update changed the function")
	}

	arn := "arn:aws:lambda:us-east-1:000000000000:function:fn"
	if n := len(f.exec.retired); n != 2 || f.exec.retired[0] != arn {
		t.Fatalf("retired %v, want the function twice", f.exec.retired)
	}

	// Concurrency: kept across restarts, handed to the executor.
	five := 5
	if _, err := f.svc.PutFunctionConcurrency(f.ctx, "fn", &five); err != nil {
		t.Fatal(err)
	}
	neg := -1
	_, err = f.svc.PutFunctionConcurrency(f.ctx, "fn", &neg)
	wantCode(t, err, apierr.InvalidParameterValue)
	f.svc.Close()
	f.open()
	if got, err := f.svc.GetFunctionConcurrency(f.ctx, "fn"); err != nil || got == nil || *got != 5 {
		t.Fatalf("concurrency %v %v", got, err)
	}
	if _, err := f.svc.Invoke(f.ctx, "fn", nil); err != nil {
		t.Fatal(err)
	}
	if got := f.exec.configs[len(f.exec.configs)-1].MaxConcurrency; got != 5 {
		t.Fatalf("MaxConcurrency %d, want 5", got)
	}
	if err := f.svc.DeleteFunctionConcurrency(f.ctx, "fn"); err != nil {
		t.Fatal(err)
	}
	if got, _ := f.svc.GetFunctionConcurrency(f.ctx, "fn"); got != nil {
		t.Fatalf("concurrency %v after delete", *got)
	}
	if f.svc.fns["fn"].RevisionID != c3.RevisionID {
		t.Fatal("a concurrency change changed the RevisionId")
	}

	// Tags.
	if err := f.svc.TagResource(f.ctx, arn, map[string]string{"a": "1", "b": "2"}); err != nil {
		t.Fatal(err)
	}
	if err := f.svc.UntagResource(f.ctx, arn, []string{"a"}); err != nil {
		t.Fatal(err)
	}
	tags, err := f.svc.ListTags(f.ctx, arn)
	if err != nil || len(tags) != 1 || tags["b"] != "2" {
		t.Fatalf("tags %v %v", tags, err)
	}
	for _, res := range []string{"fn", arn + ":$LATEST", "arn:aws:lambda:us-east-1:000000000000:event-source-mapping:x"} {
		wantCode(t, f.svc.TagResource(f.ctx, res, map[string]string{"a": "1"}), apierr.InvalidParameterValue)
	}
	wantCode(t, f.svc.TagResource(f.ctx, arn+"x", map[string]string{"a": "1"}), apierr.ResourceNotFound)

	// Delete removes the record and the code.
	wantCode(t, f.svc.DeleteFunction(f.ctx, "fn", "$LATEST"), apierr.InvalidParameterValue)
	if err := f.svc.DeleteFunction(f.ctx, "fn", ""); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(f.dir, "functions", "fn")); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("code kept after delete: %v", err)
	}
	_, err = f.svc.GetFunction(f.ctx, "fn")
	wantCode(t, err, apierr.ResourceNotFound)
	wantCode(t, f.svc.DeleteFunction(f.ctx, "fn", ""), apierr.ResourceNotFound)
}

func TestListFunctionsPages(t *testing.T) {
	f := newFixture(t)
	for _, n := range []string{"c", "a", "e", "b", "d"} {
		f.create(n)
	}
	var got []string
	marker := ""
	for pages := 0; ; pages++ {
		out, err := f.svc.ListFunctions(f.ctx, ListInput{Marker: marker, MaxItems: 2})
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range out.Functions {
			got = append(got, c.FunctionName)
		}
		if out.NextMarker == "" {
			break
		}
		marker = out.NextMarker
		if pages > 5 {
			t.Fatal("no end")
		}
	}
	if strings.Join(got, "") != "abcde" {
		t.Fatalf("listed %v", got)
	}
	_, err := f.svc.ListFunctions(f.ctx, ListInput{MaxItems: 10001})
	wantCode(t, err, apierr.InvalidParameterValue)
	acct, _ := f.svc.GetAccountSettings(f.ctx)
	if acct.AccountUsage.FunctionCount != 5 || acct.AccountLimit.ConcurrentExecutions != DefaultUnreservedConcurrency {
		t.Fatalf("account %+v", acct)
	}
}

func TestCodeStorageLimit(t *testing.T) {
	first := int64(len(zipOfFiles(t, map[string]string{"bootstrap*": "#!/bin/sh\n"})))
	f := newFixture(t, WithCodeStorage(first+10))
	f.create("a")
	_, err := f.svc.CreateFunction(f.ctx, CreateInput{FunctionName: "b", Runtime: RuntimeProvidedAL2, Role: role,
		Code: &FunctionCode{ZipFile: zipOfFiles(t, map[string]string{"bootstrap*": "x"})}})
	wantCode(t, err, apierr.CodeStorageExceeded)
	// Replacing a function's own code counts its old zip out.
	if _, err := f.svc.UpdateFunctionCode(f.ctx, UpdateCodeInput{FunctionName: "a",
		ZipFile: zipOfFiles(t, map[string]string{"bootstrap*": "#!/bin/sh\n"})}); err != nil {
		t.Fatal(err)
	}
}

func TestInvoke(t *testing.T) {
	f := newFixture(t)
	f.create("fn")
	f.exec.run = func(c Config, inv Invocation) (Result, error) {
		if string(inv.Payload) == `"fail"` {
			return Result{FunctionError: "Unhandled", Payload: []byte(`{"errorMessage":"boom"}`)}, nil
		}
		return Result{Payload: []byte(`"ok"`), LogTail: []byte("log")}, nil
	}
	big := []byte(`"` + strings.Repeat("x", MaxSyncPayload) + `"`)
	cc := base64.StdEncoding.EncodeToString([]byte(`{"custom":{}}`))
	cases := []struct {
		name   string
		in     InvokeInput
		status int
		code   apierr.Code
	}{
		{"sync", InvokeInput{Payload: []byte(`{}`), LogType: "Tail", ClientContext: cc}, 200, ""},
		{"latest", InvokeInput{Payload: []byte(`{}`), Qualifier: "$LATEST"}, 200, ""},
		{"version", InvokeInput{Payload: []byte(`{}`), Qualifier: "1"}, 0, apierr.ResourceNotFound},
		{"dry run", InvokeInput{InvocationType: "DryRun"}, 204, ""},
		{"too large", InvokeInput{Payload: big}, 0, apierr.RequestTooLarge},
		{"async too large", InvokeInput{InvocationType: "Event", Payload: big[:MaxAsyncPayload+1]}, 0, apierr.RequestTooLarge},
		{"not json", InvokeInput{Payload: []byte(`{`)}, 0, apierr.InvalidRequestContent},
		{"bad context", InvokeInput{ClientContext: "%%%"}, 0, apierr.InvalidRequestContent},
		{"bad type", InvokeInput{InvocationType: "Later"}, 0, apierr.InvalidParameterValue},
		{"bad log type", InvokeInput{LogType: "All"}, 0, apierr.InvalidParameterValue},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tc.in.FunctionName = "fn"
			out, err := f.svc.InvokeAs(f.ctx, tc.in)
			if tc.code != "" {
				wantCode(t, err, tc.code)
				return
			}
			if err != nil || out.StatusCode != tc.status {
				t.Fatalf("status %d err %v", out.StatusCode, err)
			}
			if out.Result.ExecutedVersion != "$LATEST" {
				t.Fatalf("executed %q", out.Result.ExecutedVersion)
			}
		})
	}
	out, _ := f.svc.InvokeAs(f.ctx, InvokeInput{FunctionName: "fn", Payload: []byte(`"fail"`)})
	if out.Result.FunctionError != "Unhandled" {
		t.Fatalf("result %+v", out.Result)
	}
	_, err := f.svc.Invoke(f.ctx, "nope", nil)
	wantCode(t, err, apierr.ResourceNotFound)
	if arn, err := f.svc.FunctionARN(f.ctx, "fn:$LATEST"); err != nil || !strings.HasSuffix(arn, ":function:fn") {
		t.Fatalf("arn %q %v", arn, err)
	}
}

func TestAsyncRetries(t *testing.T) {
	f := newFixture(t, WithAsync(2, 1, time.Millisecond, time.Millisecond))
	f.create("fn")
	calls := make(chan string, 10)
	release := make(chan struct{})
	f.exec.run = func(c Config, inv Invocation) (Result, error) {
		calls <- inv.RequestID
		<-release
		return Result{FunctionError: "Unhandled"}, nil
	}
	out, err := f.svc.InvokeAs(f.ctx, InvokeInput{FunctionName: "fn", InvocationType: "Event", Payload: []byte(`{}`)})
	if err != nil || out.StatusCode != 202 {
		t.Fatalf("%+v %v", out, err)
	}
	first := <-calls // running, holds a slot
	if _, err := f.svc.InvokeAs(f.ctx, InvokeInput{FunctionName: "fn", InvocationType: "Event"}); err != nil {
		t.Fatal(err)
	}
	// Two slots taken: the third is throttled.
	_, err = f.svc.InvokeAs(f.ctx, InvokeInput{FunctionName: "fn", InvocationType: "Event"})
	wantCode(t, err, apierr.TooManyRequests)
	close(release)
	// The first runs three times in all (two retries), as does the second.
	seen := map[string]int{first: 1}
	for range 5 {
		seen[<-calls]++
	}
	for id, n := range seen {
		if n != 3 {
			t.Fatalf("request %s ran %d times, want 3", id, n)
		}
	}
	// All slots come back once the retries are spent.
	for {
		if _, err := f.svc.InvokeAs(f.ctx, InvokeInput{FunctionName: "fn", InvocationType: "DryRun"}); err != nil {
			t.Fatal(err)
		}
		if len(f.svc.async.slots) == 0 {
			break
		}
		time.Sleep(time.Millisecond)
	}
}

func TestParseRef(t *testing.T) {
	cases := []struct {
		in   string
		want Ref
		ok   bool
	}{
		{"fn", Ref{Name: "fn"}, true},
		{"fn:$LATEST", Ref{Name: "fn", Qualifier: "$LATEST"}, true},
		{"123456789012:function:fn", Ref{Name: "fn"}, true},
		{"arn:aws:lambda:us-east-1:123456789012:function:fn:prod", Ref{Name: "fn", Qualifier: "prod"}, true},
		{"arn:aws:lambda:fn", Ref{}, false},
		{"fn/../x", Ref{}, false},
		{"", Ref{}, false},
		{strings.Repeat("a", 300), Ref{}, false},
	}
	for _, tc := range cases {
		got, err := ParseRef(tc.in)
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("ParseRef(%q) = %+v, %v", tc.in, got, err)
		}
	}
}

// TestSweepStaleCode: code directories no record names (a crash between
// unzipping and committing) are removed when the registry opens.
func TestSweepStaleCode(t *testing.T) {
	f := newFixture(t)
	f.create("fn")
	keep := f.svc.execConfig(f.svc.fns["fn"]).CodeDir
	root := filepath.Join(f.dir, "functions")
	for _, d := range []string{filepath.Join(root, "fn", "stale"), filepath.Join(root, "gone", "rev"), filepath.Join(root, "fn", "x.tmp")} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			t.Fatal(err)
		}
	}
	f.svc.Close()
	f.open()
	entries, _ := os.ReadDir(root)
	revs, _ := os.ReadDir(filepath.Join(root, "fn"))
	if len(entries) != 1 || entries[0].Name() != "fn" || len(revs) != 1 || filepath.Join(root, "fn", revs[0].Name()) != keep {
		t.Fatalf("left %v and %v, want only %s", entries, revs, keep)
	}
}

// TestAsyncQueueBytes: Event invocations are bounded in payload bytes, not
// only in number, so the default queue of 1 MB events cannot hold a GB.
func TestAsyncQueueBytes(t *testing.T) {
	f := newFixture(t, WithAsync(DefaultAsyncQueue, 1))
	f.create("fn")
	release := make(chan struct{})
	var once sync.Once
	free := func() { once.Do(func() { close(release) }) }
	t.Cleanup(free) // before the fixture's Close, which waits for running invocations
	f.exec.run = func(c Config, inv Invocation) (Result, error) {
		<-release
		return Result{}, nil
	}
	payload := []byte(`"` + strings.Repeat("x", MaxAsyncPayload-2) + `"`)
	fits := int(DefaultAsyncBytes / MaxAsyncPayload)
	for i := range fits {
		if _, err := f.svc.InvokeAs(f.ctx, InvokeInput{FunctionName: "fn", InvocationType: "Event", Payload: payload}); err != nil {
			t.Fatalf("event %d: %v", i, err)
		}
	}
	_, err := f.svc.InvokeAs(f.ctx, InvokeInput{FunctionName: "fn", InvocationType: "Event", Payload: payload})
	wantCode(t, err, apierr.TooManyRequests)
	free()
	for f.svc.async.held.Load() != 0 || len(f.svc.async.slots) != 0 {
		time.Sleep(time.Millisecond)
	}
	if _, err := f.svc.InvokeAs(f.ctx, InvokeInput{FunctionName: "fn", InvocationType: "Event", Payload: payload}); err != nil {
		t.Fatal(err)
	}
}

// TestInvokeKeepsCodeUnderChange: an invocation that read the function
// before an update of its code or its deletion still finds its code; the
// old code goes once the invocation ends.
func TestInvokeKeepsCodeUnderChange(t *testing.T) {
	cases := []struct {
		name   string
		change func(f *fixture) error
	}{
		{"update code", func(f *fixture) error {
			_, err := f.svc.UpdateFunctionCode(f.ctx, UpdateCodeInput{FunctionName: "fn",
				ZipFile: zipOfFiles(f.t, map[string]string{"bootstrap*": "#!/bin/sh\necho 2\n"})})
			return err
		}},
		{"delete", func(f *fixture) error { return f.svc.DeleteFunction(f.ctx, "fn", "") }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			f.create("fn")
			started, proceed := make(chan string, 1), make(chan struct{})
			f.exec.run = func(c Config, inv Invocation) (Result, error) {
				started <- c.CodeDir
				<-proceed
				if _, err := os.Stat(filepath.Join(c.CodeDir, "bootstrap")); err != nil {
					return Result{}, err // what the runtime meets starting an instance
				}
				return Result{Payload: []byte(`"ok"`)}, nil
			}
			errc := make(chan error, 1)
			go func() {
				_, err := f.svc.InvokeAs(f.ctx, InvokeInput{FunctionName: "fn", Payload: []byte(`{}`)})
				errc <- err
			}()
			dir := <-started
			if err := tc.change(f); err != nil {
				t.Fatal(err)
			}
			close(proceed)
			if err := <-errc; err != nil {
				t.Fatalf("invocation during the change: %v", err)
			}
			if _, err := os.Stat(dir); !os.IsNotExist(err) {
				t.Fatalf("old code %s left after the invocation: %v", dir, err)
			}
		})
	}
}

// TestLengthsCountCharacters: Description, Handler and tag limits are in
// characters, as AWS counts them, so non-ASCII text within them passes.
func TestLengthsCountCharacters(t *testing.T) {
	f := newFixture(t)
	cases := []struct {
		name, desc, handler, tagValue string
		code                          apierr.Code
	}{
		{"description of 256 characters", strings.Repeat("é", 256), "", "", ""},
		{"description of 257 characters", strings.Repeat("é", 257), "", "", apierr.InvalidParameterValue},
		{"handler of 128 characters", "", strings.Repeat("é", 128), "", ""},
		{"tag value of 256 characters", "", "", strings.Repeat("é", 256), ""},
		{"tag value of 257 characters", "", "", strings.Repeat("é", 257), apierr.InvalidParameterValue},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := f.svc.CreateFunction(f.ctx, CreateInput{FunctionName: fmt.Sprintf("fn%d", i), Runtime: RuntimeProvidedAL2023,
				Role: role, Handler: tc.handler, Description: tc.desc, Tags: map[string]string{"k": tc.tagValue},
				Code: &FunctionCode{ZipFile: zipOfFiles(t, map[string]string{"bootstrap*": "#!/bin/sh\n"})}})
			if tc.code == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			wantCode(t, err, tc.code)
		})
	}
}
