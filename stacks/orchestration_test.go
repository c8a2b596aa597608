package stacks

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssecretsmanager"
	"github.com/aws/jsii-runtime-go"
	"github.com/orders-pipeline/orders-pipeline/internal/config"
	"github.com/orders-pipeline/orders-pipeline/internal/construct/gluemodules"
)

// stepNames maps the logical IDs of the crawlers and jobs to their names.
func stepNames(t *testing.T, tmpl assertions.Template) map[string]string {
	t.Helper()
	names := map[string]string{}
	for _, typ := range []string{"AWS::Glue::Crawler", "AWS::Glue::Job"} {
		for id, r := range resources(t, tmpl, typ) {
			names[id] = props(r)["Name"].(string)
		}
	}
	return names
}

func refName(names map[string]string, v any) string {
	m, _ := v.(map[string]any)
	id, _ := m["Ref"].(string)
	return names[id]
}

// actionName is the crawler or job a trigger starts.
func actionName(t *testing.T, names map[string]string, trigger map[string]any) string {
	t.Helper()
	actions := props(trigger)["Actions"].([]any)
	if len(actions) != 1 {
		t.Fatalf("trigger %v has %d actions, want 1", props(trigger)["Name"], len(actions))
	}
	a := actions[0].(map[string]any)
	if a["JobName"] != nil {
		return refName(names, a["JobName"])
	}
	return refName(names, a["CrawlerName"])
}

// workflowChain follows the triggers from the EVENT trigger: each
// conditional trigger must wait for the previous step's success and depend
// on the previous trigger. It returns the steps in the order they run.
func workflowChain(t *testing.T, tmpl assertions.Template) []string {
	t.Helper()
	names := stepNames(t, tmpl)
	triggers := resources(t, tmpl, "AWS::Glue::Trigger")
	var startID string
	for id, tr := range triggers {
		if props(tr)["Type"] == "EVENT" {
			if startID != "" {
				t.Fatalf("more than one EVENT trigger")
			}
			startID = id
		}
	}
	if startID == "" {
		t.Fatalf("no EVENT trigger")
	}
	chain := []string{actionName(t, names, triggers[startID])}
	prevID := startID
	for len(chain) < len(triggers) {
		last := chain[len(chain)-1]
		var nextID string
		for id, tr := range triggers {
			p := props(tr)
			if p["Type"] != "CONDITIONAL" {
				continue
			}
			conds := p["Predicate"].(map[string]any)["Conditions"].([]any)
			c := conds[0].(map[string]any)
			watched := refName(names, c["JobName"]) + refName(names, c["CrawlerName"])
			succeeded := c["State"] == "SUCCEEDED" || c["CrawlState"] == "SUCCEEDED"
			if len(conds) == 1 && watched == last && succeeded {
				nextID = id
			}
		}
		if nextID == "" {
			t.Fatalf("no trigger starts after %s succeeded; chain so far %v", last, chain)
		}
		next := triggers[nextID]
		if deps, _ := next["DependsOn"].([]any); len(deps) != 1 || deps[0] != prevID {
			t.Errorf("trigger %s depends on %v, want only the previous trigger %s", nextID, next["DependsOn"], prevID)
		}
		if props(next)["StartOnCreation"] != true {
			t.Errorf("trigger %s is not activated on creation", nextID)
		}
		if _, ok := props(next)["EventBatchingCondition"]; ok {
			t.Errorf("conditional trigger %s has an event batching condition", nextID)
		}
		chain = append(chain, actionName(t, names, next))
		prevID = nextID
	}
	return chain
}

// seedChain is the seed's layer 3 order.
func seedChain(n config.Names) []string {
	return []string{n.LandingCrawler, n.LandingAuditJob, n.LandingToStagingJob, n.StagingCrawler, n.StagingAuditJob,
		n.StagingToRedshiftJob, n.RedshiftStagingAuditJob, n.RedshiftStagingToFinalJob, n.RedshiftFinalAuditJob}
}

