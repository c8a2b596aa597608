// Package guard runs the AWS Control Tower proactive controls shipped in the
// npm package @cdklabs/cdk-validator-cfnguard (a static cfn-guard binary and
// its rule files) over synthesized templates, and matches the findings
// against the checked-in exemptions.
package guard

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"sort"
	"strings"
)

// Package is where npm installs the validator, relative to the repository root.
const Package = "node_modules/@cdklabs/cdk-validator-cfnguard"

// Binary is the package's cfn-guard for this machine.
func Binary(root string) (string, error) {
	osDir := map[string]string{"linux": "ubuntu", "darwin": "macos"}[runtime.GOOS]
	arch := map[string]string{"amd64": "x86_64", "arm64": "aarch64"}[runtime.GOARCH]
	if osDir == "" || arch == "" {
		return "", fmt.Errorf("the validator ships no cfn-guard for %s/%s", runtime.GOOS, runtime.GOARCH)
	}
	bin := filepath.Join(root, Package, "bin", osDir, arch, "cfn-guard")
	if _, err := os.Stat(bin); err != nil {
		return "", fmt.Errorf("cfn-guard not found (run `make node-tools`): %w", err)
	}
	return bin, nil
}

// Rules is the directory of the Control Tower rule files.
func Rules(root string) string {
	return filepath.Join(root, Package, "rules", "control-tower", "cfn-guard")
}

// Finding is one resource that fails one control.
type Finding struct {
	Template     string // the stack's artifact id, e.g. "Warehouse"
	Control      string // e.g. "CT.LAMBDA.PR.3"
	LogicalID    string // "" when the control failed the template as a whole
	Path         string // the resource's construct path (aws:cdk:path), "" when the template has none
	ResourceType string
	Message      string // the control's description and fix
}

func (f Finding) String() string {
	id := f.LogicalID
	if id == "" {
		id = "(template)"
	}
	return fmt.Sprintf("%s %s %s (%s)\n    %s", f.Control, f.Template, id, f.ResourceType, strings.ReplaceAll(f.Message, "\n", "\n    "))
}

// Validate runs every rule over every template and returns the findings,
// sorted and without duplicates.
func Validate(bin, rules string, templates []string) ([]Finding, error) {
	if len(templates) == 0 {
		return nil, errors.New("no templates to validate")
	}
	args := []string{"validate", "--rules", rules, "--output-format", "json", "--show-summary", "none", "--structured"}
	for _, t := range templates {
		args = append(args, "--data", t)
	}
	var stdout, stderr bytes.Buffer
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	// cfn-guard exits 19 (or 5) when rules fail; anything else is an error of the run.
	var exit *exec.ExitError
	if err != nil && !(errors.As(err, &exit) && (exit.ExitCode() == 19 || exit.ExitCode() == 5)) {
		return nil, fmt.Errorf("cfn-guard: %v\n%s", err, stderr.String())
	}
	var files []struct {
		Name         string            `json:"name"`
		NotCompliant []json.RawMessage `json:"not_compliant"`
	}
	if err := json.Unmarshal(stdout.Bytes(), &files); err != nil {
		return nil, fmt.Errorf("reading cfn-guard's report: %w\n%s", err, stderr.String())
	}
	seen := map[Finding]bool{}
	var out []Finding
	for _, f := range files {
		types, paths, err := resourceTypes(f.Name)
		if err != nil {
			return nil, err
		}
		name := strings.TrimSuffix(filepath.Base(f.Name), ".template.json")
		for _, raw := range f.NotCompliant {
			var tree any
			if err := json.Unmarshal(raw, &tree); err != nil {
				return nil, err
			}
			hits := walk(tree, "", "")
			if len(hits) == 0 {
				// A failure that names no resource failed the template itself.
				raw := string(raw)
				c := controlRe.FindStringSubmatch(raw)
				if c == nil {
					return nil, fmt.Errorf("%s: a failed rule names no Control Tower control: %.500s", f.Name, raw)
				}
				hits = []hit{{control: c[1], message: c[1]}}
			}
			for _, hit := range hits {
				fd := Finding{Template: name, Control: hit.control, LogicalID: hit.logicalID, Path: paths[hit.logicalID], ResourceType: types[hit.logicalID], Message: hit.message}
				if !seen[fd] {
					seen[fd] = true
					out = append(out, fd)
				}
			}
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].String() < out[j].String() })
	return out, nil
}

var (
	controlRe  = regexp.MustCompile(`\[(CT\.[A-Z0-9]+\.PR\.\d+)\]`)
	resourceRe = regexp.MustCompile(`^/Resources/([^/]+)`)
)

type hit struct{ control, logicalID, message string }

