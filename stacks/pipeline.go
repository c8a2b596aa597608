// Package stacks holds the pipeline's CloudFormation stacks, one file each.
// Stateful resources (buckets, stream, catalog, audit table, warehouse)
// live in their own stacks so the stateless ones (Firehose, Lambdas, Glue
// jobs, rules, alarms) can be replaced freely. Each stack takes the
// resources it uses as props, never another stack; NewPipeline wires them.
package stacks

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/orders-pipeline/orders-pipeline/internal/config"
)

// PipelineProps configure the whole deployment.
type PipelineProps struct {
	Config config.Config
	// Env is the target account and region; nil synthesizes
	// environment-agnostic templates.
	Env *awscdk.Environment
}

// Pipeline is every stack of one deployment.
type Pipeline struct {
	Storage       *StorageStack
	Warehouse     *WarehouseStack
	Ingestion     *IngestionStack
	Orchestration *OrchestrationStack
	Audit         *AuditStack
	// Publisher is nil unless config publisherInstance is true.
	Publisher  *PublisherStack
	Operations *OperationsStack
}

// NewPipeline defines every stack of the pipeline under scope (the app).
func NewPipeline(scope constructs.Construct, props PipelineProps) *Pipeline {
	cfg := props.Config
	names := cfg.Names()
	removal := removalPolicy(cfg)
	base := func(layer, description string) awscdk.StackProps {
		return awscdk.StackProps{
			Env:         props.Env,
			StackName:   jsii.String(names.Stack(layer)),
			Description: jsii.String(description),
		}
	}
	p := &Pipeline{}
	p.Storage = NewStorageStack(scope, "Storage", &StorageStackProps{
		StackProps:    base("storage", "Orders pipeline: stateful storage (KMS key, S3 landing and staging areas, Kinesis stream, Glue catalog, audit table)"),
		Config:        cfg,
		RemovalPolicy: removal,
	})
	storage := p.Storage
	p.Warehouse = NewWarehouseStack(scope, "Warehouse", &WarehouseStackProps{
		StackProps:    base("warehouse", "Orders pipeline: Redshift warehouse (VPC, Redshift Serverless, admin secret)"),
		Config:        cfg,
		RemovalPolicy: removal,
		StagingBucket: storage.StagingBucket,
		DataKey:       storage.DataKey,
	})
	p.Ingestion = NewIngestionStack(scope, "Ingestion", &IngestionStackProps{
		StackProps:    base("ingestion", "Orders pipeline: layer 1, Kinesis to Firehose with the transformer Lambda and Parquet conversion into the landing area"),
		Config:        cfg,
		DataKey:       storage.DataKey,
		Stream:        storage.Stream,
		LandingBucket: storage.LandingBucket,
		LandingTable:  storage.LandingTable,
		RunState:      storage.RunState,
		LastJob:       names.LastJob(),
	})
	p.Audit = NewAuditStack(scope, "Audit", &AuditStackProps{
		StackProps: base("audit", "Orders pipeline: AuditTableScannerFn and the SUCCESS / FAILURE topics"),
		Config:     cfg,
		DataKey:    storage.DataKey,
		AuditTable: storage.AuditTable,
	})
	p.Orchestration = NewOrchestrationStack(scope, "Orchestration", &OrchestrationStackProps{
		StackProps:           base("orchestration", "Orders pipeline: layers 2 and 3, EventBridge trigger, Glue workflow, crawlers and jobs"),
		Config:               cfg,
		DataKey:              storage.DataKey,
		LandingBucket:        storage.LandingBucket,
		StagingBucket:        storage.StagingBucket,
		AthenaResults:        storage.AthenaResults,
		GlueCode:             storage.GlueCode,
		AuditTable:           storage.AuditTable,
		RunState:             storage.RunState,
		LandingCrawlerEvents: storage.LandingCrawlerEvents,
		StagingCrawlerEvents: storage.StagingCrawlerEvents,
		Warehouse:            p.Warehouse.Target,
		RunRotator:           p.Ingestion.RunRotator,
	})
	if cfg.PublisherInstance {
		p.Publisher = NewPublisherStack(scope, "Publisher", &PublisherStackProps{
			StackProps:    base("publisher", "Orders pipeline: optional EC2 publisher instance"),
			Config:        cfg,
			DataKey:       storage.DataKey,
			Stream:        storage.Stream,
			LandingBucket: storage.LandingBucket,
		})
	}
	p.Operations = NewOperationsStack(scope, "Operations", &OperationsStackProps{
		StackProps:         base("operations", "Orders pipeline: alarms and dashboard"),
		Config:             cfg,
		Stream:             storage.Stream,
		DeliveryStream:     p.Ingestion.DeliveryStream,
		Transformer:        p.Ingestion.Transformer,
		TransformerLogs:    p.Ingestion.TransformerLogs,
		RunRotator:         p.Ingestion.RunRotator,
		AuditScanner:       p.Audit.Scanner,
		SuccessTopic:       p.Audit.SuccessTopic,
		FailureTopic:       p.Audit.FailureTopic,
		AuditOnFailure:     p.Audit.OnFailure,
		TriggerDeadLetters: p.Orchestration.TriggerDeadLetters,
		Workgroup:          p.Warehouse.Target.WorkgroupName,
	})
	// Everything the other stacks take from the stateful ones is a strong
	// reference (an export and Fn::ImportValue): CloudFormation then refuses
	// to delete a stateful stack, or to change a value it exports, while a
	// consumer still uses it, where a weak one (Fn::GetStackOutput, the app's
	// default) would let the bucket or key go from under its consumers and
	// leave a consumer whose template did not change on the old value.
	// References between stateless stacks stay weak, so any of them can be
	// destroyed and deployed again on its own.
	// The strength is a property of each resource, so it is set once every
	// resource of the stateful stacks exists.
	for _, stateful := range []awscdk.Stack{p.Storage.Stack, p.Warehouse.Stack} {
		for _, c := range *stateful.Node().FindAll(constructs.ConstructOrder_PREORDER) {
			if *awscdk.CfnResource_IsCfnResource(c) {
				awscdk.CrossStackReferences_Of(c).Produce(awscdk.ReferenceStrength_STRONG)
			}
		}
	}
	return p
}

// removalPolicy maps the config switch onto the stateful resources; the
// stateful stacks take the result as a prop and hand it to every construct.
func removalPolicy(cfg config.Config) awscdk.RemovalPolicy {
	if cfg.RemovalPolicy == config.RemovalDestroy {
		return awscdk.RemovalPolicy_DESTROY
	}
	return awscdk.RemovalPolicy_RETAIN
}

// LoadConfig resolves the pipeline configuration from the app's context,
// cdk.json and config/<stage>.json under dir.
func LoadConfig(app awscdk.App, dir string) (config.Config, error) {
	cdkJSON, err := ReadCDKJSONContext(filepath.Join(dir, "cdk.json"))
	if err != nil {
		return config.Config{}, err
	}
	all, _ := app.Node().GetAllContext(nil).(map[string]interface{})
	return config.Load(config.Sources{
		CDKJSONContext: cdkJSON,
		Context:        all,
		StageDir:       filepath.Join(dir, "config"),
	})
}

// ReadCDKJSONContext returns the "context" object of a cdk.json file.
func ReadCDKJSONContext(path string) (map[string]any, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", path, err)
	}
	var doc struct {
		Context map[string]any `json:"context"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("parsing %s: %w", path, err)
	}
	return doc.Context, nil
}
