package stacks

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/jsii-runtime-go"
	"github.com/orders-pipeline/orders-pipeline/internal/config"
)

// bucketName is the one naming rule of the pipeline's data buckets: the
// configured full name if any, else the seed name plus a suffix that makes
// it globally unique — bucketNameSuffix, or the account and region the
// stack deploys to.
func bucketName(stack awscdk.Stack, cfg config.Config, seedName, override string) *string {
	if override != "" {
		return jsii.String(override)
	}
	if cfg.BucketNameSuffix != "" {
		return jsii.String(seedName + "-" + cfg.BucketNameSuffix)
	}
	return awscdk.Fn_Join(jsii.String("-"), &[]*string{jsii.String(seedName), stack.Account(), stack.Region()})
}
