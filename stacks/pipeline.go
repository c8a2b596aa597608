// Package stacks holds the pipeline's CloudFormation stacks. Stateful
// resources (buckets, stream, catalog, audit table, warehouse) live in their
// own stacks so the stateless ones (Firehose, Lambdas, Glue jobs, rules,
// alarms) can be replaced freely; stacks are wired through typed props.
package stacks

import (
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
	base := func(layer, description string) awscdk.StackProps {
		return awscdk.StackProps{
			Env:         props.Env,
			StackName:   jsii.String(StackName(cfg, layer)),
			Description: jsii.String(description),
		}
	}
	p := &Pipeline{}
	p.Storage = NewStorageStack(scope, "Storage", &StorageStackProps{
		StackProps: base("storage", "Orders pipeline: stateful storage (KMS key, S3 landing and staging areas, Kinesis stream, Glue catalog, audit table)"),
		Config:     cfg,
	})
	p.Warehouse = NewWarehouseStack(scope, "Warehouse", &WarehouseStackProps{
		StackProps: base("warehouse", "Orders pipeline: Redshift warehouse (VPC, Redshift Serverless, admin secret)"),
		Config:     cfg,
		Storage:    p.Storage,
	})
	p.Ingestion = NewIngestionStack(scope, "Ingestion", &IngestionStackProps{
		StackProps: base("ingestion", "Orders pipeline: layer 1, Kinesis to Firehose with the transformer Lambda and Parquet conversion into the landing area"),
		Config:     cfg,
		Storage:    p.Storage,
	})
	p.Audit = NewAuditStack(scope, "Audit", &AuditStackProps{
		StackProps: base("audit", "Orders pipeline: AuditTableScannerFn and the SUCCESS / FAILURE topics"),
		Config:     cfg,
		Storage:    p.Storage,
	})
	p.Orchestration = NewOrchestrationStack(scope, "Orchestration", &OrchestrationStackProps{
		StackProps: base("orchestration", "Orders pipeline: layers 2 and 3, EventBridge trigger, Glue workflow, crawlers and jobs"),
		Config:     cfg,
		Storage:    p.Storage,
		Warehouse:  p.Warehouse,
		Ingestion:  p.Ingestion,
	})
	if cfg.PublisherInstance {
		p.Publisher = NewPublisherStack(scope, "Publisher", &PublisherStackProps{
			StackProps: base("publisher", "Orders pipeline: optional EC2 publisher instance"),
			Config:     cfg,
			Storage:    p.Storage,
		})
	}
	p.Operations = NewOperationsStack(scope, "Operations", &OperationsStackProps{
		StackProps: base("operations", "Orders pipeline: alarms and dashboard"),
		Config:     cfg,
		Pipeline:   p,
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

// StackName is the CloudFormation name of one layer's stack.
func StackName(cfg config.Config, layer string) string {
	return cfg.Names().Pipeline + "-" + layer
}

// removalPolicy maps the config switch onto stateful resources.
func removalPolicy(cfg config.Config) awscdk.RemovalPolicy {
	if cfg.RemovalPolicy == "destroy" {
		return awscdk.RemovalPolicy_DESTROY
	}
	return awscdk.RemovalPolicy_RETAIN
}