func defaultNames() config.Names { return config.Defaults().Names() }

func TestWorkflowStartsOnEventsAndRunsInSeedOrder(t *testing.T) {
	p := defaultPipeline(t)
	tmpl := templateOf(t, p.Orchestration.Stack)
	hasResource(t, tmpl, "AWS::Glue::Workflow", map[string]any{"Name": "orders-workflow"})
	hasResource(t, tmpl, "AWS::Glue::Trigger", map[string]any{
		"Type": "EVENT", "Name": "orders-workflow-start",
		"EventBatchingCondition": map[string]any{"BatchSize": 100, "BatchWindow": 900},
	})
	want := seedChain(defaultNames())
	if got := workflowChain(t, tmpl); !reflect.DeepEqual(got, want) {
		t.Fatalf("workflow chain\n got %v\nwant %v", got, want)
	}
	var steps []string
	for _, s := range p.Orchestration.Steps {
		steps = append(steps, s.Name)
	}
	if !reflect.DeepEqual(steps, want) {
		t.Fatalf("OrchestrationStack.Steps = %v, want %v", steps, want)
	}
}

// seedPattern is one of the seed's rule patterns with the landing bucket's
// literal name replaced by the value the template uses for it, and the
// loop's job name by lastJob.
func seedPattern(t *testing.T, rule string, bucketName any, lastJob string) map[string]any {
	t.Helper()
	raw, err := os.ReadFile("testdata/seed_rule_patterns.json")
	if err != nil {
		t.Fatal(err)
	}
	text := strings.ReplaceAll(string(raw), `"orders_staging_audit_load"`, `"`+lastJob+`"`)
	bucketJSON, _ := json.Marshal(bucketName)
	text = strings.ReplaceAll(text, `"fo-to-dw-orders-landing-area"`, string(bucketJSON))
	var all map[string]map[string]any
	if err := json.Unmarshal([]byte(text), &all); err != nil {
		t.Fatal(err)
	}
	return all[rule]
}

// landingNameIn returns the landing bucket name the batch-completion part
// of a pattern matches, which must be the landing bucket's (a token).
func landingNameIn(t *testing.T, completion map[string]any) any {
	t.Helper()
	name := completion["detail"].(map[string]any)["bucket"].(map[string]any)["name"].([]any)[0]
	text, _ := json.Marshal(name)
	if !strings.Contains(string(text), "fo-to-dw-orders-landing-area") && !strings.Contains(string(text), "LandingBucket") {
		t.Fatalf("the rule matches bucket %s, not the landing bucket", text)
	}
	return name
}

func TestBatchCompletionRuleIsTheSeedsPattern(t *testing.T) {
	p := defaultPipeline(t)
	tmpl := templateOf(t, p.Orchestration.Stack)
	rules := triggerRules(t, tmpl)
	if len(rules) != 1 {
		t.Fatalf("%d trigger rules, want 1", len(rules))
	}
	for _, r := range rules {
		pr := props(r)
		if pr["Name"] != "orders-eventbridge-rule" {
			t.Fatalf("rule name %v", pr["Name"])
		}
		got := pr["EventPattern"].(map[string]any)
		want := seedPattern(t, "orders-eventbridge-rule", landingNameIn(t, got), "")
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("pattern differs from the seed\n got %v\nwant %v", compact(got), compact(want))
		}
	}
	resourceCount(t, templateOf(t, p.Orchestration.Stack), "AWS::Scheduler::Schedule", 0)
}

