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

// gunzipChunk is how much an upload inflates between two charges.
const gunzipChunk = 64 << 10

// Gunzip decompresses b, refusing output larger than limit bytes. It is for
// code already accepted (a stored component, whose size is known); an upload
// goes through GunzipUpload.
func Gunzip(b []byte, limit uint64) ([]byte, error) {
	return gunzip(b, limit, ^uint64(0), nil)
}

// GunzipUpload decompresses an upload, refusing output larger than limit
// bytes or than maxRatio times the upload's size (0: no ratio bound), and
// calls charge with the size of each chunk as it is inflated and before it
// is kept: a caller that meters gas stops a gzip bomb (16 MiB of zeros is
// 16 KiB of gzip) while it inflates, instead of inflating it whole and
// charging after (charge may panic, as a gas meter out of gas does, or
// return an error). Both bounds are checked before a chunk is charged.
func GunzipUpload(b []byte, limit, maxRatio uint64, charge func(n uint64) error) ([]byte, error) {
	if maxRatio > 0 {
		bound := uint64(len(b)) * maxRatio
		if bound/maxRatio != uint64(len(b)) {
			bound = ^uint64(0) // overflow: no tighter than limit
		}
		return gunzip(b, limit, bound, charge)
	}
	return gunzip(b, limit, ^uint64(0), charge)
}

// gunzip inflates b up to limit bytes (ErrComponentTooLarge) and up to
// ratioBound bytes (ErrGzipRatio), calling charge (when not nil) before
// keeping each chunk.
func gunzip(b []byte, limit, ratioBound uint64, charge func(n uint64) error) ([]byte, error) {
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		return nil, errorsmod.Wrapf(types.ErrInvalidComponent, "gzip: %s", err)
	}
	defer zr.Close()
	var out bytes.Buffer
	chunk := make([]byte, gunzipChunk)
	for {
		n, err := zr.Read(chunk)
		if n > 0 {
			if uint64(out.Len())+uint64(n) > limit {
				return nil, errorsmod.Wrapf(types.ErrComponentTooLarge, "uncompressed size exceeds %d bytes", limit)
			}
			if uint64(out.Len())+uint64(n) > ratioBound {
				return nil, errorsmod.Wrapf(types.ErrGzipRatio, "%d bytes of gzip inflate beyond %d bytes", len(b), ratioBound)
			}
			if charge != nil {
				if err := charge(uint64(n)); err != nil {
					return nil, err
				}
			}
			out.Write(chunk[:n])
		}
		if err == io.EOF {
			return out.Bytes(), nil
		}
		if err != nil {
			return nil, errorsmod.Wrapf(types.ErrInvalidComponent, "gzip: %s", err)
		}
	}
}

// Gzip compresses b at the best compression level. It is for clients (the
// CLI); the chain never compresses: what it stores is what was uploaded.
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
