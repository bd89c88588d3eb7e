package groups

import "github.com/spatehq/spate/apierr"

// maxNameLen bounds group names and worker IDs.
const maxNameLen = 128

// validateGroup checks a group name: 1 to 128 of [a-zA-Z0-9_.-].
func validateGroup(name string) error {
	return validateName("group", name, "")
}

// validateWorker checks a worker ID: 1 to 128 of [a-zA-Z0-9_.:-].
func validateWorker(id string) error {
	return validateName("worker_id", id, ":")
}

func validateName(what, v, extra string) error {
	if len(v) < 1 || len(v) > maxNameLen {
		return apierr.New(apierr.InvalidArgument, "%s must be 1 to %d characters; got %d", what, maxNameLen, len(v))
	}
	for i := 0; i < len(v); i++ {
		c := v[i]
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '.' || c == '-'
		if !ok && (extra == "" || c != extra[0]) {
			return apierr.New(apierr.InvalidArgument, "%s %q has character %q at %d: use [a-zA-Z0-9_.%s-]", what, v, c, i, extra)
		}
	}
	return nil
}

// validateShardID bounds a shard ID's length, as the HTTP model does: it
// is only looked up, but a longer one is echoed in the not-found error.
func validateShardID(id string) error {
	if len(id) > maxNameLen {
		return apierr.New(apierr.InvalidArgument, "shard_id must be at most %d characters; got %d", maxNameLen, len(id))
	}
	return nil
}
