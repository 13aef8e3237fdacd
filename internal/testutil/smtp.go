package testutil

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"io"
	"math/big"
	"net"
	"net/mail"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// Mail is one message an SMTPServer received.
type Mail struct {
	From, To string
	// Raw is the message as transmitted; Body its decoded text part
	// (quoted-printable undone), enough to find links in.
	Raw, Subject, Body string
}

// SMTPMode is how an SMTPServer offers TLS.
type SMTPMode int

const (
	// SMTPStartTLS offers STARTTLS (port 587 style).
	SMTPStartTLS SMTPMode = iota
	// SMTPImplicitTLS speaks TLS from the first byte (smtps, port 465 style).
	SMTPImplicitTLS
	// SMTPPlain offers no TLS at all, yet advertises AUTH: a server a
	// client must not send its password to.
	SMTPPlain
)

// SMTPServer is a real SMTP server on a loopback port (emersion/go-smtp)
// that keeps what it receives. It offers TLS (see SMTPMode) with a
// self-signed certificate (so clients need insecure_skip_verify) and
// accepts any credentials. Stop and Start simulate an outage on the same
// port.
type SMTPServer struct {
	t    testing.TB
	Addr string
	mode SMTPMode
	tls  *tls.Config

	mu    sync.Mutex
	srv   *smtp.Server
	l     net.Listener
	mails []Mail
	auths int
	// Reject, when set, answers RCPT for this address with a permanent 550.
	Reject string
}

// NewSMTPServer starts a STARTTLS server; it stops when the test ends.
func NewSMTPServer(t testing.TB) *SMTPServer {
	t.Helper()
	return NewSMTPServerMode(t, SMTPStartTLS)
}

// NewSMTPServerMode starts a server offering TLS as mode says; it stops
// when the test ends.
func NewSMTPServerMode(t testing.TB, mode SMTPMode) *SMTPServer {
	t.Helper()
	s := &SMTPServer{t: t, mode: mode, tls: selfSignedTLS(t)}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("smtp listen: %v", err)
	}
	s.Addr = l.Addr().String()
	s.serve(l)
	t.Cleanup(s.Stop)
	return s
}

// Port is the server's port.
func (s *SMTPServer) Port() string { _, p, _ := net.SplitHostPort(s.Addr); return p }

// URL is a GATEHOUSE_SMTP_URL for this server (any certificate): smtps://
// for SMTPImplicitTLS, else smtp://.
func (s *SMTPServer) URL() string {
	scheme := "smtp"
	if s.mode == SMTPImplicitTLS {
		scheme = "smtps"
	}
	return scheme + "://test:secret@" + s.Addr + "?insecure_skip_verify"
}

// Auths is how many times a client authenticated (sent its credentials).
func (s *SMTPServer) Auths() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.auths
}

func (s *SMTPServer) serve(l net.Listener) {
	srv := smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) { return &smtpSession{s: s}, nil }))
	srv.Domain = "localhost"
	switch s.mode {
	case SMTPStartTLS:
		srv.TLSConfig = s.tls
	case SMTPImplicitTLS:
		l = tls.NewListener(l, s.tls)
	}
	srv.AllowInsecureAuth = true
	srv.ReadTimeout, srv.WriteTimeout = 10*time.Second, 10*time.Second
	s.mu.Lock()
	s.srv, s.l = srv, l
	s.mu.Unlock()
	go func() { _ = srv.Serve(l) }()
}

// Stop closes the server (connections are refused until Start).
func (s *SMTPServer) Stop() {
	s.mu.Lock()
	srv, l := s.srv, s.l
	s.srv, s.l = nil, nil
	s.mu.Unlock()
	if srv != nil {
		// Closing the listener too: Serve may not have registered it yet.
		_ = l.Close()
		_ = srv.Close()
	}
}

// Start listens again on the same address.
func (s *SMTPServer) Start() {
	s.t.Helper()
	var l net.Listener
	var err error
	for i := 0; i < 50; i++ { // the port may linger briefly
		if l, err = net.Listen("tcp", s.Addr); err == nil {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err != nil {
		s.t.Fatalf("smtp restart: %v", err)
	}
	s.serve(l)
}

// Mails returns what was received so far.
func (s *SMTPServer) Mails() []Mail {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Mail(nil), s.mails...)
}

// WaitFor waits until n messages arrived (failing the test after timeout)
// and returns them.
func (s *SMTPServer) WaitFor(n int, timeout time.Duration) []Mail {
	s.t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		m := s.Mails()
		if len(m) >= n {
			return m
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("smtp: %d message(s) after %s, want %d", len(m), timeout, n)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

type smtpSession struct {
	s        *SMTPServer
	from, to string
}

func (x *smtpSession) AuthMechanisms() []string { return []string{"PLAIN"} }
func (x *smtpSession) Auth(string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(_, _, _ string) error {
		x.s.mu.Lock()
		x.s.auths++
		x.s.mu.Unlock()
		return nil
	}), nil
}
func (x *smtpSession) Reset()        { x.from, x.to = "", "" }
func (x *smtpSession) Logout() error { return nil }
func (x *smtpSession) Mail(from string, _ *smtp.MailOptions) error {
	x.from = from
	return nil
}
func (x *smtpSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	x.s.mu.Lock()
	reject := x.s.Reject
	x.s.mu.Unlock()
	if reject != "" && strings.EqualFold(to, reject) {
		return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "no such user"}
	}
	x.to = to
	return nil
}

func (x *smtpSession) Data(r io.Reader) error {
	raw, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	m := Mail{From: x.from, To: x.to, Raw: string(raw)}
	if msg, err := mail.ReadMessage(bytes.NewReader(raw)); err == nil {
		m.Subject = msg.Header.Get("Subject")
	}
	m.Body = decodeQP(string(raw))
	x.s.mu.Lock()
	x.s.mails = append(x.s.mails, m)
	x.s.mu.Unlock()
	return nil
}

// decodeQP undoes quoted-printable soft line breaks and =3D, enough for
// tests to read links out of a message.
func decodeQP(s string) string {
	s = strings.ReplaceAll(s, "=\r\n", "")
	s = strings.ReplaceAll(s, "=\n", "")
	return strings.ReplaceAll(s, "=3D", "=")
}

func selfSignedTLS(t testing.TB) *tls.Config {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "localhost"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		DNSNames: []string{"localhost"}, IPAddresses: []net.IP{net.ParseIP("127.0.0.1")},
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}}
}
