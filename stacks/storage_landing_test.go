package stacks

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/jsii-runtime-go"
	"github.com/orders-pipeline/orders-pipeline/internal/orders"
)

// ingestionVariant is one pipeline with every ingestion setting moved off
// its default, shared by the tests below so they cost one synth.
func ingestionVariant(t *testing.T) *Pipeline {
	t.Helper()
	return sharedPipeline(t, "ingestion variant", map[string]any{
		"resourcePrefix": "acme-", "bucketNameSuffix": "eu1",
		"streamMode": "on-demand", "streamRetentionHours": 48,
		"transformerBufferSizeMiB": 1, "transformerBufferIntervalSeconds": 10, "runIdCacheSeconds": 3,
		"triggerMode": "continuous", "redshiftDailyUsageLimitRpuHours": "52",
	})
}

func TestStreamIsEncryptedAndSizedFromConfig(t *testing.T) {
	tmpl := templateOf(t, defaultPipeline(t).Storage.Stack)
	hasResource(t, tmpl, "AWS::Kinesis::Stream", map[string]any{
		"Name": "orders", "ShardCount": 1, "RetentionPeriodHours": 24,
		"StreamModeDetails": map[string]any{"StreamMode": "PROVISIONED"},
		"StreamEncryption":  map[string]any{"EncryptionType": "KMS", "KeyId": "alias/aws/kinesis"},
	})
	noPanic(t, "stream retained", func() {
		tmpl.HasResource(jsii.String("AWS::Kinesis::Stream"), map[string]any{"DeletionPolicy": "Retain"})
	})

	onDemand := templateOf(t, ingestionVariant(t).Storage.Stack)
	hasResource(t, onDemand, "AWS::Kinesis::Stream", map[string]any{
		"Name": "acme-orders", "RetentionPeriodHours": 48, "ShardCount": assertions.Match_Absent(),
		"StreamModeDetails": map[string]any{"StreamMode": "ON_DEMAND"},
	})
}

func TestLandingBucketSendsEventsToEventBridge(t *testing.T) {
	tmpl := templateOf(t, defaultPipeline(t).Storage.Stack)
	// Natively on the bucket: no bucket-notifications custom resource.
	resourceCount(t, tmpl, "Custom::S3BucketNotifications", 0)
	hasResource(t, tmpl, "AWS::S3::Bucket", map[string]any{
		"NotificationConfiguration": map[string]any{"EventBridgeConfiguration": map[string]any{"EventBridgeEnabled": true}},
		"BucketName":                map[string]any{"Fn::Join": []any{"-", []any{"fo-to-dw-orders-landing-area", map[string]any{"Ref": "AWS::AccountId"}, map[string]any{"Ref": "AWS::Region"}}}},
		"BucketEncryption": map[string]any{"ServerSideEncryptionConfiguration": []any{map[string]any{
			"BucketKeyEnabled":              true,
			"ServerSideEncryptionByDefault": map[string]any{"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": assertions.Match_AnyValue()},
		}}},
		"PublicAccessBlockConfiguration": map[string]any{"BlockPublicAcls": true, "BlockPublicPolicy": true, "IgnorePublicAcls": true, "RestrictPublicBuckets": true},
		"VersioningConfiguration":        map[string]any{"Status": "Enabled"},
	})
}

func TestBucketNamingRule(t *testing.T) {
	suffixed := templateOf(t, ingestionVariant(t).Storage.Stack)
	hasResource(t, suffixed, "AWS::S3::Bucket", map[string]any{"BucketName": "acme-fo-to-dw-orders-landing-area-eu1"})
	named := templateOf(t, newPipeline(t, map[string]any{"landingBucketName": "my-landing", "bucketNameSuffix": "ignored"}).Storage.Stack)
	hasResource(t, named, "AWS::S3::Bucket", map[string]any{"BucketName": "my-landing"})
}

