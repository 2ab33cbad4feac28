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
	VotesIncluded(n int)
	VotesRejected(n int)
	EventsMatched(n int)
	Height(h int64)
}

// Nop returns a Sink that records nothing: the default of every part.
func Nop() Sink { return nop{} }

type nop struct{}

var _ Sink = nop{}

func (nop) TaskSeen()                  {}
func (nop) TaskExecuted(time.Duration) {}
func (nop) TaskFailed(string)          {}
func (nop) VotesSent(int)              {}
func (nop) VotesIncluded(int)          {}
func (nop) VotesRejected(int)          {}
func (nop) EventsMatched(int)          {}
func (nop) Height(int64)               {}

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
}

// Metrics is the live Sink: Prometheus counters in their own registry and
// the /status page, updated together. It is safe for concurrent use.
type Metrics struct {
	registry      *prometheus.Registry
	tasksSeen     prometheus.Counter
	tasksExecuted prometheus.Counter
	tasksFailed   *prometheus.CounterVec
	votesSent     prometheus.Counter
	votesIncluded prometheus.Counter
	votesRejected prometheus.Counter
	execSeconds   prometheus.Histogram
	height        prometheus.Gauge
	eventsMatched prometheus.Counter

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
	m.registry.MustRegister(m.tasksSeen, m.tasksExecuted, m.tasksFailed, m.votesSent, m.votesIncluded, m.votesRejected, m.execSeconds, m.height, m.eventsMatched)
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

// VotesIncluded counts accepted votes.
func (m *Metrics) VotesIncluded(n int) {
	m.votesIncluded.Add(float64(n))
	m.UpdateStatus(func(p *StatusPage) { p.VotesIncluded += uint64(n) })
}

// VotesRejected counts votes x/avs refused.
func (m *Metrics) VotesRejected(n int) { m.votesRejected.Add(float64(n)) }

// EventsMatched counts events an event trigger matched.
func (m *Metrics) EventsMatched(n int) { m.eventsMatched.Add(float64(n)) }

// Height records the last block read, and when it was read (/healthz).
func (m *Metrics) Height(h int64) {
	m.height.Set(float64(h))
	m.UpdateStatus(func(p *StatusPage) { p.Height, p.LastBlockSeen = h, time.Now().UTC() })
}
