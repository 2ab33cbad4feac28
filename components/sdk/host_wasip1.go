//go:build wasip1

package avs

import "unsafe"

const hostAvailable = true

//go:wasmimport avs log
//go:noescape
func avsLog(msgPtr unsafe.Pointer, msgLen uint32)

//go:wasmimport avs http_fetch
//go:noescape
func avsHTTPFetch(urlPtr unsafe.Pointer, urlLen uint32, outPtr unsafe.Pointer, outCap uint32) int64

//go:wasmimport avs chain_query
//go:noescape
func avsChainQuery(pathPtr unsafe.Pointer, pathLen uint32, reqPtr unsafe.Pointer, reqLen uint32, outPtr unsafe.Pointer, outCap uint32) int64

// ptr returns a pointer to the bytes of b (nil for an empty slice).
func ptr(b []byte) unsafe.Pointer {
	if len(b) == 0 {
		return nil
	}
	return unsafe.Pointer(unsafe.SliceData(b))
}

func hostLog(msg string) {
	b := []byte(msg)
	avsLog(ptr(b), uint32(len(b)))
}

func hostHTTPFetch(url string, out []byte) int64 {
	u := []byte(url)
	return avsHTTPFetch(ptr(u), uint32(len(u)), ptr(out), uint32(len(out)))
}

func hostChainQuery(path string, req []byte, out []byte) int64 {
	p := []byte(path)
	return avsChainQuery(ptr(p), uint32(len(p)), ptr(req), uint32(len(req)), ptr(out), uint32(len(out)))
}
