package stacks

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatch"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssqs"
	"github.com/aws/jsii-runtime-go"
	"github.com/orders-pipeline/orders-pipeline/internal/config"
)

// newPipelineAlarms defines one alarm per way the pipeline can lose or delay
// data. A layer that is not deployed (an existing warehouse, say) simply has
// no alarms.
func newPipelineAlarms(o *OperationsStack, cfg config.Config, p *Pipeline) {
	five := minutes(5)
	if stream := p.Storage.Stream; stream != nil {
		o.addAlarm(alarmSpec{id: "StreamWriteThrottles", threshold: 0,
			metric:      stream.MetricWriteProvisionedThroughputExceeded(stat("Sum", five)),
			description: "The orders stream throttled writes: the publisher is retrying. Add shards or switch streamMode to on-demand."})
		o.addAlarm(alarmSpec{id: "StreamIteratorAge", threshold: float64(cfg.AlarmIteratorAgeSeconds) * 1000,
			metric:      stream.MetricGetRecordsIteratorAgeMilliseconds(stat("Maximum", five)),
			description: describe("Firehose lags more than %d s behind the orders stream; records older than the stream's retention are lost.", cfg.AlarmIteratorAgeSeconds)})
	}
	if ds := p.Ingestion.DeliveryStream; ds != nil {
		o.addAlarm(alarmSpec{id: "FirehoseFreshness", threshold: float64(cfg.AlarmFreshnessSeconds),
			metric:      ds.Metric(jsii.String("DeliveryToS3.DataFreshness"), stat("Maximum", five)),
			description: describe("The oldest record in orders-firehose is older than %d s: delivery to the landing area is stuck.", cfg.AlarmFreshnessSeconds)})
		o.addAlarm(alarmSpec{id: "FirehoseFailedConversions", threshold: 0,
			metric:      ds.Metric(jsii.String("FailedConversion.Records"), stat("Sum", five)),
			description: "Records failed Parquet conversion against the orders table and went to the errors/ prefix of the landing bucket."})
		o.addAlarm(alarmSpec{id: "FirehoseTransformerInvocations", threshold: 1,
			comparison:  awscloudwatch.ComparisonOperator_LESS_THAN_THRESHOLD,
			metric:      ds.Metric(jsii.String("ExecuteProcessing.Success"), stat("Minimum", five)),
			description: "Firehose could not invoke the transformer Lambda; after its retries the batch goes to the errors/ prefix."})
	}
	if logs := p.Ingestion.TransformerLogs; logs != nil {
		o.addAlarm(alarmSpec{id: "TransformerRejectedRecords", threshold: 0,
			metric:      transformerRejections(o.Stack, logs).Metric(stat("Sum", five)),
			description: "The transformer sent records back ProcessingFailed (bad base64, not a JSON object, too large); Firehose wrote them under errors/processing-failed/ of the landing bucket. Its log line 'transformed' counts them per reason."})
	}
	for id, fn := range map[string]awslambda.IFunction{
		"Transformer":  p.Ingestion.Transformer,
		"RunRotator":   p.Ingestion.RunRotator,
		"AuditScanner": p.Audit.Scanner,
	} {
		if fn == nil {
			continue
		}
		o.addAlarm(alarmSpec{id: id + "Errors", threshold: 0, metric: fn.MetricErrors(stat("Sum", five)),
			description: "The " + id + " Lambda failed; see its log group."})
		o.addAlarm(alarmSpec{id: id + "Throttles", threshold: 0, metric: fn.MetricThrottles(stat("Sum", five)),
			description: "The " + id + " Lambda was throttled."})
	}
	for id, q := range deadLetterQueues(p) {
		o.addAlarm(alarmSpec{id: id + "Messages", threshold: 0,
			metric:      q.MetricApproximateNumberOfMessagesVisible(stat("Maximum", five)),
			description: "Messages are waiting in " + id + ": an event was not delivered. Inspect them, fix the cause, and redrive."})
	}
	if t := p.Warehouse.Target; cfg.WarehouseMode == "serverless" && t.WorkgroupName != nil {
		limitSeconds := float64(cfg.RedshiftDailyUsageLimitRpu) * 3600
		o.addAlarm(alarmSpec{id: "RedshiftUsage", threshold: limitSeconds * float64(cfg.AlarmRedshiftUsagePercent) / 100,
			metric: awscloudwatch.NewMetric(&awscloudwatch.MetricProps{
				Namespace: jsii.String("AWS/Redshift-Serverless"), MetricName: jsii.String("ComputeSeconds"),
				DimensionsMap: &map[string]*string{"Workgroup": t.WorkgroupName},
				Statistic:     jsii.String("Sum"), Period: minutes(24 * 60),
			}),
			description: describe("Redshift Serverless used more than %d%% of its daily limit of %d RPU-hours; at the limit queries are refused.",
				cfg.AlarmRedshiftUsagePercent, cfg.RedshiftDailyUsageLimitRpu)})
	}
}

// deadLetterQueues are every queue where an undelivered event waits.
func deadLetterQueues(p *Pipeline) map[string]awssqs.IQueue {
	out := map[string]awssqs.IQueue{}
	if p.Audit.OnFailure != nil {
		out["AuditScannerOnFailure"] = p.Audit.OnFailure
	}
	if p.Orchestration.TriggerDeadLetters != nil {
		out["WorkflowTriggerDeadLetters"] = p.Orchestration.TriggerDeadLetters
	}
	return out
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
