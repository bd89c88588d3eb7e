package functions

import (
	"encoding/json"
	"net/url"
	"regexp"
	"slices"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/spatehq/spate/apierr"
)

// PreconditionFailed is the Lambda error of an update whose RevisionId is
// not the function's current one (412).
const PreconditionFailed apierr.Code = "PreconditionFailedException"

// EndpointVariable is the environment variable that gives a spate.http
// function's URL: each invocation POSTs the event JSON to it.
const EndpointVariable = "SPATE_ENDPOINT_URL"

var (
	roleRE   = regexp.MustCompile(`^arn:(aws[a-zA-Z-]*)?:iam::\d{12}:role/?[a-zA-Z_0-9+=,.@\-_/]+$`)
	envKeyRE = regexp.MustCompile(`^[a-zA-Z]([a-zA-Z0-9_])+$`)
)

// reservedEnv are the variables Lambda sets itself and refuses in a
// function's Environment.
var reservedEnv = map[string]bool{
	"_HANDLER": true, "_X_AMZN_TRACE_ID": true, "AWS_DEFAULT_REGION": true, "AWS_REGION": true,
	"AWS_EXECUTION_ENV": true, "AWS_LAMBDA_FUNCTION_NAME": true, "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": true,
	"AWS_LAMBDA_FUNCTION_VERSION": true, "AWS_LAMBDA_INITIALIZATION_TYPE": true, "AWS_LAMBDA_LOG_GROUP_NAME": true,
	"AWS_LAMBDA_LOG_STREAM_NAME": true, "AWS_ACCESS_KEY": true, "AWS_ACCESS_KEY_ID": true,
	"AWS_SECRET_ACCESS_KEY": true, "AWS_SESSION_TOKEN": true, "AWS_LAMBDA_RUNTIME_API": true,
	"LAMBDA_TASK_ROOT": true, "LAMBDA_RUNTIME_DIR": true,
}

// runtimes are those Spate runs.
var runtimes = []string{RuntimeProvidedAL2023, RuntimeProvidedAL2, RuntimeHTTP}

// validateConfig checks a record's configuration members. Lengths are in
// characters, as the model's and AWS's limits are, not bytes.
func validateConfig(r *record) error {
	if !slices.Contains(runtimes, r.Runtime) {
		if r.Runtime == "" {
			return apierr.New(apierr.InvalidParameterValue,
				"Runtime is required: Spate runs %s", strings.Join(runtimes, ", "))
		}
		return apierr.New(apierr.InvalidParameterValue,
			"The runtime parameter of %s is not supported by Spate: use %s (a bootstrap executable in the zip) or %s (an HTTP endpoint)",
			clip(r.Runtime), strings.Join(runtimes[:2], " or "), RuntimeHTTP)
	}
	if !roleRE.MatchString(r.Role) {
		return apierr.New(apierr.InvalidParameterValue,
			"Role %q is invalid: want an IAM role ARN, arn:aws:iam::ACCOUNT:role/NAME", clip(r.Role))
	}
	if utf8.RuneCountInString(r.Handler) > 128 || strings.ContainsAny(r.Handler, " \t\r\n") {
		return apierr.New(apierr.InvalidParameterValue, "Handler %q is invalid: at most 128 characters, no white space", clip(r.Handler))
	}
	if n := utf8.RuneCountInString(r.Description); n > maxDescriptionLen {
		return apierr.New(apierr.InvalidParameterValue, "Description is %d characters long; it must be at most %d", n, maxDescriptionLen)
	}
	if r.Timeout < minTimeout || r.Timeout > maxTimeout {
		return apierr.New(apierr.InvalidParameterValue, "Timeout %d: must be %d to %d seconds", r.Timeout, minTimeout, maxTimeout)
	}
	if r.MemorySize < minMemory || r.MemorySize > maxMemory {
		return apierr.New(apierr.InvalidParameterValue, "MemorySize %d: must be %d to %d MB", r.MemorySize, minMemory, maxMemory)
	}
	if err := validateEnv(r.Environment); err != nil {
		return err
	}
	if r.Runtime == RuntimeHTTP {
		return validateEndpoint(r.Environment[EndpointVariable])
	}
	return nil
}

