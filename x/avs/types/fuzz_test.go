package types_test

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/require"

	errorsmod "cosmossdk.io/errors"

	"github.com/cosmos/cosmos-sdk/codec"
	codectypes "github.com/cosmos/cosmos-sdk/codec/types"

	"github.com/avschain/avschain/x/avs/types"
)

// FuzzManifestJSON decodes arbitrary JSON as a service manifest the way
// `avsd tx avs create-service` does and validates it: no input may panic, and
// a refusal of a decoded manifest must carry ErrInvalidManifest (or one of
// the registered errors of a rule with its own code: ErrFreeTrigger,
// ErrWeakThreshold, ErrEqualWeightingOpen).
func FuzzManifestJSON(f *testing.F) {
	cdc := codec.NewProtoCodec(codectypes.NewInterfaceRegistry())
	f.Add(`{"name":"square","component_digest":"` + types.Digest([]byte("x")) + `","limits":{"time_ms":"1000","memory_pages":16,"output_bytes":"64"},"quorum":{"threshold":"0.5"},"aggregation":{"mode":"AGGREGATION_MODE_EXACT"}}`)
	f.Add(`{"quorum":{"threshold":"abc"}}`)
	f.Add(`{"aggregation":{"mode":"AGGREGATION_MODE_MEDIAN","allowed_spread":"-1"}}`)
	f.Add(`{"config":{"AVS_X":"1"},"fee_per_task":{"denom":"u","amount":"-5"}}`)
	f.Add(`[]`)
	f.Fuzz(func(t *testing.T, js string) {
		var m types.ServiceManifest
		if err := cdc.UnmarshalJSON([]byte(js), &m); err != nil {
			return
		}
		if err := m.Validate(types.DefaultParams()); err != nil {
			want := types.ErrInvalidManifest
			for _, own := range []*errorsmod.Error{types.ErrFreeTrigger, types.ErrWeakThreshold, types.ErrEqualWeightingOpen} {
				if errors.Is(err, own) {
					want = own
				}
			}
			require.ErrorIs(t, err, want)
			_, code, _ := errorsmod.ABCIInfo(err, false)
			require.Equal(t, want.ABCICode(), code)
		}
	})
}
