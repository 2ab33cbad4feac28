// Package avs is the guest-side SDK for avschain components.
//
// A component is a WASI preview-1 command module (it exports _start) built
// with GOOS=wasip1 GOARCH=wasm. It imports only from wasi_snapshot_preview1
// and from the host module "avs". The operator sidecar runs one instance per
// task:
//
//   - the task input is on stdin (Input) and the result is whatever the
//     component writes to stdout (Output); a non-zero exit status, a trap
//     or an exceeded limit is a failure: the operator votes the failure with
//     its reason and a quorum of failures ends the task FAILED (Fail);
//   - the environment holds AVS_TASK_ID, AVS_SERVICE_ID, AVS_CHAIN_ID,
//     AVS_BLOCK_HEIGHT and AVS_BLOCK_TIME (RFC 3339), read by Context, plus
//     every key of the service's config map as-is, read by Config;
//   - there is no filesystem, the clock reads the task's block time and the
//     random source is seeded by the task id (for an event trigger's run,
//     AVS_TASK_ID 0, by the event's input), so a run is deterministic given
//     the same input and the same external responses.
//
// The "avs" host module provides:
//
//	log(msg_ptr, msg_len i32)
//	http_fetch(url_ptr, url_len, out_ptr, out_cap i32) i64
//	chain_query(path_ptr, path_len, req_ptr, req_len, out_ptr, out_cap i32) i64
//
// http_fetch does an HTTP GET of an http(s) URL whose host is on the
// service's allow-list; chain_query runs a gRPC query method of this chain
// (e.g. "/avschain.avs.v1.Query/Service") with a proto-JSON request at the
// task's creation height and returns the proto-JSON response. Both return the
// full response length n >= 0 and copy min(n, out_cap) bytes to out_ptr; when
// n > out_cap the guest calls again with an n-byte buffer (HTTPGet and
// ChainQuery do this). A negative return is an error, mapped to the
// ErrHostNotAllowed (-1), ErrRequestFailed (-2), ErrMalformedRequest (-3) and
// ErrResponseTooLarge (-4) values of HostError.
//
// The operator's sidecar bounds each run: http_fetch reaches only public
// addresses (a name resolving to a loopback, private or link-local address,
// or a redirect off the allow-list, is -1), at most 16 requests (then -1)
// and 4 MiB of bodies (then -4) a run by default; chain_query at most 64
// queries (then -1). Calling again with a larger buffer for the same URL or
// query right after is served from memory and not counted.
//
// Outside wasip1 (e.g. unit tests on linux) the host calls return
// ErrNoHost, so packages importing this SDK still build and vet.
//
// The package is part of the chain's module and imports only the standard
// library: a component in a module of its own requires
// github.com/avschain/avschain (a replace to a checkout works offline) and
// compiles this package alone. components/template is such a module to copy.
package avs
