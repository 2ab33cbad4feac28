package prefix_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/avschain/avschain/app/prefix"
)

// The constants are what the SDK derives from the account prefix.
func TestDerivedAsTheSDKDoes(t *testing.T) {
	require.Equal(t, prefix.Account+sdk.PrefixPublic, prefix.AccountPub)
	require.Equal(t, prefix.Account+sdk.PrefixValidator+sdk.PrefixOperator, prefix.Validator)
	require.Equal(t, prefix.Validator+sdk.PrefixPublic, prefix.ValidatorPub)
	require.Equal(t, prefix.Account+sdk.PrefixValidator+sdk.PrefixConsensus, prefix.Consensus)
	require.Equal(t, prefix.Consensus+sdk.PrefixPublic, prefix.ConsensusPub)
}
