package localnet

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// The dev accounts the demos and e2e tests sign with are in the data file,
// each with a 24-word mnemonic.
func TestDevMnemonic(t *testing.T) {
	for _, name := range []string{"validator", "alice", "bob", "carol", "operator1", "operator2", "operator3"} {
		require.Len(t, strings.Fields(DevMnemonic(t, name)), 24, name)
	}
	require.True(t, strings.HasPrefix(DevMnemonic(t, "carol"), "trick bamboo tissue "))
}
