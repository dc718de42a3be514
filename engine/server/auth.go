package server

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"

	"github.com/lamlhost/lamlhost/engine/config"
	"github.com/lamlhost/lamlhost/engine/signature"
)

// ErrNoToken: require_signature is set but no auth token is configured.
var ErrNoToken = errors.New("no auth token")

// auth is what signature checks need, built from one config.
type auth struct {
	verifier *signature.Verifier
	global   string
	numbers  map[string]string
}

// newAuth reads the tokens the config points at: the file auth_token_file,
// else the environment variable auth_token_env, and each number's own
// auth_token_env. Tokens are never logged.
func newAuth(cfg *config.Config, getenv func(string) string) (*auth, error) {
	v, err := signature.NewVerifier(signature.Options{
		PublicURL:      cfg.PublicURL,
		StripPrefix:    cfg.PublicURLStrip,
		TrustedProxies: cfg.TrustedProxies,
	})
	if err != nil {
		return nil, fmt.Errorf("signatures: %w", err)
	}
	a := &auth{verifier: v, numbers: map[string]string{}}
	if cfg.AuthTokenFile != "" {
		b, err := os.ReadFile(cfg.AuthTokenFile)
		if err != nil {
			return nil, fmt.Errorf("read auth_token_file: %w", err)
		}
		a.global = strings.TrimSpace(string(b))
	} else if cfg.AuthTokenEnv != "" {
		a.global = strings.TrimSpace(getenv(cfg.AuthTokenEnv))
	}
	for num, n := range cfg.Numbers {
		if n.AuthTokenEnv == "" {
			continue
		}
		tok := strings.TrimSpace(getenv(n.AuthTokenEnv))
		if tok == "" {
			return nil, fmt.Errorf("%w: numbers.%q: $%s is empty", ErrNoToken, num,
				n.AuthTokenEnv)
		}
		a.numbers[num] = tok
	}
	if a.global == "" && cfg.RequireSignature {
		where := "$" + cfg.AuthTokenEnv + " is empty"
		if cfg.AuthTokenFile != "" {
			where = cfg.AuthTokenFile + " is empty"
		}
		return nil, fmt.Errorf("%w: require_signature is set but %s", ErrNoToken, where)
	}
	return a, nil
}

// CheckAuth reports what the server would refuse about cfg's signature
// settings, as a start or a reload would.
func CheckAuth(cfg *config.Config, getenv func(string) string) error {
	_, err := newAuth(cfg, getenv)
	return err
}

// token returns the token that signs messages to to: the number's own,
// for the exact address or the bare number, else the global one.
func (a *auth) token(to string) string {
	if t, ok := a.numbers[to]; ok {
		return t
	}
	if _, bare, ok := strings.Cut(to, ":"); ok {
		if t, ok := a.numbers[bare]; ok {
			return t
		}
	}
	return a.global
}

// warn logs, once per configuration, that requests go unchecked.
func (a *auth) warn(log *slog.Logger, cfg *config.Config) {
	if a.global == "" {
		log.Warn("no auth token: request signatures are not checked; set $" +
			cfg.AuthTokenEnv + " or auth_token_file, and require_signature = true")
	}
}
