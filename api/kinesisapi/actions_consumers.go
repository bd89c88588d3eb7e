package kinesisapi

import (
	"context"
	"time"

	"github.com/spatehq/spate/api/awsproto"
	"github.com/spatehq/spate/shard"
)

// The stream-consumer registry of enhanced fan-out (issue 13):
// RegisterStreamConsumer, DescribeStreamConsumer, ListStreamConsumers and
// DeregisterStreamConsumer. SubscribeToShard is in subscribe.go.

// consumerStore is what these actions need of the store.
type consumerStore interface {
	RegisterStreamConsumer(ctx context.Context, streamARN, name string, tags map[string]string) (shard.Consumer, error)
	DescribeStreamConsumer(ctx context.Context, ref shard.ConsumerRef) (shard.Consumer, error)
	DeregisterStreamConsumer(ctx context.Context, ref shard.ConsumerRef) error
	ListStreamConsumers(ctx context.Context, in shard.ListConsumersInput) (shard.ListConsumersOutput, error)
	DeleteStreamWithConsumers(ctx context.Context, name string, enforceConsumerDeletion bool) error
}

// consumerOperations are the actions of this file, for NewHandler.
func (h *handler) consumerOperations() []*awsproto.Operation {
	return []*awsproto.Operation{
		awsproto.Action("DeregisterStreamConsumer", h.deregisterStreamConsumer),
		awsproto.Action("DescribeStreamConsumer", h.describeStreamConsumer),
		awsproto.Action("ListStreamConsumers", h.listStreamConsumers),
		awsproto.Action("RegisterStreamConsumer", h.registerStreamConsumer),
	}
}

// Request and reply structs (see wire.go for the conventions). StreamId
// is reserved by AWS and ignored.

type registerStreamConsumerRequest struct {
	StreamARN    *string           `json:"StreamARN"`
	ConsumerName *string           `json:"ConsumerName"`
	StreamID     *string           `json:"StreamId"`
	Tags         map[string]string `json:"Tags"`
}

// consumerRefIn names a consumer: ConsumerARN, or StreamARN and ConsumerName.
type consumerRefIn struct {
	StreamARN    *string `json:"StreamARN"`
	ConsumerName *string `json:"ConsumerName"`
	ConsumerARN  *string `json:"ConsumerARN"`
	StreamID     *string `json:"StreamId"`
}

func (r consumerRefIn) ref() shard.ConsumerRef {
	return shard.ConsumerRef{StreamARN: str(r.StreamARN), ConsumerName: str(r.ConsumerName), ConsumerARN: str(r.ConsumerARN)}
}

type describeStreamConsumerRequest struct{ consumerRefIn }

type deregisterStreamConsumerRequest struct{ consumerRefIn }

type listStreamConsumersRequest struct {
	StreamARN               *string                `json:"StreamARN"`
	NextToken               *string                `json:"NextToken"`
	MaxResults              *int32                 `json:"MaxResults"`
	StreamCreationTimestamp *awsproto.EpochSeconds `json:"StreamCreationTimestamp"`
	StreamID                *string                `json:"StreamId"`
}

type consumerOut struct {
	ConsumerName              string                `json:"ConsumerName"`
	ConsumerARN               string                `json:"ConsumerARN"`
	ConsumerStatus            string                `json:"ConsumerStatus"`
	ConsumerCreationTimestamp awsproto.EpochSeconds `json:"ConsumerCreationTimestamp"`
}

type consumerDescriptionOut struct {
	consumerOut
	StreamARN string `json:"StreamARN"`
}

type registerStreamConsumerReply struct {
	Consumer consumerOut `json:"Consumer"`
}

type describeStreamConsumerReply struct {
	ConsumerDescription consumerDescriptionOut `json:"ConsumerDescription"`
}

type listStreamConsumersReply struct {
	Consumers []consumerOut `json:"Consumers"`
	NextToken string        `json:"NextToken,omitempty"`
}

func toConsumerOut(c shard.Consumer) consumerOut {
	return consumerOut{
		ConsumerName: c.Name, ConsumerARN: c.ARN, ConsumerStatus: string(c.Status),
		ConsumerCreationTimestamp: awsproto.EpochSeconds(c.CreatedAt),
	}
}

// The actions.

func (h *handler) registerStreamConsumer(ctx context.Context, in *registerStreamConsumerRequest) (registerStreamConsumerReply, error) {
	c, err := h.store.RegisterStreamConsumer(ctx, str(in.StreamARN), str(in.ConsumerName), in.Tags)
	if err != nil {
		return registerStreamConsumerReply{}, err
	}
	return registerStreamConsumerReply{Consumer: toConsumerOut(c)}, nil
}

func (h *handler) describeStreamConsumer(ctx context.Context, in *describeStreamConsumerRequest) (describeStreamConsumerReply, error) {
	c, err := h.store.DescribeStreamConsumer(ctx, in.ref())
	if err != nil {
		return describeStreamConsumerReply{}, err
	}
	return describeStreamConsumerReply{ConsumerDescription: consumerDescriptionOut{consumerOut: toConsumerOut(c), StreamARN: c.StreamARN}}, nil
}

func (h *handler) deregisterStreamConsumer(ctx context.Context, in *deregisterStreamConsumerRequest) (empty, error) {
	// The ARN names the consumer's subscriptions, which end with it.
	c, describeErr := h.store.DescribeStreamConsumer(ctx, in.ref())
	if err := h.store.DeregisterStreamConsumer(ctx, in.ref()); err != nil {
		return empty{}, err
	}
	if describeErr == nil {
		h.fanOut.endConsumer(c.ARN)
	}
	return empty{}, nil
}

func (h *handler) listStreamConsumers(ctx context.Context, in *listStreamConsumersRequest) (listStreamConsumersReply, error) {
	q := shard.ListConsumersInput{StreamARN: str(in.StreamARN), NextToken: str(in.NextToken), MaxResults: num(in.MaxResults)}
	if in.StreamCreationTimestamp != nil {
		q.StreamCreatedAt = time.Time(*in.StreamCreationTimestamp)
	}
	out, err := h.store.ListStreamConsumers(ctx, q)
	if err != nil {
		return listStreamConsumersReply{}, err
	}
	reply := listStreamConsumersReply{Consumers: make([]consumerOut, len(out.Consumers)), NextToken: out.NextToken}
	for i, c := range out.Consumers {
		reply.Consumers[i] = toConsumerOut(c)
	}
	return reply, nil
}
