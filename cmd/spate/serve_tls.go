package main

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"time"

	"github.com/spf13/pflag"
)

// tlsFiles are the PEM files of `spate serve`'s TLS flags.
type tlsFiles struct {
	cert, key string // server certificate chain and its private key
	clientCA  string // CAs that sign gRPC clients' certificates (mutual TLS)
}

func addTLSFlags(f *pflag.FlagSet, t *tlsFiles) {
	f.StringVar(&t.cert, "tls-cert", "",
		"serve TLS on every listener with this PEM certificate chain (needs --tls-key; reread when it changes)")
	f.StringVar(&t.key, "tls-key", "", "PEM private key of --tls-cert")
	f.StringVar(&t.clientCA, "tls-client-ca", "",
		"require gRPC clients to present a certificate signed by a CA in this PEM file (mutual TLS)")
}

// serverTLS is the TLS configuration of each listener; both are nil when
// TLS is off.
type serverTLS struct {
	http *tls.Config // the HTTP API and metrics ports
	grpc *tls.Config // the gRPC port: also verifies clients with --tls-client-ca
}

// load reads the files and builds the configurations.
func (t tlsFiles) load(logger *slog.Logger) (serverTLS, error) {
	switch {
	case t.cert == "" && t.key == "" && t.clientCA == "":
		return serverTLS{}, nil
	case t.cert == "" || t.key == "":
		return serverTLS{}, errors.New("--tls-cert and --tls-key go together (and --tls-client-ca needs both)")
	}
	certs, err := newCertReloader(t.cert, t.key, logger)
	if err != nil {
		return serverTLS{}, err
	}
	base := &tls.Config{
		MinVersion:     tls.VersionTLS12,
		GetCertificate: certs.get,
	}
	grpcConf := base.Clone()
	if t.clientCA != "" {
		pool, err := loadCertPool(t.clientCA)
		if err != nil {
			return serverTLS{}, fmt.Errorf("--tls-client-ca: %w", err)
		}
		grpcConf.ClientCAs = pool
		grpcConf.ClientAuth = tls.RequireAndVerifyClientCert
	}
	return serverTLS{http: base, grpc: grpcConf}, nil
}

// loadCertPool reads a PEM file of CA certificates.
func loadCertPool(file string) (*x509.CertPool, error) {
	pem, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("%s holds no PEM certificate", file)
	}
	return pool, nil
}

// certReloader serves a certificate from files and rereads them when
// either's modification time changes, so a renewed certificate (certbot,
// cert-manager) is picked up by the next handshake without a restart.
// A pair that does not load (the key rewritten before the certificate, say)
// is logged and the previous one kept.
type certReloader struct {
	certFile, keyFile string
	log               *slog.Logger

	mu        sync.Mutex
	cert      *tls.Certificate
	certMod   time.Time
	keyMod    time.Time
	lastCheck time.Time
}

// reloadCheckInterval bounds how often the files are looked at: at most once
// a second, whatever the handshake rate.
const reloadCheckInterval = time.Second

func newCertReloader(certFile, keyFile string, logger *slog.Logger) (*certReloader, error) {
	r := &certReloader{certFile: certFile, keyFile: keyFile, log: logger}
	certMod, keyMod, err := r.modTimes()
	if err == nil {
		err = r.load(certMod, keyMod)
	}
	if err != nil {
		return nil, fmt.Errorf("--tls-cert/--tls-key: %w", err)
	}
	return r, nil
}

func (r *certReloader) modTimes() (cert, key time.Time, err error) {
	ci, err := os.Stat(r.certFile)
	if err != nil {
		return cert, key, err
	}
	ki, err := os.Stat(r.keyFile)
	if err != nil {
		return cert, key, err
	}
	return ci.ModTime(), ki.ModTime(), nil
}

// load reads the pair; the caller holds r.mu or owns r.
func (r *certReloader) load(certMod, keyMod time.Time) error {
	c, err := tls.LoadX509KeyPair(r.certFile, r.keyFile)
	if err != nil {
		return err
	}
	r.cert, r.certMod, r.keyMod = &c, certMod, keyMod
	return nil
}

// get is tls.Config.GetCertificate.
func (r *certReloader) get(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if now := time.Now(); now.Sub(r.lastCheck) >= reloadCheckInterval {
		r.lastCheck = now
		certMod, keyMod, err := r.modTimes()
		switch {
		case err != nil:
			r.log.Warn("TLS certificate files unreadable; serving the loaded certificate", "err", err)
		case !certMod.Equal(r.certMod) || !keyMod.Equal(r.keyMod):
			if err := r.load(certMod, keyMod); err != nil {
				r.log.Warn("TLS certificate changed but does not load; serving the previous one", "err", err)
			} else {
				r.log.Info("TLS certificate reloaded", "cert", r.certFile)
			}
		}
	}
	return r.cert, nil
}
