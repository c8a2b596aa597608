package config

// Names are the pipeline's resource names, all composed here: the seed's
// names behind NamePrefix, and the pipeline's own names (stacks, log
// groups, key aliases, warehouse, dashboard) from resourcePrefix and the
// stage. Every stack takes its names from here, so a prefix or a stage
// renames the whole deployment consistently, and validation can check each
// composed name against its service's limits (see NameLimits).
type Names struct {
	Stream, DeliveryStream, Database, LandingTable, StagingTablePrefix, StagingTable string
	Workflow, EventBridgeRule, InfiniteLoopRule                                      string
	LandingCrawler, StagingCrawler                                                   string
	LandingAuditJob, LandingToStagingJob, StagingAuditJob                            string
	StagingToRedshiftJob, RedshiftStagingAuditJob                                    string
	RedshiftStagingToFinalJob, RedshiftFinalAuditJob                                 string
	AuditTable, AuditScannerFunction, TransformerFunction                            string
	LandingBucketSeed, StagingBucketSeed                                             string
	// GlueSecurity is the workflow's Glue security configuration.
	GlueSecurity string
	// AthenaWorkgroup is where the S3 audit jobs query.
	AthenaWorkgroup string
	// Pipeline is "<resourcePrefix>orders-pipeline-<stage>": the stacks'
	// names start with it, and it names the dashboard, the data key's
	// alias and the pipeline's log groups.
	Pipeline string
	// Warehouse names the Redshift Serverless namespace and workgroup.
	Warehouse string
}

// Prefixes of the data buckets. The source system drops a completion
// object under CompletionPrefix at the end of every batch, which starts the
// workflow and closes the open run id; Firehose writes the records it could
// not transform or convert under ErrorsPrefix.
const (
	// OrdersPrefix holds the orders, in the landing and the staging area.
	OrdersPrefix     = "orders/"
	CompletionPrefix = "batch-completion/"
	ErrorsPrefix     = "errors/"
	// CopyPrefix is where the Spark job stages the Parquet files Redshift COPYs.
	CopyPrefix = "redshift-copy/"
	// ManifestPrefix in the staging bucket holds one object per workflow
	// run: the runs its landing audit counted, which every later step
	// counts too.
	ManifestPrefix = "manifests/"
)

// Services whose log groups the pipeline names (see Names.LogGroup).
const (
	LambdaLogs   = "lambda"
	FirehoseLogs = "kinesisfirehose"
	FlowLogs     = "vpcflowlogs"
)

// DefaultStage is the stage whose resources keep the seed's names.
func DefaultStage() string {
	f, _ := fieldByKey("stage")
	return f.Default
}

// NamePrefix goes before every seed name: resourcePrefix when it is set;
// otherwise nothing for the default stage, which keeps the seed's names,
// and "<stage>-" for any other stage, so two stages deploy side by side in
// one account and region.
func (c Config) NamePrefix() string {
	switch {
	case c.ResourcePrefix != "":
		return c.ResourcePrefix
	case c.Stage == DefaultStage():
		return ""
	}
	return c.Stage + "-"
}

