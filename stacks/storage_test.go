package stacks

import (
	"encoding/json"
	"maps"
	"reflect"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/jsii-runtime-go"
	"github.com/orders-pipeline/orders-pipeline/internal/config"
	"github.com/orders-pipeline/orders-pipeline/internal/orders"
)

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

	onDemand := templateOf(t, variant(t, "acme").Storage.Stack)
	hasResource(t, onDemand, "AWS::Kinesis::Stream", map[string]any{
		"Name": "acme-orders", "RetentionPeriodHours": 48, "ShardCount": assertions.Match_Absent(),
		"StreamModeDetails": map[string]any{"StreamMode": "ON_DEMAND"},
	})
}

// accountRegionName is a bucket name as the storage stack composes it
// when no suffix is set: name, the account and the region.
func accountRegionName(name string) map[string]any {
	return map[string]any{"Fn::Join": []any{"-", []any{name, map[string]any{"Ref": "AWS::AccountId"}, map[string]any{"Ref": "AWS::Region"}}}}
}

// hardenedBucket are the properties of the area bucket named name: KMS
// encryption with a bucket key, public access blocked and versioning on,
// and more, what a test checks besides.
func hardenedBucket(name string, more map[string]any) map[string]any {
	props := map[string]any{
		"BucketName": accountRegionName(name),
		"BucketEncryption": map[string]any{"ServerSideEncryptionConfiguration": []any{map[string]any{
			"BucketKeyEnabled":              true,
			"ServerSideEncryptionByDefault": map[string]any{"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": assertions.Match_AnyValue()},
		}}},
		"PublicAccessBlockConfiguration": map[string]any{"BlockPublicAcls": true, "BlockPublicPolicy": true, "IgnorePublicAcls": true, "RestrictPublicBuckets": true},
		"VersioningConfiguration":        map[string]any{"Status": "Enabled"},
	}
	maps.Copy(props, more)
	return props
}

func TestLandingBucketSendsEventsToEventBridge(t *testing.T) {
	tmpl := templateOf(t, defaultPipeline(t).Storage.Stack)
	// Natively on the bucket: no bucket-notifications custom resource.
	resourceCount(t, tmpl, "Custom::S3BucketNotifications", 0)
	hasResource(t, tmpl, "AWS::S3::Bucket", hardenedBucket("fo-to-dw-orders-landing-area", map[string]any{
		"NotificationConfiguration": map[string]any{"EventBridgeConfiguration": map[string]any{"EventBridgeEnabled": true}},
	}))
}

func TestEachAreaNotifiesItsCrawlersQueueOfObjectsUnderOrders(t *testing.T) {
	tmpl := templateOf(t, defaultPipeline(t).Storage.Stack)
	for bucket, queue := range map[string]string{"fo-to-dw-orders-landing-area": "LandingCrawlerEventsQueue", "fo-to-dw-orders-staging-area": "StagingCrawlerEventsQueue"} {
		hasResource(t, tmpl, "AWS::S3::Bucket", map[string]any{
			"BucketName": accountRegionName(bucket),
			"NotificationConfiguration": map[string]any{
				"EventBridgeConfiguration": map[string]any{"EventBridgeEnabled": true},
				"QueueConfigurations": assertions.Match_ArrayWith(&[]any{assertions.Match_ObjectLike(&map[string]any{
					"Event":  "s3:ObjectCreated:*",
					"Queue":  map[string]any{"Fn::GetAtt": []any{assertions.Match_StringLikeRegexp(jsii.String("^" + queue)), "Arn"}},
					"Filter": map[string]any{"S3Key": map[string]any{"Rules": []any{map[string]any{"Name": "prefix", "Value": "orders/"}}}},
				})}),
			},
		})
	}
	// Object keys only, no order data: SQS-managed encryption, which S3 can
	// send to without a grant on a customer managed key.
	noPanic(t, "crawler event queues encrypted", func() {
		tmpl.AllResourcesProperties(jsii.String("AWS::SQS::Queue"), map[string]any{"SqsManagedSseEnabled": true})
	})
}

