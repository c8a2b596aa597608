package stacks

import (
	"encoding/json"
	"fmt"
	"os"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/jsii-runtime-go"
	"github.com/orders-pipeline/orders-pipeline/internal/construct/nag"
)

// The tests' one harness. Synthesizing through jsii costs seconds, so the
// template tests share a few pipelines, each built once with Lambda
// bundling skipped (variant), and every stack is synthesized once
// (templateOf, templatesOf). A test that needs other settings builds its
// own pipeline (newPipeline).

// variants are the shared pipelines by name, as context overrides (what
// `-c key=value` would set).
var variantOverrides = map[string]map[string]any{
	"default": nil,
	// everything switches on every optional part of the pipeline: the
	// publisher stack, the continuous loop with its schedules, subscribers.
	"everything": everythingOn,
	// acme moves every naming and ingestion setting off its default.
	"acme": {
		"resourcePrefix": "acme-", "bucketNameSuffix": "eu1",
		"streamMode": "on-demand", "streamRetentionHours": 48,
		"transformerBufferSizeMiB": 1, "transformerBufferIntervalSeconds": 10, "runIdCacheSeconds": 3,
		"triggerMode": "continuous", "redshiftDailyUsageLimitRpuHours": "52",
	},
}

var everythingOn = map[string]any{
	"publisherInstance":               "true",
	"triggerMode":                     "continuous",
	"continuousLoopEnableCron":        "cron(0 6 ? * MON-FRI *)",
	"continuousLoopDisableCron":       "cron(0 18 ? * MON-FRI *)",
	"continuousLoopTimezone":          "Europe/Paris",
	"redshiftDailyUsageLimitRpuHours": "200",
	"successEmails":                   "data@example.com",
	"failureEmails":                   "data@example.com",
	"operationsEmails":                "oncall@example.com",
}

type sharedBuild struct {
	once     sync.Once
	pipeline *Pipeline
	err      any
}

var (
	sharedMu     sync.Mutex
	sharedBuilds = map[string]*sharedBuild{}
)

// variant builds the named shared pipeline once and hands the same one to
// every test that asks for it.
func variant(t *testing.T, name string) *Pipeline {
	t.Helper()
	overrides, ok := variantOverrides[name]
	if !ok {
		t.Fatalf("no pipeline variant %q", name)
	}
	sharedMu.Lock()
	b := sharedBuilds[name]
	if b == nil {
		b = &sharedBuild{}
		sharedBuilds[name] = b
	}
	sharedMu.Unlock()
	b.once.Do(func() {
		defer func() { b.err = recover() }()
		b.pipeline = buildPipeline(overrides, false, nil)
	})
	if b.err != nil {
		t.Fatalf("building the %s pipeline: %v", name, b.err)
	}
	return b.pipeline
}

// defaultPipeline is the pipeline with the default config and cdk-nag on.
func defaultPipeline(t *testing.T) *Pipeline {
	t.Helper()
	return variant(t, "default")
}

// newPipeline builds a pipeline of its own with context overrides.
func newPipeline(t *testing.T, overrides map[string]any) *Pipeline {
	t.Helper()
	return newPipelineIn(t, overrides, nil)
}

// newPipelineIn builds a pipeline of its own for an account and region.
func newPipelineIn(t *testing.T, overrides map[string]any, env *awscdk.Environment) *Pipeline {
	t.Helper()
	var p *Pipeline
	noPanic(t, "building the pipeline", func() { p = buildPipeline(overrides, false, env) })
	return p
}

// buildPipeline reads cdk.json like the CLI does, applies overrides and
// defines every stack with cdk-nag's checks, as main.go does;
// bundle=false skips building the Go Lambdas.
func buildPipeline(overrides map[string]any, bundle bool, env *awscdk.Environment) *Pipeline {
	app := newApp(overrides, bundle)
	cfg, err := LoadConfig(app, "..")
	if err != nil {
		panic(err)
	}
	p := NewPipeline(app, PipelineProps{Config: cfg, Env: env})
	nag.AddChecks(app)
	return p
}

