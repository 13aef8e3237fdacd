package provider

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
)

// sealer encrypts secrets at rest (signing keys) with the master key,
// AES-256-GCM, random 96-bit nonce prepended to the ciphertext. The additional
// data binds a ciphertext to its row (key id), so a ciphertext copied to
// another row does not decrypt.
type sealer struct{ aead cipher.AEAD }

func newSealer(masterKey []byte) (*sealer, error) {
	if len(masterKey) != 32 {
		return nil, errors.New("oidc: master key must be 32 bytes")
	}
	block, err := aes.NewCipher(masterKey)
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	return &sealer{aead: aead}, nil
}

// seal returns base64(nonce || ciphertext).
func (s *sealer) seal(plaintext, ad []byte) (string, error) {
	nonce := make([]byte, s.aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return "", err
	}
	out := s.aead.Seal(nonce, nonce, plaintext, ad)
	return base64.StdEncoding.EncodeToString(out), nil
}

// open reverses seal.
func (s *sealer) open(sealed string, ad []byte) ([]byte, error) {
	raw, err := base64.StdEncoding.DecodeString(sealed)
	if err != nil {
		return nil, fmt.Errorf("oidc: decode sealed value: %w", err)
	}
	n := s.aead.NonceSize()
	if len(raw) < n {
		return nil, errors.New("oidc: sealed value too short")
	}
	pt, err := s.aead.Open(nil, raw[:n], raw[n:], ad)
	if err != nil {
		return nil, errors.New("oidc: cannot decrypt sealed value (wrong master key?)")
	}
	return pt, nil
}
