package keeper_test

import (
	"fmt"
	"strings"

	errorsmod "cosmossdk.io/errors"

	channeltypes "github.com/cosmos/ibc-go/v8/modules/core/04-channel/types"

	"github.com/avschain/avschain/x/avs"
	"github.com/avschain/avschain/x/avs/types"
)

// recvRequests delivers n task requests for a service on a channel to the
// IBC module as core IBC does: each callback in its own cached store, kept
// only when the acknowledgement is a success or asynchronous (nil). It
// returns how many were accepted and the error acknowledgements by code.
func (s *KeeperTestSuite) recvRequests(serviceID uint64, channel string, first uint64, n int) (accepted int, refused map[uint32]int) {
	im := avs.NewIBCModule(s.keeper)
	refused = map[uint32]int{}
	for i := 0; i < n; i++ {
		packet := channeltypes.Packet{
			Sequence: first + uint64(i), SourcePort: types.PortID, SourceChannel: "channel-9",
			DestinationPort: types.PortID, DestinationChannel: channel,
			Data: types.TaskRequestPacketData{ServiceID: fmt.Sprint(serviceID), Input: []byte(`"7"`)}.GetBytes(),
		}
		cacheCtx, write := s.ctx.CacheContext()
		ack := im.OnRecvPacket(cacheCtx, packet, nil)
		if ack == nil || ack.Success() {
			write()
			accepted++
			continue
		}
		for _, err := range []*errorsmod.Error{types.ErrIBCRateLimit, types.ErrAutoTaskLimit} {
			if strings.Contains(string(ack.Acknowledgement()), fmt.Sprintf(`"ABCI error: avs/%d: `, err.ABCICode())) {
				refused[err.ABCICode()]++
			}
		}
	}
	return accepted, refused
}

// TestM7IBCRequestsAreThrottled: 1,000 task requests relayed on one channel
// in one block. Before, each opened a treasury-paid task. Now they count
// against the service's max_auto_tasks_per_block and the channel's
// ibc_requests_per_channel_per_block; the rest get error acknowledgements
// with the limit's code, and the next block opens more.
func (s *KeeperTestSuite) TestM7IBCRequestsAreThrottled() {
	const requests = 1000
	for _, tc := range []struct {
		name             string
		perChannel, auto uint32
		services         int
		expOpened        int
		expCode          uint32
	}{
		{name: "the channel limit binds", perChannel: 20, auto: 1000, services: 1, expOpened: 20, expCode: types.ErrIBCRateLimit.ABCICode()},
		{name: "the service cap binds", perChannel: 1000, auto: 5, services: 1, expOpened: 5, expCode: types.ErrAutoTaskLimit.ABCICode()},
		{name: "the channel limit binds across services", perChannel: 20, auto: 5, services: 10, expOpened: 20, expCode: types.ErrIBCRateLimit.ABCICode()},
	} {
		s.Run(tc.name, func() {
			s.SetupTest()
			s.setParams(func(p *types.Params) {
				p.IbcRequestsPerChannelPerBlock, p.MaxAutoTasksPerBlock = tc.perChannel, tc.auto
			})
			m := defaultManifest(s.storeComponent())
			m.IbcRequestChannels = []string{"channel-0"}
			op := s.registerOperator("op1")
			ids := make([]uint64, tc.services)
			for i := range ids {
				ids[i] = s.createService(m)
				s.optIn(op, ids[i])
				s.fundService(ids[i], 2*requests*defaultFee)
			}
			before, err := s.keeper.TaskSeq.Peek(s.ctx)
			s.Require().NoError(err)
			opened, refused := 0, map[uint32]int{}
			for i, id := range ids {
				n := requests / len(ids)
				a, r := s.recvRequests(id, "channel-0", uint64(i*n+1), n)
				opened += a
				for c, k := range r {
					refused[c] += k
				}
			}
			after, err := s.keeper.TaskSeq.Peek(s.ctx)
			s.Require().NoError(err)
			s.Require().Equal(tc.expOpened, opened)
			s.Require().EqualValues(tc.expOpened, after-before, "a refused request opens no task")
			s.Require().Equal(requests-tc.expOpened, refused[types.ErrIBCRateLimit.ABCICode()]+refused[types.ErrAutoTaskLimit.ABCICode()],
				"every other request got an error acknowledgement with a limit's code: %v", refused)
			s.Require().Positive(refused[tc.expCode])

			s.endBlockAt(s.ctx.BlockHeight() + 1)
			a, _ := s.recvRequests(ids[0], "channel-0", 100_000, 1)
			s.Require().Equal(1, a, "the next block opens more")
		})
	}
}

// TestL5RemoteTimeoutBounded: a remote request's timeout_seconds is at most
// 30 days, so block time plus it cannot overflow the packet's nanoseconds.
func (s *KeeperTestSuite) TestL5RemoteTimeoutBounded() {
	_, err := s.msgServer.RequestRemoteTask(s.ctx, &types.MsgRequestRemoteTask{
		Sender: s.creator(), Channel: "channel-0", ServiceId: 1, Input: []byte("x"), TimeoutSeconds: 1 << 62,
	})
	s.Require().ErrorIs(err, types.ErrInvalidPacket)
	s.Require().Contains(err.Error(), "timeout_seconds")
}
