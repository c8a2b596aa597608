package stacks

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssecretsmanager"
	"github.com/aws/jsii-runtime-go"
	"github.com/orders-pipeline/orders-pipeline/internal/construct/nag"
	"github.com/orders-pipeline/orders-pipeline/internal/construct/servicekey"
)

func TestWarehouseIsNagClean(t *testing.T) {
	stack := defaultPipeline(t).Warehouse.Stack
	if msgs := nagFindings(t, stack); len(msgs) > 0 {
		t.Errorf("cdk-nag findings:\n%s", strings.Join(msgs, "\n"))
	}
}

func TestServerlessNamespaceKeepsAdminPasswordOutOfTheTemplate(t *testing.T) {
	w := defaultPipeline(t).Warehouse
	tmpl := templateOf(t, w.Stack)
	key := map[string]any{"Fn::GetAtt": []any{logicalID(w.Stack, w.Key.Node().DefaultChild()), "Arn"}}
	secret := logicalID(w.Stack, w.Target.Secret.Node().DefaultChild())
	hasResource(t, tmpl, "AWS::RedshiftServerless::Namespace", map[string]any{
		"DbName":        "dev",
		"AdminUsername": "orders_admin",
		// A dynamic reference CloudFormation resolves at deploy time.
		"AdminUserPassword": map[string]any{"Fn::Join": []any{"", []any{"{{resolve:secretsmanager:", map[string]any{"Ref": secret}, ":SecretString:password::}}"}}},
		"KmsKeyId":          key,
		"LogExports":        assertions.Match_ArrayWith(&[]any{"userlog", "connectionlog", "useractivitylog"}),
	})
	// Only AWS services (Redshift, for the namespace) may create grants on the key.
	hasResource(t, tmpl, "AWS::KMS::Key", map[string]any{
		"EnableKeyRotation": true,
		"KeyPolicy": map[string]any{"Statement": assertions.Match_ArrayWith(&[]any{map[string]any{
			"Sid": "GrantsOnlyForAWSServices", "Effect": "Deny", "Principal": map[string]any{"AWS": "*"},
			"Action": "kms:CreateGrant", "Resource": "*",
			"Condition": map[string]any{"BoolIfExists": map[string]any{"kms:GrantIsForAWSResource": "false", "aws:PrincipalIsAWSService": "false"}},
		}})},
	})
	resourceCount(t, tmpl, "AWS::SecretsManager::Secret", 1)
	hasResource(t, tmpl, "AWS::SecretsManager::Secret", map[string]any{
		"KmsKeyId": key,
		"GenerateSecretString": map[string]any{
			"SecretStringTemplate": `{"username":"orders_admin"}`,
			"GenerateStringKey":    "password",
			"ExcludeCharacters":    "'\"\\/@ ",
		},
		"SecretString": assertions.Match_Absent(),
	})
	noPanic(t, "retained secret", func() {
		tmpl.HasResource(jsii.String("AWS::SecretsManager::Secret"), map[string]any{"DeletionPolicy": "Retain"})
	})

	// The Data API authenticates with that secret.
	if got := resolved(w.Stack, w.Target.Secret.SecretArn()); got != `{"Ref":"`+secret+`"}` {
		t.Errorf("target secret ARN = %s", got)
	}
	if got := resolved(w.Stack, w.Target.WorkgroupName); got != `{"Ref":"Workgroup"}` {
		t.Errorf("target workgroup = %s", got)
	}
	if got := resolved(w.Stack, w.Target.ResourceArn); got != `{"Fn::GetAtt":["Workgroup","Workgroup.WorkgroupArn"]}` {
		t.Errorf("target ARN = %s", got)
	}
	if w.Target.ClusterIdentifier != nil || w.Target.Database != "dev" || w.Target.CopyRole == nil {
		t.Errorf("target = %+v", w.Target)
	}
	for _, id := range []string{"WorkgroupName", "SecretArn", "CopyRoleArn"} {
		noPanic(t, "output "+id, func() { tmpl.HasOutput(jsii.String(id), assertions.Match_AnyValue()) })
	}
}

