// Package auth decides who sent a request and whether they may run it.
//
// Authentication is AWS Signature Version 4: keys come from a file in the
// AWS shared-credentials format (LoadKeys), and a Verifier recomputes each
// request's signature with aws-sdk-go-v2's v4 signer (never a signer of
// our own) from exactly the headers the client signed, at the client's
// X-Amz-Date, and compares the two in constant time. It also checks the
// payload hash against the body, the credential scope (date and service)
// and a clock skew of at most five minutes. gRPC calls carry the same
// signature in their metadata over the canonical request
// "POST /<service>/<Method>" (SignGRPC, Verifier.VerifyGRPC).
//
// Authorization is an optional IAM-style identity policy per profile
// (LoadPolicies), evaluated as IAM evaluates identity policies: an explicit
// Deny wins, then an Allow, else the request is denied.
//
// A Guard holds both, plus the region and account that ARNs are built
// with; the protocol packages (awsproto, analyticsapi, grpcapi) call it
// where requests enter. The package knows no protocol: it takes an
// http.Request or a metadata map, and names actions and ARNs as strings.
//
// Invariant: a secret never leaves the Keys it was loaded into, and every
// error a peer can cause is an *apierr.Error with an AWS error type.
package auth
