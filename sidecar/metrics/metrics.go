// Package metrics is the sidecar's one metrics sink: every part reports to
// it, and it keeps the Prometheus counters and the /status page together, so
// the two cannot disagree. Follows skip-mev/connect oracle/metrics/metrics.go:
// one interface (Sink), a live implementation (New) and a no-op (Nop) that
// is every part's default; serving them is package server's job.
package metrics

import (
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Sink is told what happens in the sidecar. It satisfies pipeline.Metrics,
// submitter.Metrics and trigger.Metrics.
type Sink interface {
	TaskSeen()
	TaskExecuted(d time.Duration)
	TaskFailed(reason string)
	VotesSent(n int)
	// CommitsSent and RevealsSent count the two stages of COMMIT_REVEAL
	// votes broadcast (issue #20): a reveal is a vote and VotesSent counts
	// it too; a commit is not.
	CommitsSent(n int)
	RevealsSent(n int)
	VotesIncluded(n int)
	VotesRejected(n int)
	EventsMatched(n int)
	Height(h int64)

	// Submitter (issue #15 items 1, 10).
	// VotesDropped counts votes dropped after a permanent refusal, by reason
	// ("avs/21", "tx_too_large", …).
	VotesDropped(reason string, n int)
	// TxRefused counts vote transactions refused before inclusion (CheckTx,
	// broadcast or simulation), by reason ("sdk/13", "mempool_full", …).
	TxRefused(reason string)
	// Queue reports the votes waiting to be sent and when the oldest was
	// queued (zero time when none).
	Queue(depth int, oldest time.Time)
	// TxsInFlight reports the vote transactions sent and not yet settled.
	TxsInFlight(n int)
	// SubmitterBlocked reports why no vote can be sent (insufficient funds
	// or fee, …); "" clears it.
	SubmitterBlocked(reason string)

	// Chain (items 4, 10).
	// ChainHead reports the chain's latest height as the node in use says.
	ChainHead(h int64)
	// FailOver counts a move to the next endpoint of kind ("rpc", "grpc"),
	// by reason ("error", "timeout", "stale", "lagging", …).
	FailOver(kind, reason string)
	// Endpoints reports the RPC and gRPC endpoints in use.
	Endpoints(rpc, grpc string)
	// RPCCall counts a request sent to a node, by kind ("rpc", "grpc") and
	// method (the JSON-RPC method, "subscribe" for a websocket, or the gRPC
	// method's full name): the load the sidecar puts on its nodes.
	RPCCall(kind, method string)

	// Watcher (item 7).
	// BlocksSkipped counts blocks the watcher could not read and skipped.
	BlocksSkipped(n int64)

	// Pipeline (items 3, 5, 7).
	// WorkRetried counts a unit of work retried after a transient error.
	WorkRetried()
	// WorkGivenUp counts work given up, by reason ("deadline", "crashes", …).
	WorkGivenUp(reason string)
	// WorkPruned counts records of finished work pruned from the store.
	WorkPruned(n int)
	// HostCalls counts a run's host calls of kind ("http_fetch",
	// "chain_query", "log"): made, and refused or failed.
	HostCalls(kind string, made, failed int)

	// Operator account (items 1, 10).
	// Account reports the operator's balance in the fee denom, whether it
	// is jailed on any service (by id), and its missed votes against the
	// jail threshold on its worst service.
	Account(balance uint64, denom string, jailed []uint64, missed, jailThreshold uint64)
	// Idle reports whether the operator's votes count on any of its
	// services, and if not why (issue #19 item 7).
	Idle(i Idleness)
}

// Reasons of Idleness: the values of /status idle_reason and of
// avs_sidecar_idle's reason label. IdleOK is the one that is not idle.
const (
	IdleOK = "ok"
	// IdleNotRegistered: the operator is not registered.
	IdleNotRegistered = "not_registered"
	// IdleNotOptedIn: registered, opted in to none of the services the
	// sidecar runs (none at all, or none the services setting lists).
	IdleNotOptedIn = "not_opted_in"
	// IdleJailed: jailed on every service it is opted in to.
	IdleJailed = "jailed"
	// IdleNoPower: opted in and not jailed somewhere, but in no current
	// power snapshot: opted in after the epoch's snapshot was taken (it
	// counts from the next epoch), or without the stake a snapshot asks.
	IdleNoPower = "no_power"
)

// IdleReasons are every reason, in the order of the checks.
var IdleReasons = []string{IdleOK, IdleNotRegistered, IdleNotOptedIn, IdleJailed, IdleNoPower}

// Idleness is whether the operator's votes count on at least one of the
// services the sidecar runs, and if not why and what to do.
type Idleness struct {
	// Reason is one of IdleReasons.
	Reason string
	// Hint says what to do (empty for IdleOK).
	Hint string
	// Services are those the operator's votes count on (IdleOK).
	Services []uint64
	// PowerFromEpoch (IdleNoPower) is the epoch from which its votes
	// count; 0 when they will not without more stake.
	PowerFromEpoch uint64
	// JailedUntil (IdleJailed) is the earliest time unjail is allowed.
	JailedUntil time.Time
}

// Idle reports whether the reason is not IdleOK.
func (i Idleness) Idle() bool { return i.Reason != IdleOK }

// Nop returns a Sink that records nothing: the default of every part.
func Nop() Sink { return nop{} }

type nop struct{}

var _ Sink = nop{}

func (nop) TaskSeen()                                        {}
func (nop) TaskExecuted(time.Duration)                       {}
func (nop) TaskFailed(string)                                {}
func (nop) VotesSent(int)                                    {}
func (nop) CommitsSent(int)                                  {}
func (nop) RevealsSent(int)                                  {}
func (nop) VotesIncluded(int)                                {}
func (nop) VotesRejected(int)                                {}
func (nop) EventsMatched(int)                                {}
func (nop) Height(int64)                                     {}
func (nop) VotesDropped(string, int)                         {}
func (nop) TxRefused(string)                                 {}
func (nop) Queue(int, time.Time)                             {}
func (nop) TxsInFlight(int)                                  {}
func (nop) SubmitterBlocked(string)                          {}
func (nop) ChainHead(int64)                                  {}
func (nop) FailOver(string, string)                          {}
func (nop) Endpoints(string, string)                         {}
func (nop) RPCCall(string, string)                           {}
func (nop) BlocksSkipped(int64)                              {}
func (nop) WorkRetried()                                     {}
func (nop) WorkGivenUp(string)                               {}
func (nop) WorkPruned(int)                                   {}
func (nop) HostCalls(string, int, int)                       {}
func (nop) Account(uint64, string, []uint64, uint64, uint64) {}
func (nop) Idle(Idleness)                                    {}

// StatusPage is what /status shows.
type StatusPage struct {
	Operator      string    `json:"operator"`
	ChainID       string    `json:"chain_id"`
	RPCEndpoint   string    `json:"rpc_endpoint"`
	Height        int64     `json:"height"`
	LastBlockSeen time.Time `json:"last_block_seen"`
	TasksSeen     uint64    `json:"tasks_seen"`
	TasksExecuted uint64    `json:"tasks_executed"`
	TasksFailed   uint64    `json:"tasks_failed"`
	VotesIncluded uint64    `json:"votes_included"`
	StartedAt     time.Time `json:"started_at"`
	Version       string    `json:"version,omitempty"`

	// GRPCEndpoint is the gRPC endpoint in use.
	GRPCEndpoint string `json:"grpc_endpoint"`
	// ChainHead is the node's latest height; HeadSeen when it last moved.
	ChainHead int64     `json:"chain_head"`
	HeadSeen  time.Time `json:"head_seen"`
	FailOvers uint64    `json:"fail_overs"`
	// BlocksSkipped: blocks the watcher could not read and skipped.
	BlocksSkipped int64 `json:"blocks_skipped"`
	// BelowCursor is the last block the watcher read while the node's
	// latest height is below it (a chain reset, or a node far behind); 0
	// otherwise.
	BelowCursor int64 `json:"below_cursor,omitempty"`

	QueueDepth   int       `json:"queue_depth"`
	OldestQueued time.Time `json:"oldest_queued,omitempty"`
	TxsInFlight  int       `json:"txs_in_flight"`
	// LastIncluded is when a vote transaction last landed.
	LastIncluded time.Time `json:"last_included,omitempty"`
	VotesDropped uint64    `json:"votes_dropped"`
	// SubmitterBlocked says why no vote can be sent ("" when votes can be).
	SubmitterBlocked string `json:"submitter_blocked,omitempty"`

	WorkGivenUp uint64 `json:"work_given_up"`

	Balance        uint64   `json:"balance"`
	BalanceDenom   string   `json:"balance_denom,omitempty"`
	JailedServices []uint64 `json:"jailed_services,omitempty"`
	Missed         uint64   `json:"missed"`
	JailThreshold  uint64   `json:"jail_threshold"`
	// AccountRead: Balance and the jail fields were read at least once.
	AccountRead bool `json:"account_read"`

	// State is "active" while the operator's votes count on at least one
	// of the services the sidecar runs (ActiveServices), "idle" while they
	// count on none: IdleReason says why (one of IdleReasons but "ok") and
	// Hint what to do. Empty until first checked.
	State          string    `json:"state,omitempty"`
	IdleReason     string    `json:"idle_reason,omitempty"`
	Hint           string    `json:"hint,omitempty"`
	ActiveServices []uint64  `json:"active_services,omitempty"`
	PowerFromEpoch uint64    `json:"power_from_epoch,omitempty"`
	JailedUntil    time.Time `json:"jailed_until,omitzero"`
}

// Page states.
const (
	StateActive = "active"
	StateIdle   = "idle"
)

// Metrics is the live Sink: Prometheus counters in their own registry and
// the /status page, updated together. It is safe for concurrent use.
type Metrics struct {
	registry      *prometheus.Registry
	tasksSeen     prometheus.Counter
	tasksExecuted prometheus.Counter
	tasksFailed   *prometheus.CounterVec
	votesSent     prometheus.Counter
	commitsSent   prometheus.Counter
	revealsSent   prometheus.Counter
	votesIncluded prometheus.Counter
	votesRejected prometheus.Counter
	execSeconds   prometheus.Histogram
	height        prometheus.Gauge
	eventsMatched prometheus.Counter

	votesDropped  *prometheus.CounterVec
	txRefused     *prometheus.CounterVec
	queueDepth    prometheus.Gauge
	queueAge      prometheus.Gauge
	txsInFlight   prometheus.Gauge
	blocked       prometheus.Gauge
	chainHead     prometheus.Gauge
	lag           prometheus.Gauge
	failOvers     *prometheus.CounterVec
	rpcCalls      *prometheus.CounterVec
	blocksSkipped prometheus.Counter
	workRetried   prometheus.Counter
	workGivenUp   *prometheus.CounterVec
	workPruned    prometheus.Counter
	hostCalls     *prometheus.CounterVec
	hostFailed    *prometheus.CounterVec
	balance       prometheus.Gauge
	jailed        prometheus.Gauge
	missed        prometheus.Gauge
	jailThreshold prometheus.Gauge
	idle          *prometheus.GaugeVec

	mu   sync.Mutex
	page StatusPage
}

var _ Sink = (*Metrics)(nil)

// New registers the metrics in a fresh registry (the sidecar's own metrics
// only, no Go collector).
func New() *Metrics {
	m := &Metrics{
		registry:      prometheus.NewRegistry(),
		tasksSeen:     prometheus.NewCounter(prometheus.CounterOpts{Name: "avs_sidecar_tasks_seen_total", Help: "Tasks the watcher saw created."}),
		tasksExecuted: prometheus.NewCounter(prometheus.CounterOpts{Name: "avs_sidecar_tasks_executed_total", Help: "Tasks whose component ran to a result."}),
		tasksFailed:   prometheus.NewCounterVec(prometheus.CounterOpts{Name: "avs_sidecar_tasks_failed_total", Help: "Tasks that yielded no vote, by reason."}, []string{"reason"}),
		votesSent:     prometheus.NewCounter(prometheus.CounterOpts{Name: "avs_sidecar_votes_sent_total", Help: "Votes broadcast."}),
		votesIncluded: prometheus.NewCounter(prometheus.CounterOpts{Name: "avs_sidecar_votes_included_total", Help: "Votes included and accepted on chain."}),
		votesRejected: prometheus.NewCounter(prometheus.CounterOpts{Name: "avs_sidecar_votes_rejected_total", Help: "Votes included but refused by x/avs."}),
		execSeconds: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "avs_sidecar_execution_seconds", Help: "Component execution time.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}),
		height:        prometheus.NewGauge(prometheus.GaugeOpts{Name: "avs_sidecar_block_height", Help: "Last block the watcher read."}),
		eventsMatched: prometheus.NewCounter(prometheus.CounterOpts{Name: "avs_sidecar_events_matched_total", Help: "Chain events an event trigger of the operator's services matched."}),
	}
	m.commitsSent = prometheus.NewCounter(prometheus.CounterOpts{Name: "avs_sidecar_commits_sent_total", Help: "Commits broadcast on COMMIT_REVEAL tasks."})
	m.revealsSent = prometheus.NewCounter(prometheus.CounterOpts{Name: "avs_sidecar_reveals_sent_total", Help: "Reveals broadcast on COMMIT_REVEAL tasks (votes_sent counts them too)."})
	m.votesDropped = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "avs_sidecar_votes_dropped_total", Help: "Votes dropped after a permanent refusal, by reason."}, []string{"reason"})
	m.txRefused = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "avs_sidecar_tx_refused_total", Help: "Vote transactions refused before inclusion (simulation, CheckTx, broadcast), by reason."}, []string{"reason"})
	m.queueDepth = prometheus.NewGauge(prometheus.GaugeOpts{Name: "avs_sidecar_vote_queue_depth", Help: "Votes waiting to be sent."})
	m.queueAge = prometheus.NewGauge(prometheus.GaugeOpts{Name: "avs_sidecar_vote_queue_oldest_timestamp_seconds", Help: "When the oldest queued vote was queued (0: none)."})
	m.txsInFlight = prometheus.NewGauge(prometheus.GaugeOpts{Name: "avs_sidecar_txs_in_flight", Help: "Vote transactions sent and not yet settled."})
	m.blocked = prometheus.NewGauge(prometheus.GaugeOpts{Name: "avs_sidecar_submitter_blocked", Help: "1 while no vote can be sent (insufficient funds or fee, …; see /status)."})
	m.chainHead = prometheus.NewGauge(prometheus.GaugeOpts{Name: "avs_sidecar_chain_head", Help: "The node's latest block height."})
	m.lag = prometheus.NewGauge(prometheus.GaugeOpts{Name: "avs_sidecar_lag_blocks", Help: "Blocks between the chain head and the last block the watcher read."})
	m.failOvers = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "avs_sidecar_fail_overs_total", Help: "Moves to the next endpoint, by kind and reason."}, []string{"kind", "reason"})
	m.rpcCalls = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "avs_sidecar_rpc_calls_total", Help: "Requests sent to the chain's nodes (each try, each endpoint), by kind (rpc, grpc) and method."}, []string{"kind", "method"})
	m.blocksSkipped = prometheus.NewCounter(prometheus.CounterOpts{Name: "avs_sidecar_blocks_skipped_total", Help: "Blocks the watcher could not read and skipped."})
	m.workRetried = prometheus.NewCounter(prometheus.CounterOpts{Name: "avs_sidecar_work_retried_total", Help: "Work retried after a transient error."})
	m.workGivenUp = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "avs_sidecar_work_given_up_total", Help: "Work given up without a vote, by reason."}, []string{"reason"})
	m.workPruned = prometheus.NewCounter(prometheus.CounterOpts{Name: "avs_sidecar_work_pruned_total", Help: "Store records of finished work pruned."})
	m.hostCalls = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "avs_sidecar_host_calls_total", Help: "Host calls made by components, by kind."}, []string{"kind"})
	m.hostFailed = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "avs_sidecar_host_calls_failed_total", Help: "Host calls refused or failed, by kind."}, []string{"kind"})
	m.balance = prometheus.NewGauge(prometheus.GaugeOpts{Name: "avs_sidecar_balance", Help: "The vote signer's balance in the fee denom."})
	m.jailed = prometheus.NewGauge(prometheus.GaugeOpts{Name: "avs_sidecar_jailed_services", Help: "Services on which the operator is jailed."})
	m.missed = prometheus.NewGauge(prometheus.GaugeOpts{Name: "avs_sidecar_missed_votes", Help: "Missed votes in the liveness window, on the operator's worst service."})
	m.jailThreshold = prometheus.NewGauge(prometheus.GaugeOpts{Name: "avs_sidecar_jail_threshold", Help: "Missed votes in the window that jail the operator."})
	m.idle = prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "avs_sidecar_idle", Help: "1 for the reason the operator's votes count on none of its services (ok: they count on some), 0 for the other reasons; see /status hint."}, []string{"reason"})
	m.registry.MustRegister(m.tasksSeen, m.tasksExecuted, m.tasksFailed, m.votesSent, m.votesIncluded, m.votesRejected, m.execSeconds, m.height, m.eventsMatched,
		m.votesDropped, m.txRefused, m.queueDepth, m.queueAge, m.txsInFlight, m.blocked, m.chainHead, m.lag, m.failOvers, m.rpcCalls, m.blocksSkipped,
		m.workRetried, m.workGivenUp, m.workPruned, m.hostCalls, m.hostFailed, m.balance, m.jailed, m.missed, m.jailThreshold, m.idle,
		m.commitsSent, m.revealsSent)
	return m
}

