package bench

import (
	"bytes"
	"encoding/json"
	"math"
	"os"
	"strings"
	"testing"

	"github.com/spatehq/spate/firehose/s3store"
	"github.com/spatehq/spate/firehose/s3store/s3test"
)

func TestMain(m *testing.M) { os.Exit(s3test.Main(m)) }

func TestRunFirehoseNoEndpoint(t *testing.T) {
	res, err := RunFirehose(t.Context(), QuickFirehoseConfig())
	if err != nil {
		t.Fatal(err)
	}
	if res.Status != ErrNoS3.Error() || !math.IsNaN(res.DeliveredMBPerSec) || len(res.DeliveredRounds) != 0 {
		t.Errorf("result = %+v, want status %q and no figures", res, ErrNoS3)
	}
}

// TestRunFirehose delivers two small rounds to a real S3 server and checks
// that every round finished (the delivered-bytes counter reached the data
// put) and the objects are in the bucket, not the speed.
func TestRunFirehose(t *testing.T) {
	cfg := QuickFirehoseConfig()
	cfg.S3 = s3test.Server(t)
	cfg.Bucket = s3test.Bucket(t, cfg.S3)
	cfg.Batches, cfg.Producers, cfg.Rounds, cfg.TmpDir = 3, 2, 2, t.TempDir()
	res, err := RunFirehose(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if res.Status != "" || len(res.DeliveredRounds) != 2 || len(res.GzipRounds) != 2 {
		t.Fatalf("result = %+v", res)
	}
	for i, x := range append(res.DeliveredRounds, res.GzipRounds...) {
		if math.IsNaN(x) || x <= 0 {
			t.Errorf("figure %d = %v, want positive", i, x)
		}
	}
	if res.MBPerRun < 1.2 || res.MBPerRun > 2 { // 3 x 500 records of about 1 KiB
		t.Errorf("MB per round = %.2f, want about 1.5", res.MBPerRun)
	}
	client, err := s3store.New(cfg.S3)
	if err != nil {
		t.Fatal(err)
	}
	objs, err := client.List(t.Context(), cfg.Bucket, "")
	if err != nil {
		t.Fatal(err)
	}
	prefixes := map[string]bool{}
	for _, o := range objs {
		if !strings.HasSuffix(o.Key, ".gz") {
			t.Errorf("object %s is not GZIP", o.Key)
		}
		prefixes[strings.SplitN(o.Key, "/", 2)[0]] = true
	}
	if len(prefixes) != 2 {
		t.Errorf("objects under %d prefixes, want one per round: %v", len(prefixes), objs)
	}
}

func TestFirehoseReport(t *testing.T) {
	for _, tc := range []struct {
		name    string
		res     FirehoseResult
		md      []string
		jsonHas map[string]any
	}{
		{
			name: "measured",
			res: FirehoseResult{Endpoint: "http://127.0.0.1:9000", MBPerRun: 8.4, Producers: 4, DeliveredMBPerSec: 30,
				GzipMBPerSec: 60, DeliveredRounds: []float64{30, 29, 31}, GzipRounds: []float64{60, 59, 61}},
			md: []string{
				"### Firehose: delivery to S3 with GZIP beside GZIP alone\n",
				"8.4 MB of ~1 KiB JSON log records per round (batches of 500, 4 producers), median of 3 rounds; S3 at http://127.0.0.1:9000.",
				"| PutRecordBatch → store → GZIP → S3 | 30.0 | 0.50x |",
				"| GZIP alone | 60.0 | |",
			},
			jsonHas: map[string]any{"target": "firehose-s3-gzip", "delivered_mb_per_sec": 30.0, "gzip_alone_mb_per_sec": 60.0,
				"delivered_over_gzip_alone": 0.5, "mb_per_round": 8.4, "producers": 4.0},
		},
		{
			name: "no endpoint",
			res:  FirehoseResult{Status: ErrNoS3.Error(), DeliveredMBPerSec: math.NaN(), GzipMBPerSec: math.NaN(), Producers: 4},
			md:   []string{"| PutRecordBatch to S3, GZIP | no S3 endpoint (run scripts/s3-server.sh start) |"},
			jsonHas: map[string]any{"target": "firehose-s3-gzip", "status": ErrNoS3.Error(), "delivered_mb_per_sec": nil,
				"gzip_alone_mb_per_sec": nil, "delivered_over_gzip_alone": nil, "mb_per_round": nil},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rep := Report{Firehose: &tc.res}
			var md bytes.Buffer
			if err := rep.Markdown(&md); err != nil {
				t.Fatal(err)
			}
			for _, want := range tc.md {
				if !strings.Contains(md.String(), want) {
					t.Errorf("Markdown lacks %q:\n%s", want, md.String())
				}
			}
			if strings.Contains(md.String(), "Analytics") {
				t.Errorf("Analytics section without Analytics results:\n%s", md.String())
			}
			var js bytes.Buffer
			if err := rep.JSONLines(&js); err != nil {
				t.Fatal(err)
			}
			var line map[string]any
			if err := json.Unmarshal(js.Bytes(), &line); err != nil {
				t.Fatalf("want exactly one JSON line: %v\n%s", err, js.String())
			}
			for k, want := range tc.jsonHas {
				if got, ok := line[k]; !ok || got != want {
					t.Errorf("%s = %v, want %v (line %s)", k, got, want, js.String())
				}
			}
		})
	}
}
