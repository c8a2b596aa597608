package stacks

import (
	"debug/elf"
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	"github.com/aws/aws-cdk-go/awscdk/v2/cxapi"
	"github.com/aws/jsii-runtime-go"
	"github.com/orders-pipeline/orders-pipeline/internal/construct/nag"
)

func TestStackNamesFollowStageAndPrefix(t *testing.T) {
	p := defaultPipeline(t)
	if got := *p.Storage.Stack.StackName(); got != "orders-pipeline-dev-storage" {
		t.Fatalf("storage stack name = %q", got)
	}
	q := newPipeline(t, map[string]any{"stage": "prod", "resourcePrefix": "acme-"})
	if got := *q.Ingestion.Stack.StackName(); got != "acme-orders-pipeline-prod-ingestion" {
		t.Fatalf("ingestion stack name = %q", got)
	}
}

// Stateless stacks depend on the stateful ones, never the other way round,
// so a stateless stack can be destroyed and redeployed without touching data.
func TestStatefulStacksDependOnNothingStateless(t *testing.T) {
	p := defaultPipeline(t)
	for _, dep := range *p.Storage.Stack.Dependencies() {
		t.Errorf("storage stack depends on %s", *dep.StackName())
	}
	for _, dep := range *p.Warehouse.Stack.Dependencies() {
		if *dep.StackName() != *p.Storage.Stack.StackName() {
			t.Errorf("warehouse stack depends on %s", *dep.StackName())
		}
	}
}

// Every stack must be free of unsuppressed cdk-nag errors and warnings.
func TestNoUnsuppressedNagFindings(t *testing.T) {
	for _, stack := range allStacks(defaultPipeline(t)) {
		if msgs := nagFindings(t, stack); len(msgs) > 0 {
			t.Errorf("%s has cdk-nag findings:\n%s", *stack.StackName(), strings.Join(msgs, "\n"))
		}
	}
}

// A deploy targets a known account and region (main.go builds the stacks
// with an Env when the CLI resolved them from the credentials), which the
// templates name literally (arn:aws:logs:eu-west-1:123456789012:…) where
// an environment-agnostic synth has <AWS::Region> and the like. The
// suppressions must match there too, with every optional part switched on.
func TestNoUnsuppressedNagFindingsInAKnownEnvironment(t *testing.T) {
	overrides := map[string]any{"availability-zones:account=123456789012:region=eu-west-1": []any{"eu-west-1a", "eu-west-1b", "eu-west-1c"}}
	for k, v := range everythingOn {
		overrides[k] = v
	}
	p := newPipelineIn(t, overrides, &awscdk.Environment{Account: jsii.String("123456789012"), Region: jsii.String("eu-west-1")})
	for _, stack := range allStacks(p) {
		if msgs := nagFindings(t, stack); len(msgs) > 0 {
			t.Errorf("%s has cdk-nag findings:\n%s", *stack.StackName(), strings.Join(msgs, "\n"))
		}
	}
}

// The suppressions cover no more in a known environment than they do
// without one: the Glue roles' log-group suppression, on a role of the
// test's own, still reports the same log groups in another region or
// account, and other log groups. (An unsuppressed finding stops the
// pipeline's synth, so the role lives in an app of its own, with the
// cdk.json flag that makes the partition of a known region literal.)
func TestKnownEnvironmentSuppressionsAreNoBroader(t *testing.T) {
	app := awscdk.NewApp(&awscdk.AppProps{Context: &map[string]any{"@aws-cdk/core:enablePartitionLiterals": true}})
	stack := awscdk.NewStack(app, jsii.String("Probe"), &awscdk.StackProps{Env: &awscdk.Environment{Account: jsii.String("123456789012"), Region: jsii.String("eu-west-1")}})
	role := awsiam.NewRole(stack, jsii.String("Role"), &awsiam.RoleProps{AssumedBy: awsiam.NewServicePrincipal(jsii.String("glue.amazonaws.com"), nil)})
	role.AddToPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Actions: jsii.Strings("logs:CreateLogStream"),
		Resources: jsii.Strings(
			"arn:aws:logs:eu-west-1:123456789012:log-group:/aws-glue/jobs*",
			"arn:aws:logs:us-east-1:123456789012:log-group:/aws-glue/jobs*",
			"arn:aws:logs:eu-west-1:210987654321:log-group:/aws-glue/jobs*",
			"arn:aws:logs:eu-west-1:123456789012:log-group:/aws/lambda*"),
	}))
	suppressGlueRoleFindings(role)
	nag.AddChecks(app)
	got := strings.Join(nagFindings(t, stack), "\n")
	for _, w := range []string{"us-east-1:123456789012:log-group:/aws-glue/jobs*", "eu-west-1:210987654321:log-group:/aws-glue/jobs*", "eu-west-1:123456789012:log-group:/aws/lambda*"} {
		if !strings.Contains(got, "AwsSolutions-IAM5[Resource::arn:aws:logs:"+w+"]") {
			t.Errorf("no finding for %s:\n%s", w, got)
		}
	}
	// The stack's own /aws-glue/jobs log groups are the one suppressed.
	if n := strings.Count(got, "AwsSolutions-IAM5"); n != 3 {
		t.Errorf("%d IAM5 findings, want the 3 above:\n%s", n, got)
	}
}