// The target role may only notify this workflow's EVENT trigger, and
// undeliverable events land in an encrypted, TLS-only dead-letter queue.
func TestRuleTargetsTheWorkflowWithANarrowRoleAndDeadLetters(t *testing.T) {
	p := defaultPipeline(t)
	tmpl := templateOf(t, p.Orchestration.Stack)
	var target map[string]any
	for _, r := range triggerRules(t, tmpl) {
		targets := props(r)["Targets"].([]any)
		target = targets[0].(map[string]any)
	}
	arn, _ := json.Marshal(target["Arn"])
	if !strings.Contains(string(arn), ":workflow/") || !strings.Contains(string(arn), "Workflow") {
		t.Errorf("target is %s, not the workflow", arn)
	}
	if rp := target["RetryPolicy"].(map[string]any); rp["MaximumRetryAttempts"] != float64(triggerRetryAttempts) || rp["MaximumEventAgeInSeconds"] != float64(triggerMaxEventHours*3600) {
		t.Errorf("retry policy %v", rp)
	}
	roleID := target["RoleArn"].(map[string]any)["Fn::GetAtt"].([]any)[0].(string)
	queueID := target["DeadLetterConfig"].(map[string]any)["Arn"].(map[string]any)["Fn::GetAtt"].([]any)[0].(string)

	var statements []any
	for _, pol := range resources(t, tmpl, "AWS::IAM::Policy") {
		roles := props(pol)["Roles"].([]any)
		if roles[0].(map[string]any)["Ref"] == roleID {
			statements = props(pol)["PolicyDocument"].(map[string]any)["Statement"].([]any)
		}
	}
	if len(statements) != 1 {
		t.Fatalf("target role has %d statements, want 1: %v", len(statements), statements)
	}
	st := statements[0].(map[string]any)
	res, _ := json.Marshal(st["Resource"])
	if st["Action"] != "glue:notifyEvent" || !strings.Contains(string(res), ":workflow/") {
		t.Errorf("target role statement %v", st)
	}
	queue := resources(t, tmpl, "AWS::SQS::Queue")[queueID]
	if queue == nil || props(queue)["SqsManagedSseEnabled"] != true {
		t.Errorf("dead-letter queue %s is not encrypted: %v", queueID, queue)
	}
	hasResource(t, tmpl, "AWS::SQS::QueuePolicy", map[string]any{
		"PolicyDocument": map[string]any{"Statement": assertions.Match_ArrayWith(&[]any{
			assertions.Match_ObjectLike(&map[string]any{"Action": "sqs:*", "Effect": "Deny", "Condition": map[string]any{"Bool": map[string]any{"aws:SecureTransport": "false"}}}),
			assertions.Match_ObjectLike(&map[string]any{"Action": "sqs:SendMessage", "Principal": map[string]any{"Service": "events.amazonaws.com"}}),
		})},
	})
}

// importOf matches the cross-stack import of a storage queue's ARN.
func importOf(queueID string) any {
	return map[string]any{"Fn::ImportValue": assertions.Match_StringLikeRegexp(jsii.String(queueID + "[0-9A-F]{8}Arn"))}
}

func TestCrawlersCrawlTheirEventsKeepTheLandingTableAndPrefixStaging(t *testing.T) {
	tmpl := templateOf(t, defaultPipeline(t).Orchestration.Stack)
	security := map[string]any{"Ref": assertions.Match_StringLikeRegexp(jsii.String("GlueSecurity"))}
	hasResource(t, tmpl, "AWS::Glue::Crawler", map[string]any{
		"Name": "orders-landing-area-crawler",
		"Targets": map[string]any{"CatalogTargets": []any{map[string]any{
			"DatabaseName": "ecommerce-database", "Tables": []any{"orders"},
			"EventQueueArn":    importOf("LandingCrawlerEventsQueue"),
			"DlqEventQueueArn": importOf("LandingCrawlerEventsDeadLetters"),
		}}},
		"SchemaChangePolicy":           map[string]any{"UpdateBehavior": "LOG", "DeleteBehavior": "LOG"},
		"RecrawlPolicy":                map[string]any{"RecrawlBehavior": "CRAWL_EVENT_MODE"},
		"CrawlerSecurityConfiguration": security,
		"Configuration":                assertions.Match_StringLikeRegexp(jsii.String(`"AddOrUpdateBehavior":"InheritFromTable"`)),
	})
	hasResource(t, tmpl, "AWS::Glue::Crawler", map[string]any{
		"Name":         "orders-staging-area-crawler",
		"DatabaseName": "ecommerce-database",
		"TablePrefix":  "staging_",
		"Targets": map[string]any{"S3Targets": []any{map[string]any{
			"Path":             map[string]any{"Fn::Join": []any{"", []any{"s3://", assertions.Match_AnyValue(), "/orders/"}}},
			"EventQueueArn":    importOf("StagingCrawlerEventsQueue"),
			"DlqEventQueueArn": importOf("StagingCrawlerEventsDeadLetters"),
		}}},
		"RecrawlPolicy":                map[string]any{"RecrawlBehavior": "CRAWL_EVENT_MODE"},
		"CrawlerSecurityConfiguration": security,
	})
	hasResource(t, tmpl, "AWS::Glue::SecurityConfiguration", map[string]any{"EncryptionConfiguration": map[string]any{
		"CloudWatchEncryption":   map[string]any{"CloudWatchEncryptionMode": "SSE-KMS"},
		"JobBookmarksEncryption": map[string]any{"JobBookmarksEncryptionMode": "CSE-KMS"},
		"S3Encryptions":          []any{assertions.Match_ObjectLike(&map[string]any{"S3EncryptionMode": "SSE-KMS"})},
	}})
}

