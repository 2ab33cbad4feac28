// Command hostcalls is a test component for the executor's host-call limits
// (review H4, M4, M5): it calls avs.http_fetch for each URL in HC_URLS
// (comma-separated) and avs.chain_query HC_QUERIES times (service ids 1, 2, ...), each call with the
// SDK's buffer convention (a small buffer, then one of the returned length),
// and writes the final return codes as JSON: {"http":[...],"query":[...]}.
// With HC_FAIL=1 it exits 1 if any code is negative.
//
// The executor tests build it with GOOS=wasip1 GOARCH=wasm go build.
package main

import (
	"encoding/json"
	"os"
	"strconv"
	"strings"
	"unsafe"
)

//go:wasmimport avs http_fetch
//go:noescape
func httpFetch(urlPtr unsafe.Pointer, urlLen uint32, outPtr unsafe.Pointer, outCap uint32) int64

//go:wasmimport avs chain_query
//go:noescape
func chainQuery(pathPtr unsafe.Pointer, pathLen uint32, reqPtr unsafe.Pointer, reqLen uint32, outPtr unsafe.Pointer, outCap uint32) int64

func ptr(b []byte) unsafe.Pointer {
	if len(b) == 0 {
		return nil
	}
	return unsafe.Pointer(unsafe.SliceData(b))
}

// call runs f with a 16-byte buffer, then once more with a buffer of the
// length it returned if that did not fit.
func call(f func(out []byte) int64) int64 {
	n := f(make([]byte, 16))
	if n > 16 {
		n = f(make([]byte, n))
	}
	return n
}

func main() {
	out := struct {
		HTTP  []int64 `json:"http"`
		Query []int64 `json:"query"`
	}{HTTP: []int64{}, Query: []int64{}}
	failed := false
	if urls := os.Getenv("HC_URLS"); urls != "" {
		for _, u := range strings.Split(urls, ",") {
			b := []byte(u)
			n := call(func(o []byte) int64 { return httpFetch(ptr(b), uint32(len(b)), ptr(o), uint32(len(o))) })
			out.HTTP = append(out.HTTP, n)
			failed = failed || n < 0
		}
	}
	queries, _ := strconv.Atoi(os.Getenv("HC_QUERIES"))
	path := []byte("/avschain.avs.v1.Query/Service")
	for i := range queries {
		req := []byte(`{"service_id":"` + strconv.Itoa(i+1) + `"}`)
		n := call(func(o []byte) int64 {
			return chainQuery(ptr(path), uint32(len(path)), ptr(req), uint32(len(req)), ptr(o), uint32(len(o)))
		})
		out.Query = append(out.Query, n)
		failed = failed || n < 0
	}
	b, _ := json.Marshal(out)
	os.Stdout.Write(b)
	if failed && os.Getenv("HC_FAIL") == "1" {
		os.Stderr.WriteString("hostcalls: a host call failed\n")
		os.Exit(1)
	}
}
