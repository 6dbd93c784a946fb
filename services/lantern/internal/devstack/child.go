package devstack

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"
)

type childSpec struct {
	name, path string
	env        []string
}

// child is a supervised service process: restarted if it dies, so that the
// local pipeline heals the way an orchestrator would heal a real one.
type child struct {
	spec    childSpec
	out     io.Writer
	mu      sync.Mutex
	cmd     *exec.Cmd
	stopped bool
	done    chan struct{}
}

func startChild(ctx context.Context, spec childSpec, out io.Writer) (*child, error) {
	c := &child{spec: spec, out: out, done: make(chan struct{})}
	if err := c.launch(); err != nil {
		return nil, err
	}
	go c.supervise(ctx)
	return c, nil
}

func (c *child) launch() error {
	cmd := exec.Command(c.spec.path)
	cmd.Env = c.spec.env
	// Children die with the supervisor even if it is killed outright.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return err
	}
	cmd.Stderr = cmd.Stdout
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("starting %s (did `make build` run?): %w", c.spec.name, err)
	}
	go c.copyLines(stdout)
	c.mu.Lock()
	c.cmd = cmd
	c.mu.Unlock()
	return nil
}

func (c *child) copyLines(r io.Reader) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		fmt.Fprintf(c.out, "%-9s| %s\n", c.spec.name, sc.Text())
	}
}

func (c *child) supervise(ctx context.Context) {
	defer close(c.done)
	backoff := time.Second
	for {
		c.mu.Lock()
		cmd := c.cmd
		c.mu.Unlock()
		err := cmd.Wait()
		c.mu.Lock()
		stopped := c.stopped
		c.mu.Unlock()
		if stopped || ctx.Err() != nil {
			return
		}
		fmt.Fprintf(c.out, "%-9s| exited (%v); restarting in %s\n", c.spec.name, err, backoff)
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff):
		}
		backoff = min(backoff*2, 30*time.Second)
		if !c.relaunch() {
			return
		}
	}
}

// relaunch starts the process again unless a stop has begun meanwhile; the
// check and the launch happen under the lock so that stop always signals the
// process that is really running.
func (c *child) relaunch() bool {
	c.mu.Lock()
	stopped := c.stopped
	c.mu.Unlock()
	if stopped {
		return false
	}
	if err := c.launch(); err != nil {
		fmt.Fprintf(c.out, "%-9s| %v\n", c.spec.name, err)
		return false
	}
	return true
}

func (c *child) stop(grace time.Duration) {
	c.mu.Lock()
	c.stopped = true
	cmd := c.cmd
	c.mu.Unlock()
	if cmd == nil || cmd.Process == nil {
		return
	}
	_ = cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-c.done:
	case <-time.After(grace):
		c.mu.Lock()
		cmd = c.cmd
		c.mu.Unlock()
		_ = cmd.Process.Kill()
		<-c.done
	}
}

// startTool starts a development tool that make run built into the
// binaries folder (its name is title in lower case), supervised like the
// services, and waits until its web view at ui answers. hint, given when
// it cannot start, says how to have make run build it.
func (s *stack) startTool(ctx context.Context, title, ui, hint string, env []string) error {
	name := strings.ToLower(title)
	c, err := startChild(ctx, childSpec{name: name, path: filepath.Join(s.o.BinDir, name), env: env}, s.o.Out)
	if err != nil {
		return fmt.Errorf("starting %s (%s): %w", title, hint, err)
	}
	s.procs = append(s.procs, c)
	if err := waitHTTP(ctx, ui, readyTimeout); err != nil {
		return fmt.Errorf("%s did not answer at %s: %w", name, ui, err)
	}
	return nil
}

func waitHTTP(ctx context.Context, url string, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	last := "no answer"
	for {
		resp, err := http.Get(url)
		if err == nil {
			body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
			resp.Body.Close()
			if resp.StatusCode < 500 {
				return nil
			}
			last = fmt.Sprintf("%d %s", resp.StatusCode, body)
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s after %s: %s", url, timeout, last)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
}
