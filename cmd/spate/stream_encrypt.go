package main

import (
	"fmt"

	"github.com/spf13/cobra"

	spatev1 "github.com/spatehq/spate/proto/spate/v1"
)

// defaultStreamKey is the KeyId `spate stream encrypt` uses without
// --key-id: the AWS-managed key, which always exists.
const defaultStreamKey = "alias/aws/kinesis"

func newStreamEncryptCmd() *cobra.Command {
	var keyID string
	var stop bool
	cmd := &cobra.Command{
		Use:   "encrypt STREAM",
		Short: "Encrypt a stream's records at rest, or stop (--stop)",
		Long: `Start server-side encryption of STREAM (Kinesis's StartStreamEncryption):
records appended from now on are stored encrypted with a data key wrapped by
the master key --key-id of the server's keyring (spate serve --kms-keys; see
docs/encryption.md). --key-id takes a key id, a key ARN, alias/NAME or an
alias ARN; alias/aws/kinesis, the default, always works. --stop stops it
(StopStreamEncryption): records appended afterwards are stored in the clear,
and encrypted ones stay readable. The stream is UPDATING for a moment, then
ACTIVE; 'spate stream describe' shows the encryption.`,
		Example: `  spate stream encrypt orders
  spate stream encrypt orders --key-id alias/orders
  spate stream encrypt orders --stop`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := dial(cmd)
			if err != nil {
				return err
			}
			defer c.Close()
			name := args[0]
			if stop {
				_, err = c.api.StopStreamEncryption(cmd.Context(), &spatev1.StopStreamEncryptionRequest{
					StreamName: name, EncryptionType: "KMS", KeyId: keyID})
				if err != nil {
					return c.fail("stop encryption of stream "+name, err)
				}
				_, err = fmt.Fprintf(cmd.OutOrStdout(), "stopped encryption of stream %s\n", name)
				return err
			}
			_, err = c.api.StartStreamEncryption(cmd.Context(), &spatev1.StartStreamEncryptionRequest{
				StreamName: name, EncryptionType: "KMS", KeyId: keyID})
			if err != nil {
				return c.fail("start encryption of stream "+name, err)
			}
			_, err = fmt.Fprintf(cmd.OutOrStdout(), "encrypting stream %s with %s\n", name, keyID)
			return err
		},
	}
	cmd.Flags().StringVar(&keyID, "key-id", defaultStreamKey, "the master key: key id, key ARN, alias/NAME or alias ARN")
	cmd.Flags().BoolVar(&stop, "stop", false, "stop encrypting (StopStreamEncryption)")
	return cmd
}
