package stacks

import (
	"encoding/json"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"
)

// Helpers for the tests that check a class of defect over every resource
// of every template, whatever construct made it: they read the
// synthesized JSON, so a new alarm, job or rule is covered without a
// change to the test.

// appTemplates are one pipeline's templates by CloudFormation stack name.
type appTemplates map[string]map[string]any

var (
	templatesMu    sync.Mutex
	templatesCache = map[*Pipeline]appTemplates{}
)

// templatesOf synthesizes every stack of p once.
func templatesOf(t *testing.T, p *Pipeline) appTemplates {
	t.Helper()
	templatesMu.Lock()
	defer templatesMu.Unlock()
	if all, ok := templatesCache[p]; ok {
		return all
	}
	all := appTemplates{}
	for _, stack := range allStacks(p) {
		all[*stack.StackName()] = templateJSON(t, templateOf(t, stack))
	}
	templatesCache[p] = all
	return all
}

// everythingOn switches on every optional part of the pipeline: the
// publisher stack, the continuous loop with its schedules, subscribers.
var everythingOn = map[string]any{
	"publisherInstance":               "true",
	"triggerMode":                     "continuous",
	"continuousLoopEnableCron":        "cron(0 6 ? * MON-FRI *)",
	"continuousLoopDisableCron":       "cron(0 18 ? * MON-FRI *)",
	"redshiftDailyUsageLimitRpuHours": "200",
	"successEmails":                   "data@example.com",
	"failureEmails":                   "data@example.com",
	"operationsEmails":                "oncall@example.com",
}

// variants are the pipelines the class tests run over: the defaults and
// everything on.
func variants(t *testing.T) map[string]appTemplates {
	t.Helper()
	return map[string]appTemplates{
		"default":    templatesOf(t, defaultPipeline(t)),
		"everything": templatesOf(t, sharedPipeline(t, "everything", everythingOn)),
	}
}

// sortedStacks lists the stack names of all in a stable order.
func (all appTemplates) sortedStacks() []string {
	return sortedKeys(all)
}

func (all appTemplates) resource(r resourceRef) map[string]any {
	res, _ := all[r.stack]["Resources"].(map[string]any)
	m, _ := res[r.id].(map[string]any)
	return m
}

func (all appTemplates) resourcesIn(stack string) map[string]map[string]any {
	out := map[string]map[string]any{}
	res, _ := all[stack]["Resources"].(map[string]any)
	for id, r := range res {
		out[id] = r.(map[string]any)
	}
	return out
}

// resourceRef names one resource of one template.
type resourceRef struct{ stack, id string }

func (r resourceRef) String() string { return r.stack + "/" + r.id }

// resolve follows a reference — Ref, Fn::GetAtt, Fn::GetStackOutput or
// Fn::ImportValue through the producer's outputs — to the resource it
// names. It fails on anything else (a literal ARN, say).
func (all appTemplates) resolve(stack string, v any) (resourceRef, bool) {
	m, ok := v.(map[string]any)
	if !ok || len(m) != 1 {
		return resourceRef{}, false
	}
	res, _ := all[stack]["Resources"].(map[string]any)
	if id, ok := m["Ref"].(string); ok {
		_, exists := res[id]
		return resourceRef{stack, id}, exists
	}
	if ga, ok := m["Fn::GetAtt"].([]any); ok && len(ga) == 2 {
		id, _ := ga[0].(string)
		_, exists := res[id]
		return resourceRef{stack, id}, exists
	}
	if so, ok := m["Fn::GetStackOutput"].(map[string]any); ok {
		producer, _ := so["StackName"].(string)
		name, _ := so["OutputName"].(string)
		out, _ := all[producer]["Outputs"].(map[string]any)
		if o, ok := out[name].(map[string]any); ok {
			return all.resolve(producer, o["Value"])
		}
		return resourceRef{}, false
	}
	if name, ok := m["Fn::ImportValue"]; ok {
		want := render(name)
		for _, producer := range all.sortedStacks() {
			out, _ := all[producer]["Outputs"].(map[string]any)
			for _, o := range out {
				o := o.(map[string]any)
				if exp, ok := o["Export"].(map[string]any); ok && render(exp["Name"]) == want {
					return all.resolve(producer, o["Value"])
				}
			}
		}
	}
	return resourceRef{}, false
}

// render writes a value as text: literals as they are, pseudo parameters
// and references as ${Name}, joins joined, anything else as JSON.
func render(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case map[string]any:
		if ref, ok := x["Ref"].(string); ok && len(x) == 1 {
			return "${" + ref + "}"
		}
		if j, ok := x["Fn::Join"].([]any); ok && len(j) == 2 {
			sep, _ := j[0].(string)
			parts, _ := j[1].([]any)
			out := make([]string, len(parts))
			for i, p := range parts {
				out[i] = render(p)
			}
			return strings.Join(out, sep)
		}
	}
	b, _ := json.Marshal(v)
	return string(b)
}

