package keeper

import (
	"context"
	"errors"

	"github.com/cosmos/gogoproto/proto"

	"cosmossdk.io/collections"
	errorsmod "cosmossdk.io/errors"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/avschain/avschain/x/avs/types"
)

func isNotFound(err error) bool { return errors.Is(err, collections.ErrNotFound) }

// accAddress decodes a bech32 account address, naming the field on failure.
func (k Keeper) accAddress(field, addr string) (sdk.AccAddress, error) {
	bz, err := k.addressCodec.StringToBytes(addr)
	if err != nil {
		return nil, errorsmod.Wrapf(types.ErrInvalidAddress, "%s %q: %s", field, addr, err)
	}
	return bz, nil
}

// emit emits typed events, failing the message if one cannot be encoded.
func emit(ctx context.Context, events ...proto.Message) error {
	sdkCtx := sdk.UnwrapSDKContext(ctx)
	return sdkCtx.EventManager().EmitTypedEvents(events...)
}
