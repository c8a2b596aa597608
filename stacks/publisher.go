package stacks

import (
	"fmt"
	"path/filepath"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsec2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskinesis"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3assets"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/orders-pipeline/orders-pipeline/internal/config"
	"github.com/orders-pipeline/orders-pipeline/internal/construct/gofunction"
	"github.com/orders-pipeline/orders-pipeline/internal/construct/nag"
	"github.com/orders-pipeline/orders-pipeline/internal/publisher"
)

// PublisherStackProps configure the publisher stack.
type PublisherStackProps struct {
	awscdk.StackProps
	Config config.Config
	// DataKey encrypts the completion objects and the flow logs.
	DataKey awskms.IKey
	// Stream receives the orders; LandingBucket the completion objects.
	Stream        awskinesis.IStream
	LandingBucket awss3.IBucket
}

// PublisherStack holds the optional EC2 publisher instance: the seed's
// "My-machine", the source system that sends orders and closes each batch.
type PublisherStack struct {
	// Stack is kept as a field, not embedded: jsii cannot pass a Go struct
	// that embeds a construct back into the CDK.
	Stack    awscdk.Stack
	Instance awsec2.Instance
	Role     awsiam.Role
}

// Where user data puts the publisher and the environment it runs with.
const (
	publisherBinaryPath = "/usr/local/bin/orders-publisher"
	publisherEnvPath    = "/etc/profile.d/orders-publisher.sh"
)

