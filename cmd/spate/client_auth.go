package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"google.golang.org/grpc"

	"github.com/spatehq/spate/auth"
	"github.com/spatehq/spate/client"
)

// addClientAuthFlags adds the persistent flag that picks the credentials
// client commands sign their gRPC calls with.
func addClientAuthFlags(f *pflag.FlagSet) {
	f.String("profile", "",
		"sign gRPC calls with this profile of the AWS shared-credentials file (default: AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, else AWS_PROFILE, else [default] when the file has it; none: unsigned)")
}

// clientCredentials finds the key a client command signs with, as the AWS
// CLI does: --profile, else AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY,
// else AWS_PROFILE, else the [default] profile, in the file
// AWS_SHARED_CREDENTIALS_FILE or ~/.aws/credentials. A named profile must
// exist; without any, calls are unsigned (ok is false), which a server
// without --credentials accepts.
func clientCredentials(cmd *cobra.Command, getenv func(string) string) (p auth.Profile, ok bool, err error) {
	profile, err := cmd.Flags().GetString("profile")
	if err != nil {
		return p, false, err
	}
	if profile == "" {
		if id, secret := getenv("AWS_ACCESS_KEY_ID"), getenv("AWS_SECRET_ACCESS_KEY"); id != "" && secret != "" {
			return auth.Profile{Name: "env", AccessKeyID: id, SecretAccessKey: secret}, true, nil
		}
		profile = getenv("AWS_PROFILE")
	}
	file := getenv("AWS_SHARED_CREDENTIALS_FILE")
	if file == "" {
		home, herr := os.UserHomeDir()
		if herr != nil {
			if profile != "" {
				return p, false, fmt.Errorf("profile %s: no home directory for ~/.aws/credentials: %w", profile, herr)
			}
			return p, false, nil
		}
		file = filepath.Join(home, ".aws", "credentials")
	}
	if profile == "" {
		p, err := auth.ReadProfile(file, "default")
		if err != nil {
			// No [default]: unsigned. An unreadable or malformed file is
			// reported only when a profile is asked for by name.
			return p, false, nil
		}
		return p, true, nil
	}
	p, err = auth.ReadProfile(file, profile)
	if errors.Is(err, fs.ErrNotExist) {
		return p, false, fmt.Errorf("profile %s: %s does not exist", profile, file)
	}
	if err != nil {
		return p, false, err
	}
	return p, true, nil
}

// signingRegion is the region of the credential scope: the server accepts
// any, so the standard variables are used when set.
func signingRegion(getenv func(string) string) string {
	for _, k := range []string{"AWS_REGION", "AWS_DEFAULT_REGION"} {
		if v := getenv(k); v != "" {
			return v
		}
	}
	return defaultRegion
}

// clientAuthOptions returns the dial option that signs calls, or none.
func clientAuthOptions(cmd *cobra.Command) ([]grpc.DialOption, error) {
	p, ok, err := clientCredentials(cmd, os.Getenv)
	if err != nil || !ok {
		return nil, err
	}
	return []grpc.DialOption{grpc.WithPerRPCCredentials(client.SigV4(p, signingRegion(os.Getenv)))}, nil
}
