package localnet

// The avsd CLI run against a Node: queries, transactions and their results.

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
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
	TxHash string  `json:"txhash"`
	Code   uint32  `json:"code"`
	RawLog string  `json:"raw_log"`
	Height string  `json:"height"`
	Events []Event `json:"events"`
}

// Event is an ABCI event as the node prints it.
type Event struct {
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
				return AttrValue(a.Value)
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
		"--from", from, "--home", n.keyHome(), "--keyring-backend", "test", "--chain-id", n.ChainID,
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
		"--from", from, "--home", n.keyHome(), "--keyring-backend", "test", "--chain-id", n.ChainID,
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
	return n.WaitTx(sync.TxHash)
}

// WaitTx waits for a transaction's inclusion (through the node's tx index).
func (n *Node) WaitTx(hash string) TxResult {
	n.t.Helper()
	return Poll(n.t, 30*time.Second, "tx "+hash+": inclusion", func() (TxResult, error) {
		var res TxResult
		out, err := n.exec(context.Background(), "query", "tx", hash, "--node", n.NodeURI(), "-o", "json")
		if err != nil {
			return res, err
		}
		if err := json.Unmarshal(out, &res); err != nil {
			n.t.Fatalf("decode tx %s: %v", hash, err)
		}
		return res, nil
	})
}

// TxBatch sends the messages of several `avsd tx` commands (each ARGS of
// one, e.g. {"avs", "create-task", "1", "4"}) in one transaction signed by
// from with this gas limit, waits for inclusion and returns the result.
func (n *Node) TxBatch(from string, gas int, cmds ...[]string) TxResult {
	n.t.Helper()
	return n.WaitTx(n.SendBatch(from, gas, cmds...))
}

// SendBatch is TxBatch without the wait: it returns the transaction's hash
// once CheckTx accepted it.
func (n *Node) SendBatch(from string, gas int, cmds ...[]string) string {
	n.t.Helper()
	var msgs []json.RawMessage
	for _, c := range cmds {
		msgs = append(msgs, n.GenerateMsgs(from, c...)...)
	}
	return n.SendMsgs(from, gas, msgs)
}

// GenerateMsgs returns the messages `avsd tx ARGS --from FROM` would send,
// as JSON (to send many in one transaction with SendMsgs).
func (n *Node) GenerateMsgs(from string, args ...string) []json.RawMessage {
	n.t.Helper()
	args = append(append([]string{"tx"}, args...), "--from", from, "--home", n.keyHome(), "--keyring-backend", "test",
		"--chain-id", n.ChainID, "--node", n.NodeURI(), "--generate-only", "-o", "json")
	out, err := n.exec(context.Background(), args...)
	if err != nil {
		n.t.Fatal(err)
	}
	var tx struct {
		Body struct {
			Messages []json.RawMessage `json:"messages"`
		} `json:"body"`
	}
	if err := json.Unmarshal(lastJSONLine(out), &tx); err != nil {
		n.t.Fatalf("decode generated tx: %v: %s", err, out)
	}
	return tx.Body.Messages
}

// SendMsgs signs msgs (JSON, as GenerateMsgs returns them) in one
// transaction from from with this gas limit at the node's minimum gas
// price, broadcasts it and returns its hash once CheckTx accepted it.
func (n *Node) SendMsgs(from string, gas int, msgs []json.RawMessage) string {
	n.t.Helper()
	ctx := context.Background()
	price, denom := splitCoin(n.t, n.GasPrices)
	tx := map[string]any{
		"body": map[string]any{"messages": msgs, "memo": "", "timeout_height": "0", "extension_options": []any{}, "non_critical_extension_options": []any{}},
		"auth_info": map[string]any{"signer_infos": []any{}, "fee": map[string]any{
			"amount":    []map[string]string{{"denom": denom, "amount": strconv.FormatInt(int64(price*float64(gas))+1, 10)}},
			"gas_limit": strconv.Itoa(gas), "payer": "", "granter": "",
		}},
		"signatures": []any{},
	}
	dir := n.t.TempDir()
	unsigned, signedFile := filepath.Join(dir, "unsigned.json"), filepath.Join(dir, "signed.json")
	bz, err := json.Marshal(tx)
	if err != nil {
		n.t.Fatal(err)
	}
	if err := os.WriteFile(unsigned, bz, 0o600); err != nil {
		n.t.Fatal(err)
	}
	signed, err := n.exec(ctx, "tx", "sign", unsigned, "--from", from, "--home", n.keyHome(), "--keyring-backend", "test",
		"--chain-id", n.ChainID, "--node", n.NodeURI(), "-o", "json")
	if err != nil {
		n.t.Fatal(err)
	}
	if err := os.WriteFile(signedFile, lastJSONLine(signed), 0o600); err != nil {
		n.t.Fatal(err)
	}
	out, err := n.exec(ctx, "tx", "broadcast", signedFile, "--node", n.NodeURI(), "-o", "json")
	if err != nil {
		n.t.Fatal(err)
	}
	var sync TxResult
	if err := json.Unmarshal(lastJSONLine(out), &sync); err != nil {
		n.t.Fatalf("decode broadcast result: %v: %s", err, out)
	}
	if sync.Code != 0 {
		n.t.Fatalf("%d messages refused by CheckTx (code %d): %s", len(msgs), sync.Code, sync.RawLog)
	}
	return sync.TxHash
}