// NewPublisherStack defines the publisher instance. It runs in a VPC of its
// own with one public subnet and no inbound rule at all: Session Manager
// reaches the instance through its outbound HTTPS connection, so neither
// SSH nor a NAT gateway (about 32 USD a month) nor the four interface
// endpoints a private subnet would need instead (SSM, SSM messages, EC2
// messages, Kinesis: about 29 USD a month in one zone) are paid for; the
// public IPv4 address costs about 3.60 USD a month.
func NewPublisherStack(scope constructs.Construct, id string, props *PublisherStackProps) *PublisherStack {
	stack := awscdk.NewStack(scope, jsii.String(id), &props.StackProps)
	cfg := props.Config
	names := cfg.Names()
	s := &PublisherStack{Stack: stack}

	vpc := publisherVpc(stack, names, props.DataKey)
	sg := awsec2.NewSecurityGroup(stack, jsii.String("InstanceSecurityGroup"), &awsec2.SecurityGroupProps{
		Vpc:              vpc,
		Description:      jsii.String("Orders publisher: no inbound rules (Session Manager only), outbound HTTPS to AWS APIs"),
		AllowAllOutbound: jsii.Bool(false),
	})
	sg.AddEgressRule(awsec2.Peer_AnyIpv4(), awsec2.Port_Tcp(jsii.Number(443)), jsii.String("AWS APIs: Kinesis, S3, Systems Manager"), nil)

	s.Role = awsiam.NewRole(stack, jsii.String("InstanceRole"), &awsiam.RoleProps{
		AssumedBy:       awsiam.NewServicePrincipal(jsii.String("ec2.amazonaws.com"), nil),
		Description:     jsii.String("Orders publisher: put records on the orders stream and close batches in batch-completion/"),
		ManagedPolicies: &[]awsiam.IManagedPolicy{awsiam.ManagedPolicy_FromAwsManagedPolicyName(jsii.String("AmazonSSMManagedInstanceCore"))},
	})
	nag.Suppress(s.Role, nag.Suppression("AwsSolutions-IAM4",
		"AmazonSSMManagedInstanceCore is the documented minimum for Session Manager, the instance's only way in; it is maintained by AWS as the SSM APIs change.",
		"Policy::arn:<AWS::Partition>:iam::aws:policy/AmazonSSMManagedInstanceCore"))
	grantPublisher(s.Role, props)

	binary := publisherAsset(stack)
	s.Role.AddToPrincipalPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:       jsii.String("ReadPublisherBinary"),
		Actions:   jsii.Strings("s3:GetObject"),
		Resources: jsii.Strings(*binary.Bucket().ArnForObjects(binary.S3ObjectKey())),
	}))

	userData := awsec2.UserData_ForLinux(nil)
	userData.AddS3DownloadCommand(&awsec2.S3DownloadOptions{
		Bucket: binary.Bucket(), BucketKey: binary.S3ObjectKey(), LocalFile: jsii.String(publisherBinaryPath), Region: awscdk.Aws_REGION(),
	})
	userData.AddCommands(
		jsii.String("chmod 0755 "+publisherBinaryPath),
		awscdk.Fn_Join(jsii.String(""), &[]*string{
			jsii.String("printf 'export AWS_REGION=%s " + publisher.EnvStream + "=%s " + publisher.EnvBucket + "=%s\\n' '"),
			awscdk.Aws_REGION(), jsii.String("' '"), props.Stream.StreamName(), jsii.String("' '"), props.LandingBucket.BucketName(),
			jsii.String("' > " + publisherEnvPath),
		}),
	)

	s.Instance = awsec2.NewInstance(stack, jsii.String("Instance"), &awsec2.InstanceProps{
		Vpc:                      vpc,
		VpcSubnets:               &awsec2.SubnetSelection{SubnetType: awsec2.SubnetType_PUBLIC},
		AssociatePublicIpAddress: jsii.Bool(true),
		InstanceType:             awsec2.NewInstanceType(jsii.String(cfg.PublisherInstanceType)),
		// Resolved from the public SSM parameter at deploy time: a deploy
		// after a new AL2023 release replaces the instance, which holds no state.
		MachineImage: awsec2.MachineImage_LatestAmazonLinux2023(&awsec2.AmazonLinux2023ImageSsmParameterProps{
			CpuType: awsec2.AmazonLinuxCpuType_ARM_64,
		}),
		SecurityGroup: sg,
		Role:          s.Role,
		// IMDSv2 only, set on the instance itself rather than through a
		// launch template.
		HttpTokens:   awsec2.HttpTokens_REQUIRED,
		HttpEndpoint: jsii.Bool(true),
		BlockDevices: &[]*awsec2.BlockDevice{{
			DeviceName: jsii.String("/dev/xvda"),
			Volume: awsec2.BlockDeviceVolume_Ebs(jsii.Number(8), &awsec2.EbsDeviceOptions{
				Encrypted:           jsii.Bool(true),
				VolumeType:          awsec2.EbsDeviceVolumeType_GP3,
				DeleteOnTermination: jsii.Bool(true),
			}),
		}},
		UserData: userData,
		// A new binary must reach the instance: replace it when user data
		// (which names the asset) changes.
		UserDataCausesReplacement: jsii.Bool(true),
	})
	nag.Suppress(s.Instance,
		nag.Suppression("AwsSolutions-EC28", "The publisher is a manually driven tool instance; five-minute basic monitoring is enough and detailed monitoring would be paid for idle time."),
		nag.Suppression("AwsSolutions-EC29", "The publisher holds no state (binary and settings come from the stack), so it is meant to be replaced or destroyed with the stack; termination protection would block that."),
	)

	instanceID := *s.Instance.InstanceId()
	output := func(id, value, description string) {
		awscdk.NewCfnOutput(stack, jsii.String(id), &awscdk.CfnOutputProps{Value: jsii.String(value), Description: jsii.String(description)})
	}
	output("InstanceId", instanceID, "EC2 instance of the orders publisher")
	// The names by their naming rules, not by imports of the storage stack:
	// an output that only repeats an import is a template warning (W6001),
	// and the names are what the storage stack was given anyway.
	output("StreamName", names.Stream, "Kinesis stream the publisher writes to ("+publisher.EnvStream+")")
	output("LandingBucketName", *bucketName(stack, cfg, names.LandingBucketSeed, cfg.LandingBucketName), "Landing bucket of the completion objects ("+publisher.EnvBucket+")")
	output("StartSessionCommand", "aws ssm start-session --target "+instanceID,
		"Opens a shell on the publisher; run `bash -l` there, then `orders-publisher --count 1000`")
	output("SendBatchCommand", fmt.Sprintf(
		`aws ssm send-command --instance-ids %s --document-name AWS-RunShellScript --parameters 'commands=[". %s && %s --count 1000 --progress never"]'`,
		instanceID, publisherEnvPath, publisherBinaryPath),
		"Sends one batch of 1000 generated orders without opening a session")
	return s
}

