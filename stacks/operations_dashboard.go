package stacks

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatch"
	"github.com/aws/aws-cdk-go/awscdk/v2/interfaces/interfacesawscloudwatch"
	"github.com/aws/jsii-runtime-go"
	"github.com/orders-pipeline/orders-pipeline/internal/config"
)

// newPipelineDashboard lays the pipeline out left to right as data flows:
// stream, Firehose and transformer, Glue failures, the audit outcome
// (SUCCESS against FAILURE notifications), the warehouse, then every alarm.
func newPipelineDashboard(stack awscdk.Stack, cfg config.Config, p *Pipeline, o *OperationsStack) awscloudwatch.Dashboard {
	five := minutes(5)
	var row []awscloudwatch.IWidget
	graph := func(title string, left ...awscloudwatch.IMetric) {
		if len(left) == 0 {
			return
		}
		row = append(row, awscloudwatch.NewGraphWidget(&awscloudwatch.GraphWidgetProps{
			Title: jsii.String(title), Left: &left, Width: jsii.Number(8), Height: jsii.Number(6),
		}))
	}
	label := func(m awscloudwatch.Metric, text string) awscloudwatch.IMetric {
		return m.With(&awscloudwatch.MetricOptions{Label: jsii.String(text)})
	}

	if s := p.Storage.Stream; s != nil {
		graph("1. Stream "+cfg.Names().Stream,
			label(s.MetricIncomingRecords(stat("Sum", five)), "records in"),
			label(s.MetricWriteProvisionedThroughputExceeded(stat("Sum", five)), "write throttles"))
	}
	if ds := p.Ingestion.DeliveryStream; ds != nil {
		graph("2. Firehose "+cfg.Names().DeliveryStream,
			label(ds.Metric(jsii.String("DeliveryToS3.Records"), stat("Sum", five)), "records to landing"),
			label(ds.Metric(jsii.String("FailedConversion.Records"), stat("Sum", five)), "failed conversions"),
			label(ds.Metric(jsii.String("DeliveryToS3.DataFreshness"), stat("Maximum", five)), "freshness (s)"))
	}
	if fn := p.Ingestion.Transformer; fn != nil {
		graph("3. Transformer Lambda",
			label(fn.MetricInvocations(stat("Sum", five)), "invocations"),
			label(fn.MetricErrors(stat("Sum", five)), "errors"))
	}
	graph("4. Glue job and crawler failures",
		label(awscloudwatch.NewMetric(&awscloudwatch.MetricProps{
			Namespace: jsii.String("AWS/Events"), MetricName: jsii.String("TriggeredRules"),
			DimensionsMap: &map[string]*string{"RuleName": ruleName(stack, "GlueJobFailures")},
			Statistic:     jsii.String("Sum"), Period: minutes(60),
		}), "failed job runs"),
		label(awscloudwatch.NewMetric(&awscloudwatch.MetricProps{
			Namespace: jsii.String("AWS/Events"), MetricName: jsii.String("TriggeredRules"),
			DimensionsMap: &map[string]*string{"RuleName": ruleName(stack, "GlueCrawlerFailures")},
			Statistic:     jsii.String("Sum"), Period: minutes(60),
		}), "failed crawls"))
	if a := p.Audit; a.SuccessTopic != nil && a.FailureTopic != nil {
		metrics := []awscloudwatch.IMetric{label(a.SuccessTopic.MetricNumberOfMessagesPublished(stat("Sum", minutes(60))), "SUCCESS")}
		if a.FailureTopic != a.SuccessTopic {
			metrics = append(metrics, label(a.FailureTopic.MetricNumberOfMessagesPublished(stat("Sum", minutes(60))), "FAILURE"))
		}
		graph("5. Audit outcome (notifications per hour)", metrics...)
	}
	if t := p.Warehouse.Target; cfg.WarehouseMode == "serverless" && t.WorkgroupName != nil {
		graph("6. Redshift Serverless compute (RPU-seconds)", awscloudwatch.NewMetric(&awscloudwatch.MetricProps{
			Namespace: jsii.String("AWS/Redshift-Serverless"), MetricName: jsii.String("ComputeSeconds"),
			DimensionsMap: &map[string]*string{"Workgroup": t.WorkgroupName}, Statistic: jsii.String("Sum"), Period: minutes(60),
		}))
	}
	alarms := make([]interfacesawscloudwatch.IAlarmRef, 0, len(o.Alarms))
	for _, id := range sortedKeys(o.Alarms) {
		alarms = append(alarms, o.Alarms[id])
	}
	widgets := []*[]awscloudwatch.IWidget{&row}
	if len(alarms) > 0 {
		widgets = append(widgets, &[]awscloudwatch.IWidget{awscloudwatch.NewAlarmStatusWidget(&awscloudwatch.AlarmStatusWidgetProps{
			Title: jsii.String("Alarms"), Alarms: &alarms, Width: jsii.Number(24), Height: jsii.Number(6),
		})})
	}
	return awscloudwatch.NewDashboard(stack, jsii.String("Dashboard"), &awscloudwatch.DashboardProps{
		DashboardName:   jsii.String(pipelineName(cfg)),
		DefaultInterval: awscdk.Duration_Days(jsii.Number(1)),
		Widgets:         &widgets,
	})
}

// ruleName is the physical name of a rule defined in this stack.
func ruleName(stack awscdk.Stack, id string) *string {
	return stack.Node().FindChild(jsii.String(id)).Node().DefaultChild().(awscdk.CfnResource).Ref()
}
