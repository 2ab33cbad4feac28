package keeper

import (
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

// getService loads a service or returns ErrServiceNotFound.
func (k Keeper) getService(ctx sdk.Context, id uint64) (types.Service, error) {
	s, err := k.Services.Get(ctx, id)
	if isNotFound(err) {
		return s, errorsmod.Wrapf(types.ErrServiceNotFound, "service %d", id)
	}
	return s, err
}

// ownedService loads a service and checks that signer owns it.
func (k Keeper) ownedService(ctx sdk.Context, id uint64, signer string) (types.Service, error) {
	if _, err := k.accAddress("owner", signer); err != nil {
		return types.Service{}, err
	}
	s, err := k.getService(ctx, id)
	if err != nil {
		return s, err
	}
	if s.Owner != signer {
		return s, errorsmod.Wrapf(types.ErrNotServiceOwner, "service %d is owned by %s, not %s", id, s.Owner, signer)
	}
	return s, nil
}

// getOperator loads a registered operator or returns ErrOperatorNotFound.
func (k Keeper) getOperator(ctx sdk.Context, addr string) (types.Operator, error) {
	if _, err := k.accAddress("operator", addr); err != nil {
		return types.Operator{}, err
	}
	op, err := k.Operators.Get(ctx, addr)
	if isNotFound(err) {
		return op, errorsmod.Wrapf(types.ErrOperatorNotFound, "%s: register with MsgRegisterOperator first", addr)
	}
	return op, err
}

// emit emits typed events, failing the message if one cannot be encoded.
func emit(ctx sdk.Context, events ...proto.Message) error {
	return ctx.EventManager().EmitTypedEvents(events...)
}
