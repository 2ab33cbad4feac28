package keeper

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"cosmossdk.io/collections"
	errorsmod "cosmossdk.io/errors"

	sdk "github.com/cosmos/cosmos-sdk/types"

	capabilitytypes "github.com/cosmos/ibc-go/modules/capability/types"
	clienttypes "github.com/cosmos/ibc-go/v8/modules/core/02-client/types"
	channeltypes "github.com/cosmos/ibc-go/v8/modules/core/04-channel/types"
	host "github.com/cosmos/ibc-go/v8/modules/core/24-host"
	ibcexported "github.com/cosmos/ibc-go/v8/modules/core/exported"

	"github.com/avschain/avschain/x/avs/types"
)

// SetIBC wires x/avs to IBC: the channel keeper (or a middleware) to send
// packets and acknowledgements, the port keeper, and x/avs's scoped
// capability keeper. Without it, x/avs is not an IBC application. Every copy
// of the keeper sees it, whenever it was made.
func (k Keeper) SetIBC(ics4 types.ICS4Wrapper, ports types.PortKeeper, scoped types.ScopedKeeper) {
	k.wiring.ics4, k.wiring.ports, k.wiring.scoped = ics4, ports, scoped
	k.wiring.channels, _ = ics4.(types.ChannelReader)
}

// checkChannelsExist refuses a manifest naming an IBC channel that does not
// exist on port avs (the issue #14 genesis rule, L-3): a service is set up
// after its channel is opened, and a channel, once opened, stays in the IBC
// state (closed, at worst), so a state this chain reached always passes the
// same check at genesis. Without IBC wired (keeper tests) nothing is checked.
func (k Keeper) checkChannelsExist(ctx context.Context, m types.ServiceManifest) error {
	if k.wiring.channels == nil {
		return nil
	}
	sdkCtx := sdk.UnwrapSDKContext(ctx)
	for _, list := range [][]string{m.IbcRequestChannels, m.IbcResultChannels} {
		for _, ch := range list {
			if _, ok := k.wiring.channels.GetChannel(sdkCtx, types.PortID, ch); !ok {
				return errorsmod.Wrapf(types.ErrInvalidChannel,
					"%s does not exist on port %s: open the channel first (a relayer's link, version %s), then name it in the manifest", ch, types.PortID, types.Version)
			}
		}
	}
	return nil
}

// BindPort binds the avs port at genesis, unless x/avs already holds it.
func (k Keeper) BindPort(ctx context.Context) error {
	if k.wiring.ports == nil || k.wiring.scoped == nil {
		return nil
	}
	sdkCtx := sdk.UnwrapSDKContext(ctx) // capabilities take an sdk.Context
	if _, ok := k.wiring.scoped.GetCapability(sdkCtx, host.PortPath(types.PortID)); ok {
		return nil
	}
	capability := k.wiring.ports.BindPort(sdkCtx, types.PortID)
	return k.wiring.scoped.ClaimCapability(sdkCtx, capability, host.PortPath(types.PortID))
}

// ClaimCapability claims a channel capability passed by core IBC.
func (k Keeper) ClaimCapability(ctx context.Context, c *capabilitytypes.Capability, name string) error {
	return k.wiring.scoped.ClaimCapability(sdk.UnwrapSDKContext(ctx), c, name)
}

func (k Keeper) channelCap(ctx context.Context, port, channel string) (*capabilitytypes.Capability, error) {
	c, ok := k.wiring.scoped.GetCapability(sdk.UnwrapSDKContext(ctx), host.ChannelCapabilityPath(port, channel))
	if !ok {
		return nil, errorsmod.Wrapf(types.ErrInvalidChannel, "no capability for %s/%s: is it an avs channel?", port, channel)
	}
	return c, nil
}

