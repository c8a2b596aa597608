package config

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func cdkJSONContext(t *testing.T) map[string]any {
	t.Helper()
	data, err := os.ReadFile("../../cdk.json")
	if err != nil {
		t.Fatal(err)
	}
	var doc struct{ Context map[string]any }
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	return doc.Context
}

// load resolves like the app does: cdk.json's context merged with overrides.
func load(t *testing.T, overrides map[string]any, stageDir string) (Config, error) {
	t.Helper()
	base := cdkJSONContext(t)
	all := map[string]any{}
	for k, v := range base {
		all[k] = v
	}
	for k, v := range overrides {
		all[k] = v
	}
	return Load(Sources{CDKJSONContext: base, Context: all, StageDir: stageDir})
}

// refusal is settings that must not load and what the error must mention.
type refusal struct {
	name      string
	overrides map[string]any
	want      []string
}

// wantRefused loads each case's overrides, as a subtest, and fails it
// unless the config is refused with an error that mentions each of want.
func wantRefused(t *testing.T, cases []refusal) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := load(t, c.overrides, "")
			if err == nil {
				t.Fatalf("%v was accepted", c.overrides)
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
		})
	}
}

func TestCDKJSONHoldsNoPipelineKeys(t *testing.T) {
	for k := range cdkJSONContext(t) {
		if ownKey.MatchString(k) {
			t.Errorf("cdk.json sets pipeline key %q; defaults live in the code, settings in config/<stage>.json or -c", k)
		}
	}
	cfg, err := load(t, nil, "")
	if err != nil {
		t.Fatalf("defaults do not validate: %v", err)
	}
	if !reflect.DeepEqual(cfg, Defaults()) {
		t.Fatalf("config from cdk.json differs from Defaults()")
	}
}

func TestPipelineKeyInCDKJSONIsRefused(t *testing.T) {
	base := map[string]any{"@aws-cdk/core:newStyleStackSynthesis": true, "triggerMode": "continuous"}
	_, err := Load(Sources{CDKJSONContext: base, Context: base})
	if err == nil || !strings.Contains(err.Error(), `"triggerMode"`) || !strings.Contains(err.Error(), "config/<stage>.json") {
		t.Fatalf("a pipeline key in cdk.json: %v", err)
	}
}

func TestReadmeConfigTableIsCurrent(t *testing.T) {
	readme, err := os.ReadFile("../../docs/configuration.md")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(readme), ReferenceTable()) {
		t.Fatal("docs/configuration.md's configuration reference is stale: run `make config-docs`")
	}
}

func TestErrorsNameTheKeyAndWhatIsAllowed(t *testing.T) {
	wantRefused(t, []refusal{
		{"bad enum", map[string]any{"triggerMode": "sometimes"}, []string{`"triggerMode"`, "sometimes", "batch-completion, continuous"}},
		{"unknown key", map[string]any{"triggermode": "continuous"}, []string{`"triggermode"`, "unknown", `did you mean "triggerMode"`}},
		{"bad email", map[string]any{"failureEmails": "ops@example.com,not-an-email"}, []string{`"failureEmails"`, "not-an-email"}},
		{"not a number", map[string]any{"streamShardCount": "two"}, []string{`"streamShardCount"`, "whole number"}},
		{"out of range", map[string]any{"firehoseBufferSizeMiB": "32"}, []string{`"firehoseBufferSizeMiB"`, "64 to 128"}},
		{"bad bool", map[string]any{"publisherInstance": "yes please"}, []string{`"publisherInstance"`, "true or false"}},
		{"window shorter than buffer", map[string]any{"workflowBatchWindowSeconds": "120"}, []string{`"workflowBatchWindowSeconds"`, "firehoseBufferIntervalSeconds"}},
		{"window shorter than 1.5 x buffer plus run id cache", map[string]any{"workflowBatchWindowSeconds": "450", "runIdCacheSeconds": "1"}, []string{`"workflowBatchWindowSeconds"`, "runIdCacheSeconds"}},
		{"existing warehouse without name", map[string]any{"warehouseMode": "existing-serverless"}, []string{`"existingWorkgroupName"`, "required"}},
		{"two zones", map[string]any{"availabilityZones": "eu-west-1a,eu-west-1b"}, []string{`"availabilityZones"`, "exactly three"}},
		{"continuous loop over the default usage limit", map[string]any{"triggerMode": "continuous"},
			[]string{`"redshiftDailyUsageLimitRpuHours"`, "8 RPU-hours", "at least 52", "triggerMode=batch-completion"}},
		{"continuous loop with a larger workgroup", map[string]any{"triggerMode": "continuous", "redshiftBaseCapacityRpu": "16", "redshiftDailyUsageLimitRpuHours": "60"},
			[]string{`"redshiftDailyUsageLimitRpuHours"`, "at least 103"}},
		{"above the range", map[string]any{"streamShardCount": "501"}, []string{`"streamShardCount"`, "501", "1 to 500"}},
		// A stage file's JSON numbers arrive as float64; a fraction must not be truncated.
		{"fraction for a whole number", map[string]any{"streamShardCount": 2.5}, []string{`"streamShardCount"`, "whole number", "2.5"}},
		{"window one second short", map[string]any{"workflowBatchWindowSeconds": "454"}, []string{`"workflowBatchWindowSeconds"`, "455 in all"}},
		{"loop schedule without the loop", map[string]any{"continuousLoopEnableCron": "cron(0 6 ? * MON-FRI *)", "continuousLoopDisableCron": "cron(0 18 ? * MON-FRI *)"},
			[]string{`"continuousLoopEnableCron"`, "triggerMode=continuous"}},
		{"existing cluster without its name and secret", map[string]any{"warehouseMode": "existing-cluster"},
			[]string{`"existingClusterIdentifier"`, `"existingSecretArn"`, "required when warehouseMode is existing-cluster"}},
		{"VPC narrower than /24", map[string]any{"vpcCidr": "10.40.0.0/25"}, []string{`"vpcCidr"`, "10.40.0.0/25", "between /16 and /24"}},
		{"VPC wider than /16", map[string]any{"vpcCidr": "10.40.0.0/15"}, []string{`"vpcCidr"`, "10.40.0.0/15", "between /16 and /24"}},
	})
}

