// Package cli holds the x/avs commands autocli cannot build well: those that
// read files (components, service manifests) or take raw task input and results.
package cli

import (
	"fmt"
	"os"
	"strconv"
	"time"

	"github.com/spf13/cobra"

	sdkmath "cosmossdk.io/math"

	"github.com/cosmos/cosmos-sdk/client"
	"github.com/cosmos/cosmos-sdk/client/flags"
	"github.com/cosmos/cosmos-sdk/client/tx"
	"github.com/cosmos/cosmos-sdk/codec"
	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/avschain/avschain/x/avs/types"
	"github.com/avschain/avschain/x/avs/wasmbin"
)

const (
	flagFee       = "fee"
	flagInputFile = "input-file"
)

// GetTxCmd returns `avsd tx avs`; autocli adds the other messages to it.
func GetTxCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:                        types.ModuleName,
		Short:                      "x/avs transactions: components, services, operators, tasks and votes",
		DisableFlagParsing:         true,
		SuggestionsMinimumDistance: 2,
		RunE:                       client.ValidateCmd,
	}
	cmd.AddCommand(
		StoreComponentCmd(),
		CreateServiceCmd(),
		UpdateServiceCmd(),
		CreateTaskCmd(),
		SubmitResultsCmd(),
		RegisterOperatorCmd(),
		UpdateOperatorCmd(),
		CommitCmd(),
		UncommitCmd(),
		FundServiceCmd(),
		RequestRemoteTaskCmd(),
	)
	return cmd
}

// StoreComponentCmd is `avsd tx avs store-component FILE.wasm`.
func StoreComponentCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "store-component [file.wasm]",
		Short: "Store a WASI preview-1 component (gzip-compressed on the way)",
		Long: `Store a WASI preview-1 component. The module may import only from
wasi_snapshot_preview1 and avs and must export _start. It is sent gzip-compressed;
its address is the sha256 of the uncompressed module, printed in the
EventComponentStored event and the response.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			clientCtx, err := client.GetClientTxContext(cmd)
			if err != nil {
				return err
			}
			code, err := os.ReadFile(args[0])
			if err != nil {
				return fmt.Errorf("read component: %w", err)
			}
			if _, err := wasmbin.Validate(code); err != nil && !wasmbin.IsGzip(code) {
				return fmt.Errorf("%s: %w", args[0], err)
			}
			if !wasmbin.IsGzip(code) {
				if code, err = wasmbin.Gzip(code); err != nil {
					return err
				}
			}
			msg := &types.MsgStoreComponent{Sender: clientCtx.GetFromAddress().String(), Wasm: code}
			return tx.GenerateOrBroadcastTxCLI(clientCtx, cmd.Flags(), msg)
		},
	}
	flags.AddTxFlagsToCmd(cmd)
	return cmd
}

// ReadManifest decodes a service manifest from a JSON file, refusing unknown fields.
func ReadManifest(cdc codec.JSONCodec, path string) (types.ServiceManifest, error) {
	var m types.ServiceManifest
	bz, err := os.ReadFile(path)
	if err != nil {
		return m, fmt.Errorf("read manifest: %w", err)
	}
	if err := cdc.UnmarshalJSON(bz, &m); err != nil {
		return m, fmt.Errorf("decode manifest %s: %w", path, err)
	}
	return m, nil
}

const manifestHelp = `The manifest is the JSON form of avschain.avs.v1.ServiceManifest, for example:

{
  "name": "square",
  "component_digest": "<sha256 hex printed by store-component>",
  "config": [{"key": "GREETING", "value": "hello"}],
  "limits": {"time_ms": "2000", "memory_pages": 64, "output_bytes": "1024", "http_allow_list": []},
  "quorum": {"threshold": "0.67", "weighting": "WEIGHTING_EQUAL", "min_operators": 1},
  "aggregation": {"mode": "AGGREGATION_MODE_EXACT", "allowed_spread": "0"},
  "task_timeout": "20",
  "fee_per_task": {"denom": "uavs", "amount": "1000"},
  "admission": "ADMISSION_OPEN",
  "handler_contract": "",
  "triggers": [
    {"block_interval": {"every": "10", "start": "0", "end": "0"}},
    {"cron": {"schedule": "*/5 * * * *"}},
    {"event": {"type": "wasm-avs_announce", "attributes": [{"key": "_contract_address", "value": "<contract>"}]}}
  ]
}