// jobByName returns the properties of the job with that name.
func jobByName(t *testing.T, tmpl assertions.Template, name string) map[string]any {
	t.Helper()
	for _, j := range resources(t, tmpl, "AWS::Glue::Job") {
		if props(j)["Name"] == name {
			return props(j)
		}
	}
	t.Fatalf("no job %s", name)
	return nil
}

// ownArguments are a job's arguments without the ones Glue and the job
// construct set for every job.
func ownArguments(job map[string]any) []string {
	var keys []string
	for k := range job["DefaultArguments"].(map[string]any) {
		switch k {
		case "--job-language", "--enable-continuous-cloudwatch-log", "--enable-metrics", "--enable-observability-metrics", "--job-bookmark-option", "library-set", "--extra-py-files", "--additional-python-modules":
			continue
		}
		keys = append(keys, k)
	}
	return sorted(keys)
}

func checkSparkJob(t *testing.T, job map[string]any) {
	t.Helper()
	if job["Command"].(map[string]any)["Name"] != "glueetl" || job["GlueVersion"] != "5.0" {
		t.Errorf("%s: command %v, Glue %v; want glueetl on 5.0", job["Name"], job["Command"], job["GlueVersion"])
	}
	args := job["DefaultArguments"].(map[string]any)
	if args["--job-bookmark-option"] != "job-bookmark-enable" {
		t.Errorf("%s: bookmarks %v", job["Name"], args["--job-bookmark-option"])
	}
	if job["ExecutionProperty"].(map[string]any)["MaxConcurrentRuns"] != float64(1) {
		t.Errorf("%s: concurrency %v, want 1", job["Name"], job["ExecutionProperty"])
	}
	if job["WorkerType"] != "G.1X" || job["NumberOfWorkers"] != float64(2) {
		t.Errorf("%s: workers %v × %v", job["Name"], job["NumberOfWorkers"], job["WorkerType"])
	}
	checkCommonJobSettings(t, job)
}

func checkShellJob(t *testing.T, job map[string]any) {
	t.Helper()
	cmd := job["Command"].(map[string]any)
	if cmd["Name"] != "pythonshell" || cmd["PythonVersion"] != "3.9" || job["MaxCapacity"] != 0.0625 {
		t.Errorf("%s: command %v, capacity %v; want a Python 3.9 shell on 1/16 DPU", job["Name"], cmd, job["MaxCapacity"])
	}
	// The shell's own botocore has no WorkgroupName in the Data API.
	if got := job["DefaultArguments"].(map[string]any)["--additional-python-modules"]; got != "boto3==1.34.131,botocore==1.34.131" {
		t.Errorf("%s: --additional-python-modules %v", job["Name"], got)
	}
	checkCommonJobSettings(t, job)
}

