// Package sdkhttp holds the HTTP transport that aws-sdk-go-v2 clients
// without retries need against a fast local server: the integration tests
// and the benchmark's self-http and kinesalite drivers use it.
package sdkhttp

import (
	"io"
	"net/http"
)

// PlainBodies wraps next so that request bodies expose only Read and Close.
//
// It works around a client-side race between smithy-go (seen with
// v1.28.8) and net/http that a fast server on loopback exposes
// (aws/aws-sdk-go-v2#2737): smithy-go closes the request body as soon as the
// response headers arrive, and its body's WriteTo then answers io.EOF.
// net/http's writeLoop, after sending ContentLength bytes, drains the body
// with io.Copy (which prefers WriteTo) to check for extra bytes; when the
// reply has already arrived it takes that io.EOF for a failed write and
// closes the connection under the reply being read, so a reply larger than
// the 4 KiB read buffer fails with "deserialization failed ... use of closed
// network connection" (about 1 in 200 GetRecords). The server is not
// involved: a plain http.Client with such a body does the same. The SDK's
// default retryer hides it by retrying net.ErrClosed (aws/aws-sdk-go-v2#2949);
// clients without retries hide WriteTo instead, and io.Copy uses Read, whose
// io.EOF is a clean end.
func PlainBodies(next http.RoundTripper) http.RoundTripper { return plainBodies{next} }

type plainBodies struct{ next http.RoundTripper }

func (p plainBodies) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Body == nil || req.Body == http.NoBody {
		return p.next.RoundTrip(req)
	}
	req = req.Clone(req.Context())
	req.Body = plainBody{req.Body}
	return p.next.RoundTrip(req)
}

// plainBody exposes only Read and Close of the body it wraps.
type plainBody struct{ io.ReadCloser }
