package cli

import (
	"bytes"
	"encoding/hex"
	"fmt"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/cosmos/cosmos-sdk/client"
	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/avschain/avschain/x/avs/types"
)

const (
	flagFee             = "fee"
	flagInputFile       = "input-file"
	flagSalt            = "salt"
	flagCommit          = "commit"
	flagInputsFile      = "inputs-file"
	flagTimeout         = "timeout"
	flagHandlerContract = "handler-contract"
	flagAdd             = "add"
	flagRemove          = "remove"
)

// CreateTaskCmd is `avsd tx avs create-task SERVICE_ID [INPUT] [--fee COIN] [--input-file F]`.
func CreateTaskCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "create-task [service-id] [input]",
		Short: "Open a task on a service; the input is sent as given (or read from --input-file)",
		Example: `  avsd tx avs create-task 1 4 --fee 1000uavs --from alice
  avsd tx avs create-task 2 --input-file request.json --fee 1000uavs --from alice`,
		Args: cobra.RangeArgs(1, 2),
	}
	cmd.Flags().String(flagFee, "", "fee escrowed for the task, at least the service's fee_per_task (e.g. 1000uavs)")
	cmd.Flags().String(flagInputFile, "", "read the task input from this file")
	return txCmd(cmd, func(clientCtx client.Context, cmd *cobra.Command, args []string) (sdk.Msg, error) {
		id, err := parseServiceID(args[0])
		if err != nil {
			return nil, err
		}
		input, err := taskInput(cmd, args[1:])
		if err != nil {
			return nil, err
		}
		fee, err := checkedFee(cmd, clientCtx, input)
		if err != nil {
			return nil, err
		}
		return &types.MsgCreateTask{Creator: clientCtx.GetFromAddress().String(), ServiceId: id, Input: input, Fee: fee}, nil
	})
}

// CreateTasksCmd is `avsd tx avs create-tasks SERVICE_ID [INPUT]... [--fee COIN] [--inputs-file F]`.
func CreateTasksCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "create-tasks [service-id] [input]...",
		Short: "Open many tasks on a service in one message: one per input, the fees escrowed at once",
		Long: `Open one task per input on a service, with one escrow of fee × inputs: cheaper per
task than create-task (issue #16). All are created or none. Inputs are the arguments,
or the lines of --inputs-file (one input a line; empty lines are skipped). At most
the module's max_tasks_per_msg inputs.`,
		Example: `  avsd tx avs create-tasks 1 4 5 6 --fee 1000uavs --from alice
  avsd tx avs create-tasks 1 --inputs-file inputs.txt --fee 1000uavs --from alice`,
		Args: cobra.MinimumNArgs(1),
	}
	cmd.Flags().String(flagFee, "", "fee escrowed for each task, at least the service's fee_per_task (e.g. 1000uavs)")
	cmd.Flags().String(flagInputsFile, "", "read the task inputs from this file, one a line")
	return txCmd(cmd, func(clientCtx client.Context, cmd *cobra.Command, args []string) (sdk.Msg, error) {
		id, err := parseServiceID(args[0])
		if err != nil {
			return nil, err
		}
		inputs, err := taskInputs(cmd, args[1:])
		if err != nil {
			return nil, err
		}
		fee, err := checkedFee(cmd, clientCtx, inputs...)
		if err != nil {
			return nil, err
		}
		return &types.MsgCreateTasks{Creator: clientCtx.GetFromAddress().String(), ServiceId: id, Inputs: inputs, FeePerTask: fee}, nil
	})
}

// checkedFee is --fee as a coin (the zero coin when it is not given: a free
// service), after checking it and the inputs against the chain's params.
func checkedFee(cmd *cobra.Command, clientCtx client.Context, inputs ...[]byte) (sdk.Coin, error) {
	params, err := chainParams(cmd, clientCtx)
	if err != nil {
		return sdk.Coin{}, err
	}
	if err := checkInputs(params, inputs...); err != nil {
		return sdk.Coin{}, err
	}
	s, _ := cmd.Flags().GetString(flagFee)
	if s == "" {
		return sdk.Coin{}, nil
	}
	fee, err := parseAmount("--"+flagFee, s)
	if err != nil {
		return sdk.Coin{}, err
	}
	return fee, checkDenom("--"+flagFee, fee, params)
}

