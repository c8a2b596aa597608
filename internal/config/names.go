package config

// Names are the pipeline's resource names: the seed's names behind the
// configured prefix. Every stack takes its names from here, so a prefix
// renames the whole deployment consistently.
type Names struct {
	Stream, DeliveryStream, Database, LandingTable, StagingTablePrefix, StagingTable string
	Workflow, EventBridgeRule, InfiniteLoopRule                                      string
	LandingCrawler, StagingCrawler                                                   string
	LandingAuditJob, LandingToStagingJob, StagingAuditJob                            string
	StagingToRedshiftJob, RedshiftStagingAuditJob                                    string
	RedshiftStagingToFinalJob, RedshiftFinalAuditJob                                 string
	AuditTable, AuditScannerFunction, TransformerFunction                            string
	LandingBucketSeed, StagingBucketSeed                                             string
}

// Names returns the resource names for this configuration.
func (c Config) Names() Names {
	p := c.ResourcePrefix
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
	}
}
