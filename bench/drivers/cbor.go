package drivers

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/fxamacker/cbor/v2"

	"github.com/spatehq/spate/bench"
	"github.com/spatehq/spate/shard"
)

// cborClient speaks AWS CBOR 1.1 to a Kinesis endpoint over HTTP/1.1, as
// the AWS SDK for Java does by default (aws-sdk-go-v2 has no CBOR): the
// same four actions as sdkClient, with blobs as byte strings. Requests are
// unsigned; Spate without --credentials takes them.
type cborClient struct {
	endpoint  string
	hc        *http.Client
	transport *http.Transport
	n         atomic.Uint64
	replies   sync.Pool // *cborRecordsReply
}

var _ bench.Producer = (*cborClient)(nil)

func newCBORClient(endpoint string) *cborClient {
	tr := newBenchTransport(false)
	return &cborClient{endpoint: endpoint, hc: &http.Client{Transport: tr}, transport: tr}
}

type cborPutRecord struct {
	StreamName   string `cbor:"StreamName"`
	Data         []byte `cbor:"Data"`
	PartitionKey string `cbor:"PartitionKey"`
}

type cborPutRecordsEntry struct {
	Data         []byte `cbor:"Data"`
	PartitionKey string `cbor:"PartitionKey"`
}

type cborPutRecords struct {
	StreamName string                `cbor:"StreamName"`
	Records    []cborPutRecordsEntry `cbor:"Records"`
}

type cborPutRecordsOut struct {
	FailedRecordCount int `cbor:"FailedRecordCount"`
}

type cborGetShardIterator struct {
	StreamName        string `cbor:"StreamName"`
	ShardID           string `cbor:"ShardId"`
	ShardIteratorType string `cbor:"ShardIteratorType"`
}

type cborGetShardIteratorOut struct {
	ShardIterator *string `cbor:"ShardIterator"`
}

type cborGetRecords struct {
	ShardIterator string `cbor:"ShardIterator"`
	Limit         int    `cbor:"Limit"`
}

// cborGetRecordsOut decodes every member of every record, as a client
// hands them to its user (the Java SDK's Record has them all), so that the
// client does no less work than a real one. cborRecordsReply decodes the
// same without reflection, and falls back to it.
type cborGetRecordsOut struct {
	Records []struct {
		SequenceNumber              string   `cbor:"SequenceNumber"`
		ApproximateArrivalTimestamp cborTime `cbor:"ApproximateArrivalTimestamp"`
		Data                        []byte   `cbor:"Data"`
		PartitionKey                string   `cbor:"PartitionKey"`
		EncryptionType              string   `cbor:"EncryptionType"`
	} `cbor:"Records"`
	NextShardIterator  *string `cbor:"NextShardIterator"`
	MillisBehindLatest int64   `cbor:"MillisBehindLatest"`
}

// cborTime is an AWS CBOR timestamp: tag 1 (epoch) holding milliseconds.
type cborTime time.Time

func (t *cborTime) UnmarshalCBOR(b []byte) error {
	if len(b) == 0 || b[0] != 0xc1 {
		return fmt.Errorf("timestamp: want tag 1, got %x", b)
	}
	var ms int64
	if err := cbor.Unmarshal(b[1:], &ms); err != nil {
		return fmt.Errorf("timestamp: %w", err)
	}
	*t = cborTime(time.UnixMilli(ms))
	return nil
}

type cborError struct {
	Type    string `cbor:"__type"`
	Message string `cbor:"message"`
}

// call sends action with in and decodes the reply into out.
func (c *cborClient) call(ctx context.Context, action string, in, out any) error {
	resp, err := c.post(ctx, action, in)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return fmt.Errorf("%s: %w", action, err)
	}
	if err := cbor.Unmarshal(raw, out); err != nil {
		return fmt.Errorf("%s: decode the reply: %w", action, err)
	}
	return nil
}

// post sends action with in and returns the reply when it is a success;
// the caller closes its body.
func (c *cborClient) post(ctx context.Context, action string, in any) (*http.Response, error) {
	body, err := cbor.Marshal(in)
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.endpoint+"/", bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/x-amz-cbor-1.1")
	req.Header.Set("X-Amz-Target", "Kinesis_20131202."+action)
	resp, err := c.hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", action, err)
	}
	if resp.StatusCode != http.StatusOK {
		defer resp.Body.Close()
		raw, err := io.ReadAll(resp.Body)
		if err != nil {
			return nil, fmt.Errorf("%s: %s: %w", action, resp.Status, err)
		}
		var e cborError
		_ = cbor.Unmarshal(raw, &e)
		return nil, fmt.Errorf("%s: %s %s: %s", action, resp.Status, e.Type, e.Message)
	}
	return resp, nil
}

func (c *cborClient) Put(ctx context.Context, records [][]byte) error {
	base := c.n.Add(uint64(len(records)))
	if len(records) == 1 {
		var out struct{}
		return c.call(ctx, "PutRecord", cborPutRecord{StreamName: streamName, Data: records[0], PartitionKey: partitionKey(base)}, &out)
	}
	in := cborPutRecords{StreamName: streamName, Records: make([]cborPutRecordsEntry, len(records))}
	for i, r := range records {
		in.Records[i] = cborPutRecordsEntry{Data: r, PartitionKey: partitionKey(base + uint64(i))}
	}
	var out cborPutRecordsOut
	if err := c.call(ctx, "PutRecords", in, &out); err != nil {
		return err
	}
	if out.FailedRecordCount > 0 {
		return fmt.Errorf("PutRecords: %d of %d records failed", out.FailedRecordCount, len(records))
	}
	return nil
}

func (c *cborClient) Close() error {
	c.transport.CloseIdleConnections()
	return nil
}

func (c *cborClient) iterator(ctx context.Context, i int) (*string, error) {
	var out cborGetShardIteratorOut
	err := c.call(ctx, "GetShardIterator", cborGetShardIterator{
		StreamName: streamName, ShardID: shard.ShardID(uint32(i)), ShardIteratorType: "TRIM_HORIZON",
	}, &out)
	return out.ShardIterator, err
}

// getRecords reads a reply into a cborRecordsReply from the client's pool:
// one per reader at a time, its buffers reused from call to call.
func (c *cborClient) getRecords(ctx context.Context, it *string, fn func([]byte)) (int, *string, error) {
	resp, err := c.post(ctx, "GetRecords", cborGetRecords{ShardIterator: *it, Limit: shard.MaxGetRecordsLimit})
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	out, _ := c.replies.Get().(*cborRecordsReply)
	if out == nil {
		out = new(cborRecordsReply)
	}
	defer c.replies.Put(out)
	if err := out.read(resp.Body, resp.ContentLength); err != nil {
		return 0, nil, fmt.Errorf("GetRecords: decode the reply: %w", err)
	}
	for _, r := range out.Records {
		fn(r.Data)
	}
	return len(out.Records), out.NextShardIterator, nil
}
