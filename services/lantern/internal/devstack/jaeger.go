package devstack

import (
	"context"
	"fmt"
	"os"
	"time"
)

// Jaeger's all-in-one listens on its documented ports: OTLP over HTTP on
// 4318 and the UI on 16686.
const (
	jaegerOTLP = "http://127.0.0.1:4318"
	jaegerUI   = "http://127.0.0.1:16686"
)

// jaegerWanted reports whether LANTERN_JAEGER asks make run for Jaeger.
func jaegerWanted() bool { return os.Getenv("LANTERN_JAEGER") == "true" }

// startJaeger starts Jaeger (built by make run from the module proxy into
// the binaries folder), keeping traces in memory, and returns the
// variables that send every service's spans to it.
func (s *stack) startJaeger(ctx context.Context) ([]string, error) {
	if !jaegerWanted() {
		return nil, nil
	}
	fmt.Fprintln(s.o.Out, "Starting Jaeger for traces…")
	if err := s.startTool(ctx, "Jaeger", jaegerUI, "LANTERN_JAEGER=true make run builds it", os.Environ()); err != nil {
		return nil, err
	}
	return []string{"OTEL_EXPORTER_OTLP_ENDPOINT=" + jaegerOTLP, "OTEL_BSP_SCHEDULE_DELAY=" + fmt.Sprint(time.Second.Milliseconds())}, nil
}

// jaegerLine is the banner's line for Jaeger, or nothing without it.
func jaegerLine() string {
	if !jaegerWanted() {
		return " Traces: set LANTERN_JAEGER=true for Jaeger, or OTEL_EXPORTER_OTLP_ENDPOINT for a collector of yours\n"
	}
	return " Traces (Jaeger UI):  " + jaegerUI + "  (every service exports over OTLP to " + jaegerOTLP + ")\n"
}
