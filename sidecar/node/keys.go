package node

import (
	"fmt"
	"io"
	"os"

	"github.com/cosmos/cosmos-sdk/codec"
	"github.com/cosmos/cosmos-sdk/crypto/keyring"
	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/avschain/avschain/sidecar/config"
)

// keyringApp is the keyring's service name, avsd's: the sidecar reads the
// keys `avsd keys add` wrote.
const keyringApp = "avschain"

// Signer is who votes: the key that signs in the keyring, and the
// operator the votes are for (the same account unless a vote key signs
// for it through authz).
type Signer struct {
	Keyring  keyring.Keyring
	KeyName  string
	Address  sdk.AccAddress
	Operator string
}

// VoteKey reports whether a separate vote key signs for the operator.
func (s Signer) VoteKey() bool { return s.Address.String() != s.Operator }

// passphraseInput answers every read with one line holding the passphrase.
// The SDK's file keyring wraps its input in a new bufio.Reader for every
// prompt and asks twice when it creates the keyring (passphrase, then
// "Re-enter"), once to open it (crypto/keyring.newRealPrompt); returning a
// single line per Read means no prompt swallows the next one's answer, and
// however many times it asks (three attempts at most) it gets an answer.
type passphraseInput struct {
	line []byte
	off  int
}

func newPassphraseInput(pass string) *passphraseInput {
	return &passphraseInput{line: []byte(pass + "\n")}
}

func (p *passphraseInput) Read(b []byte) (int, error) {
	n := copy(b, p.line[p.off:])
	p.off = (p.off + n) % len(p.line)
	return n, nil
}

// withoutTerminal runs f with os.Stdin on /dev/null: the SDK's prompt reads
// the terminal, not its input, whenever stdin is one
// (client/input.GetPassword), and the passphrase given is then ignored.
// Only for the keyring's first use, before the node's parts start.
func withoutTerminal(f func() error) error {
	null, err := os.Open(os.DevNull)
	if err != nil {
		return f()
	}
	defer null.Close()
	stdin := os.Stdin
	os.Stdin = null
	defer func() { os.Stdin = stdin }()
	return f()
}

// keyringInput is where the keyring reads a passphrase: the configured one
// (file or environment), else in (default os.Stdin).
func keyringInput(cfg config.Config, in io.Reader) (io.Reader, bool, error) {
	pass, err := cfg.Passphrase()
	if err != nil {
		return nil, false, err
	}
	if pass == "" {
		return in, false, nil
	}
	return newPassphraseInput(pass), true, nil
}

// openSigner opens the keyring and finds the key that signs: vote_key_name
// if set (the operator is then operator_address), else key_name (the
// operator itself). A missing key is an error saying how to add it.
func openSigner(cfg config.Config, in io.Reader, cdc codec.Codec) (Signer, error) {
	input, fed, err := keyringInput(cfg, in)
	if err != nil {
		return Signer{}, err
	}
	kr, err := keyring.New(keyringApp, cfg.KeyringBackend, cfg.KeyringDir, input, cdc)
	if err != nil {
		return Signer{}, fmt.Errorf("keyring %s in %s: %w", cfg.KeyringBackend, cfg.KeyringDir, err)
	}
	name, role := cfg.KeyName, "operator key"
	if cfg.VoteKeyName != "" {
		name, role = cfg.VoteKeyName, "vote key"
	}
	var rec *keyring.Record
	find := func() (err error) { rec, err = kr.Key(name); return err }
	if fed {
		err = withoutTerminal(find)
	} else {
		err = find()
	}
	if err != nil {
		hint := ""
		if cfg.KeyringBackend != "test" && cfg.KeyringBackend != "memory" {
			hint = fmt.Sprintf(" (a wrong passphrase fails the same way: check keyring_passphrase_file or %s)", config.PassphraseEnv)
		}
		return Signer{}, fmt.Errorf("%s %q is not in the %s keyring in %s: %v%s; import it with 'avsd keys add %s --recover --keyring-backend %s --keyring-dir %s', or set %s and keyring_dir",
			role, name, cfg.KeyringBackend, cfg.KeyringDir, err, hint, name, cfg.KeyringBackend, cfg.KeyringDir, map[bool]string{true: "vote_key_name", false: "key_name"}[cfg.VoteKeyName != ""])
	}
	addr, err := rec.GetAddress()
	if err != nil {
		return Signer{}, fmt.Errorf("%s %q: %w", role, name, err)
	}
	operator := addr.String()
	if cfg.VoteKeyName != "" {
		operator = cfg.OperatorAddress
	}
	return Signer{Keyring: kr, KeyName: name, Address: addr, Operator: operator}, nil
}
