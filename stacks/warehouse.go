package stacks

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsec2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsredshiftserverless"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssecretsmanager"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/orders-pipeline/orders-pipeline/internal/config"
	"github.com/orders-pipeline/orders-pipeline/internal/construct/isolatedvpc"
	"github.com/orders-pipeline/orders-pipeline/internal/construct/nag"
	"github.com/orders-pipeline/orders-pipeline/internal/construct/servicekey"
	"github.com/orders-pipeline/orders-pipeline/internal/construct/usagelimit"
)

// WarehouseStackProps configure the Redshift warehouse stack.
type WarehouseStackProps struct {
	awscdk.StackProps
	Config config.Config
	// RemovalPolicy applies to every stateful resource of the stack.
	RemovalPolicy awscdk.RemovalPolicy
	// StagingBucket holds what the Spark job stages for COPY, encrypted
	// with DataKey.
	StagingBucket awss3.IBucket
	DataKey       awskms.IKey
}

// WarehouseStack owns the Redshift warehouse the Glue jobs load into. Never
// rename the construct IDs of the namespace, workgroup, key or VPC: a new
// logical ID makes CloudFormation replace them and lose the warehouse.
type WarehouseStack struct {
	// Stack is kept as a field, not embedded: jsii cannot pass a Go struct
	// that embeds a construct back into the CDK.
	Stack awscdk.Stack
	// Target is how the Glue jobs reach the warehouse.
	Target WarehouseTarget
	// The rest is only set when warehouseMode is serverless.
	Vpc       awsec2.Vpc
	Key       awskms.Key
	Namespace awsredshiftserverless.CfnNamespace
	Workgroup awsredshiftserverless.CfnWorkgroup
	// UsageLimit caps the workgroup's RPU-hours per day.
	UsageLimit usagelimit.Limit
}

// WarehouseTarget is everything a Glue job needs to run SQL through the
// Redshift Data API and to COPY from the staging area. Exactly one of
// WorkgroupName and ClusterIdentifier is set.
type WarehouseTarget struct {
	WorkgroupName     *string
	ClusterIdentifier *string
	// ResourceArn is the workgroup's or cluster's ARN, for IAM.
	ResourceArn *string
	Database    string
	// Secret holds the credentials the Data API authenticates with. It is
	// nil only for an existing workgroup configured without
	// existingSecretArn: the Data API then uses temporary credentials of
	// the caller's IAM identity (redshift-serverless:GetCredentials).
	Secret awssecretsmanager.ISecret
	// CopyRole is attached to the warehouse and may read the staging area.
	CopyRole awsiam.IRole
}

// logRetention keeps the warehouse's own logs for the year Control Tower asks for.
const logRetention = awslogs.RetentionDays_ONE_YEAR