// Bounds are inclusive: the values at them are settings a user may choose.
func TestValuesAtTheirLimitsAreAccepted(t *testing.T) {
	cases := []struct {
		name      string
		overrides map[string]any
		check     func(Config) bool
	}{
		{"fewest shards", map[string]any{"streamShardCount": "1"}, func(c Config) bool { return c.StreamShardCount == 1 }},
		{"most shards", map[string]any{"streamShardCount": "500"}, func(c Config) bool { return c.StreamShardCount == 500 }},
		{"whole number from a stage file", map[string]any{"streamShardCount": 4.0}, func(c Config) bool { return c.StreamShardCount == 4 }},
		{"DPUs as a JSON number", map[string]any{"pythonShellCapacity": 0.0625}, func(c Config) bool { return c.PythonShellCapacity == ShellCapacitySixteenth }},
		{"window exactly 1.5 x buffer plus run id cache", map[string]any{"workflowBatchWindowSeconds": "455"},
			func(c Config) bool { return c.WorkflowBatchWindowSeconds == 455 }},
		{"widest VPC", map[string]any{"vpcCidr": "10.40.0.0/16"}, func(c Config) bool { return c.VpcCidr == "10.40.0.0/16" }},
		{"narrowest VPC", map[string]any{"vpcCidr": "10.40.0.0/24"}, func(c Config) bool { return c.VpcCidr == "10.40.0.0/24" }},
		{"loop schedule with the loop", map[string]any{"triggerMode": "continuous", "redshiftDailyUsageLimitRpuHours": "52",
			"continuousLoopEnableCron": "cron(0 6 ? * MON-FRI *)", "continuousLoopDisableCron": "cron(0 18 ? * MON-FRI *)"},
			func(c Config) bool { return c.ContinuousLoopEnableCron == "cron(0 6 ? * MON-FRI *)" }},
		{"existing cluster with its name and secret", map[string]any{"warehouseMode": "existing-cluster",
			"existingClusterIdentifier": "dw", "existingSecretArn": "arn:aws:secretsmanager:eu-west-1:123456789012:secret:dw"},
			func(c Config) bool { return c.WarehouseMode == WarehouseExistingCluster }},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cfg, err := load(t, c.overrides, "")
			if err != nil {
				t.Fatalf("%v refused: %v", c.overrides, err)
			}
			if !c.check(cfg) {
				t.Fatalf("%v not applied: %+v", c.overrides, cfg)
			}
		})
	}
}

func TestCDKOwnContextKeysAreIgnored(t *testing.T) {
	if _, err := load(t, map[string]any{"aws:cdk:bundling-stacks": []any{}, "acknowledged-issue-numbers": []any{1.0}}, ""); err != nil {
		t.Fatalf("CDK's own context was taken for config: %v", err)
	}
}

