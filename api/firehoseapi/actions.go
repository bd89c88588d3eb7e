package firehoseapi

import (
	"context"
	"fmt"
	"time"

	"github.com/spatehq/spate/api/awsproto"
	"github.com/spatehq/spate/apierr"
	"github.com/spatehq/spate/firehose"
)

// The actions. Each receives a request that has passed model validation,
// converts it to the service's types, calls the service and converts the
// answer. Semantic checks (does the delivery stream exist, is the bucket
// ARN usable, is this processor supported, ...) belong to the service,
// which answers with apierr values.

func (h *handler) createDeliveryStream(ctx context.Context, in *createDeliveryStreamRequest) (createDeliveryStreamReply, error) {
	arn, err := h.svc.CreateDeliveryStream(ctx, in.CreateDeliveryStreamInput)
	if err != nil {
		return createDeliveryStreamReply{}, err
	}
	return createDeliveryStreamReply{DeliveryStreamARN: arn}, nil
}

func (h *handler) deleteDeliveryStream(ctx context.Context, in *deleteDeliveryStreamRequest) (empty, error) {
	return empty{}, h.svc.DeleteDeliveryStream(ctx, in.DeliveryStreamName)
}

func (h *handler) describeDeliveryStream(ctx context.Context, in *describeDeliveryStreamRequest) (describeDeliveryStreamReply, error) {
	d, err := h.svc.DescribeDeliveryStream(ctx, in.DeliveryStreamName)
	if err != nil {
		return describeDeliveryStreamReply{}, err
	}
	out := deliveryStreamDescription{
		DeliveryStreamName:   d.DeliveryStreamName,
		DeliveryStreamARN:    d.DeliveryStreamARN,
		DeliveryStreamStatus: d.DeliveryStreamStatus,
		DeliveryStreamType:   d.DeliveryStreamType,
		VersionID:            d.VersionId,
		CreateTimestamp:      epoch(d.CreateTimestamp),
		LastUpdateTimestamp:  epoch(d.LastUpdateTimestamp),
		HasMoreDestinations:  d.HasMoreDestinations,

		DeliveryStreamEncryptionConfiguration: d.DeliveryStreamEncryptionConfiguration,
	}
	if src := d.Source; src != nil && src.KinesisStreamSourceDescription != nil {
		k := src.KinesisStreamSourceDescription
		out.Source = &sourceDescription{KinesisStreamSourceDescription: &kinesisStreamSourceDescription{
			KinesisStreamARN:       k.KinesisStreamARN,
			RoleARN:                k.RoleARN,
			DeliveryStartTimestamp: epoch(k.DeliveryStartTimestamp),
		}}
	}
	for _, e := range d.DeliveryErrors {
		out.SpateDeliveryErrors = append(out.SpateDeliveryErrors, deliveryError{
			Timestamp: epoch(e.Timestamp), FirstTimestamp: epoch(e.FirstTimestamp), Destination: e.Destination,
			ErrorCode: e.ErrorCode, ErrorMessage: e.ErrorMessage, Count: e.Count,
		})
	}
	// Destinations are listed in DestinationId order; the page starts after
	// ExclusiveStartDestinationId and holds at most Limit of them.
	out.Destinations = make([]firehose.DestinationDescription, 0, len(d.Destinations))
	for _, dest := range d.Destinations {
		if dest.DestinationId <= in.ExclusiveStartDestinationID {
			continue
		}
		if in.Limit > 0 && len(out.Destinations) == in.Limit {
			out.HasMoreDestinations = true
			break
		}
		out.Destinations = append(out.Destinations, dest)
	}
	return describeDeliveryStreamReply{DeliveryStreamDescription: out}, nil
}

// epoch returns t as a reply timestamp, or nil when it is unset.
func epoch(t time.Time) *awsproto.EpochSeconds {
	if t.IsZero() {
		return nil
	}
	e := awsproto.EpochSeconds(t)
	return &e
}

func (h *handler) listDeliveryStreams(ctx context.Context, in *listDeliveryStreamsRequest) (listDeliveryStreamsReply, error) {
	names, more, err := h.svc.ListDeliveryStreams(ctx, in.Limit, in.DeliveryStreamType, in.ExclusiveStartDeliveryStreamName)
	if err != nil {
		return listDeliveryStreamsReply{}, err
	}
	if names == nil {
		names = []string{}
	}
	return listDeliveryStreamsReply{DeliveryStreamNames: names, HasMoreDeliveryStreams: more}, nil
}

func (h *handler) putRecord(ctx context.Context, in *putRecordRequest) (putRecordReply, error) {
	// A batch of one, for its Encrypted flag.
	out, err := h.svc.PutRecordBatch(ctx, *in.DeliveryStreamName, [][]byte{in.Record.Data})
	if err != nil {
		return putRecordReply{}, err
	}
	if len(out.RequestResponses) != 1 {
		return putRecordReply{}, fmt.Errorf("the service answered %d results for 1 record", len(out.RequestResponses))
	}
	if e := out.RequestResponses[0]; e.ErrorCode != "" {
		return putRecordReply{}, &apierr.Error{Code: apierr.Code(e.ErrorCode), Message: e.ErrorMessage}
	}
	return putRecordReply{RecordID: out.RequestResponses[0].RecordId, Encrypted: out.Encrypted}, nil
}

func (h *handler) putRecordBatch(ctx context.Context, in *putRecordBatchRequest) (putRecordBatchReply, error) {
	records := make([][]byte, len(in.Records))
	for i, r := range in.Records {
		records[i] = r.Data
	}
	out, err := h.svc.PutRecordBatch(ctx, *in.DeliveryStreamName, records)
	if err != nil {
		return putRecordBatchReply{}, err
	}
	if len(out.RequestResponses) != len(records) {
		// Not an apierr: a broken service invariant is an internal failure.
		return putRecordBatchReply{}, fmt.Errorf("the service answered %d results for %d records", len(out.RequestResponses), len(records))
	}
	reply := putRecordBatchReply{FailedPutCount: out.FailedPutCount, Encrypted: out.Encrypted, RequestResponses: make([]putRecordBatchResult, len(records))}
	for i, r := range out.RequestResponses {
		reply.RequestResponses[i] = putRecordBatchResult{RecordID: r.RecordId, ErrorCode: r.ErrorCode, ErrorMessage: r.ErrorMessage}
	}
	return reply, nil
}

func (h *handler) updateDestination(ctx context.Context, in *firehose.UpdateDestinationInput) (empty, error) {
	return empty{}, h.svc.UpdateDestination(ctx, *in)
}

func (h *handler) tagDeliveryStream(ctx context.Context, in *tagDeliveryStreamRequest) (empty, error) {
	return empty{}, h.svc.TagDeliveryStream(ctx, in.DeliveryStreamName, in.Tags)
}

func (h *handler) untagDeliveryStream(ctx context.Context, in *untagDeliveryStreamRequest) (empty, error) {
	return empty{}, h.svc.UntagDeliveryStream(ctx, in.DeliveryStreamName, in.TagKeys)
}

func (h *handler) listTagsForDeliveryStream(ctx context.Context, in *listTagsForDeliveryStreamRequest) (listTagsForDeliveryStreamReply, error) {
	tags, more, err := h.svc.ListTagsForDeliveryStream(ctx, in.DeliveryStreamName, in.ExclusiveStartTagKey, in.Limit)
	if err != nil {
		return listTagsForDeliveryStreamReply{}, err
	}
	if tags == nil {
		tags = []firehose.Tag{}
	}
	return listTagsForDeliveryStreamReply{Tags: tags, HasMoreTags: more}, nil
}