// checkInputs refuses an input over the chain's max_input_size.
func checkInputs(params types.Params, inputs ...[]byte) error {
	for i, in := range inputs {
		if uint64(len(in)) > params.MaxInputSize {
			return fmt.Errorf("input %d is %d bytes: the chain takes inputs up to %d bytes (max_input_size)",
				i+1, len(in), params.MaxInputSize)
		}
	}
	return nil
}

// taskInputs are the inputs given as arguments or read, one a line, from
// --inputs-file.
func taskInputs(cmd *cobra.Command, args []string) ([][]byte, error) {
	file, _ := cmd.Flags().GetString(flagInputsFile)
	var inputs [][]byte
	switch {
	case file != "" && len(args) > 0:
		return nil, fmt.Errorf("give the inputs as arguments or with --%s, not both", flagInputsFile)
	case file != "":
		bz, err := os.ReadFile(file)
		if err != nil {
			return nil, fmt.Errorf("read inputs: %w", err)
		}
		for _, line := range bytes.Split(bz, []byte("\n")) {
			if line = bytes.TrimSuffix(line, []byte("\r")); len(line) > 0 {
				inputs = append(inputs, line)
			}
		}
	default:
		for _, a := range args {
			inputs = append(inputs, []byte(a))
		}
	}
	if len(inputs) == 0 {
		return nil, fmt.Errorf("no inputs: give them as arguments or with --%s", flagInputsFile)
	}
	return inputs, nil
}

// taskInput is the input given as the optional argument or read from
// --input-file (for bytes a shell argument cannot hold); nil when neither.
func taskInput(cmd *cobra.Command, arg []string) ([]byte, error) {
	inputFile, _ := cmd.Flags().GetString(flagInputFile)
	switch {
	case inputFile != "" && len(arg) == 1:
		return nil, fmt.Errorf("give the input as an argument or with --%s, not both", flagInputFile)
	case inputFile != "":
		input, err := os.ReadFile(inputFile)
		if err != nil {
			return nil, fmt.Errorf("read input: %w", err)
		}
		return input, nil
	case len(arg) == 1:
		return []byte(arg[0]), nil
	}
	return nil, nil
}

// SubmitResultsCmd is `avsd tx avs submit-results TASK_ID RESULT [TASK_ID RESULT]...`.
func SubmitResultsCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "submit-results [task-id] [result] [[task-id] [result]...]",
		Short: "Vote results for tasks as an operator (the sidecar does this for you)",
		Long: `Vote results for tasks as an operator. Each pair is one vote; every entry is
judged on its own and the response reports each outcome. Operators normally let
avs-sidecar compute and submit results; this command is for testing and recovery.

On a VOTE_MODE_COMMIT_REVEAL service a vote is two entries: first the commitment
(--commit --salt HEX), which sends sha256 of the result and the salt, then,
once the commit phase closed, the reveal (--salt HEX with the same salt), which
sends the result. The salt is 32 random bytes as hex (e.g. 'openssl rand -hex
32'); keep it until the reveal.`,
		Example: `  avsd tx avs submit-results 12 81 --from operator1
  avsd tx avs submit-results 12 81 --commit --salt "$SALT" --from operator1
  avsd tx avs submit-results 12 81 --salt "$SALT" --from operator1`,
		Args: func(_ *cobra.Command, args []string) error {
			if len(args) == 0 || len(args)%2 != 0 {
				return fmt.Errorf("expected pairs of task-id and result, got %d arguments", len(args))
			}
			return nil
		},
	}
	cmd.Flags().String(flagSalt, "", "on a COMMIT_REVEAL service: the 32-byte salt, as hex, of the commitment (with --commit) or of the reveal")
	cmd.Flags().Bool(flagCommit, false, "send commitments to the results (with --salt) instead of the results")
	return txCmd(cmd, func(clientCtx client.Context, cmd *cobra.Command, args []string) (sdk.Msg, error) {
		commit, _ := cmd.Flags().GetBool(flagCommit)
		salt, _ := cmd.Flags().GetString(flagSalt)
		return submitResultsMsg(clientCtx.ChainID, clientCtx.GetFromAddress().String(), args, commit, salt)
	})
}

