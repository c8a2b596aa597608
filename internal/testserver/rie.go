package testserver

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"
)

// Lambda is a function binary running under the Lambda Runtime Interface
// Emulator, invoked over HTTP as the Lambda service would.
type Lambda struct{ *Server }

// BuildHostBinary compiles pkg (relative to the module root) for this
// machine, since the emulator runs the binary here rather than on arm64.
func BuildHostBinary(t testing.TB, pkg string) string {
	t.Helper()
	root, err := ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "bootstrap")
	cmd := exec.Command("go", "build", "-trimpath", "-tags", "lambda.norpc", "-o", out, "./"+filepath.ToSlash(pkg))
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if msg, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("building %s: %v\n%s", pkg, err, msg)
	}
	return out
}

// RIE starts bootstrap under aws-lambda-rie with env added to its environment.
func RIE(t testing.TB, bootstrap string, env ...string) *Lambda {
	t.Helper()
	s := Start(t, Spec{
		Name: "aws-lambda-rie", Binary: "aws-lambda-rie", ExtraPorts: 1,
		ArgsExtra: func(port int, extra []int) []string {
			return []string{
				"--runtime-interface-emulator-address", "127.0.0.1:" + strconv.Itoa(port),
				"--runtime-api-address", "127.0.0.1:" + strconv.Itoa(extra[0]),
				bootstrap,
			}
		},
		Env: append([]string{
			"AWS_LAMBDA_FUNCTION_NAME=test-function", "AWS_LAMBDA_FUNCTION_TIMEOUT=30",
			"AWS_REGION=us-east-1", "AWS_ACCESS_KEY_ID=test", "AWS_SECRET_ACCESS_KEY=test",
		}, env...),
	})
	return &Lambda{Server: s}
}

// Invoke sends one event and returns the function's response body.
func (l *Lambda) Invoke(event []byte) ([]byte, error) {
	client := &http.Client{Timeout: 60 * time.Second}
	resp, err := client.Post(l.URL+"/2015-03-31/functions/function/invocations", "application/json", bytes.NewReader(event))
	if err != nil {
		return nil, fmt.Errorf("invoking through the emulator: %w; emulator output:\n%s", err, l.Output())
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return body, fmt.Errorf("emulator answered %s: %s", resp.Status, body)
	}
	return body, nil
}