// Gatherer is what /metrics serves.
func (m *Metrics) Gatherer() prometheus.Gatherer { return m.registry }

// Status returns a copy of the /status page.
func (m *Metrics) Status() StatusPage {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.page
}

// UpdateStatus changes the /status page's other fields (who and where the
// sidecar is) under its lock.
func (m *Metrics) UpdateStatus(f func(*StatusPage)) {
	m.mu.Lock()
	defer m.mu.Unlock()
	f(&m.page)
}

// TaskSeen counts a task the pipeline took up.
func (m *Metrics) TaskSeen() {
	m.tasksSeen.Inc()
	m.UpdateStatus(func(p *StatusPage) { p.TasksSeen++ })
}

// TaskExecuted counts a successful run and observes its duration.
func (m *Metrics) TaskExecuted(d time.Duration) {
	m.tasksExecuted.Inc()
	m.execSeconds.Observe(d.Seconds())
	m.UpdateStatus(func(p *StatusPage) { p.TasksExecuted++ })
}

// TaskFailed counts a task that yields no vote.
func (m *Metrics) TaskFailed(reason string) {
	m.tasksFailed.WithLabelValues(reason).Inc()
	m.UpdateStatus(func(p *StatusPage) { p.TasksFailed++ })
}

// VotesSent counts broadcast votes.
func (m *Metrics) VotesSent(n int) { m.votesSent.Add(float64(n)) }

