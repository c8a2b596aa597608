// Package cli checks that every Makefile target wrapping the CDK CLI passes
// options the pinned CLI knows. The CLI does not reject an unknown option:
// it warns and ignores it, so `cdk diff --all` ran as a plain diff with a
// warning nobody read. Here each target's exact command line runs against
// an empty cloud assembly, which takes the CLI through its own option
// parsing (yargs, with its choices) and its unknown-option check to the
// point where it selects stacks, and stops there: no AWS call, no
// credentials. It proves the flags are accepted, not that a deploy, diff or
// destroy against an account succeeds.
package cli

import (
	"bufio"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

const root = "../.."

// cliBinary is how the Makefile's recipes start once make expands $(CDK).
const cliBinary = "node_modules/.bin/cdk"

// cliTargets are the Makefile targets whose recipe runs $(CDK): adding one
// adds it to the test.
func cliTargets(t *testing.T) []string {
	t.Helper()
	f, err := os.Open(filepath.Join(root, "Makefile"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	targetRe := regexp.MustCompile(`^([A-Za-z0-9_-]+):`)
	var targets []string
	current := ""
	s := bufio.NewScanner(f)
	for s.Scan() {
		line := s.Text()
		if m := targetRe.FindStringSubmatch(line); m != nil {
			current = m[1]
			continue
		}
		if strings.HasPrefix(line, "\t") && strings.Contains(line, "$(CDK)") && current != "" {
			if len(targets) == 0 || targets[len(targets)-1] != current {
				targets = append(targets, current)
			}
		}
	}
	return targets
}

// commandsOf expands a target's recipe as make would run it.
func commandsOf(t *testing.T, target string) [][]string {
	t.Helper()
	cmd := exec.Command("make", "-n", "--no-print-directory", target)
	cmd.Dir = root
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("make -n %s: %v\n%s", target, err, out)
	}
	var cmds [][]string
	for _, line := range strings.Split(string(out), "\n") {
		if strings.HasPrefix(line, cliBinary+" ") {
			cmds = append(cmds, strings.Fields(line)[1:])
		}
	}
	return cmds
}

// emptyAssembly writes a cloud assembly without stacks, of the schema
// version the CLI expects.
func emptyAssembly(t *testing.T) string {
	t.Helper()
	if _, err := os.Stat(filepath.Join(root, cliBinary)); err != nil {
		t.Fatalf("the CDK CLI is not installed (run `make node-tools`): %v", err)
	}
	dir := t.TempDir()
	manifest, _ := json.Marshal(map[string]any{"version": "55.0.0", "artifacts": map[string]any{}})
	if err := os.WriteFile(filepath.Join(dir, "manifest.json"), manifest, 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

// reachesStackSelection is what the CLI says once it has accepted the
// command line and looks at an app without stacks.
const reachesStackSelection = "This app contains no stacks"

// cliProblem runs the CLI with args against the assembly and says what
// is wrong with them, or "".
func cliProblem(t *testing.T, assembly string, args []string) string {
	t.Helper()
	// --no-notices keeps the CLI from fetching its notices over the network.
	full := append(append([]string{}, args...), "--app", assembly, "--no-notices")
	bin, err := filepath.Abs(filepath.Join(root, cliBinary))
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, full...)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION=20", "AWS_EC2_METADATA_DISABLED=true",
		"CDK_DISABLE_CLI_TELEMETRY=true", "AWS_ACCESS_KEY_ID=", "AWS_SECRET_ACCESS_KEY=", "AWS_PROFILE=")
	out, _ := cmd.CombinedOutput()
	text := string(out)
	for _, line := range strings.Split(text, "\n") {
		if strings.Contains(line, "Unknown option") || strings.Contains(line, "Invalid values") || strings.Contains(line, "Unknown argument") {
			return strings.TrimSpace(line)
		}
	}
	if !strings.Contains(text, reachesStackSelection) {
		return "the CLI stopped before selecting stacks:\n" + text
	}
	return ""
}

func TestEveryMakefileCLITargetUsesOptionsTheCLIAccepts(t *testing.T) {
	targets := cliTargets(t)
	for _, want := range []string{"synth", "deploy", "diff", "destroy"} {
		if !strings.Contains(" "+strings.Join(targets, " ")+" ", " "+want+" ") {
			t.Errorf("no Makefile target %q runs $(CDK); found %v", want, targets)
		}
	}
	assembly := emptyAssembly(t)
	for _, target := range targets {
		cmds := commandsOf(t, target)
		if len(cmds) == 0 {
			t.Errorf("make -n %s runs no %s command", target, cliBinary)
		}
		for _, args := range cmds {
			if p := cliProblem(t, assembly, args); p != "" {
				t.Errorf("make %s: cdk %s: %s", target, strings.Join(args, " "), p)
			}
		}
	}
}

// The check must catch what broke `make diff`, and a bad choice.
func TestCLICheckRejectsUnknownOptionsAndChoices(t *testing.T) {
	assembly := emptyAssembly(t)
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"diff", "--all"}, "Unknown option(s): --all"},
		{[]string{"deploy", "--all", "--require-approval", "sometimes"}, "Invalid values"},
	} {
		if p := cliProblem(t, assembly, c.args); !strings.Contains(p, c.want) {
			t.Errorf("cdk %s: got %q, want a problem with %q", strings.Join(c.args, " "), p, c.want)
		}
	}
}