// NewWarehouseStack defines the warehouse: a Redshift Serverless namespace
// and workgroup in a VPC of its own, or only the COPY role when the
// pipeline uses an existing warehouse.
func NewWarehouseStack(scope constructs.Construct, id string, props *WarehouseStackProps) *WarehouseStack {
	stack := awscdk.NewStack(scope, jsii.String(id), &props.StackProps)
	cfg := props.Config
	w := &WarehouseStack{Stack: stack}

	copyRole := awsiam.NewRole(stack, jsii.String("CopyRole"), &awsiam.RoleProps{
		AssumedBy:   awsiam.NewServicePrincipal(jsii.String("redshift.amazonaws.com"), nil),
		Description: jsii.String("Lets Redshift COPY the staged Parquet files from the staging area"),
	})
	grantCopyRead(copyRole, props.StagingBucket)
	props.DataKey.GrantDecrypt(copyRole)
	w.Target = WarehouseTarget{Database: cfg.RedshiftDatabase, CopyRole: copyRole}

	switch cfg.WarehouseMode {
	case config.WarehouseExistingServerless:
		w.Target.WorkgroupName = jsii.String(cfg.ExistingWorkgroupName)
		// A workgroup's ARN carries its generated id, not its name, so
		// IAM can only name this account's and region's workgroups.
		w.Target.ResourceArn = stack.FormatArn(&awscdk.ArnComponents{
			Service: jsii.String("redshift-serverless"), Resource: jsii.String("workgroup"),
			ResourceName: jsii.String("*"), ArnFormat: awscdk.ArnFormat_SLASH_RESOURCE_NAME,
		})
		w.Target.Secret = existingSecret(stack, cfg.ExistingSecretArn)
	case config.WarehouseExistingCluster:
		w.Target.ClusterIdentifier = jsii.String(cfg.ExistingClusterIdentifier)
		w.Target.ResourceArn = stack.FormatArn(&awscdk.ArnComponents{
			Service: jsii.String("redshift"), Resource: jsii.String("cluster"),
			ResourceName: jsii.String(cfg.ExistingClusterIdentifier), ArnFormat: awscdk.ArnFormat_COLON_RESOURCE_NAME,
		})
		w.Target.Secret = existingSecret(stack, cfg.ExistingSecretArn)
	default:
		w.buildServerless(cfg, props.RemovalPolicy, copyRole)
	}
	w.outputs()
	return w
}

// outputs print what a user needs to query the warehouse by hand and, with
// an existing warehouse, the role to attach to it.
func (w *WarehouseStack) outputs() {
	out := func(id string, value *string, description string) {
		awscdk.NewCfnOutput(w.Stack, jsii.String(id), &awscdk.CfnOutputProps{Value: value, Description: jsii.String(description)})
	}
	out("CopyRoleArn", w.Target.CopyRole.RoleArn(), "IAM role Redshift assumes to COPY from the staging area (attach it to an existing warehouse)")
	if w.Target.WorkgroupName != nil {
		out("WorkgroupName", w.Target.WorkgroupName, "Redshift Serverless workgroup")
	}
	if w.Target.ClusterIdentifier != nil {
		out("ClusterIdentifier", w.Target.ClusterIdentifier, "Redshift cluster")
	}
	if w.Target.Secret != nil {
		out("SecretArn", w.Target.Secret.SecretArn(), "Secrets Manager secret the Data API authenticates with")
	}
}

// grantCopyRead lets Redshift read what the Spark job stages for COPY, and
// nothing else of the staging area.
func grantCopyRead(role awsiam.Role, staging awss3.IBucket) {
	staging.GrantRead(role, jsii.String(config.CopyPrefix+"*"))
	nag.Suppress(role, nag.Suppression("AwsSolutions-IAM5",
		"COPY reads every file the Spark job staged under redshift-copy/ (names vary per run) and lists and locates the bucket to find them; read actions only, on that prefix only.",
		"Action::s3:GetObject*", "Action::s3:GetBucket*", "Action::s3:List*",
		`regex:/^Resource::.*\/redshift-copy\/\*$/`))
}

