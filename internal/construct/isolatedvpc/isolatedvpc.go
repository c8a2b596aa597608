// Package isolatedvpc is a VPC with no way to or from the internet:
// isolated subnets only (no internet gateway, no NAT gateway), an S3
// gateway endpoint so traffic to S3 stays on the AWS network, and flow logs
// into a KMS-encrypted log group.
package isolatedvpc

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsec2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
)

// SubnetGroup is the name of the one subnet group.
const SubnetGroup = "isolated"

// Props configure the VPC.
type Props struct {
	Cidr string
	// Zones are the availability zones, one subnet each. Tokens (such as
	// Fn::Select over Fn::GetAZs) are fine.
	Zones []*string
	// LogKey encrypts the flow-log group.
	LogKey awskms.IKey
	// LogRetention is how long flow logs are kept.
	LogRetention awslogs.RetentionDays
	// RemovalPolicy is what happens to the flow-log group with its stack;
	// empty retains it.
	RemovalPolicy awscdk.RemovalPolicy
}

// VPC is the network and its flow-log group.
type VPC struct {
	Vpc      awsec2.Vpc
	FlowLogs awslogs.LogGroup
}

// New defines the VPC.
func New(scope constructs.Construct, id string, props Props) VPC {
	c := constructs.NewConstruct(scope, jsii.String(id))
	removal := props.RemovalPolicy
	if removal == "" {
		removal = awscdk.RemovalPolicy_RETAIN
	}
	// CloudWatch Logs encrypts with the key as its regional service principal.
	logs := awsiam.NewServicePrincipal(jsii.String("logs."+*awscdk.Stack_Of(c).Region()+".amazonaws.com"), nil)
	props.LogKey.GrantEncryptDecrypt(logs)
	group := awslogs.NewLogGroup(c, jsii.String("FlowLogs"), &awslogs.LogGroupProps{
		EncryptionKey: props.LogKey,
		Retention:     props.LogRetention,
		RemovalPolicy: removal,
	})
	vpc := awsec2.NewVpc(c, jsii.String("Vpc"), &awsec2.VpcProps{
		IpAddresses:       awsec2.IpAddresses_Cidr(jsii.String(props.Cidr)),
		AvailabilityZones: &props.Zones,
		NatGateways:       jsii.Number(0),
		SubnetConfiguration: &[]*awsec2.SubnetConfiguration{{
			Name:       jsii.String(SubnetGroup),
			SubnetType: awsec2.SubnetType_PRIVATE_ISOLATED,
			CidrMask:   jsii.Number(24),
		}},
		GatewayEndpoints: &map[string]*awsec2.GatewayVpcEndpointOptions{
			"S3": {Service: awsec2.GatewayVpcEndpointAwsService_S3()},
		},
		FlowLogs: &map[string]*awsec2.FlowLogOptions{
			"All": {
				Destination: awsec2.FlowLogDestination_ToCloudWatchLogs(group, nil),
				TrafficType: awsec2.FlowLogTrafficType_ALL,
			},
		},
		// Nothing is ever placed in the default security group, and locking
		// it down would need a custom-resource Lambda outside any VPC.
		RestrictDefaultSecurityGroup: jsii.Bool(false),
	})
	return VPC{Vpc: vpc, FlowLogs: group}
}
