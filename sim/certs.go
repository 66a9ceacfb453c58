package sim

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"math/big"
	"sync"
	"testing"
	"testing/cryptotest"
	"time"

	"github.com/pion/webrtc/v4"
)

// certSeed seeds the crypto stream that makes the shared certificates.
const certSeed = 0xce27

// Shared DTLS certificates, one per peer, made once per process from
// certSeed. Generating two ECDSA keys and signing two certificates is about
// a tenth of a connect-and-close run, and has nothing to do with teardown.
// Their validity covers the bubble's fake clock, which starts at 2000-01-01.
var (
	certsOnce sync.Once
	certs     [2]webrtc.Certificate
	certsErr  error
)

// sharedCertificates returns the certificates for peers A and B. It must be
// called outside any bubble, before the run's crypto stream is seeded.
func sharedCertificates(t *testing.T) ([2]webrtc.Certificate, error) {
	certsOnce.Do(func() {
		cryptotest.SetGlobalRandom(t, certSeed)
		for i := range certs {
			key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
			if err != nil {
				certsErr = fmt.Errorf("certificate key: %w", err)
				return
			}
			serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 128))
			if err != nil {
				certsErr = fmt.Errorf("certificate serial: %w", err)
				return
			}
			name := pkix.Name{CommonName: "closesim"}
			c, err := webrtc.NewCertificate(key, x509.Certificate{
				Issuer: name, Subject: name, SerialNumber: serial, Version: 2,
				NotBefore: time.Date(1999, 1, 1, 0, 0, 0, 0, time.UTC),
				NotAfter:  time.Date(2100, 1, 1, 0, 0, 0, 0, time.UTC),
			})
			if err != nil {
				certsErr = fmt.Errorf("certificate: %w", err)
				return
			}
			certs[i] = *c
		}
	})
	return certs, certsErr
}
