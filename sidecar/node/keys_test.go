package node

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/cosmos/cosmos-sdk/crypto/hd"
	"github.com/cosmos/cosmos-sdk/crypto/keyring"

	"github.com/avschain/avschain/sidecar/chain"
	"github.com/avschain/avschain/sidecar/config"
)

// TestM9FileKeyringOpensWithoutAPrompt: a "file" keyring created with a
// passphrase opens with the passphrase from keyring_passphrase_file or
// AVS_SIDECAR_KEYRING_PASSPHRASE and nothing on stdin (systemd); a wrong one
// fails with a message naming both.
func TestM9FileKeyringOpensWithoutAPrompt(t *testing.T) {
	enc, err := chain.NewEncoding()
	require.NoError(t, err)
	dir := t.TempDir()
	const pass = "correct horse battery"

	// avsd keys add --keyring-backend file: asks twice (enter, re-enter).
	in := newPassphraseInput(pass)
	kr, err := keyring.New(keyringApp, "file", dir, in, enc.Codec)
	require.NoError(t, err)
	var rec *keyring.Record
	require.NoError(t, withoutTerminal(func() (err error) {
		rec, _, err = kr.NewMnemonic("operator1", keyring.English, "", "", hd.Secp256k1)
		return err
	}))
	want, err := rec.GetAddress()
	require.NoError(t, err)

	passFile := filepath.Join(t.TempDir(), "passphrase")
	require.NoError(t, os.WriteFile(passFile, []byte(pass+"\n"), 0o400))
	cfg := config.Default()
	cfg.KeyringBackend, cfg.KeyringDir, cfg.KeyringPassphraseFile = "file", dir, passFile
	require.NoError(t, cfg.Validate())

	// stdin holds nothing: only the file answers.
	s, err := openSigner(cfg, strings.NewReader(""), enc.Codec)
	require.NoError(t, err)
	require.Equal(t, want, s.Address)
	require.Equal(t, want.String(), s.Operator)
	require.False(t, s.VoteKey())

	// The same key signs on: the passphrase was asked once and kept.
	_, _, err = s.Keyring.Sign("operator1", []byte("vote"), 1)
	require.NoError(t, err)

	cfg.KeyringPassphraseFile = ""
	cfg.KeyringPassphrase = pass
	_, err = openSigner(cfg, strings.NewReader(""), enc.Codec)
	require.NoError(t, err, "from the environment")

	cfg.KeyringPassphrase = "not the passphrase"
	_, err = openSigner(cfg, strings.NewReader(""), enc.Codec)
	require.ErrorContains(t, err, `operator key "operator1" is not in the file keyring`)
	require.ErrorContains(t, err, "a wrong passphrase fails the same way")
}

// TestM9VoteKeySignsForTheOperator: with vote_key_name the keyring holds
// only the vote key; the operator is operator_address.
func TestM9VoteKeySignsForTheOperator(t *testing.T) {
	enc, err := chain.NewEncoding()
	require.NoError(t, err)
	dir := t.TempDir()
	kr, err := keyring.New(keyringApp, "test", dir, nil, enc.Codec)
	require.NoError(t, err)
	rec, _, err := kr.NewMnemonic("votes", keyring.English, "", "", hd.Secp256k1)
	require.NoError(t, err)
	voteAddr, err := rec.GetAddress()
	require.NoError(t, err)

	const operator = "avs1qyqszqgpqyqszqgpqyqszqgpqyqszqgpd3sl82"
	cfg := config.Default()
	cfg.KeyringDir, cfg.KeyName, cfg.VoteKeyName, cfg.OperatorAddress = dir, "", "votes", operator
	require.NoError(t, cfg.Validate())
	s, err := openSigner(cfg, nil, enc.Codec)
	require.NoError(t, err)
	require.Equal(t, voteAddr, s.Address)
	require.Equal(t, "votes", s.KeyName)
	require.Equal(t, operator, s.Operator)
	require.True(t, s.VoteKey())

	cfg.VoteKeyName = "nope"
	_, err = openSigner(cfg, nil, enc.Codec)
	require.ErrorContains(t, err, `vote key "nope" is not in the test keyring`)
	require.ErrorContains(t, err, "or set vote_key_name")
}
