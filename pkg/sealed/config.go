package sealed

import (
	"context"
	"fmt"
	"os"
	"strings"

	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/kms"
)

// Environment variables that choose the keyring.
const (
	// EnvKEK names the current KEK: "file:PATH" or "awskms:KEY-ID".
	EnvKEK = "LANTERN_KEK"
	// EnvPreviousKEKs names retired KEKs still trusted to unwrap, comma
	// separated, while a rotation is under way.
	EnvPreviousKEKs = "LANTERN_KEK_PREVIOUS"
)

// KeyringFromEnv builds the keyring named by LANTERN_KEK and
// LANTERN_KEK_PREVIOUS. devPath is the file KEK used when LANTERN_KEK is
// unset (make run's .lantern/kek); empty means LANTERN_KEK is required.
func KeyringFromEnv(ctx context.Context, devPath string) (*Keyring, error) {
	spec := os.Getenv(EnvKEK)
	if spec == "" {
		if devPath == "" {
			return nil, fmt.Errorf("%s is not set: name the key-encryption key (file:PATH or awskms:KEY-ID)", EnvKEK)
		}
		spec = "file:" + devPath
	}
	current, err := ParseKEK(ctx, spec)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", EnvKEK, err)
	}
	var previous []KEK
	for _, p := range strings.Split(os.Getenv(EnvPreviousKEKs), ",") {
		if p = strings.TrimSpace(p); p == "" {
			continue
		}
		k, err := ParseKEK(ctx, p)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", EnvPreviousKEKs, err)
		}
		previous = append(previous, k)
	}
	return NewKeyring(current, previous...), nil
}

// ParseKEK opens the KEK a spec names: "file:PATH" reads (and, when
// missing, creates) a file KEK; "awskms:KEY-ID" uses AWS KMS with the
// standard AWS configuration (region, credentials, AWS_ENDPOINT_URL_KMS
// for a KMS-compatible server).
func ParseKEK(ctx context.Context, spec string) (KEK, error) {
	kind, arg, ok := strings.Cut(spec, ":")
	if !ok || arg == "" {
		return nil, fmt.Errorf("key-encryption key %q: want file:PATH or awskms:KEY-ID", spec)
	}
	switch kind {
	case "file":
		return CreateFileKEK(arg)
	case "awskms":
		cfg, err := awsconfig.LoadDefaultConfig(ctx)
		if err != nil {
			return nil, fmt.Errorf("key-encryption key %q: AWS configuration: %w", spec, err)
		}
		return NewKMSKEK(kms.NewFromConfig(cfg), arg), nil
	default:
		return nil, fmt.Errorf("key-encryption key %q: unknown kind %q (file or awskms)", spec, kind)
	}
}