// The nag check must catch a finding, or the test above proves nothing:
// cdk-nag errors are part of the validation report, so they stop synth.
func TestNagCheckCatchesAnInsecureResource(t *testing.T) {
	app := newApp(nil, false)
	stack := awscdk.NewStack(app, jsii.String("Insecure"), nil)
	awss3.NewBucket(stack, jsii.String("PlainBucket"), nil) // no TLS-only policy, no access logs
	nag.AddChecks(app)
	msg := synthError(app)
	for _, id := range []string{"AwsSolutions-S1", "AwsSolutions-S10"} {
		if !strings.Contains(msg, id) {
			t.Errorf("synth did not fail with %s for a plain bucket; got: %q", id, msg)
		}
	}
}

// The one test with everything on, as `make synth` runs it: Go Lambdas
// bundled, strict CloudFormation validation, cdk-nag. It writes a cloud
// assembly with a template per stack.
func TestWholeAppSynthesizesWithEverythingOn(t *testing.T) {
	var p *Pipeline
	noPanic(t, "defining the app", func() { p = buildPipeline(map[string]any{"publisherInstance": "true"}, true, nil) })
	var asm cxapi.CloudAssembly
	noPanic(t, "synthesizing", func() {
		asm = awscdk.Stage_Of(p.Storage.Stack).Synth(&awscdk.StageSynthesisOptions{Force: jsii.Bool(true)})
	})
	for _, stack := range allStacks(p) {
		art := asm.GetStackArtifact(stack.ArtifactId())
		if art == nil || art.Template() == nil {
			t.Errorf("no template for %s", *stack.StackName())
		}
	}
	// Every Go Lambda was bundled into an arm64 bootstrap under 10 MB.
	var bootstraps []string
	_ = filepath.WalkDir(*asm.Directory(), func(path string, d fs.DirEntry, err error) error {
		if err == nil && d.Name() == "bootstrap" {
			bootstraps = append(bootstraps, path)
		}
		return nil
	})
	if len(bootstraps) != 3 { // transformer, run rotator, audit scanner
		t.Fatalf("bundled %d Lambda bootstraps, want 3: %v", len(bootstraps), bootstraps)
	}
	for _, b := range bootstraps {
		f, err := elf.Open(b)
		if err != nil {
			t.Fatalf("%s: %v", b, err)
		}
		st, _ := os.Stat(b)
		if f.Machine != elf.EM_AARCH64 || st.Size() >= 10<<20 {
			t.Errorf("%s: machine %v, %d bytes", b, f.Machine, st.Size())
		}
		f.Close()
	}
}

// A CloudFormation schema error fails synth: the default validation rules are strict.
func TestStrictValidationRejectsABadProperty(t *testing.T) {
	app := newApp(nil, false)
	stack := awscdk.NewStack(app, jsii.String("BadProperty"), nil)
	awscdk.NewCfnResource(stack, jsii.String("Queue"), &awscdk.CfnResourceProps{
		Type:       jsii.String("AWS::SQS::Queue"),
		Properties: &map[string]interface{}{"VisibilityTimeout": "not-a-number", "NoSuchProperty": true},
	})
	if msg := synthError(app); !strings.Contains(msg, "NoSuchProperty") || !strings.Contains(msg, "VisibilityTimeout") {
		t.Fatalf("synth of invalid properties did not fail naming them: %q", msg)
	}
}

