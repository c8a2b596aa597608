package stacks

import (
	"fmt"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/jsii-runtime-go"
	"github.com/orders-pipeline/orders-pipeline/internal/config"
)

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
