// Package httpserver runs an HTTP server that binds its port before it
// returns and shuts down gracefully, within a bound, when its context ends.
package httpserver

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"go.uber.org/zap"
)

// Server is an HTTP server with its listener already bound.
type Server struct {
	listener net.Listener
	server   *http.Server
}

// Listen binds addr now, so that the port is ready (or the error known) as
// soon as Listen returns.
func Listen(addr string, h http.Handler) (*Server, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listening on %s: %w", addr, err)
	}
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
	}
	return &Server{listener: ln, server: srv}, nil
}

// Addr is the bound address, useful when addr asked for port 0.
func (s *Server) Addr() string { return s.listener.Addr().String() }

// Serve handles requests until ctx ends, then stops accepting new ones and
// gives in-flight requests up to grace to finish.
func (s *Server) Serve(ctx context.Context, log *zap.Logger, grace time.Duration) error {
	errc := make(chan error, 1)
	go func() { errc <- s.server.Serve(s.listener) }()
	log.Info("http server listening", zap.String("addr", s.Addr()))
	select {
	case err := <-errc:
		return fmt.Errorf("serving http: %w", err)
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), grace)
	defer cancel()
	err := s.server.Shutdown(shutdownCtx)
	if serveErr := <-errc; serveErr != nil && !errors.Is(serveErr, http.ErrServerClosed) {
		err = errors.Join(err, serveErr)
	}
	if err != nil {
		return fmt.Errorf("shutting down http: %w", err)
	}
	return nil
}
