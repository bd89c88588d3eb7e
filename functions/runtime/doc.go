// Package runtime runs functions' code: it is the functions.Executor.
//
// A provided.* function runs as local processes, one per instance: the
// function's bootstrap, started with a clean environment (the function's
// variables and Lambda's reserved ones) in its own process group, talks to
// this package's implementation of the AWS Lambda Runtime API (version
// 2018-06-01) on a loopback listener of its own, exactly as it would talk to
// Lambda: GET /runtime/invocation/next, POST .../response and .../error,
// POST /runtime/init/error. A handler built with aws-lambda-go's lambda.Start
// (or any runtime interface client) runs unchanged. An instance serves one
// invocation at a time, stays warm for the next invocation of the same
// revision and stops after an idle while, on Retire or when a newer revision
// arrives. An HTTP-endpoint function (functions.RuntimeHTTP) is a POST of the
// event to its URL.
//
// The package does not store code or configuration (package functions
// does), nor speak the Lambda API (api/lambdaapi).
//
// Invariants: at most Config.MaxConcurrency invocations of a function run at
// once (and at most the account limit of all functions), and an instance
// never holds more than one; every process it starts is killed (with its
// process group) by timeout, Retire, an idle expiry or Close, and Close
// returns only when they have all exited; on Linux the kernel kills them
// too if Spate dies. Memory is bounded per instance: one request or
// response body of at most 6 MB at a time, log lines cut at 64 KB, a 4 KB
// log tail per invocation; what goes on to Spate's log is rate-limited per
// instance (a 4 MB burst, then 1 MB/s; the rest is counted and dropped).
//
// Files: manager.go keeps the instances and the concurrency slots,
// invoke.go runs one invocation, instance.go starts and stops a process,
// api.go is the Runtime API, logs.go and output_*.go read the output,
// endpoint.go calls HTTP-endpoint functions.
//
// An instance's Runtime API listens on 127.0.0.1 and, on Linux, refuses
// connections from other users' processes (the owner of the peer socket in
// /proc/net/tcp); a process of Spate's own user could still reach it.
//
// Not enforced: the memory setting (it is passed to the handler and reported
// in the REPORT line beside the peak resident memory, but not applied as a
// limit), and isolation: an instance runs as Spate's user with access to what
// that user can reach, and a process that leaves its process group (setsid)
// escapes the kill.
package runtime
