package lambdaapi

import (
	"context"

	"github.com/spatehq/spate/apierr"
	"github.com/spatehq/spate/functions/esm"
)

// Tagger is what the tagging actions call for one kind of resource:
// *functions.Service for functions, *esm.Service for event source
// mappings.
type Tagger interface {
	TagResource(ctx context.Context, resource string, tags map[string]string) error
	UntagResource(ctx context.Context, resource string, keys []string) error
	ListTags(ctx context.Context, resource string) (map[string]string, error)
}

var _ Tagger = (*esm.Service)(nil)

// tagger returns who tags the request's Resource: the mappings for a
// mapping's ARN (when they serve tags), else the functions, which refuse
// any ARN but a function's.
func (h *Handler) tagger(r *request) (Tagger, error) {
	if !esm.IsMappingARN(r.path("Resource")) {
		return h.fns, nil
	}
	m, err := h.mappingsOrErr()
	if err != nil {
		return nil, err
	}
	t, ok := m.(Tagger)
	if !ok {
		return nil, apierr.New(apierr.InvalidParameterValue, "this Spate server does not tag event source mappings")
	}
	return t, nil
}