Triggers open tasks paid from the service treasury (fund-service); see
x/avs/README.md, Triggers.`

// CreateServiceCmd is `avsd tx avs create-service manifest.json`.
func CreateServiceCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "create-service [manifest.json]",
		Short: "Deploy a service from a JSON manifest; the signer owns it",
		Long:  "Deploy a service from a JSON manifest; the signer owns it.\n\n" + manifestHelp,
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			clientCtx, err := client.GetClientTxContext(cmd)
			if err != nil {
				return err
			}
			m, err := ReadManifest(clientCtx.Codec, args[0])
			if err != nil {
				return err
			}
			msg := &types.MsgCreateService{Owner: clientCtx.GetFromAddress().String(), Manifest: m}
			return tx.GenerateOrBroadcastTxCLI(clientCtx, cmd.Flags(), msg)
		},
	}
	flags.AddTxFlagsToCmd(cmd)
	return cmd
}

// UpdateServiceCmd is `avsd tx avs update-service SERVICE_ID manifest.json`.
func UpdateServiceCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "update-service [service-id] [manifest.json]",
		Short: "Replace a service's manifest (owner only); a new component_digest upgrades it",
		Long:  "Replace a service's manifest (owner only); a new component_digest upgrades it.\n\n" + manifestHelp,
		Args:  cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			clientCtx, err := client.GetClientTxContext(cmd)
			if err != nil {
				return err
			}
			id, err := strconv.ParseUint(args[0], 10, 64)
			if err != nil {
				return fmt.Errorf("service id %q: %w", args[0], err)
			}
			m, err := ReadManifest(clientCtx.Codec, args[1])
			if err != nil {
				return err
			}
			msg := &types.MsgUpdateService{Owner: clientCtx.GetFromAddress().String(), ServiceId: id, Manifest: m}
			return tx.GenerateOrBroadcastTxCLI(clientCtx, cmd.Flags(), msg)
		},
	}
	flags.AddTxFlagsToCmd(cmd)
	return cmd
}

// CreateTaskCmd is `avsd tx avs create-task SERVICE_ID [INPUT] [--fee COIN] [--input-file F]`.
func CreateTaskCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "create-task [service-id] [input]",
		Short: "Open a task on a service; the input is sent as given (or read from --input-file)",
		Example: `  avsd tx avs create-task 1 4 --fee 1000uavs --from alice
  avsd tx avs create-task 2 --input-file request.json --fee 1000uavs --from alice`,
		Args: cobra.RangeArgs(1, 2),
		RunE: func(cmd *cobra.Command, args []string) error {
			clientCtx, err := client.GetClientTxContext(cmd)
			if err != nil {
				return err
			}
			id, err := strconv.ParseUint(args[0], 10, 64)
			if err != nil {
				return fmt.Errorf("service id %q: %w", args[0], err)
			}
			inputFile, _ := cmd.Flags().GetString(flagInputFile)
			var input []byte
			switch {
			case inputFile != "" && len(args) == 2:
				return fmt.Errorf("give the input as an argument or with --%s, not both", flagInputFile)
			case inputFile != "":
				if input, err = os.ReadFile(inputFile); err != nil {
					return fmt.Errorf("read input: %w", err)
				}
			case len(args) == 2:
				input = []byte(args[1])
			}
			var fee sdk.Coin
			if s, _ := cmd.Flags().GetString(flagFee); s != "" {
				if fee, err = sdk.ParseCoinNormalized(s); err != nil {
					return fmt.Errorf("--%s %q: %w", flagFee, s, err)
				}
			}
			msg := &types.MsgCreateTask{Creator: clientCtx.GetFromAddress().String(), ServiceId: id, Input: input, Fee: fee}
			return tx.GenerateOrBroadcastTxCLI(clientCtx, cmd.Flags(), msg)
		},
	}
	cmd.Flags().String(flagFee, "", "fee escrowed for the task, at least the service's fee_per_task (e.g. 1000uavs)")
	cmd.Flags().String(flagInputFile, "", "read the task input from this file")
	flags.AddTxFlagsToCmd(cmd)
	return cmd
}

// SubmitResultsCmd is `avsd tx avs submit-results TASK_ID RESULT [TASK_ID RESULT]...`.
func SubmitResultsCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "submit-results [task-id] [result] [[task-id] [result]...]",
		Short: "Vote results for tasks as an operator (the sidecar does this for you)",
		Long: `Vote results for tasks as an operator. Each pair is one vote; every entry is
