package kinesisapi

import "context"

// encryptionRequest is the input of StartStreamEncryption and
// StopStreamEncryption.
type encryptionRequest struct {
	streamRef
	EncryptionType *string `json:"EncryptionType"`
	KeyID          *string `json:"KeyId"`
}

func (h *handler) startStreamEncryption(ctx context.Context, in *encryptionRequest) (empty, error) {
	name, err := h.resolve(in.streamRef)
	if err != nil {
		return empty{}, err
	}
	return empty{}, h.store.StartEncryption(ctx, name, str(in.EncryptionType), str(in.KeyID))
}

func (h *handler) stopStreamEncryption(ctx context.Context, in *encryptionRequest) (empty, error) {
	name, err := h.resolve(in.streamRef)
	if err != nil {
		return empty{}, err
	}
	return empty{}, h.store.StopEncryption(ctx, name, str(in.EncryptionType), str(in.KeyID))
}
