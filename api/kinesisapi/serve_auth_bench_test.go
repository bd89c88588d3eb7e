package kinesisapi

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"github.com/spatehq/spate/api/awsproto"
	"github.com/spatehq/spate/auth"
)

// BenchmarkPutRecordsServeSigV4 is BenchmarkPutRecordsServe with the
// request signed (outside the timer is not possible per request, so the
// client's signing is included: about as much work as the verification).
func BenchmarkPutRecordsServeSigV4(b *testing.B) {
	keys, err := auth.ParseKeys([]byte("[bench]\naws_access_key_id = AKIDBENCH\naws_secret_access_key = secret\n"))
	if err != nil {
		b.Fatal(err)
	}
	g := auth.NewGuard(keys, nil, "us-east-1", "000000000000")
	h := newHandler(ackStore(), awsproto.WithGuard(g))
	signer := v4.NewSigner()
	creds := aws.Credentials{AccessKeyID: "AKIDBENCH", SecretAccessKey: "secret"}
	benchmarkPutRecordsServe(b, h, func(r *http.Request, body []byte) {
		sum := sha256.Sum256(body)
		if err := signer.SignHTTP(context.Background(), creds, r, hex.EncodeToString(sum[:]), "kinesis", "us-east-1", time.Now()); err != nil {
			b.Fatal(err)
		}
	})
}
