//go:build tools

// Package wasmd pins the wasmd binary the IBC-client e2e tests run as "a plain
// CosmWasm chain". It is its own module so that wasmd's extra dependencies
// (x/nft, the ibc-go callbacks middleware) stay out of the app's go.mod; every
// module both graphs share is kept at the root's version (TestWasmdPin), so
// the build reuses the app's build cache. Build it with scripts/build-wasmd.sh.
package wasmd

import _ "github.com/CosmWasm/wasmd/cmd/wasmd"
