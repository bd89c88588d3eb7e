package integration

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"

	"github.com/spatehq/spate/apierr"
	"github.com/spatehq/spate/client"
)

// TestProducerAuth: against a server with --credentials, the Producer
// signs its calls (client.WithCredentials); it needs kinesis:ListShards
// and kinesis:PutRecords on the stream, and a record it may not put fails
// with AccessDeniedException.
func TestProducerAuth(t *testing.T) {
	t.Parallel()
	const creds = `[admin]
aws_access_key_id = AKIDADMIN
aws_secret_access_key = admin-secret

[producer]
aws_access_key_id = AKIDPRODUCER
aws_secret_access_key = producer-secret

[putonly]
aws_access_key_id = AKIDPUTONLY
aws_secret_access_key = putonly-secret
`
	const policies = `{
  "admin": {"Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]},
  "producer": {"Statement": {"Effect": "Allow", "Action": ["kinesis:PutRecords", "kinesis:ListShards"], "Resource": "arn:aws:kinesis:us-east-1:000000000000:stream/w-*"}},
  "putonly": {"Statement": {"Effect": "Allow", "Action": "kinesis:PutRecords", "Resource": "*"}}
}`
	s := startAuthServerWith(t, creds, policies)
	ctx := testCtx(t)
	admin := &kin{srv: s.server, c: s.kinesisAs(t, "AKIDADMIN", "admin-secret")}
	for _, name := range []string{"w-orders", "secret"} {
		if _, err := admin.c.CreateStream(ctx, &kinesis.CreateStreamInput{StreamName: aws.String(name), ShardCount: aws.Int32(2)}); err != nil {
			t.Fatal(err)
		}
		admin.waitActive(ctx, t, name)
	}
	tests := []struct {
		name, id, secret, stream string
		want                     string // the error code of the record; "" stored
	}{
		{"allowed", "AKIDPRODUCER", "producer-secret", "w-orders", ""},
		{"another stream", "AKIDPRODUCER", "producer-secret", "secret", string(apierr.AccessDenied)},
		{"without ListShards", "AKIDPUTONLY", "putonly-secret", "w-orders", string(apierr.AccessDenied)},
		{"unknown key", "AKIDNOBODY", "nobody-secret", "w-orders", string(apierr.UnrecognizedClient)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := client.New(s.GRPCAddr, client.WithCredentials(tt.id, tt.secret, "us-east-1"))
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			p, err := client.NewProducer(c, tt.stream)
			if err != nil {
				t.Fatal(err)
			}
			_, seq, err := p.Put(ctx, "k", []byte("x")).Wait(ctx)
			if cerr := p.Close(ctx); cerr != nil {
				t.Fatal(cerr)
			}
			if tt.want == "" {
				if err != nil || seq == "" {
					t.Fatalf("Put: %q %v", seq, err)
				}
				return
			}
			if got := string(apierr.CodeOf(err)); got != tt.want {
				t.Fatalf("Put: %v (code %q), want %s", err, got, tt.want)
			}
		})
	}
}
