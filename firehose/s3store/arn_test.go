package s3store_test

import (
	"strings"
	"testing"

	"github.com/spatehq/spate/firehose/s3store"
)

func TestParseBucketARN(t *testing.T) {
	tests := []struct {
		arn     string
		want    string
		wantErr string // a substring of the error; "" means no error
	}{
		{arn: "arn:aws:s3:::my-bucket", want: "my-bucket"},
		{arn: "arn:aws:s3:::abc", want: "abc"},
		{arn: "arn:aws:s3:::logs.example.com", want: "logs.example.com"},
		{arn: "arn:aws-cn:s3:::my-bucket", want: "my-bucket"},
		{arn: "arn:aws-us-gov:s3:::my-bucket", want: "my-bucket"},
		{arn: "arn:aws:s3:::" + strings.Repeat("a", 63), want: strings.Repeat("a", 63)},
		{arn: "", wantErr: "not an ARN"},
		{arn: "my-bucket", wantErr: "not an ARN"},
		{arn: "s3://my-bucket", wantErr: "not an ARN"},
		{arn: "arn:aws:s3::my-bucket", wantErr: "not an ARN"},
		{arn: "arn::s3:::my-bucket", wantErr: "partition"},
		{arn: "arn:AWS:s3:::my-bucket", wantErr: "partition"},
		{arn: "arn:aws:kinesis:::my-bucket", wantErr: "not s3"},
		{arn: "arn:aws:s3:us-east-1::my-bucket", wantErr: "region or account"},
		{arn: "arn:aws:s3::123456789012:my-bucket", wantErr: "region or account"},
		{arn: "arn:aws:s3:::", wantErr: "0 characters"},
		{arn: "arn:aws:s3:::ab", wantErr: "2 characters"},
		{arn: "arn:aws:s3:::" + strings.Repeat("a", 64), wantErr: "64 characters"},
		{arn: "arn:aws:s3:::My-Bucket", wantErr: `'M'`},
		{arn: "arn:aws:s3:::my_bucket", wantErr: `'_'`},
		{arn: "arn:aws:s3:::my-bucket/prefix", wantErr: `'/'`},
		{arn: "arn:aws:s3:::-bucket", wantErr: "begin and end"},
		{arn: "arn:aws:s3:::bucket-", wantErr: "begin and end"},
		{arn: "arn:aws:s3:::.bucket", wantErr: "begin and end"},
		{arn: "arn:aws:s3:::my..bucket", wantErr: "adjacent periods"},
		{arn: "arn:aws:s3:::192.168.1.10", wantErr: "IP address"},
	}
	for _, tt := range tests {
		t.Run(tt.arn, func(t *testing.T) {
			got, err := s3store.ParseBucketARN(tt.arn)
			if tt.wantErr != "" {
				if err == nil {
					t.Fatalf("ParseBucketARN(%q) = %q, want an error", tt.arn, got)
				}
				if !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %q does not say %q", err, tt.wantErr)
				}
				if !strings.Contains(err.Error(), tt.arn) {
					t.Errorf("error %q does not quote the ARN", err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("ParseBucketARN(%q) = %q, %v; want %q", tt.arn, got, err, tt.want)
			}
		})
	}
}
