// Package workflowtarget is an EventBridge rule target that starts a Glue
// workflow through its EVENT trigger. The CDK has no ready-made Glue
// target: EventBridge calls glue:notifyEvent on the workflow with a role,
// and events it cannot deliver after the retries go to a dead-letter queue.
package workflowtarget

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsevents"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssqs"
	"github.com/aws/aws-cdk-go/awscdk/v2/interfaces/interfacesawsevents"
	"github.com/aws/jsii-runtime-go"
)

// Props configure the target.
type Props struct {
	// WorkflowArn is the workflow whose EVENT trigger receives the events.
	WorkflowArn *string
	// Role is assumed by EventBridge; it gets glue:notifyEvent on the
	// workflow and nothing else.
	Role awsiam.IRole
	// DeadLetterQueue receives events that could not be delivered.
	DeadLetterQueue awssqs.IQueue
	// RetryAttempts and MaxEventAge bound EventBridge's retries.
	RetryAttempts int
	MaxEventAge   awscdk.Duration
}

// Target implements awsevents.IRuleTarget.
type Target struct {
	props Props
}

// New returns the target; the role's permission is granted here so every
// rule using it gets exactly the same, narrow policy.
func New(props Props) *Target {
	props.Role.AddToPrincipalPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Actions:   jsii.Strings("glue:notifyEvent"),
		Resources: &[]*string{props.WorkflowArn},
	}))
	return &Target{props: props}
}

// Bind is called by the rule for each target it is given.
func (t *Target) Bind(rule interfacesawsevents.IRuleRef, _ *string) *awsevents.RuleTargetConfig {
	ruleArn := rule.RuleRef().RuleArn
	// EventBridge may write to the queue only on behalf of this rule.
	t.props.DeadLetterQueue.AddToResourcePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:        jsii.String("AllowEventRuleDeadLetters"),
		Principals: &[]awsiam.IPrincipal{awsiam.NewServicePrincipal(jsii.String("events.amazonaws.com"), nil)},
		Actions:    jsii.Strings("sqs:SendMessage"),
		Resources:  &[]*string{t.props.DeadLetterQueue.QueueArn()},
		Conditions: &map[string]interface{}{"ArnEquals": map[string]interface{}{"aws:SourceArn": ruleArn}},
	}))
	return &awsevents.RuleTargetConfig{
		Arn:  t.props.WorkflowArn,
		Role: t.props.Role,
		RetryPolicy: &awsevents.CfnRule_RetryPolicyProperty{
			MaximumRetryAttempts:     jsii.Number(float64(t.props.RetryAttempts)),
			MaximumEventAgeInSeconds: t.props.MaxEventAge.ToSeconds(nil),
		},
		DeadLetterConfig: &awsevents.CfnRule_DeadLetterConfigProperty{Arn: t.props.DeadLetterQueue.QueueArn()},
	}
}
