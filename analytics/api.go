package analytics

import (
	"time"

	"github.com/spatehq/spate/analytics/value"
)

// Application statuses.
const (
	StatusStarting = "STARTING"
	StatusRunning  = "RUNNING"
	StatusStopped  = "STOPPED"
	StatusFailed   = "FAILED" // Error says why; Start retries
)

// Start positions of a new application's input (also `SET start_position`).
const (
	StartTrimHorizon = "TRIM_HORIZON" // the oldest retained record (the default)
	StartLatest      = "LATEST"       // records that arrive after the application starts
)

// CreateInput creates an application.
type CreateInput struct {
	// Name: 1 to 128 characters of [a-zA-Z0-9_.-].
	Name string
	// SQL is the script: SET statements, then one INSERT INTO ... SELECT or
	// one bare SELECT.
	SQL string
	// Temporary applications are not persisted and are deleted when the
	// last Results subscriber leaves (the CLI's `spate sql run`). They may
	// only be bare SELECTs.
	Temporary bool
}

// InputPosition is where an application is in one input shard.
type InputPosition struct {
	ShardID string `json:"shard_id"`
	// SequenceNumber is the last record consumed and checkpointed; empty
	// when none has been.
	SequenceNumber string `json:"sequence_number,omitempty"`
	// LagMillis is the age of the oldest record not yet consumed; 0 when
	// the application is at the tip of the shard.
	LagMillis int64 `json:"lag_ms"`
}

// Description is the state of an application.
type Description struct {
	Name      string    `json:"name"`
	SQL       string    `json:"sql"`
	Status    string    `json:"status"`
	Error     string    `json:"error,omitempty"`
	Source    string    `json:"source"`
	Target    string    `json:"target,omitempty"` // empty for a bare SELECT
	Columns   []string  `json:"columns"`
	Temporary bool      `json:"temporary,omitempty"`
	CreatedAt time.Time `json:"created_at"`

	Inputs    []InputPosition `json:"inputs"`
	RowsIn    int64           `json:"rows_in"`
	RowsOut   int64           `json:"rows_out"`
	LateRows  int64           `json:"late_rows"`
	BadRows   int64           `json:"bad_rows"` // records that are not JSON objects or lack the event time
	Watermark *time.Time      `json:"watermark,omitempty"`
}

// Row is one result row of a bare SELECT, columns in select-list order.
type Row []value.Column
