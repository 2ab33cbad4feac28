package avs

import (
	"errors"
	"fmt"
	"strings"

	errorsmod "cosmossdk.io/errors"

	sdk "github.com/cosmos/cosmos-sdk/types"

	capabilitytypes "github.com/cosmos/ibc-go/modules/capability/types"
	channeltypes "github.com/cosmos/ibc-go/v8/modules/core/04-channel/types"
	porttypes "github.com/cosmos/ibc-go/v8/modules/core/05-port/types"
	host "github.com/cosmos/ibc-go/v8/modules/core/24-host"
	ibcerrors "github.com/cosmos/ibc-go/v8/modules/core/errors"
	ibcexported "github.com/cosmos/ibc-go/v8/modules/core/exported"

	"github.com/avschain/avschain/x/avs/keeper"
	"github.com/avschain/avschain/x/avs/types"
)

// IBCModule makes x/avs an IBC application on port avs, version avs-1,
// unordered channels: other chains request tasks with TaskRequestPacketData
// (acknowledged when the task ends) and receive pushed TaskResultPacketData.
type IBCModule struct {
	keeper keeper.Keeper
}

var _ porttypes.IBCModule = IBCModule{}

// NewIBCModule returns the x/avs IBC application.
func NewIBCModule(k keeper.Keeper) IBCModule { return IBCModule{keeper: k} }

// checkLocalEnd checks what belongs to this chain's end of an avs-1 channel:
// the port is x/avs's own and the channel is unordered. The counterparty's
// port is never checked: any IBC application that speaks avs-1 may open a
// channel (another avschain's `avs`, a CosmWasm contract's `wasm.<address>`,
// a custom module); OnChanOpenTry and OnChanOpenAck check only its version.
func checkLocalEnd(order channeltypes.Order, portID string) error {
	if order != channeltypes.UNORDERED {
		return errorsmod.Wrapf(types.ErrInvalidChannel, "expected an %s channel, got %s", channeltypes.UNORDERED, order)
	}
	if portID != types.PortID {
		return errorsmod.Wrapf(types.ErrInvalidChannel, "expected port %q, got %q", types.PortID, portID)
	}
	return nil
}

// OnChanOpenInit checks this end's port, ordering and version and claims the
// channel; the counterparty's port may be anything.
func (im IBCModule) OnChanOpenInit(ctx sdk.Context, order channeltypes.Order, _ []string, portID, channelID string,
	chanCap *capabilitytypes.Capability, _ channeltypes.Counterparty, version string,
) (string, error) {
	if err := checkLocalEnd(order, portID); err != nil {
		return "", err
	}
	if strings.TrimSpace(version) == "" {
		version = types.Version
	}
	if version != types.Version {
		return "", errorsmod.Wrapf(types.ErrInvalidChannel, "expected version %q, got %q", types.Version, version)
	}
	if err := im.keeper.ClaimCapability(ctx, chanCap, host.ChannelCapabilityPath(portID, channelID)); err != nil {
		return "", err
	}
	return version, nil
}

// OnChanOpenTry checks this end's port and ordering and the counterparty's
// version (not its port).
func (im IBCModule) OnChanOpenTry(ctx sdk.Context, order channeltypes.Order, _ []string, portID, channelID string,
	chanCap *capabilitytypes.Capability, _ channeltypes.Counterparty, counterpartyVersion string,
) (string, error) {
	if err := checkLocalEnd(order, portID); err != nil {
		return "", err
	}
	if counterpartyVersion != types.Version {
		return "", errorsmod.Wrapf(types.ErrInvalidChannel, "expected counterparty version %q, got %q", types.Version, counterpartyVersion)
	}
	if err := im.keeper.ClaimCapability(ctx, chanCap, host.ChannelCapabilityPath(portID, channelID)); err != nil {
		return "", err
	}
	return types.Version, nil
}

// OnChanOpenAck checks the counterparty's version.
func (IBCModule) OnChanOpenAck(_ sdk.Context, _, _ string, _ string, counterpartyVersion string) error {
	if counterpartyVersion != types.Version {
		return errorsmod.Wrapf(types.ErrInvalidChannel, "expected counterparty version %q, got %q", types.Version, counterpartyVersion)
	}
	return nil
}

