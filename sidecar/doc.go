// Package sidecar is avs-sidecar, the process each avschain operator runs. It
// is a pipeline of small packages, each with Start(ctx) error:
//
//	chain     — RPC and gRPC clients over lists of endpoints: a deadline on
//	            every call, fail-over on transport errors and timeouts, a
//	            health watch that leaves stale, lagging or catching-up nodes
//	watcher   — new blocks and x/avs task events over the CometBFT websocket,
//	            catch-up from a persisted cursor with block_results; the work
//	            a block holds is saved with the cursor; each block is reported
//	            with the commit phases that closed in it (EventCommitsClosed);
//	            an unreadable block is retried, then skipped and its tasks
//	            recovered by query
//	trigger   — matches each block's events against the event triggers of
//	            the operator's services
//	pipeline  — asks whether a vote still counts (the task's snapshot and
//	            deadline), fetches service and component, runs the executor
//	            within a memory budget, retries transient failures until the
//	            deadline, guards against crash loops, prunes finished work;
//	            on a COMMIT_REVEAL task, commits (salt saved first) and
//	            reveals once the block that closed the commit phase is read
//	executor  — wazero, one fresh instance per task, limits from the service,
//	            host calls capped and http_fetch kept off private addresses
//	submitter — batches votes, commits and reveals into MsgSubmitResults
//	            txs cut by bytes, gas and max_votes_per_tx, classifies
//	            refusals, confirms from blocks
//	store     — embedded KV bound to one chain: cursor, saved work, attempts,
//	            deadlines, executed and submitted votes (a commit and its
//	            reveal apart), commit-reveal salts
//	server    — serves /healthz (red with a reason), /metrics, /status
//	metrics   — the one sink every part reports to; Prometheus and /status
//	            read it together
//	node      — the composition root: node.New(cfg) checks the chain and the
//	            account (also `avs-sidecar doctor`), wires the parts above,
//	            Start runs them in one errgroup and closes what it opened
//
// docs/OPERATORS.md is the operator's guide: systemd, keys, health, metrics
// and what each failure state means.
//
// config reads the TOML file that `avs-sidecar init` writes, into typed
// fields parsed once. cmd/avs-sidecar holds only the cobra commands.
//
// Every goroutine has an owner: a part's Start returns only once the
// goroutines it started have ended, and delayed work (retries, resends)
// waits in an internal/delay queue that the Start loop drains, never in a
// time.AfterFunc (skip-mev/connect oracle/lifecycle.go).
package sidecar