// publisherVpc has one public subnet in one zone, no NAT gateway, flow logs
// and a free S3 gateway endpoint for the binary download and the manifests.
// The subnet gives no public address by default: the instance asks for its
// own, so nothing else launched there is reachable by accident.
func publisherVpc(stack awscdk.Stack, names config.Names, key awskms.IKey) awsec2.Vpc {
	vpc := awsec2.NewVpc(stack, jsii.String("Vpc"), &awsec2.VpcProps{
		IpAddresses: awsec2.IpAddresses_Cidr(jsii.String("10.41.0.0/24")),
		MaxAzs:      jsii.Number(1),
		NatGateways: jsii.Number(0),
		SubnetConfiguration: &[]*awsec2.SubnetConfiguration{{
			Name: jsii.String("Public"), SubnetType: awsec2.SubnetType_PUBLIC, CidrMask: jsii.Number(28),
			MapPublicIpOnLaunch: jsii.Bool(false),
		}},
		GatewayEndpoints: &map[string]*awsec2.GatewayVpcEndpointOptions{
			"S3": {Service: awsec2.GatewayVpcEndpointAwsService_S3()},
		},
	})
	flowLogs := awslogs.NewLogGroup(stack, jsii.String("FlowLogs"), &awslogs.LogGroupProps{
		LogGroupName:  jsii.String(names.LogGroup(config.FlowLogs, "publisher")),
		EncryptionKey: key,
		// Rejected connections only, so a year of them stays small.
		Retention: awslogs.RetentionDays_ONE_YEAR,
		// Flow logs are diagnostics of a throwaway tool VPC.
		RemovalPolicy: awscdk.RemovalPolicy_DESTROY,
	})
	// Rejected traffic only: with no inbound rule that is what is worth
	// reading, and it keeps the log small.
	vpc.AddFlowLog(jsii.String("FlowLog"), &awsec2.FlowLogOptions{
		Destination: awsec2.FlowLogDestination_ToCloudWatchLogs(flowLogs, nil),
		TrafficType: awsec2.FlowLogTrafficType_REJECT,
	})
	return vpc
}

// grantPublisher allows exactly what the publisher does: put records on
// the stream and write completion objects, both encrypted with the data key.
func grantPublisher(role awsiam.Role, props *PublisherStackProps) {
	role.AddToPrincipalPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:       jsii.String("PutOrders"),
		Actions:   jsii.Strings("kinesis:PutRecords", "kinesis:DescribeStreamSummary"),
		Resources: &[]*string{props.Stream.StreamArn()},
	}))
	role.AddToPrincipalPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:       jsii.String("CloseBatches"),
		Actions:   jsii.Strings("s3:PutObject"),
		Resources: &[]*string{props.LandingBucket.ArnForObjects(jsii.String(config.CompletionPrefix + "*"))},
	}))
	// The completion object: SSE-KMS on the landing bucket asks KMS for a
	// data key of the DataKey in the caller's name. The stream needs no
	// grant here: it is encrypted with the AWS managed key aws/kinesis,
	// whose policy lets every principal that may write to the stream use it.
	role.AddToPrincipalPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:       jsii.String("EncryptWithDataKey"),
		Actions:   jsii.Strings("kms:Encrypt", "kms:GenerateDataKey"),
		Resources: &[]*string{props.DataKey.KeyArn()},
	}))
	// The bucket's ARN arrives as a cross-stack reference, which cdk-nag
	// renders as an import or a stack output depending on synthesis order,
	// so the finding is matched by its fixed tail.
	nag.Suppress(role, nag.Suppression("AwsSolutions-IAM5",
		"The publisher writes one completion object per batch with a new name, so it needs every key under batch-completion/ and nothing else of the bucket.",
		`regex:/^Resource::.*\/batch-completion\/\*$/`))
}

// publisherAsset is the publisher binary for linux/arm64, built by the host
// Go toolchain like the Lambdas and uploaded as a single-file asset.
func publisherAsset(stack awscdk.Stack) awss3assets.Asset {
	root := gofunction.MustModuleRoot()
	hash, err := gofunction.SourceHash(root, "cmd/publisher")
	if err != nil {
		panic(fmt.Sprintf("publisher asset: %v", err))
	}
	return awss3assets.NewAsset(stack, jsii.String("PublisherBinary"), &awss3assets.AssetProps{
		Path:          jsii.String(root),
		AssetHashType: awscdk.AssetHashType_CUSTOM,
		AssetHash:     jsii.String(hash),
		Bundling: &awscdk.BundlingOptions{
			// Never pulled: local bundling always succeeds or panics.
			Image:      awscdk.DockerImage_FromRegistry(jsii.String("local-go-build-only")),
			Local:      &localPublisherBuild{root: root},
			OutputType: awscdk.BundlingOutput_SINGLE_FILE,
		},
	})
}

// localPublisherBuild implements awscdk.ILocalBundling with gofunction.Build.
type localPublisherBuild struct{ root string }

func (b *localPublisherBuild) TryBundle(outputDir *string, _ *awscdk.BundlingOptions) *bool {
	if err := gofunction.Build(b.root, "cmd/publisher", filepath.Join(*outputDir, "orders-publisher")); err != nil {
		// Returning false would send CDK to Docker, which this project does not use.
		panic(fmt.Sprintf("building the publisher: %v", err))
	}
	return jsii.Bool(true)
}