// OnRecvTaskRequest opens a task for a TaskRequestPacketData. Its fee comes
// from the service treasury; the channel must be on the service's
// ibc_request_channels. A request counts against the service's
// max_auto_tasks_per_block, as triggers do, and against its channel's
// ibc_requests_per_channel_per_block (M-7); both are checked before the task
// is created. An error here is an error acknowledgement (core IBC then
// discards what the callback wrote), never a failed transaction. The
// acknowledgement of an opened task is written when the task ends.
func (k Keeper) OnRecvTaskRequest(ctx context.Context, packet channeltypes.Packet, req types.TaskRequestPacketData) error {
	params, err := k.Params.Get(ctx)
	if err != nil {
		return err
	}
	channel := packet.DestinationChannel
	received, err := k.IBCRequestsThisBlock.Get(ctx, channel)
	if err != nil && !isNotFound(err) {
		return err
	}
	if received >= uint64(params.IbcRequestsPerChannelPerBlock) {
		return errorsmod.Wrapf(types.ErrIBCRateLimit, "channel %s already opened %d tasks in this block", channel, received)
	}
	id, err := req.ServiceIDUint()
	if err != nil {
		return err
	}
	svc, err := k.getService(ctx, id)
	if err != nil {
		return err
	}
	allowed := false
	for _, ch := range svc.Manifest.IbcRequestChannels {
		allowed = allowed || ch == channel
	}
	if !allowed {
		return errorsmod.Wrapf(types.ErrChannelNotAllowed, "service %d does not list %s in ibc_request_channels", id, channel)
	}
	if err := k.autoTaskRoom(ctx, id, params.MaxAutoTasksPerBlock); err != nil {
		return err
	}
	origin := types.Origin{Kind: types.ORIGIN_KIND_IBC, Ref: fmt.Sprintf("%s/%d", channel, packet.Sequence)}
	task, created, err := k.CreateTaskFromTreasury(ctx, id, req.Input, origin)
	if err != nil {
		return err
	}
	if !created {
		return errorsmod.Wrapf(types.ErrTreasuryEmpty, "service %d: its owner funds it with `avsd tx avs fund-service %d AMOUNT`", id, id)
	}
	if err := k.useAutoTask(ctx, id, params.MaxAutoTasksPerBlock); err != nil {
		return err
	}
	if err := k.IBCRequestsThisBlock.Set(ctx, channel, received+1); err != nil {
		return err
	}
	return k.IBCPackets.Set(ctx, task.Id, packet)
}

// OnRecvTaskResult stores a result another chain pushed.
func (k Keeper) OnRecvTaskResult(ctx context.Context, packet channeltypes.Packet, res types.TaskResultPacketData) error {
	n, err := res.Numbers()
	if err != nil {
		return err
	}
	r := types.RemoteResult{
		Channel: packet.DestinationChannel, Sequence: packet.Sequence, ServiceId: n.ServiceID, Input: res.Input,
		Status: types.REMOTE_STATUS_PUSHED, TaskId: n.TaskID, Result: res.Result, PowerFor: n.PowerFor, PowerTotal: n.PowerTotal, RemoteHeight: n.Height,
	}
	// Pushes keep their own key space: the other chain's sequence n on this
	// channel is not this chain's request n (M-2).
	if err := k.PushedResults.Set(ctx, collections.Join(r.Channel, r.Sequence), r); err != nil {
		return err
	}
	return emit(ctx, &types.EventRemoteResult{Channel: r.Channel, Sequence: r.Sequence, Status: r.Status, TaskId: r.TaskId, Result: r.Result})
}

