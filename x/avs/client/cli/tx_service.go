package cli

import (
	"bytes"
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"

	errorsmod "cosmossdk.io/errors"

	"github.com/cosmos/cosmos-sdk/client"
	"github.com/cosmos/cosmos-sdk/codec"
	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/avschain/avschain/x/avs/types"
	"github.com/avschain/avschain/x/avs/wasmbin"
)

// StoreComponentCmd is `avsd tx avs store-component FILE.wasm`.
func StoreComponentCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "store-component [file.wasm]",
		Short: "Store a WASI preview-1 component (gzip-compressed on the way)",
		Long: `Store a WASI preview-1 component. The module may import only from
wasi_snapshot_preview1 and avs and must export _start. It is sent gzip-compressed;
its address is the sha256 of the uncompressed module (sha256sum FILE.wasm),
printed as "digest" once the tx is included: the component_digest of a
service's manifest.`,
		Args: cobra.ExactArgs(1),
	}
	return txCmd(cmd, func(clientCtx client.Context, cmd *cobra.Command, args []string) (sdk.Msg, error) {
		params, err := chainParams(cmd, clientCtx)
		if err != nil {
			return nil, err
		}
		code, err := readComponent(args[0], params.MaxComponentSize)
		if err != nil {
			return nil, err
		}
		return &types.MsgStoreComponent{Sender: clientCtx.GetFromAddress().String(), Wasm: code}, nil
	})
}

// wasmMagic opens every wasm module.
var wasmMagic = []byte("\x00asm")

// readComponent reads a component from a file and returns it gzip-compressed,
// as MsgStoreComponent carries it. A plain module is checked here, so that a
// wrong file is refused before a transaction is signed; a gzip one is left to
// the chain, which checks it once decompressed.
func readComponent(path string, maxSize uint64) ([]byte, error) {
	code, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read component: %w", err)
	}
	if wasmbin.IsGzip(code) {
		return code, nil
	}
	if uint64(len(code)) > maxSize {
		return nil, fmt.Errorf("%s is %d bytes: the chain takes components up to %d bytes (max_component_size)",
			path, len(code), maxSize)
	}
	if !bytes.HasPrefix(code, wasmMagic) {
		return nil, fmt.Errorf("%s is not a wasm module: give the .wasm file a component builds to "+
			"(`make components` builds the examples into components/<name>/<name>.wasm)", path)
	}
	if _, err := wasmbin.Validate(code); err != nil {
		return nil, errorsmod.Wrap(err, path)
	}
	return wasmbin.Gzip(code)
}

// ReadManifest decodes a service manifest from a JSON file, refusing unknown fields.
func ReadManifest(cdc codec.JSONCodec, path string) (types.ServiceManifest, error) {
	bz, err := os.ReadFile(path)
	if err != nil {
		return types.ServiceManifest{}, fmt.Errorf("read manifest: %w", err)
	}
	m, err := types.DecodeManifestJSON(cdc, bz)
	if err != nil {
		return m, manifestFileError{path: path, err: err}
	}
	return m, nil
}

