package stacks

import (
	"fmt"
	"sort"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatch"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatchactions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsevents"
	"github.com/aws/aws-cdk-go/awscdk/v2/awseventstargets"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskinesis"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskinesisfirehose"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssns"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssnssubscriptions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssqs"
	"github.com/aws/aws-cdk-go/awscdk/v2/interfaces/interfacesawscloudwatch"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/orders-pipeline/orders-pipeline/internal/config"
	"github.com/orders-pipeline/orders-pipeline/internal/construct/servicekey"
)

// OperationsStackProps configure the operations stack.
type OperationsStackProps struct {
	awscdk.StackProps
	Config         config.Config
	Stream         awskinesis.IStream
	DeliveryStream awskinesisfirehose.IDeliveryStream
	// TransformerLogs carries the transformer's per-invocation counts.
	TransformerLogs                       awslogs.ILogGroup
	Transformer, RunRotator, AuditScanner awslambda.IFunction
	// SuccessTopic and FailureTopic may be one topic.
	SuccessTopic, FailureTopic         awssns.ITopic
	AuditOnFailure, TriggerDeadLetters awssqs.IQueue
	// Workgroup is the warehouse's Redshift Serverless workgroup; with
	// warehouseMode=serverless the stack watches its usage.
	Workgroup *string
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
	// The key protects messages in flight only, so it goes with the stack.
	key := servicekey.New(stack, "TopicKey", servicekey.Props{
		Description:   "Encrypts the orders pipeline's operations topic",
		RemovalPolicy: awscdk.RemovalPolicy_DESTROY,
	})
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

	newPipelineAlarms(o, cfg, props)
	newGlueFailureRules(stack, cfg, o.Topic)
	o.Dashboard = newPipelineDashboard(stack, cfg, props, o)
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

// newPipelineAlarms defines one alarm per way the pipeline can lose or delay
// data.
func newPipelineAlarms(o *OperationsStack, cfg config.Config, p *OperationsStackProps) {
	five := minutes(5)
	o.addAlarm(alarmSpec{id: "StreamWriteThrottles", threshold: 0,
		metric:      p.Stream.MetricWriteProvisionedThroughputExceeded(stat("Sum", five)),
		description: "The orders stream throttled writes: the publisher is retrying. Add shards or switch streamMode to on-demand."})
	o.addAlarm(alarmSpec{id: "StreamIteratorAge", threshold: float64(cfg.AlarmIteratorAgeSeconds) * 1000,
		metric:      p.Stream.MetricGetRecordsIteratorAgeMilliseconds(stat("Maximum", five)),
		description: describe("Firehose lags more than %d s behind the orders stream; records older than the stream's retention are lost.", cfg.AlarmIteratorAgeSeconds)})
	o.addAlarm(alarmSpec{id: "FirehoseFreshness", threshold: float64(cfg.AlarmFreshnessSeconds),
		metric:      p.DeliveryStream.Metric(jsii.String("DeliveryToS3.DataFreshness"), stat("Maximum", five)),
		description: describe("The oldest record in orders-firehose is older than %d s: delivery to the landing area is stuck.", cfg.AlarmFreshnessSeconds)})
	o.addAlarm(alarmSpec{id: "FirehoseFailedConversions", threshold: 0,
		metric:      p.DeliveryStream.Metric(jsii.String("FailedConversion.Records"), stat("Sum", five)),
		description: "Records failed Parquet conversion against the orders table and went to the errors/ prefix of the landing bucket."})
	o.addAlarm(alarmSpec{id: "FirehoseTransformerInvocations", threshold: 1,
		comparison:  awscloudwatch.ComparisonOperator_LESS_THAN_THRESHOLD,
		metric:      p.DeliveryStream.Metric(jsii.String("ExecuteProcessing.Success"), stat("Minimum", five)),
		description: "Firehose could not invoke the transformer Lambda; after its retries the batch goes to the errors/ prefix."})
	o.addAlarm(alarmSpec{id: "TransformerRejectedRecords", threshold: 0,
		metric:      transformerRejections(o.Stack, p.TransformerLogs).Metric(stat("Sum", five)),
		description: "The transformer sent records back ProcessingFailed (bad base64, not a JSON object, too large); Firehose wrote them under errors/processing-failed/ of the landing bucket. Its log line 'transformed' counts them per reason."})
	functions := map[string]awslambda.IFunction{"Transformer": p.Transformer, "RunRotator": p.RunRotator, "AuditScanner": p.AuditScanner}
	for _, id := range sortedKeys(functions) {
		fn := functions[id]
		o.addAlarm(alarmSpec{id: id + "Errors", threshold: 0, metric: fn.MetricErrors(stat("Sum", five)),
			description: "The " + id + " Lambda failed; see its log group."})
		o.addAlarm(alarmSpec{id: id + "Throttles", threshold: 0, metric: fn.MetricThrottles(stat("Sum", five)),
			description: "The " + id + " Lambda was throttled."})
	}
	// Every queue where an undelivered event waits.
	queues := map[string]awssqs.IQueue{"AuditScannerOnFailure": p.AuditOnFailure, "WorkflowTriggerDeadLetters": p.TriggerDeadLetters}
	for _, id := range sortedKeys(queues) {
		o.addAlarm(alarmSpec{id: id + "Messages", threshold: 0,
			metric:      queues[id].MetricApproximateNumberOfMessagesVisible(stat("Maximum", five)),
			description: "Messages are waiting in " + id + ": an event was not delivered. Inspect them, fix the cause, and redrive."})
	}
	// An existing warehouse is not this deployment's to watch.
	if cfg.WarehouseMode == config.WarehouseServerless {
		limitSeconds := float64(cfg.RedshiftDailyUsageLimitRpu) * 3600
		o.addAlarm(alarmSpec{id: "RedshiftUsage", threshold: limitSeconds * float64(cfg.AlarmRedshiftUsagePercent) / 100,
			metric: workgroupCompute(p.Workgroup, minutes(24*60)),
			description: describe("Redshift Serverless used more than %d%% of its daily limit of %d RPU-hours; at the limit queries are refused.",
				cfg.AlarmRedshiftUsagePercent, cfg.RedshiftDailyUsageLimitRpu)})
	}
}

// workgroupCompute is the workgroup's RPU-seconds per period.
func workgroupCompute(workgroup *string, period awscdk.Duration) awscloudwatch.Metric {
	return awscloudwatch.NewMetric(&awscloudwatch.MetricProps{
		Namespace: jsii.String("AWS/Redshift-Serverless"), MetricName: jsii.String("ComputeSeconds"),
		DimensionsMap: &map[string]*string{"Workgroup": workgroup}, Statistic: jsii.String("Sum"), Period: period,
	})
}

// transformerRejections counts, from the transformer's own log line, the
// records it sent back ProcessingFailed: Firehose has no metric for them.
func transformerRejections(stack awscdk.Stack, logs awslogs.ILogGroup) awslogs.MetricFilter {
	return awslogs.NewMetricFilter(stack, jsii.String("TransformerRejections"), &awslogs.MetricFilterProps{
		LogGroup:        logs,
		FilterPattern:   awslogs.FilterPattern_Literal(jsii.String(`{ $.msg = "transformed" && $.rejected > 0 }`)),
		MetricNamespace: jsii.String("OrdersPipeline"),
		MetricName:      jsii.String("TransformerRejectedRecords"),
		MetricValue:     jsii.String("$.rejected"),
		Unit:            awscloudwatch.Unit_COUNT,
	})
}

// newPipelineDashboard lays the pipeline out left to right as data flows:
// stream, Firehose and transformer, Glue failures, the audit outcome
// (SUCCESS against FAILURE notifications), the warehouse, then every alarm.
func newPipelineDashboard(stack awscdk.Stack, cfg config.Config, p *OperationsStackProps, o *OperationsStack) awscloudwatch.Dashboard {
	five := minutes(5)
	names := cfg.Names()
	var row []awscloudwatch.IWidget
	graph := func(title string, left ...awscloudwatch.IMetric) {
		row = append(row, awscloudwatch.NewGraphWidget(&awscloudwatch.GraphWidgetProps{
			Title: jsii.String(title), Left: &left, Width: jsii.Number(8), Height: jsii.Number(6),
		}))
	}
	label := func(m awscloudwatch.Metric, text string) awscloudwatch.IMetric {
		return m.With(&awscloudwatch.MetricOptions{Label: jsii.String(text)})
	}
	triggered := func(ruleID string) awscloudwatch.Metric {
		return awscloudwatch.NewMetric(&awscloudwatch.MetricProps{
			Namespace: jsii.String("AWS/Events"), MetricName: jsii.String("TriggeredRules"),
			DimensionsMap: &map[string]*string{"RuleName": ruleName(stack, ruleID)},
			Statistic:     jsii.String("Sum"), Period: minutes(60),
		})
	}

	graph("1. Stream "+names.Stream,
		label(p.Stream.MetricIncomingRecords(stat("Sum", five)), "records in"),
		label(p.Stream.MetricWriteProvisionedThroughputExceeded(stat("Sum", five)), "write throttles"))
	graph("2. Firehose "+names.DeliveryStream,
		label(p.DeliveryStream.Metric(jsii.String("DeliveryToS3.Records"), stat("Sum", five)), "records to landing"),
		label(p.DeliveryStream.Metric(jsii.String("FailedConversion.Records"), stat("Sum", five)), "failed conversions"),
		label(p.DeliveryStream.Metric(jsii.String("DeliveryToS3.DataFreshness"), stat("Maximum", five)), "freshness (s)"))
	graph("3. Transformer Lambda",
		label(p.Transformer.MetricInvocations(stat("Sum", five)), "invocations"),
		label(p.Transformer.MetricErrors(stat("Sum", five)), "errors"))
	graph("4. Glue job and crawler failures",
		label(triggered("GlueJobFailures"), "failed job runs"),
		label(triggered("GlueCrawlerFailures"), "failed crawls"))
	outcomes := []awscloudwatch.IMetric{label(p.SuccessTopic.MetricNumberOfMessagesPublished(stat("Sum", minutes(60))), "SUCCESS")}
	if p.FailureTopic != p.SuccessTopic {
		outcomes = append(outcomes, label(p.FailureTopic.MetricNumberOfMessagesPublished(stat("Sum", minutes(60))), "FAILURE"))
	}
	graph("5. Audit outcome (notifications per hour)", outcomes...)
	if cfg.WarehouseMode == config.WarehouseServerless {
		graph("6. Redshift Serverless compute (RPU-seconds)", workgroupCompute(p.Workgroup, minutes(60)))
	}
	alarms := make([]interfacesawscloudwatch.IAlarmRef, 0, len(o.Alarms))
	for _, id := range sortedKeys(o.Alarms) {
		alarms = append(alarms, o.Alarms[id])
	}
	widgets := []*[]awscloudwatch.IWidget{&row, {awscloudwatch.NewAlarmStatusWidget(&awscloudwatch.AlarmStatusWidgetProps{
		Title: jsii.String("Alarms"), Alarms: &alarms, Width: jsii.Number(24), Height: jsii.Number(6),
	})}}
	return awscloudwatch.NewDashboard(stack, jsii.String("Dashboard"), &awscloudwatch.DashboardProps{
		DashboardName:   jsii.String(names.Pipeline),
		DefaultInterval: awscdk.Duration_Days(jsii.Number(1)),
		Widgets:         &widgets,
	})
}

// ruleName is the physical name of a rule defined in this stack.
func ruleName(stack awscdk.Stack, id string) *string {
	return stack.Node().FindChild(jsii.String(id)).Node().DefaultChild().(awscdk.CfnResource).Ref()
}

// newGlueFailureRules turn Glue's own state-change events into notifications:
// a failed, timed-out or stopped job run or a failed crawl stops the
// workflow, and without these nobody would know until counts went missing.
func newGlueFailureRules(stack awscdk.Stack, cfg config.Config, topic awssns.ITopic) {
	n := cfg.Names()
	field := func(path string) string { return *awsevents.EventField_FromPath(jsii.String("$.detail." + path)) }
	rule := func(id, description, detailType string, detail map[string]interface{}, message string) {
		r := awsevents.NewRule(stack, jsii.String(id), &awsevents.RuleProps{
			Description: jsii.String(description),
			EventPattern: &awsevents.EventPattern{
				Source:     jsii.Strings("aws.glue"),
				DetailType: jsii.Strings(detailType),
				Detail:     &detail,
			},
		})
		r.AddTarget(awseventstargets.NewSnsTopic(topic, &awseventstargets.SnsTopicProps{
			Message: awsevents.RuleTargetInput_FromText(jsii.String(message)),
		}))
	}
	rule("GlueJobFailures", "Glue job runs of the orders workflow that failed, timed out or were stopped", "Glue Job State Change",
		map[string]interface{}{"jobName": n.WorkflowJobs(), "state": []string{"FAILED", "TIMEOUT", "STOPPED", "ERROR"}},
		"Glue job "+field("jobName")+" run "+field("jobRunId")+" ended "+field("state")+": "+field("message")+
			". The workflow "+n.Workflow+" stopped at this job; later layers of this run were not loaded.")
	rule("GlueCrawlerFailures", "Crawls of the orders workflow that failed", "Glue Crawler State Change",
		map[string]interface{}{"crawlerName": n.WorkflowCrawlers(), "state": []string{"Failed"}},
		"Glue crawler "+field("crawlerName")+" failed: "+field("errorMessage")+
			". The workflow "+n.Workflow+" stopped; new partitions are not in the catalog.")
}
