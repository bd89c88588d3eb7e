package awsproto

import (
	"context"
	"errors"
	"net/http"
	"reflect"
	"strings"

	"github.com/spatehq/spate/apierr"
	"github.com/spatehq/spate/auth"
)

// Guard authenticates and authorizes requests; package auth's *Guard is
// the implementation. A Handler without one (the default) checks nothing
// and does no work for it per request.
type Guard = auth.HTTPGuard

// WithGuard makes the Handler authenticate every request with g before it
// decodes it, and authorize it after (with the resources its members
// name: see Service.ResourceMembers). A nil g changes nothing. Default:
// none.
func WithGuard(g Guard) Option {
	return func(c *config) {
		if g != nil {
			c.guard = g
		}
	}
}

// authenticate checks the request's signature; MissingAuthenticationToken
// answers 403, as AWS does, the other errors 400.
func (h *Handler) authenticate(r *http.Request, body []byte) (context.Context, error) {
	ctx, err := h.cfg.guard.AuthenticateHTTP(r.Context(), r, body, h.svc.SigningName)
	if status := auth.HTTPStatus(err); status != 0 {
		if ae, ok := errors.AsType[*apierr.Error](err); ok {
			return ctx, &statusError{status: status, err: ae}
		}
	}
	return ctx, err
}

// authorize checks that ctx's identity may run action with the decoded
// request in.
func (h *Handler) authorize(ctx context.Context, action string, in any) error {
	res := h.resources(in)
	if h.svc.MoreResources != nil {
		more, err := h.svc.MoreResources(action, in)
		if err != nil {
			return err
		}
		for _, r := range more {
			if arn := h.cfg.guard.ARN(h.svc.SigningName, r); !containsString(res, arn) {
				res = append(res, arn)
			}
		}
	}
	return h.cfg.guard.Authorize(ctx, h.svc.SigningName+":"+action, res...)
}

// resources returns the ARNs that in's members name (Service.ResourceMembers).
func (h *Handler) resources(in any) []string {
	v := reflect.ValueOf(in)
	if v.Kind() == reflect.Pointer {
		v = v.Elem()
	}
	if v.Kind() != reflect.Struct {
		return nil
	}
	var out []string
	for _, f := range h.resourceFields(v.Type()) {
		fv, err := v.FieldByIndexErr(f.index)
		if err != nil { // through a nil embedded pointer
			continue
		}
		if fv.Kind() == reflect.Pointer {
			if fv.IsNil() {
				continue
			}
			fv = fv.Elem()
		}
		s := fv.String()
		if s == "" {
			continue
		}
		arn := s
		if f.resource != "" {
			arn = h.cfg.guard.ARN(h.svc.SigningName, f.resource+s)
		}
		if !containsString(out, arn) {
			out = append(out, arn)
		}
	}
	return out
}

func containsString(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// resourceField is a string (or *string) member of a request type that
// names a resource.
type resourceField struct {
	index    []int
	resource string // "stream/": the value is a name; "": it is an ARN
}

// resourceFields returns the resource fields of a request type, from
// h.resFields once known (only a guarded handler fills it).
func (h *Handler) resourceFields(t reflect.Type) []resourceField {
	if v, ok := h.resFields.Load(t); ok {
		return v.([]resourceField)
	}
	var fields []resourceField
	var walk func(t reflect.Type, index []int)
	walk = func(t reflect.Type, index []int) {
		for i := 0; i < t.NumField(); i++ {
			sf := t.Field(i)
			idx := append(append([]int(nil), index...), i)
			ft := sf.Type
			if sf.Anonymous && ft.Kind() == reflect.Struct {
				walk(ft, idx)
				continue
			}
			name, _, _ := strings.Cut(sf.Tag.Get("json"), ",")
			res, ok := h.svc.ResourceMembers[name]
			if !ok {
				continue
			}
			if ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			if ft.Kind() == reflect.String {
				fields = append(fields, resourceField{index: idx, resource: res})
			}
		}
	}
	walk(t, nil)
	h.resFields.Store(t, fields)
	return fields
}