// walk collects the resources a failed rule traversed to. cfn-guard's report
// nests rules, clauses and values differently per rule; what every failure
// has is the control's message on an enclosing rule and a "path" into the
// template on the failing value.
func walk(node any, control, message string) []hit {
	var hits []hit
	switch n := node.(type) {
	case map[string]any:
		if msgs, ok := n["messages"].(map[string]any); ok {
			if m, ok := msgs["custom_message"].(string); ok {
				if c := controlRe.FindStringSubmatch(m); c != nil {
					control, message = c[1], tidy(m)
				}
			}
		}
		if p, ok := n["path"].(string); ok && control != "" {
			if m := resourceRe.FindStringSubmatch(p); m != nil {
				hits = append(hits, hit{control, m[1], message})
			}
		}
		keys := make([]string, 0, len(n))
		for k := range n {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			hits = append(hits, walk(n[k], control, message)...)
		}
	case []any:
		for _, v := range n {
			hits = append(hits, walk(v, control, message)...)
		}
	}
	return hits
}

func tidy(m string) string {
	var lines []string
	for _, l := range strings.Split(m, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			lines = append(lines, l)
		}
	}
	return strings.Join(lines, "\n")
}

// resourceTypes returns each resource's type and construct path by logical id.
func resourceTypes(template string) (types, paths map[string]string, err error) {
	data, err := os.ReadFile(template)
	if err != nil {
		return nil, nil, err
	}
	var doc struct {
		Resources map[string]struct {
			Type     string
			Metadata struct {
				Path string `json:"aws:cdk:path"`
			}
		} `json:"Resources"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		return nil, nil, fmt.Errorf("%s: %w", template, err)
	}
	types, paths = map[string]string{}, map[string]string{}
	for id, r := range doc.Resources {
		types[id], paths[id] = r.Type, r.Metadata.Path
	}
	return types, paths, nil
}

// Exemption waives one control for one resource of one template, for a
// written reason. The resource is named by its logical id or, where the id
// carries a hash that changes with the resource's content (an instance whose
// user data causes replacement), by its construct path.
type Exemption struct {
	Control      string `json:"control"`
	Template     string `json:"template"`
	ResourceType string `json:"resourceType"`
	LogicalID    string `json:"logicalId,omitempty"`
	Path         string `json:"path,omitempty"`
	Reason       string `json:"reason"`
}

// Resource is the logical id or construct path the exemption names.
func (e Exemption) Resource() string {
	if e.LogicalID != "" {
		return e.LogicalID
	}
	return e.Path
}

func (e Exemption) covers(f Finding) bool {
	if e.Control != f.Control || e.Template != f.Template || e.ResourceType != f.ResourceType {
		return false
	}
	if e.LogicalID != "" {
		return e.LogicalID == f.LogicalID
	}
	return e.Path == f.Path
}

// LoadExemptions reads and checks the exemptions file.
func LoadExemptions(path string) ([]Exemption, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var doc struct {
		Exemptions []Exemption `json:"exemptions"`
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&doc); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	var errs []error
	for i, e := range doc.Exemptions {
		if !controlRe.MatchString("["+e.Control+"]") || e.Template == "" || e.ResourceType == "" || (e.LogicalID == "") == (e.Path == "") {
			errs = append(errs, fmt.Errorf("%s: exemption %d must name a control (CT.X.PR.n), a template, a resource type and either a logical id or a construct path", path, i))
		}
		if strings.ContainsAny(e.Template+e.LogicalID+e.Path+e.ResourceType, "*?") {
			errs = append(errs, fmt.Errorf("%s: exemption %d: wildcards are not allowed, name the one resource", path, i))
		}
		if len(strings.Fields(e.Reason)) < 8 {
			errs = append(errs, fmt.Errorf("%s: exemption %d needs a written reason why the control does not fit this resource", path, i))
		}
	}
	return doc.Exemptions, errors.Join(errs...)
}

// Apply splits findings into those no exemption covers and returns the
// exemptions that matched nothing (stale ones must be deleted).
func Apply(findings []Finding, exemptions []Exemption) (open []Finding, stale []Exemption) {
	used := make([]bool, len(exemptions))
	for _, f := range findings {
		covered := false
		for i, e := range exemptions {
			if e.covers(f) {
				covered, used[i] = true, true
			}
		}
		if !covered {
			open = append(open, f)
		}
	}
	for i, e := range exemptions {
		if !used[i] {
			stale = append(stale, e)
		}
	}
	return open, stale
}

// Templates lists the stack templates of a cloud assembly directory.
func Templates(dir string) ([]string, error) {
	return filepath.Glob(filepath.Join(dir, "*.template.json"))
}