// ibcTaskEnded acknowledges the packet that requested the task, and pushes a
// completed result to the service's ibc_result_channels. Failures are events:
// the task's outcome stands.
func (k Keeper) ibcTaskEnded(ctx context.Context, svc types.Service, task types.Task) error {
	sdkCtx := sdk.UnwrapSDKContext(ctx)
	if k.wiring.ics4 == nil {
		return nil
	}
	status, result := endStatus(task)
	if task.Origin.Kind == types.ORIGIN_KIND_IBC {
		packet, err := k.IBCPackets.Get(ctx, task.Id)
		if err == nil {
			ack := channeltypes.NewResultAcknowledgement(types.TaskAck{
				TaskID: strconv.FormatUint(task.Id, 10), Status: status, Result: result,
				PowerFor: strconv.FormatUint(task.PowerFor, 10), PowerTotal: strconv.FormatUint(task.PowerTotal, 10),
				Height: strconv.FormatInt(sdkCtx.BlockHeight(), 10),
			}.GetBytes())
			if err := k.writeAck(ctx, packet, ack); err != nil {
				if err := emit(ctx, &types.EventIBCFailed{TaskId: task.Id, Channel: packet.DestinationChannel, Error: err.Error()}); err != nil {
					return err
				}
			}
			if err := k.IBCPackets.Remove(ctx, task.Id); err != nil {
				return err
			}
		} else if !isNotFound(err) {
			return err
		}
	}
	if task.Status != types.TASK_STATUS_COMPLETED {
		return nil
	}
	data := types.TaskResultPacketData{
		TaskID: strconv.FormatUint(task.Id, 10), ServiceID: strconv.FormatUint(task.ServiceId, 10), Status: status,
		Input: task.Input, Result: task.Result, PowerFor: strconv.FormatUint(task.PowerFor, 10),
		PowerTotal: strconv.FormatUint(task.PowerTotal, 10), Height: strconv.FormatInt(sdkCtx.BlockHeight(), 10),
	}.GetBytes()
	for _, ch := range svc.Manifest.IbcResultChannels {
		if _, err := k.sendPacket(ctx, ch, data, types.DefaultRemoteTimeoutSeconds); err != nil {
			if err := emit(ctx, &types.EventIBCFailed{TaskId: task.Id, Channel: ch, Error: err.Error()}); err != nil {
				return err
			}
		}
	}
	return nil
}

// writeAck writes an acknowledgement in its own cached store, so a failure
// leaves nothing half-written.
func (k Keeper) writeAck(ctx context.Context, packet channeltypes.Packet, ack ibcexported.Acknowledgement) error {
	sdkCtx := sdk.UnwrapSDKContext(ctx)
	chanCap, err := k.channelCap(ctx, packet.DestinationPort, packet.DestinationChannel)
	if err != nil {
		return err
	}
	cacheCtx, write := sdkCtx.CacheContext()
	if err := k.wiring.ics4.WriteAcknowledgement(cacheCtx, chanCap, packet, ack); err != nil {
		return err
	}
	write()
	return nil
}

func (k Keeper) sendPacket(ctx context.Context, channel string, data []byte, timeoutSeconds uint64) (uint64, error) {
	sdkCtx := sdk.UnwrapSDKContext(ctx)
	if k.wiring.ics4 == nil {
		return 0, errorsmod.Wrap(types.ErrInvalidChannel, "IBC is not wired")
	}
	chanCap, err := k.channelCap(ctx, types.PortID, channel)
	if err != nil {
		return 0, err
	}
	timeout := uint64(sdkCtx.BlockTime().Add(time.Duration(timeoutSeconds) * time.Second).UnixNano())
	cacheCtx, write := sdkCtx.CacheContext()
	seq, err := k.wiring.ics4.SendPacket(cacheCtx, chanCap, types.PortID, channel, clienttypes.ZeroHeight(), timeout, data)
	if err != nil {
		return 0, err
	}
	write()
	return seq, nil
}

// requestRemoteTask sends a TaskRequestPacketData for r (its channel,
// sender, service, input and handler contract set) and records the request,
// returned with its packet sequence.
func (k Keeper) requestRemoteTask(ctx context.Context, r types.RemoteResult, timeoutSeconds uint64) (types.RemoteResult, error) {
	if timeoutSeconds == 0 || timeoutSeconds > types.MaxRemoteTimeoutSeconds {
		// A larger value overflows the packet's timeout in nanoseconds (L-5).
		return types.RemoteResult{}, errorsmod.Wrapf(types.ErrInvalidPacket, "timeout_seconds %d must be in [1, %d] (30 days)", timeoutSeconds, types.MaxRemoteTimeoutSeconds)
	}
	data := types.TaskRequestPacketData{ServiceID: strconv.FormatUint(r.ServiceId, 10), Input: r.Input}.GetBytes()
	seq, err := k.sendPacket(ctx, r.Channel, data, timeoutSeconds)
	if err != nil {
		return types.RemoteResult{}, err
	}
	r.Sequence, r.Status = seq, types.REMOTE_STATUS_PENDING
	if err := k.RemoteResults.Set(ctx, collections.Join(r.Channel, seq), r); err != nil {
		return types.RemoteResult{}, err
	}
	return r, emit(ctx, &types.EventRemoteTaskRequested{Channel: r.Channel, Sequence: seq, Sender: r.Sender, ServiceId: r.ServiceId})
}

