package gluechain

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsglue"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	"github.com/aws/jsii-runtime-go"
	"github.com/orders-pipeline/orders-pipeline/internal/construct/constructtest"
)

// chain is a crawler, then two Python shell jobs, in stack.
func chain(t *testing.T, stack awscdk.Stack) *Chain {
	t.Helper()
	role := awsiam.Role_FromRoleArn(stack, jsii.String("Role"), jsii.String("arn:aws:iam::111122223333:role/glue"), nil)
	scripts := awss3.Bucket_FromBucketName(stack, jsii.String("Scripts"), jsii.String("scripts"))
	crawler := awsglue.NewCfnCrawler(stack, jsii.String("Crawler"), &awsglue.CfnCrawlerProps{
		Name: jsii.String("crawl"), Role: role.RoleArn(),
		Targets: &awsglue.CfnCrawler_TargetsProperty{S3Targets: []any{&awsglue.CfnCrawler_S3TargetProperty{Path: jsii.String("s3://data/")}}},
	})
	job := func(name string) Step {
		j := awsglue.NewPythonShellJob(stack, jsii.String(name), &awsglue.PythonShellJobProps{
			JobName: jsii.String(name), Role: role, Script: awsglue.Code_FromBucket(scripts, jsii.String(name+".py")),
		})
		return Job(name, name, j)
	}
	c := New(stack, "Workflow", Props{
		WorkflowName: "flow", Description: "A crawler and two jobs",
		StartTriggerName: "flow-start", StartDescription: "Starts a run on events",
		StepTriggerName: func(step string) string { return "flow-then-" + step },
		Steps:           []Step{Crawler("Crawl", crawler), job("first"), job("second")},
		BatchSize:       10, BatchWindow: awscdk.Duration_Seconds(jsii.Number(300)),
	})
	return c
}

func triggers(t *testing.T, stack awscdk.Stack) map[string]map[string]any {
	t.Helper()
	var out map[string]map[string]any
	raw, _ := json.Marshal(assertions.Template_FromStack(stack, nil).FindResources(jsii.String("AWS::Glue::Trigger"), nil))
	if err := json.Unmarshal(raw, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestEachStepStartsAfterThePreviousSucceeded(t *testing.T) {
	stack := awscdk.NewStack(awscdk.NewApp(nil), jsii.String("Chain"), nil)
	c := chain(t, stack)
	if c.LastJob() != "second" {
		t.Errorf("last job %s", c.LastJob())
	}
	found := triggers(t, stack)
	if len(found) != 3 {
		t.Fatalf("%d triggers, want 3", len(found))
	}
	// By logical ID: the start trigger, then one per later step.
	want := []struct{ prefix, typ, name, action, after, dependsOn string }{
		{"WorkflowStartTrigger", "EVENT", "flow-start", `"CrawlerName":{"Ref":"Crawler"}`, "", ""},
		{"WorkflowfirstTrigger", "CONDITIONAL", "flow-then-first", `"JobName":{"Ref":"first`, `"Conditions":[{"CrawlState":"SUCCEEDED","CrawlerName":{"Ref":"Crawler"}`, "WorkflowStartTrigger"},
		{"WorkflowsecondTrigger", "CONDITIONAL", "flow-then-second", `"JobName":{"Ref":"second`, `"Conditions":[{"JobName":{"Ref":"first`, "WorkflowfirstTrigger"},
	}
	for _, w := range want {
		var id string
		var tr map[string]any
		for k, v := range found {
			if strings.HasPrefix(k, w.prefix) {
				id, tr = k, v
			}
		}
		if tr == nil {
			t.Errorf("no trigger %s*", w.prefix)
			continue
		}
		props, _ := json.Marshal(tr["Properties"])
		deps, _ := json.Marshal(tr["DependsOn"])
		p := tr["Properties"].(map[string]any)
		if p["Type"] != w.typ || p["Name"] != w.name || !strings.Contains(string(props), w.action) {
			t.Errorf("%s: %s", id, props)
		}
		if w.after != "" && (!strings.Contains(string(props), w.after) || p["StartOnCreation"] != true || p["EventBatchingCondition"] != nil) {
			t.Errorf("%s does not wait for the step before it: %s", id, props)
		}
		if w.dependsOn != "" && !strings.HasPrefix(strings.Trim(string(deps), `["]`), w.dependsOn) {
			t.Errorf("%s depends on %s, want the trigger before it (%s)", id, deps, w.dependsOn)
		}
	}
	start, _ := json.Marshal(found[firstKey(found, "WorkflowStartTrigger")]["Properties"])
	if !strings.Contains(string(start), `"EventBatchingCondition":{"BatchSize":10,"BatchWindow":300}`) {
		t.Errorf("start trigger batching: %s", start)
	}
}

func firstKey(m map[string]map[string]any, prefix string) string {
	for k := range m {
		if strings.HasPrefix(k, prefix) {
			return k
		}
	}
	return ""
}

func TestAChainMustEndWithAJob(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("a chain ending with a crawler was accepted")
		}
	}()
	stack := awscdk.NewStack(awscdk.NewApp(nil), jsii.String("Chain"), nil)
	crawler := awsglue.NewCfnCrawler(stack, jsii.String("Crawler"), &awsglue.CfnCrawlerProps{
		Name: jsii.String("crawl"), Role: jsii.String("arn:aws:iam::111122223333:role/glue"), Targets: &awsglue.CfnCrawler_TargetsProperty{},
	})
	New(stack, "Workflow", Props{Steps: []Step{Crawler("Crawl", crawler)}})
}

// The workflow and its triggers raise no cdk-nag finding (the test's jobs
// and crawler are not what is checked).
func TestChainHasNoNagFindings(t *testing.T) {
	stack := constructtest.Checked("Chain", nil)
	chain(t, stack)
	constructtest.NoFindings(t, stack, func(f string) bool { return strings.Contains(f, "/Workflow") })
}