func checkCommonJobSettings(t *testing.T, job map[string]any) {
	t.Helper()
	args := job["DefaultArguments"].(map[string]any)
	if args["--enable-continuous-cloudwatch-log"] != "true" {
		t.Errorf("%s: continuous logging off", job["Name"])
	}
	if job["Timeout"] != float64(60) || job["SecurityConfiguration"] == nil {
		t.Errorf("%s: timeout %v, security configuration %v", job["Name"], job["Timeout"], job["SecurityConfiguration"])
	}
}

func TestS3JobsFollowTheScriptContract(t *testing.T) {
	n := defaultNames()
	tmpl := templateOf(t, defaultPipeline(t).Orchestration.Stack)
	audit := []string{"--athena_workgroup", "--audit_table", "--database", "--layer", "--manifest_path", "--table"}
	for name, want := range map[string]struct {
		layer, table string
	}{n.LandingAuditJob: {"s3_landing", "orders"}, n.StagingAuditJob: {"s3_staging", "staging_orders"}} {
		job := jobByName(t, tmpl, name)
		checkShellJob(t, job)
		args := job["DefaultArguments"].(map[string]any)
		audit := audit
		if want.layer == "s3_landing" {
			audit = sorted(append(append([]string{}, audit...), "--events_queue_url", "--run_state_table"))
		}
		if got := ownArguments(job); !reflect.DeepEqual(got, audit) {
			t.Errorf("%s arguments %v, want %v", name, got, audit)
		}
		if args["--layer"] != want.layer || args["--table"] != want.table || args["--database"] != "ecommerce-database" || args["--athena_workgroup"] != "orders-audit-workgroup" {
			t.Errorf("%s arguments %v", name, args)
		}
	}
	job := jobByName(t, tmpl, n.LandingToStagingJob)
	checkSparkJob(t, job)
	if got, want := ownArguments(job), []string{"--database", "--landing_table", "--manifest_path", "--staging_path"}; !reflect.DeepEqual(got, want) {
		t.Errorf("landing to staging arguments %v, want %v", got, want)
	}
	path, _ := json.Marshal(job["DefaultArguments"].(map[string]any)["--staging_path"])
	if !strings.Contains(string(path), `"s3://"`) || !strings.Contains(string(path), `"/orders/"`) || !strings.Contains(string(path), "StagingBucket") {
		t.Errorf("staging path %s", path)
	}
}

func TestAthenaWorkgroupEnforcesEncryptedResults(t *testing.T) {
	tmpl := templateOf(t, defaultPipeline(t).Orchestration.Stack)
	hasResource(t, tmpl, "AWS::Athena::WorkGroup", map[string]any{
		"Name": "orders-audit-workgroup",
		"WorkGroupConfiguration": assertions.Match_ObjectLike(&map[string]any{
			"EnforceWorkGroupConfiguration": true,
			"ResultConfiguration": map[string]any{
				"OutputLocation":          assertions.Match_AnyValue(),
				"EncryptionConfiguration": map[string]any{"EncryptionOption": "SSE_KMS", "KmsKey": assertions.Match_AnyValue()},
			},
		}),
	})
}

func TestWarehouseArgumentsNameExactlyOneTarget(t *testing.T) {
	stack := awscdk.NewStack(awscdk.NewApp(nil), jsii.String("Args"), nil)
	secret := awssecretsmanager.Secret_FromSecretCompleteArn(stack, jsii.String("Secret"), jsii.String("arn:aws:secretsmanager:eu-west-1:111122223333:secret:orders-AbCdEf"))
	args := warehouseArguments(WarehouseTarget{ClusterIdentifier: jsii.String("orders-cluster"), Database: "dev", Secret: secret}, map[string]*string{})
	if _, ok := args["--workgroup_name"]; ok || *args["--cluster_identifier"] != "orders-cluster" || *args["--redshift_database"] != "dev" || args["--secret_arn"] == nil {
		t.Fatalf("cluster arguments %v", args)
	}
}

