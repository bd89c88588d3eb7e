package kinesisapi

// moreResources names, for authorization, the stream of a GetRecords
// request: only its iterator names it. The other actions name theirs in
// StreamName, StreamARN, ConsumerARN or ResourceARN (Service.ResourceMembers).
func (h *handler) moreResources(action string, in any) ([]string, error) {
	req, ok := in.(*getRecordsRequest)
	if !ok || req.ShardIterator == nil {
		return nil, nil
	}
	name, err := h.store.IteratorStream(*req.ShardIterator)
	if err != nil {
		return nil, err
	}
	return []string{"stream/" + name}, nil
}
