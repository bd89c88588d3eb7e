package functions

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/spatehq/spate/apierr"
	"github.com/spatehq/spate/internal/trunc"
)

// maxNameLen is the longest function name; the model's 140 (or 256)
// characters bound the whole ARN a FunctionName may be.
const maxNameLen = 64

// refRE is the model's FunctionName pattern (NamespacedFunctionName),
// anchored: a name, a partial ARN (ACCOUNT:function:NAME) or a full ARN,
// with an optional qualifier.
var refRE = regexp.MustCompile(`^(?P<arn>arn:(aws[a-zA-Z-]*)?:lambda:)?(?P<region>[a-z]{2}(?:(?:-gov)|(?:-iso(?:[a-z]?)))?-[a-z]+-\d{1}:)?(?P<account>\d{12}:)?(?P<function>function:)?(?P<name>[a-zA-Z0-9-_]+)(?::(?P<qualifier>\$LATEST|[a-zA-Z0-9-_]+))?$`)

// The submatches of refRE.
var (
	reARN       = refRE.SubexpIndex("arn")
	reRegion    = refRE.SubexpIndex("region")
	reAccount   = refRE.SubexpIndex("account")
	reFunction  = refRE.SubexpIndex("function")
	reName      = refRE.SubexpIndex("name")
	reQualifier = refRE.SubexpIndex("qualifier")
)

// nameRE is a bare function name.
var nameRE = regexp.MustCompile(`^[a-zA-Z0-9-_]{1,64}$`)

// Ref is a parsed FunctionName: the function's name and the qualifier it
// carried ("" when none).
type Ref struct {
	Name      string
	Qualifier string
}

// ParseRef parses a FunctionName as the Lambda API accepts it: NAME,
// ACCOUNT:function:NAME, or arn:aws:lambda:REGION:ACCOUNT:function:NAME,
// each with an optional :QUALIFIER. The ARN's region and account are not
// checked here (Service.resolve does).
func ParseRef(ref string) (Ref, error) {
	r, _, _, err := parseRef(ref)
	return r, err
}

// parseRef is ParseRef that also returns the region and account the
// reference named ("" when it named none).
func parseRef(ref string) (r Ref, region, account string, err error) {
	if ref == "" {
		return Ref{}, "", "", apierr.New(apierr.InvalidParameterValue, "FunctionName is required")
	}
	if len(ref) > 256 {
		return Ref{}, "", "", apierr.New(apierr.InvalidParameterValue,
			"FunctionName is %d characters long; it must be at most 256 (a name at most 64)", len(ref))
	}
	m := refRE.FindStringSubmatch(ref)
	if m == nil {
		return Ref{}, "", "", apierr.New(apierr.InvalidParameterValue,
			"FunctionName %q is invalid: give a name of letters, digits, '-' and '_' (at most 64), "+
				"ACCOUNT:function:NAME, or arn:aws:lambda:REGION:ACCOUNT:function:NAME, optionally followed by :$LATEST", clip(ref))
	}
	if len(m[reName]) > maxNameLen {
		return Ref{}, "", "", apierr.New(apierr.InvalidParameterValue,
			"function name %q is %d characters long; it must be at most %d", clip(m[reName]), len(m[reName]), maxNameLen)
	}
	if m[reARN] != "" && (m[reRegion] == "" || m[reAccount] == "" || m[reFunction] == "") {
		return Ref{}, "", "", apierr.New(apierr.InvalidParameterValue,
			"FunctionName %q is an incomplete ARN: want arn:aws:lambda:REGION:ACCOUNT:function:NAME", clip(ref))
	}
	region = strings.TrimSuffix(m[reRegion], ":")
	account = strings.TrimSuffix(m[reAccount], ":")
	return Ref{Name: m[reName], Qualifier: m[reQualifier]}, region, account, nil
}

// clip shortens a caller's string for an error message.
func clip(s string) string { return trunc.String(s, 80) }

// validateName checks a new function's name, which must be a bare name or
// an unqualified ARN of this server's region and account.
func (s *Service) newName(ref string) (string, error) {
	r, err := s.resolve(ref)
	if err != nil {
		return "", err
	}
	if r.Qualifier != "" {
		return "", apierr.New(apierr.InvalidParameterValue,
			"FunctionName %q has a qualifier; a new function is named without one", clip(ref))
	}
	if !nameRE.MatchString(r.Name) {
		return "", apierr.New(apierr.InvalidParameterValue, "function name %q is invalid", clip(r.Name))
	}
	return r.Name, nil
}

// resolve parses ref and checks that an ARN's region and account are this
// server's: a function of another account is not found, as in AWS.
func (s *Service) resolve(ref string) (Ref, error) {
	r, region, account, err := parseRef(ref)
	if err != nil {
		return Ref{}, err
	}
	if (region != "" && region != s.cfg.region) || (account != "" && account != s.cfg.accountID) {
		return Ref{}, apierr.New(apierr.ResourceNotFound,
			"Function not found: %s (this server serves region %s, account %s)", clip(ref), s.cfg.region, s.cfg.accountID)
	}
	return r, nil
}

// ARN is the unqualified ARN of the function name.
func (s *Service) ARN(name string) string {
	return fmt.Sprintf("arn:aws:lambda:%s:%s:function:%s", s.cfg.region, s.cfg.accountID, name)
}
