package stacks

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/jsii-runtime-go"
	"github.com/orders-pipeline/orders-pipeline/internal/config"
)

// Redshift Serverless needs subnets in three availability zones, but an
// environment-agnostic stack only gets two from the CDK. These are the
// first three zones of the common regions, used when the region is known.
var regionZones = map[string][]string{
	"us-east-1":      {"us-east-1a", "us-east-1b", "us-east-1c"},
	"us-east-2":      {"us-east-2a", "us-east-2b", "us-east-2c"},
	"us-west-2":      {"us-west-2a", "us-west-2b", "us-west-2c"},
	"ca-central-1":   {"ca-central-1a", "ca-central-1b", "ca-central-1d"},
	"eu-west-1":      {"eu-west-1a", "eu-west-1b", "eu-west-1c"},
	"eu-west-2":      {"eu-west-2a", "eu-west-2b", "eu-west-2c"},
	"eu-west-3":      {"eu-west-3a", "eu-west-3b", "eu-west-3c"},
	"eu-central-1":   {"eu-central-1a", "eu-central-1b", "eu-central-1c"},
	"eu-north-1":     {"eu-north-1a", "eu-north-1b", "eu-north-1c"},
	"ap-northeast-1": {"ap-northeast-1a", "ap-northeast-1c", "ap-northeast-1d"},
	"ap-northeast-2": {"ap-northeast-2a", "ap-northeast-2b", "ap-northeast-2c"},
	"ap-southeast-1": {"ap-southeast-1a", "ap-southeast-1b", "ap-southeast-1c"},
	"ap-southeast-2": {"ap-southeast-2a", "ap-southeast-2b", "ap-southeast-2c"},
	"ap-south-1":     {"ap-south-1a", "ap-south-1b", "ap-south-1c"},
	"sa-east-1":      {"sa-east-1a", "sa-east-1b", "sa-east-1c"},
}

// warehouseZones picks the three zones of the warehouse VPC: the configured
// ones, else the known region's defaults, else the first three zones
// CloudFormation finds in the deployment region (Fn::GetAZs).
func warehouseZones(stack awscdk.Stack, cfg config.Config) []*string {
	if len(cfg.AvailabilityZones) == 3 {
		return *jsii.Strings(cfg.AvailabilityZones...)
	}
	if region := stack.Region(); !*awscdk.Token_IsUnresolved(region) {
		if zones, ok := regionZones[*region]; ok {
			return *jsii.Strings(zones...)
		}
	}
	zones := make([]*string, 3)
	for i := range zones {
		zones[i] = awscdk.Fn_Select(jsii.Number(float64(i)), awscdk.Fn_GetAzs(nil))
	}
	return zones
}
