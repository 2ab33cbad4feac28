package keeper_test

import (
	"bytes"
	"compress/gzip"

	errorsmod "cosmossdk.io/errors"
	storetypes "cosmossdk.io/store/types"

	"github.com/avschain/avschain/testutil/avstest"
	"github.com/avschain/avschain/x/avs/types"
	"github.com/avschain/avschain/x/avs/wasmbin"
)

func (s *KeeperTestSuite) TestStoreComponent() {
	raw := validWasm()
	component := func(v byte) []byte { // raw with another binary version
		b := append([]byte(nil), raw...)
		b[4], b[5], b[6], b[7] = v, 0x00, 0x01, 0x00
		return b
	}
	setMax := func(n int) {
		p, err := s.keeper.Params.Get(s.ctx)
		s.Require().NoError(err)
		p.MaxComponentSize = uint64(n)
		s.Require().NoError(s.keeper.Params.Set(s.ctx, p))
	}
	big := paddedWasm(4096)

	testCases := []struct {
		name     string
		malleate func(msg *types.MsgStoreComponent)
		expErr   *errorsmod.Error
		errText  string
		// success only: the uncompressed code and the imports it declares
		expCode    []byte
		expImports []string
		existed    bool
	}{
		{
			name:       "success: raw module",
			malleate:   func(*types.MsgStoreComponent) {},
			expCode:    raw,
			expImports: []string{"wasi_snapshot_preview1.proc_exit"},
		},
		{
			name:       "success: gzip'd module is addressed by its uncompressed digest",
			malleate:   func(msg *types.MsgStoreComponent) { msg.Wasm = mustGzip(raw) },
			expCode:    raw,
			expImports: []string{"wasi_snapshot_preview1.proc_exit"},
		},
		{
			name: "success: imports from the avs host module are allowed",
			malleate: func(msg *types.MsgStoreComponent) {
				msg.Wasm = avstest.Module(true, avstest.WASI, avstest.Import{Module: "avs", Name: "http_get"})
			},
			expCode:    avstest.Module(true, avstest.WASI, avstest.Import{Module: "avs", Name: "http_get"}),
			expImports: []string{"wasi_snapshot_preview1.proc_exit", "avs.http_get"},
		},
		{
			name:       "success: exactly max_component_size",
			malleate:   func(*types.MsgStoreComponent) { setMax(len(raw)) },
			expCode:    raw,
			expImports: []string{"wasi_snapshot_preview1.proc_exit"},
		},
		{
			name: "success: storing the same code again reports existed",
			malleate: func(*types.MsgStoreComponent) {
				s.storeComponent()
			},
			expCode: raw,
			existed: true,
		},
		{
			name: "success: the gzip'd form of stored code reports existed",
			malleate: func(msg *types.MsgStoreComponent) {
				s.storeComponent()
				msg.Wasm = mustGzip(raw)
			},
			expCode: raw,
			existed: true,
		},
		{
			name:     "failure: empty wasm",
			malleate: func(msg *types.MsgStoreComponent) { msg.Wasm = nil },
			expErr:   types.ErrInvalidComponent,
		},
		{
			name:     "failure: not wasm",
			malleate: func(msg *types.MsgStoreComponent) { msg.Wasm = []byte("#!/bin/sh\necho hello\n") },
			expErr:   types.ErrInvalidComponent,
			errText:  "magic",
		},
		{
			name: "failure: import from env",
			malleate: func(msg *types.MsgStoreComponent) {
				msg.Wasm = avstest.Module(true, avstest.WASI, avstest.Import{Module: "env", Name: "x"})
			},
			expErr:  types.ErrInvalidComponent,
			errText: "env",
		},
		{
			name:     "failure: no _start export",
			malleate: func(msg *types.MsgStoreComponent) { msg.Wasm = avstest.Module(false, avstest.WASI) },
			expErr:   types.ErrInvalidComponent,
			errText:  "_start",
		},
		{
			name:     "failure: component-model binary (version 0x0d)",
			malleate: func(msg *types.MsgStoreComponent) { msg.Wasm = component(0x0d) },
			expErr:   types.ErrInvalidComponent,
			errText:  "not a core module",
		},
		{
			name:     "failure: corrupt gzip",
			malleate: func(msg *types.MsgStoreComponent) { msg.Wasm = mustGzip(raw)[:12] },
			expErr:   types.ErrInvalidComponent,
		},
		{
			name:     "failure: gzip of something that is not wasm",
			malleate: func(msg *types.MsgStoreComponent) { msg.Wasm = mustGzip([]byte("not wasm at all")) },
			expErr:   types.ErrInvalidComponent,
		},
		{
			name:     "failure: raw module one byte over max_component_size",
			malleate: func(*types.MsgStoreComponent) { setMax(len(raw) - 1) },
			expErr:   types.ErrComponentTooLarge,
		},
		{
			name: "failure: small gzip whose uncompressed size exceeds max_component_size",
			malleate: func(msg *types.MsgStoreComponent) {
				msg.Wasm = mustGzip(big)
				s.Require().Less(len(msg.Wasm), len(big)/4, "the padding must compress well")
				setMax(len(big) - 1)
			},
			expErr: types.ErrComponentTooLarge,
		},
		{
			name: "failure: gzip padded with empty members past max_component_size",
			malleate: func(msg *types.MsgStoreComponent) {
				msg.Wasm = mustGzip(raw)
				for len(msg.Wasm) <= 4*len(raw) {
					msg.Wasm = append(msg.Wasm, mustGzip(nil)...)
				}
				code, err := wasmbin.Gunzip(msg.Wasm, uint64(len(raw)))
				s.Require().NoError(err)
				s.Require().Equal(raw, code, "it still unzips to the small module")
				setMax(2 * len(raw))
			},
			expErr: types.ErrComponentTooLarge,
		},
		{
			name:     "failure: sender is not an address",
			malleate: func(msg *types.MsgStoreComponent) { msg.Sender = "uploader" },
			expErr:   types.ErrInvalidAddress,
		},
		{
			name:     "failure: sender has another chain's prefix",
			malleate: func(msg *types.MsgStoreComponent) { msg.Sender = acc("uploader").String() },
			expErr:   types.ErrInvalidAddress,
		},
	}

	for _, tc := range testCases {
		s.Run(tc.name, func() {
			s.SetupTest()
			msg := &types.MsgStoreComponent{Sender: addr("uploader"), Wasm: raw}
			tc.malleate(msg)
			before := s.state()

			ctx := s.withEvents()
			res, err := s.msgServer.StoreComponent(ctx, msg)
			if tc.expErr != nil {
				s.Require().ErrorIs(err, tc.expErr)
				s.Require().Contains(err.Error(), tc.errText)
				s.Require().Nil(res)
				s.requireUnchanged(before)
				return
			}
			s.Require().NoError(err)
			digest := types.Digest(tc.expCode)
			s.Require().Equal(digest, res.Digest)
			s.Require().Equal(uint64(len(tc.expCode)), res.CodeSize)
			s.Require().Equal(tc.existed, res.Existed)

			code, err := s.queryServer.ComponentCode(s.ctx, &types.QueryComponentCodeRequest{Digest: digest})
			s.Require().NoError(err)
			s.Require().Equal(tc.expCode, code.Wasm, "ComponentCode returns the original uncompressed bytes")

			if tc.existed {
				s.requireUnchanged(before)
				s.Require().Empty(s.typedEvents(ctx, &types.EventComponentStored{}))
				return
			}
			comp, err := s.keeper.Components.Get(s.ctx, digest)
			s.Require().NoError(err)
			s.Require().Equal(addr("uploader"), comp.Uploader)
			s.Require().Equal(s.ctx.BlockHeight(), comp.CreatedHeight)
			s.Require().Equal(uint64(len(tc.expCode)), comp.CodeSize)
			s.Require().Equal(tc.expImports, comp.Imports)
			stored, err := s.keeper.ComponentCode.Get(s.ctx, digest)
			s.Require().NoError(err)
			s.Require().Equal(msg.Wasm, stored, "the code is kept as uploaded, raw or gzip'd")
			s.Require().Equal(uint64(len(stored)), comp.StoredSize)
			evs := s.typedEvents(ctx, &types.EventComponentStored{})
			s.Require().Len(evs, 1)
			s.Require().Equal(&types.EventComponentStored{Digest: digest, CodeSize: comp.CodeSize, Uploader: addr("uploader")}, evs[0])
		})
	}
}