// In the continuous loop the rule restarts the workflow on its last job's
// success and the run rotator accepts exactly that job's event, so both
// must name the same job; the rule also targets the rotator, so every
// workflow start opens a new run.
func TestContinuousLoopRotatesTheRunOnTheWorkflowsLastJob(t *testing.T) {
	p := variant(t, "everything")
	last := p.Orchestration.Steps[len(p.Orchestration.Steps)-1].Name
	if last != "orders_redshift_final_audit_load" {
		t.Fatalf("the workflow ends with %s", last)
	}
	hasResource(t, templateOf(t, p.Ingestion.Stack), "AWS::Lambda::Function", map[string]any{
		"Handler":     "bootstrap",
		"Environment": map[string]any{"Variables": assertions.Match_ObjectLike(&map[string]any{"LAST_JOB_NAME": last})},
	})
	rules := triggerRules(t, templateOf(t, p.Orchestration.Stack))
	if len(rules) != 1 {
		t.Fatalf("%d trigger rules, want 1", len(rules))
	}
	for _, r := range rules {
		props := r["Properties"].(map[string]any)
		pattern, _ := json.Marshal(props["EventPattern"])
		if !strings.Contains(string(pattern), `"jobName":["`+last+`"]`) {
			t.Errorf("the loop rule does not wait for %s: %s", last, pattern)
		}
		targets, _ := json.Marshal(props["Targets"])
		if !strings.Contains(string(targets), "RunRotator") {
			t.Errorf("the loop rule does not target the run rotator: %s", targets)
		}
	}
}

// Stateful resources are retained unless removalPolicy=destroy, which
// deletes them and empties every bucket first.
func TestStatefulResourcesFollowTheRemovalPolicy(t *testing.T) {
	stateful := []string{"AWS::S3::Bucket", "AWS::Kinesis::Stream", "AWS::DynamoDB::Table", "AWS::KMS::Key",
		"AWS::SecretsManager::Secret", "AWS::RedshiftServerless::Namespace", "AWS::RedshiftServerless::Workgroup"}
	check := func(p *Pipeline, want string) {
		t.Helper()
		buckets, autoDeletes := 0, 0
		for _, stack := range []awscdk.Stack{p.Storage.Stack, p.Warehouse.Stack} {
			tmpl := templateOf(t, stack)
			for _, typ := range stateful {
				for id, r := range resources(t, tmpl, typ) {
					if r["DeletionPolicy"] != want {
						t.Errorf("%s %s (%s) has DeletionPolicy %v, want %s", *stack.StackName(), id, typ, r["DeletionPolicy"], want)
					}
					if typ == "AWS::S3::Bucket" {
						buckets++
					}
				}
			}
			autoDeletes += len(resources(t, tmpl, "Custom::S3AutoDeleteObjects"))
		}
		if want == "Delete" && autoDeletes != buckets {
			t.Errorf("%d of %d buckets are emptied before deletion", autoDeletes, buckets)
		}
		if want == "Retain" && autoDeletes != 0 {
			t.Errorf("%d retained buckets would be emptied", autoDeletes)
		}
	}
	check(defaultPipeline(t), "Retain")
	check(newPipeline(t, map[string]any{"removalPolicy": "destroy"}), "Delete")
}

// The Control Tower controls the guard run checks, as template facts of
// the default pipeline (the guard run itself needs the CDK CLI).

func TestPipelineLogGroupsAreNamedEncryptedAndKeptAYear(t *testing.T) {
	p := defaultPipeline(t)
	want := map[string][]string{
		"Ingestion":     {"/aws/lambda/orders-pipeline-dev-transformer", "/aws/lambda/orders-pipeline-dev-run-rotator", "/aws/kinesisfirehose/orders-pipeline-dev-delivery"},
		"Audit":         {"/aws/lambda/orders-pipeline-dev-audit-scanner"},
		"Orchestration": {"/aws/lambda/orders-pipeline-dev-shared-modules-deployment"},
	}
	for name, stack := range map[string]awscdk.Stack{"Ingestion": p.Ingestion.Stack, "Audit": p.Audit.Stack, "Orchestration": p.Orchestration.Stack} {
		groups := resources(t, templateOf(t, stack), "AWS::Logs::LogGroup")
		found := map[string]bool{}
		for id, g := range groups {
			props := g["Properties"].(map[string]any)
			key, _ := json.Marshal(props["KmsKeyId"])
			if !strings.Contains(string(key), "DataKey") {
				t.Errorf("%s/%s is not encrypted with the data key: %s", name, id, key)
			}
			if props["RetentionInDays"] != float64(365) {
				t.Errorf("%s/%s keeps logs %v days, want 365", name, id, props["RetentionInDays"])
			}
			if n, ok := props["LogGroupName"].(string); ok {
				found[n] = true
			}
		}
		for _, n := range want[name] {
			if !found[n] {
				t.Errorf("%s has no log group %s (the data key's policy covers only named groups)", name, n)
			}
		}
		if len(groups) != len(want[name]) {
			t.Errorf("%s has %d log groups, want %d", name, len(groups), len(want[name]))
		}
	}
}

