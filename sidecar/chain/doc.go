// Package chain is the sidecar's connection to avschain: CometBFT RPC (blocks,
// websocket events, broadcast, ABCI queries) and gRPC (x/avs queries,
// accounts, simulation), each over a list of endpoints.
//
// Every call has a deadline: RPC calls use an HTTP client with a timeout, and
// a gRPC interceptor gives each call without a deadline of its own one
// (queries, ComponentCode and Simulate have their own; see the With...Timeout
// options). gRPC connections also send keepalive pings during long calls.
//
// The client uses one endpoint of each kind at a time and moves to the next
// only when the endpoint, not the request, failed: a transport error or a
// timeout. An answer the node gave (a JSON-RPC error such as "transaction
// indexing is disabled", an ABCI query answered with code != 0, a gRPC
// NotFound) is returned as-is and keeps the endpoint. Calls failing
// together move the client one endpoint on, not one per call. When there
// are as many RPC as gRPC endpoints, rpc[i] and grpc[i] are taken to be one
// node and always move together, so blocks and state come from the same
// node.
//
// Watch checks the /status of every RPC endpoint every few seconds and
// leaves the one in use when it is catching up, when its last block is
// older than the staleness bound, or when it lags the best endpoint by more
// than the allowed blocks, for the next healthy endpoint. It reports the
// chain head, fail-overs and the endpoints in use to a Metrics.
//
// Block and BlockResults keep the answers for the latest heights
// (WithBlockCache) and share one request among callers asking for a height
// at once: the watcher, the submitter and the trigger matcher read the same
// recent blocks, and the node encodes each once for the sidecar. Every
// request sent to a node is counted by kind and method (Metrics.RPCCall,
// avs_sidecar_rpc_calls_total).
//
// Subscribe opens a new websocket for every subscription, pings the node and
// closes the notification channel when the connection ends or goes silent,
// so that the caller can reconnect (CometBFT's own subscription channels are
// never closed). It subscribes to new block headers and to the transactions
// that created a task (QueryTaskCreated), not to every transaction: vote
// transactions' events are not pushed.
package chain