judged on its own and the response reports each outcome. Operators normally let
avs-sidecar compute and submit results; this command is for testing and recovery.`,
		Args: func(_ *cobra.Command, args []string) error {
			if len(args) == 0 || len(args)%2 != 0 {
				return fmt.Errorf("expected pairs of task-id and result, got %d arguments", len(args))
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			clientCtx, err := client.GetClientTxContext(cmd)
			if err != nil {
				return err
			}
			msg := &types.MsgSubmitResults{Operator: clientCtx.GetFromAddress().String()}
			for i := 0; i < len(args); i += 2 {
				id, err := strconv.ParseUint(args[i], 10, 64)
				if err != nil {
					return fmt.Errorf("task id %q: %w", args[i], err)
				}
				msg.Results = append(msg.Results, types.TaskResult{TaskId: id, Result: []byte(args[i+1])})
			}
			return tx.GenerateOrBroadcastTxCLI(clientCtx, cmd.Flags(), msg)
		},
	}
	flags.AddTxFlagsToCmd(cmd)
	return cmd
}

const flagCommission = "commission"

// operatorCmd builds register-operator and update-operator: autocli cannot send
// a decimal commission (it must be encoded as the chain's fixed-point integer).
func operatorCmd(use, short string, build func(operator, moniker string, commission sdkmath.LegacyDec) sdk.Msg) *cobra.Command {
	cmd := &cobra.Command{
		Use:   use + " [moniker]",
		Short: short,
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			clientCtx, err := client.GetClientTxContext(cmd)
			if err != nil {
				return err
			}
			var commission sdkmath.LegacyDec
			if s, _ := cmd.Flags().GetString(flagCommission); s != "" {
				if commission, err = sdkmath.LegacyNewDecFromStr(s); err != nil {
					return fmt.Errorf("--%s %q: %w", flagCommission, s, err)
				}
			}
			return tx.GenerateOrBroadcastTxCLI(clientCtx, cmd.Flags(), build(clientCtx.GetFromAddress().String(), args[0], commission))
		},
	}
	cmd.Flags().String(flagCommission, "", "share of fee rewards the operator keeps, in [0, 1] (e.g. 0.1)")
	flags.AddTxFlagsToCmd(cmd)
	return cmd
}

// RegisterOperatorCmd is `avsd tx avs register-operator MONIKER [--commission 0.1]`.
func RegisterOperatorCmd() *cobra.Command {
	return operatorCmd("register-operator", "Register the signer as an operator (--commission: share of fee rewards it keeps, default 0)",
		func(op, moniker string, c sdkmath.LegacyDec) sdk.Msg {
			return &types.MsgRegisterOperator{Operator: op, Moniker: moniker, Commission: c}
		})
}

// UpdateOperatorCmd is `avsd tx avs update-operator MONIKER [--commission 0.1]`.
func UpdateOperatorCmd() *cobra.Command {
	return operatorCmd("update-operator", "Change the signer's operator moniker (and --commission, if given)",
		func(op, moniker string, c sdkmath.LegacyDec) sdk.Msg {
			return &types.MsgUpdateOperator{Operator: op, Moniker: moniker, Commission: c}
		})
}

// coinCmd builds the commands that carry a coin (autocli cannot: its dynamic
// messages clash with the SDK's Coin type when a module ships no pulsar code).
func coinCmd(use, short string, nArgs int, build func(signer string, args []string, amount sdk.Coin) (sdk.Msg, error)) *cobra.Command {
	cmd := &cobra.Command{
		Use:   use,
		Short: short,
		Args:  cobra.ExactArgs(nArgs),
		RunE: func(cmd *cobra.Command, args []string) error {
			clientCtx, err := client.GetClientTxContext(cmd)
			if err != nil {
				return err
			}
			amount, err := sdk.ParseCoinNormalized(args[len(args)-1])
			if err != nil {
				return fmt.Errorf("amount %q: %w", args[len(args)-1], err)
			}
			msg, err := build(clientCtx.GetFromAddress().String(), args[:len(args)-1], amount)
			if err != nil {
				return err
			}
			return tx.GenerateOrBroadcastTxCLI(clientCtx, cmd.Flags(), msg)
		},
	}
	flags.AddTxFlagsToCmd(cmd)
	return cmd
}

func parseServiceID(s string) (uint64, error) {
	id, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("service id %q: %w", s, err)
	}
	return id, nil
}

// CommitCmd is `avsd tx avs commit OPERATOR SERVICE_ID AMOUNT`.
func CommitCmd() *cobra.Command {
	return coinCmd("commit [operator] [service-id] [amount]", "Commit stake (e.g. 1000000uavs) to an operator for a service", 3,
		func(signer string, args []string, amt sdk.Coin) (sdk.Msg, error) {
			id, err := parseServiceID(args[1])
			return &types.MsgCommit{Committer: signer, Operator: args[0], ServiceId: id, Amount: amt}, err
		})
}

// UncommitCmd is `avsd tx avs uncommit OPERATOR SERVICE_ID AMOUNT`.
func UncommitCmd() *cobra.Command {
	return coinCmd("uncommit [operator] [service-id] [amount]", "Start unbonding committed stake; it is released after the unbonding time", 3,
		func(signer string, args []string, amt sdk.Coin) (sdk.Msg, error) {
			id, err := parseServiceID(args[1])
			return &types.MsgUncommit{Committer: signer, Operator: args[0], ServiceId: id, Amount: amt}, err
		})
}

// FundServiceCmd is `avsd tx avs fund-service SERVICE_ID AMOUNT`.
func FundServiceCmd() *cobra.Command {
	return coinCmd("fund-service [service-id] [amount]", "Add to a service's treasury (it pays for tasks no one sends)", 2,
		func(signer string, args []string, amt sdk.Coin) (sdk.Msg, error) {
			id, err := parseServiceID(args[0])
			return &types.MsgFundService{Funder: signer, ServiceId: id, Amount: amt}, err
		})
}

// RequestRemoteTaskCmd is `avsd tx avs request-remote-task CHANNEL SERVICE_ID INPUT`.
func RequestRemoteTaskCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "request-remote-task [channel] [service-id] [input]",
		Short: "Ask a service on another chain for a task over an avs IBC channel",
		Long: `Ask a service on another chain for a task over an avs IBC channel (port avs).
