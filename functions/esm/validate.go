package esm

import (
	"context"
	"encoding/json"

	"github.com/spatehq/spate/apierr"
	"github.com/spatehq/spate/functions/destination"
)

func invalid(format string, args ...any) error {
	return apierr.New(apierr.InvalidParameterValue, format, args...)
}

// settings are the members Create and Update share; nil means "not given".
type settings struct {
	BatchSize                      *int
	FilterCriteria                 *FilterCriteria
	MaximumBatchingWindowInSeconds *int
	ParallelizationFactor          *int
	DestinationConfig              *DestinationConfig
	MaximumRecordAgeInSeconds      *int
	BisectBatchOnFunctionError     *bool
	MaximumRetryAttempts           *int
	TumblingWindowInSeconds        *int
	FunctionResponseTypes          []string
}

// settingsOf picks the shared members of a CreateInput or UpdateInput.
func settingsOf[T CreateInput | UpdateInput](in T) settings {
	var set settings
	switch v := any(in).(type) {
	case CreateInput:
		set = settings{v.BatchSize, v.FilterCriteria, v.MaximumBatchingWindowInSeconds, v.ParallelizationFactor,
			v.DestinationConfig, v.MaximumRecordAgeInSeconds, v.BisectBatchOnFunctionError, v.MaximumRetryAttempts,
			v.TumblingWindowInSeconds, v.FunctionResponseTypes}
	case UpdateInput:
		set = settings{v.BatchSize, v.FilterCriteria, v.MaximumBatchingWindowInSeconds, v.ParallelizationFactor,
			v.DestinationConfig, v.MaximumRecordAgeInSeconds, v.BisectBatchOnFunctionError, v.MaximumRetryAttempts,
			v.TumblingWindowInSeconds, v.FunctionResponseTypes}
	}
	return set
}

// check validates the given members as Lambda does for a Kinesis source.
func (s *Service) check(ctx context.Context, in settings) error {
	between := func(name string, v *int, lo, hi int) error {
		if v != nil && (*v < lo || *v > hi) {
			return invalid("%s must be between %d and %d; got %d", name, lo, hi, *v)
		}
		return nil
	}
	for _, err := range []error{
		between("BatchSize", in.BatchSize, 1, MaxBatchSize),
		between("MaximumBatchingWindowInSeconds", in.MaximumBatchingWindowInSeconds, 0, MaxBatchingWindowSeconds),
		between("ParallelizationFactor", in.ParallelizationFactor, 1, MaxParallelizationFactor),
		between("MaximumRetryAttempts", in.MaximumRetryAttempts, -1, MaxRetryAttemptsLimit),
		between("TumblingWindowInSeconds", in.TumblingWindowInSeconds, 0, MaxTumblingWindowSeconds),
	} {
		if err != nil {
			return err
		}
	}
	if a := in.MaximumRecordAgeInSeconds; a != nil && *a != -1 && (*a < MinRecordAgeSeconds || *a > MaxRecordAgeSeconds) {
		return invalid("MaximumRecordAgeInSeconds must be -1 (infinite) or between %d and %d; got %d", MinRecordAgeSeconds, MaxRecordAgeSeconds, *a)
	}
	for _, t := range in.FunctionResponseTypes {
		if t != ReportBatchItemFailures {
			return invalid("FunctionResponseTypes may only hold %q; got %q", ReportBatchItemFailures, t)
		}
	}
	if len(in.FunctionResponseTypes) > 1 {
		return invalid("FunctionResponseTypes holds at most one value; got %d", len(in.FunctionResponseTypes))
	}
	if err := s.checkFilters(in.FilterCriteria); err != nil {
		return err
	}
	return s.checkDestinations(ctx, in.DestinationConfig)
}

func (s *Service) checkFilters(fc *FilterCriteria) error {
	if fc == nil || len(fc.Filters) == 0 {
		return nil
	}
	if len(fc.Filters) > MaxFilters {
		return invalid("FilterCriteria holds at most %d filters; got %d", MaxFilters, len(fc.Filters))
	}
	if s.cfg.compile == nil {
		return invalid("FilterCriteria are not supported by this server (no filter engine configured); remove them")
	}
	patterns := make([]string, len(fc.Filters))
	for i, f := range fc.Filters {
		if !json.Valid([]byte(f.Pattern)) {
			return invalid("FilterCriteria.Filters[%d].Pattern is not a JSON document; a pattern looks like {\"data\":{\"kind\":[\"order\"]}}", i)
		}
		patterns[i] = f.Pattern
	}
	if _, err := s.cfg.compile(patterns); err != nil {
		if apierr.Is(err, apierr.InvalidParameterValue) {
			return err // it says which filter and what in it
		}
		return invalid("Invalid filter pattern definition: %s", apierr.MessageOf(err))
	}
	return nil
}

func (s *Service) checkDestinations(ctx context.Context, dc *DestinationConfig) error {
	if dc == nil {
		return nil
	}
	if dc.OnSuccess != nil && dc.OnSuccess.Destination != "" {
		return invalid("DestinationConfig.OnSuccess is not supported for Kinesis event sources; use OnFailure")
	}
	if dc.OnFailure == nil || dc.OnFailure.Destination == "" {
		return nil
	}
	arn := dc.OnFailure.Destination
	if err := destination.Validate(arn); err != nil {
		return err
	}
	if s.cfg.sink == nil {
		return invalid("on-failure destinations are not supported by this server (no destination sender configured); remove DestinationConfig")
	}
	if c, ok := s.cfg.sink.(destinationChecker); ok {
		if err := c.Check(ctx, arn); err != nil {
			if apierr.Is(err, apierr.InvalidParameterValue) {
				return err
			}
			return invalid("DestinationConfig.OnFailure.Destination %s: %s", arn, apierr.MessageOf(err))
		}
	}
	return nil
}
