package cli

import (
	"bufio"
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"time"

	"github.com/cosmos/gogoproto/proto"
	"github.com/spf13/cobra"
	"sigs.k8s.io/yaml"

	"github.com/cosmos/cosmos-sdk/client"
	"github.com/cosmos/cosmos-sdk/client/flags"
	"github.com/cosmos/cosmos-sdk/client/input"
	"github.com/cosmos/cosmos-sdk/client/tx"
	sdk "github.com/cosmos/cosmos-sdk/types"
	authtx "github.com/cosmos/cosmos-sdk/x/auth/tx"
)

// The hand-written tx commands do what a user expects of one command (issue
// #19): they simulate the transaction first, so x/avs's refusal is printed
// before anything is signed or sent (the SDK's sync broadcast runs only the
// ante handler: a message the module refuses would print code 0); they wait
// for the transaction to be included and fail if it failed; and they print
// what the message answered (the digest, the service id, the task ids, the
// IBC sequence), as text or, with -o json, as the included tx's JSON with a
// "result" field.
const (
	flagNoWait      = "no-wait"
	flagWaitTimeout = "wait-timeout"

	// defaultGasAdjustment multiplies the simulated gas when neither --gas
	// nor --gas-adjustment is given, as every guide and script does.
	defaultGasAdjustment = "1.5"
	defaultWaitTimeout   = time.Minute
	pollInterval         = 500 * time.Millisecond
)

// addSendFlags adds the tx flags and this package's own to a tx command.
func addSendFlags(cmd *cobra.Command) {
	flags.AddTxFlagsToCmd(cmd)
	cmd.Flags().Bool(flagNoWait, false, "print the broadcast result and return without waiting for the tx to be included")
	cmd.Flags().Duration(flagWaitTimeout, defaultWaitTimeout, "how long to wait for the tx to be included")
}

// sendTx signs and broadcasts msg as the hand-written commands do (see
// above); --generate-only, --offline, --dry-run and --aux keep the SDK's
// behaviour.
func sendTx(cmd *cobra.Command, clientCtx client.Context, msg sdk.Msg) error {
	f := cmd.Flags()
	if clientCtx.GenerateOnly || clientCtx.Offline || clientCtx.IsAux || clientCtx.Simulate {
		return tx.GenerateOrBroadcastTxCLI(clientCtx, f, msg)
	}
	if !f.Changed(flags.FlagGas) {
		if err := f.Set(flags.FlagGas, flags.GasFlagAuto); err != nil {
			return err
		}
		if !f.Changed(flags.FlagGasAdjustment) {
			if err := f.Set(flags.FlagGasAdjustment, defaultGasAdjustment); err != nil {
				return err
			}
		}
	}
	txf, err := tx.NewFactoryCLI(clientCtx, f)
	if err != nil {
		return err
	}
	res, err := broadcast(clientCtx, txf, msg)
	if err != nil || res == nil {
		return err
	}
	if res.Code != 0 {
		_ = clientCtx.PrintProto(res)
		return fmt.Errorf("the node refused tx %s (code %d, %s): %s", res.TxHash, res.Code, res.Codespace, res.RawLog)
	}
	if noWait, _ := f.GetBool(flagNoWait); noWait {
		return clientCtx.PrintProto(res)
	}
	timeout, _ := f.GetDuration(flagWaitTimeout)
	fmt.Fprintf(os.Stderr, "sent tx %s, waiting for a block to include it (--no-wait: don't)\n", res.TxHash)
	included, err := waitForTx(cmd.Context(), clientCtx, res.TxHash, timeout)
	if err != nil {
		return err
	}
	if err := printIncluded(clientCtx, included); err != nil {
		return err
	}
	if included.Code != 0 {
		return fmt.Errorf("tx %s failed at height %d (code %d, %s): %s",
			included.TxHash, included.Height, included.Code, included.Codespace, included.RawLog)
	}
	return nil
}