// Precedence: code defaults < config/<stage>.json < -c.
func TestStageFileSitsBetweenDefaultsAndCommandLine(t *testing.T) {
	dir := t.TempDir()
	stageFile := `{"streamShardCount": 4, "successEmails": ["data@example.com"], "triggerMode": "continuous", "redshiftDailyUsageLimitRpuHours": 60}`
	if err := os.WriteFile(filepath.Join(dir, "prod.json"), []byte(stageFile), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, err := load(t, map[string]any{"stage": "prod", "triggerMode": "batch-completion", "streamMode": "on-demand"}, dir)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.StreamShardCount != 4 || !reflect.DeepEqual(cfg.SuccessEmails, []string{"data@example.com"}) {
		t.Errorf("stage file values not applied: %+v", cfg)
	}
	if cfg.StreamMode != "on-demand" {
		t.Errorf("-c value lost: streamMode = %q", cfg.StreamMode)
	}
	// -c triggerMode equals the default and still overrides the stage file.
	if cfg.TriggerMode != "batch-completion" {
		t.Errorf("triggerMode = %q, want -c's batch-completion over the stage file's continuous", cfg.TriggerMode)
	}
	if err := os.WriteFile(filepath.Join(dir, "bad.json"), []byte(`{"shardCount": 2}`), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := load(t, map[string]any{"stage": "bad"}, dir); err == nil || !strings.Contains(err.Error(), "bad.json") || !strings.Contains(err.Error(), `"shardCount"`) {
		t.Fatalf("unknown key in a stage file: %v", err)
	}
}

func TestListsFromCommandLineAndJSON(t *testing.T) {
	cfg, err := load(t, map[string]any{"operationsEmails": "a@example.com, b@example.org", "failureEmails": []any{"c@example.net"}}, "")
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(cfg.OperationsEmails, []string{"a@example.com", "b@example.org"}) || !reflect.DeepEqual(cfg.FailureEmails, []string{"c@example.net"}) {
		t.Fatalf("lists parsed as %q and %q", cfg.OperationsEmails, cfg.FailureEmails)
	}
}

func TestNamesKeepTheSeedNamesBehindThePrefix(t *testing.T) {
	n := Defaults().Names()
	if n.Stream != "orders" || n.Workflow != "orders-workflow" || n.AuditTable != "orders-audit-table" || n.LandingToStagingJob != "orders_landing_to_staging" {
		t.Fatalf("default names differ from the seed: %+v", n)
	}
	c := Defaults()
	c.ResourcePrefix = "dev-"
	if got := c.Names().DeliveryStream; got != "dev-orders-firehose" {
		t.Fatalf("prefixed delivery stream = %q", got)
	}
}

func TestContinuousLoopNeedsOnlyTheUsageLimitItUses(t *testing.T) {
	for name, overrides := range map[string]map[string]any{
		"limit covers the loop":     {"triggerMode": "continuous", "redshiftDailyUsageLimitRpuHours": "52"},
		"existing warehouse":        {"triggerMode": "continuous", "warehouseMode": "existing-serverless", "existingWorkgroupName": "wg"},
		"batch completion, default": {},
	} {
		if _, err := load(t, overrides, ""); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func TestStagesOtherThanTheDefaultPrefixEveryName(t *testing.T) {
	dev := Defaults()
	if n := dev.Names(); n.Stream != "orders" || n.Workflow != "orders-workflow" || n.LandingAuditJob != "orders_landing_audit_load" ||
		n.Database != "ecommerce-database" || n.AuditTable != "orders-audit-table" || n.LandingBucketSeed != "fo-to-dw-orders-landing-area" {
		t.Errorf("the default stage lost the seed's names: %+v", n)
	}
	prod := Defaults()
	prod.Stage = "prod"
	if n := prod.Names(); n.Stream != "prod-orders" || n.LandingAuditJob != "prod-orders_landing_audit_load" || n.LandingTable != "orders" {
		t.Errorf("stage prod: %+v", n)
	}
	prod.ResourcePrefix = "acme-"
	if n := prod.Names(); n.Stream != "acme-orders" || n.Pipeline != "acme-orders-pipeline-prod" {
		t.Errorf("resourcePrefix does not replace the stage prefix: %+v", n)
	}
}

// The enum tags are what validation and the README list; the typed
// constants are what the stacks compare with. Both must name the same values.
func TestEnumTagsListTheTypedValues(t *testing.T) {
	typed := map[string][]string{
		"removalPolicy":       {string(RemovalRetain), string(RemovalDestroy)},
		"streamMode":          {string(StreamProvisioned), string(StreamOnDemand)},
		"triggerMode":         {string(TriggerBatchCompletion), string(TriggerContinuous)},
		"warehouseMode":       {string(WarehouseServerless), string(WarehouseExistingServerless), string(WarehouseExistingCluster)},
		"pythonShellCapacity": {string(ShellCapacitySixteenth), string(ShellCapacityOne)},
	}
	for key, values := range typed {
		f, ok := fieldByKey(key)
		if !ok {
			t.Fatalf("no config key %s", key)
		}
		if got := strings.Join(values, ","); f.Enum != got {
			t.Errorf("%s: enum tag %q, typed values %q", key, f.Enum, got)
		}
	}
}