// The everything-on pipeline runs the continuous loop with its schedules.
func TestWarehouseJobsExtendTheChainAndTheLoopRestartsOnTheLastOne(t *testing.T) {
	stack := variant(t, "everything").Orchestration.Stack
	n := defaultNames()
	tmpl := templateOf(t, stack)
	if got := workflowChain(t, tmpl); !reflect.DeepEqual(got, seedChain(n)) {
		t.Fatalf("workflow chain\n got %v\nwant %v", got, seedChain(n))
	}
	if last := n.LastJob(); last != "orders_redshift_final_audit_load" {
		t.Fatalf("last job %s", last)
	}

	rules := triggerRules(t, tmpl)
	if len(rules) != 1 {
		t.Fatalf("%d trigger rules, want 1", len(rules))
	}
	for _, r := range rules {
		if props(r)["Name"] != "orders-infinite-loop-rule" {
			t.Fatalf("rule name %v", props(r)["Name"])
		}
		got := props(r)["EventPattern"].(map[string]any)
		completion := got["$or"].([]any)[1].(map[string]any)
		// The seed's loop waited for orders_staging_audit_load, its last job
		// then; with the Redshift jobs the last one is the final audit.
		want := seedPattern(t, "orders-infinite-loop-rule", landingNameIn(t, completion), n.RedshiftFinalAuditJob)
		if !reflect.DeepEqual(got, want) {
			gj, _ := json.Marshal(got)
			wj, _ := json.Marshal(want)
			t.Fatalf("loop pattern\n got %s\nwant %s", gj, wj)
		}
	}

	schedules := map[string]map[string]any{}
	for _, sc := range resources(t, tmpl, "AWS::Scheduler::Schedule") {
		schedules[props(sc)["ScheduleExpression"].(string)] = props(sc)
	}
	if len(schedules) != 2 {
		t.Fatalf("%d schedules, want 2", len(schedules))
	}
	for _, c := range []struct{ cron, action string }{{"cron(0 6 ? * MON-FRI *)", "enableRule"}, {"cron(0 18 ? * MON-FRI *)", "disableRule"}} {
		sc := schedules[c.cron]
		if sc == nil || sc["ScheduleExpressionTimezone"] != "Europe/Paris" {
			t.Fatalf("schedule %s: %v", c.cron, sc)
		}
		target := sc["Target"].(map[string]any)
		arn, _ := json.Marshal(target["Arn"])
		input, _ := json.Marshal(target["Input"])
		if !strings.Contains(string(arn), ":aws-sdk:eventbridge:"+c.action+`"`) || !strings.Contains(string(input), `{\"Name\":\"`) || !strings.Contains(string(input), "ContinuousLoopRule") {
			t.Errorf("schedule %s calls %s with %s", c.cron, arn, input)
		}
	}
	for _, action := range []string{"events:EnableRule", "events:DisableRule"} {
		hasResource(t, tmpl, "AWS::IAM::Policy", map[string]any{"PolicyDocument": map[string]any{"Statement": []any{
			map[string]any{"Action": action, "Effect": "Allow", "Resource": map[string]any{"Fn::GetAtt": []any{assertions.Match_StringLikeRegexp(jsii.String("ContinuousLoopRule")), "Arn"}}},
		}}})
	}

	copyArgs := []string{"--copy_path", "--copy_role_arn", "--database", "--ddl_sql_uri", "--manifest_path", "--redshift_database", "--secret_arn", "--staging_table", "--workgroup_name"}
	warehouse := []string{"--redshift_database", "--secret_arn", "--workgroup_name"}
	for name, want := range map[string][]string{
		n.StagingToRedshiftJob:      copyArgs,
		n.RedshiftStagingAuditJob:   append([]string{"--audit_table", "--layer", "--manifest_path"}, warehouse...),
		n.RedshiftStagingToFinalJob: sorted(append([]string{"--ddl_sql_uri", "--enrich_final_sql_uri", "--manifest_path"}, warehouse...)),
		n.RedshiftFinalAuditJob:     sorted(append([]string{"--audit_table", "--layer", "--manifest_path", "--run_state_table"}, warehouse...)),
	} {
		job := jobByName(t, tmpl, name)
		if got := ownArguments(job); !reflect.DeepEqual(got, want) {
			t.Errorf("%s arguments %v, want %v", name, got, want)
		}
		args := job["DefaultArguments"].(map[string]any)
		if workgroup, _ := json.Marshal(args["--workgroup_name"]); !strings.Contains(string(workgroup), "Fn::ImportValue") || !strings.Contains(string(workgroup), "RefWorkgroup") || args["--redshift_database"] != "dev" {
			t.Errorf("%s warehouse arguments %v", name, args)
		}
		if name == n.StagingToRedshiftJob {
			checkSparkJob(t, job)
		} else {
			checkShellJob(t, job)
		}
	}
	if l := jobByName(t, tmpl, n.RedshiftFinalAuditJob)["DefaultArguments"].(map[string]any)["--layer"]; l != "redshift_final" {
		t.Errorf("final audit layer %v", l)
	}
	hasResource(t, tmpl, "AWS::IAM::Policy", map[string]any{"PolicyDocument": map[string]any{"Statement": assertions.Match_ArrayWith(&[]any{
		map[string]any{"Action": []any{"redshift-data:BatchExecuteStatement", "redshift-data:ExecuteStatement"}, "Effect": "Allow",
			"Resource": map[string]any{"Fn::ImportValue": assertions.Match_StringLikeRegexp(jsii.String("WorkgroupWorkgroupArn"))}},
	})}})
	if msgs := nagFindings(t, stack); len(msgs) > 0 {
		t.Errorf("cdk-nag findings:\n%s", strings.Join(msgs, "\n"))
	}
}