func TestServerlessWorkgroupIsPrivate(t *testing.T) {
	tmpl := templateOf(t, defaultPipeline(t).Warehouse.Stack)
	hasResource(t, tmpl, "AWS::RedshiftServerless::Workgroup", map[string]any{
		"NamespaceName":      map[string]any{"Ref": "Namespace"},
		"BaseCapacity":       8,
		"PubliclyAccessible": false,
		"EnhancedVpcRouting": true,
		"ConfigParameters":   assertions.Match_ArrayWith(&[]any{map[string]any{"ParameterKey": "enable_user_activity_logging", "ParameterValue": "true"}}),
	})
	wg := only(t, resources(t, tmpl, "AWS::RedshiftServerless::Workgroup"))
	subnets := resources(t, tmpl, "AWS::EC2::Subnet")
	for _, s := range wg["Properties"].(map[string]any)["SubnetIds"].([]any) {
		if _, ok := subnets[s.(map[string]any)["Ref"].(string)]; !ok {
			t.Errorf("workgroup subnet %v is not one of the VPC's", s)
		}
	}
	// No security group admits anything: the jobs use the Data API.
	for id, sg := range resources(t, tmpl, "AWS::EC2::SecurityGroup") {
		if in := sg["Properties"].(map[string]any)["SecurityGroupIngress"]; in != nil {
			t.Errorf("security group %s has ingress %v", id, in)
		}
	}
	resourceCount(t, tmpl, "AWS::EC2::SecurityGroupIngress", 0)
}

func TestWarehouseVpcIsIsolatedInThreeZones(t *testing.T) {
	tmpl := templateOf(t, defaultPipeline(t).Warehouse.Stack)
	resourceCount(t, tmpl, "AWS::EC2::NatGateway", 0)
	resourceCount(t, tmpl, "AWS::EC2::InternetGateway", 0)
	resourceCount(t, tmpl, "AWS::EC2::EIP", 0)
	hasResource(t, tmpl, "AWS::EC2::VPC", map[string]any{"CidrBlock": "10.40.0.0/16"})
	hasResource(t, tmpl, "AWS::EC2::VPCEndpoint", map[string]any{
		"VpcEndpointType": "Gateway",
		"ServiceName":     assertions.Match_ObjectLike(&map[string]any{"Fn::Join": assertions.Match_ArrayWith(&[]any{assertions.Match_ArrayWith(&[]any{".s3"})})}),
	})
	hasResource(t, tmpl, "AWS::EC2::FlowLog", map[string]any{"TrafficType": "ALL", "LogDestinationType": "cloud-watch-logs"})
	hasResource(t, tmpl, "AWS::Logs::LogGroup", map[string]any{"KmsKeyId": assertions.Match_AnyValue(), "RetentionInDays": 365})
	// Offline, the zones are the first three CloudFormation finds at deploy time.
	want := []string{
		`{"Fn::Select":[0,{"Fn::GetAZs":""}]}`, `{"Fn::Select":[1,{"Fn::GetAZs":""}]}`, `{"Fn::Select":[2,{"Fn::GetAZs":""}]}`,
	}
	if got := subnetZones(t, tmpl); strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("subnet zones = %v, want %v", got, want)
	}
}

func TestWarehouseZonesFromConfigOrRegion(t *testing.T) {
	p := newPipeline(t, map[string]any{
		"availabilityZones":               []any{"eu-west-1b", "eu-west-1c", "eu-west-1a"},
		"removalPolicy":                   "destroy",
		"redshiftDailyUsageLimitRpuHours": 24,
		"redshiftBaseCapacityRpu":         16,
	})
	tmpl := templateOf(t, p.Warehouse.Stack)
	if got := strings.Join(subnetZones(t, tmpl), " "); got != `"eu-west-1b" "eu-west-1c" "eu-west-1a"` {
		t.Errorf("configured zones: subnets in %s", got)
	}
	// The same settings also show the other knobs reach the template.
	hasResource(t, tmpl, "AWS::RedshiftServerless::Workgroup", map[string]any{"BaseCapacity": 16})
	if create := usageLimitCreate(t, tmpl); !strings.Contains(create, `"amount":24`) {
		t.Errorf("usage limit call = %s", create)
	}
	for _, typ := range []string{"AWS::RedshiftServerless::Namespace", "AWS::RedshiftServerless::Workgroup", "AWS::SecretsManager::Secret", "AWS::KMS::Key", "AWS::Logs::LogGroup"} {
		noPanic(t, typ+" deleted with the stack", func() {
			tmpl.AllResources(jsii.String(typ), map[string]any{"DeletionPolicy": "Delete"})
		})
	}

}