// buildServerless defines the VPC, namespace, workgroup and usage limit.
func (w *WarehouseStack) buildServerless(cfg config.Config, removal awscdk.RemovalPolicy, copyRole awsiam.Role) {
	stack := w.Stack
	names := cfg.Names()
	name := names.Warehouse

	// The warehouse's own key encrypts the namespace, its admin secret and
	// the warehouse's logs, so it can outlive or be audited apart from the
	// pipeline's data key.
	w.Key = servicekey.New(stack, "WarehouseKey", servicekey.Props{
		Alias:         names.WarehouseKeyAlias(),
		Description:   "Encrypts the orders warehouse: Redshift namespace, admin secret, logs",
		RemovalPolicy: removal,
	})
	net := isolatedvpc.New(stack, "Network", isolatedvpc.Props{
		Cidr:          cfg.VpcCidr,
		Zones:         warehouseZones(stack, cfg),
		LogKey:        w.Key,
		LogRetention:  logRetention,
		RemovalPolicy: removal,
	})
	w.Vpc = net.Vpc

	// Nothing connects to the workgroup over the network: the Glue jobs
	// use the Data API. Egress is HTTPS only, which in these isolated
	// subnets reaches nothing but S3 through the gateway endpoint (COPY
	// with enhanced VPC routing).
	sg := awsec2.NewSecurityGroup(stack, jsii.String("WorkgroupSecurityGroup"), &awsec2.SecurityGroupProps{
		Vpc:              w.Vpc,
		Description:      jsii.String("Redshift Serverless workgroup: no ingress, HTTPS egress to S3 for COPY"),
		AllowAllOutbound: jsii.Bool(false),
	})
	sg.AddEgressRule(awsec2.Peer_AnyIpv4(), awsec2.Port_Tcp(jsii.Number(443)), jsii.String("COPY from S3 through the gateway endpoint"), nil)

	// The admin password is generated into a Secrets Manager secret and
	// reaches the namespace as a dynamic reference, resolved by
	// CloudFormation at deploy time: it never appears in a template. The
	// secret holds `username` and `password`, which is what the Data API's
	// SecretArn authentication reads. (Redshift's own managed admin secret,
	// ManageAdminPassword, would be simpler, but CloudFormation does not
	// return its ARN, and the Glue jobs need it.)
	admin := awssecretsmanager.NewSecret(stack, jsii.String("AdminSecret"), &awssecretsmanager.SecretProps{
		Description:   jsii.String("Admin credentials of the orders Redshift Serverless namespace"),
		EncryptionKey: w.Key,
		GenerateSecretString: &awssecretsmanager.SecretStringGenerator{
			SecretStringTemplate: jsii.String(`{"username":"` + cfg.RedshiftAdminUsername + `"}`),
			GenerateStringKey:    jsii.String("password"),
			PasswordLength:       jsii.Number(32),
			// Redshift refuses these in a password.
			ExcludeCharacters:       jsii.String(`'"\/@ `),
			RequireEachIncludedType: jsii.Bool(true),
		},
		RemovalPolicy: removal,
	})
	nag.Suppress(admin, nag.Suppression("AwsSolutions-SMG4",
		"Rotating the namespace's admin password needs a rotation Lambda inside the isolated VPC plus Secrets Manager and Redshift interface endpoints in three zones; the secret is only read by the pipeline's Glue jobs through the Data API. Rotate by hand (README, Warehouse) until a rotation schedule is worth that cost."))
	w.Namespace = awsredshiftserverless.NewCfnNamespace(stack, jsii.String("Namespace"), &awsredshiftserverless.CfnNamespaceProps{
		NamespaceName:     jsii.String(name),
		DbName:            jsii.String(cfg.RedshiftDatabase),
		AdminUsername:     jsii.String(cfg.RedshiftAdminUsername),
		AdminUserPassword: admin.SecretValueFromJson(jsii.String("password")).UnsafeUnwrap(),
		KmsKeyId:          w.Key.KeyArn(),
		IamRoles:          &[]any{copyRole.RoleArn()},
		DefaultIamRoleArn: copyRole.RoleArn(),
		LogExports:        jsii.Strings("userlog", "connectionlog", "useractivitylog"),
	})
	w.Namespace.ApplyRemovalPolicy(removal, nil)

	subnets := w.Vpc.SelectSubnets(&awsec2.SubnetSelection{SubnetGroupName: jsii.String(isolatedvpc.SubnetGroup)})
	w.Workgroup = awsredshiftserverless.NewCfnWorkgroup(stack, jsii.String("Workgroup"), &awsredshiftserverless.CfnWorkgroupProps{
		WorkgroupName:      jsii.String(name),
		NamespaceName:      w.Namespace.Ref(),
		BaseCapacity:       jsii.Number(float64(cfg.RedshiftBaseCapacityRpu)),
		PubliclyAccessible: jsii.Bool(false),
		EnhancedVpcRouting: jsii.Bool(true),
		SubnetIds:          toAny(subnets.SubnetIds),
		SecurityGroupIds:   &[]any{sg.SecurityGroupId()},
		ConfigParameters: &[]any{
			// useractivitylog is only written with this switched on.
			&awsredshiftserverless.CfnWorkgroup_ConfigParameterProperty{ParameterKey: jsii.String("enable_user_activity_logging"), ParameterValue: jsii.String("true")},
			&awsredshiftserverless.CfnWorkgroup_ConfigParameterProperty{ParameterKey: jsii.String("require_ssl"), ParameterValue: jsii.String("true")},
		},
	})
	w.Workgroup.ApplyRemovalPolicy(removal, nil)

	// CloudWatch Logs may already use the warehouse key: the VPC's flow
	// logs granted it.
	limitLogs := awslogs.NewLogGroup(stack, jsii.String("UsageLimitLogs"), &awslogs.LogGroupProps{
		EncryptionKey: w.Key,
		Retention:     logRetention,
		RemovalPolicy: removal,
	})
	w.UsageLimit = usagelimit.New(stack, "DailyUsageLimit", usagelimit.Props{
		WorkgroupArn: w.Workgroup.AttrWorkgroupWorkgroupArn(),
		RpuHours:     cfg.RedshiftDailyUsageLimitRpu,
		Period:       "daily",
		BreachAction: "deactivate",
		Logs:         limitLogs,
	})
	nag.Suppress(w.UsageLimit.Resource, nag.Suppression("AwsSolutions-IAM5",
		"Usage limits get generated ids, so updating and deleting this workgroup's limit can only name the account's and region's limits (usagelimit/*).",
		"Resource::arn:<AWS::Partition>:redshift-serverless:<AWS::Region>:<AWS::AccountId>:usagelimit/*"))

	w.Target.WorkgroupName = w.Workgroup.Ref()
	w.Target.ResourceArn = w.Workgroup.AttrWorkgroupWorkgroupArn()
	w.Target.Secret = admin
}

