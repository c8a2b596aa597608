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