// newApp is an app with cdk.json's context and overrides.
func newApp(overrides map[string]any, bundle bool) awscdk.App {
	ctx, err := ReadCDKJSONContext("../cdk.json")
	if err != nil {
		panic(err)
	}
	for k, v := range overrides {
		ctx[k] = v
	}
	if !bundle {
		ctx["aws:cdk:bundling-stacks"] = []any{}
	}
	return awscdk.NewApp(&awscdk.AppProps{Context: &ctx, AnalyticsReporting: jsii.Bool(false)})
}

func allStacks(p *Pipeline) []awscdk.Stack {
	list := []awscdk.Stack{p.Storage.Stack, p.Warehouse.Stack, p.Ingestion.Stack, p.Orchestration.Stack, p.Audit.Stack, p.Operations.Stack}
	if p.Publisher != nil {
		list = append(list, p.Publisher.Stack)
	}
	return list
}

// noPanic turns a jsii panic (a failed assertion or synth error) into a test failure.
func noPanic(t *testing.T, what string, fn func()) {
	t.Helper()
	defer func() {
		if r := recover(); r != nil {
			t.Fatalf("%s: %v", what, r)
		}
	}()
	fn()
}

// synthesized is one stack's template, as the assertions library reads it
// and as plain JSON values.
type synthesized struct {
	tmpl assertions.Template
	json map[string]any
}

var (
	synthMu    sync.Mutex
	synthCache = map[awscdk.Stack]*synthesized{}
)

// synthesize synthesizes stack once; later calls return the same template.
func synthesize(t *testing.T, stack awscdk.Stack) *synthesized {
	t.Helper()
	synthMu.Lock()
	defer synthMu.Unlock()
	if s, ok := synthCache[stack]; ok {
		return s
	}
	s := &synthesized{}
	noPanic(t, "synthesizing "+*stack.StackName(), func() {
		s.tmpl = assertions.Template_FromStack(stack, nil)
		raw, _ := json.Marshal(s.tmpl.ToJSON())
		_ = json.Unmarshal(raw, &s.json)
	})
	synthCache[stack] = s
	return s
}

// templateOf is one stack's template.
func templateOf(t *testing.T, stack awscdk.Stack) assertions.Template {
	t.Helper()
	return synthesize(t, stack).tmpl
}

// appTemplates are one pipeline's templates by CloudFormation stack name,
// for the tests that check a class of defect over every resource of every
// template, whatever construct made it: they read the synthesized JSON,
// so a new alarm, job or rule is covered without a change to the test.
type appTemplates map[string]map[string]any

// templatesOf is every template of p.
func templatesOf(t *testing.T, p *Pipeline) appTemplates {
	t.Helper()
	all := appTemplates{}
	for _, stack := range allStacks(p) {
		all[*stack.StackName()] = synthesize(t, stack).json
	}
	return all
}

// variants are the pipelines the class tests run over: the defaults and
// everything on.
func variants(t *testing.T) map[string]appTemplates {
	t.Helper()
	return map[string]appTemplates{
		"default":    templatesOf(t, defaultPipeline(t)),
		"everything": templatesOf(t, variant(t, "everything")),
	}
}

// wantNoProblems runs a class check over the templates of each variant
// pipeline and fails for every pipeline it finds problems in.
func wantNoProblems(t *testing.T, check func(appTemplates) []string) {
	t.Helper()
	for name, all := range variants(t) {
		if problems := check(all); len(problems) > 0 {
			t.Errorf("%s pipeline:\n%s", name, describeProblems(problems))
		}
	}
}

// hasResource asserts a resource of type typ with (at least) props exists.
func hasResource(t *testing.T, tmpl assertions.Template, typ string, props any) {
	t.Helper()
	noPanic(t, typ+" with "+compact(props), func() { tmpl.HasResourceProperties(jsii.String(typ), props) })
}

// resourceCount asserts how many resources of type typ the template has.
func resourceCount(t *testing.T, tmpl assertions.Template, typ string, n int) {
	t.Helper()
	noPanic(t, fmt.Sprintf("%d × %s", n, typ), func() { tmpl.ResourceCountIs(jsii.String(typ), jsii.Number(float64(n))) })
}

