package functions

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/spatehq/spate/apierr"
)

// lastModifiedLayout is how Lambda writes FunctionConfiguration.LastModified.
const lastModifiedLayout = "2006-01-02T15:04:05.000-0700"

// CreateFunction creates a function at $LATEST, Active at once. Publish
// is accepted and ignored: Spate keeps no numbered versions.
func (s *Service) CreateFunction(ctx context.Context, in CreateInput) (FunctionConfiguration, error) {
	name, err := s.newName(in.FunctionName)
	if err != nil {
		return FunctionConfiguration{}, err
	}
	if err := refuseUnserved(in.PackageType, in.Layers, in.FileSystemConfigs); err != nil {
		return FunctionConfiguration{}, err
	}
	rec := &record{Name: name, Runtime: in.Runtime, Role: in.Role, Handler: in.Handler,
		Description: in.Description, Timeout: DefaultTimeout, MemorySize: DefaultMemorySize,
		Architecture: "x86_64", Tags: in.Tags}
	if in.Timeout != nil {
		rec.Timeout = *in.Timeout
	}
	if in.MemorySize != nil {
		rec.MemorySize = *in.MemorySize
	}
	if in.Environment != nil {
		rec.Environment = in.Environment.Variables
	}
	if rec.Architecture, err = architecture(in.Architectures, rec.Architecture); err != nil {
		return FunctionConfiguration{}, err
	}
	if in.Role == "" {
		return FunctionConfiguration{}, apierr.New(apierr.InvalidParameterValue,
			"Role is required: an IAM role ARN (arn:aws:iam::ACCOUNT:role/NAME); Spate keeps it and does not assume it")
	}
	if err := validateConfig(rec); err != nil {
		return FunctionConfiguration{}, err
	}
	if err := ValidateTags(in.Tags); err != nil {
		return FunctionConfiguration{}, err
	}
	if in.Code == nil {
		return FunctionConfiguration{}, apierr.New(apierr.InvalidParameterValue, "Code is required: give Code.ZipFile")
	}
	zip, err := zipOf(in.Code.ZipFile, in.Code.S3Bucket, in.Code.S3Key, in.Code.ImageURI, rec.Runtime)
	if err != nil {
		return FunctionConfiguration{}, err
	}

	exists := func() error {
		if s.fns[name] != nil {
			return apierr.New(apierr.ResourceConflict, "Function already exist: %s", name)
		}
		return nil
	}
	s.mu.RLock()
	err = exists()
	s.mu.RUnlock()
	if err != nil {
		return FunctionConfiguration{}, err
	}
	// Unzipping takes a while: it runs outside the lock, so invocations
	// and reads go on meanwhile; a create that lost the race removes it.
	code, err := s.unpackCode(name, zip)
	if err != nil {
		return FunctionConfiguration{}, err
	}
	code.apply(rec)

	s.mu.Lock()
	defer s.mu.Unlock()
	if err := errors.Join(exists(), s.checkStorage(name, rec.CodeSize)); err != nil {
		s.removeCode(rec.CodeDir)
		return FunctionConfiguration{}, err
	}
	rec.RevisionID = uuid.NewString()
	rec.LastModified = s.now()
	if err := s.put(ctx, name, nil, rec); err != nil {
		s.removeCode(rec.CodeDir)
		return FunctionConfiguration{}, err
	}
	return s.configuration(rec), nil
}

// GetFunction returns a function's configuration, tags and reserved
// concurrency.
func (s *Service) GetFunction(ctx context.Context, function string) (GetOutput, error) {
	rec, err := s.get(function)
	if err != nil {
		return GetOutput{}, err
	}
	out := GetOutput{Configuration: s.configuration(rec), Code: FunctionCodeLocation{RepositoryType: "S3"}, Tags: rec.Tags}
	if rec.Reserved != nil {
		out.Concurrency = &Concurrency{ReservedConcurrentExecutions: rec.Reserved}
	}
	return out, nil
}

