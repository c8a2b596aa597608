package stacks

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsevents"
	"github.com/aws/aws-cdk-go/awscdk/v2/awseventstargets"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssns"
	"github.com/aws/jsii-runtime-go"
	"github.com/orders-pipeline/orders-pipeline/internal/config"
)

// glueJobNames are the workflow's jobs, crawlers excluded.
func glueJobNames(n config.Names) []string {
	return []string{n.LandingAuditJob, n.LandingToStagingJob, n.StagingAuditJob, n.StagingToRedshiftJob,
		n.RedshiftStagingAuditJob, n.RedshiftStagingToFinalJob, n.RedshiftFinalAuditJob}
}

// newGlueFailureRules turn Glue's own state-change events into notifications:
// a failed, timed-out or stopped job run or a failed crawl stops the
// workflow, and without these nobody would know until counts went missing.
func newGlueFailureRules(stack awscdk.Stack, cfg config.Config, topic awssns.ITopic) {
	n := cfg.Names()
	jobs := awsevents.NewRule(stack, jsii.String("GlueJobFailures"), &awsevents.RuleProps{
		Description: jsii.String("Glue job runs of the orders workflow that failed, timed out or were stopped"),
		EventPattern: &awsevents.EventPattern{
			Source:     jsii.Strings("aws.glue"),
			DetailType: jsii.Strings("Glue Job State Change"),
			Detail: &map[string]interface{}{
				"jobName": glueJobNames(n),
				"state":   []string{"FAILED", "TIMEOUT", "STOPPED", "ERROR"},
			},
		},
	})
	jobs.AddTarget(awseventstargets.NewSnsTopic(topic, &awseventstargets.SnsTopicProps{
		Message: awsevents.RuleTargetInput_FromText(jsii.String(
			"Glue job " + *awsevents.EventField_FromPath(jsii.String("$.detail.jobName")) +
				" run " + *awsevents.EventField_FromPath(jsii.String("$.detail.jobRunId")) +
				" ended " + *awsevents.EventField_FromPath(jsii.String("$.detail.state")) +
				": " + *awsevents.EventField_FromPath(jsii.String("$.detail.message")) +
				". The workflow " + n.Workflow + " stopped at this job; later layers of this run were not loaded.")),
	}))
	crawlers := awsevents.NewRule(stack, jsii.String("GlueCrawlerFailures"), &awsevents.RuleProps{
		Description: jsii.String("Crawls of the orders workflow that failed"),
		EventPattern: &awsevents.EventPattern{
			Source:     jsii.Strings("aws.glue"),
			DetailType: jsii.Strings("Glue Crawler State Change"),
			Detail: &map[string]interface{}{
				"crawlerName": []string{n.LandingCrawler, n.StagingCrawler},
				"state":       []string{"Failed"},
			},
		},
	})
	crawlers.AddTarget(awseventstargets.NewSnsTopic(topic, &awseventstargets.SnsTopicProps{
		Message: awsevents.RuleTargetInput_FromText(jsii.String(
			"Glue crawler " + *awsevents.EventField_FromPath(jsii.String("$.detail.crawlerName")) +
				" failed: " + *awsevents.EventField_FromPath(jsii.String("$.detail.errorMessage")) +
				". The workflow " + n.Workflow + " stopped; new partitions are not in the catalog.")),
	}))
}
