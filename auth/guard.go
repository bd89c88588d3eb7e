package auth

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"github.com/spatehq/spate/apierr"
)

// The signing names (the service of a credential scope) of the APIs, and
// the prefixes of their IAM actions.
const (
	ServiceKinesis   = "kinesis"
	ServiceFirehose  = "firehose"
	ServiceAnalytics = "kinesisanalytics"
)

// Guard authenticates requests with a Verifier and authorizes them with
// Policies. The protocol packages hold a *Guard; nil means authentication
// is off, and they do no work per request.
type Guard struct {
	verifier  *Verifier
	policies  Policies // nil: every authenticated profile may do everything
	region    string
	accountID string
	// resPolicies holds the resource policies to enforce
	// (WithResourcePolicies); nil: none.
	resPolicies *policyCache
}

// HTTPGuard is what the HTTP faces (awsproto, analyticsapi) need of a
// Guard; an interface so that they can be tested with a fake.
type HTTPGuard interface {
	// AuthenticateHTTP checks r's signature over body (read whole, within
	// the face's size cap) for the signing name service, and returns the
	// context the request runs with, carrying who signed it.
	AuthenticateHTTP(ctx context.Context, r *http.Request, body []byte, service string) (context.Context, error)
	// Authorize answers whether ctx's identity may run action
	// ("kinesis:PutRecord") on resources (ARNs; none means "*").
	Authorize(ctx context.Context, action string, resources ...string) error
	// ARN is the ARN of resource ("stream/NAME") of service in the
	// server's region and account.
	ARN(service, resource string) string
}

var _ HTTPGuard = (*Guard)(nil)

// HTTPStatus is the HTTP status AWS answers an authentication error with
// when it is not 400: 403 for MissingAuthenticationTokenException, 0 for
// any other error.
func HTTPStatus(err error) int {
	if apierr.Is(err, apierr.MissingAuthenticationToken) {
		return http.StatusForbidden
	}
	return 0
}

// NewGuard returns a Guard that accepts requests signed with keys and,
// when policies is not nil, allows what each profile's policy allows.
// ARNs are built with region and accountID (the server's --region and
// --account-id).
func NewGuard(keys *Keys, policies Policies, region, accountID string, opts ...VerifierOption) *Guard {
	return &Guard{verifier: NewVerifier(keys, opts...), policies: policies, region: region, accountID: accountID}
}

// AuthenticateHTTP checks r's signature over body for service and returns
// ctx carrying the signer's Identity (see Verifier.VerifyHTTP).
func (g *Guard) AuthenticateHTTP(ctx context.Context, r *http.Request, body []byte, service string) (context.Context, error) {
	id, err := g.verifier.VerifyHTTP(r, body, service)
	if err != nil {
		return ctx, err
	}
	return WithIdentity(ctx, id), nil
}

// Authorize answers whether ctx's identity may run action ("kinesis:PutRecord")
// on every one of resources (ARNs; none means "*", an action that names no
// resource). It answers AccessDeniedException in IAM's words otherwise. A
// ctx without an identity is denied: authorization never runs on an
// unauthenticated request.
func (g *Guard) Authorize(ctx context.Context, action string, resources ...string) error {
	id, ok := IdentityFrom(ctx)
	if !ok {
		return apierr.New(apierr.AccessDenied, "The request was not authenticated, so it is not authorized to perform: %s", action)
	}
	if g.policies == nil && g.resPolicies == nil {
		return nil
	}
	if len(resources) == 0 {
		resources = []string{"*"}
	}
	p := g.policies[id.Profile]
	for _, res := range resources {
		// Resource policy first: its explicit Deny wins over any Allow,
		// and its Allow for this identity grants on its own (see
		// ResourcePolicy).
		rd := g.resourceDecision(id, action, res)
		d := allow // without a policies file, identity policies allow all
		if g.policies != nil {
			d = implicitDeny
			if p != nil {
				d = p.evaluate(action, res)
			}
		}
		switch {
		case rd == explicitDeny:
			return g.denied(id, action, res, "with an explicit deny in a resource-based policy")
		case d == explicitDeny:
			return g.denied(id, action, res, "with an explicit deny in an identity-based policy")
		case d == allow || rd == allow:
			continue
		default:
			return g.denied(id, action, res, "because no identity-based policy allows the "+action+" action")
		}
	}
	return nil
}

// resourceDecision evaluates the resource policy attached to res, if any.
func (g *Guard) resourceDecision(id Identity, action, res string) decision {
	if g.resPolicies == nil || res == "*" {
		return implicitDeny
	}
	rp, err := g.resPolicies.policy(res)
	if err != nil {
		return explicitDeny // fail closed: a policy that cannot be read denies
	}
	if rp == nil {
		return implicitDeny
	}
	return rp.evaluate(g.userARN(id), g.accountID, action, res)
}

// userARN is the IAM user ARN a Spate identity stands for.
func (g *Guard) userARN(id Identity) string {
	return "arn:aws:iam::" + g.accountID + ":user/" + id.Profile
}

func (g *Guard) denied(id Identity, action, resource, why string) error {
	return apierr.New(apierr.AccessDenied,
		"User: %s is not authorized to perform: %s on resource: %s %s",
		g.userARN(id), action, resource, why)
}

