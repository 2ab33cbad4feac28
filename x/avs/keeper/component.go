package keeper

import (
	"context"

	errorsmod "cosmossdk.io/errors"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/avschain/avschain/x/avs/types"
	"github.com/avschain/avschain/x/avs/wasmbin"
)

// storeComponent validates and stores a component upload (raw or gzip'd,
// already bounded by validateUpload), charging gas per uncompressed byte as
// it is inflated; a gzip upload may inflate to at most max_gzip_ratio times
// its size (M-1). The bytes stored are the bytes uploaded, once checked: the
// chain never compresses in a state transition, whose output the Go release
// that runs it could change (M-5).
// Storing a component twice is not an error: it is content-addressed, and the
// second store reports existed.
func (k Keeper) storeComponent(ctx context.Context, params types.Params, uploader string, wasm []byte) (c types.Component, existed bool, err error) {
	sdkCtx := sdk.UnwrapSDKContext(ctx)
	code, stored := wasm, wasm
	charge := func(n uint64) error {
		sdkCtx.GasMeter().ConsumeGas(params.ComponentGasPerByte*n, "x/avs: store component")
		return nil
	}
	if wasmbin.IsGzip(wasm) {
		// Gas is charged chunk by chunk as the upload inflates (M-1): out of
		// gas stops a gzip bomb before it is inflated, not after.
		if code, err = wasmbin.GunzipUpload(wasm, params.MaxComponentSize, uint64(params.MaxGzipRatio), charge); err != nil {
			return c, false, err
		}
	} else if err := charge(uint64(len(code))); err != nil {
		return c, false, err
	}

	imports, err := wasmbin.Validate(code)
	if err != nil {
		return c, false, err
	}
	digest := types.Digest(code)
	if has, err := k.Components.Has(ctx, digest); err != nil {
		return c, false, err
	} else if has {
		return types.Component{Digest: digest, CodeSize: uint64(len(code))}, true, nil
	}
	c = types.Component{
		Digest:        digest,
		CodeSize:      uint64(len(code)),
		StoredSize:    uint64(len(stored)),
		Uploader:      uploader,
		CreatedHeight: sdkCtx.BlockHeight(),
		Imports:       imports,
	}
	if err := k.Components.Set(ctx, digest, c); err != nil {
		return c, false, err
	}
	if err := k.ComponentCode.Set(ctx, digest, stored); err != nil {
		return c, false, err
	}
	return c, false, emit(ctx, &types.EventComponentStored{Digest: digest, CodeSize: c.CodeSize, Uploader: uploader})
}

// GetComponentCode returns a component's uncompressed wasm, whichever form
// it was uploaded (and is stored) in.
func (k Keeper) GetComponentCode(ctx context.Context, digest string) ([]byte, error) {
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
	if !wasmbin.IsGzip(stored) {
		return stored, nil // raw wasm starts with \0asm, never the gzip magic
	}
	return wasmbin.Gunzip(stored, comp.CodeSize)
}
