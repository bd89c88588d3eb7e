package auth

import (
	"fmt"
	"os"
	"sort"
	"strings"

	"gopkg.in/ini.v1"
)

// Keys are the access keys a server accepts: access key ID → profile.
// The zero value accepts none.
type Keys struct {
	byID map[string]key
}

type key struct {
	profile string
	secret  string
}

// LoadKeys reads a file in the AWS shared-credentials format (the
// ~/.aws/credentials that users already have): [profile] sections, each
// with aws_access_key_id and aws_secret_access_key. Other keys in a
// section (region, aws_session_token, ...) are ignored. A section without
// both keys, an access key ID used twice, or a file without any key is an
// error, so that a typo cannot silently lock a profile out or let one
// profile's key pass for another's.
func LoadKeys(path string) (*Keys, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read credentials: %w", err)
	}
	k, err := ParseKeys(b)
	if err != nil {
		return nil, fmt.Errorf("credentials %s: %w", path, err)
	}
	return k, nil
}

// ParseKeys parses the contents of a credentials file (see LoadKeys).
func ParseKeys(b []byte) (*Keys, error) {
	profiles, err := parseProfiles(b)
	if err != nil {
		return nil, err
	}
	k := &Keys{byID: make(map[string]key, len(profiles))}
	names := make([]string, 0, len(profiles))
	for name := range profiles {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		p := profiles[name]
		if p.AccessKeyID == "" || p.SecretAccessKey == "" {
			return nil, fmt.Errorf("profile [%s] needs both aws_access_key_id and aws_secret_access_key", name)
		}
		if other, dup := k.byID[p.AccessKeyID]; dup {
			return nil, fmt.Errorf("profiles [%s] and [%s] have the same aws_access_key_id", other.profile, name)
		}
		k.byID[p.AccessKeyID] = key{profile: name, secret: p.SecretAccessKey}
	}
	if len(k.byID) == 0 {
		return nil, fmt.Errorf("no [profile] section with aws_access_key_id and aws_secret_access_key")
	}
	return k, nil
}

// Profiles lists the profiles that have a key, sorted.
func (k *Keys) Profiles() []string {
	var names []string
	for _, v := range k.byID {
		names = append(names, v.profile)
	}
	sort.Strings(names)
	return names
}

// lookup returns the profile and secret of an access key ID.
func (k *Keys) lookup(id string) (key, bool) {
	if k == nil {
		return key{}, false
	}
	v, ok := k.byID[id]
	return v, ok
}

// Profile is one section of a shared-credentials file.
type Profile struct {
	Name            string
	AccessKeyID     string
	SecretAccessKey string
	SessionToken    string
}

// ReadProfile returns one profile of a shared-credentials file, for
// clients that sign with it.
func ReadProfile(path, name string) (Profile, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return Profile{}, fmt.Errorf("read credentials: %w", err)
	}
	profiles, err := parseProfiles(b)
	if err != nil {
		return Profile{}, fmt.Errorf("credentials %s: %w", path, err)
	}
	p, ok := profiles[name]
	if !ok || p.AccessKeyID == "" || p.SecretAccessKey == "" {
		return Profile{}, fmt.Errorf("credentials %s: no profile [%s] with aws_access_key_id and aws_secret_access_key", path, name)
	}
	return p, nil
}

// parseProfiles parses the INI of a credentials file with gopkg.in/ini.v1
// (the parser the AWS SDK for Go v1 used for the same files). Key names are
// matched case-insensitively, as the AWS CLI does; values are not.
func parseProfiles(b []byte) (map[string]Profile, error) {
	// A value is kept whole, " #" and " ;" included: a secret cut at what
	// looked like a comment would fail every signature without saying why.
	f, err := ini.LoadSources(ini.LoadOptions{IgnoreInlineComment: true}, b)
	if err != nil {
		return nil, fmt.Errorf("parse: %w", err)
	}
	out := make(map[string]Profile)
	for _, s := range f.Sections() {
		name := strings.TrimSpace(s.Name())
		if name == ini.DefaultSection && len(s.Keys()) == 0 {
			continue
		}
		if name == ini.DefaultSection {
			return nil, fmt.Errorf("keys outside a [profile] section")
		}
		// ~/.aws/config spells sections "[profile NAME]"; accept it.
		name = strings.TrimSpace(strings.TrimPrefix(name, "profile "))
		p := Profile{Name: name}
		for _, kv := range s.Keys() {
			switch strings.ToLower(kv.Name()) {
			case "aws_access_key_id":
				p.AccessKeyID = strings.TrimSpace(kv.Value())
			case "aws_secret_access_key":
				p.SecretAccessKey = strings.TrimSpace(kv.Value())
			case "aws_session_token":
				p.SessionToken = strings.TrimSpace(kv.Value())
			}
		}
		out[name] = p
	}
	return out, nil
}
