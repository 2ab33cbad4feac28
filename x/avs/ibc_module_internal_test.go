package avs

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/require"

	errorsmod "cosmossdk.io/errors"

	channeltypes "github.com/cosmos/ibc-go/v8/modules/core/04-channel/types"
	ibcerrors "github.com/cosmos/ibc-go/v8/modules/core/errors"

	"github.com/avschain/avschain/x/avs/types"
)

// TestErrorAckNamesTheRegisteredError: a client on the other chain reads why
// its request was refused from the acknowledgement alone. An x/avs error
// gives its codespace, code and registered description, never the wrapped
// message (ids and values stay in EventIBCFailed); any other error keeps
// ibc-go's codespace-and-code form.
func TestErrorAckNamesTheRegisteredError(t *testing.T) {
	for _, tc := range []struct {
		name string
		err  error
		want string
	}{
		{"x/avs error", types.ErrServiceNotFound, "ABCI error: avs/10: service not found"},
		{"wrapped x/avs error", errorsmod.Wrapf(types.ErrChannelNotAllowed, "service %d does not list channel %s", 4, "channel-7"),
			"ABCI error: avs/40: channel may not request tasks from this service"},
		{"twice wrapped", errorsmod.Wrap(errorsmod.Wrap(types.ErrIBCRateLimit, "channel-0"), "block 12"),
			"ABCI error: avs/46: ibc_requests_per_channel_per_block reached for this channel"},
		{"ibc-go error", errorsmod.Wrap(ibcerrors.ErrInvalidRequest, "x"), "ABCI error: ibc/8: error handling packet: see events for details"},
		{"plain error", errors.New("boom"), "ABCI error: undefined/1: error handling packet: see events for details"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ack := errorAck(tc.err)
			require.False(t, ack.Success())
			require.Equal(t, tc.want, ack.GetError())
			var back channeltypes.Acknowledgement
			require.NoError(t, types.ModuleCdcJSON.UnmarshalJSON(ack.Acknowledgement(), &back), "an ICS-04 acknowledgement")
			require.Equal(t, tc.want, back.GetError())
		})
	}
}