The answer arrives in the packet's acknowledgement: read it with
'avsd q avs remote-result CHANNEL SEQUENCE' (the sequence is in the response and
in EventRemoteTaskRequested).`,
		Example: `  avsd tx avs request-remote-task channel-0 1 7 --from alice`,
		Args:    cobra.ExactArgs(3),
		RunE: func(cmd *cobra.Command, args []string) error {
			clientCtx, err := client.GetClientTxContext(cmd)
			if err != nil {
				return err
			}
			id, err := parseServiceID(args[1])
			if err != nil {
				return err
			}
			timeout, _ := cmd.Flags().GetDuration("timeout")
			handler, _ := cmd.Flags().GetString("handler-contract")
			msg := &types.MsgRequestRemoteTask{
				Sender: clientCtx.GetFromAddress().String(), Channel: args[0], ServiceId: id, Input: []byte(args[2]),
				TimeoutSeconds: uint64(timeout.Seconds()), HandlerContract: handler,
			}
			return tx.GenerateOrBroadcastTxCLI(clientCtx, cmd.Flags(), msg)
		},
	}
	cmd.Flags().Duration("timeout", time.Duration(types.DefaultRemoteTimeoutSeconds)*time.Second, "how long the request may wait to be received")
	cmd.Flags().String("handler-contract", "", "a contract told the result with sudo avs_remote_result")
	flags.AddTxFlagsToCmd(cmd)
	return cmd
}
