package auth

import "context"

// Identity is who signed a request: the profile (a [section] of the
// credentials file) whose access key it was signed with.
type Identity struct {
	Profile     string
	AccessKeyID string
}

type identityKey struct{}

// WithIdentity returns ctx carrying id, for the code that serves the
// request (logs, audit).
func WithIdentity(ctx context.Context, id Identity) context.Context {
	return context.WithValue(ctx, identityKey{}, id)
}

// IdentityFrom returns the identity a request was authenticated as, and
// false for a request that was not (authentication off).
func IdentityFrom(ctx context.Context) (Identity, bool) {
	id, ok := ctx.Value(identityKey{}).(Identity)
	return id, ok
}
