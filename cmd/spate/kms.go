package main

import (
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/spatehq/spate/kms"
)

// keyringFlags locate a keyring file as serve does: --kms-keys, or
// kms-keys.json in --data-dir; --region and --account-id shape the ARNs.
type keyringFlags struct {
	path, dataDir, region, accountID string
}

func (f *keyringFlags) add(cmd *cobra.Command) {
	fl := cmd.Flags()
	fl.StringVar(&f.path, "kms-keys", "", "keyring file (default: "+defaultKeyringName+" in --data-dir, as spate serve)")
	fl.StringVar(&f.dataDir, "data-dir", defaultDataDir, "the server's data directory")
	fl.StringVar(&f.region, "region", defaultRegion, "region of the keys' ARNs (the server's --region)")
	fl.StringVar(&f.accountID, "account-id", defaultAccountID, "account of the keys' ARNs (the server's --account-id)")
}

func (f *keyringFlags) open() (*kms.Keyring, error) {
	path := f.path
	if path == "" {
		path = filepath.Join(f.dataDir, defaultKeyringName)
	}
	return kms.Open(path, kms.WithRegion(f.region), kms.WithAccountID(f.accountID))
}

func newKMSCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "kms",
		Short: "Create and list the master keys of server-side encryption",
		Long: `Manage the keyring file that encrypts streams at rest (spate serve
--kms-keys; see docs/encryption.md). These commands edit the file directly,
not through a server; a running server reads the file again when it changes.

alias/aws/kinesis needs no key created here: the server generates it on first
use. Create a key for StartStreamEncryption --key-id alias/NAME (or its id or
ARN):

  spate kms create-key --alias alias/orders
  spate kms list-keys`,
	}
	cmd.AddCommand(newKMSCreateKeyCmd(), newKMSListKeysCmd())
	return cmd
}

func newKMSCreateKeyCmd() *cobra.Command {
	var f keyringFlags
	var aliases []string
	cmd := &cobra.Command{
		Use:   "create-key",
		Short: "Add a new 256-bit master key to the keyring (creating the file, mode 0600)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			k, err := f.open()
			if err != nil {
				return err
			}
			key, err := k.CreateKey(aliases...)
			if err != nil {
				return fmt.Errorf("create key: %w", err)
			}
			return formatKeys(cmd.OutOrStdout(), []kms.Key{key})
		},
	}
	f.add(cmd)
	cmd.Flags().StringSliceVar(&aliases, "alias", nil, "alias of the key (alias/NAME); repeat for more")
	return cmd
}

func newKMSListKeysCmd() *cobra.Command {
	var f keyringFlags
	cmd := &cobra.Command{
		Use:   "list-keys",
		Short: "List the keyring's master keys (never their material)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			k, err := f.open()
			if err != nil {
				return err
			}
			keys, err := k.Keys()
			if err != nil {
				return err
			}
			return formatKeys(cmd.OutOrStdout(), keys)
		},
	}
	f.add(cmd)
	return cmd
}

func formatKeys(w io.Writer, keys []kms.Key) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "KEY ID\tSTATE\tALIASES\tARN")
	for _, k := range keys {
		aliases := strings.Join(k.Aliases, ",")
		if aliases == "" {
			aliases = "-"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", k.ID, k.State, aliases, k.ARN)
	}
	return tw.Flush()
}
