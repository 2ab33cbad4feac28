package localnet

// The avsd CLI run against a Node: queries, transactions and their results.

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Query runs `avsd query ARGS -o json` against the node and decodes the result into v.
func (n *Node) Query(v any, args ...string) {
	n.t.Helper()
	if out, err := n.TryQuery(v, args...); err != nil {
		n.t.Fatalf("%v: %s", err, out)
	}
}

// TryQuery is Query that returns the error (a not-found, say) instead of failing.
func (n *Node) TryQuery(v any, args ...string) ([]byte, error) {
	args = append(append([]string{"query"}, args...), "--node", n.NodeURI(), "-o", "json")
	out, err := n.exec(context.Background(), args...)
	if err != nil {
		return out, err
	}
	if err := json.Unmarshal(out, v); err != nil {
		return out, fmt.Errorf("decode %q: %w", strings.Join(args, " "), err)
	}
	return out, nil
}

// TxResult is what the node reports for an included transaction.
type TxResult struct {
	TxHash string          `json:"txhash"`
	Code   uint32          `json:"code"`
	RawLog string          `json:"raw_log"`
	Height string          `json:"height"`
	Events []abciEventJSON `json:"events"`
}

type abciEventJSON struct {
	Type       string `json:"type"`
	Attributes []struct {
		Key   string `json:"key"`
		Value string `json:"value"`
	} `json:"attributes"`
}

// Attribute returns the first value of key in events of type typ. Values of
// typed (proto) events are JSON; a JSON string is returned unquoted.
func (r TxResult) Attribute(typ, key string) string {
	for _, e := range r.Events {
		if e.Type != typ {
			continue
		}
		for _, a := range e.Attributes {
			if a.Key == key {
				var s string
				if err := json.Unmarshal([]byte(a.Value), &s); err == nil {
					return s
				}
				return a.Value
			}
		}
	}
	return ""
}

// FeePaid returns the amount of denom the transaction paid in fees (the ante
// handler's `tx` event, attribute `fee`, e.g. "1234uavs"), 0 if none.
func (r TxResult) FeePaid(denom string) int64 {
	for _, coin := range strings.Split(r.Attribute("tx", "fee"), ",") {
		amount, ok := strings.CutSuffix(strings.TrimSpace(coin), denom)
		if !ok {
			continue
		}
		if n, err := strconv.ParseInt(amount, 10, 64); err == nil {
			return n
		}
	}
	return 0
}

// HasEvent reports whether an event of type typ was emitted.
func (r TxResult) HasEvent(typ string) bool {
	for _, e := range r.Events {
		if e.Type == typ {
			return true
		}
	}
	return false
}

// TxError runs `avsd tx ARGS --from FROM` expecting the CLI to refuse it (in
// simulation or CheckTx) and returns its error output.
func (n *Node) TxError(from string, args ...string) string {
	n.t.Helper()
	return n.refused(n.txArgs(from, args))
}

// TxErrorWithFees is TxError for a transaction with a fixed gas limit and gas
// prices ("" for none) instead of the node's: it returns why it was refused.
func (n *Node) TxErrorWithFees(from, gas, gasPrices string, args ...string) string {
	n.t.Helper()
	args = append(append([]string{"tx"}, args...),
		"--from", from, "--home", n.Home, "--keyring-backend", "test", "--chain-id", n.ChainID,
		"--node", n.NodeURI(), "--gas", gas, "-y", "-o", "json")
	if gasPrices != "" {
		args = append(args, "--gas-prices", gasPrices)
	}
	return n.refused(args)
}

// refused runs `avsd ARGS`, expecting the CLI or CheckTx to refuse it.
func (n *Node) refused(args []string) string {
	n.t.Helper()
	out, err := n.exec(context.Background(), args...)
	if err != nil {
		return err.Error()
	}
	var sync TxResult
	if jerr := json.Unmarshal(lastJSONLine(out), &sync); jerr == nil && sync.Code != 0 {
		return sync.RawLog
	}
	n.t.Fatalf("tx %s was accepted, expected a refusal: %s", strings.Join(args, " "), out)
	return ""
}

// txArgs completes `avsd tx ARGS` with the signer, keyring, chain and node,
// and the fees every transaction pays: gas simulated, times 1.5, at the node's
// minimum gas price (within the block's max_gas, docs/VALIDATORS.md).
func (n *Node) txArgs(from string, args []string) []string {
	return append(append([]string{"tx"}, args...),
		"--from", from, "--home", n.Home, "--keyring-backend", "test", "--chain-id", n.ChainID,
		"--node", n.NodeURI(), "--gas", "auto", "--gas-adjustment", "1.5", "--gas-prices", n.GasPrices,
		"-y", "-o", "json")
}

// Tx runs `avsd tx ARGS --from FROM`, waits for inclusion and returns the result.
// It fails the test unless the transaction was accepted by CheckTx; the caller
// checks Code for the DeliverTx outcome.
func (n *Node) Tx(from string, args ...string) TxResult {
	n.t.Helper()
	args = n.txArgs(from, args)
	out, err := n.exec(context.Background(), args...)
	if err != nil {
		n.t.Fatal(err)
	}
	var sync TxResult
	if err := json.Unmarshal(lastJSONLine(out), &sync); err != nil {
		n.t.Fatalf("decode broadcast result: %v: %s", err, out)
	}
	if sync.Code != 0 {
		n.t.Fatalf("tx %s refused by CheckTx (code %d): %s", strings.Join(args, " "), sync.Code, sync.RawLog)
	}
	return Poll(n.t, 30*time.Second, "tx "+sync.TxHash+": inclusion", func() (TxResult, error) {
		var res TxResult
		out, err := n.exec(context.Background(), "query", "tx", sync.TxHash, "--node", n.NodeURI(), "-o", "json")
		if err != nil {
			return res, err
		}
		if err := json.Unmarshal(out, &res); err != nil {
			n.t.Fatalf("decode tx %s: %v", sync.TxHash, err)
		}
		return res, nil
	})
}

// KeyAddress returns the address of a key in the node's test keyring.
func (n *Node) KeyAddress(name string) string {
	n.t.Helper()
	out, err := n.exec(context.Background(), "keys", "show", name, "-a", "--home", n.Home, "--keyring-backend", "test")
	if err != nil {
		n.t.Fatal(err)
	}
	return strings.TrimSpace(string(out))
}

// lastJSONLine skips anything (like "gas estimate: N") printed before the JSON.
func lastJSONLine(out []byte) []byte {
	lines := bytes.Split(bytes.TrimSpace(out), []byte("\n"))
	for i := len(lines) - 1; i >= 0; i-- {
		if bytes.HasPrefix(bytes.TrimSpace(lines[i]), []byte("{")) {
			return lines[i]
		}
	}
	return out
}
