package shard

// IteratorStream returns the name of the stream a shard iterator reads, so
// that a request that names its stream only through an iterator
// (GetRecords) can be authorized before it runs. Its errors are the ones
// GetRecords answers the same iterator with: InvalidArgumentException for
// a forged or altered iterator, ExpiredIteratorException, and
// ResourceNotFoundException for a deleted stream.
func (s *Store) IteratorStream(iterator string) (string, error) {
	c, err := s.decodeIterator(iterator)
	if err != nil {
		return "", err
	}
	st, _, err := s.lookupCursor(c)
	if err != nil {
		return "", err
	}
	return st.name, nil
}