// CommitsSent counts broadcast commits.
func (m *Metrics) CommitsSent(n int) { m.commitsSent.Add(float64(n)) }

// RevealsSent counts broadcast reveals.
func (m *Metrics) RevealsSent(n int) { m.revealsSent.Add(float64(n)) }

// VotesIncluded counts accepted votes (a transaction landed).
func (m *Metrics) VotesIncluded(n int) {
	m.votesIncluded.Add(float64(n))
	m.UpdateStatus(func(p *StatusPage) { p.VotesIncluded += uint64(n); p.LastIncluded = time.Now().UTC() })
}

// VotesRejected counts votes x/avs refused.
func (m *Metrics) VotesRejected(n int) { m.votesRejected.Add(float64(n)) }

// EventsMatched counts events an event trigger matched.
func (m *Metrics) EventsMatched(n int) { m.eventsMatched.Add(float64(n)) }

// Height records the last block read, and when it was read (/healthz).
func (m *Metrics) Height(h int64) {
	m.height.Set(float64(h))
	m.UpdateStatus(func(p *StatusPage) {
		p.Height, p.LastBlockSeen = h, time.Now().UTC()
		m.lag.Set(float64(max(0, p.ChainHead-h)))
	})
}

// VotesDropped counts votes dropped after a permanent refusal.
func (m *Metrics) VotesDropped(reason string, n int) {
	m.votesDropped.WithLabelValues(reason).Add(float64(n))
	m.UpdateStatus(func(p *StatusPage) { p.VotesDropped += uint64(n) })
}

