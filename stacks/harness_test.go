package stacks

import (
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/jsii-runtime-go"
)

// Synthesizing through jsii costs seconds, so the template tests share one
// pipeline built from the code's defaults with Lambda bundling skipped; the
// few tests that need other settings build their own (newPipeline).

type sharedBuild struct {
	once     sync.Once
	pipeline *Pipeline
	err      any
}

var (
	sharedMu     sync.Mutex
	sharedBuilds = map[string]*sharedBuild{}
)

// sharedPipeline builds the pipeline with overrides once per name and hands
// the same one to every test that asks for that name.
func sharedPipeline(t *testing.T, name string, overrides map[string]any) *Pipeline {
	t.Helper()
	sharedMu.Lock()
	b := sharedBuilds[name]
	if b == nil {
		b = &sharedBuild{}
		sharedBuilds[name] = b
	}
	sharedMu.Unlock()
	b.once.Do(func() {
		defer func() { b.err = recover() }()
		b.pipeline = buildPipeline(overrides, false)
	})
	if b.err != nil {
		t.Fatalf("building the %s pipeline: %v", name, b.err)
	}
	return b.pipeline
}

// defaultPipeline is the pipeline with the default config and cdk-nag on.
func defaultPipeline(t *testing.T) *Pipeline {
	t.Helper()
	return sharedPipeline(t, "default", nil)
}

// newPipeline builds a pipeline with context overrides (as `-c key=value` would).
func newPipeline(t *testing.T, overrides map[string]any) *Pipeline {
	t.Helper()
	var p *Pipeline
	noPanic(t, "building the pipeline", func() { p = buildPipeline(overrides, false) })
	return p
}

// buildPipeline reads cdk.json like the CLI does, applies overrides and
// defines every stack; bundle=false skips building the Go Lambdas.
func buildPipeline(overrides map[string]any, bundle bool) *Pipeline {
	app := newApp(overrides, bundle)
	cfg, err := LoadConfig(app, "..")
	if err != nil {
		panic(err)
	}
	p := NewPipeline(app, PipelineProps{Config: cfg})
	AddChecks(app)
	return p
}

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

// templateOf synthesizes one stack's template.
func templateOf(t *testing.T, stack awscdk.Stack) assertions.Template {
	t.Helper()
	var tmpl assertions.Template
	noPanic(t, "synthesizing "+*stack.StackName(), func() { tmpl = assertions.Template_FromStack(stack, nil) })
	return tmpl
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

func compact(v any) string {
	b, _ := json.Marshal(v)
	s := string(b)
	if len(s) > 300 {
		s = s[:300] + "…"
	}
	return strings.ReplaceAll(s, `"`, "'")
}
