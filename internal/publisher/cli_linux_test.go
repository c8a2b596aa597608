package publisher

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http/httptest"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"
	"unsafe"
)

// openPTY opens a pseudo-terminal: the command writes to the terminal,
// the test reads what it showed from the controller.
func openPTY(t *testing.T) (controller, terminal *os.File) {
	t.Helper()
	controller, err := os.OpenFile("/dev/ptmx", os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Skipf("no pseudo-terminals here: %v", err)
	}
	var unlock int32
	if _, _, errno := syscall.Syscall(syscall.SYS_IOCTL, controller.Fd(), syscall.TIOCSPTLCK, uintptr(unsafe.Pointer(&unlock))); errno != 0 {
		t.Fatalf("unlocking the terminal: %v", errno)
	}
	var n uint32
	if _, _, errno := syscall.Syscall(syscall.SYS_IOCTL, controller.Fd(), syscall.TIOCGPTN, uintptr(unsafe.Pointer(&n))); errno != 0 {
		t.Fatalf("naming the terminal: %v", errno)
	}
	terminal, err = os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Fatalf("opening the terminal: %v", err)
	}
	return controller, terminal
}

// On a terminal --progress auto draws the bar, and --progress never keeps
// to the status lines it prints everywhere else.
func TestProgressOnATerminalFollowsTheProgressFlag(t *testing.T) {
	srv := httptest.NewServer(&stubAWS{})
	t.Cleanup(srv.Close)
	for k, v := range map[string]string{
		"AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test", "AWS_SESSION_TOKEN": "",
		"AWS_REGION": "eu-west-1", "AWS_PROFILE": "", "AWS_CONFIG_FILE": "/nonexistent",
		"AWS_SHARED_CREDENTIALS_FILE": "/nonexistent", "AWS_EC2_METADATA_DISABLED": "true",
		"AWS_ENDPOINT_URL": srv.URL, "AWS_ENDPOINT_URL_KINESIS": "", "AWS_ENDPOINT_URL_S3": "",
	} {
		t.Setenv(k, v)
	}
	for _, c := range []struct {
		progress, want string
	}{
		{"auto", "\r[##############################] 3/3 records"},
		{"never", "\nsent 3/3 records"},
	} {
		t.Run(c.progress, func(t *testing.T) {
			controller, terminal := openPTY(t)
			shown := make(chan string)
			go func() {
				var b bytes.Buffer
				io.Copy(&b, controller) // ends with EIO once the terminal is closed
				shown <- b.String()
			}()
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			var out bytes.Buffer
			code := Run(ctx, []string{"--stream", "orders", "--bucket", "landing", "--s3-path-style", "--count", "3",
				"--batch-id", "tty", "--progress", c.progress}, nil, &out, terminal)
			terminal.Close()
			got := <-shown
			controller.Close()
			if code != ExitOK {
				t.Fatalf("exit %d: %s", code, got)
			}
			// The terminal turns each "\n" into "\r\n".
			got = strings.ReplaceAll(got, "\r\n", "\n")
			if !strings.Contains(got, c.want) {
				t.Fatalf("the terminal showed %q, want %q in it", got, c.want)
			}
			if c.progress == "never" && strings.Contains(got, "[") {
				t.Fatalf("a bar despite --progress never: %q", got)
			}
		})
	}
}