// TxRefused counts a vote transaction refused before inclusion.
func (m *Metrics) TxRefused(reason string) { m.txRefused.WithLabelValues(reason).Inc() }

// Queue reports the submitter's queue.
func (m *Metrics) Queue(depth int, oldest time.Time) {
	m.queueDepth.Set(float64(depth))
	if oldest.IsZero() {
		m.queueAge.Set(0)
	} else {
		m.queueAge.Set(float64(oldest.Unix()))
	}
	m.UpdateStatus(func(p *StatusPage) { p.QueueDepth, p.OldestQueued = depth, oldest })
}

// TxsInFlight reports the vote transactions in flight.
func (m *Metrics) TxsInFlight(n int) {
	m.txsInFlight.Set(float64(n))
	m.UpdateStatus(func(p *StatusPage) { p.TxsInFlight = n })
}

// SubmitterBlocked reports why no vote can be sent ("" clears it).
func (m *Metrics) SubmitterBlocked(reason string) {
	if reason == "" {
		m.blocked.Set(0)
	} else {
		m.blocked.Set(1)
	}
	m.UpdateStatus(func(p *StatusPage) { p.SubmitterBlocked = reason })
}

// ChainHead reports the node's latest height.
func (m *Metrics) ChainHead(h int64) {
	m.chainHead.Set(float64(h))
	m.UpdateStatus(func(p *StatusPage) {
		if h != p.ChainHead {
			p.HeadSeen = time.Now().UTC()
		}
		p.ChainHead = h
		m.lag.Set(float64(max(0, h-p.Height)))
	})
}