// broadcast is the SDK's tx.BroadcastTx returning the broadcast result
// instead of printing it (nil when the user declines to sign).
func broadcast(clientCtx client.Context, txf tx.Factory, msg sdk.Msg) (*sdk.TxResponse, error) {
	txf, err := txf.Prepare(clientCtx)
	if err != nil {
		return nil, err
	}
	if txf.SimulateAndExecute() {
		_, adjusted, err := tx.CalculateGas(clientCtx, txf, msg)
		if err != nil {
			return nil, err // avsd's runner says "transaction refused: <why>"
		}
		txf = txf.WithGas(adjusted)
	}
	unsigned, err := txf.BuildUnsignedTx(msg)
	if err != nil {
		return nil, err
	}
	if !clientCtx.SkipConfirm {
		bz, err := clientCtx.TxConfig.TxJSONEncoder()(unsigned.GetTx())
		if err != nil {
			return nil, fmt.Errorf("encode the transaction: %w", err)
		}
		if err := clientCtx.PrintRaw(json.RawMessage(bz)); err != nil {
			return nil, err
		}
		ok, err := input.GetConfirmation("confirm transaction before signing and broadcasting", bufio.NewReader(os.Stdin), os.Stderr)
		if err != nil || !ok {
			fmt.Fprintln(os.Stderr, "canceled transaction")
			return nil, err
		}
	}
	if err := tx.Sign(clientCtx.CmdContext, txf, clientCtx.FromName, unsigned, true); err != nil {
		return nil, err
	}
	bz, err := clientCtx.TxConfig.TxEncoder()(unsigned.GetTx())
	if err != nil {
		return nil, err
	}
	return clientCtx.BroadcastTx(bz)
}

// waitForTx polls the node until it has the tx in a block, or timeout passes.
func waitForTx(ctx context.Context, clientCtx client.Context, hash string, timeout time.Duration) (*sdk.TxResponse, error) {
	if ctx == nil {
		ctx = context.Background()
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	tick := time.NewTicker(pollInterval)
	defer tick.Stop()
	for {
		res, err := authtx.QueryTx(clientCtx, hash)
		if err == nil {
			return res, nil
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("tx %s was not included within %s (last answer: %v): look it up later with `avsd q tx %s`",
				hash, timeout, err, hash)
		case <-tick.C:
		}
	}
}

// printIncluded prints an included tx: with -o json, its JSON (as `avsd q tx`
// prints it, less the tx itself, which for a component is megabytes) with the
// message's answer as "result"; as text, the answer's fields, then the tx
// hash and height.
func printIncluded(clientCtx client.Context, res *sdk.TxResponse) error {
	result, err := msgResponseJSON(clientCtx, res)
	if err != nil {
		return err
	}
	if clientCtx.OutputFormat == flags.OutputFormatJSON {
		bz, err := clientCtx.Codec.MarshalJSON(res)
		if err != nil {
			return err
		}
		var out map[string]json.RawMessage
		if err := json.Unmarshal(bz, &out); err != nil {
			return err
		}
		delete(out, "tx")
		if result != nil {
			out["result"] = result
		}
		bz, err = json.Marshal(out)
		if err != nil {
			return err
		}
		return clientCtx.PrintRaw(bz)
	}
	var text []byte
	if result != nil && string(result) != "{}" {
		if text, err = yaml.JSONToYAML(result); err != nil {
			return err
		}
	}
	status := "included"
	if res.Code != 0 {
		status = "failed"
	}
	text = fmt.Appendf(text, "txhash: %s\nheight: %d\nstatus: %s\n", res.TxHash, res.Height, status)
	return clientCtx.PrintString(string(text))
}

// msgResponseJSON is the proto JSON of the tx's first message response, nil
// when the tx failed or answered nothing.
func msgResponseJSON(clientCtx client.Context, res *sdk.TxResponse) (json.RawMessage, error) {
	if res.Code != 0 || res.Data == "" {
		return nil, nil
	}
	bz, err := hex.DecodeString(res.Data)
	if err != nil {
		return nil, fmt.Errorf("decode the tx's data: %w", err)
	}
	var data sdk.TxMsgData
	if err := proto.Unmarshal(bz, &data); err != nil {
		return nil, fmt.Errorf("decode the tx's data: %w", err)
	}
	if len(data.MsgResponses) == 0 {
		return nil, nil
	}
	answer, err := clientCtx.InterfaceRegistry.Resolve(data.MsgResponses[0].TypeUrl)
	if err == nil {
		err = proto.Unmarshal(data.MsgResponses[0].Value, answer)
	}
	if err != nil {
		return nil, fmt.Errorf("decode the message's answer %s: %w", data.MsgResponses[0].TypeUrl, err)
	}
	return clientCtx.Codec.MarshalJSON(answer)
}
