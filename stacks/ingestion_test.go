package stacks

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/jsii-runtime-go"
	"github.com/orders-pipeline/orders-pipeline/internal/config"
	"github.com/orders-pipeline/orders-pipeline/internal/orders"
	"github.com/orders-pipeline/orders-pipeline/lambdas/transformer/transform"
)

func deliveryStream(t *testing.T, tmpl assertions.Template) map[string]any {
	t.Helper()
	streams := resources(t, tmpl, "AWS::KinesisFirehose::DeliveryStream")
	if len(streams) != 1 {
		t.Fatalf("%d delivery streams", len(streams))
	}
	for _, ds := range streams {
		return ds["Properties"].(map[string]any)
	}
	return nil
}

func TestDeliveryStreamReadsTheStreamAndConvertsToParquet(t *testing.T) {
	tmpl := templateOf(t, defaultPipeline(t).Ingestion.Stack)
	ref := func(logicalPrefix string) any {
		return assertions.Match_ObjectLike(&map[string]any{"Fn::ImportValue": assertions.Match_StringLikeRegexp(jsii.String(":ExportsOutput.*" + logicalPrefix))})
	}
	hasResource(t, tmpl, "AWS::KinesisFirehose::DeliveryStream", map[string]any{
		"DeliveryStreamName":               "orders-firehose",
		"DeliveryStreamType":               "KinesisStreamAsSource",
		"KinesisStreamSourceConfiguration": map[string]any{"KinesisStreamARN": ref("Stream")},
		"ExtendedS3DestinationConfiguration": map[string]any{
			"BucketARN":                        ref("LandingBucket"),
			"Prefix":                           "orders/processing_date=!{partitionKeyFromLambda:date}/processing_hour=!{partitionKeyFromLambda:hour}/run=!{partitionKeyFromLambda:run}/",
			"DynamicPartitioningConfiguration": map[string]any{"Enabled": true, "RetryOptions": map[string]any{"DurationInSeconds": 300}},
			"ErrorOutputPrefix":                "errors/!{firehose:error-output-type}/processing_date=!{timestamp:yyyy-MM-dd}/processing_hour=!{timestamp:HH}/",
			"BufferingHints":                   map[string]any{"IntervalInSeconds": 300, "SizeInMBs": 128},
			"CloudWatchLoggingOptions":         map[string]any{"Enabled": true},
			"EncryptionConfiguration":          map[string]any{"KMSEncryptionConfig": map[string]any{"AWSKMSKeyARN": ref("DataKey")}},
			"DataFormatConversionConfiguration": map[string]any{
				"Enabled":                   true,
				"InputFormatConfiguration":  map[string]any{"Deserializer": map[string]any{"OpenXJsonSerDe": map[string]any{}}},
				"OutputFormatConfiguration": map[string]any{"Serializer": map[string]any{"ParquetSerDe": map[string]any{"Compression": "SNAPPY"}}},
				"SchemaConfiguration": map[string]any{
					"DatabaseName": ref("Database"),
					"TableName":    ref("LandingTable"),
					"VersionId":    "LATEST",
				},
			},
		},
	})
	// The prefix names exactly the keys the transformer returns, and the
	// landing table's partition columns in their order.
	for _, key := range []string{transform.PartitionDate, transform.PartitionHour, transform.PartitionRun} {
		if !strings.Contains(landingDataPrefix, "!{partitionKeyFromLambda:"+key+"}") {
			t.Errorf("the data prefix does not use the transformer's partition key %q", key)
		}
	}
	var folders []string
	for _, part := range strings.Split(strings.TrimPrefix(landingDataPrefix, config.OrdersPrefix), "/") {
		if name, _, ok := strings.Cut(part, "="); ok {
			folders = append(folders, name)
		}
	}
	var columns []string
	for _, c := range orders.PartitionColumns {
		columns = append(columns, c.Name)
	}
	if strings.Join(folders, ",") != strings.Join(columns, ",") {
		t.Errorf("prefix folders %v, landing partition columns %v", folders, columns)
	}
	// Format conversion compresses inside Parquet; the object-level setting must stay off.
	dest := deliveryStream(t, tmpl)["ExtendedS3DestinationConfiguration"].(map[string]any)
	if c, ok := dest["CompressionFormat"]; ok && c != "UNCOMPRESSED" {
		t.Errorf("CompressionFormat %v alongside Parquet conversion", c)
	}
}