func TestLandingTableIsDeclaredFromTheOrderShape(t *testing.T) {
	tmpl := templateOf(t, defaultPipeline(t).Storage.Stack)
	hasResource(t, tmpl, "AWS::Glue::Database", map[string]any{"DatabaseInput": map[string]any{"Name": "ecommerce-database"}})
	tables := resources(t, tmpl, "AWS::Glue::Table")
	if len(tables) != 1 {
		t.Fatalf("%d Glue tables in storage", len(tables))
	}
	var input struct {
		Name              string
		TableType         string
		PartitionKeys     []glueColumn
		StorageDescriptor struct {
			Columns      []glueColumn
			Location     any
			InputFormat  string
			OutputFormat string
			SerdeInfo    struct{ SerializationLibrary string }
		}
	}
	for _, tbl := range tables {
		raw, _ := json.Marshal(tbl["Properties"].(map[string]any)["TableInput"])
		if err := json.Unmarshal(raw, &input); err != nil {
			t.Fatal(err)
		}
	}
	if input.Name != "orders" || input.TableType != "EXTERNAL_TABLE" {
		t.Fatalf("table %q of type %q", input.Name, input.TableType)
	}
	if got, want := input.StorageDescriptor.Columns, columnsOf(orders.LandingColumns); !reflect.DeepEqual(got, want) {
		t.Errorf("columns differ from internal/orders:\n got %v\nwant %v", got, want)
	}
	if got, want := input.PartitionKeys, columnsOf(orders.PartitionColumns); !reflect.DeepEqual(got, want) {
		t.Errorf("partition keys differ from internal/orders:\n got %v\nwant %v", got, want)
	}
	sd := input.StorageDescriptor
	if !strings.Contains(sd.SerdeInfo.SerializationLibrary, "ParquetHiveSerDe") || !strings.Contains(sd.InputFormat, "Parquet") || !strings.Contains(sd.OutputFormat, "Parquet") {
		t.Errorf("not a Parquet table: %+v", sd)
	}
	loc, _ := json.Marshal(sd.Location)
	if !strings.Contains(string(loc), `"s3://"`) || !strings.Contains(string(loc), `"/orders/"`) || !strings.Contains(string(loc), "LandingBucket") {
		t.Errorf("location %s is not s3://<landing bucket>/orders/", loc)
	}
}

type glueColumn struct{ Name, Type, Comment string }

func columnsOf(cols []orders.Column) []glueColumn {
	out := make([]glueColumn, len(cols))
	for i, c := range cols {
		out[i] = glueColumn{c.Name, c.Type, c.Comment}
	}
	return out
}

// The order the source system sends must carry exactly the landing columns
// the transformer does not add, and products' struct must match its fields.
func TestOrderJSONMatchesTheLandingColumns(t *testing.T) {
	var sourceCols []string
	for _, c := range orders.LandingColumns {
		if c.Name != orders.ProcessingTimestampField && c.Name != orders.RunIDField {
			sourceCols = append(sourceCols, c.Name)
		}
	}
	if got := jsonFields(reflect.TypeOf(orders.Order{})); !reflect.DeepEqual(got, sourceCols) {
		t.Errorf("orders.Order JSON fields %v, landing columns %v", got, sourceCols)
	}
	var productsType string
	for _, c := range orders.LandingColumns {
		if c.Name == "products" {
			productsType = c.Type
		}
	}
	var structFields []string
	inner := strings.TrimSuffix(strings.TrimPrefix(productsType, "array<struct<"), ">>")
	for _, f := range strings.Split(inner, ",") {
		structFields = append(structFields, strings.SplitN(f, ":", 2)[0])
	}
	// decimal(10,2) splits at its comma: drop the scale fragment.
	var names []string
	for _, f := range structFields {
		if !strings.HasSuffix(f, ")") {
			names = append(names, f)
		}
	}
	if got := jsonFields(reflect.TypeOf(orders.Product{})); !reflect.DeepEqual(got, names) {
		t.Errorf("orders.Product JSON fields %v, products struct fields %v", got, names)
	}
}

func jsonFields(typ reflect.Type) []string {
	var out []string
	for i := 0; i < typ.NumField(); i++ {
		out = append(out, strings.Split(typ.Field(i).Tag.Get("json"), ",")[0])
	}
	return out
}

func TestRunStateTableIsEncryptedAndRecoverable(t *testing.T) {
	tmpl := templateOf(t, defaultPipeline(t).Storage.Stack)
	hasResource(t, tmpl, "AWS::DynamoDB::Table", map[string]any{
		"KeySchema":                        []any{map[string]any{"AttributeName": "pk", "KeyType": "HASH"}},
		"BillingMode":                      "PAY_PER_REQUEST",
		"SSESpecification":                 map[string]any{"SSEEnabled": true},
		"PointInTimeRecoverySpecification": map[string]any{"PointInTimeRecoveryEnabled": true},
	})
}
