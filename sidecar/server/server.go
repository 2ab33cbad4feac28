// Package server serves the sidecar's /healthz, Prometheus /metrics and a
// JSON /status page. It only serves: what it shows is kept by package
// metrics (skip-mev/connect keeps its servers apart from oracle/metrics too).
//
// /healthz is red (503, one line: why, and what to do) when the sidecar
// cannot vote or its votes do not count (M11): the chain head has not moved
// (or the watcher has read no block) for the staleness window, the
// submitter is blocked, the oldest queued vote waited past the queue window
// with no vote included since, the operator is jailed, or its balance is
// below the floor.
package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/avschain/avschain/sidecar/metrics"
)

// Source is what the server shows (metrics.Metrics).
type Source interface {
	Gatherer() prometheus.Gatherer
	Status() metrics.StatusPage
}

// Server serves the three endpoints.
type Server struct {
	addr        string
	src         Source
	stale       time.Duration
	queueWindow time.Duration
	floor       uint64
	log         *slog.Logger
	ln          net.Listener
}

// Option configures a Server.
type Option func(*Server)

// WithLogger sets the logger.
func WithLogger(l *slog.Logger) Option { return func(s *Server) { s.log = l } }

// WithStaleAfter sets how long the chain head may stand still, or the
// watcher read no block, before /healthz is red (default 30 s).
func WithStaleAfter(d time.Duration) Option { return func(s *Server) { s.stale = d } }

// WithQueueWindow sets how long the oldest queued vote may wait with no
// vote included before /healthz is red (default 2 min).
func WithQueueWindow(d time.Duration) Option { return func(s *Server) { s.queueWindow = d } }

// WithBalanceFloor makes /healthz red once the operator's balance, as last
// read, is below floor in the fee denom (default 0: not checked).
func WithBalanceFloor(floor uint64) Option { return func(s *Server) { s.floor = floor } }

// New returns a server on addr ("host:port"); a zero port picks a free one.
func New(addr string, src Source, opts ...Option) (*Server, error) {
	if addr == "" || src == nil {
		return nil, errors.New("server: address and metrics are required")
	}
	s := &Server{addr: addr, src: src, stale: 30 * time.Second, queueWindow: 2 * time.Minute, log: slog.Default()}
	for _, o := range opts {
		o(s)
	}
	return s, nil
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
	mux.Handle("/metrics", promhttp.HandlerFor(s.src.Gatherer(), promhttp.HandlerOpts{}))
	mux.HandleFunc("/status", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(s.src.Status())
	})
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) {
		page := s.src.Status()
		if why := s.unhealthy(page, time.Now()); len(why) > 0 {
			http.Error(w, strings.Join(why, "; "), http.StatusServiceUnavailable)
			return
		}
		_, _ = fmt.Fprintf(w, "ok: height %d\n", page.Height)
	})
	return mux
}

// unhealthy returns why the sidecar cannot vote or its votes do not count,
// each reason with what to do; none when healthy.
func (s *Server) unhealthy(p metrics.StatusPage, now time.Time) []string {
	var why []string
	age := func(t time.Time) time.Duration { return now.Sub(t).Round(time.Second) }
	switch {
	case p.LastBlockSeen.IsZero():
		why = append(why, "no block read yet: check that rpc_endpoints answer and the logs")
	case !p.HeadSeen.IsZero() && now.Sub(p.HeadSeen) > s.stale:
		why = append(why, fmt.Sprintf("the chain head has not moved for %s (height %d): the node is halted or stuck; check it, or list another node in rpc_endpoints", age(p.HeadSeen), p.ChainHead))
	case now.Sub(p.LastBlockSeen) > s.stale:
		why = append(why, fmt.Sprintf("no new block read for %s (last height %d, chain head %d): check the node and the watcher's log lines", age(p.LastBlockSeen), p.Height, p.ChainHead))
	}
	if p.BelowCursor > 0 {
		why = append(why, fmt.Sprintf("the node is at height %d, below block %d already read: the chain was reset (give the new chain its own data_dir) or the node is far behind (list another in rpc_endpoints)", p.ChainHead, p.BelowCursor))
	}
	if p.SubmitterBlocked != "" {
		why = append(why, fmt.Sprintf("no vote can be sent: %s (see /status submitter_blocked and docs/OPERATORS.md)", p.SubmitterBlocked))
	}
	if p.QueueDepth > 0 && !p.OldestQueued.IsZero() && now.Sub(p.OldestQueued) > s.queueWindow &&
		(p.LastIncluded.IsZero() || now.Sub(p.LastIncluded) > s.queueWindow) {
		last := "none since start"
		if !p.LastIncluded.IsZero() {
			last = age(p.LastIncluded).String() + " ago"
		}
		why = append(why, fmt.Sprintf("%d votes queued, the oldest for %s, and no vote included (last: %s): check the submitter's log lines and /status", p.QueueDepth, age(p.OldestQueued), last))
	}
	if len(p.JailedServices) > 0 {
		why = append(why, fmt.Sprintf("the operator is jailed on services %v: its votes there do not count; after the cooldown run 'avsd tx avs unjail <service-id>' from the operator key", p.JailedServices))
	}
	if p.AccountRead && s.floor > 0 && p.Balance < s.floor {
		why = append(why, fmt.Sprintf("the operator's balance %d%s is below %d%s (a few vote transactions): fund it", p.Balance, p.BalanceDenom, s.floor, p.BalanceDenom))
	}
	return why
}

// Start serves until ctx ends; it returns once the server has shut down.
func (s *Server) Start(ctx context.Context) error {
	ln, err := net.Listen("tcp", s.addr)
	if err != nil {
		return fmt.Errorf("metrics server on %s: %w", s.addr, err)
	}
	s.ln = ln
	srv := &http.Server{Handler: s.Handler(), ReadHeaderTimeout: 5 * time.Second}
	s.log.Info("serving /healthz /metrics /status", "addr", ln.Addr().String())
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	select {
	case err := <-served:
		return err
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err = srv.Shutdown(shutdownCtx)
	if serr := <-served; serr != nil && !errors.Is(serr, http.ErrServerClosed) {
		return serr
	}
	return err
}
