package stacks

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsdynamodb"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsevents"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsglue"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssqs"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/orders-pipeline/orders-pipeline/internal/config"
)

// OrchestrationStackProps configure the orchestration stack.
type OrchestrationStackProps struct {
	awscdk.StackProps
	Config    config.Config
	Storage   *StorageStack
	Warehouse *WarehouseStack
	Ingestion *IngestionStack
	// ScriptsDir holds the Glue scripts and SQL; empty means glue-scripts/
	// at the module root.
	ScriptsDir string
}

// OrchestrationStack holds the EventBridge trigger, the Glue workflow
// `orders-workflow`, its crawlers and jobs.
type OrchestrationStack struct {
	// Stack is kept as a field, not embedded: jsii cannot pass a Go struct
	// that embeds a construct back into the CDK.
	Stack    awscdk.Stack
	Workflow awsglue.Workflow
	// Steps are the workflow's crawlers and jobs in the order they run.
	Steps []Step
	// Rule starts the workflow: `orders-eventbridge-rule` or, in the
	// continuous mode, `orders-infinite-loop-rule`.
	Rule awsevents.Rule
	// TriggerDeadLetters holds the start events EventBridge could not
	// deliver to the workflow or the run-id rotator; worth an alarm.
	TriggerDeadLetters awssqs.IQueue
	// AthenaWorkgroup is the workgroup the S3 audit jobs query in.
	AthenaWorkgroup string
}

// orchestrationInputs are the resources the workflow works on, resolved
// from the other stacks.
type orchestrationInputs struct {
	cfg           config.Config
	names         config.Names
	scripts       glueScripts
	dataKey       awskms.IKey
	landing       awss3.IBucket
	staging       awss3.IBucket
	athenaResults awss3.IBucket
	glueCode      awss3.IBucket
	auditTable    awsdynamodb.ITable
	runState      awsdynamodb.ITable
	// warehouse is nil when no warehouse is configured; the workflow then
	// ends with the S3 staging audit.
	warehouse  *WarehouseTarget
	runRotator awslambda.IFunction
}

// NewOrchestrationStack defines the orchestration layer.
func NewOrchestrationStack(scope constructs.Construct, id string, props *OrchestrationStackProps) *OrchestrationStack {
	stack := awscdk.NewStack(scope, jsii.String(id), &props.StackProps)
	in := resolveInputs(stack, props)
	o := &OrchestrationStack{Stack: stack}

	security := newGlueSecurity(stack, in)
	o.AthenaWorkgroup = newAthenaWorkgroup(stack, in)
	c := newCrawlers(stack, in, security)
	j := newJobs(stack, in, security, o.AthenaWorkgroup)
	o.Steps = chainSteps(c, j)
	o.Workflow = newWorkflow(stack, in, o.Steps)
	o.Rule, o.TriggerDeadLetters = newTriggerRule(stack, in, o.Workflow, lastJob(o.Steps))
	for _, role := range append(j.roles(), c.landingRole, c.stagingRole) {
		suppressGlueRoleFindings(role)
	}
	return o
}

// resolveInputs takes the stateful resources from the storage and warehouse
// stacks.
func resolveInputs(stack awscdk.Stack, props *OrchestrationStackProps) orchestrationInputs {
	cfg := props.Config
	in := orchestrationInputs{
		cfg:           cfg,
		names:         cfg.Names(),
		scripts:       newGlueScripts(props.ScriptsDir),
		dataKey:       props.Storage.DataKey,
		staging:       props.Storage.StagingBucket,
		athenaResults: props.Storage.AthenaResults,
		glueCode:      props.Storage.GlueCode,
		landing:       props.Storage.LandingBucket,
		auditTable:    props.Storage.AuditTable,
		runState:      props.Storage.RunState,
	}
	if props.Warehouse != nil && warehouseConfigured(props.Warehouse.Target) {
		target := props.Warehouse.Target
		in.warehouse = &target
	}
	if props.Ingestion != nil {
		in.runRotator = props.Ingestion.RunRotator
	}
	return in
}

// warehouseConfigured reports whether the warehouse layer filled the target.
func warehouseConfigured(t WarehouseTarget) bool {
	return t.WorkgroupName != nil || t.ClusterIdentifier != nil
}