// OnChanOpenConfirm has nothing left to check: this end checked ordering,
// port and version in OnChanOpenTry, before the counterparty acknowledged.
func (IBCModule) OnChanOpenConfirm(sdk.Context, string, string) error { return nil }

// OnChanCloseInit refuses: avs channels are not closed by users.
func (IBCModule) OnChanCloseInit(sdk.Context, string, string) error {
	return errorsmod.Wrap(ibcerrors.ErrInvalidRequest, "avs channels cannot be closed")
}

// OnChanCloseConfirm lets the counterparty close its end: x/avs keeps no
// per-channel state to release (requests in flight end by timeout).
func (IBCModule) OnChanCloseConfirm(sdk.Context, string, string) error { return nil }

// OnRecvPacket opens a task (the acknowledgement is written when it ends) or
// stores a pushed result. A bad packet, and a request over its service's
// max_auto_tasks_per_block or its channel's ibc_requests_per_channel_per_block,
// gets an error acknowledgement, never a panic or a failed transaction.
func (im IBCModule) OnRecvPacket(ctx sdk.Context, packet channeltypes.Packet, _ sdk.AccAddress) ibcexported.Acknowledgement {
	req, res, err := types.DecodePacket(packet.GetData())
	switch {
	case err != nil:
	case req != nil:
		if err = im.keeper.OnRecvTaskRequest(ctx, packet, *req); err == nil {
			return nil // asynchronous: written when the task ends
		}
	default:
		if err = im.keeper.OnRecvTaskResult(ctx, packet, *res); err == nil {
			return channeltypes.NewResultAcknowledgement([]byte{1})
		}
	}
	im.keeper.Logger(ctx).Info("refused avs packet", "channel", packet.DestinationChannel, "sequence", packet.Sequence, "err", err)
	// The acknowledgement names the registered error; the full message, with
	// its ids and values, is in this event (kept by core IBC as an error event).
	_ = ctx.EventManager().EmitTypedEvent(&types.EventIBCFailed{Channel: packet.DestinationChannel, Error: err.Error()})
	return errorAck(err)
}

// errorAck writes an error acknowledgement that a client on the other chain
// can act on: for an x/avs error, "ABCI error: avs/<code>: <description>",
// e.g. "ABCI error: avs/10: service not found". Only the registered
// description goes in, never the wrapped message: the acknowledgement is
// committed to state, and a registered description is a constant of the
// binary, as deterministic as the code. Any other error falls back to ibc-go's
// codespace-and-code form.
func errorAck(err error) channeltypes.Acknowledgement {
	var reg *errorsmod.Error
	if errors.As(err, &reg) && reg.Codespace() == types.ModuleName {
		return channeltypes.Acknowledgement{Response: &channeltypes.Acknowledgement_Error{
			Error: fmt.Sprintf("ABCI error: %s/%d: %s", reg.Codespace(), reg.ABCICode(), reg.Error()),
		}}
	}
	return channeltypes.NewErrorAcknowledgementWithCodespace(err)
}

// OnAcknowledgementPacket records the answer to a remote request.
func (im IBCModule) OnAcknowledgementPacket(ctx sdk.Context, packet channeltypes.Packet, acknowledgement []byte, _ sdk.AccAddress) error {
	var ack channeltypes.Acknowledgement
	if err := types.ModuleCdcJSON.UnmarshalJSON(acknowledgement, &ack); err != nil {
		return errorsmod.Wrapf(types.ErrInvalidPacket, "acknowledgement: %s", err)
	}
	return im.keeper.OnAcknowledgement(ctx, packet, ack)
}

// OnTimeoutPacket records a timed-out remote request.
func (im IBCModule) OnTimeoutPacket(ctx sdk.Context, packet channeltypes.Packet, _ sdk.AccAddress) error {
	return im.keeper.OnTimeout(ctx, packet)
}