// Gas is charged per uncompressed byte, whether the upload is raw or gzip'd.
func (s *KeeperTestSuite) TestStoreComponentGas() {
	// The padding of these fixtures compresses ~750:1, beyond the default
	// max_gzip_ratio; the ratio has its own test.
	s.setParams(func(p *types.Params) { p.MaxGzipRatio = 10_000 })
	params, err := s.keeper.Params.Get(s.ctx)
	s.Require().NoError(err)
	gasFor := func(wasm []byte, kvGas bool) uint64 {
		ctx := s.ctx.WithGasMeter(storetypes.NewGasMeter(1 << 40))
		if !kvGas {
			ctx = ctx.WithKVGasConfig(storetypes.GasConfig{})
		}
		_, err := s.msgServer.StoreComponent(ctx, &types.MsgStoreComponent{Sender: addr("uploader"), Wasm: wasm})
		s.Require().NoError(err)
		return ctx.GasMeter().GasConsumed()
	}

	small, large := paddedWasm(1_000), paddedWasm(100_000)
	gSmall, gLarge := gasFor(small, true), gasFor(large, true)
	s.Require().Greater(gLarge, gSmall)
	s.Require().GreaterOrEqual(gLarge-gSmall, params.ComponentGasPerByte*uint64(len(large)-len(small)))

	// Without store gas, the charge is exactly component_gas_per_byte per
	// uncompressed byte; a gzip upload pays for what it expands to.
	s.SetupTest()
	s.setParams(func(p *types.Params) { p.MaxGzipRatio = 10_000 })
	s.Require().Equal(params.ComponentGasPerByte*uint64(len(large)), gasFor(large, false))
	s.SetupTest()
	s.setParams(func(p *types.Params) { p.MaxGzipRatio = 10_000 })
	z := mustGzip(large)
	s.Require().Less(len(z), len(large)/10)
	s.Require().Equal(params.ComponentGasPerByte*uint64(len(large)), gasFor(z, false))
}

