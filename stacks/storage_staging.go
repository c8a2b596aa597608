package stacks

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/jsii-runtime-go"
	"github.com/orders-pipeline/orders-pipeline/internal/config"
	"github.com/orders-pipeline/orders-pipeline/internal/construct/securebucket"
)

// athenaResultsDays is how long Athena query results are kept: the audit
// jobs read a result once, right after the query, so they only need to
// outlive a retried job run.
const athenaResultsDays = 30

// addStagingArea defines the S3 staging area (exploded orders, the Redshift
// COPY files), the bucket that holds Athena's query results and the one
// for the Glue jobs' shared modules, and lets CloudWatch Logs encrypt the
// pipeline's log groups with the data key.
func addStagingArea(s *StorageStack, cfg config.Config) {
	destroy := cfg.RemovalPolicy == "destroy"
	s.StagingBucket = securebucket.New(s.Stack, "StagingBucket", securebucket.Props{
		BucketName:            bucketName(s.Stack, cfg, cfg.Names().StagingBucketSeed, cfg.StagingBucketName),
		Key:                   s.DataKey,
		AccessLogs:            s.AccessLogs,
		AccessLogsPrefix:      "staging-area/",
		ExpirationDays:        cfg.StagingExpirationDays,
		NoncurrentVersionDays: cfg.NoncurrentVersionDays,
		Destroy:               destroy,
	})
	s.AthenaResults = securebucket.New(s.Stack, "AthenaResults", securebucket.Props{
		Key:                   s.DataKey,
		AccessLogs:            s.AccessLogs,
		AccessLogsPrefix:      "athena-results/",
		ExpirationDays:        athenaResultsDays,
		NoncurrentVersionDays: 1,
		Destroy:               destroy,
	})
	// Only the current modules matter: the deployment replaces them.
	s.GlueCode = securebucket.New(s.Stack, "GlueCode", securebucket.Props{
		Key:                   s.DataKey,
		AccessLogs:            s.AccessLogs,
		AccessLogsPrefix:      "glue-code/",
		NoncurrentVersionDays: 1,
		Destroy:               destroy,
	})
	allowLogEncryption(s, cfg)
}

// allowLogEncryption lets CloudWatch Logs encrypt the pipeline's log
// groups with the data key: the Glue crawler and job groups (the Glue
// security configuration asks for it) and the Lambda and Firehose groups
// the other stacks name with logGroupName. The key policy has to name the
// Logs service for that, and the condition keeps it to those groups.
func allowLogEncryption(s *StorageStack, cfg config.Config) {
	groupArn := func(pattern string) *string {
		return awscdk.Fn_Join(jsii.String(""), &[]*string{
			jsii.String("arn:"), s.Stack.Partition(), jsii.String(":logs:"), s.Stack.Region(), jsii.String(":"),
			s.Stack.Account(), jsii.String(":log-group:" + pattern),
		})
	}
	s.DataKey.AddToResourcePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:        jsii.String("PipelineLogGroupsEncryption"),
		Principals: &[]awsiam.IPrincipal{awsiam.NewServicePrincipal(awscdk.Fn_Join(jsii.String(""), &[]*string{jsii.String("logs."), s.Stack.Region(), jsii.String(".amazonaws.com")}), nil)},
		Actions:    jsii.Strings("kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"),
		Resources:  jsii.Strings("*"),
		Conditions: &map[string]interface{}{
			"ArnLike": map[string]interface{}{"kms:EncryptionContext:aws:logs:arn": &[]*string{
				groupArn("/aws-glue/*"),
				groupArn(logGroupName(cfg, lambdaLogs, "*")),
				groupArn(logGroupName(cfg, firehoseLogs, "*")),
				groupArn(logGroupName(cfg, flowLogsService, "*")),
			}},
		},
	}), nil)
}
