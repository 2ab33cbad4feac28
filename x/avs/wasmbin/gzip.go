package wasmbin

import (
	"bytes"
	"compress/gzip"
	"io"

	errorsmod "cosmossdk.io/errors"

	"github.com/avschain/avschain/x/avs/types"
)

var gzipMagic = []byte{0x1f, 0x8b}

// IsGzip reports whether b starts with the gzip magic number.
func IsGzip(b []byte) bool { return bytes.HasPrefix(b, gzipMagic) }

// Gunzip decompresses b, refusing output larger than limit bytes.
func Gunzip(b []byte, limit uint64) ([]byte, error) {
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		return nil, errorsmod.Wrapf(types.ErrInvalidComponent, "gzip: %s", err)
	}
	defer zr.Close()
	out, err := io.ReadAll(io.LimitReader(zr, int64(limit)+1))
	if err != nil {
		return nil, errorsmod.Wrapf(types.ErrInvalidComponent, "gzip: %s", err)
	}
	if uint64(len(out)) > limit {
		return nil, errorsmod.Wrapf(types.ErrComponentTooLarge, "uncompressed size exceeds %d bytes", limit)
	}
	return out, nil
}

// Gzip compresses b at the best compression level.
func Gzip(b []byte) ([]byte, error) {
	var buf bytes.Buffer
	zw, err := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	if err != nil {
		return nil, err
	}
	if _, err := zw.Write(b); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
