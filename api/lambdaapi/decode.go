package lambdaapi

import (
	"encoding/json"
	"errors"
	"fmt"

	"github.com/spatehq/spate/apierr"
)

// decodeJSON decodes a request body into v after checking its nesting
// depth; members v does not have are ignored (the model has many that
// change nothing in Spate).
func decodeJSON(body []byte, v any) error {
	if err := checkDepth(body); err != nil {
		return err
	}
	if err := json.Unmarshal(body, v); err != nil {
		return jsonError(err)
	}
	return nil
}

// jsonError turns a decoding error into the error Lambda answers: the
// body is not JSON (InvalidRequestContentException) or a member has the
// wrong type (InvalidParameterValueException), saying which.
func jsonError(err error) error {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		member := te.Field
		if member == "" {
			member = "the request"
		}
		return apierr.New(apierr.InvalidParameterValue, "%s: expected %s, got a JSON %s", member, typeName(te.Type.Kind().String()), te.Value)
	}
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return apierr.New(apierr.InvalidRequestContent, "Could not parse request body into json: %v (at byte %d)", se, se.Offset)
	}
	return apierr.New(apierr.InvalidRequestContent, "Could not parse request body into json: %v", err)
}

func typeName(kind string) string {
	switch kind {
	case "slice":
		return "a list or base64 blob"
	case "map", "struct":
		return "an object"
	case "ptr":
		return "a value"
	}
	return "a " + kind
}

// checkDepth refuses JSON nested deeper than maxDepth, before the
// decoder recurses into it.
func checkDepth(body []byte) error {
	depth, inString, escaped := 0, false, false
	for i, c := range body {
		switch {
		case inString:
			switch {
			case escaped:
				escaped = false
			case c == '\\':
				escaped = true
			case c == '"':
				inString = false
			}
		case c == '"':
			inString = true
		case c == '{' || c == '[':
			depth++
			if depth > maxDepth {
				return apierr.New(apierr.InvalidRequestContent,
					"%s", fmt.Sprintf("the request body nests deeper than %d levels (at byte %d)", maxDepth, i))
			}
		case c == '}' || c == ']':
			depth--
		}
	}
	return nil
}