// ARN is the ARN of resource ("stream/NAME") of service ("kinesis") in the
// server's region and account.
func (g *Guard) ARN(service, resource string) string {
	return "arn:aws:" + service + ":" + g.region + ":" + g.accountID + ":" + resource
}

// StreamARN is the ARN of a Kinesis stream.
func (g *Guard) StreamARN(name string) string { return g.ARN(ServiceKinesis, "stream/"+name) }

// DeliveryStreamARN is the ARN of a Firehose delivery stream.
func (g *Guard) DeliveryStreamARN(name string) string {
	return g.ARN(ServiceFirehose, "deliverystream/"+name)
}

// ApplicationARN is the ARN of an Analytics application.
func (g *Guard) ApplicationARN(name string) string {
	return g.ARN(ServiceAnalytics, "application/"+name)
}

// gRPC calls are signed like HTTP requests: the canonical request is
// "POST /<package.Service>/<Method>" with host grpcHost, the headers
// host and x-amz-date, and the payload hash UNSIGNED-PAYLOAD (the
// messages are not hashed: gRPC hands them over only after the headers).
// The Authorization and X-Amz-Date values travel as the metadata
// "authorization" and "x-amz-date"; the secret never does. The host is a
// constant, not the :authority, so that proxies and name resolution
// cannot break a signature; a signature is thus good for any server that
// has the key, for five minutes, and it does not cover the payload:
// use TLS where the network is not trusted.
const grpcHost = "spate"

// GRPCService returns the signing name and the IAM action of a gRPC
// method ("/spate.v1.StreamService/PutRecord" → "kinesis",
// "kinesis:PutRecord"). The Stream, Firehose and Analytics services map to
// kinesis, firehose and kinesisanalytics, and the Group service (consumer
// groups: their data is a stream's) to kinesis ("kinesis:JoinGroup"); ok
// is false for any other.
func GRPCService(fullMethod string) (service, action string, ok bool) {
	svc, method, found := strings.Cut(strings.TrimPrefix(fullMethod, "/"), "/")
	if !found || method == "" {
		return "", "", false
	}
	switch svc {
	case "spate.v1.StreamService", "spate.v1.GroupService":
		service = ServiceKinesis
	case "spate.v1.FirehoseService":
		service = ServiceFirehose
	case "spate.v1.AnalyticsService":
		service = ServiceAnalytics
	default:
		return "", "", false
	}
	return service, service + ":" + method, true
}

// SignGRPC returns the metadata that signs a call of fullMethod at t with
// p's key: "authorization" and "x-amz-date". region goes into the
// credential scope (any is accepted by the server).
func SignGRPC(p Profile, fullMethod, region string, t time.Time) (map[string]string, error) {
	service, _, ok := GRPCService(fullMethod)
	if !ok {
		return nil, fmt.Errorf("sign %s: not a Spate API method", fullMethod)
	}
	r := grpcRequest(fullMethod, nil)
	creds := aws.Credentials{AccessKeyID: p.AccessKeyID, SecretAccessKey: p.SecretAccessKey}
	if err := v4.NewSigner().SignHTTP(context.Background(), creds, r, unsignedPayload, service, region, t); err != nil {
		return nil, fmt.Errorf("sign %s: %w", fullMethod, err)
	}
	return map[string]string{
		"authorization": r.Header.Get("Authorization"),
		"x-amz-date":    r.Header.Get("X-Amz-Date"),
	}, nil
}

func grpcRequest(fullMethod string, hdr http.Header) *http.Request {
	if hdr == nil {
		hdr = make(http.Header)
	}
	return &http.Request{Method: http.MethodPost, URL: &url.URL{Path: fullMethod}, Host: grpcHost, Header: hdr}
}

// AuthenticateGRPC checks the signature in a call's metadata (md, keys in
// lower case as gRPC gives them) and returns ctx carrying the signer's
// Identity. Errors are those of Verifier.VerifyHTTP.
func (g *Guard) AuthenticateGRPC(ctx context.Context, md map[string][]string, fullMethod string) (context.Context, error) {
	first := func(k string) string {
		if v := md[k]; len(v) > 0 {
			return v[0]
		}
		return ""
	}
	if err := once(func(name string) []string { return md[strings.ToLower(name)] }); err != nil {
		return ctx, err
	}
	h := first("authorization")
	if h == "" {
		return ctx, apierr.New(apierr.MissingAuthenticationToken, msgMissingToken)
	}
	a, err := parseAuthorization(h)
	if err != nil {
		return ctx, err
	}
	service, _, ok := GRPCService(fullMethod)
	if !ok {
		return ctx, apierr.New(apierr.UnknownOperation, "unknown method %s", fullMethod)
	}
	hdr := make(http.Header, 1)
	if d := first("x-amz-date"); d != "" {
		hdr.Set("X-Amz-Date", d)
	}
	r := grpcRequest(fullMethod, hdr)
	id, err := g.verifier.verify(r.Method, r.URL, r.Host, r.Header, 0, a, unsignedPayload, service)
	if err != nil {
		return ctx, err
	}
	return WithIdentity(ctx, id), nil
}
