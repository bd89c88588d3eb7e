package drivers

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"

	"github.com/spatehq/spate/bench"
)

// kinesaliteJS starts kinesalite on 127.0.0.1 (its own launcher binds every
// interface and has no host option) with its LevelDB on disk and streams
// that are ACTIVE at once, and prints the port it bound. Arguments: the
// kinesalite module directory, the data directory.
const kinesaliteJS = `
const kinesalite = require(process.argv[1]);
const server = kinesalite({path: process.argv[2], createStreamMs: 0, deleteStreamMs: 0, updateStreamMs: 0, shardLimit: 1000});
server.listen(0, '127.0.0.1', () => console.log('PORT ' + server.address().port));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
`

var kinesalitePortRE = regexp.MustCompile(`PORT (\d+)`)

// kinesalite drives kinesalite, installed by scripts/bench-peers.sh into
// dir, with the same SDK code as self-http. kinesalite does not fsync, so
// its durable and relaxed columns measure the same thing.
type kinesalite struct {
	dir      string // .tools/kinesalite
	tmpDir   string
	w        bench.Workload
	data     string
	proc     *process
	endpoint string
}

var _ bench.Driver = (*kinesalite)(nil)

func (d *kinesalite) Name() string { return "kinesalite" }

func (d *kinesalite) module() string { return filepath.Join(d.dir, "node_modules", "kinesalite") }

func (d *kinesalite) Available() error {
	if _, err := os.Stat(filepath.Join(d.module(), "index.js")); err != nil {
		return bench.ErrNotInstalled
	}
	return nil
}

func (d *kinesalite) Setup(ctx context.Context, w bench.Workload) error {
	d.w = w
	data, err := os.MkdirTemp(d.tmpDir, "spate-bench-kinesalite-*")
	if err != nil {
		return err
	}
	d.data = data
	if d.proc, err = startProcess("node", "-e", kinesaliteJS, d.module(), filepath.Join(data, "db")); err != nil {
		return err
	}
	if err := d.proc.waitReady(ctx, func() error {
		m := kinesalitePortRE.FindStringSubmatch(d.proc.out.String())
		if m == nil {
			return fmt.Errorf("no port yet")
		}
		d.endpoint = "http://127.0.0.1:" + m[1]
		return nil
	}); err != nil {
		return fmt.Errorf("kinesalite: %w", err)
	}
	c := newSDKClient(d.endpoint, w.Shards, false)
	defer c.Close()
	if _, err := c.c.CreateStream(ctx, &kinesis.CreateStreamInput{StreamName: aws.String(streamName), ShardCount: aws.Int32(int32(w.Shards))}); err != nil {
		return fmt.Errorf("create stream: %w", err)
	}
	for {
		out, err := c.c.DescribeStreamSummary(ctx, &kinesis.DescribeStreamSummaryInput{StreamName: aws.String(streamName)})
		if err != nil {
			return fmt.Errorf("describe stream: %w", err)
		}
		if out.StreamDescriptionSummary.StreamStatus == types.StreamStatusActive {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(10 * time.Millisecond):
		}
	}
}

func (d *kinesalite) Close() error {
	d.proc.stop()
	var err error
	if d.data != "" {
		err = os.RemoveAll(d.data)
	}
	d.proc, d.data = nil, ""
	return err
}

func (d *kinesalite) client() *sdkClient { return newSDKClient(d.endpoint, d.w.Shards, false) }

func (d *kinesalite) Producer(ctx context.Context) (bench.Producer, error) { return d.client(), nil }

func (d *kinesalite) Tail(ctx context.Context, fn func([]byte)) (func() error, error) {
	return d.client().tail(ctx, fn)
}

func (d *kinesalite) CatchUp(ctx context.Context, want int) (int, error) {
	return d.client().catchUp(ctx, want)
}
