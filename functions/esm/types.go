package esm

import (
	"context"
)

// Mapping is an event source mapping as the Lambda API reports it
// (EventSourceMappingConfiguration); the JSON names are the model's. Dates
// are epoch seconds, as the REST-JSON protocol sends them.
type Mapping struct {
	UUID                           string             `json:"UUID"`
	EventSourceMappingArn          string             `json:"EventSourceMappingArn,omitempty"`
	EventSourceArn                 string             `json:"EventSourceArn,omitempty"`
	FunctionArn                    string             `json:"FunctionArn,omitempty"`
	StartingPosition               string             `json:"StartingPosition,omitempty"`
	StartingPositionTimestamp      *float64           `json:"StartingPositionTimestamp,omitempty"`
	BatchSize                      int                `json:"BatchSize,omitempty"`
	MaximumBatchingWindowInSeconds *int               `json:"MaximumBatchingWindowInSeconds,omitempty"`
	ParallelizationFactor          int                `json:"ParallelizationFactor,omitempty"`
	FilterCriteria                 *FilterCriteria    `json:"FilterCriteria,omitempty"`
	DestinationConfig              *DestinationConfig `json:"DestinationConfig,omitempty"`
	MaximumRecordAgeInSeconds      *int               `json:"MaximumRecordAgeInSeconds,omitempty"`
	BisectBatchOnFunctionError     *bool              `json:"BisectBatchOnFunctionError,omitempty"`
	MaximumRetryAttempts           *int               `json:"MaximumRetryAttempts,omitempty"`
	TumblingWindowInSeconds        *int               `json:"TumblingWindowInSeconds,omitempty"`
	FunctionResponseTypes          []string           `json:"FunctionResponseTypes,omitempty"`
	LastModified                   float64            `json:"LastModified,omitempty"`
	LastProcessingResult           string             `json:"LastProcessingResult,omitempty"`
	// State is Creating, Enabling, Enabled, Disabling, Disabled, Updating
	// or Deleting.
	State                 string `json:"State,omitempty"`
	StateTransitionReason string `json:"StateTransitionReason,omitempty"`
}

// FilterCriteria holds up to five filter patterns (Lambda's syntax).
type FilterCriteria struct {
	Filters []Filter `json:"Filters,omitempty"`
}

// Filter is one filter pattern, a JSON document as a string.
type Filter struct {
	Pattern string `json:"Pattern,omitempty"`
}

// DestinationConfig names where failed batches are reported.
type DestinationConfig struct {
	OnSuccess *Destination `json:"OnSuccess,omitempty"`
	OnFailure *Destination `json:"OnFailure,omitempty"`
}

// Destination is a destination ARN: a Spate stream, a delivery stream or
// an S3 bucket (arn:aws:s3:::BUCKET).
type Destination struct {
	Destination string `json:"Destination,omitempty"`
}

// CreateInput is CreateEventSourceMappingRequest (the members Spate
// serves; the face refuses the others with InvalidParameterValueException).
type CreateInput struct {
	EventSourceArn                 string             `json:"EventSourceArn,omitempty"`
	FunctionName                   string             `json:"FunctionName"`
	Enabled                        *bool              `json:"Enabled,omitempty"`
	BatchSize                      *int               `json:"BatchSize,omitempty"`
	FilterCriteria                 *FilterCriteria    `json:"FilterCriteria,omitempty"`
	MaximumBatchingWindowInSeconds *int               `json:"MaximumBatchingWindowInSeconds,omitempty"`
	ParallelizationFactor          *int               `json:"ParallelizationFactor,omitempty"`
	StartingPosition               string             `json:"StartingPosition,omitempty"`
	StartingPositionTimestamp      *float64           `json:"StartingPositionTimestamp,omitempty"`
	DestinationConfig              *DestinationConfig `json:"DestinationConfig,omitempty"`
	MaximumRecordAgeInSeconds      *int               `json:"MaximumRecordAgeInSeconds,omitempty"`
	BisectBatchOnFunctionError     *bool              `json:"BisectBatchOnFunctionError,omitempty"`
	MaximumRetryAttempts           *int               `json:"MaximumRetryAttempts,omitempty"`
	TumblingWindowInSeconds        *int               `json:"TumblingWindowInSeconds,omitempty"`
	FunctionResponseTypes          []string           `json:"FunctionResponseTypes,omitempty"`
	Tags                           map[string]string  `json:"Tags,omitempty"`
}

// UpdateInput is UpdateEventSourceMappingRequest; UUID comes from the path.
type UpdateInput struct {
	UUID                           string             `json:"-"`
	FunctionName                   string             `json:"FunctionName,omitempty"`
	Enabled                        *bool              `json:"Enabled,omitempty"`
	BatchSize                      *int               `json:"BatchSize,omitempty"`
	FilterCriteria                 *FilterCriteria    `json:"FilterCriteria,omitempty"`
	MaximumBatchingWindowInSeconds *int               `json:"MaximumBatchingWindowInSeconds,omitempty"`
	DestinationConfig              *DestinationConfig `json:"DestinationConfig,omitempty"`
	MaximumRecordAgeInSeconds      *int               `json:"MaximumRecordAgeInSeconds,omitempty"`
	BisectBatchOnFunctionError     *bool              `json:"BisectBatchOnFunctionError,omitempty"`
	MaximumRetryAttempts           *int               `json:"MaximumRetryAttempts,omitempty"`
	ParallelizationFactor          *int               `json:"ParallelizationFactor,omitempty"`
	TumblingWindowInSeconds        *int               `json:"TumblingWindowInSeconds,omitempty"`
	FunctionResponseTypes          []string           `json:"FunctionResponseTypes,omitempty"`
}

// ListInput is ListEventSourceMappingsRequest (query parameters).
type ListInput struct {
	EventSourceArn string
	FunctionName   string
	Marker         string
	MaxItems       int
}

// ListOutput is ListEventSourceMappingsResponse.
type ListOutput struct {
	NextMarker          string    `json:"NextMarker,omitempty"`
	EventSourceMappings []Mapping `json:"EventSourceMappings"`
}

// Mappings is what the Lambda API face calls; *Service implements it.
// Errors are *apierr.Error with the Lambda model's types
// (InvalidParameterValueException, ResourceNotFoundException,
// ResourceConflictException, ...).
type Mappings interface {
	Create(ctx context.Context, in CreateInput) (Mapping, error)
	Get(ctx context.Context, uuid string) (Mapping, error)
	List(ctx context.Context, in ListInput) (ListOutput, error)
	Update(ctx context.Context, in UpdateInput) (Mapping, error)
	Delete(ctx context.Context, uuid string) (Mapping, error)
}
