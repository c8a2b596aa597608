package stacks

import (
	"fmt"
	"sort"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatch"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatchactions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssns"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssnssubscriptions"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/orders-pipeline/orders-pipeline/internal/config"
	"github.com/orders-pipeline/orders-pipeline/internal/construct/servicekey"
)

// OperationsStackProps configure the operations stack.
type OperationsStackProps struct {
	awscdk.StackProps
	Config   config.Config
	Pipeline *Pipeline
}

// OperationsStack holds the alarms and the dashboard that watch the pipeline.
type OperationsStack struct {
	// Stack is kept as a field, not embedded: jsii cannot pass a Go struct
	// that embeds a construct back into the CDK.
	Stack awscdk.Stack
	// Topic receives every alarm and Glue failure event.
	Topic awssns.Topic
	// Alarms are the pipeline's alarms by construct ID, for tests and dashboards.
	Alarms map[string]awscloudwatch.Alarm
	// Dashboard shows the pipeline from stream to warehouse.
	Dashboard awscloudwatch.Dashboard
}

// NewOperationsStack defines the operations topic, the alarms, the Glue
// failure rules and the dashboard.
func NewOperationsStack(scope constructs.Construct, id string, props *OperationsStackProps) *OperationsStack {
	stack := awscdk.NewStack(scope, jsii.String(id), &props.StackProps)
	cfg := props.Config
	o := &OperationsStack{Stack: stack, Alarms: map[string]awscloudwatch.Alarm{}}

	// CloudWatch and EventBridge can publish to an encrypted topic only when
	// the key's policy lets them use it, which an AWS-managed key cannot.
	key := awskms.NewKey(stack, jsii.String("TopicKey"), &awskms.KeyProps{
		Description:       jsii.String("Encrypts the orders pipeline's operations topic"),
		EnableKeyRotation: jsii.Bool(true),
		RemovalPolicy:     awscdk.RemovalPolicy_DESTROY,
	})
	key.AddToResourcePolicy(servicekey.GrantsOnlyForAWSServices(), nil)
	o.Topic = awssns.NewTopic(stack, jsii.String("Topic"), &awssns.TopicProps{
		DisplayName: jsii.String("Orders pipeline operations"),
		MasterKey:   key,
		EnforceSSL:  jsii.Bool(true),
	})
	allowAlarmNotifications(stack, o.Topic, key)
	for _, email := range cfg.OperationsEmails {
		o.Topic.AddSubscription(awssnssubscriptions.NewEmailSubscription(jsii.String(email), nil))
	}
	if len(cfg.OperationsEmails) == 0 {
		warnUnsubscribed(o.Topic, "operations (alarm and Glue failure)", "operationsEmails")
	}

	newPipelineAlarms(o, cfg, props.Pipeline)
	newGlueFailureRules(stack, cfg, o.Topic)
	o.Dashboard = newPipelineDashboard(stack, cfg, props.Pipeline, o)
	return o
}

// allowAlarmNotifications lets CloudWatch alarms of this account publish
// to the topic. The topic has a policy of its own (TLS only, the
// EventBridge targets), and an explicit topic policy replaces SNS's
// default one, so without this statement every alarm action fails. The
// EventBridge rules' SnsTopic targets add their own statements to both
// policies; EventBridge sends no source account or ARN to KMS, so theirs
// cannot carry the conditions CloudWatch's do.
func allowAlarmNotifications(stack awscdk.Stack, topic awssns.Topic, key awskms.Key) {
	conditions := &map[string]interface{}{
		"StringEquals": map[string]interface{}{"aws:SourceAccount": stack.Account()},
		"ArnLike": map[string]interface{}{"aws:SourceArn": stack.FormatArn(&awscdk.ArnComponents{
			Service: jsii.String("cloudwatch"), Resource: jsii.String("alarm"), ResourceName: jsii.String("*"),
			ArnFormat: awscdk.ArnFormat_COLON_RESOURCE_NAME,
		})},
	}
	cloudwatch := awsiam.NewServicePrincipal(jsii.String("cloudwatch.amazonaws.com"), nil)
	topic.AddToResourcePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:        jsii.String("AllowAccountAlarms"),
		Principals: &[]awsiam.IPrincipal{cloudwatch},
		Actions:    jsii.Strings("sns:Publish"),
		Resources:  &[]*string{topic.TopicArn()},
		Conditions: conditions,
	}))
	key.AddToResourcePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:        jsii.String("AllowAccountAlarms"),
		Principals: &[]awsiam.IPrincipal{cloudwatch},
		Actions:    jsii.Strings("kms:Decrypt", "kms:GenerateDataKey*"),
		Resources:  jsii.Strings("*"),
		Conditions: conditions,
	}), nil)
}

// alarmSpec is one alarm on one metric.
type alarmSpec struct {
	id          string
	metric      awscloudwatch.IMetric
	threshold   float64
	comparison  awscloudwatch.ComparisonOperator
	description string
}

// addAlarm defines an alarm that notifies the operations topic, both when it
// fires and when it clears, and treats missing data (an idle pipeline) as fine.
func (o *OperationsStack) addAlarm(s alarmSpec) {
	if s.comparison == "" {
		s.comparison = awscloudwatch.ComparisonOperator_GREATER_THAN_THRESHOLD
	}
	alarm := awscloudwatch.NewAlarm(o.Stack, jsii.String(s.id), &awscloudwatch.AlarmProps{
		Metric:             s.metric,
		Threshold:          jsii.Number(s.threshold),
		ComparisonOperator: s.comparison,
		EvaluationPeriods:  jsii.Number(1),
		TreatMissingData:   awscloudwatch.TreatMissingData_NOT_BREACHING,
		AlarmDescription:   jsii.String(s.description),
	})
	action := awscloudwatchactions.NewSnsAction(o.Topic)
	alarm.AddAlarmAction(action)
	alarm.AddOkAction(action)
	o.Alarms[s.id] = alarm
}

func minutes(n float64) awscdk.Duration { return awscdk.Duration_Minutes(jsii.Number(n)) }

func stat(statistic string, period awscdk.Duration) *awscloudwatch.MetricOptions {
	return &awscloudwatch.MetricOptions{Statistic: jsii.String(statistic), Period: period}
}

func describe(format string, args ...any) string { return fmt.Sprintf(format, args...) }

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