const manifestHelp = `The manifest is the JSON form of avschain.avs.v1.ServiceManifest. Complete
manifests of each kind (EXACT, MEDIAN with slashing, triggers, handler
contract, IBC) are in the repository's examples/manifests/, and
examples/manifest.schema.json (JSON Schema) gives every field with its type,
default and limits. For example:

{
  "name": "square",
  "component_digest": "<sha256sum of the stored .wasm: 64 lower-case hex digits>",
  "config": [{"key": "GREETING", "value": "hello"}],
  "limits": {"time_ms": "2000", "memory_pages": 512, "output_bytes": "1024", "http_allow_list": []},
  "quorum": {"threshold": "0.67", "weighting": "WEIGHTING_STAKE", "min_operators": 1},
  "aggregation": {"mode": "AGGREGATION_MODE_EXACT", "allowed_spread": "0", "slashable_spread": "0"},
  "task_timeout": "20",
  "fee_per_task": {"denom": "uavs", "amount": "1000"},
  "admission": "ADMISSION_OPEN",
  "handler_contract": "",
  "slash_fraction": "0",
  "ibc_request_channels": [],
  "ibc_result_channels": [],
  "triggers": [
    {"block_interval": {"every": "10", "start": "0", "end": "0"}},
    {"cron": {"schedule": "*/5 * * * *"}},
    {"event": {"type": "wasm-avs_announce", "attributes": [{"key": "_contract_address", "value": "<contract>"}]}}
  ],
  "min_self_stake": "0"
}

Quoting: decimals (threshold, allowed_spread, slashable_spread,
slash_fraction) and amounts (fee_per_task.amount, min_self_stake) are quoted
strings, "0.67" and never 0.67. 64-bit integers (time_ms, output_bytes,
task_timeout, every, start, end) are quoted strings too (a bare number is
read as well); memory_pages and min_operators are numbers; enums are named.
A field left out takes its default (empty, zero, the first enum value).
Required: name, component_digest, limits.time_ms, limits.memory_pages,
limits.output_bytes and quorum.threshold; aggregation.allowed_spread for
MEDIAN. A mistake in the JSON is reported at its path before anything is
signed.

The threshold must be above 0.5. Under WEIGHTING_STAKE an operator counts
only once its own commitment reaches the module's min_operator_stake (or a
higher min_self_stake). WEIGHTING_EQUAL needs "admission": "ADMISSION_ALLOWLIST"
(then update-allowlist) or "min_self_stake" above 0.

Triggers open tasks paid from the service treasury (fund-service), so they
need a fee_per_task above 0; see x/avs/README.md, Triggers.`

// readValidManifest reads a manifest and checks it with the chain's own
// validation against the chain's params, naming the file in the error.
func readValidManifest(cmd *cobra.Command, clientCtx client.Context, path string) (types.ServiceManifest, error) {
	m, err := ReadManifest(clientCtx.Codec, path)
	if err != nil {
		return m, err
	}
	params, err := chainParams(cmd, clientCtx)
	if err != nil {
		return m, err
	}
	if err := m.Validate(params); err != nil {
		return m, errorsmod.Wrap(err, path) // %w would print the error's source line
	}
	return m, nil
}

// CreateServiceCmd is `avsd tx avs create-service manifest.json`.
func CreateServiceCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "create-service [manifest.json]",
		Short: "Deploy a service from a JSON manifest; the signer owns it",
		Long:  "Deploy a service from a JSON manifest; the signer owns it.\n\n" + manifestHelp,
		Args:  cobra.ExactArgs(1),
	}
	return txCmd(cmd, func(clientCtx client.Context, cmd *cobra.Command, args []string) (sdk.Msg, error) {
		m, err := readValidManifest(cmd, clientCtx, args[0])
		if err != nil {
			return nil, err
		}
		return &types.MsgCreateService{Owner: clientCtx.GetFromAddress().String(), Manifest: m}, nil
	})
}

// UpdateServiceCmd is `avsd tx avs update-service SERVICE_ID manifest.json`.
func UpdateServiceCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "update-service [service-id] [manifest.json]",
		Short: "Replace a service's manifest (owner only); a new component_digest upgrades it",
		Long:  "Replace a service's manifest (owner only); a new component_digest upgrades it.\n\n" + manifestHelp,
		Args:  cobra.ExactArgs(2),
	}
	return txCmd(cmd, func(clientCtx client.Context, cmd *cobra.Command, args []string) (sdk.Msg, error) {
		id, err := parseServiceID(args[0])
		if err != nil {
			return nil, err
		}
		m, err := readValidManifest(cmd, clientCtx, args[1])
		if err != nil {
			return nil, err
		}
		return &types.MsgUpdateService{Owner: clientCtx.GetFromAddress().String(), ServiceId: id, Manifest: m}, nil
	})
}

// FundServiceCmd is `avsd tx avs fund-service SERVICE_ID AMOUNT`.
func FundServiceCmd() *cobra.Command {
	return coinCmd("fund-service [service-id] [amount]", "Add to a service's treasury (it pays for tasks no one sends)", 2,
		func(clientCtx client.Context, _ *cobra.Command, args []string, amt sdk.Coin) (sdk.Msg, error) {
			id, err := parseServiceID(args[0])
			return &types.MsgFundService{Funder: clientCtx.GetFromAddress().String(), ServiceId: id, Amount: amt}, err
		})
}

