package keeper

import (
	"context"

	"github.com/cosmos/gogoproto/proto"

	sdk "github.com/cosmos/cosmos-sdk/types"
)

// emit emits typed events, failing the message if one cannot be encoded.
func emit(ctx context.Context, events ...proto.Message) error {
	sdkCtx := sdk.UnwrapSDKContext(ctx)
	return sdkCtx.EventManager().EmitTypedEvents(events...)
}