// FailOver counts a move to the next endpoint.
func (m *Metrics) FailOver(kind, reason string) {
	m.failOvers.WithLabelValues(kind, reason).Inc()
	m.UpdateStatus(func(p *StatusPage) { p.FailOvers++ })
}

// Endpoints reports the endpoints in use.
func (m *Metrics) Endpoints(rpc, grpc string) {
	m.UpdateStatus(func(p *StatusPage) { p.RPCEndpoint, p.GRPCEndpoint = rpc, grpc })
}

// RPCCall counts a request sent to a node.
func (m *Metrics) RPCCall(kind, method string) { m.rpcCalls.WithLabelValues(kind, method).Inc() }

// BlocksSkipped counts blocks skipped unread.
func (m *Metrics) BlocksSkipped(n int64) {
	m.blocksSkipped.Add(float64(n))
	m.UpdateStatus(func(p *StatusPage) { p.BlocksSkipped += n })
}

// WorkRetried counts a retry.
func (m *Metrics) WorkRetried() { m.workRetried.Inc() }

// WorkGivenUp counts work given up.
func (m *Metrics) WorkGivenUp(reason string) {
	m.workGivenUp.WithLabelValues(reason).Inc()
	m.UpdateStatus(func(p *StatusPage) { p.WorkGivenUp++ })
}