// warehouseInRegion builds the pipeline for a known account and region
// whose zone lookup (as the CLI caches it in cdk.context.json) found zones.
func warehouseInRegion(t *testing.T, region string, zones ...string) awscdk.Stack {
	t.Helper()
	env := &awscdk.Environment{Account: jsii.String("123456789012"), Region: jsii.String(region)}
	return newPipelineIn(t, map[string]any{"availability-zones:account=123456789012:region=" + region: zones}, env).Warehouse.Stack
}

// With a known environment the zones are the account's first three from
// the CDK's lookup, whatever the region.
func TestWarehouseZonesComeFromTheLookup(t *testing.T) {
	stack := warehouseInRegion(t, "ap-northeast-1", "ap-northeast-1a", "ap-northeast-1c", "ap-northeast-1d", "ap-northeast-1e")
	if got := strings.Join(subnetZones(t, templateOf(t, stack)), " "); got != `"ap-northeast-1a" "ap-northeast-1c" "ap-northeast-1d"` {
		t.Errorf("known region: subnets in %s", got)
	}
}

func TestRegionWithoutThreeZonesStopsSynth(t *testing.T) {
	stack := warehouseInRegion(t, "us-west-1", "us-west-1a", "us-west-1c")
	msg := synthError(awscdk.Stage_Of(stack).(awscdk.App))
	for _, want := range []string{"us-west-1 has 2 availability zone(s)", "Redshift Serverless needs subnets in 3", "warehouseMode=existing-serverless"} {
		if !strings.Contains(msg, want) {
			t.Errorf("synth error does not say %q: %s", want, msg)
		}
	}
}

func TestServerlessUsageLimitIsDailyAndDeactivates(t *testing.T) {
	tmpl := templateOf(t, defaultPipeline(t).Warehouse.Stack)
	create := usageLimitCreate(t, tmpl)
	for _, want := range []string{`"action":"createUsageLimit"`, `"amount":8`, `"period":"daily"`, `"breachAction":"deactivate"`, `"usageType":"serverless-compute"`, `Workgroup.WorkgroupArn`} {
		if !strings.Contains(create, want) {
			t.Errorf("usage limit call lacks %s: %s", want, create)
		}
	}
	hasResource(t, tmpl, "AWS::IAM::Policy", map[string]any{"PolicyDocument": map[string]any{"Statement": assertions.Match_ArrayWith(&[]any{
		map[string]any{"Action": "redshift-serverless:CreateUsageLimit", "Effect": "Allow", "Resource": map[string]any{"Fn::GetAtt": []any{"Workgroup", "Workgroup.WorkgroupArn"}}},
	})}})
}

func TestCopyRoleIsAssumedByRedshiftAndDecryptsStagedData(t *testing.T) {
	p := defaultPipeline(t)
	tmpl := templateOf(t, p.Warehouse.Stack)
	hasResource(t, tmpl, "AWS::IAM::Role", map[string]any{"AssumeRolePolicyDocument": map[string]any{"Statement": []any{
		map[string]any{"Action": "sts:AssumeRole", "Effect": "Allow", "Principal": map[string]any{"Service": "redshift.amazonaws.com"}},
	}}})
	role := logicalID(p.Warehouse.Stack, p.Warehouse.Target.CopyRole.Node().DefaultChild())
	hasResource(t, tmpl, "AWS::IAM::Policy", map[string]any{
		"Roles": []any{map[string]any{"Ref": role}},
		"PolicyDocument": map[string]any{"Statement": assertions.Match_ArrayWith(&[]any{
			assertions.Match_ObjectLike(&map[string]any{"Action": assertions.Match_ArrayWith(&[]any{"kms:Decrypt"}), "Effect": "Allow"}),
		})},
	})
	hasResource(t, tmpl, "AWS::RedshiftServerless::Namespace", map[string]any{
		"IamRoles":          []any{map[string]any{"Fn::GetAtt": []any{role, "Arn"}}},
		"DefaultIamRoleArn": map[string]any{"Fn::GetAtt": []any{role, "Arn"}},
	})
}

