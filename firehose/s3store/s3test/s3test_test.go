package s3test

import (
	"strings"
	"testing"

	"github.com/spatehq/spate/firehose/s3store"
)

func TestBucketName(t *testing.T) {
	tests := []string{
		"TestPutGetList",
		"TestMultipart/12_MiB_in_5_MiB_parts",
		"TestX/ünïcödé and spaces/--/",
		strings.Repeat("VeryLongTestName", 10),
		"/",
	}
	for _, test := range tests {
		t.Run(test, func(t *testing.T) {
			a, b := bucketName(test), bucketName(test)
			if err := s3store.ValidateBucketName(a); err != nil {
				t.Fatalf("bucketName(%q) = %q: %v", test, a, err)
			}
			if a == b {
				t.Fatalf("bucketName(%q) gave %q twice", test, a)
			}
		})
	}
}

func TestServerFromEnvironment(t *testing.T) {
	t.Setenv(EnvEndpoint, "http://127.0.0.1:9")
	t.Setenv(EnvAccessKey, "ak")
	t.Setenv(EnvSecretKey, "sk")
	t.Setenv(EnvRegion, "eu-west-1")
	want := s3store.Config{Endpoint: "http://127.0.0.1:9", AccessKey: "ak", SecretKey: "sk", Region: "eu-west-1"}
	if got := Server(t); got != want {
		t.Fatalf("Server = %+v, want %+v", got, want)
	}
	if shared.srv != nil {
		t.Fatal("Server started a server although the environment names one")
	}
}