func TestKeysLetOnlyAWSServicesCreateGrants(t *testing.T) {
	p := defaultPipeline(t)
	for _, stack := range []awscdk.Stack{p.Storage.Stack, p.Operations.Stack} {
		hasResource(t, templateOf(t, stack), "AWS::KMS::Key", map[string]any{"KeyPolicy": map[string]any{"Statement": assertions.Match_ArrayWith(&[]any{
			assertions.Match_ObjectLike(&map[string]any{
				"Sid":       "GrantsOnlyForAWSServices",
				"Effect":    "Deny",
				"Action":    "kms:CreateGrant",
				"Condition": map[string]any{"BoolIfExists": map[string]any{"kms:GrantIsForAWSResource": "false", "aws:PrincipalIsAWSService": "false"}},
			}),
		})}})
	}
}

func TestAthenaResultsAreEncryptedWithTheDataKeyByAlias(t *testing.T) {
	hasResource(t, templateOf(t, defaultPipeline(t).Orchestration.Stack), "AWS::Athena::WorkGroup", map[string]any{
		"WorkGroupConfiguration": assertions.Match_ObjectLike(&map[string]any{
			"EnforceWorkGroupConfiguration": true,
			"ResultConfiguration": assertions.Match_ObjectLike(&map[string]any{
				"EncryptionConfiguration": map[string]any{"EncryptionOption": "SSE_KMS", "KmsKey": "alias/orders-pipeline-dev"},
			}),
		}),
	})
	hasResource(t, templateOf(t, defaultPipeline(t).Storage.Stack), "AWS::KMS::Alias", map[string]any{"AliasName": "alias/orders-pipeline-dev"})
}

func TestFailureQueuesAreFinalDestinations(t *testing.T) {
	p := defaultPipeline(t)
	for _, stack := range []awscdk.Stack{p.Audit.Stack, p.Orchestration.Stack} {
		for id, q := range resources(t, templateOf(t, stack), "AWS::SQS::Queue") {
			props := q["Properties"].(map[string]any)
			if strings.HasPrefix(id, "LandingEvents") {
				// The landing audit's source queue and its redrive dead-letter
				// queue: not final destinations (TestLandingEventsHaveADeadLetterQueue).
				continue
			}
			allow, _ := json.Marshal(props["RedriveAllowPolicy"])
			if string(allow) != `{"redrivePermission":"denyAll"}` || props["SqsManagedSseEnabled"] != true {
				t.Errorf("%s: RedriveAllowPolicy %s, SqsManagedSseEnabled %v", id, allow, props["SqsManagedSseEnabled"])
			}
		}
	}
}

func TestLandingEventsHaveADeadLetterQueue(t *testing.T) {
	for id, q := range resources(t, templateOf(t, defaultPipeline(t).Orchestration.Stack), "AWS::SQS::Queue") {
		props := q["Properties"].(map[string]any)
		if !strings.HasPrefix(id, "LandingEvents") || props["SqsManagedSseEnabled"] != true {
			if strings.HasPrefix(id, "LandingEvents") {
				t.Errorf("%s: not SQS-managed encrypted", id)
			}
			continue
		}
		rp, _ := json.Marshal(props["RedrivePolicy"])
		if !strings.HasPrefix(id, "LandingEventsDeadLetters") && !strings.Contains(string(rp), `"maxReceiveCount":50`) {
			t.Errorf("%s: redrive policy %s", id, rp)
		}
	}
}