// SetServiceStatusCmd is `avsd tx avs set-service-status SERVICE_ID STATUS`.
func SetServiceStatusCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "set-service-status [service-id] [active|paused]",
		Short: "Pause or resume a service; owner only",
		Long: `Pause or resume a service; owner only. A paused service takes no new tasks
(MsgCreateTask, triggers and IBC requests are refused); its open tasks run to
their end.`,
		Args: cobra.ExactArgs(2),
	}
	return txCmd(cmd, func(clientCtx client.Context, _ *cobra.Command, args []string) (sdk.Msg, error) {
		id, err := parseServiceID(args[0])
		if err != nil {
			return nil, err
		}
		status, err := parseServiceStatus(args[1])
		if err != nil {
			return nil, err
		}
		return &types.MsgSetServiceStatus{Owner: clientCtx.GetFromAddress().String(), ServiceId: id, Status: status}, nil
	})
}

// parseServiceStatus reads active or paused (or the enum's own names).
func parseServiceStatus(s string) (types.ServiceStatus, error) {
	switch strings.ToLower(strings.TrimPrefix(strings.ToUpper(s), "SERVICE_STATUS_")) {
	case "active":
		return types.SERVICE_STATUS_ACTIVE, nil
	case "paused":
		return types.SERVICE_STATUS_PAUSED, nil
	}
	return 0, fmt.Errorf("status %q: use active or paused", s)
}

// TransferServiceCmd is `avsd tx avs transfer-service SERVICE_ID NEW_OWNER`.
func TransferServiceCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "transfer-service [service-id] [new-owner]",
		Short: "Hand a service to a new owner (an address, a contract's included, or a key name)",
		Args:  cobra.ExactArgs(2),
	}
	return txCmd(cmd, func(clientCtx client.Context, _ *cobra.Command, args []string) (sdk.Msg, error) {
		id, err := parseServiceID(args[0])
		if err != nil {
			return nil, err
		}
		owner, err := resolveAddress(clientCtx, "new owner", args[1])
		if err != nil {
			return nil, err
		}
		return &types.MsgTransferService{Owner: clientCtx.GetFromAddress().String(), ServiceId: id, NewOwner: owner}, nil
	})
}

// UpdateAllowlistCmd is `avsd tx avs update-allowlist SERVICE_ID --add … --remove …`.
func UpdateAllowlistCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "update-allowlist [service-id] --add OPERATOR,… --remove OPERATOR,…",
		Short: "Add and remove operators (addresses or key names) on a service's allow-list; owner only",
		Long: `Add and remove operators on the allow-list of a service with
"admission": "ADMISSION_ALLOWLIST"; owner only. A change counts from the
service's next power snapshot (the next epoch).`,
		Args: cobra.ExactArgs(1),
	}
	cmd.Flags().StringSlice(flagAdd, nil, "operators to add (addresses or key names, comma-separated or repeated)")
	cmd.Flags().StringSlice(flagRemove, nil, "operators to remove (addresses or key names, comma-separated or repeated)")
	return txCmd(cmd, func(clientCtx client.Context, cmd *cobra.Command, args []string) (sdk.Msg, error) {
		id, err := parseServiceID(args[0])
		if err != nil {
			return nil, err
		}
		msg := &types.MsgUpdateAllowlist{Owner: clientCtx.GetFromAddress().String(), ServiceId: id}
		for _, f := range []struct {
			flag string
			into *[]string
		}{{flagAdd, &msg.Add}, {flagRemove, &msg.Remove}} {
			names, err := cmd.Flags().GetStringSlice(f.flag)
			if err != nil {
				return nil, err
			}
			for _, name := range names {
				addr, err := resolveAddress(clientCtx, "operator", name)
				if err != nil {
					return nil, fmt.Errorf("--%s: %w", f.flag, err)
				}
				*f.into = append(*f.into, addr)
			}
		}
		if len(msg.Add)+len(msg.Remove) == 0 {
			return nil, fmt.Errorf("nothing to change: name operators with --add or --remove")
		}
		return msg, nil
	})
}
