package stacks

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3assets"
	"github.com/aws/jsii-runtime-go"
	"github.com/orders-pipeline/orders-pipeline/internal/audit"
	"github.com/orders-pipeline/orders-pipeline/internal/construct/gluejob"
)

// warehouseJobs are the Redshift half of layer 3.
type warehouseJobs struct {
	stagingToRedshift, redshiftStagingAudit, redshiftStagingToFinal, redshiftFinalAudit *gluejob.Job
}

// warehouseArguments tell a job how to reach the warehouse through the
// Redshift Data API.
func warehouseArguments(t WarehouseTarget, args map[string]*string) map[string]*string {
	args["--redshift_database"] = jsii.String(t.Database)
	// --secret_arn names the secret; the jobs read its value from Secrets
	// Manager at run time (acknowledgeSecretArn). Without one (an existing
	// workgroup), the Data API authenticates as the job's own role.
	if t.Secret != nil {
		args["--secret_arn"] = t.Secret.SecretArn()
	}
	if t.WorkgroupName != nil {
		args["--workgroup_name"] = t.WorkgroupName
	} else {
		args["--cluster_identifier"] = t.ClusterIdentifier
	}
	return args
}

// newWarehouseJobs defines the four Redshift jobs. The SQL files are
// assets the jobs read by S3 URI, so the DDL and the enrichment are
// reviewed and tested as SQL, not as Python strings.
func newWarehouseJobs(f jobFactory, t WarehouseTarget) *warehouseJobs {
	in, n := f.in, f.in.names
	ddl := awss3assets.NewAsset(f.stack, jsii.String("DdlSql"), &awss3assets.AssetProps{Path: jsii.String(in.scripts.file("sql/ddl.sql"))})
	enrich := awss3assets.NewAsset(f.stack, jsii.String("EnrichFinalSql"), &awss3assets.AssetProps{Path: jsii.String(in.scripts.file("sql/enrich_final.sql"))})
	stagingOrders := bucketPrefix{in.staging, "orders/"}
	copyArea := bucketPrefix{in.staging, copyPrefix}
	w := &warehouseJobs{}

	w.stagingToRedshift = f.spark("StagingToRedshiftJob", f.props(n.StagingToRedshiftJob,
		"Loads the S3 staging rows not loaded before into Redshift staging.orders (Parquet COPY through the Data API)",
		"jobs/orders_s3_staging_to_redshift_staging.py", warehouseArguments(t, map[string]*string{
			"--database":      jsii.String(n.Database),
			"--staging_table": jsii.String(n.StagingTable),
			"--copy_path":     jsii.String(copyArea.uri()),
			"--copy_role_arn": t.CopyRole.RoleArn(),
			"--ddl_sql_uri":   ddl.S3ObjectUrl(),
			"--manifest_path": jsii.String(in.manifestPath()),
		})))
	grantManifestRead(w.stagingToRedshift.Role, in)
	grantCatalogRead(w.stagingToRedshift.Role, n.Database, n.StagingTable)
	grantPrefixRead(w.stagingToRedshift.Role, in.staging, stagingOrders.prefix)
	grantPrefixRead(w.stagingToRedshift.Role, in.staging, copyArea.prefix)
	grantPrefixWrite(w.stagingToRedshift.Role, in.staging, copyArea.prefix)
	t.GrantDataAPI(w.stagingToRedshift.Role)
	acknowledgeSecretArn(w.stagingToRedshift)
	ddl.GrantRead(w.stagingToRedshift.Role)

	w.redshiftStagingAudit = f.redshiftAudit("RedshiftStagingAuditJob", n.RedshiftStagingAuditJob,
		"Counts the rows per run id in Redshift staging.orders into the audit table", audit.RedshiftStaging, t)

	w.redshiftStagingToFinal = f.shell("RedshiftStagingToFinalJob", f.props(n.RedshiftStagingToFinalJob,
		"Enriches the Redshift staging rows into final.orders, replacing each run id's rows in one transaction",
		"jobs/orders_redshift_staging_to_redshift_final.py", warehouseArguments(t, map[string]*string{
			"--ddl_sql_uri":          ddl.S3ObjectUrl(),
			"--enrich_final_sql_uri": enrich.S3ObjectUrl(),
			"--manifest_path":        jsii.String(in.manifestPath()),
		})))
	grantManifestRead(w.redshiftStagingToFinal.Role, in)
	t.GrantDataAPI(w.redshiftStagingToFinal.Role)
	acknowledgeSecretArn(w.redshiftStagingToFinal)
	ddl.GrantRead(w.redshiftStagingToFinal.Role)
	enrich.GrantRead(w.redshiftStagingToFinal.Role)

	w.redshiftFinalAudit = f.redshiftAudit("RedshiftFinalAuditJob", n.RedshiftFinalAuditJob,
		"Counts the rows per run id in Redshift final.orders into the audit table", audit.RedshiftFinal, t)
	return w
}

// acknowledgeSecretArn answers the Glue construct's warning about an
// argument named like a secret: --secret_arn holds the ARN, not the value.
func acknowledgeSecretArn(job *gluejob.Job) {
	awscdk.Validations_Of(job.Job).Acknowledge(&awscdk.Acknowledgment{
		Id:     jsii.String("Annotation::@aws-cdk/aws-glue-alpha:plaintextJobArgumentSecret"),
		Reason: jsii.String("--secret_arn is the ARN of the warehouse secret; the job reads the value from Secrets Manager at run time"),
	})
}

// redshiftAudit defines a job that counts one Redshift layer per run id
// and upserts the counts into the audit table.
func (f jobFactory) redshiftAudit(id, name, description string, layer audit.Layer, t WarehouseTarget) *gluejob.Job {
	job := f.shell(id, f.props(name, description, "jobs/redshift_audit_load.py", warehouseArguments(t, map[string]*string{
		"--layer":         jsii.String(string(layer)),
		"--audit_table":   f.in.auditTable.TableName(),
		"--manifest_path": jsii.String(f.in.manifestPath()),
	})))
	grantManifestRead(job.Role, f.in)
	t.GrantDataAPI(job.Role)
	acknowledgeSecretArn(job)
	grantAuditWrite(job.Role, f.in.auditTable)
	return job
}