// validateEnv checks variables as Lambda does: key syntax, reserved keys,
// and 4 KB for them all as JSON.
func validateEnv(env map[string]string) error {
	var bad, reserved []string
	for k := range env {
		switch {
		case reservedEnv[k]:
			reserved = append(reserved, k)
		case !envKeyRE.MatchString(k):
			bad = append(bad, clip(k))
		}
	}
	sort.Strings(bad)
	sort.Strings(reserved)
	if len(reserved) > 0 {
		return apierr.New(apierr.InvalidParameterValue,
			"Lambda was unable to configure your environment variables because the environment variables you have provided contains reserved keys that are currently not supported for modification. Reserved keys used in this request: %s",
			strings.Join(reserved, ", "))
	}
	if len(bad) > 0 {
		return apierr.New(apierr.InvalidParameterValue,
			"environment variable names %q are invalid: a letter, then letters, digits and '_' (at least 2 characters)", bad)
	}
	raw, _ := json.Marshal(env)
	if len(env) > 0 && len(raw) > maxEnvBytes {
		return apierr.New(apierr.InvalidParameterValue,
			"Lambda was unable to configure your environment variables because the environment variables you have provided exceeded the 4KB limit: they take %d bytes as JSON", len(raw))
	}
	return nil
}

// validateEndpoint checks a spate.http function's URL.
func validateEndpoint(endpoint string) error {
	if endpoint == "" {
		return apierr.New(apierr.InvalidParameterValue,
			"a %s function needs its URL in the environment variable %s (Environment.Variables)", RuntimeHTTP, EndpointVariable)
	}
	u, err := url.Parse(endpoint)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return apierr.New(apierr.InvalidParameterValue, "%s %q is not an http:// or https:// URL", EndpointVariable, clip(endpoint))
	}
	return nil
}

// ValidateTags checks a resource's tags as Lambda does: at most 50, keys
// of 1 to 128 characters not starting with aws:, values of at most 256.
// Event source mappings' tags follow the functions' rules.
func ValidateTags(tags map[string]string) error {
	if len(tags) > maxTags {
		return apierr.New(apierr.InvalidParameterValue, "a resource has %d tags; it may have at most %d", len(tags), maxTags)
	}
	for k, v := range tags {
		if k == "" || utf8.RuneCountInString(k) > 128 || strings.HasPrefix(k, "aws:") {
			return apierr.New(apierr.InvalidParameterValue, "tag key %q is invalid: 1 to 128 characters, not starting with aws:", clip(k))
		}
		if n := utf8.RuneCountInString(v); n > 256 {
			return apierr.New(apierr.InvalidParameterValue, "the value of tag %q is %d characters long; it must be at most 256", clip(k), n)
		}
	}
	return nil
}

// architecture checks Architectures (at most one of x86_64, arm64) and
// returns the one to keep. The code runs on the server's own processor
// whatever it says.
func architecture(list []string, def string) (string, error) {
	switch {
	case len(list) == 0:
		return def, nil
	case len(list) == 1 && (list[0] == "x86_64" || list[0] == "arm64"):
		return list[0], nil
	}
	return "", apierr.New(apierr.InvalidParameterValue, "Architectures %q: give one of x86_64 or arm64", list)
}

// refuseUnserved refuses members that would change what runs and that
// Spate does not serve.
func refuseUnserved(packageType string, layers []string, fs []json.RawMessage) error {
	switch {
	case packageType != "" && packageType != "Zip":
		return apierr.New(apierr.InvalidParameterValue, "PackageType %q: Spate runs .zip packages only (PackageType Zip)", clip(packageType))
	case len(layers) > 0:
		return apierr.New(apierr.InvalidParameterValue, "Layers: Spate does not serve layers; put their content in the function's zip")
	case len(fs) > 0:
		return apierr.New(apierr.InvalidParameterValue, "FileSystemConfigs: Spate does not mount file systems")
	}
	return nil
}

// zipOf returns the zip a create or update gives, refusing other code
// sources. A spate.http function may have none.
func zipOf(zip []byte, s3Bucket, s3Key, imageURI, runtime string) ([]byte, error) {
	switch {
	case s3Bucket != "" || s3Key != "":
		return nil, apierr.New(apierr.InvalidParameterValue,
			"S3Bucket/S3Key: Spate takes the code as ZipFile only (aws lambda ... --zip-file fileb://function.zip)")
	case imageURI != "":
		return nil, apierr.New(apierr.InvalidParameterValue, "ImageUri: Spate runs .zip packages only; give ZipFile")
	case len(zip) == 0 && runtime != RuntimeHTTP:
		return nil, apierr.New(apierr.InvalidParameterValue,
			"ZipFile is required: a .zip with an executable bootstrap at its root (only a %s function may have no code)", RuntimeHTTP)
	case len(zip) > MaxZipBytes:
		return nil, apierr.New(apierr.RequestTooLarge, "the zip is %d bytes; a zip uploaded directly must be at most %d", len(zip), MaxZipBytes)
	}
	return zip, nil
}