// GetFunctionConfiguration returns a function's configuration.
func (s *Service) GetFunctionConfiguration(ctx context.Context, function string) (FunctionConfiguration, error) {
	rec, err := s.get(function)
	if err != nil {
		return FunctionConfiguration{}, err
	}
	return s.configuration(rec), nil
}

// ListFunctions lists functions in name order; Marker is the name to start
// after, as the previous page's NextMarker gave it.
func (s *Service) ListFunctions(ctx context.Context, in ListInput) (ListOutput, error) {
	limit := in.MaxItems
	switch {
	case limit == 0:
		limit = defaultListItems
	case limit < 1 || limit > maxListItems:
		return ListOutput{}, apierr.New(apierr.InvalidParameterValue, "MaxItems %d: must be 1 to %d", limit, maxListItems)
	}
	names := s.names()
	start := 0
	if in.Marker != "" {
		start = sort.SearchStrings(names, in.Marker)
		if start < len(names) && names[start] == in.Marker {
			start++
		}
	}
	out := ListOutput{Functions: []FunctionConfiguration{}}
	s.mu.RLock()
	defer s.mu.RUnlock()
	for i := start; i < len(names) && len(out.Functions) < limit; i++ {
		if rec := s.fns[names[i]]; rec != nil {
			out.Functions = append(out.Functions, s.configuration(rec))
		}
	}
	if n := len(out.Functions); n == limit && start+n < len(names) {
		out.NextMarker = out.Functions[n-1].FunctionName
	}
	return out, nil
}

// UpdateFunctionCode replaces a function's code. With DryRun it checks
// the zip and changes nothing.
func (s *Service) UpdateFunctionCode(ctx context.Context, in UpdateCodeInput) (FunctionConfiguration, error) {
	old, err := s.get(in.FunctionName)
	if err != nil {
		return FunctionConfiguration{}, err
	}
	if _, err := architecture(in.Architectures, old.Architecture); err != nil {
		return FunctionConfiguration{}, err
	}
	zip, err := zipOf(in.ZipFile, in.S3Bucket, in.S3Key, in.ImageURI, old.Runtime)
	if err != nil {
		return FunctionConfiguration{}, err
	}
	if in.DryRun {
		if err := checkZip(zip, s.cfg.zip); err != nil {
			return FunctionConfiguration{}, err
		}
		return s.configuration(old), nil
	}
	code, err := s.unpackCode(old.Name, zip) // outside the lock, as in CreateFunction
	if err != nil {
		return FunctionConfiguration{}, err
	}
	out, err := s.update(ctx, old.Name, in.RevisionID, func(rec *record) error {
		if err := s.checkStorage(rec.Name, code.size); err != nil {
			return err
		}
		if len(in.Architectures) > 0 {
			rec.Architecture = in.Architectures[0]
		}
		code.apply(rec)
		return nil
	})
	if err != nil {
		s.removeCode(code.dir) // update removes it only once it is the record's
	}
	return out, err
}

// UpdateFunctionConfiguration changes the members in gives.
func (s *Service) UpdateFunctionConfiguration(ctx context.Context, in UpdateConfigInput) (FunctionConfiguration, error) {
	old, err := s.get(in.FunctionName)
	if err != nil {
		return FunctionConfiguration{}, err
	}
	if err := refuseUnserved("", in.Layers, in.FileSystemConfigs); err != nil {
		return FunctionConfiguration{}, err
	}
	return s.update(ctx, old.Name, in.RevisionID, func(rec *record) error {
		set(&rec.Role, in.Role)
		set(&rec.Handler, in.Handler)
		set(&rec.Description, in.Description)
		set(&rec.Timeout, in.Timeout)
		set(&rec.MemorySize, in.MemorySize)
		set(&rec.Runtime, in.Runtime)
		if in.Environment != nil {
			rec.Environment = in.Environment.Variables
		}
		if err := validateConfig(rec); err != nil {
			return err
		}
		if rec.Runtime != RuntimeHTTP && rec.CodeDir == "" {
			return apierr.New(apierr.InvalidParameterValue,
				"function %s has no code: give it a zip with UpdateFunctionCode before changing its runtime to %s", rec.Name, rec.Runtime)
		}
		return nil
	})
}

