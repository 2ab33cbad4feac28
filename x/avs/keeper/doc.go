// Package keeper implements x/avs state transitions: the Msg and Query
// services, genesis import and export, and the block hooks.
package keeper
