package analytics

import (
	"context"
	"errors"

	"github.com/spatehq/spate/shard"
)

var errTODO = errors.New("analytics: not implemented yet")

// Service runs the applications of one store.
type Service struct {
	store *shard.Store
}

// Option configures a Service.
type Option func(*config)

type config struct{}

// New loads the applications persisted in store and starts those that were
// running.
func New(ctx context.Context, store *shard.Store, opts ...Option) (*Service, error) {
	return &Service{store: store}, nil
}

// Validate parses and plans a script without creating anything. The error
// is a *query.Error (with line and column) for a script that is invalid.
func (s *Service) Validate(sql string) (Description, error) { return Description{}, errTODO }

// Create creates and starts an application.
func (s *Service) Create(ctx context.Context, in CreateInput) (Description, error) {
	return Description{}, errTODO
}

// List describes every application, by name.
func (s *Service) List(ctx context.Context) ([]Description, error) { return nil, errTODO }

// Describe describes one application.
func (s *Service) Describe(ctx context.Context, name string) (Description, error) {
	return Description{}, errTODO
}

// Stop stops an application after a final checkpoint.
func (s *Service) Stop(ctx context.Context, name string) error { return errTODO }

// Start starts a stopped or failed application from its checkpoint.
func (s *Service) Start(ctx context.Context, name string) error { return errTODO }

// Delete stops an application and removes it with its state.
func (s *Service) Delete(ctx context.Context, name string) error { return errTODO }

// Results calls fn with every row a bare SELECT application produces from
// now on, until ctx ends or fn returns an error. It returns the result
// columns' names first through columns, before any row.
func (s *Service) Results(ctx context.Context, name string, columns func([]string) error, fn func(Row) error) error {
	return errTODO
}

// Close stops every application (after a final checkpoint).
func (s *Service) Close() error { return nil }