// The staging bucket is the storage layer's; the grant is tested on a
// bucket of the test's own.
func TestCopyReadIsLimitedToTheCopyPrefix(t *testing.T) {
	app := newApp(nil, false)
	stack := awscdk.NewStack(app, jsii.String("CopyGrant"), nil)
	key := awskms.NewKey(stack, jsii.String("Key"), &awskms.KeyProps{EnableKeyRotation: jsii.Bool(true)})
	bucket := awss3.NewBucket(stack, jsii.String("Staging"), &awss3.BucketProps{EncryptionKey: key, EnforceSSL: jsii.Bool(true)})
	nag.Suppress(bucket, nag.Suppression("AwsSolutions-S1", "A test bucket that only exists to receive the copy grant."))
	role := awsiam.NewRole(stack, jsii.String("Copy"), &awsiam.RoleProps{AssumedBy: awsiam.NewServicePrincipal(jsii.String("redshift.amazonaws.com"), nil)})
	grantCopyRead(role, bucket)
	nag.AddChecks(app)
	tmpl := templateOf(t, stack)
	if msgs := nagFindings(t, stack); len(msgs) > 0 {
		t.Errorf("cdk-nag findings:\n%s", strings.Join(msgs, "\n"))
	}
	policy := only(t, resources(t, tmpl, "AWS::IAM::Policy"))
	doc, _ := json.Marshal(policy["Properties"].(map[string]any)["PolicyDocument"])
	s := string(doc)
	for _, want := range []string{`"s3:GetObject*"`, `"s3:List*"`, `"/redshift-copy/*"`, `"kms:Decrypt"`} {
		if !strings.Contains(s, want) {
			t.Errorf("copy policy lacks %s: %s", want, s)
		}
	}
	for _, never := range []string{`"s3:PutObject`, `"s3:DeleteObject`, `"kms:Encrypt"`, `"Resource":"*"`} {
		if strings.Contains(s, never) {
			t.Errorf("copy policy grants %s: %s", never, s)
		}
	}
	// Only the staged prefix is readable, never the whole bucket's objects.
	if strings.Contains(s, `"/*"]]`) {
		t.Errorf("copy policy reads every object: %s", s)
	}
}