// submitResultsMsg is submit-results' message: votes in the clear, or with
// a salt the reveals of a COMMIT_REVEAL service, or with commit their
// commitments (types.VoteCommitment, bound to the chain and the operator).
func submitResultsMsg(chainID, operator string, args []string, commit bool, saltHex string) (*types.MsgSubmitResults, error) {
	var salt []byte
	if saltHex != "" || commit {
		var err error
		if salt, err = hex.DecodeString(saltHex); err != nil || len(salt) != types.CommitmentSize {
			return nil, fmt.Errorf("--%s must be %d bytes as hex (64 characters), e.g. from 'openssl rand -hex 32'", flagSalt, types.CommitmentSize)
		}
	}
	msg := &types.MsgSubmitResults{Operator: operator}
	for i := 0; i < len(args); i += 2 {
		id, err := parseID("task id", args[i])
		if err != nil {
			return nil, err
		}
		result := []byte(args[i+1])
		if commit {
			c := types.VoteCommitment(chainID, id, operator, result, types.FAILURE_REASON_UNSPECIFIED, salt)
			msg.Results = append(msg.Results, types.TaskResult{TaskId: id, Commitment: c})
		} else {
			msg.Results = append(msg.Results, types.TaskResult{TaskId: id, Result: result, Salt: salt})
		}
	}
	return msg, nil
}

// RequestRemoteTaskCmd is `avsd tx avs request-remote-task CHANNEL SERVICE_ID INPUT`.
func RequestRemoteTaskCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "request-remote-task [channel] [service-id] [input]",
		Short: "Ask a service on another chain for a task over an avs IBC channel",
		Long: `Ask a service on another chain for a task over an avs IBC channel (port avs).
The answer arrives in the packet's acknowledgement: read it with
'avsd q avs remote-result CHANNEL SEQUENCE', with the sequence this command
prints once the request is included.`,
		Example: `  avsd tx avs request-remote-task channel-0 1 7 --from alice`,
		Args:    cobra.ExactArgs(3),
	}
	cmd.Flags().Duration(flagTimeout, time.Duration(types.DefaultRemoteTimeoutSeconds)*time.Second,
		"how long the request may wait to be received")
	cmd.Flags().String(flagHandlerContract, "", "a contract told the result with sudo avs_remote_result")
	return txCmd(cmd, func(clientCtx client.Context, cmd *cobra.Command, args []string) (sdk.Msg, error) {
		id, err := parseServiceID(args[1])
		if err != nil {
			return nil, err
		}
		if err := checkChannel(args[0]); err != nil {
			return nil, err
		}
		params, err := chainParams(cmd, clientCtx)
		if err != nil {
			return nil, err
		}
		if err := checkInputs(params, []byte(args[2])); err != nil {
			return nil, err
		}
		timeout, _ := cmd.Flags().GetDuration(flagTimeout)
		if timeout < time.Second {
			return nil, fmt.Errorf("--%s %s: give at least 1s, e.g. --%s 10m", flagTimeout, timeout, flagTimeout)
		}
		handler, _ := cmd.Flags().GetString(flagHandlerContract)
		return &types.MsgRequestRemoteTask{
			Sender:          clientCtx.GetFromAddress().String(),
			Channel:         args[0],
			ServiceId:       id,
			Input:           []byte(args[2]),
			TimeoutSeconds:  uint64(timeout.Seconds()),
			HandlerContract: handler,
		}, nil
	})
}