// Every object permission of a crawler or job role is limited to one
// area's prefix (or the CDK assets of its scripts), and only the crawlers
// that own a table may change it.
func TestGlueRolesAreLimitedToTheirAreas(t *testing.T) {
	tmpl := templateOf(t, variant(t, "everything").Orchestration.Stack)
	allowedObjects := regexp.MustCompile(`/(orders|redshift-copy|manifests|orders-audit-workgroup)/\*"\]\]\}$|cdk-hnb659fds-assets-.*/\*"\]\]\}$`)
	for id, pol := range resources(t, tmpl, "AWS::IAM::Policy") {
		for _, st := range props(pol)["PolicyDocument"].(map[string]any)["Statement"].([]any) {
			stmt := st.(map[string]any)
			actions, _ := json.Marshal(stmt["Action"])
			resources, ok := stmt["Resource"].([]any)
			if !ok {
				resources = []any{stmt["Resource"]}
			}
			for _, r := range resources {
				res, _ := json.Marshal(r)
				if strings.Contains(string(actions), "s3:GetObject") || strings.Contains(string(actions), "s3:PutObject") {
					// The deployment handler writes the whole Glue code bucket,
					// which holds nothing but the shared modules.
					handlerOnGlueCode := strings.HasPrefix(id, "CustomCDKBucketDeployment") && strings.Contains(string(res), "GlueCode")
					if strings.HasSuffix(string(res), `/*"]]}`) && !allowedObjects.Match(res) && !handlerOnGlueCode {
						t.Errorf("%s grants %s on %s", id, actions, res)
					}
				}
				if string(res) == `"*"` && !strings.Contains(string(actions), "cloudwatch:PutMetricData") && !strings.Contains(string(actions), "redshift-data:DescribeStatement") {
					t.Errorf("%s grants %s on every resource", id, actions)
				}
			}
			if strings.Contains(string(actions), "glue:UpdateTable") || strings.Contains(string(actions), "glue:CreateTable") {
				if !strings.HasPrefix(id, "StagingCrawlerRole") {
					t.Errorf("%s may change catalog tables", id)
				}
				if res, _ := json.Marshal(stmt["Resource"]); !strings.Contains(string(res), "table/ecommerce-database/staging_orders") || strings.Contains(string(res), "table/ecommerce-database/orders") {
					t.Errorf("%s changes tables %s", id, res)
				}
			}
		}
	}
}

