package main

import (
	"crypto/tls"
	"errors"
	"fmt"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
)

// addClientTLSFlags registers the TLS flags of the gRPC client commands
// (persistent flags of the root, like --grpc-addr).
func addClientTLSFlags(f *pflag.FlagSet) {
	f.Bool("tls", false, "client commands: dial --grpc-addr over TLS, trusting the system's CAs (implied by the other --tls-* flags)")
	f.String("tls-ca", "", "client commands: dial over TLS, trusting the CAs in this PEM file (for a server's own CA)")
	f.String("tls-client-cert", "", "client commands: present this PEM certificate (mutual TLS; needs --tls-client-key)")
	f.String("tls-client-key", "", "client commands: PEM private key of --tls-client-cert")
}

// clientTransportCredentials returns the transport credentials the --tls* flags ask
// for: plain text when none is given.
func clientTransportCredentials(cmd *cobra.Command) (credentials.TransportCredentials, error) {
	f := cmd.Flags()
	on, err := f.GetBool("tls")
	if err != nil {
		return nil, err
	}
	var ca, cert, key string
	for _, s := range []struct {
		name string
		to   *string
	}{{"tls-ca", &ca}, {"tls-client-cert", &cert}, {"tls-client-key", &key}} {
		if *s.to, err = f.GetString(s.name); err != nil {
			return nil, err
		}
	}
	if !on && ca == "" && cert == "" && key == "" {
		return insecure.NewCredentials(), nil
	}
	conf := &tls.Config{MinVersion: tls.VersionTLS12}
	if ca != "" {
		if conf.RootCAs, err = loadCertPool(ca); err != nil {
			return nil, fmt.Errorf("--tls-ca: %w", err)
		}
	}
	switch {
	case cert != "" && key != "":
		c, err := tls.LoadX509KeyPair(cert, key)
		if err != nil {
			return nil, fmt.Errorf("--tls-client-cert/--tls-client-key: %w", err)
		}
		conf.Certificates = []tls.Certificate{c}
	case cert != "" || key != "":
		return nil, errors.New("--tls-client-cert and --tls-client-key go together")
	}
	return credentials.NewTLS(conf), nil
}
