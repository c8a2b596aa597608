package stacks

import (
	"encoding/json"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsathena"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsglue"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/jsii-runtime-go"
	"github.com/orders-pipeline/orders-pipeline/internal/construct/gluejob"
)

// newGlueSecurity encrypts what the crawlers and jobs write outside the
// buckets' own encryption: S3 output, CloudWatch logs and job bookmarks,
// all with the data key.
//
// The Glue L2 retains it, but it holds no data (the key it names lives in
// the storage stack), and a retained configuration keeps its fixed name
// taken: redeploying this stack after a destroy would fail on it.
func newGlueSecurity(stack awscdk.Stack, in orchestrationInputs) awsglue.SecurityConfiguration {
	sc := awsglue.NewSecurityConfiguration(stack, jsii.String("GlueSecurity"), &awsglue.SecurityConfigurationProps{
		SecurityConfigurationName: jsii.String(in.names.GlueSecurity),
		S3Encryption:              awsglue.S3Encryption_Kms(in.dataKey),
		CloudWatchEncryption:      awsglue.CloudWatchEncryption_Kms(in.dataKey),
		JobBookmarksEncryption:    awsglue.JobBookmarksEncryption_ClientSideKms(in.dataKey),
	})
	sc.ApplyRemovalPolicy(awscdk.RemovalPolicy_DESTROY)
	return sc
}

// newAthenaWorkgroup is where the S3 audit jobs query; its configuration
// is enforced so every result lands encrypted in the results bucket.
func newAthenaWorkgroup(stack awscdk.Stack, in orchestrationInputs) string {
	name := in.names.AthenaWorkgroup
	awsathena.NewCfnWorkGroup(stack, jsii.String("AthenaWorkgroup"), &awsathena.CfnWorkGroupProps{
		Name:        jsii.String(name),
		Description: jsii.String("Record counts per run id of the S3 landing and staging areas"),
		// The workgroup keeps only query history, so deleting it with the
		// stack loses nothing.
		RecursiveDeleteOption: jsii.Bool(true),
		WorkGroupConfiguration: &awsathena.CfnWorkGroup_WorkGroupConfigurationProperty{
			EnforceWorkGroupConfiguration:   jsii.Bool(true),
			PublishCloudWatchMetricsEnabled: jsii.Bool(true),
			EngineVersion:                   &awsathena.CfnWorkGroup_EngineVersionProperty{SelectedEngineVersion: jsii.String("Athena engine version 3")},
			ResultConfiguration: &awsathena.CfnWorkGroup_ResultConfigurationProperty{
				OutputLocation: jsii.String("s3://" + *in.athenaResults.BucketName() + "/" + name + "/"),
				EncryptionConfiguration: &awsathena.CfnWorkGroup_EncryptionConfigurationProperty{
					EncryptionOption: jsii.String("SSE_KMS"),
					// The key by its alias, a literal: a cross-stack import
					// of the key ARN is a value CT.ATHENA.PR.2 cannot read.
					KmsKey: jsii.String(dataKeyAlias(in.cfg)),
				},
			},
		},
	})
	return name
}

// crawlers are the workflow's two crawlers.
type crawlers struct {
	landing, staging         awsglue.CfnCrawler
	landingRole, stagingRole awsiam.Role
}

// crawlerConfiguration adds new partitions with the table's own schema
// instead of deriving one per partition.
var crawlerConfiguration = mustJSON(map[string]any{
	"Version": 1.0,
	"CrawlerOutput": map[string]any{
		"Partitions": map[string]any{"AddOrUpdateBehavior": "InheritFromTable"},
	},
	"Grouping": map[string]any{"TableGroupingPolicy": "CombineCompatibleSchemas"},
})

