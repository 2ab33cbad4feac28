package keeper

import (
	"regexp"
	"strings"

	errorsmod "cosmossdk.io/errors"
	sdkmath "cosmossdk.io/math"

	sdk "github.com/cosmos/cosmos-sdk/types"

	host "github.com/cosmos/ibc-go/v8/modules/core/24-host"

	"github.com/avschain/avschain/x/avs/types"
)

// The stateless checks of message fields, run by the msg server before it
// reads any state (cosmos-sdk x/protocolpool keeper/validate.go). A check
// against the module params takes them as a value.

// MaxMonikerLength bounds an operator's moniker.
const MaxMonikerLength = 70

func validateMoniker(moniker string) error {
	if strings.TrimSpace(moniker) == "" || len(moniker) > MaxMonikerLength {
		return errorsmod.Wrapf(types.ErrInvalidMoniker, "moniker must be 1 to %d characters", MaxMonikerLength)
	}
	return nil
}

// validCommission returns c, or def when c is unset; c must be in [0, 1].
func validCommission(c, def sdkmath.LegacyDec) (sdkmath.LegacyDec, error) {
	if c.IsNil() {
		if def.IsNil() {
			return sdkmath.LegacyZeroDec(), nil
		}
		return def, nil
	}
	if c.IsNegative() || c.GT(sdkmath.LegacyOneDec()) {
		return def, errorsmod.Wrapf(types.ErrInvalidCommission, "commission %s must be in [0, 1]", c)
	}
	return c, nil
}

// stakeAmount checks an amount of stake: positive and in the stake denom.
func stakeAmount(p types.Params, amt sdk.Coin) error {
	if amt.Denom != p.StakeDenom {
		return errorsmod.Wrapf(types.ErrWrongDenom, "got %q, commitments are in %s", amt.Denom, p.StakeDenom)
	}
	if amt.Amount.IsNil() || !amt.Amount.IsPositive() {
		return errorsmod.Wrapf(types.ErrInvalidAmount, "%s: must be positive", amt)
	}
	return nil
}

// validateInput bounds a task's input by max_input_size.
func validateInput(p types.Params, input []byte) error {
	if uint64(len(input)) > p.MaxInputSize {
		return errorsmod.Wrapf(types.ErrInputTooLarge, "%d bytes, max_input_size is %d", len(input), p.MaxInputSize)
	}
	return nil
}

// validateUpload bounds a component upload as sent (a gzip upload is stored
// as sent, so padding it must not get past the limit).
func validateUpload(p types.Params, wasm []byte) error {
	if len(wasm) == 0 {
		return errorsmod.Wrap(types.ErrInvalidComponent, "empty wasm")
	}
	if uint64(len(wasm)) > p.MaxComponentSize {
		return errorsmod.Wrapf(types.ErrComponentTooLarge, "%d bytes, max_component_size is %d", len(wasm), p.MaxComponentSize)
	}
	return nil
}

// taskFee applies the fee rules of a service to the fee offered for a task
// and returns the fee to charge: an unset fee is a free one, a paid service
// asks at least its fee_per_task, and fees are in the stake denom.
func taskFee(p types.Params, svc types.Service, fee sdk.Coin) (sdk.Coin, error) {
	if fee.Denom == "" && (fee.Amount.IsNil() || fee.Amount.IsZero()) {
		fee = sdk.Coin{Denom: svc.Manifest.FeePerTask.Denom, Amount: sdkmath.ZeroInt()}
	}
	if !types.IsFree(fee) {
		if err := fee.Validate(); err != nil {
			return fee, errorsmod.Wrapf(types.ErrInvalidFee, "%s", err)
		}
	}
	if want := svc.Manifest.FeePerTask; !types.IsFree(want) {
		if fee.Denom != want.Denom || fee.Amount.LT(want.Amount) {
			return fee, errorsmod.Wrapf(types.ErrInsufficientFee, "service %d asks %s per task, got %s", svc.Id, want, fee)
		}
	}
	// Fees reward committers, whose rewards are kept and paid in the stake
	// denom: a fee in another denom (possible on a free service) is refused.
	if !types.IsFree(fee) && fee.Denom != p.StakeDenom {
		return fee, errorsmod.Wrapf(types.ErrWrongDenom, "fee %s: fees are paid in the stake denom %s", fee, p.StakeDenom)
	}
	return fee, nil
}

// validateServiceStatus refuses a status the enum does not name.
func validateServiceStatus(s types.ServiceStatus) error {
	if _, ok := types.ServiceStatus_name[int32(s)]; !ok {
		return errorsmod.Wrapf(types.ErrInvalidRequest, "unknown service status %d", s)
	}
	return nil
}

var txHashRe = regexp.MustCompile(`^[0-9A-F]{64}$`)

// validateVoteTarget checks what a vote entry names: a task id or an event
// reference, not both; an event's tx hash, if any, is an upper-case hex sha256.
func validateVoteTarget(r types.TaskResult) error {
	if err := validateFailure(r); err != nil {
		return err
	}
	if r.Event == nil {
		return nil
	}
	if r.TaskId != 0 {
		return errorsmod.Wrapf(types.ErrInvalidEventRef, "a vote names task %d or an event, not both", r.TaskId)
	}
	if r.Event.TxHash != "" && !txHashRe.MatchString(r.Event.TxHash) {
		return errorsmod.Wrapf(types.ErrInvalidEventRef, "tx_hash %q is not an upper-case hex sha256", r.Event.TxHash)
	}
	return nil
}

// validateFailure checks a failure vote: a reason the enum names, and no
// result beside it.
func validateFailure(r types.TaskResult) error {
	if !r.Failure.IsFailure() {
		return nil
	}
	if _, ok := types.FailureReason_name[int32(r.Failure)]; !ok {
		return errorsmod.Wrapf(types.ErrInvalidFailure, "unknown failure reason %d", r.Failure)
	}
	if len(r.Result) > 0 {
		return errorsmod.Wrapf(types.ErrInvalidFailure, "a failure vote (%s) carries no result, got %d bytes", r.Failure.Short(), len(r.Result))
	}
	return nil
}

// validateChannel checks an IBC channel identifier.
func validateChannel(channel string) error {
	if err := host.ChannelIdentifierValidator(channel); err != nil {
		return errorsmod.Wrapf(types.ErrInvalidChannel, "%q: %s", channel, err)
	}
	return nil
}

// accAddress decodes a bech32 account address, naming the field on failure.
func (k Keeper) accAddress(field, addr string) (sdk.AccAddress, error) {
	bz, err := k.addressCodec.StringToBytes(addr)
	if err != nil {
		return nil, errorsmod.Wrapf(types.ErrInvalidAddress, "%s %q: %s", field, addr, err)
	}
	return bz, nil
}