func TestExistingWarehouseCreatesOnlyTheCopyRole(t *testing.T) {
	cases := []struct {
		name      string
		overrides map[string]any
		check     func(t *testing.T, w *WarehouseStack)
	}{
		{"existing-cluster", map[string]any{
			"warehouseMode":             "existing-cluster",
			"existingClusterIdentifier": "analytics",
			"existingSecretArn":         "arn:aws:secretsmanager:eu-west-1:123456789012:secret:redshift-admin-AbCdEf",
		}, func(t *testing.T, w *WarehouseStack) {
			if w.Target.WorkgroupName != nil || w.Target.ClusterIdentifier == nil || *w.Target.ClusterIdentifier != "analytics" {
				t.Errorf("target = %+v", w.Target)
			}
			if arn := resolved(w.Stack, w.Target.ResourceArn); !strings.Contains(arn, `":redshift:"`) || !strings.Contains(arn, `":cluster:analytics"`) {
				t.Errorf("cluster ARN = %s", arn)
			}
			if got := *w.Target.Secret.SecretArn(); got != "arn:aws:secretsmanager:eu-west-1:123456789012:secret:redshift-admin-AbCdEf" {
				t.Errorf("secret ARN = %s", got)
			}
		}},
		{"existing-serverless", map[string]any{
			"warehouseMode":         "existing-serverless",
			"existingWorkgroupName": "analytics",
		}, func(t *testing.T, w *WarehouseStack) {
			if w.Target.ClusterIdentifier != nil || w.Target.WorkgroupName == nil || *w.Target.WorkgroupName != "analytics" {
				t.Errorf("target = %+v", w.Target)
			}
			if w.Target.Secret != nil {
				t.Errorf("no secret configured, yet the target has one")
			}
			if arn := resolved(w.Stack, w.Target.ResourceArn); !strings.Contains(arn, `":redshift-serverless:"`) || !strings.Contains(arn, `":workgroup/*"`) {
				t.Errorf("workgroup ARN = %s", arn)
			}
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			w := newPipeline(t, c.overrides).Warehouse
			tmpl := templateOf(t, w.Stack)
			for _, typ := range []string{"AWS::RedshiftServerless::Namespace", "AWS::RedshiftServerless::Workgroup", "AWS::SecretsManager::Secret", "AWS::EC2::VPC", "AWS::EC2::Subnet", "Custom::RedshiftServerlessUsageLimit"} {
				resourceCount(t, tmpl, typ, 0)
			}
			resourceCount(t, tmpl, "AWS::IAM::Role", 1)
			if w.Target.Database != "dev" || w.Target.CopyRole == nil {
				t.Errorf("target = %+v", w.Target)
			}
			if msgs := nagFindings(t, w.Stack); len(msgs) > 0 {
				t.Errorf("cdk-nag findings:\n%s", strings.Join(msgs, "\n"))
			}
			c.check(t, w)
		})
	}
}

// subnetZones returns each subnet's AvailabilityZone as JSON, in subnet order.
func subnetZones(t *testing.T, tmpl assertions.Template) []string {
	t.Helper()
	subnets := resources(t, tmpl, "AWS::EC2::Subnet")
	if len(subnets) != 3 {
		t.Fatalf("%d subnets, want 3", len(subnets))
	}
	var zones []string
	seen := map[string]bool{}
	for i := 1; i <= 3; i++ {
		for id, s := range subnets {
			if strings.Contains(id, "Subnet"+string(rune('0'+i))+"Subnet") {
				b, _ := json.Marshal(s["Properties"].(map[string]any)["AvailabilityZone"])
				zones = append(zones, string(b))
				seen[string(b)] = true
			}
		}
	}
	if len(seen) != 3 {
		t.Fatalf("subnets are not in three distinct zones: %v", zones)
	}
	return zones
}

// usageLimitCreate returns the SDK call that creates the usage limit, joined.
func usageLimitCreate(t *testing.T, tmpl assertions.Template) string {
	t.Helper()
	r := only(t, resources(t, tmpl, "Custom::RedshiftServerlessUsageLimit"))
	b, _ := json.Marshal(r["Properties"].(map[string]any)["Create"])
	return strings.ReplaceAll(string(b), `\"`, `"`)
}

// Renaming a stateful construct gives it a new logical ID, and
// CloudFormation would replace it: a new, empty warehouse.
func TestWarehouseStatefulLogicalIDsAreStable(t *testing.T) {
	w := defaultPipeline(t).Warehouse
	tmpl := templateOf(t, w.Stack)
	want := map[string]string{
		"Namespace":               "AWS::RedshiftServerless::Namespace",
		"Workgroup":               "AWS::RedshiftServerless::Workgroup",
		"WarehouseKey5BA34FFD":    "AWS::KMS::Key",
		"NetworkVpc7FB7348F":      "AWS::EC2::VPC",
		"CopyRoleA4EADB21":        "AWS::IAM::Role",
		"NetworkFlowLogs2BEC3212": "AWS::Logs::LogGroup",
		"AdminSecretB9452750":     "AWS::SecretsManager::Secret",
	}
	for id, typ := range want {
		if _, ok := resources(t, tmpl, typ)[id]; !ok {
			t.Errorf("no %s with logical ID %s", typ, id)
		}
	}
}

