//go:build guard

package guard

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// cfn-lint, CloudFormation's own template linter, pinned in
// requirements.txt, over the templates of the defaults and of every
// variant the guard run checks. An error or a warning fails; a rule is
// waived only in .cfnlintrc.yaml, with its reason.

const cfnLintConfig = ".cfnlintrc.yaml"

func cfnLint(t *testing.T, templates ...string) (string, error) {
	t.Helper()
	bin := filepath.Join(root, ".venv", "bin", "cfn-lint")
	if _, err := os.Stat(bin); err != nil {
		t.Fatalf("cfn-lint not found (run `make python-tools`): %v", err)
	}
	args := append([]string{"--config-file", filepath.Join(root, cfnLintConfig), "--format", "parseable"}, templates...)
	out, err := exec.Command(bin, args...).CombinedOutput()
	return string(out), err
}

func TestTemplatesPassCfnLint(t *testing.T) {
	for _, v := range append([]variant{{"defaults", nil}}, synths...) {
		templates := synthesize(t, v)
		if out, err := cfnLint(t, templates...); err != nil {
			t.Errorf("cfn-lint (%s, %d templates): %v\n%s", v.name, len(templates), err, out)
		}
	}
}

// The run must fail on a real finding, or passing proves nothing.
func TestCfnLintReportsABadTemplate(t *testing.T) {
	path := filepath.Join(t.TempDir(), "Bad.template.json")
	writeFile(t, path, `{"Resources": {"Queue": {"Type": "AWS::SQS::Queue", "Properties": {"VisibilityTimeout": "soon", "NoSuchProperty": 1}}}}`)
	out, err := cfnLint(t, path)
	if err == nil || !strings.Contains(out, "NoSuchProperty") {
		t.Fatalf("cfn-lint passed a template with a bad property: %v\n%s", err, out)
	}
}

// Every waived rule carries its reason: a comment right above it.
func TestEveryWaivedCfnLintRuleSaysWhy(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(root, cfnLintConfig))
	if err != nil {
		t.Fatal(err)
	}
	rule := regexp.MustCompile(`^\s*-\s*([EWI]\d{4})\s*$`)
	lines := strings.Split(string(data), "\n")
	for i, line := range lines {
		m := rule.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		if i == 0 || !strings.HasPrefix(strings.TrimSpace(lines[i-1]), "#") || len(strings.TrimSpace(lines[i-1])) < 40 {
			t.Errorf("%s: %s is waived without a reason in a comment above it", cfnLintConfig, m[1])
		}
		if strings.HasPrefix(m[1], "E") {
			t.Errorf("%s: %s is an error; errors are fixed, never waived", cfnLintConfig, m[1])
		}
	}
}