func set[T any](dst *T, v *T) {
	if v != nil {
		*dst = *v
	}
}

// update changes a copy of the function's record with change, under a
// new RevisionId, commits it and retires the function's instances. A
// RevisionId given must be the function's current one.
func (s *Service) update(ctx context.Context, name, revision string, change func(*record) error) (FunctionConfiguration, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	old := s.fns[name]
	if old == nil {
		return FunctionConfiguration{}, apierr.New(apierr.ResourceNotFound, "Function not found: %s", s.ARN(name))
	}
	if revision != "" && revision != old.RevisionID {
		return FunctionConfiguration{}, apierr.New(PreconditionFailed,
			"The Revision Id provided does not match the latest Revision Id. Call the GetFunction/GetAlias API to retrieve the latest Revision Id")
	}
	rec := old.clone()
	if err := change(rec); err != nil {
		if rec.CodeDir != old.CodeDir {
			s.removeCode(rec.CodeDir)
		}
		return FunctionConfiguration{}, err
	}
	rec.RevisionID = uuid.NewString()
	rec.LastModified = s.now()
	if err := s.put(ctx, name, old, rec); err != nil {
		if rec.CodeDir != old.CodeDir {
			s.removeCode(rec.CodeDir)
		}
		return FunctionConfiguration{}, err
	}
	s.exec.Retire(s.ARN(name))
	if rec.CodeDir != old.CodeDir {
		s.removeCode(old.CodeDir)
	}
	return s.configuration(rec), nil
}

