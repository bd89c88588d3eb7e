package auth

import (
	"strings"

	"github.com/spatehq/spate/apierr"
)

// algorithm is the only signing algorithm accepted.
const algorithm = "AWS4-HMAC-SHA256"

// authorization is a parsed SigV4 Authorization header:
//
//	AWS4-HMAC-SHA256 Credential=AKID/20261207/us-east-1/kinesis/aws4_request, SignedHeaders=host;x-amz-date, Signature=<64 hex>
type authorization struct {
	AccessKeyID   string
	Date          string // yyyymmdd of the credential scope
	Region        string
	Service       string
	SignedHeaders []string // lower case, sorted, as sent
	Signature     string   // 64 lower-case hex digits
}

// scope is the credential scope after the access key ID.
func (a authorization) scope() string {
	return a.Date + "/" + a.Region + "/" + a.Service + "/aws4_request"
}

// parseAuthorization parses an Authorization header. Its errors are
// IncompleteSignatureException, as AWS answers a malformed header (the
// messages follow AWS's where AWS has one).
func parseAuthorization(h string) (authorization, error) {
	var a authorization
	alg, rest, _ := strings.Cut(strings.TrimSpace(h), " ")
	if alg != algorithm {
		return a, incomplete("Unsupported AWS 'algorithm': '%s'. Spate accepts only %s (Signature Version 4).", truncate(alg), algorithm)
	}
	var cred, signed, sig string
	var haveCred, haveSigned, haveSig bool
	for part := range strings.SplitSeq(rest, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		k, v, ok := strings.Cut(part, "=")
		if !ok {
			return a, incomplete("'%s' not a valid key=value pair (missing equal-sign) in Authorization header: '%s'.", truncate(part), truncate(h))
		}
		var dup bool
		switch k {
		case "Credential":
			cred, dup, haveCred = v, haveCred, true
		case "SignedHeaders":
			signed, dup, haveSigned = v, haveSigned, true
		case "Signature":
			sig, dup, haveSig = v, haveSig, true
		default:
			return a, incomplete("Unknown Authorization header parameter '%s'.", truncate(k))
		}
		if dup {
			return a, incomplete("Authorization header has the parameter '%s' twice.", k)
		}
	}
	var missing []string
	if !haveCred {
		missing = append(missing, "Authorization header requires 'Credential' parameter.")
	}
	if !haveSig {
		missing = append(missing, "Authorization header requires 'Signature' parameter.")
	}
	if !haveSigned {
		missing = append(missing, "Authorization header requires 'SignedHeaders' parameter.")
	}
	if len(missing) > 0 {
		return a, incomplete("%s Authorization=%s", strings.Join(missing, " "), truncate(h))
	}

	parts := strings.Split(cred, "/")
	if len(parts) != 5 || parts[0] == "" || parts[4] != "aws4_request" {
		return a, incomplete("Credential should be scoped to a valid region, service and date: Credential=%s must be AKID/yyyymmdd/region/service/aws4_request.", truncate(cred))
	}
	a.AccessKeyID, a.Date, a.Region, a.Service = parts[0], parts[1], parts[2], parts[3]
	if !isDate(a.Date) {
		return a, incomplete("Credential date %q must be yyyymmdd.", truncate(a.Date))
	}
	if a.Region == "" || a.Service == "" {
		return a, incomplete("Credential=%s names no region or no service.", truncate(cred))
	}

	if signed == "" {
		return a, incomplete("SignedHeaders is empty: it must list at least host and x-amz-date.")
	}
	a.SignedHeaders = strings.Split(signed, ";")
	for i, name := range a.SignedHeaders {
		if name == "" || name != strings.ToLower(name) || (i > 0 && a.SignedHeaders[i-1] >= name) {
			return a, incomplete("SignedHeaders=%s must be distinct lower-case header names, sorted and separated by ';'.", truncate(signed))
		}
	}

	if len(sig) != 64 || !isLowerHex(sig) {
		return a, incomplete("Signature must be 64 lower-case hexadecimal digits.")
	}
	a.Signature = sig
	return a, nil
}

func isDate(s string) bool {
	if len(s) != 8 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

func isLowerHex(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// truncate keeps a peer's text short in error messages.
func truncate(s string) string {
	const max = 200
	if len(s) > max {
		return s[:max] + "..."
	}
	return s
}

func incomplete(format string, args ...any) error {
	return apierr.New(apierr.IncompleteSignature, format, args...)
}