// list is a policy field that may be one value or a list of them.
func list(v any) []any {
	switch x := v.(type) {
	case nil:
		return nil
	case []any:
		return x
	}
	return []any{v}
}

// globMatch matches IAM-style wildcards (* and ?, across '/' and ':').
func globMatch(pattern, s string) bool {
	re := "^" + strings.NewReplacer(`\*`, ".*", `\?`, ".").Replace(regexp.QuoteMeta(pattern)) + "$"
	return regexp.MustCompile(re).MatchString(s)
}

// statements are the statements of a policy document.
func statements(doc any) []map[string]any {
	d, _ := doc.(map[string]any)
	var out []map[string]any
	for _, s := range list(d["Statement"]) {
		if m, ok := s.(map[string]any); ok {
			out = append(out, m)
		}
	}
	return out
}

// allowsAction reports whether an Allow statement grants action (its
// Action list may use wildcards).
func allowsAction(st map[string]any, action string) bool {
	if st["Effect"] != "Allow" {
		return false
	}
	for _, a := range list(st["Action"]) {
		if s, ok := a.(string); ok && globMatch(strings.ToLower(s), strings.ToLower(action)) {
			return true
		}
	}
	return false
}

// servicePrincipals are the service principals a statement names.
func servicePrincipals(st map[string]any) []string {
	p, _ := st["Principal"].(map[string]any)
	var out []string
	for _, s := range list(p["Service"]) {
		out = append(out, render(s))
	}
	return out
}

func namesService(st map[string]any, service string) bool {
	for _, s := range servicePrincipals(st) {
		if s == service {
			return true
		}
	}
	return false
}

// physicalName is a resource's own name, if the template sets one: the
// property "Name" or "<Type>Name" (FunctionName of AWS::Lambda::Function,
// BucketName of AWS::S3::Bucket, …), or the few that CloudFormation nests
// or names otherwise. A name that only identifies the resource inside
// another one (an IAM policy's name inside its role) is not a physical name.
func physicalName(typ string, props map[string]any) (key string, value any, ok bool) {
	switch typ {
	case "AWS::IAM::Policy":
		return "", nil, false
	case "AWS::Glue::Database":
		in, _ := props["DatabaseInput"].(map[string]any)
		v, ok := in["Name"]
		return "DatabaseInput.Name", v, ok
	case "AWS::Glue::Table":
		in, _ := props["TableInput"].(map[string]any)
		v, ok := in["Name"]
		return "TableInput.Name", v, ok
	case "AWS::EC2::SecurityGroup":
		v, ok := props["GroupName"]
		return "GroupName", v, ok
	}
	if strings.HasPrefix(typ, "Custom::") || typ == "AWS::CloudFormation::CustomResource" {
		return "", nil, false
	}
	parts := strings.Split(typ, "::")
	own := parts[len(parts)-1] + "Name"
	for _, k := range []string{own, "Name"} {
		if v, ok := props[k]; ok {
			return k, v, true
		}
	}
	return "", nil, false
}

// namedResource is one resource with an explicit physical name.
type namedResource struct {
	ref       resourceRef
	typ, key  string
	name      string // rendered, references resolved to names where known
	retention string // DeletionPolicy
}

// namedResources lists every resource of every template that sets its
// own physical name. A Glue table's name is only unique in its database,
// so the database's name is part of it.
func (all appTemplates) namedResources() []namedResource {
	var out []namedResource
	for _, stack := range all.sortedStacks() {
		res := all.resourcesIn(stack)
		for _, id := range sortedKeys(res) {
			r := res[id]
			p, _ := r["Properties"].(map[string]any)
			key, v, ok := physicalName(r["Type"].(string), p)
			if !ok {
				continue
			}
			name := all.renderName(stack, v)
			if r["Type"] == "AWS::Glue::Table" {
				name = all.renderName(stack, p["DatabaseName"]) + "." + name
			}
			policy, _ := r["DeletionPolicy"].(string)
			out = append(out, namedResource{ref: resourceRef{stack, id}, typ: r["Type"].(string), key: key, name: name, retention: policy})
		}
	}
	return out
}

// renderName renders a name, replacing a reference to another named
// resource by that resource's name.
func (all appTemplates) renderName(stack string, v any) string {
	if ref, ok := all.resolve(stack, v); ok {
		r := all.resource(ref)
		p, _ := r["Properties"].(map[string]any)
		if _, name, ok := physicalName(r["Type"].(string), p); ok {
			return all.renderName(ref.stack, name)
		}
		return "${" + ref.String() + "}"
	}
	return render(v)
}

func describeProblems(problems []string) string {
	sort.Strings(problems)
	return strings.Join(problems, "\n")
}

func errorf(problems *[]string, format string, args ...any) {
	*problems = append(*problems, fmt.Sprintf(format, args...))
}
