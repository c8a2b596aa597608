package gluemodules

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsglue"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/jsii-runtime-go"
	"github.com/orders-pipeline/orders-pipeline/internal/construct/constructtest"
	"github.com/orders-pipeline/orders-pipeline/internal/construct/nag"
	"github.com/orders-pipeline/orders-pipeline/internal/construct/securebucket"
)

// moduleDir holds two modules and two files that are not.
func moduleDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	for _, f := range []string{"b.py", "a.py", "notes.txt", "sub/c.py"} {
		p := filepath.Join(dir, f)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte("x = 1\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestOnlyTheDirectorysPythonFilesAreModules(t *testing.T) {
	dir := moduleDir(t)
	got := PythonModules(dir)
	want := []string{filepath.Join(dir, "a.py"), filepath.Join(dir, "b.py")}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("modules %v, want %v", got, want)
	}
}

// deployed is a stack with the modules deployed into a secure bucket and
// one job that uses them.
func deployed(t *testing.T) (awscdk.Stack, *Modules) {
	t.Helper()
	stack := constructtest.Checked("Modules", &awscdk.AppProps{Context: &map[string]any{"@aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy": true}})
	key := awskms.NewKey(stack, jsii.String("Key"), &awskms.KeyProps{EnableKeyRotation: jsii.Bool(true)})
	logs := securebucket.New(stack, "Logs", securebucket.Props{AccessLogDestination: true})
	nag.Suppress(logs, nag.Suppression("AwsSolutions-S1", "The test's access-log bucket cannot log into itself."))
	code := securebucket.New(stack, "Code", securebucket.Props{Key: key, AccessLogs: logs, AccessLogsPrefix: "code/"})
	m := New(stack, "Shared", Props{Dir: moduleDir(t), Bucket: code, Prefix: "common/", LogGroupName: "/aws/lambda/test-modules", LogKey: key})
	role := awsiam.NewRole(stack, jsii.String("JobRole"), &awsiam.RoleProps{AssumedBy: awsiam.NewServicePrincipal(jsii.String("glue.amazonaws.com"), nil)})
	job := awsglue.NewPythonShellJob(stack, jsii.String("Job"), &awsglue.PythonShellJobProps{
		Role: role, Script: awsglue.Code_FromBucket(code, jsii.String("job.py")), ExtraPythonFiles: &m.Code,
	})
	m.AwaitedBy(job)
	return stack, m
}

func TestModulesAreDeployedUnderTheirOwnNamesBeforeTheJob(t *testing.T) {
	stack, m := deployed(t)
	if len(m.Code) != 2 {
		t.Fatalf("%d modules, want 2", len(m.Code))
	}
	tmpl := assertions.Template_FromStack(stack, nil)
	tmpl.HasResourceProperties(jsii.String("Custom::CDKBucketDeployment"), map[string]any{
		"DestinationBucketKeyPrefix": "common/", "Prune": true,
	})
	tmpl.HasResourceProperties(jsii.String("AWS::Logs::LogGroup"), map[string]any{
		"LogGroupName": "/aws/lambda/test-modules", "RetentionInDays": 365, "KmsKeyId": assertions.Match_AnyValue(),
	})
	raw, _ := json.Marshal(tmpl.FindResources(jsii.String("AWS::Glue::Job"), nil))
	job := string(raw)
	for _, want := range []string{"/common/a.py", "/common/b.py", `"DependsOn":["Shared`} {
		if !strings.Contains(job, want) {
			t.Errorf("job lacks %s: %s", want, job)
		}
	}
}

func TestAnEmptyDirectoryIsRefused(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("a directory without modules was accepted")
		}
	}()
	stack := awscdk.NewStack(awscdk.NewApp(nil), jsii.String("Modules"), nil)
	New(stack, "Shared", Props{Dir: t.TempDir()})
}

func TestDeploymentHasNoNagFindings(t *testing.T) {
	stack, _ := deployed(t)
	constructtest.NoFindings(t, stack, func(f string) bool {
		return !strings.Contains(f, "/JobRole/") && !strings.Contains(f, "/Job/")
	})
}