// splitCoin splits a gas price such as "0.01uavs".
func splitCoin(t testing.TB, price string) (float64, string) {
	i := strings.IndexFunc(price, func(r rune) bool { return (r < '0' || r > '9') && r != '.' })
	if i <= 0 {
		t.Fatalf("gas price %q", price)
	}
	v, err := strconv.ParseFloat(price[:i], 64)
	if err != nil {
		t.Fatalf("gas price %q: %v", price, err)
	}
	return v, price[i:]
}

// Attributes returns every value of key in events of type typ, in order
// (JSON strings unquoted).
func (r TxResult) Attributes(typ, key string) []string {
	var out []string
	for _, e := range r.Events {
		if e.Type != typ {
			continue
		}
		for _, a := range e.Attributes {
			if a.Key == key {
				out = append(out, AttrValue(a.Value))
			}
		}
	}
	return out
}

// KeyAddress returns the address of a key in the node's test keyring.
func (n *Node) KeyAddress(name string) string {
	n.t.Helper()
	out, err := n.exec(context.Background(), "keys", "show", name, "-a", "--home", n.keyHome(), "--keyring-backend", "test")
	if err != nil {
		n.t.Fatal(err)
	}
	return strings.TrimSpace(string(out))
}

// Run runs the node's binary with args as given (no --node, no --home: an
// offline command such as `tx interchain-accounts host generate-packet-data`)
// and returns its standard output; a failure fails the test.
func (n *Node) Run(args ...string) []byte {
	n.t.Helper()
	out, err := n.exec(context.Background(), args...)
	if err != nil {
		n.t.Fatal(err)
	}
	return out
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

// REST gets path from the node's REST API (e.g. "/avschain/avs/v1/tasks/1")
// and decodes the JSON answer into v.
func (n *Node) REST(path string, v any) error {
	resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d%s", n.APIPort, path))
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	bz, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s: %s", path, resp.Status, bz)
	}
	return json.Unmarshal(bz, v)
}

// BlockEvents returns the events of one block (its transactions' and
// FinalizeBlock's) from the node's RPC block_results.
func (n *Node) BlockEvents(height int64) ([]Event, error) {
	resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/block_results?height=%d", n.RPCPort, height))
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var out struct {
		Result struct {
			TxsResults []struct {
				Events []Event `json:"events"`
			} `json:"txs_results"`
			FinalizeBlockEvents []Event `json:"finalize_block_events"`
		} `json:"result"`
		Error json.RawMessage `json:"error"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		return nil, err
	}
	if len(out.Error) > 0 && string(out.Error) != "null" {
		return nil, fmt.Errorf("block_results %d: %s", height, out.Error)
	}
	events := out.Result.FinalizeBlockEvents
	for _, r := range out.Result.TxsResults {
		events = append(events, r.Events...)
	}
	return events, nil
}

// EventAttributes returns the attributes of an event by key (JSON strings
// unquoted).
func EventAttributes(e Event) map[string]string {
	out := make(map[string]string, len(e.Attributes))
	for _, a := range e.Attributes {
		out[a.Key] = AttrValue(a.Value)
	}
	return out
}

// AttrValue is an event attribute's value as a string: a typed (proto)
// event's attributes are JSON, and a JSON string is unquoted; any other value
// is returned as it is.
func AttrValue(v string) string {
	var s string
	if err := json.Unmarshal([]byte(v), &s); err == nil {
		return s
	}
	return v
}
