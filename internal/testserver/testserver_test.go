package testserver

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Each stand-in starts, answers on loopback, and is gone after Stop.
func TestStandInsStartAndStop(t *testing.T) {
	for name, start := range map[string]func(testing.TB) *Server{
		"kinesalite": Kinesalite, "dynalite": Dynalite, "s3rver": S3rver,
	} {
		t.Run(name, func(t *testing.T) {
			s := start(t)
			if !strings.HasPrefix(s.URL, "http://127.0.0.1:") {
				t.Fatalf("URL %q is not on loopback", s.URL)
			}
			resp, err := http.Get(s.URL)
			if err != nil {
				t.Fatalf("%s does not answer: %v", name, err)
			}
			resp.Body.Close()
			s.Stop()
			if portOpen(s.Port) {
				t.Fatalf("%s still listens on %d after Stop", name, s.Port)
			}
		})
	}
}

// A Go handler built for the host answers an invocation through the emulator.
func TestRIEInvokesAGoHandler(t *testing.T) {
	fn := RIE(t, BuildHostBinary(t, "internal/testserver/echofn"), "ECHO_ENV=from-test")
	out, err := fn.Invoke([]byte(`{"order_id":"o-1"}`))
	if err != nil {
		t.Fatal(err)
	}
	if got := string(out); !strings.Contains(got, `"order_id":"o-1"`) || !strings.Contains(got, `"env":"from-test"`) {
		t.Fatalf("unexpected response %s", got)
	}
}

// With LOCALSERVER_TOOLS_DIR set, the stand-ins come from there, not from
// the module root (a copy of the module without node_modules and .bin).
func TestToolsDirOverridesTheModuleRoot(t *testing.T) {
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, ".bin"), 0o755); err != nil {
		t.Fatal(err)
	}
	want := filepath.Join(dir, ".bin", "goaws")
	if err := os.WriteFile(want, nil, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv(ToolsDirEnv, dir)
	if got, err := Resolve("goaws"); err != nil || got != want {
		t.Fatalf("Resolve(goaws) = %q, %v; want %q", got, err, want)
	}
}