// A complete secret ARN ends in the six characters Secrets Manager adds.
var completeSecretArn = regexp.MustCompile(`:secret:.+-[A-Za-z0-9]{6}$`)

// existingSecret imports the credentials of an existing warehouse, or
// returns nil when none are configured.
func existingSecret(stack awscdk.Stack, arn string) awssecretsmanager.ISecret {
	if arn == "" {
		return nil
	}
	attrs := &awssecretsmanager.SecretAttributes{}
	if completeSecretArn.MatchString(arn) {
		attrs.SecretCompleteArn = jsii.String(arn)
	} else {
		attrs.SecretPartialArn = jsii.String(arn)
	}
	return awssecretsmanager.Secret_FromSecretAttributes(stack, jsii.String("ExistingSecret"), attrs)
}

func toAny(list *[]*string) *[]any {
	out := make([]any, len(*list))
	for i, s := range *list {
		out[i] = s
	}
	return &out
}

// GrantDataAPI lets role run SQL on the warehouse through the Redshift Data
// API, the way every Glue job that touches Redshift does: submit statements
// to this workgroup or cluster only, follow and cancel its own statements,
// and authenticate with the target's secret (or, for an existing workgroup
// without one, with temporary credentials of its own IAM identity).
func (t WarehouseTarget) GrantDataAPI(role awsiam.IRole) {
	role.AddToPrincipalPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Actions:   jsii.Strings("redshift-data:ExecuteStatement", "redshift-data:BatchExecuteStatement"),
		Resources: &[]*string{t.ResourceArn},
	}))
	if strings.HasSuffix(*t.ResourceArn, ":workgroup/*") {
		nag.Suppress(role, nag.Suppression("AwsSolutions-IAM5",
			"An existing workgroup's ARN ends in an id Redshift generated, which the configuration (existingWorkgroupName) does not carry; statements stay limited to workgroups of this account and region.",
			"regex:/^Resource::arn:<AWS::Partition>:redshift-serverless:<AWS::Region>:<AWS::AccountId>:workgroup\\/\\*$/"))
	}
	// These take a statement id, not a resource; the condition keeps the
	// role to the statements it submitted itself.
	role.AddToPrincipalPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Actions:    jsii.Strings("redshift-data:DescribeStatement", "redshift-data:GetStatementResult", "redshift-data:CancelStatement"),
		Resources:  jsii.Strings("*"),
		Conditions: &map[string]any{"StringEquals": map[string]any{"redshift-data:statement-owner-iam-userid": "${aws:userid}"}},
	}))
	nag.Suppress(role, nag.Suppression("AwsSolutions-IAM5",
		"The Redshift Data API's statement actions (DescribeStatement, GetStatementResult, CancelStatement) have no resource-level permissions; a condition limits them to the role's own statements.",
		"Resource::*"))
	if t.Secret != nil {
		// Granted on the role's side only: a grant through the key's policy
		// would make the warehouse stack refer back to the job's stack.
		role.AddToPrincipalPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Actions:   jsii.Strings("secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"),
			Resources: &[]*string{t.Secret.SecretArn()},
		}))
		if key := t.Secret.EncryptionKey(); key != nil {
			role.AddToPrincipalPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
				Actions:    jsii.Strings("kms:Decrypt"),
				Resources:  &[]*string{key.KeyArn()},
				Conditions: &map[string]any{"StringEquals": map[string]any{"kms:ViaService": "secretsmanager." + *awscdk.Stack_Of(role).Region() + ".amazonaws.com"}},
			}))
		}
		return
	}
	if t.WorkgroupName != nil {
		role.AddToPrincipalPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Actions:   jsii.Strings("redshift-serverless:GetCredentials"),
			Resources: &[]*string{t.ResourceArn},
		}))
	}
}

