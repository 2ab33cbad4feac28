// Package server serves the sidecar's /healthz, Prometheus /metrics and a
// JSON /status page. It only serves: what it shows is kept by package
// metrics (skip-mev/connect keeps its servers apart from oracle/metrics too).
package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
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
	addr  string
	src   Source
	stale time.Duration
	log   *slog.Logger
	ln    net.Listener
}

// Option configures a Server.
type Option func(*Server)

// WithLogger sets the logger.
func WithLogger(l *slog.Logger) Option { return func(s *Server) { s.log = l } }

// New returns a server on addr ("host:port"); a zero port picks a free one.
func New(addr string, src Source, opts ...Option) (*Server, error) {
	if addr == "" || src == nil {
		return nil, errors.New("server: address and metrics are required")
	}
	s := &Server{addr: addr, src: src, stale: 30 * time.Second, log: slog.Default()}
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
		if page.LastBlockSeen.IsZero() || time.Since(page.LastBlockSeen) > s.stale {
			http.Error(w, fmt.Sprintf("no new block read for %s (last height %d)", s.stale, page.Height), http.StatusServiceUnavailable)
			return
		}
		_, _ = fmt.Fprintf(w, "ok: height %d\n", page.Height)
	})
	return mux
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
