package functions

import (
	"context"
	"time"
)

// Runtimes Spate runs. A provided.* function's zip holds an executable
// "bootstrap" at its root (what aws-lambda-go's lambda.Start builds into);
// an HTTP-endpoint function is Spate's own: each invocation POSTs the event
// JSON to Config.Endpoint and takes a 2xx body as the response.
const (
	RuntimeProvidedAL2023 = "provided.al2023"
	RuntimeProvidedAL2    = "provided.al2"
	RuntimeHTTP           = "spate.http"
)

// LatestVersion is the only version Spate keeps of a function.
const LatestVersion = "$LATEST"

// Config is one revision of a function as its Executor needs it. The
// registry builds a fresh Config for each invocation; an Executor keeps an
// instance for exactly one RevisionID and retires it when a newer revision
// arrives.
type Config struct {
	Name       string
	ARN        string // unqualified: arn:aws:lambda:REGION:ACCOUNT:function:NAME
	Version    string // LatestVersion
	Runtime    string // one of the Runtime* constants
	Handler    string
	Timeout    time.Duration
	MemorySize int // MB, reported to the handler; not enforced
	// Environment is the function's own variables; the Executor adds
	// Lambda's reserved ones (AWS_LAMBDA_FUNCTION_NAME, ...) on top.
	Environment map[string]string
	// CodeDir holds the unzipped code of this revision (bootstrap at its
	// root). Read-only to the Executor.
	CodeDir    string
	CodeSha256 string // base64 SHA-256 of the zip, as Lambda reports it
	RevisionID string // changes with every code or configuration update
	// MaxConcurrency is how many invocations may run at once: the reserved
	// concurrency when one is set (0 throttles every invocation), otherwise
	// the server's unreserved limit.
	MaxConcurrency int
	// Endpoint is the URL an HTTP-endpoint function POSTs to.
	Endpoint string
}

// Invocation is one call of a function.
type Invocation struct {
	RequestID string // a UUID; the Executor passes it as Lambda-Runtime-Aws-Request-Id
	Payload   []byte // the event JSON
	// ClientContext is the X-Amz-Client-Context header (base64 JSON), passed
	// to the handler as Lambda-Runtime-Client-Context, decoded.
	ClientContext string
	// LogTail asks for the last 4 KB of the invocation's log in Result.LogTail.
	LogTail bool
}

// Result is what an invocation returned.
type Result struct {
	// Payload is the handler's response or, when FunctionError is set, the
	// error document Lambda returns ({"errorMessage","errorType",...}).
	Payload []byte
	// FunctionError is "" on success and "Unhandled" when the handler
	// reported an error, crashed, or ran out of time (Lambda's
	// X-Amz-Function-Error header).
	FunctionError string
	LogTail       []byte
	// ExecutedVersion is the version that ran (LatestVersion).
	ExecutedVersion string
}

// Executor runs functions' code. package functions/runtime implements it.
type Executor interface {
	// Execute runs one invocation of fn and waits for its result, at most
	// fn.Timeout (then the instance is stopped and the Result says
	// "Task timed out"). A handler's failure is a Result with FunctionError,
	// not an error; an error is the invocation not running at all, as an
	// *apierr.Error: TooManyRequests when fn.MaxConcurrency invocations are
	// running, InvalidRuntime when the code cannot start, Service otherwise.
	Execute(ctx context.Context, fn Config, inv Invocation) (Result, error)
	// Retire stops the idle instances of the function with this ARN and
	// lets busy ones finish, then stops them: its code or configuration
	// changed, or it was deleted.
	Retire(functionARN string)
	// Close stops every instance.
	Close() error
}

// Invoker invokes functions by name: what event source mappings and
// Firehose transformations call. *Service implements it.
type Invoker interface {
	// FunctionARN resolves a function name, ARN or partial ARN (an optional
	// ":$LATEST" qualifier allowed) to the unqualified ARN, or answers
	// ResourceNotFoundException.
	FunctionARN(ctx context.Context, function string) (string, error)
	// Invoke calls the function synchronously (RequestResponse) with payload.
	Invoke(ctx context.Context, function string, payload []byte) (Result, error)
}