// The jobs live in another stack than the warehouse, as in the pipeline:
// the grant must not make the warehouse stack refer to theirs.
func TestGrantDataAPIScopesToTheWarehouseAndItsSecret(t *testing.T) {
	app := newApp(nil, false)
	warehouse := awscdk.NewStack(app, jsii.String("DataAPIWarehouse"), nil)
	jobs := awscdk.NewStack(app, jsii.String("DataAPIJobs"), nil)
	key := servicekey.New(warehouse, "Key", servicekey.Props{Description: "test"})
	secret := awssecretsmanager.NewSecret(warehouse, jsii.String("Secret"), &awssecretsmanager.SecretProps{EncryptionKey: key})
	nag.Suppress(secret, nag.Suppression("AwsSolutions-SMG4", "A test secret that only exists to be granted."))
	withSecret := awsiam.NewRole(jobs, jsii.String("WithSecret"), &awsiam.RoleProps{AssumedBy: awsiam.NewServicePrincipal(jsii.String("glue.amazonaws.com"), nil)})
	withIAM := awsiam.NewRole(jobs, jsii.String("WithIAM"), &awsiam.RoleProps{AssumedBy: awsiam.NewServicePrincipal(jsii.String("glue.amazonaws.com"), nil)})
	arn := "arn:aws:redshift-serverless:eu-west-1:123456789012:workgroup/0000-1111"
	WarehouseTarget{WorkgroupName: jsii.String("orders-dev"), ResourceArn: jsii.String(arn), Secret: secret}.GrantDataAPI(withSecret)
	WarehouseTarget{WorkgroupName: jsii.String("analytics"), ResourceArn: jsii.String(arn)}.GrantDataAPI(withIAM)
	nag.AddChecks(app)
	for _, stack := range []awscdk.Stack{warehouse, jobs} {
		if msgs := nagFindings(t, stack); len(msgs) > 0 {
			t.Errorf("cdk-nag findings:\n%s", strings.Join(msgs, "\n"))
		}
	}
	for _, dep := range *warehouse.Dependencies() {
		t.Errorf("warehouse stack depends on %s", *dep.StackName())
	}
	tmpl := templateOf(t, jobs)
	byRole := map[string]map[string][]string{}
	for _, p := range resources(t, tmpl, "AWS::IAM::Policy") {
		props := p["Properties"].(map[string]any)
		role, _ := json.Marshal(props["Roles"])
		byRole[string(role)] = grantsOf(props["PolicyDocument"])
	}
	secretRole := byRole[`[{"Ref":"`+logicalID(jobs, withSecret.Node().DefaultChild())+`"}]`]
	iamRole := byRole[`[{"Ref":"`+logicalID(jobs, withIAM.Node().DefaultChild())+`"}]`]
	owner := `{"StringEquals":{"redshift-data:statement-owner-iam-userid":"${aws:userid}"}}`
	for name, g := range map[string]map[string][]string{"secret": secretRole, "iam": iamRole} {
		for _, a := range []string{"redshift-data:ExecuteStatement", "redshift-data:BatchExecuteStatement"} {
			if strings.Join(g[a], " ") != `"`+arn+`" -` {
				t.Errorf("%s role: %s on %v, want the workgroup only", name, a, g[a])
			}
		}
		for _, a := range []string{"redshift-data:DescribeStatement", "redshift-data:GetStatementResult", "redshift-data:CancelStatement"} {
			if strings.Join(g[a], " ") != `"*" `+owner {
				t.Errorf("%s role: %s on %v, want its own statements only", name, a, g[a])
			}
		}
	}
	if len(secretRole["secretsmanager:GetSecretValue"]) == 0 || len(secretRole["kms:Decrypt"]) == 0 || !strings.Contains(strings.Join(secretRole["kms:Decrypt"], " "), "kms:ViaService") {
		t.Errorf("secret role cannot read the secret through Secrets Manager: %v", secretRole)
	}
	if secretRole["redshift-serverless:GetCredentials"] != nil {
		t.Errorf("secret role may get temporary credentials: %v", secretRole)
	}
	if strings.Join(iamRole["redshift-serverless:GetCredentials"], " ") != `"`+arn+`" -` || iamRole["secretsmanager:GetSecretValue"] != nil {
		t.Errorf("IAM-auth role: %v", iamRole)
	}
}
