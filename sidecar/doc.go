// Package sidecar is avs-sidecar, the process each avschain operator runs. It
// is a pipeline of small packages, each with Start(ctx) error:
//
//	watcher   — new blocks and x/avs task events over the CometBFT websocket,
//	            catch-up from a persisted cursor with block_results; the work
//	            a block holds is saved with the cursor
//	trigger   — matches each block's events against the event triggers of
//	            the operator's services
//	pipeline  — fetches task, service and component, runs the executor
//	            (on the task's input, or an event's), replays saved work
//	executor  — wazero, one fresh instance per task, limits from the service
//	submitter — batches a block's votes into one MsgSubmitResults tx
//	store     — embedded KV: cursor, saved work, executed and submitted votes
//	server    — serves /healthz, /metrics, /status
//	metrics   — the one sink every part reports to; Prometheus and /status
//	            read it together
//	node      — the composition root: node.New(cfg) wires the parts above,
//	            Start runs them in one errgroup and closes what it opened
//
// config reads the TOML file that `avs-sidecar init` writes, into typed
// fields parsed once. cmd/avs-sidecar holds only the cobra commands.
//
// Every goroutine has an owner: a part's Start returns only once the
// goroutines it started have ended, and delayed work (retries, resends)
// waits in an internal/delay queue that the Start loop drains, never in a
// time.AfterFunc (skip-mev/connect oracle/lifecycle.go).
package sidecar