func TestTransformerIsTheProcessorWithConfiguredBuffers(t *testing.T) {
	check := func(tmpl assertions.Template, size, interval string) {
		t.Helper()
		dest := deliveryStream(t, tmpl)["ExtendedS3DestinationConfiguration"].(map[string]any)
		raw, _ := json.Marshal(dest["ProcessingConfiguration"])
		var pc struct {
			Enabled    bool
			Processors []struct {
				Type       string
				Parameters []struct {
					ParameterName  string
					ParameterValue any
				}
			}
		}
		_ = json.Unmarshal(raw, &pc)
		if !pc.Enabled || len(pc.Processors) != 1 || pc.Processors[0].Type != "Lambda" {
			t.Fatalf("processing configuration %s", raw)
		}
		params := map[string]string{}
		for _, p := range pc.Processors[0].Parameters {
			v, _ := json.Marshal(p.ParameterValue)
			params[p.ParameterName] = strings.Trim(string(v), `"`)
		}
		if !strings.Contains(params["LambdaArn"], "Transformer") || params["BufferSizeInMBs"] != size || params["BufferIntervalInSeconds"] != interval {
			t.Errorf("processor parameters %v, want the transformer with %s MB / %s s", params, size, interval)
		}
	}
	check(templateOf(t, defaultPipeline(t).Ingestion.Stack), "1", "60")
	tmpl := templateOf(t, variant(t, "acme").Ingestion.Stack)
	check(tmpl, "1", "10")
	hasResource(t, tmpl, "AWS::Lambda::Function", map[string]any{
		"FunctionName":  "acme-LambdaTransformerFn",
		"Runtime":       "provided.al2023",
		"Architectures": []any{"arm64"},
		"Environment":   map[string]any{"Variables": map[string]any{"RUN_ID_CACHE_SECONDS": "3", "RUN_STATE_TABLE": assertions.Match_AnyValue()}},
	})
}

func TestRunRotatorKnowsTheTriggerMode(t *testing.T) {
	batch := templateOf(t, defaultPipeline(t).Ingestion.Stack)
	hasResource(t, batch, "AWS::Lambda::Function", map[string]any{
		"Environment": map[string]any{"Variables": map[string]any{
			"COMPLETION_PREFIX": "batch-completion/", "LANDING_BUCKET": assertions.Match_AnyValue(),
			"RUN_STATE_TABLE": assertions.Match_AnyValue(), "LAST_JOB_NAME": assertions.Match_Absent(),
		}},
	})
	loop := templateOf(t, variant(t, "acme").Ingestion.Stack)
	hasResource(t, loop, "AWS::Lambda::Function", map[string]any{
		"Environment": map[string]any{"Variables": map[string]any{"LAST_JOB_NAME": "acme-orders_redshift_final_audit_load"}},
	})
	noPanic(t, "delivery stream name", func() {
		loop.HasResourceProperties(jsii.String("AWS::KinesisFirehose::DeliveryStream"), map[string]any{"DeliveryStreamName": "acme-orders-firehose"})
	})
}

// IAM is limited to the resources involved: every statement names exact
// resources, except glue:GetSchemaVersion which the Firehose L2 adds.
func TestIngestionIAMIsScopedToItsResources(t *testing.T) {
	tmpl := templateOf(t, defaultPipeline(t).Ingestion.Stack)
	actionsOf := map[string][]string{}
	for id, policy := range resources(t, tmpl, "AWS::IAM::Policy") {
		raw, _ := json.Marshal(policy["Properties"].(map[string]any)["PolicyDocument"])
		var doc struct {
			Statement []struct {
				Action   any
				Resource any
			}
		}
		_ = json.Unmarshal(raw, &doc)
		for _, st := range doc.Statement {
			actions := strings.Join(asStrings(st.Action), ",")
			res, _ := json.Marshal(st.Resource)
			if string(res) == `"*"` && actions != "glue:GetSchemaVersion" {
				t.Errorf("%s grants %s on *", id, actions)
			}
			actionsOf[id] = append(actionsOf[id], actions)
		}
	}
	want := map[string]string{
		"Transformer": "dynamodb:GetItem,dynamodb:PutItem",
		"RunRotator":  "dynamodb:GetItem,dynamodb:PutItem,dynamodb:UpdateItem",
	}
	for prefix, dynamo := range want {
		found := false
		for id, acts := range actionsOf {
			if strings.HasPrefix(id, prefix) {
				found = true
				got := strings.Join(acts, " | ")
				if !strings.Contains(got, dynamo) || strings.Contains(got, "dynamodb:Scan") || strings.Contains(got, "dynamodb:DeleteItem") || strings.Contains(got, "kinesis:") || strings.Contains(got, "s3:") {
					t.Errorf("%s may do %s; want logs plus %s", id, got, dynamo)
				}
			}
		}
		if !found {
			t.Errorf("no policy for %s", prefix)
		}
	}
	for id, acts := range actionsOf {
		if strings.HasPrefix(id, "DeliveryStreamServiceRole") && strings.Contains(strings.Join(acts, ","), "s3:") {
			t.Errorf("the stream-reading role %s can touch S3", id)
		}
	}
}
