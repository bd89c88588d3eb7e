package analytics

import (
	"context"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/spatehq/spate/analytics/query"
	"github.com/spatehq/spate/apierr"
)

// DefaultTagPrefix starts the stream tags that set per-stream defaults of
// the applications reading that stream: a tag
// "analytics.watermark_delay" = "5s" works as if every script reading the
// stream began with SET watermark_delay = INTERVAL '5' SECOND, unless the
// script sets it itself. Durations are Go durations ("500ms", "5s", "1m")
// or milliseconds; the other settings take their plain value ("changes",
// "LATEST", a stream name).
const DefaultTagPrefix = "analytics."

// defaultable lists the settings a stream tag may default, in the order
// their SET statements are written.
var defaultable = []struct {
	name     string
	duration bool
}{
	{"watermark_delay", true}, {"allowed_lateness", true}, {"max_skew", true},
	{"emit", false}, {"start_position", false}, {"late_rows", false},
}

var plainWord = regexp.MustCompile(`^[A-Za-z0-9_.-]{1,128}$`)

// streamDefaults returns the SET statements that source's tags add to a
// script whose own settings are explicit.
func (s *Service) streamDefaults(ctx context.Context, source string, explicit map[string]bool) (string, error) {
	page, _, err := s.store.ListTags(ctx, source, "", 0)
	if apierr.Is(err, apierr.ResourceNotFound) {
		return "", nil // Create reports the missing source
	}
	if err != nil {
		return "", err
	}
	tags := make(map[string]string, len(page))
	for _, t := range page {
		tags[t.Key] = t.Value
	}
	var b strings.Builder
	for _, d := range defaultable {
		v, ok := tags[DefaultTagPrefix+d.name]
		if !ok || explicit[d.name] {
			continue
		}
		lit, err := settingLiteral(d.duration, strings.TrimSpace(v))
		if err != nil {
			return "", apierr.New(apierr.InvalidArgument,
				"stream %s's tag %s%s = %q: %v; fix or remove the tag, or SET %s in the script",
				source, DefaultTagPrefix, d.name, v, err, d.name)
		}
		fmt.Fprintf(&b, "SET %s = %s;\n", d.name, lit)
	}
	return b.String(), nil
}

func settingLiteral(duration bool, v string) (string, error) {
	if duration {
		if ms, err := strconv.ParseInt(v, 10, 64); err == nil && ms >= 0 {
			return strconv.FormatInt(ms, 10), nil
		}
		d, err := time.ParseDuration(v)
		if err != nil || d < 0 {
			return "", fmt.Errorf("want a duration such as 500ms, 5s or 1m")
		}
		return strconv.FormatInt(d.Milliseconds(), 10), nil
	}
	if !plainWord.MatchString(v) {
		return "", fmt.Errorf("want a plain word of letters, digits, '_', '.' or '-'")
	}
	return "'" + v + "'", nil
}

// compileWithDefaults compiles a script, then again with its source
// stream's default settings in front. Errors in the script itself keep
// their line and column; errors in the defaults name the tag.
func (s *Service) compileWithDefaults(ctx context.Context, sql string) (plan *query.Plan, defaults string, err error) {
	plan, err = query.Compile(sql)
	if err != nil {
		return nil, "", err
	}
	defaults, err = s.streamDefaults(ctx, plan.Source, plan.Explicit)
	if err != nil || defaults == "" {
		return plan, "", err
	}
	full, err := compileStored(defaults, sql)
	if err != nil {
		return nil, "", apierr.New(apierr.InvalidArgument, "the default settings in stream %s's tags do not apply: %v", plan.Source, err)
	}
	return full, defaults, nil
}

// compileStored compiles a script with the default settings compileWithDefaults
// put in front of it. The defaults do not count towards the script's size
// limit, which the script alone has passed.
func compileStored(defaults, sql string) (*query.Plan, error) {
	return query.Compile(defaults+sql, query.MaxBytes(len(defaults)+query.MaxScriptBytes))
}
