package stacks

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsevents"
	"github.com/aws/aws-cdk-go/awscdk/v2/awseventstargets"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsglue"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsscheduler"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsschedulertargets"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssqs"
	"github.com/aws/jsii-runtime-go"
	"github.com/orders-pipeline/orders-pipeline/internal/construct/workflowtarget"
)

// A lost start event delays a run until the next completion file, so
// EventBridge retries for a long time before giving an event to the
// dead-letter queue.
const (
	triggerRetryAttempts = 20
	triggerMaxEventHours = 6
)

// batchCompletionPattern is the seed's orders-eventbridge-rule pattern: an
// object created under batch-completion/ of the landing bucket.
func batchCompletionPattern(landingBucket *string) map[string]any {
	return map[string]any{
		"source":      []any{"aws.s3"},
		"detail-type": []any{"Object Created"},
		"detail": map[string]any{
			"bucket": map[string]any{"name": []any{landingBucket}},
			"object": map[string]any{"key": []any{map[string]any{"prefix": "batch-completion/"}}},
		},
	}
}

// continuousLoopPattern is the seed's orders-infinite-loop-rule pattern:
// the workflow's last job succeeded, or a completion file arrived (the
// first run, and the restart after a failed run).
func continuousLoopPattern(landingBucket *string, lastJob string) map[string]any {
	return map[string]any{"$or": []any{
		map[string]any{
			"detail-type": []any{"Glue Job State Change"},
			"source":      []any{"aws.glue"},
			"detail": map[string]any{
				"jobName": []any{lastJob},
				"state":   []any{"SUCCEEDED"},
			},
		},
		batchCompletionPattern(landingBucket),
	}}
}

// newTriggerRule defines the rule that starts the workflow, in the variant
// triggerMode selects, its dead-letter queue, and the optional schedule of
// the continuous loop.
func newTriggerRule(stack awscdk.Stack, in orchestrationInputs, wf awsglue.Workflow, lastJob string) (awsevents.Rule, awssqs.IQueue) {
	id, name := "BatchCompletionRule", in.names.EventBridgeRule
	description := "Starts orders-workflow when the source system drops its completion file under batch-completion/"
	pattern := batchCompletionPattern(in.landing.BucketName())
	if in.cfg.TriggerMode == "continuous" {
		id, name = "ContinuousLoopRule", in.names.InfiniteLoopRule
		description = "Restarts orders-workflow when " + lastJob + " succeeded, or starts it on a completion file"
		pattern = continuousLoopPattern(in.landing.BucketName(), lastJob)
	}
	r := awsevents.NewRule(stack, jsii.String(id), &awsevents.RuleProps{
		RuleName:    jsii.String(name),
		Description: jsii.String(description),
		// Replaced below: EventPattern cannot express the seed's top-level $or.
		EventPattern: &awsevents.EventPattern{Source: jsii.Strings("aws.s3")},
	})
	setEventPattern(r, pattern)

	deadLetters := newFinalQueue(stack, "TriggerDeadLetters", "the start events the workflow trigger rule could not deliver")
	maxAge := awscdk.Duration_Hours(jsii.Number(triggerMaxEventHours))

	role := awsiam.NewRole(stack, jsii.String("TriggerRole"), &awsiam.RoleProps{
		AssumedBy:   awsiam.NewServicePrincipal(jsii.String("events.amazonaws.com"), nil),
		Description: jsii.String("EventBridge notifies " + in.names.Workflow + "'s EVENT trigger"),
	})
	r.AddTarget(workflowtarget.New(workflowtarget.Props{
		WorkflowArn:     wf.WorkflowArn(),
		Role:            role,
		DeadLetterQueue: deadLetters,
		RetryAttempts:   triggerRetryAttempts,
		MaxEventAge:     maxAge,
	}))
	// The same event closes the open run id, so records after it belong to
	// the next run.
	if in.runRotator != nil {
		r.AddTarget(awseventstargets.NewLambdaFunction(in.runRotator, &awseventstargets.LambdaFunctionProps{
			DeadLetterQueue: deadLetters,
			RetryAttempts:   jsii.Number(triggerRetryAttempts),
			MaxEventAge:     maxAge,
		}))
	}
	if in.cfg.TriggerMode == "continuous" {
		newLoopSchedules(stack, in, r)
	}
	return r, deadLetters
}

// setEventPattern replaces the rule's pattern with the seed's JSON. An
// override is merged into the rendered pattern, so the placeholder's
// "source" is deleted where the seed's pattern has none at the top.
func setEventPattern(r awsevents.Rule, pattern map[string]any) {
	cfn := r.Node().DefaultChild().(awsevents.CfnRule)
	cfn.AddPropertyOverride(jsii.String("EventPattern"), pattern)
	if _, ok := pattern["source"]; !ok {
		cfn.AddPropertyDeletionOverride(jsii.String("EventPattern.source"))
	}
}

// newLoopSchedules enable and disable the continuous-loop rule at the
// configured times, so the loop does not burn crawler and job time when no
// data is expected (the seed's warning about option 2).
func newLoopSchedules(stack awscdk.Stack, in orchestrationInputs, rule awsevents.Rule) {
	for _, s := range []struct{ id, cron, action, iamAction string }{
		{"LoopEnableSchedule", in.cfg.ContinuousLoopEnableCron, "enableRule", "events:EnableRule"},
		{"LoopDisableSchedule", in.cfg.ContinuousLoopDisableCron, "disableRule", "events:DisableRule"},
	} {
		if s.cron == "" {
			continue
		}
		awsscheduler.NewSchedule(stack, jsii.String(s.id), &awsscheduler.ScheduleProps{
			Description: jsii.String("Calls " + s.iamAction + " on " + in.names.InfiniteLoopRule),
			Schedule:    awsscheduler.ScheduleExpression_Expression(jsii.String(s.cron), awscdk.TimeZone_Of(jsii.String(in.cfg.ContinuousLoopTimezone))),
			Target: awsschedulertargets.NewUniversal(&awsschedulertargets.UniversalTargetProps{
				Service: jsii.String("eventbridge"),
				Action:  jsii.String(s.action),
				Input:   awsscheduler.ScheduleTargetInput_FromObject(map[string]any{"Name": rule.RuleName()}),
				PolicyStatements: &[]awsiam.PolicyStatement{awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
					Actions:   jsii.Strings(s.iamAction),
					Resources: &[]*string{rule.RuleArn()},
				})},
			}),
		})
	}
}
