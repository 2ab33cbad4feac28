package avs

import (
	"github.com/spf13/cobra"

	autocliv1 "cosmossdk.io/api/cosmos/autocli/v1"

	"github.com/avschain/avschain/x/avs/client/cli"
	"github.com/avschain/avschain/x/avs/types"
)

// GetQueryCmd returns the hand-written queries (a readable commitments
// table); autocli adds the rest to the same `avsd query avs` command.
func (AppModule) GetQueryCmd() *cobra.Command { return cli.GetQueryCmd() }

// GetTxCmd returns the hand-written tx commands (files, raw input, coins,
// decimals); autocli adds the rest to the same `avsd tx avs` command.
func (AppModule) GetTxCmd() *cobra.Command { return cli.GetTxCmd() }

// positional maps a command's arguments, in order, to the request's fields.
func positional(fields ...string) []*autocliv1.PositionalArgDescriptor {
	args := make([]*autocliv1.PositionalArgDescriptor, len(fields))
	for i, f := range fields {
		args[i] = &autocliv1.PositionalArgDescriptor{ProtoField: f}
	}
	return args
}

// AutoCLIOptions builds `avsd query avs` and the generated part of `avsd tx avs`.
// Every list query has a pagination field, for which autocli adds the
// --page-key, --page-limit, --page-offset, --page-count-total and
// --page-reverse flags.
func (AppModule) AutoCLIOptions() *autocliv1.ModuleOptions {
	return &autocliv1.ModuleOptions{
		Query: &autocliv1.ServiceCommandDescriptor{
			Service:              types.Query_serviceDesc.ServiceName,
			EnhanceCustomCommand: true,
			RpcCommandOptions: []*autocliv1.RpcCommandOptions{
				{RpcMethod: "Commitments", Skip: true}, // hand-written: prints a table
				{
					RpcMethod:      "Unbonding",
					Use:            "unbonding [committer]",
					Short:          "List a committer's unbonding entries",
					PositionalArgs: positional("committer"),
				},
				{
					RpcMethod:      "OperatorCommitments",
					Use:            "operator-commitments [operator]",
					Short:          "List the commitments to an operator, and its pools",
					PositionalArgs: positional("operator"),
				},
				{
					RpcMethod:      "ServiceCommitments",
					Use:            "service-commitments [service-id]",
					Short:          "List the commitments in a service",
					PositionalArgs: positional("service_id"),
				},
				{
					RpcMethod:      "ServicePower",
					Use:            "power [service-id]",
					Short:          "Show a service's power table (now, and the current epoch's snapshot)",
					PositionalArgs: positional("service_id"),
				},
				{
					RpcMethod:      "Rewards",
					Use:            "rewards [committer]",
					Short:          "Show an address's withdrawable rewards: its commitments' (over one page: see next_key) and, for an operator, its own (operator_rewards)",
					PositionalArgs: positional("committer"),
				},
				{
					RpcMethod:      "Treasury",
					Use:            "treasury [service-id]",
					Short:          "Show a service's treasury",
					PositionalArgs: positional("service_id"),
				},
				{
					RpcMethod:      "RemoteResult",
					Use:            "remote-result [channel] [sequence]",
					Short:          "Show a task result this chain requested from another (--pushed: one another chain pushed)",
					PositionalArgs: positional("channel", "sequence"),
				},
				{
					RpcMethod: "RemoteResults",
					Use:       "remote-results",
					Short:     "List the results this chain requested from others (--pushed: those other chains pushed)",
				},
				{
					RpcMethod: "Params",
					Use:       "params",
					Short:     "Show the x/avs module parameters",
				},
				{
					RpcMethod:      "Component",
					Use:            "component [digest]",
					Short:          "Show a component's metadata",
					PositionalArgs: positional("digest"),
				},
				{
					RpcMethod:      "ComponentCode",
					Use:            "component-code [digest]",
					Short:          "Show a component's wasm bytes (base64 in JSON)",
					PositionalArgs: positional("digest"),
				},
				{
					RpcMethod: "Components",
					Use:       "components",
					Short:     "List stored components",
				},
				{
					RpcMethod:      "Service",
					Use:            "service [service-id]",
					Short:          "Show a service",
					PositionalArgs: positional("service_id"),
				},
				{
					RpcMethod:      "ServiceRevision",
					Use:            "service-revision [service-id] [revision]",
					Short:          "Show the manifest of one revision of a service: the rules of the tasks created under it (a task's service_revision)",
					PositionalArgs: positional("service_id", "revision"),
				},
				{
					RpcMethod: "Services",
					Use:       "services",
					Short:     "List services",
				},
				{
					RpcMethod:      "ServiceOperators",
					Use:            "service-operators [service-id]",
					Short:          "List the operators opted in to a service",
					PositionalArgs: positional("service_id"),
				},
				{
					RpcMethod:      "Operator",
					Use:            "operator [address]",
					Short:          "Show an operator and the services it runs",
					PositionalArgs: positional("address"),
				},
				{
					RpcMethod: "Operators",
					Use:       "operators",
					Short:     "List operators",
				},
				{
					RpcMethod:      "Task",
					Use:            "task [task-id]",
					Short:          "Show a task, with its result once completed",
					PositionalArgs: positional("task_id"),
				},
				{
					RpcMethod:      "Tasks",
					Use:            "tasks [service-id]",
					Short:          "List a service's tasks, all or by --status pending|completed|expired",
					PositionalArgs: positional("service_id"),
				},
				{
					RpcMethod:      "TaskVotes",
					Use:            "task-votes [task-id]",
					Short:          "List the votes on a task",
					PositionalArgs: positional("task_id"),
				},
			},
		},
		Tx: &autocliv1.ServiceCommandDescriptor{
			Service:              types.Msg_serviceDesc.ServiceName,
			EnhanceCustomCommand: true,
			RpcCommandOptions: []*autocliv1.RpcCommandOptions{
				{RpcMethod: "UpdateParams", Skip: true},      // authority-gated: sent through a gov proposal
				{RpcMethod: "StoreComponent", Skip: true},    // hand-written: reads and checks a .wasm file
				{RpcMethod: "CreateService", Skip: true},     // hand-written: reads a JSON manifest
				{RpcMethod: "UpdateService", Skip: true},     // hand-written: reads a JSON manifest
				{RpcMethod: "CreateTask", Skip: true},        // hand-written: raw input or a file, carries a coin
				{RpcMethod: "CreateTasks", Skip: true},       // hand-written: inputs or a file of them, carries a coin
				{RpcMethod: "SubmitResults", Skip: true},     // hand-written: (task id, result) pairs
				{RpcMethod: "SetServiceStatus", Skip: true},  // hand-written: waits for inclusion
				{RpcMethod: "TransferService", Skip: true},   // hand-written: a key name for the new owner
				{RpcMethod: "UpdateAllowlist", Skip: true},   // hand-written: key names, nothing-to-change refused
				{RpcMethod: "RegisterOperator", Skip: true},  // hand-written: decimal commission
				{RpcMethod: "UpdateOperator", Skip: true},    // hand-written: decimal commission
				{RpcMethod: "OptIn", Skip: true},             // hand-written: waits for inclusion
				{RpcMethod: "OptOut", Skip: true},            // hand-written: waits for inclusion
				{RpcMethod: "Commit", Skip: true},            // hand-written: carries a coin
				{RpcMethod: "Uncommit", Skip: true},          // hand-written: carries a coin
				{RpcMethod: "WithdrawRewards", Skip: true},   // hand-written: waits for inclusion, prints the amount
				{RpcMethod: "FundService", Skip: true},       // hand-written: carries a coin
				{RpcMethod: "Unjail", Skip: true},            // hand-written: waits for inclusion
				{RpcMethod: "RequestRemoteTask", Skip: true}, // hand-written: raw input, duration
			},
		},
	}
}
