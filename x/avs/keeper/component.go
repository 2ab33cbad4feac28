package keeper

import (
	errorsmod "cosmossdk.io/errors"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/avschain/avschain/x/avs/types"
)

// storeComponent validates and stores a component (raw or gzip'd), charging
// gas per uncompressed byte. Storing a component twice is not an error: it is
// content-addressed, and the second store reports existed.
func (k Keeper) storeComponent(ctx sdk.Context, uploader string, wasm []byte) (*types.MsgStoreComponentResponse, error) {
	params, err := k.Params.Get(ctx)
	if err != nil {
		return nil, err
	}
	if len(wasm) == 0 {
		return nil, errorsmod.Wrap(types.ErrInvalidComponent, "empty wasm")
	}
	// The bound holds for the upload as sent (a gzip upload is stored as
	// sent, so padding it must not get past the limit) and for the code.
	if uint64(len(wasm)) > params.MaxComponentSize {
		return nil, errorsmod.Wrapf(types.ErrComponentTooLarge, "%d bytes, max_component_size is %d", len(wasm), params.MaxComponentSize)
	}
	code, stored := wasm, wasm
	if types.IsGzip(wasm) {
		if code, err = types.Gunzip(wasm, params.MaxComponentSize); err != nil {
			return nil, err
		}
	}
	ctx.GasMeter().ConsumeGas(params.ComponentGasPerByte*uint64(len(code)), "x/avs: store component")

	imports, err := types.ValidateComponent(code)
	if err != nil {
		return nil, err
	}
	digest := types.Digest(code)
	if has, err := k.Components.Has(ctx, digest); err != nil {
		return nil, err
	} else if has {
		return &types.MsgStoreComponentResponse{Digest: digest, CodeSize: uint64(len(code)), Existed: true}, nil
	}
	if !types.IsGzip(wasm) {
		// The uploader's own gzip bytes are kept as sent; raw uploads are
		// compressed here (deterministic for one Go release, as the binary is).
		if stored, err = types.Gzip(code); err != nil {
			return nil, err
		}
	}
	comp := types.Component{
		Digest:        digest,
		CodeSize:      uint64(len(code)),
		StoredSize:    uint64(len(stored)),
		Uploader:      uploader,
		CreatedHeight: ctx.BlockHeight(),
		Imports:       imports,
	}
	if err := k.Components.Set(ctx, digest, comp); err != nil {
		return nil, err
	}
	if err := k.ComponentCode.Set(ctx, digest, stored); err != nil {
		return nil, err
	}
	if err := emit(ctx, &types.EventComponentStored{Digest: digest, CodeSize: comp.CodeSize, Uploader: uploader}); err != nil {
		return nil, err
	}
	return &types.MsgStoreComponentResponse{Digest: digest, CodeSize: comp.CodeSize}, nil
}

// GetComponentCode returns a component's uncompressed wasm.
func (k Keeper) GetComponentCode(ctx sdk.Context, digest string) ([]byte, error) {
	comp, err := k.Components.Get(ctx, digest)
	if isNotFound(err) {
		return nil, errorsmod.Wrapf(types.ErrComponentNotFound, "digest %s", digest)
	} else if err != nil {
		return nil, err
	}
	stored, err := k.ComponentCode.Get(ctx, digest)
	if err != nil {
		return nil, err
	}
	return types.Gunzip(stored, comp.CodeSize)
}
