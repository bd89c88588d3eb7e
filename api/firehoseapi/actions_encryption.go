package firehoseapi

import (
	"context"

	"github.com/spatehq/spate/firehose"
)

type startEncryptionRequest struct {
	DeliveryStreamName                         string                                 `json:"DeliveryStreamName"`
	DeliveryStreamEncryptionConfigurationInput *firehose.EncryptionConfigurationInput `json:"DeliveryStreamEncryptionConfigurationInput"`
}

type stopEncryptionRequest struct {
	DeliveryStreamName string `json:"DeliveryStreamName"`
}

func (h *handler) startDeliveryStreamEncryption(ctx context.Context, in *startEncryptionRequest) (empty, error) {
	return empty{}, h.svc.StartDeliveryStreamEncryption(ctx, in.DeliveryStreamName, in.DeliveryStreamEncryptionConfigurationInput)
}

func (h *handler) stopDeliveryStreamEncryption(ctx context.Context, in *stopEncryptionRequest) (empty, error) {
	return empty{}, h.svc.StopDeliveryStreamEncryption(ctx, in.DeliveryStreamName)
}