// WorkPruned counts pruned records.
func (m *Metrics) WorkPruned(n int) { m.workPruned.Add(float64(n)) }

// HostCalls counts a run's host calls.
func (m *Metrics) HostCalls(kind string, made, failed int) {
	m.hostCalls.WithLabelValues(kind).Add(float64(made))
	m.hostFailed.WithLabelValues(kind).Add(float64(failed))
}

// Account reports the operator account's state.
func (m *Metrics) Account(balance uint64, denom string, jailed []uint64, missed, jailThreshold uint64) {
	m.balance.Set(float64(balance))
	m.jailed.Set(float64(len(jailed)))
	m.missed.Set(float64(missed))
	m.jailThreshold.Set(float64(jailThreshold))
	m.UpdateStatus(func(p *StatusPage) {
		p.Balance, p.BalanceDenom, p.JailedServices, p.Missed, p.JailThreshold, p.AccountRead = balance, denom, jailed, missed, jailThreshold, true
	})
}

// Idle reports the operator's idleness: avs_sidecar_idle is 1 for its
// reason and 0 for the others, and /status shows it.
func (m *Metrics) Idle(i Idleness) {
	for _, r := range IdleReasons {
		v := 0.0
		if r == i.Reason {
			v = 1
		}
		m.idle.WithLabelValues(r).Set(v)
	}
	m.UpdateStatus(func(p *StatusPage) {
		p.State, p.IdleReason, p.Hint, p.ActiveServices, p.PowerFromEpoch, p.JailedUntil = StateActive, "", "", i.Services, 0, time.Time{}
		if i.Idle() {
			p.State, p.IdleReason, p.Hint, p.PowerFromEpoch, p.JailedUntil = StateIdle, i.Reason, i.Hint, i.PowerFromEpoch, i.JailedUntil
		}
	})
}
