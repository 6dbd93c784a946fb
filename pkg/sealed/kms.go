package sealed

import (
	"context"
	"encoding/base64"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/service/kms"
)

// KMSKEK is a KEK held by AWS KMS, or by any server that speaks its API
// (local-kms in tests). Wrapping and unwrapping are KMS Encrypt and Decrypt
// calls with the wrapped key's additional data as the encryption context,
// so KMS itself refuses to unwrap a key for another incident and records
// every unwrap in its own audit trail.
type KMSKEK struct {
	client *kms.Client
	keyID  string
}

// NewKMSKEK uses the KMS key keyID (an id, ARN or alias) through client.
func NewKMSKEK(client *kms.Client, keyID string) *KMSKEK {
	return &KMSKEK{client: client, keyID: keyID}
}

// ID is "awskms:" and the key id as configured.
func (k *KMSKEK) ID() string { return "awskms:" + k.keyID }

// encryptionContext carries aad as text: KMS contexts are string maps.
func encryptionContext(aad []byte) map[string]string {
	return map[string]string{"lantern": base64.StdEncoding.EncodeToString(aad)}
}

// Wrap asks KMS to encrypt dataKey.
func (k *KMSKEK) Wrap(ctx context.Context, dataKey, aad []byte) ([]byte, error) {
	out, err := k.client.Encrypt(ctx, &kms.EncryptInput{
		KeyId: &k.keyID, Plaintext: dataKey, EncryptionContext: encryptionContext(aad),
	})
	if err != nil {
		return nil, fmt.Errorf("wrapping with KMS key %s: %w", k.keyID, err)
	}
	return out.CiphertextBlob, nil
}

// Unwrap asks KMS to decrypt wrapped. The key id is passed too, so that a
// blob made under another key is refused rather than opened with it.
func (k *KMSKEK) Unwrap(ctx context.Context, wrapped, aad []byte) ([]byte, error) {
	out, err := k.client.Decrypt(ctx, &kms.DecryptInput{
		KeyId: &k.keyID, CiphertextBlob: wrapped, EncryptionContext: encryptionContext(aad),
	})
	if err != nil {
		return nil, fmt.Errorf("unwrapping with KMS key %s: %w", k.keyID, err)
	}
	return out.Plaintext, nil
}