// newCrawlers defines the landing and staging crawlers.
//
// The landing crawler targets the declared `orders` table (a catalog
// target) so the schema Firehose converts against is never rewritten: it
// only logs schema changes and adds partitions. Glue allows incremental
// crawls (CRAWL_NEW_FOLDERS_ONLY) for S3 targets only, so a catalog target
// has to crawl everything (S3 event mode, the other way to crawl less,
// needs the landing bucket's events in an SQS queue). The staging crawler
// has an S3 target and crawls new folders only.
func newCrawlers(stack awscdk.Stack, in orchestrationInputs, security awsglue.SecurityConfiguration) crawlers {
	db := in.names.Database

	landingRole := newCrawlerRole(stack, "LandingCrawlerRole", in)
	grantPartitionsAdd(landingRole, db, in.names.LandingTable)
	grantPrefixRead(landingRole, in.landing, "orders/")
	landing := awsglue.NewCfnCrawler(stack, jsii.String("LandingCrawler"), &awsglue.CfnCrawlerProps{
		Name:        jsii.String(in.names.LandingCrawler),
		Description: jsii.String("Adds the new processing-time partitions of the S3 landing area to the declared orders table"),
		Role:        landingRole.RoleArn(),
		Targets: &awsglue.CfnCrawler_TargetsProperty{
			CatalogTargets: []any{&awsglue.CfnCrawler_CatalogTargetProperty{
				DatabaseName: jsii.String(db),
				Tables:       jsii.Strings(in.names.LandingTable),
			}},
		},
		SchemaChangePolicy:           &awsglue.CfnCrawler_SchemaChangePolicyProperty{UpdateBehavior: jsii.String("LOG"), DeleteBehavior: jsii.String("LOG")},
		RecrawlPolicy:                &awsglue.CfnCrawler_RecrawlPolicyProperty{RecrawlBehavior: jsii.String("CRAWL_EVERYTHING")},
		Configuration:                jsii.String(crawlerConfiguration),
		CrawlerSecurityConfiguration: security.SecurityConfigurationName(),
	})

	stagingRole := newCrawlerRole(stack, "StagingCrawlerRole", in)
	grantTablesWrite(stagingRole, db, in.names.StagingTable)
	grantPrefixRead(stagingRole, in.staging, "orders/")
	staging := awsglue.NewCfnCrawler(stack, jsii.String("StagingCrawler"), &awsglue.CfnCrawlerProps{
		Name:         jsii.String(in.names.StagingCrawler),
		Description:  jsii.String("Catalogs the S3 staging area as staging_orders (the prefix keeps it apart from the landing orders table)"),
		Role:         stagingRole.RoleArn(),
		DatabaseName: jsii.String(db),
		TablePrefix:  jsii.String(in.names.StagingTablePrefix),
		Targets: &awsglue.CfnCrawler_TargetsProperty{
			S3Targets: []any{&awsglue.CfnCrawler_S3TargetProperty{
				Path: jsii.String("s3://" + *in.staging.BucketName() + "/orders/"),
			}},
		},
		// Incremental crawls force both behaviours to LOG.
		SchemaChangePolicy:           &awsglue.CfnCrawler_SchemaChangePolicyProperty{UpdateBehavior: jsii.String("LOG"), DeleteBehavior: jsii.String("LOG")},
		RecrawlPolicy:                &awsglue.CfnCrawler_RecrawlPolicyProperty{RecrawlBehavior: jsii.String("CRAWL_NEW_FOLDERS_ONLY")},
		Configuration:                jsii.String(crawlerConfiguration),
		CrawlerSecurityConfiguration: security.SecurityConfigurationName(),
	})
	return crawlers{landing: landing, staging: staging, landingRole: landingRole, stagingRole: stagingRole}
}

// newCrawlerRole may write the crawler logs and use the data key (the
// areas are SSE-KMS, the logs are encrypted with it); callers grant data.
func newCrawlerRole(stack awscdk.Stack, id string, in orchestrationInputs) awsiam.Role {
	role := awsiam.NewRole(stack, jsii.String(id), &awsiam.RoleProps{
		AssumedBy: awsiam.NewServicePrincipal(jsii.String("glue.amazonaws.com"), nil),
	})
	gluejob.AllowGlueLogs(role, gluejob.CrawlerLogs)
	in.dataKey.GrantEncryptDecrypt(role)
	return role
}

func mustJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return string(b)
}
