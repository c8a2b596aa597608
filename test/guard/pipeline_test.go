//go:build guard

// The pipeline's templates against the Control Tower proactive controls.
// It synthesizes the whole app through the CDK CLI, which takes a while, so
// it is behind the "guard" build tag: `make guard` (part of `make test`)
// runs it, a plain `go test ./...` does not.
package guard

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// variant is one synthesis of the app, with context as `-c` gives it.
type variant struct {
	name    string
	context []string
}

// synths are the app's variants the controls run over. With the optional
// publisher stack on, its template is checked too (switching it on changes
// no other template). removalPolicy=destroy (throwaway environments) adds
// the CDK's auto-delete custom resource to the storage stack.
var synths = []variant{
	{"default", []string{"publisherInstance=true"}},
	{"destroy", []string{"publisherInstance=true", "removalPolicy=destroy"}},
}

// synthesize runs the CDK CLI as `make synth` does into a temporary
// cloud assembly and returns its templates.
func synthesize(t *testing.T, v variant) []string {
	t.Helper()
	abs, _ := filepath.Abs(filepath.Join(t.TempDir(), "cdk.out"))
	args := []string{"synth", "--quiet", "--no-notices", "--no-version-reporting", "-o", abs}
	for _, c := range v.context {
		args = append(args, "-c", c)
	}
	cdk := exec.Command(filepath.Join("node_modules", ".bin", "cdk"), args...)
	cdk.Dir = root
	cdk.Env = append(os.Environ(),
		"JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION=20",
		"AWS_EC2_METADATA_DISABLED=true",
		"CDK_DISABLE_CLI_TELEMETRY=true",
	)
	if msg, err := cdk.CombinedOutput(); err != nil {
		t.Fatalf("cdk synth (%s): %v\n%s", v.name, err, msg)
	}
	templates, err := Templates(abs)
	if err != nil || len(templates) == 0 {
		t.Fatalf("no templates in %s: %v", abs, err)
	}
	return templates
}

func TestPipelinePassesControlTowerRules(t *testing.T) {
	bin, err := Binary(root)
	if err != nil {
		t.Fatal(err)
	}
	exemptions, err := LoadExemptions("exemptions.json")
	if err != nil {
		t.Fatal(err)
	}
	var findings []Finding
	seen := map[Finding]bool{}
	checked := 0
	for _, variant := range synths {
		templates := synthesize(t, variant)
		checked += len(templates)
		found, err := Validate(bin, Rules(root), templates)
		if err != nil {
			t.Fatal(err)
		}
		// A resource failing a control in both variants is one finding.
		for _, f := range found {
			if !seen[f] {
				seen[f] = true
				findings = append(findings, f)
			}
		}
	}
	open, stale := Apply(findings, exemptions)
	if len(open) > 0 {
		var b strings.Builder
		for _, f := range open {
			b.WriteString(f.String() + "\n")
		}
		t.Errorf("%d Control Tower findings in %d templates (fix the resource, or add a narrowly scoped exemption with its reason to test/guard/exemptions.json):\n%s",
			len(open), checked, b.String())
	}
	for _, e := range stale {
		t.Errorf("stale exemption (nothing fails %s on %s/%s any more; delete it from test/guard/exemptions.json)", e.Control, e.Template, e.Resource())
	}
	t.Logf("%d templates checked, %d findings, %d exempted", checked, len(findings), len(findings)-len(open))
}
