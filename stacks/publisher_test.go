package stacks

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/constructs-go/constructs/v10"
)

func TestPublisherIsAbsentByDefault(t *testing.T) {
	p := defaultPipeline(t)
	if p.Publisher != nil {
		t.Fatal("the default pipeline has a publisher stack")
	}
	for _, s := range allStacks(p) {
		resourceCount(t, templateOf(t, s), "AWS::EC2::Instance", 0)
	}
}

// publisherPipeline is the pipeline with the publisher instance on.
func publisherPipeline(t *testing.T) (*PublisherStack, *StorageStack) {
	t.Helper()
	p := variant(t, "everything")
	if p.Publisher == nil {
		t.Fatal("publisherInstance=true made no publisher stack")
	}
	return p.Publisher, p.Storage
}

func TestPublisherInstanceIsLockedDown(t *testing.T) {
	pub, _ := publisherPipeline(t)
	tmpl := templateOf(t, pub.Stack)
	resourceCount(t, tmpl, "AWS::EC2::Instance", 1)
	hasResource(t, tmpl, "AWS::EC2::Instance", map[string]any{
		"InstanceType": "t4g.nano",
		"BlockDeviceMappings": []any{map[string]any{
			"DeviceName": "/dev/xvda",
			"Ebs":        map[string]any{"Encrypted": true, "VolumeType": "gp3"},
		}},
	})
	for id, inst := range resources(t, tmpl, "AWS::EC2::Instance") {
		props := inst["Properties"].(map[string]any)
		if _, ok := props["KeyName"]; ok {
			t.Errorf("%s has a key pair", id)
		}
		image, _ := props["ImageId"].(map[string]any)
		if ref, _ := image["Ref"].(string); !strings.Contains(ref, "al2023") || !strings.Contains(ref, "arm64") {
			t.Errorf("%s image %v is not Amazon Linux 2023 arm64", id, image)
		}
	}
	hasResource(t, tmpl, "AWS::EC2::Instance", map[string]any{
		"MetadataOptions": map[string]any{"HttpTokens": "required", "HttpEndpoint": "enabled"},
	})
	resourceCount(t, tmpl, "AWS::EC2::SecurityGroupIngress", 0)
	resourceCount(t, tmpl, "AWS::EC2::NatGateway", 0)
	for id, sg := range resources(t, tmpl, "AWS::EC2::SecurityGroup") {
		props := sg["Properties"].(map[string]any)
		if ingress, ok := props["SecurityGroupIngress"]; ok {
			t.Errorf("%s has ingress rules %v", id, ingress)
		}
		egress, _ := props["SecurityGroupEgress"].([]any)
		for _, e := range egress {
			rule := e.(map[string]any)
			if rule["FromPort"] != float64(443) || rule["ToPort"] != float64(443) {
				t.Errorf("%s allows egress %v beyond HTTPS", id, rule)
			}
		}
	}
}

func TestPublisherRoleAllowsOnlyWhatThePublisherDoes(t *testing.T) {
	pub, storage := publisherPipeline(t)
	tmpl := templateOf(t, pub.Stack)
	hasResource(t, tmpl, "AWS::IAM::Role", map[string]any{
		"AssumeRolePolicyDocument": map[string]any{"Statement": []any{map[string]any{
			"Action": "sts:AssumeRole", "Effect": "Allow", "Principal": map[string]any{"Service": "ec2.amazonaws.com"},
		}}},
		"ManagedPolicyArns": []any{map[string]any{"Fn::Join": []any{"", []any{"arn:", map[string]any{"Ref": "AWS::Partition"}, ":iam::aws:policy/AmazonSSMManagedInstanceCore"}}}},
	})
	policies := resources(t, tmpl, "AWS::IAM::Policy")
	var statements []any
	for _, p := range policies {
		props := p["Properties"].(map[string]any)
		if ref, _ := props["Roles"].([]any)[0].(map[string]any)["Ref"].(string); strings.HasPrefix(ref, "InstanceRole") {
			statements = props["PolicyDocument"].(map[string]any)["Statement"].([]any)
		}
	}
	// A strong cross-stack reference is an import whose export name
	// carries the resource's logical ID.
	id := func(c constructs.IConstruct) string {
		return *awscdk.Stack_Of(c).GetLogicalId(c.Node().DefaultChild().(awscdk.CfnElement))
	}
	want := []struct {
		sid, actions, resource, tail string
	}{
		{"PutOrders", `["kinesis:DescribeStreamSummary","kinesis:PutRecords"]`, id(storage.Stream) + "Arn", ""},
		{"CloseBatches", `"s3:PutObject"`, id(storage.LandingBucket) + "Arn", `"/batch-completion/*"`},
		{"EncryptWithDataKey", `["kms:Encrypt","kms:GenerateDataKey"]`, id(storage.DataKey) + "Arn", ""},
		{"ReadPublisherBinary", `"s3:GetObject"`, "cdk-", ""},
	}
	if len(statements) != len(want) {
		t.Fatalf("instance role has %d statements, want %d: %s", len(statements), len(want), compact(statements))
	}
	for i, w := range want {
		st := statements[i].(map[string]any)
		actions, _ := json.Marshal(st["Action"])
		resource, _ := json.Marshal(st["Resource"])
		if st["Sid"] != w.sid || st["Effect"] != "Allow" || string(actions) != w.actions ||
			!strings.Contains(string(resource), w.resource) || !strings.Contains(string(resource), w.tail) || len(st) != 4 {
			t.Errorf("statement %d = %s, want %s %s on %s%s", i, compact(st), w.sid, w.actions, w.resource, w.tail)
		}
		if strings.Contains(string(actions), "*") {
			t.Errorf("statement %s has a wildcard action", w.sid)
		}
	}
}

func TestPublisherStackHasNoNagFindings(t *testing.T) {
	pub, _ := publisherPipeline(t)
	if msgs := nagFindings(t, pub.Stack); len(msgs) > 0 {
		t.Errorf("publisher stack has cdk-nag findings:\n%s", strings.Join(msgs, "\n"))
	}
}