// DeleteFunction deletes a function, its code and its tags, and retires
// its instances. A qualifier is refused: Spate has only $LATEST, which
// AWS does not delete apart from its function.
func (s *Service) DeleteFunction(ctx context.Context, function, qualifier string) error {
	rec, err := s.get(function)
	if err != nil {
		return err
	}
	if qualifier == LatestVersion {
		return apierr.New(apierr.InvalidParameterValue, "$LATEST version cannot be deleted without deleting the function.")
	}
	if qualifier != "" {
		return apierr.New(apierr.ResourceNotFound, "Function not found: %s:%s (Spate keeps only $LATEST)", s.ARN(rec.Name), qualifier)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	old := s.fns[rec.Name]
	if old == nil {
		return apierr.New(apierr.ResourceNotFound, "Function not found: %s", s.ARN(rec.Name))
	}
	if err := s.put(ctx, rec.Name, old, nil); err != nil {
		return err
	}
	s.exec.Retire(s.ARN(rec.Name))
	s.metrics.forget(rec.Name)
	s.removeCode(old.CodeDir)
	_ = os.Remove(filepath.Join(s.cfg.codeRoot, rec.Name)) // empty now, or left to the next sweep
	return nil
}

// PutFunctionConcurrency reserves n concurrent executions for the
// function (0 throttles every invocation). Spate does not take reserved
// concurrency from a shared pool: each function without a reservation may
// run the server's unreserved limit at once.
func (s *Service) PutFunctionConcurrency(ctx context.Context, function string, n *int) (int, error) {
	if n == nil {
		return 0, apierr.New(apierr.InvalidParameterValue, "ReservedConcurrentExecutions is required")
	}
	if *n < 0 || *n > MaxReservedConcurrency {
		return 0, apierr.New(apierr.InvalidParameterValue,
			"ReservedConcurrentExecutions %d: must be 0 to %d", *n, MaxReservedConcurrency)
	}
	v := *n
	_, err := s.change(ctx, function, func(rec *record) error { rec.Reserved = &v; return nil })
	return v, err
}

// GetFunctionConcurrency returns the function's reserved concurrency, nil
// when it has none.
func (s *Service) GetFunctionConcurrency(ctx context.Context, function string) (*int, error) {
	rec, err := s.get(function)
	if err != nil {
		return nil, err
	}
	return rec.Reserved, nil
}

// DeleteFunctionConcurrency removes the function's reservation.
func (s *Service) DeleteFunctionConcurrency(ctx context.Context, function string) error {
	_, err := s.change(ctx, function, func(rec *record) error { rec.Reserved = nil; return nil })
	return err
}

// TagResource adds or replaces tags of a function (by ARN).
func (s *Service) TagResource(ctx context.Context, resource string, tags map[string]string) error {
	if len(tags) == 0 {
		return apierr.New(apierr.InvalidParameterValue, "Tags is required: give at least one tag")
	}
	name, err := s.taggable(resource)
	if err != nil {
		return err
	}
	_, err = s.change(ctx, name, func(rec *record) error {
		rec.Tags = MergeTags(rec.Tags, tags)
		return ValidateTags(rec.Tags)
	})
	return err
}

// UntagResource removes tags of a function (by ARN).
func (s *Service) UntagResource(ctx context.Context, resource string, keys []string) error {
	if len(keys) == 0 {
		return apierr.New(apierr.InvalidParameterValue, "TagKeys is required: give at least one key")
	}
	name, err := s.taggable(resource)
	if err != nil {
		return err
	}
	_, err = s.change(ctx, name, func(rec *record) error {
		rec.Tags = RemoveTags(rec.Tags, keys)
		return nil
	})
	return err
}

// ListTags returns the tags of a function (by ARN).
func (s *Service) ListTags(ctx context.Context, resource string) (map[string]string, error) {
	name, err := s.taggable(resource)
	if err != nil {
		return nil, err
	}
	rec, err := s.get(name)
	if err != nil {
		return nil, err
	}
	if rec.Tags == nil {
		return map[string]string{}, nil
	}
	return rec.Tags, nil
}

// taggable returns the function name of a tagging call's resource: the
// function's unqualified ARN.
func (s *Service) taggable(resource string) (string, error) {
	if !strings.HasPrefix(resource, "arn:") || !strings.Contains(resource, ":function:") {
		return "", apierr.New(apierr.InvalidParameterValue,
			"Resource %q: give a function's ARN (arn:aws:lambda:REGION:ACCOUNT:function:NAME); Spate tags functions only", clip(resource))
	}
	r, err := s.resolve(resource)
	if err != nil {
		return "", err
	}
	if r.Qualifier != "" {
		return "", apierr.New(apierr.InvalidParameterValue, "Resource %q: tags belong to the function; give its ARN without a qualifier", clip(resource))
	}
	return r.Name, nil
}

// change applies a change to the function's record that neither bumps
// its RevisionId nor retires instances (tags, concurrency: AWS keeps the
// RevisionId for both), except that a concurrency change must reach the
// executor, so instances are retired when Reserved changed.
func (s *Service) change(ctx context.Context, function string, f func(*record) error) (*record, error) {
	cur, err := s.get(function)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	old := s.fns[cur.Name]
	if old == nil {
		return nil, apierr.New(apierr.ResourceNotFound, "Function not found: %s", s.ARN(cur.Name))
	}
	rec := old.clone()
	if err := f(rec); err != nil {
		return nil, err
	}
	if err := s.put(ctx, rec.Name, old, rec); err != nil {
		return nil, err
	}
	if !sameReserved(old.Reserved, rec.Reserved) {
		s.exec.Retire(s.ARN(rec.Name))
	}
	return rec, nil
}

func sameReserved(a, b *int) bool {
	return (a == nil) == (b == nil) && (a == nil || *a == *b)
}

// GetAccountSettings reports the limits and the functions' usage.
func (s *Service) GetAccountSettings(ctx context.Context) (AccountSettings, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	var total int64
	for _, r := range s.fns {
		total += r.CodeSize
	}
	return AccountSettings{
		AccountLimit: AccountLimit{TotalCodeSize: s.cfg.codeStorage, CodeSizeUnzipped: MaxUnzippedBytes,
			CodeSizeZipped: MaxZipBytes, ConcurrentExecutions: s.cfg.unreserved, UnreservedConcurrentExecutions: s.cfg.unreserved},
		AccountUsage: AccountUsage{TotalCodeSize: total, FunctionCount: int64(len(s.fns))},
	}, nil
}

// checkStorage refuses a zip that would take the functions' zips over the
// code storage limit. The caller holds s.mu.
func (s *Service) checkStorage(name string, size int64) error {
	var total int64
	for n, r := range s.fns {
		if n != name {
			total += r.CodeSize
		}
	}
	if total+size > s.cfg.codeStorage {
		return apierr.New(apierr.CodeStorageExceeded,
			"Code storage limit exceeded: the functions' code would take %d bytes, over the %d-byte limit; delete functions first", total+size, s.cfg.codeStorage)
	}
	return nil
}

// codeRevision is a zip unpacked as a new revision of a function's code.
type codeRevision struct {
	sha256         string
	size, unzipped int64
	dir            string // relative to the code root; "" for no code
}

// unpackCode unzips zip as a new revision of function name's code (an
// empty zip is no code). The caller removes its directory if the revision
// is not committed.
func (s *Service) unpackCode(name string, zip []byte) (codeRevision, error) {
	sum := sha256.Sum256(zip)
	c := codeRevision{sha256: base64.StdEncoding.EncodeToString(sum[:]), size: int64(len(zip))}
	if len(zip) == 0 {
		return c, nil
	}
	rel := filepath.Join(name, uuid.NewString())
	n, err := unzip(zip, filepath.Join(s.cfg.codeRoot, rel), s.cfg.zip)
	if err != nil {
		return codeRevision{}, err
	}
	c.dir, c.unzipped = filepath.ToSlash(rel), n
	return c, nil
}

// apply points rec at the revision.
func (c codeRevision) apply(rec *record) {
	rec.CodeSha256, rec.CodeSize, rec.CodeDir, rec.UnzippedSize = c.sha256, c.size, c.dir, c.unzipped
}

// removeCode removes a revision's code directory ("" is none), or, while
// invocations hold it (pinned), leaves that to the last of them.
func (s *Service) removeCode(rel string) {
	if rel == "" {
		return
	}
	s.pinMu.Lock()
	held := s.pins[rel] > 0
	if held {
		s.doomed[rel] = true
	}
	s.pinMu.Unlock()
	if !held {
		s.removeDir(rel)
	}
}

func (s *Service) removeDir(rel string) {
	if err := os.RemoveAll(filepath.Join(s.cfg.codeRoot, filepath.FromSlash(rel))); err != nil {
		s.cfg.logger.Warn("functions: remove old code", "dir", rel, "err", err)
	}
}

// configuration is rec as the API reports it.
func (s *Service) configuration(rec *record) FunctionConfiguration {
	c := FunctionConfiguration{
		FunctionName: rec.Name, FunctionArn: s.ARN(rec.Name), Runtime: rec.Runtime, Role: rec.Role,
		Handler: rec.Handler, CodeSize: rec.CodeSize, Description: rec.Description, Timeout: rec.Timeout,
		MemorySize: rec.MemorySize, LastModified: rec.LastModified.Format(lastModifiedLayout),
		CodeSha256: rec.CodeSha256, Version: LatestVersion, RevisionID: rec.RevisionID,
		State: "Active", LastUpdateStatus: "Successful", PackageType: "Zip",
		Architectures:    []string{rec.Architecture},
		TracingConfig:    &TracingConfig{Mode: "PassThrough"},
		EphemeralStorage: &EphemeralStorage{Size: 512},
		LoggingConfig:    &LoggingConfig{LogFormat: "Text", LogGroup: "/aws/lambda/" + rec.Name},
		SnapStart:        &SnapStartResponse{ApplyOn: "None", OptimizationStatus: "Off"},
	}
	if len(rec.Environment) > 0 {
		c.Environment = &Environment{Variables: rec.Environment}
	}
	return c
}

// clone copies a record for a change (maps are replaced, never changed in
// place, so they are shared).
func (r *record) clone() *record {
	c := *r
	return &c
}

// now is the clock's time, UTC to the millisecond (what LastModified
// shows, and what the stored record round-trips exactly).
func (s *Service) now() time.Time { return s.cfg.now().UTC().Truncate(time.Millisecond) }
