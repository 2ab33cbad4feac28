// Package types holds the x/avs state types, messages, events, errors and
// collection prefixes, shared by the keeper, the CLI, the sidecar and tests.
package types
