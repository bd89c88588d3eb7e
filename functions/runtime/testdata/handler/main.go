// Command handler is the aws-lambda-go handler the runtime package's tests
// build into a bootstrap: the event's "op" says what it does.
package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"
)

type event struct {
	Op    string `json:"op"`
	Msg   string `json:"msg"`
	Size  int    `json:"size"`
	Wait  string `json:"wait"` // a file whose existence ends a "block"
	Lines int    `json:"lines"`
}

// PoisonError is a handler's own error type: aws-lambda-go reports its
// name as errorType.
type PoisonError struct{ Record string }

func (e *PoisonError) Error() string { return "poison record " + e.Record }

func handle(ctx context.Context, e event) (any, error) {
	fmt.Printf("handling %s\n", e.Op)
	switch e.Op {
	case "echo":
		return map[string]any{"msg": e.Msg, "pid": os.Getpid()}, nil
	case "error":
		return nil, &PoisonError{Record: e.Msg}
	case "panic":
		panic("boom")
	case "exit":
		os.Exit(3)
	case "sleep":
		time.Sleep(time.Hour)
	case "block":
		for {
			if _, err := os.Stat(e.Wait); err == nil {
				return map[string]any{"pid": os.Getpid()}, nil
			}
			time.Sleep(10 * time.Millisecond)
		}
	case "big":
		return strings.Repeat("x", e.Size), nil
	case "log":
		for i := range e.Lines {
			fmt.Fprintf(os.Stderr, "line %d %s\n", i, strings.Repeat("y", e.Size))
		}
		return map[string]any{"pid": os.Getpid()}, nil
	case "fork":
		cmd := exec.Command("sleep", "1000")
		if err := cmd.Start(); err != nil {
			return nil, err
		}
		return map[string]any{"pid": os.Getpid(), "child": cmd.Process.Pid}, nil
	case "forkhang":
		cmd := exec.Command("sleep", "1000")
		if err := cmd.Start(); err != nil {
			return nil, err
		}
		// Written whole, then renamed: a reader never sees half of it.
		if err := os.WriteFile(e.Wait+".tmp", []byte(fmt.Sprint(cmd.Process.Pid)), 0o600); err != nil {
			return nil, err
		}
		if err := os.Rename(e.Wait+".tmp", e.Wait); err != nil {
			return nil, err
		}
		time.Sleep(time.Hour)
	case "env":
		lc, _ := lambdacontext.FromContext(ctx)
		deadline, _ := ctx.Deadline()
		wd, _ := os.Getwd()
		env := map[string]string{}
		for _, kv := range os.Environ() {
			k, v, _ := strings.Cut(kv, "=")
			env[k] = v
		}
		return map[string]any{
			"env":          env,
			"functionName": lambdacontext.FunctionName,
			"memory":       lambdacontext.MemoryLimitInMB,
			"version":      lambdacontext.FunctionVersion,
			"logGroup":     lambdacontext.LogGroupName,
			"requestId":    lc.AwsRequestID,
			"arn":          lc.InvokedFunctionArn,
			"deadlineMs":   deadline.UnixMilli(),
			"clientCustom": lc.ClientContext.Custom,
			"wd":           wd,
		}, nil
	}
	return nil, errors.New("unknown op " + e.Op)
}

func main() {
	if addr := os.Getenv("PROBE"); addr != "" {
		// Not a runtime: a process knocking on a Runtime API.
		resp, err := http.Get("http://" + addr + "/probe")
		if err != nil {
			fmt.Print("refused")
			return
		}
		resp.Body.Close()
		fmt.Print(resp.Status)
		return
	}
	if msg := os.Getenv("INIT_ERROR"); msg != "" {
		// What a runtime does when it cannot initialize: report it, exit.
		url := "http://" + os.Getenv("AWS_LAMBDA_RUNTIME_API") + "/2018-06-01/runtime/init/error"
		req, _ := http.NewRequest(http.MethodPost, url, strings.NewReader(`{"errorMessage":"`+msg+`","errorType":"InitFailed"}`))
		req.Header.Set("Lambda-Runtime-Function-Error-Type", "Runtime.InitFailed")
		if resp, err := http.DefaultClient.Do(req); err == nil {
			resp.Body.Close()
		}
		os.Exit(1)
	}
	lambda.Start(handle)
}
