package stacks

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/jsii-runtime-go"
	"github.com/orders-pipeline/orders-pipeline/internal/config"
)

// bucketName is the one naming rule of the pipeline's data buckets
// (config.BucketName, whose length validation checks): the configured full
// name if any, else the seed name plus a suffix that makes it globally
// unique — bucketNameSuffix, or the account and region the stack deploys to.
func bucketName(stack awscdk.Stack, cfg config.Config, seedName, override string) *string {
	if override != "" || cfg.BucketNameSuffix != "" {
		name, _ := cfg.BucketName(seedName, override)
		return jsii.String(name)
	}
	return awscdk.Fn_Join(jsii.String("-"), &[]*string{jsii.String(seedName), stack.Account(), stack.Region()})
}

// pipelineName names the pipeline's own resources that the seed does not
// name: "<prefix>orders-pipeline-<stage>".
func pipelineName(cfg config.Config) string {
	return cfg.Names().Pipeline
}

// dataKeyAlias is the alias of the Storage stack's DataKey. Other stacks
// name the key by it where a literal is needed (see the Athena workgroup).
func dataKeyAlias(cfg config.Config) string {
	return "alias/" + pipelineName(cfg)
}

// Services whose log groups the pipeline names and encrypts with the data
// key; logGroupName puts every such group under one prefix per service.
const (
	lambdaLogs      = "lambda"
	firehoseLogs    = "kinesisfirehose"
	flowLogsService = "vpcflowlogs"
)

// logGroupName is "/aws/<service>/<prefix>orders-pipeline-<stage>-<name>".
// The data key's policy lets CloudWatch Logs use it for exactly these names
// (see allowLogEncryption).
func logGroupName(cfg config.Config, service, name string) string {
	return "/aws/" + service + "/" + pipelineName(cfg) + "-" + name
}