// resources returns every resource of type typ as plain JSON values.
func resources(t *testing.T, tmpl assertions.Template, typ string) map[string]map[string]any {
	t.Helper()
	var out map[string]map[string]any
	noPanic(t, "finding "+typ, func() {
		found := tmpl.FindResources(jsii.String(typ), nil)
		raw, _ := json.Marshal(found)
		_ = json.Unmarshal(raw, &out)
	})
	return out
}

// only is the one resource of found.
func only(t *testing.T, found map[string]map[string]any) map[string]any {
	t.Helper()
	if len(found) != 1 {
		t.Fatalf("found %d resources, want 1", len(found))
	}
	for _, r := range found {
		return r
	}
	return nil
}

// props are a resource's properties.
func props(r map[string]any) map[string]any { return r["Properties"].(map[string]any) }

// resolved renders a token as the CloudFormation it becomes.
func resolved(stack awscdk.Stack, v *string) string {
	b, _ := json.Marshal(stack.Resolve(v))
	return string(b)
}

func logicalID(stack awscdk.Stack, c any) string {
	return *stack.GetLogicalId(c.(awscdk.CfnElement))
}

// nagFindings returns stack's unsuppressed cdk-nag errors and warnings.
func nagFindings(t *testing.T, stack awscdk.Stack) []string {
	t.Helper()
	var msgs []string
	noPanic(t, "reading cdk-nag's findings", func() { msgs = nag.Findings(stack) })
	return msgs
}

var reportPath = regexp.MustCompile(`found in: (\S+\.json)`)

// synthError synthesizes app and returns the error it panicked with and
// the validation report it points to, or "" when synth succeeds.
func synthError(app awscdk.App) (msg string) {
	defer func() {
		if r := recover(); r != nil {
			msg = fmt.Sprint(r)
			if m := reportPath.FindStringSubmatch(msg); m != nil {
				report, _ := os.ReadFile(m[1])
				msg += "\n" + string(report)
			}
		}
	}()
	app.Synth(nil)
	return ""
}

// grantsOf maps each allowed action of a policy document to its resource
// and condition, as JSON ("-" for no condition).
func grantsOf(doc any) map[string][]string {
	out := map[string][]string{}
	for _, s := range statements(doc) {
		resource, _ := json.Marshal(s["Resource"])
		condition := "-"
		if c, ok := s["Condition"]; ok {
			b, _ := json.Marshal(c)
			condition = string(b)
		}
		for _, a := range list(s["Action"]) {
			out[a.(string)] = []string{string(resource), condition}
		}
	}
	return out
}

func compact(v any) string {
	b, _ := json.Marshal(v)
	s := string(b)
	if len(s) > 300 {
		s = s[:300] + "…"
	}
	return strings.ReplaceAll(s, `"`, "'")
}

func sorted(s []string) []string {
	out := append([]string(nil), s...)
	sort.Strings(out)
	return out
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

// eachResource calls fn for every resource of every template, in a stable
// order.
func (all appTemplates) eachResource(fn func(stack, id string, r map[string]any)) {
	for _, stack := range all.sortedStacks() {
		res := all.resourcesIn(stack)
		for _, id := range sortedKeys(res) {
			fn(stack, id, res[id])
		}
	}
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

// asStrings is a policy field's strings, one value or a list of them.
func asStrings(v any) []string {
	var out []string
	for _, e := range list(v) {
		out = append(out, render(e))
	}
	return out
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
	all.eachResource(func(stack, id string, r map[string]any) {
		p, _ := r["Properties"].(map[string]any)
		key, v, ok := physicalName(r["Type"].(string), p)
		if !ok {
			return
		}
		name := all.renderName(stack, v)
		if r["Type"] == "AWS::Glue::Table" {
			name = all.renderName(stack, p["DatabaseName"]) + "." + name
		}
		policy, _ := r["DeletionPolicy"].(string)
		out = append(out, namedResource{ref: resourceRef{stack, id}, typ: r["Type"].(string), key: key, name: name, retention: policy})
	})
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
