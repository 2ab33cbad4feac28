// Package server serves the sidecar's /healthz, Prometheus /metrics and a
// JSON /status page, and holds the metrics the other parts report to.
package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Metrics are the sidecar's Prometheus metrics.
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
}

// NewMetrics registers the metrics in a fresh registry.
func NewMetrics() *Metrics {
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

// TaskSeen counts a task the watcher saw.
func (m *Metrics) TaskSeen() { m.tasksSeen.Inc() }

// TaskExecuted counts a successful run and observes its duration.
func (m *Metrics) TaskExecuted(d time.Duration) {
	m.tasksExecuted.Inc()
	m.execSeconds.Observe(d.Seconds())
}

// TaskFailed counts a task that yields no vote.
func (m *Metrics) TaskFailed(reason string) { m.tasksFailed.WithLabelValues(reason).Inc() }

// VotesSent counts broadcast votes.
func (m *Metrics) VotesSent(n int) { m.votesSent.Add(float64(n)) }

// VotesIncluded counts accepted votes.
func (m *Metrics) VotesIncluded(n int) { m.votesIncluded.Add(float64(n)) }

// VotesRejected counts votes x/avs refused.
func (m *Metrics) VotesRejected(n int) { m.votesRejected.Add(float64(n)) }

// EventsMatched counts events an event trigger matched.
func (m *Metrics) EventsMatched(n int) { m.eventsMatched.Add(float64(n)) }

// Height records the last block read.
func (m *Metrics) Height(h int64) { m.height.Set(float64(h)) }

// Status is the JSON /status page; parts update it through Update.
type Status struct {
	mu sync.Mutex
	s  StatusPage
}

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

// Update changes the status page under its lock.
func (s *Status) Update(f func(*StatusPage)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f(&s.s)
}

// Snapshot returns a copy of the page.
func (s *Status) Snapshot() StatusPage {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.s
}

// Server serves the three endpoints.
type Server struct {
	addr    string
	metrics *Metrics
	status  *Status
	stale   time.Duration
	log     *slog.Logger
	ln      net.Listener
}

// New returns a server on addr ("host:port"); a zero port picks a free one.
// A nil log means slog.Default().
func New(addr string, m *Metrics, st *Status, log *slog.Logger) (*Server, error) {
	if addr == "" || m == nil || st == nil {
		return nil, errors.New("server: address, metrics and status are required")
	}
	if log == nil {
		log = slog.Default()
	}
	return &Server{addr: addr, metrics: m, status: st, stale: 30 * time.Second, log: log}, nil
}

// Addr is the listening address once started.
func (s *Server) Addr() string {
	if s.ln == nil {
		return s.addr
	}
	return s.ln.Addr().String()
}

// Handler returns the HTTP handler (for tests).
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(s.metrics.registry, promhttp.HandlerOpts{}))
	mux.HandleFunc("/status", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(s.status.Snapshot())
	})
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) {
		page := s.status.Snapshot()
		if page.LastBlockSeen.IsZero() || time.Since(page.LastBlockSeen) > s.stale {
			http.Error(w, fmt.Sprintf("no new block read for %s (last height %d)", s.stale, page.Height), http.StatusServiceUnavailable)
			return
		}
		_, _ = fmt.Fprintf(w, "ok: height %d\n", page.Height)
	})
	return mux
}

// Start serves until ctx ends.
func (s *Server) Start(ctx context.Context) error {
	ln, err := net.Listen("tcp", s.addr)
	if err != nil {
		return fmt.Errorf("metrics server on %s: %w", s.addr, err)
	}
	s.ln = ln
	srv := &http.Server{Handler: s.Handler(), ReadHeaderTimeout: 5 * time.Second}
	s.log.Info("serving /healthz /metrics /status", "addr", ln.Addr().String())
	go func() {
		<-ctx.Done()
		shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(shutdownCtx)
	}()
	if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