// warehouseZoneCount is what Redshift Serverless needs: subnets in three
// availability zones.
const warehouseZoneCount = 3

// warehouseZones picks the zones of the warehouse VPC: the configured
// ones; else, when the stack targets a known account and region, the
// first three the account has there, from the CDK's context lookup (kept
// in cdk.context.json, which is committed so every synth picks the same
// zones); else, environment-agnostic and offline, the first three zones
// CloudFormation finds at deploy time (Fn::GetAZs).
//
// A region with fewer than three zones cannot host the warehouse, and
// synth stops saying so. Before the CLI has looked the zones up, the CDK
// answers with three placeholders and asks the CLI for the lookup.
func warehouseZones(stack awscdk.Stack, cfg config.Config) []*string {
	if len(cfg.AvailabilityZones) == warehouseZoneCount {
		return *jsii.Strings(cfg.AvailabilityZones...)
	}
	if *awscdk.Token_IsUnresolved(stack.Region()) {
		zones := make([]*string, warehouseZoneCount)
		for i := range zones {
			zones[i] = awscdk.Fn_Select(jsii.Number(float64(i)), awscdk.Fn_GetAzs(nil))
		}
		return zones
	}
	zones := *stack.AvailabilityZones()
	if len(zones) < warehouseZoneCount {
		names := make([]string, len(zones))
		for i, z := range zones {
			names[i] = *z
		}
		awscdk.Annotations_Of(stack).AddError(jsii.String(fmt.Sprintf(
			"Region %s has %d availability zone(s) (%s) for this account; Redshift Serverless needs subnets in %d. "+
				"Deploy to a region with at least %d zones, or use a warehouse you have with warehouseMode=existing-serverless or existing-cluster.",
			*stack.Region(), len(zones), strings.Join(names, ", "), warehouseZoneCount, warehouseZoneCount)))
		return zones
	}
	return zones[:warehouseZoneCount]
}