func (s *KeeperTestSuite) TestQueryComponents() {
	d1 := s.storeComponent()
	res, err := s.msgServer.StoreComponent(s.ctx, &types.MsgStoreComponent{Sender: addr("uploader"), Wasm: paddedWasm(10)})
	s.Require().NoError(err)
	d2 := res.Digest

	one, err := s.queryServer.Component(s.ctx, &types.QueryComponentRequest{Digest: d1})
	s.Require().NoError(err)
	s.Require().Equal(d1, one.Component.Digest)

	all, err := s.queryServer.Components(s.ctx, &types.QueryComponentsRequest{})
	s.Require().NoError(err)
	s.Require().Len(all.Components, 2)
	got := []string{all.Components[0].Digest, all.Components[1].Digest}
	s.Require().ElementsMatch([]string{d1, d2}, got)
}

// TestM1GzipBombStopsAtTheGasLimit: a gzip bomb (16 MiB of zeros, ~16 KiB of
// gzip) sent with a 300k gas limit runs out of gas while it inflates, within
// one 64 KiB chunk of the limit, instead of inflating all 16 MiB and then
// charging 32M gas at once; nothing is stored.
func (s *KeeperTestSuite) TestM1GzipBombStopsAtTheGasLimit() {
	params, err := s.keeper.Params.Get(s.ctx)
	s.Require().NoError(err)
	bomb := mustGzip(make([]byte, params.MaxComponentSize))
	s.Require().Less(len(bomb), 64<<10)

	const limit = 300_000
	ctx := s.ctx.WithGasMeter(storetypes.NewGasMeter(limit))
	s.Require().PanicsWithValue(storetypes.ErrorOutOfGas{Descriptor: "x/avs: store component"}, func() {
		_, _ = s.msgServer.StoreComponent(ctx, &types.MsgStoreComponent{Sender: addr("uploader"), Wasm: bomb})
	})
	s.Require().LessOrEqual(ctx.GasMeter().GasConsumed(), uint64(limit)+params.ComponentGasPerByte*(64<<10),
		"charged chunk by chunk: out of gas within one chunk, not after the whole inflate")

	n := 0
	s.Require().NoError(s.keeper.Components.Walk(s.ctx, nil, func(string, types.Component) (bool, error) { n++; return false, nil }))
	s.Require().Zero(n, "nothing stored")
}

