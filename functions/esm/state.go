package esm

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"

	"github.com/spatehq/spate/shard"
)

// valuesNS is the store value namespace of mappings, checkpoints and
// leases (see the package doc for the key layout).
const valuesNS = "esm"

func mappingKey(uuid string) string             { return "m/" + uuid }
func checkpointKey(uuid, shardID string) string { return "c/" + uuid + "/" + shardID }
func checkpointPrefix(uuid string) string       { return "c/" + uuid + "/" }
func leaseKey(uuid, shardID string) string      { return "l/" + uuid + "/" + shardID }
func leasePrefix(uuid string) string            { return "l/" + uuid + "/" }

// States of a mapping, as Lambda names them.
const (
	StateCreating  = "Creating"
	StateEnabled   = "Enabled"
	StateDisabled  = "Disabled"
	StateUpdating  = "Updating"
	StateDeleting  = "Deleting"
	StateEnabling  = "Enabling"
	StateDisabling = "Disabling"
)

// record is a mapping as stored ("m/" + UUID): the API view plus what the
// service needs to run it.
type record struct {
	Mapping Mapping `json:"mapping"`
	// Stream is the source stream's name and StreamID its store ID, so a
	// mapping never reads a later stream of the same name.
	Stream   string `json:"stream"`
	StreamID uint32 `json:"streamId"`
	// Enabled is what the user asked for; Mapping.State says how far the
	// service got.
	Enabled bool              `json:"enabled"`
	Tags    map[string]string `json:"tags,omitempty"`
	// Deleting is set by Delete; the mapping's pollers stop and its keys
	// go.
	Deleting bool `json:"deleting,omitempty"`
	// Revision grows with every change a user makes; the service records
	// a state it reached only if the revision is still the one it acted on.
	Revision int64 `json:"revision"`
}

// checkpoint is a shard's position in a mapping ("c/" + UUID + "/" +
// shard). Invariant: After only grows; it is written only by the holder of
// the shard's lease, expecting the lease (fencing).
type checkpoint struct {
	// After is the sequence number of the last record handled (invoked
	// successfully, filtered out or reported to the on-failure
	// destination); empty when none yet: then the mapping's
	// StartingPosition applies.
	After string `json:"after,omitempty"`
	// Next, used only while After is empty, is where the mapping's
	// StartingPosition (LATEST, AT_TIMESTAMP) put the shard when the
	// mapping was created: the first record to read (AT_SEQUENCE_NUMBER).
	Next string `json:"next,omitempty"`
	// Finished is set once the shard, closed by a reshard, is handled to
	// its end: its children may start.
	Finished bool `json:"finished,omitempty"`
	// Window is the open tumbling window, if any.
	Window *windowState `json:"window,omitempty"`
}

// windowState is a tumbling window's state between invocations.
type windowState struct {
	StartMs int64           `json:"startMs"`
	State   json.RawMessage `json:"state,omitempty"`
}

// lease is a shard's lease ("l/" + UUID + "/" + shard).
type lease struct {
	Owner     string `json:"owner"`
	Counter   uint64 `json:"counter"`
	ExpiresMs int64  `json:"expiresMs"`
}

// newUUID returns a random (version 4) UUID.
func newUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // never fails (crypto/rand's contract since Go 1.24)
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// loadRecord reads a mapping's record.
func (s *Service) loadRecord(uuid string) (record, []byte, bool, error) {
	v, ok, err := s.store.GetValue(valuesNS, mappingKey(uuid))
	if err != nil || !ok {
		return record{}, nil, ok, err
	}
	var r record
	if err := json.Unmarshal(v, &r); err != nil {
		return record{}, nil, false, fmt.Errorf("decode mapping %s: %w", uuid, err)
	}
	return r, v, true, nil
}

// loadRecords reads every mapping, in UUID order.
func (s *Service) loadRecords() ([]record, error) {
	var out []record
	err := s.store.ScanValues(valuesNS, "m/", func(key string, v []byte) error {
		var r record
		if err := json.Unmarshal(v, &r); err != nil {
			return fmt.Errorf("decode mapping %s: %w", key, err)
		}
		out = append(out, r)
		return nil
	})
	return out, err
}

// putRecord writes a mapping's record, expecting the value it was read
// with (prev nil: expecting none), so two concurrent changes cannot both
// win. A lost race is a ConditionFailed error.
func (s *Service) putRecord(ctx context.Context, r record, prev []byte) ([]byte, error) {
	v, err := json.Marshal(r)
	if err != nil {
		return nil, fmt.Errorf("encode mapping %s: %w", r.Mapping.UUID, err)
	}
	exp := shard.ValueExpect{Key: mappingKey(r.Mapping.UUID), Value: prev, Absent: prev == nil}
	_, err = s.store.Commit(ctx, shard.Commit{Namespace: valuesNS, Sync: true,
		Values: []shard.ValueWrite{{Key: mappingKey(r.Mapping.UUID), Value: v}}, Expect: []shard.ValueExpect{exp}})
	if err != nil {
		return nil, fmt.Errorf("save mapping %s: %w", r.Mapping.UUID, err)
	}
	return v, nil
}

// dropMapping deletes a mapping's record, checkpoints and leases.
func (s *Service) dropMapping(ctx context.Context, uuid string) error {
	writes := []shard.ValueWrite{{Key: mappingKey(uuid), Delete: true}}
	for _, p := range []string{checkpointPrefix(uuid), leasePrefix(uuid)} {
		err := s.store.ScanValues(valuesNS, p, func(key string, _ []byte) error {
			writes = append(writes, shard.ValueWrite{Key: key, Delete: true})
			return nil
		})
		if err != nil {
			return err
		}
	}
	_, err := s.store.Commit(ctx, shard.Commit{Namespace: valuesNS, Sync: true, Values: writes})
	if err != nil {
		return fmt.Errorf("delete mapping %s: %w", uuid, err)
	}
	return nil
}
