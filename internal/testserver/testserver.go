// Package testserver starts, for tests only, the local stand-ins they run against
// (kinesalite, dynalite, s3rver from npm; goaws and the Lambda Runtime
// Interface Emulator from `go install`) on 127.0.0.1 with free ports, and
// stops them when the test ends. `make tools` installs them into
// node_modules/.bin and .bin/ at the module root.
package testserver

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Server is one running stand-in.
type Server struct {
	Name string
	Port int
	// URL is the server's endpoint, http://127.0.0.1:<port>.
	URL string
	cmd *exec.Cmd
	log *lockedBuffer
}

// Spec says how to run a stand-in.
type Spec struct {
	Name string
	// Binary is resolved against node_modules/.bin and .bin/ at the module
	// root, then PATH.
	Binary string
	// Args builds the command line from the chosen port.
	Args func(port int) []string
	Env  []string
	// Ready reports whether the server answers; nil means "the TCP port accepts".
	Ready func(url string) bool
	// ExtraPorts asks for more free ports, passed to ArgsExtra.
	ExtraPorts int
	ArgsExtra  func(port int, extra []int) []string
}

// Start runs spec and registers its stop with t.Cleanup. It fails the test
// (naming the install command) when the binary is missing.
func Start(t testing.TB, spec Spec) *Server {
	t.Helper()
	bin, err := Resolve(spec.Binary)
	if err != nil {
		t.Fatalf("%s: %v (run `make tools` to install the local stand-ins)", spec.Name, err)
	}
	port := FreePort(t)
	var args []string
	if spec.ArgsExtra != nil {
		extra := make([]int, spec.ExtraPorts)
		for i := range extra {
			extra[i] = FreePort(t)
		}
		args = spec.ArgsExtra(port, extra)
	} else {
		args = spec.Args(port)
	}
	s := &Server{Name: spec.Name, Port: port, URL: fmt.Sprintf("http://127.0.0.1:%d", port), log: &lockedBuffer{}}
	s.cmd = exec.Command(bin, args...)
	s.cmd.Env = append(os.Environ(), spec.Env...)
	s.cmd.Stdout, s.cmd.Stderr = s.log, s.log
	// Own process group, so stopping also stops what a wrapper script forked;
	// and, where the OS can, the server dies with the test binary, so a test
	// killed on timeout (go test -timeout, a mutation run) leaves no server behind.
	s.cmd.SysProcAttr = serverProcAttr()
	if err := s.cmd.Start(); err != nil {
		t.Fatalf("%s: start %s: %v", spec.Name, bin, err)
	}
	t.Cleanup(s.Stop)
	ready := spec.Ready
	if ready == nil {
		ready = func(string) bool { return portOpen(port) }
	}
	deadline := time.Now().Add(30 * time.Second)
	for !ready(s.URL) {
		if time.Now().After(deadline) || s.exited() {
			s.Stop()
			t.Fatalf("%s did not become ready on %s; output:\n%s", spec.Name, s.URL, s.log.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	return s
}

// Stop ends the server's process group by PID.
func (s *Server) Stop() {
	if s.cmd == nil || s.cmd.Process == nil {
		return
	}
	_ = syscall.Kill(-s.cmd.Process.Pid, syscall.SIGTERM)
	done := make(chan struct{})
	go func() { _ = s.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		_ = syscall.Kill(-s.cmd.Process.Pid, syscall.SIGKILL)
		<-done
	}
	s.cmd = nil
}

// Output is what the server printed so far, for failure messages.
func (s *Server) Output() string { return s.log.String() }

func (s *Server) exited() bool {
	return s.cmd.ProcessState != nil || syscall.Kill(s.cmd.Process.Pid, 0) != nil
}

// Kinesalite starts a Kinesis-compatible server.
func Kinesalite(t testing.TB) *Server {
	// kinesalite's command line cannot choose the address, so its module is
	// started from node with an explicit loopback listen.
	root, err := toolsRoot()
	if err != nil {
		t.Fatal(err)
	}
	script := `const k = require(process.argv[1]);
k({createStreamMs: 0, deleteStreamMs: 0, updateStreamMs: 0, shardLimit: 50}).listen(+process.argv[2], "127.0.0.1");`
	return Start(t, Spec{Name: "kinesalite", Binary: "node", Args: func(p int) []string {
		return []string{"-e", script, filepath.Join(root, "node_modules", "kinesalite"), strconv.Itoa(p)}
	}, Ready: httpAnswers})
}

// Dynalite starts a DynamoDB-compatible server (it has no Streams API).
func Dynalite(t testing.TB) *Server {
	return Start(t, Spec{Name: "dynalite", Binary: "dynalite", Args: func(p int) []string {
		return []string{"--port", strconv.Itoa(p), "--host", "127.0.0.1", "--createTableMs", "0", "--deleteTableMs", "0", "--updateTableMs", "0"}
	}, Ready: httpAnswers})
}

// S3rver starts an S3-compatible server storing into a temporary directory.
// Clients must use path-style addressing.
func S3rver(t testing.TB) *Server {
	dir := t.TempDir()
	return Start(t, Spec{Name: "s3rver", Binary: "s3rver", Args: func(p int) []string {
		return []string{"--directory", dir, "--port", strconv.Itoa(p), "--address", "127.0.0.1", "--silent"}
	}, Ready: httpAnswers})
}

func httpAnswers(url string) bool {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return false
	}
	resp.Body.Close()
	return true
}

func portOpen(port int) bool {
	c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", port), 200*time.Millisecond)
	if err != nil {
		return false
	}
	c.Close()
	return true
}

// FreePort asks the kernel for an unused loopback port.
func FreePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("free port: %v", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// ToolsDirEnv, when set, names the directory whose node_modules and .bin
// hold the stand-ins, instead of the module root: `make mutation` runs the
// tests in copies of the module that have neither.
const ToolsDirEnv = "LOCALSERVER_TOOLS_DIR"

func toolsRoot() (string, error) {
	if dir := os.Getenv(ToolsDirEnv); dir != "" {
		return dir, nil
	}
	return ModuleRoot()
}

// Resolve finds a stand-in's binary: node_modules/.bin and .bin/ of the
// module root (or ToolsDirEnv) first, then PATH.
func Resolve(name string) (string, error) {
	if root, err := toolsRoot(); err == nil {
		for _, dir := range []string{filepath.Join(root, "node_modules", ".bin"), filepath.Join(root, ".bin")} {
			p := filepath.Join(dir, name)
			if st, err := os.Stat(p); err == nil && !st.IsDir() {
				return p, nil
			}
		}
	}
	p, err := exec.LookPath(name)
	if err != nil {
		return "", fmt.Errorf("%s not found in node_modules/.bin, .bin or PATH", name)
	}
	return p, nil
}

// ModuleRoot is the directory with go.mod, found upwards from the working directory.
func ModuleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("no go.mod above %s", dir)
		}
		dir = parent
	}
}

type lockedBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	// A long-running server's output is kept to its first MiB, which holds
	// the start-up and the first failures; later output is dropped.
	if l.b.Len() > 1<<20 {
		return len(p), nil
	}
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
