package stacks

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
)

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