// OnAcknowledgement records the answer to a remote request. The ack of a
// packet this chain did not record as a pending request (a pushed result's)
// needs nothing. An answer that cannot be read is recorded as ERROR, never
// returned: an error would fail every relay of the ack and leave the packet
// stuck (security review L-7).
func (k Keeper) OnAcknowledgement(ctx context.Context, packet channeltypes.Packet, ack channeltypes.Acknowledgement) error {
	key := collections.Join(packet.SourceChannel, packet.Sequence)
	r, err := k.RemoteResults.Get(ctx, key)
	if isNotFound(err) {
		return nil
	} else if err != nil {
		return err
	}
	if r.Status != types.REMOTE_STATUS_PENDING {
		return nil
	}
	switch resp := ack.Response.(type) {
	case *channeltypes.Acknowledgement_Result:
		a, err := types.DecodeAck(resp.Result)
		if err != nil {
			r.Status, r.Error = types.REMOTE_STATUS_ERROR, "unreadable acknowledgement: "+err.Error()
			return k.finishRemote(ctx, r)
		}
		n, _ := a.Numbers() // DecodeAck checked them
		r.TaskId, r.PowerFor, r.PowerTotal, r.RemoteHeight = n.TaskID, n.PowerFor, n.PowerTotal, n.Height
		r.Result = a.Result
		r.Status = types.REMOTE_STATUS_COMPLETED
		switch a.Status {
		case "expired":
			r.Status = types.REMOTE_STATUS_EXPIRED
		case "failed":
			r.Status = types.REMOTE_STATUS_FAILED
			r.Error = "the other chain's operators agreed the component fails on the input: " + string(a.Result)
		}
	case *channeltypes.Acknowledgement_Error:
		r.Status, r.Error = types.REMOTE_STATUS_ERROR, resp.Error
	default:
		r.Status, r.Error = types.REMOTE_STATUS_ERROR, "empty acknowledgement"
	}
	return k.finishRemote(ctx, r)
}

// OnTimeout records that a remote request timed out.
func (k Keeper) OnTimeout(ctx context.Context, packet channeltypes.Packet) error {
	r, err := k.RemoteResults.Get(ctx, collections.Join(packet.SourceChannel, packet.Sequence))
	if isNotFound(err) {
		return nil // not a request of this chain (a pushed result's packet)
	} else if err != nil {
		return err
	}
	if r.Status != types.REMOTE_STATUS_PENDING {
		return nil
	}
	r.Status, r.Error = types.REMOTE_STATUS_TIMEOUT, "packet timed out before the other chain received it"
	return k.finishRemote(ctx, r)
}

// RemoteHandlerMsg is the sudo message a remote request's handler contract gets.
type RemoteHandlerMsg struct {
	AVSRemoteResult RemoteHandlerResult `json:"avs_remote_result"`
}

// RemoteHandlerResult describes a remote request's outcome.
type RemoteHandlerResult struct {
	Channel  string `json:"channel"`
	Sequence string `json:"sequence"`
	TaskID   string `json:"task_id"`
	Status   string `json:"status"`
	Result   []byte `json:"result"`
	Error    string `json:"error,omitempty"`
}

func (k Keeper) finishRemote(ctx context.Context, r types.RemoteResult) error {
	if err := k.RemoteResults.Set(ctx, collections.Join(r.Channel, r.Sequence), r); err != nil {
		return err
	}
	if err := emit(ctx, &types.EventRemoteResult{Channel: r.Channel, Sequence: r.Sequence, Status: r.Status, TaskId: r.TaskId, Result: r.Result, Error: r.Error}); err != nil {
		return err
	}
	if r.HandlerContract == "" {
		return nil
	}
	msg, err := json.Marshal(RemoteHandlerMsg{AVSRemoteResult: RemoteHandlerResult{
		Channel: r.Channel, Sequence: strconv.FormatUint(r.Sequence, 10), TaskID: strconv.FormatUint(r.TaskId, 10),
		Status: r.Status.String(), Result: r.Result, Error: r.Error,
	}})
	if err != nil {
		return err
	}
	_, err = k.sudoHandler(ctx, r.HandlerContract, r.TaskId, msg)
	return err
}