func TestBucketNamingRule(t *testing.T) {
	suffixed := templateOf(t, variant(t, "acme").Storage.Stack)
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

func TestAuditTableKeysStreamRecoveryAndEncryption(t *testing.T) {
	tmpl := templateOf(t, defaultPipeline(t).Storage.Stack)
	hasResource(t, tmpl, "AWS::DynamoDB::Table", map[string]any{
		"TableName": "orders-audit-table",
		"KeySchema": []any{
			map[string]any{"AttributeName": "run_id", "KeyType": "HASH"},
			map[string]any{"AttributeName": "layer", "KeyType": "RANGE"},
		},
		"AttributeDefinitions": assertions.Match_ArrayWith(&[]any{
			map[string]any{"AttributeName": "run_id", "AttributeType": "S"},
			map[string]any{"AttributeName": "layer", "AttributeType": "S"},
		}),
		"BillingMode":                      "PAY_PER_REQUEST",
		"PointInTimeRecoverySpecification": map[string]any{"PointInTimeRecoveryEnabled": true},
		"StreamSpecification":              map[string]any{"StreamViewType": "NEW_IMAGE"},
		"DeletionProtectionEnabled":        true,
	})
	noPanic(t, "retained table", func() {
		tmpl.HasResource(jsii.String("AWS::DynamoDB::Table"), map[string]any{"DeletionPolicy": "Retain", "UpdateReplacePolicy": "Retain"})
	})
	checked := 0
	for id, table := range resources(t, tmpl, "AWS::DynamoDB::Table") {
		if !strings.HasPrefix(id, "AuditTable") {
			continue // the run-state table holds ids only
		}
		checked++
		sse, _ := json.Marshal(table["Properties"].(map[string]any)["SSESpecification"])
		if !strings.Contains(string(sse), `"SSEType":"KMS"`) || !strings.Contains(string(sse), `"DataKey`) {
			t.Errorf("%s is not encrypted with the DataKey: %s", id, sse)
		}
	}
	if checked != 1 {
		t.Errorf("found %d audit tables, want 1", checked)
	}
}

func TestDataKeyRotatesAndIsRetained(t *testing.T) {
	tmpl := templateOf(t, defaultPipeline(t).Storage.Stack)
	hasResource(t, tmpl, "AWS::KMS::Key", map[string]any{"EnableKeyRotation": true})
	noPanic(t, "retained key", func() {
		tmpl.HasResource(jsii.String("AWS::KMS::Key"), map[string]any{"DeletionPolicy": "Retain", "UpdateReplacePolicy": "Retain"})
	})
}

func TestDestroyRemovalPolicyEmptiesBuckets(t *testing.T) {
	tmpl := templateOf(t, newPipeline(t, map[string]any{"removalPolicy": "destroy"}).Storage.Stack)
	noPanic(t, "deleted key", func() {
		tmpl.HasResource(jsii.String("AWS::KMS::Key"), map[string]any{"DeletionPolicy": "Delete"})
	})
	noPanic(t, "auto-delete custom resource", func() {
		tmpl.HasResource(jsii.String("Custom::S3AutoDeleteObjects"), assertions.Match_AnyValue())
	})
}

func TestStagingAreaBucketsAreHardened(t *testing.T) {
	tmpl := templateOf(t, defaultPipeline(t).Storage.Stack)
	hasResource(t, tmpl, "AWS::S3::Bucket", hardenedBucket("fo-to-dw-orders-staging-area", map[string]any{
		"LoggingConfiguration": map[string]any{"LogFilePrefix": "staging-area/"},
	}))
	hasResource(t, tmpl, "AWS::S3::Bucket", map[string]any{
		"LoggingConfiguration": map[string]any{"LogFilePrefix": "athena-results/"},
		"LifecycleConfiguration": map[string]any{"Rules": assertions.Match_ArrayWith(&[]any{
			assertions.Match_ObjectLike(&map[string]any{"ExpirationInDays": athenaResultsDays}),
		})},
	})
}

func TestSeedBucketNameRule(t *testing.T) {
	stack := awscdk.NewStack(awscdk.NewApp(nil), jsii.String("Names"), nil)
	if got := *bucketName(stack, config.Config{BucketNameSuffix: "dev"}, "seed", ""); got != "seed-dev" {
		t.Errorf("suffix: %s", got)
	}
	if got := *bucketName(stack, config.Config{BucketNameSuffix: "dev"}, "seed", "mine"); got != "mine" {
		t.Errorf("override: %s", got)
	}
	resolved, _ := json.Marshal(stack.Resolve(bucketName(stack, config.Config{}, "seed", "")))
	if string(resolved) != `{"Fn::Join":["-",["seed",{"Ref":"AWS::AccountId"},{"Ref":"AWS::Region"}]]}` {
		t.Errorf("default suffix: %s", resolved)
	}
}

func TestDataKeyLetsLogsEncryptOnlyThePipelinesLogGroups(t *testing.T) {
	tmpl := templateOf(t, defaultPipeline(t).Storage.Stack)
	groups := assertions.NewCapture(nil)
	hasResource(t, tmpl, "AWS::KMS::Key", map[string]any{"KeyPolicy": map[string]any{"Statement": assertions.Match_ArrayWith(&[]any{
		assertions.Match_ObjectLike(&map[string]any{
			"Sid":       "PipelineLogGroupsEncryption",
			"Principal": map[string]any{"Service": map[string]any{"Fn::Join": []any{"", []any{"logs.", map[string]any{"Ref": "AWS::Region"}, ".amazonaws.com"}}}},
			"Condition": map[string]any{"ArnLike": map[string]any{"kms:EncryptionContext:aws:logs:arn": groups}},
		}),
	})}})
	raw, _ := json.Marshal(groups.AsArray())
	for _, pattern := range []string{
		":log-group:/aws-glue/*",
		":log-group:/aws/lambda/orders-pipeline-dev-*",
		":log-group:/aws/kinesisfirehose/orders-pipeline-dev-*",
		":log-group:/aws/vpcflowlogs/orders-pipeline-dev-*",
	} {
		if !strings.Contains(string(raw), pattern) {
			t.Errorf("the Logs service may not use the data key for %s: %s", pattern, raw)
		}
	}
	if n := strings.Count(string(raw), ":log-group:"); n != 4 {
		t.Errorf("the Logs service may use the data key for %d log-group patterns, want 4: %s", n, raw)
	}
}