// Names returns the resource names for this configuration.
func (c Config) Names() Names {
	p := c.NamePrefix()
	return Names{
		Stream:                    p + "orders",
		DeliveryStream:            p + "orders-firehose",
		Database:                  p + "ecommerce-database",
		LandingTable:              "orders",
		StagingTablePrefix:        "staging_",
		StagingTable:              "staging_orders",
		Workflow:                  p + "orders-workflow",
		EventBridgeRule:           p + "orders-eventbridge-rule",
		InfiniteLoopRule:          p + "orders-infinite-loop-rule",
		LandingCrawler:            p + "orders-landing-area-crawler",
		StagingCrawler:            p + "orders-staging-area-crawler",
		LandingAuditJob:           p + "orders_landing_audit_load",
		LandingToStagingJob:       p + "orders_landing_to_staging",
		StagingAuditJob:           p + "orders_staging_audit_load",
		StagingToRedshiftJob:      p + "orders_s3_staging_to_redshift_staging",
		RedshiftStagingAuditJob:   p + "orders_redshift_staging_audit_load",
		RedshiftStagingToFinalJob: p + "orders_redshift_staging_to_redshift_final",
		RedshiftFinalAuditJob:     p + "orders_redshift_final_audit_load",
		AuditTable:                p + "orders-audit-table",
		AuditScannerFunction:      p + "AuditTableScannerFn",
		TransformerFunction:       p + "LambdaTransformerFn",
		LandingBucketSeed:         p + "fo-to-dw-orders-landing-area",
		StagingBucketSeed:         p + "fo-to-dw-orders-staging-area",
		GlueSecurity:              p + "orders-workflow-security",
		AthenaWorkgroup:           p + "orders-audit-workgroup",
		// These carry the stage already; resourcePrefix alone prefixes them.
		Pipeline:  c.ResourcePrefix + "orders-pipeline-" + c.Stage,
		Warehouse: c.ResourcePrefix + "orders-" + c.Stage,
	}
}

// Stack is the CloudFormation name of one layer's stack.
func (n Names) Stack(layer string) string { return n.Pipeline + "-" + layer }

// DataKeyAlias is the alias of the pipeline's data key. Other stacks name
// the key by it where a literal is needed (the Athena workgroup).
func (n Names) DataKeyAlias() string { return "alias/" + n.Pipeline }

// WarehouseKeyAlias is the alias of the warehouse's own key.
func (n Names) WarehouseKeyAlias() string { return "alias/" + n.Warehouse + "-warehouse" }

// LogGroup is "/aws/<service>/<prefix>orders-pipeline-<stage>-<name>". The
// data key's policy lets CloudWatch Logs use it for exactly these names.
func (n Names) LogGroup(service, name string) string {
	return "/aws/" + service + "/" + n.Pipeline + "-" + name
}

// StartTrigger is the workflow's EVENT trigger.
func (n Names) StartTrigger() string { return n.Workflow + "-start" }

// StepTrigger is the conditional trigger that runs one step of the workflow.
func (n Names) StepTrigger(step string) string { return n.Workflow + "-then-" + step }

// WorkflowStep is one crawler or job of the workflow.
type WorkflowStep struct {
	Name    string
	Crawler bool
}

// WorkflowSteps is the one definition of the workflow's order, the seed's
// layer 3: each step starts when the one before it has succeeded. The
// orchestration stack builds the chain in this order, the operations stack
// watches its jobs and crawlers, and the continuous loop restarts on its
// last job.
func (n Names) WorkflowSteps() []WorkflowStep {
	return []WorkflowStep{
		{Name: n.LandingCrawler, Crawler: true},
		{Name: n.LandingAuditJob},
		{Name: n.LandingToStagingJob},
		{Name: n.StagingCrawler, Crawler: true},
		{Name: n.StagingAuditJob},
		{Name: n.StagingToRedshiftJob},
		{Name: n.RedshiftStagingAuditJob},
		{Name: n.RedshiftStagingToFinalJob},
		{Name: n.RedshiftFinalAuditJob},
	}
}

// WorkflowJobs are the workflow's jobs in order, crawlers excluded.
func (n Names) WorkflowJobs() []string { return n.workflowSteps(false) }

// WorkflowCrawlers are the workflow's crawlers in order.
func (n Names) WorkflowCrawlers() []string { return n.workflowSteps(true) }

func (n Names) workflowSteps(crawlers bool) []string {
	var out []string
	for _, s := range n.WorkflowSteps() {
		if s.Crawler == crawlers {
			out = append(out, s.Name)
		}
	}
	return out
}

// LastJob is the job whose success ends a workflow run.
func (n Names) LastJob() string {
	steps := n.WorkflowSteps()
	last := steps[len(steps)-1]
	if last.Crawler {
		panic("the workflow must end with a job, not the crawler " + last.Name)
	}
	return last.Name
}
