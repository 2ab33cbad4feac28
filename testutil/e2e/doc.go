// Package e2e holds end-to-end tests that run real avsd processes on loopback
// through scripts/localnet.sh and drive them with the real CLI. They are behind
// the e2e build tag: run them with `make test-e2e` (part of `make test`).
package e2e