// TestM5StoredBytesAreTheUploadedBytes: the chain keeps exactly the bytes a
// client uploaded, once checked. A raw upload stays raw (before, the chain
// gzip'd it with the running Go release's compressor, whose output Go does
// not promise to keep across releases: validators on two Go versions could
// write different state); a gzip upload stays the client's gzip. Both read
// back as the same wasm.
func (s *KeeperTestSuite) TestM5StoredBytesAreTheUploadedBytes() {
	raw := paddedWasm(300)
	for _, tc := range []struct {
		name   string
		upload []byte
	}{
		{"raw", raw},
		{"gzip", mustGzip(raw)},
		{"gzip at another level", func() []byte {
			var b bytes.Buffer
			zw, err := gzip.NewWriterLevel(&b, gzip.BestSpeed)
			s.Require().NoError(err)
			_, err = zw.Write(raw)
			s.Require().NoError(err)
			s.Require().NoError(zw.Close())
			return b.Bytes()
		}()},
	} {
		s.Run(tc.name, func() {
			s.SetupTest()
			res, err := s.msgServer.StoreComponent(s.ctx, &types.MsgStoreComponent{Sender: addr("uploader"), Wasm: tc.upload})
			s.Require().NoError(err)
			s.Require().Equal(types.Digest(raw), res.Digest, "addressed by the wasm, whatever the envelope")
			stored, err := s.keeper.ComponentCode.Get(s.ctx, res.Digest)
			s.Require().NoError(err)
			s.Require().Equal(tc.upload, stored, "stored bytes equal uploaded bytes")
			comp, err := s.keeper.Components.Get(s.ctx, res.Digest)
			s.Require().NoError(err)
			s.Require().EqualValues(len(tc.upload), comp.StoredSize)
			code, err := s.queryServer.ComponentCode(s.ctx, &types.QueryComponentCodeRequest{Digest: res.Digest})
			s.Require().NoError(err)
			s.Require().Equal(raw, code.Wasm, "the query serves the wasm either way")

			// and a genesis round trip keeps the bytes as they are
			gs, err := s.keeper.ExportGenesis(s.ctx)
			s.Require().NoError(err)
			other := s.newEnv()
			s.Require().NoError(other.keeper.InitGenesis(other.ctx, gs))
			again, err := other.keeper.ComponentCode.Get(other.ctx, res.Digest)
			s.Require().NoError(err)
			s.Require().Equal(tc.upload, again)
		})
	}
}

// TestM1GzipRatioBound: a gzip upload may inflate to at most max_gzip_ratio
// times its own size, checked while it inflates: a bomb is refused with
// ErrGzipRatio after inflating about ratio × its size, long before its gas
// or size limits; the same module uploaded raw (or less compressible) passes.
func (s *KeeperTestSuite) TestM1GzipRatioBound() {
	params := s.params()
	s.Require().EqualValues(100, params.MaxGzipRatio)
	bomb := mustGzip(paddedWasm(1 << 20)) // ~1 MiB of zeros: ~1000:1
	ratio := float64(1<<20) / float64(len(bomb))
	s.Require().Greater(ratio, 500.0)

	ctx := s.ctx.WithGasMeter(storetypes.NewGasMeter(1 << 40)).WithKVGasConfig(storetypes.GasConfig{})
	_, err := s.msgServer.StoreComponent(ctx, &types.MsgStoreComponent{Sender: addr("uploader"), Wasm: bomb})
	s.Require().ErrorIs(err, types.ErrGzipRatio)
	s.Require().LessOrEqual(ctx.GasMeter().GasConsumed(), params.ComponentGasPerByte*(uint64(params.MaxGzipRatio)*uint64(len(bomb))),
		"refused before more than ratio × size was charged (and kept)")

	s.setParams(func(p *types.Params) { p.MaxGzipRatio = uint32(ratio) + 1 })
	_, err = s.msgServer.StoreComponent(s.ctx, &types.MsgStoreComponent{Sender: addr("uploader"), Wasm: bomb})
	s.Require().NoError(err, "a ratio above the upload's passes")
}
