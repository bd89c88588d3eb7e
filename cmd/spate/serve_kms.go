package main

import (
	"fmt"
	"log/slog"
	"path/filepath"

	"github.com/spf13/pflag"

	"github.com/spatehq/spate/kms"
	"github.com/spatehq/spate/shard"
)

// defaultKeyringName is the keyring file's name in --data-dir when
// --kms-keys is not given.
const defaultKeyringName = "kms-keys.json"

// addKMSFlags adds the server-side encryption flags to serve's.
func addKMSFlags(f *pflag.FlagSet, cfg *serveConfig) {
	f.StringVar(&cfg.kmsKeys, "kms-keys", "",
		"keyring file of the master keys that encrypt streams at rest (StartStreamEncryption); created with mode 0600 when a key is first needed; default: "+defaultKeyringName+
			" in --data-dir, which protects copies of the data files only: keep it on another volume for more (see docs/encryption.md)")
}

// openKeyring opens the keyring that --kms-keys names and returns the
// store option that uses it.
func openKeyring(cfg serveConfig, logger *slog.Logger) (shard.Option, error) {
	path := cfg.kmsKeys
	if path == "" {
		path = filepath.Join(cfg.dataDir, defaultKeyringName)
	}
	k, err := kms.Open(path, kms.WithRegion(cfg.region), kms.WithAccountID(cfg.accountID))
	if err != nil {
		return nil, fmt.Errorf("--kms-keys: %w", err)
	}
	logger.Debug("kms keyring", "path", path, "default", cfg.kmsKeys == "")
	return shard.WithKeys(k), nil
}