// Every job gets every module of glue-scripts/common, each by its own name.
func TestEveryJobGetsTheSharedModules(t *testing.T) {
	modules := gluemodules.PythonModules(filepath.Join("..", "glue-scripts", "common"))
	if len(modules) == 0 {
		t.Fatal("no modules in glue-scripts/common")
	}
	jobs := resources(t, templateOf(t, defaultPipeline(t).Orchestration.Stack), "AWS::Glue::Job")
	if len(jobs) != 7 {
		t.Fatalf("%d jobs, want 7", len(jobs))
	}
	for _, j := range jobs {
		files, _ := json.Marshal(props(j)["DefaultArguments"].(map[string]any)["--extra-py-files"])
		for _, m := range modules {
			if !strings.Contains(string(files), "/common/"+filepath.Base(m)) {
				t.Errorf("%s does not ship %s: %s", props(j)["Name"], filepath.Base(m), files)
			}
		}
		if n := strings.Count(string(files), ".py"); n != len(modules) {
			t.Errorf("%s ships %d modules, want %d: %s", props(j)["Name"], n, len(modules), files)
		}
	}
}

// triggerRules are the named rules of the orchestration stack: the workflow
// trigger (the landing events rule has no name).
func triggerRules(t *testing.T, tmpl assertions.Template) map[string]map[string]any {
	t.Helper()
	out := map[string]map[string]any{}
	for id, r := range resources(t, tmpl, "AWS::Events::Rule") {
		if _, named := props(r)["Name"]; named {
			out[id] = r
		}
	}
	return out
}

// The landing audit learns new landing objects from their Object Created
// events (orders/ only) in a queue it alone consumes; it and every later
// step get the workflow run's manifest location, and only the landing audit
// reads the run-state table.
func TestLandingEventsReachTheLandingAuditAndEveryStepReadsTheManifest(t *testing.T) {
	p := defaultPipeline(t)
	tmpl := templateOf(t, p.Orchestration.Stack)
	var pattern map[string]any
	for _, r := range resources(t, tmpl, "AWS::Events::Rule") {
		if _, named := props(r)["Name"]; !named {
			pattern = props(r)["EventPattern"].(map[string]any)
			target, _ := json.Marshal(props(r)["Targets"])
			if !strings.Contains(string(target), "LandingEvents") {
				t.Errorf("landing events rule targets %s", target)
			}
		}
	}
	got, _ := json.Marshal(pattern)
	for _, want := range []string{`"detail-type":["Object Created"]`, `"prefix":"orders/"`, `"source":["aws.s3"]`} {
		if !strings.Contains(string(got), want) {
			t.Errorf("landing events pattern %s lacks %s", got, want)
		}
	}
	jobs := 0
	for _, j := range resources(t, tmpl, "AWS::Glue::Job") {
		args := props(j)["DefaultArguments"].(map[string]any)
		name := props(j)["Name"].(string)
		jobs++
		if m, _ := json.Marshal(args["--manifest_path"]); !strings.Contains(string(m), "/manifests/") {
			t.Errorf("%s: --manifest_path %s", name, m)
		}
		// The landing audit chooses the runs and marks them pending; the
		// last step takes them off.
		_, state := args["--run_state_table"]
		_, queue := args["--events_queue_url"]
		landing, last := name == "orders_landing_audit_load", name == "orders_redshift_final_audit_load"
		if state != (landing || last) || queue != landing {
			t.Errorf("%s: --run_state_table %v, --events_queue_url %v", name, state, queue)
		}
	}
	if jobs != 7 {
		t.Errorf("%d jobs checked, want 7", jobs)
	}
}
