package stacks

import (
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsglue"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	"github.com/aws/jsii-runtime-go"
	"github.com/orders-pipeline/orders-pipeline/internal/audit"
	"github.com/orders-pipeline/orders-pipeline/internal/construct/gluejob"
)

// jobs are the workflow's Glue jobs; the Redshift ones are nil when no
// warehouse is configured.
type jobs struct {
	landingAudit, landingToStaging, stagingAudit *gluejob.Job
	warehouse                                    *warehouseJobs
}

// jobFactory builds the jobs with the settings they all share.
type jobFactory struct {
	stack    awscdk.Stack
	in       orchestrationInputs
	security awsglue.SecurityConfiguration
	modules  sharedModules
	runs     runInputs
}

func (f jobFactory) props(name, description, script string, args map[string]*string) gluejob.Props {
	return gluejob.Props{
		JobName:               name,
		Description:           description,
		Script:                f.in.scripts.file(script),
		ExtraPythonFiles:      f.modules.code,
		Arguments:             args,
		SecurityConfiguration: f.security,
		Timeout:               awscdk.Duration_Minutes(jsii.Number(float64(f.in.cfg.JobTimeoutMinutes))),
	}
}

// spark defines a Glue 5.0 PySpark job with bookmarks: every run reads only
// what earlier runs have not processed, and one run at a time keeps the
// bookmark consistent.
func (f jobFactory) spark(id string, props gluejob.Props) *gluejob.Job {
	props.MaxConcurrentRuns = 1
	job := gluejob.NewSpark(f.stack, id, gluejob.SparkProps{
		Props:      props,
		Bookmarks:  true,
		WorkerType: awsglue.WorkerType(strings.ReplaceAll(f.in.cfg.SparkWorkerType, ".", "_")),
		Workers:    f.in.cfg.SparkWorkers,
	})
	f.in.dataKey.GrantEncryptDecrypt(job.Role)
	f.modules.awaitedBy(job)
	return job
}

// shell defines a Python 3.9 shell job.
func (f jobFactory) shell(id string, props gluejob.Props) *gluejob.Job {
	capacity := awsglue.MaxCapacity_DPU_1_16TH
	if f.in.cfg.PythonShellCapacity == "1" {
		capacity = awsglue.MaxCapacity_DPU_1
	}
	job := gluejob.NewPythonShell(f.stack, id, gluejob.PythonShellProps{Props: props, Capacity: capacity})
	f.in.dataKey.GrantEncryptDecrypt(job.Role)
	f.modules.awaitedBy(job)
	return job
}

// athenaAudit defines a job that counts one S3 layer per run id with
// Athena and upserts the counts into the audit table.
func (f jobFactory) athenaAudit(id, name, description string, layer audit.Layer, table string, bucket bucketPrefix, workgroup string) *gluejob.Job {
	in := f.in
	args := map[string]*string{
		"--layer":            jsii.String(string(layer)),
		"--database":         jsii.String(in.names.Database),
		"--table":            jsii.String(table),
		"--athena_workgroup": jsii.String(workgroup),
		"--audit_table":      in.auditTable.TableName(),
		"--manifest_path":    jsii.String(in.manifestPath()),
	}
	if layer == audit.S3Landing {
		args["--run_state_table"] = in.runState.TableName()
		args["--events_queue_url"] = f.runs.events.QueueUrl()
	}
	job := f.shell(id, f.props(name, description, "jobs/athena_audit_load.py", args))
	if layer == audit.S3Landing {
		grantLandingRunSelection(job, in, f.runs)
	} else {
		grantManifestRead(job.Role, in)
	}
	grantCatalogRead(job.Role, in.names.Database, table)
	grantPrefixRead(job.Role, bucket.bucket, bucket.prefix)
	grantAthenaQueries(job.Role, workgroup, in.athenaResults)
	grantAuditWrite(job.Role, in.auditTable)
	return job
}

// newJobs defines the S3 half of layer 3 and, with a warehouse, the
// Redshift half.
func newJobs(stack awscdk.Stack, in orchestrationInputs, security awsglue.SecurityConfiguration, workgroup string) jobs {
	f := jobFactory{stack: stack, in: in, security: security, modules: deploySharedModules(stack, in), runs: newLandingEvents(stack, in)}
	n := in.names
	landingOrders := bucketPrefix{in.landing, "orders/"}
	stagingOrders := bucketPrefix{in.staging, "orders/"}
	var j jobs

	j.landingAudit = f.athenaAudit("LandingAuditJob", n.LandingAuditJob,
		"Counts the exploded products per run id in the S3 landing area into the audit table",
		audit.S3Landing, n.LandingTable, landingOrders, workgroup)

	j.landingToStaging = f.spark("LandingToStagingJob", f.props(n.LandingToStagingJob,
		"Explodes new landing orders to one row per product into the S3 staging area (Parquet/Snappy, same partitions)",
		"jobs/orders_landing_to_staging.py", map[string]*string{
			"--database":      jsii.String(n.Database),
			"--landing_table": jsii.String(n.LandingTable),
			"--staging_path":  jsii.String(stagingOrders.uri()),
		}))
	grantCatalogRead(j.landingToStaging.Role, n.Database, n.LandingTable)
	grantPrefixRead(j.landingToStaging.Role, in.landing, landingOrders.prefix)
	grantPrefixRead(j.landingToStaging.Role, in.staging, stagingOrders.prefix)
	grantPrefixWrite(j.landingToStaging.Role, in.staging, stagingOrders.prefix)

	j.stagingAudit = f.athenaAudit("StagingAuditJob", n.StagingAuditJob,
		"Counts the rows per run id in the S3 staging area into the audit table",
		audit.S3Staging, n.StagingTable, stagingOrders, workgroup)

	if in.warehouse != nil {
		j.warehouse = newWarehouseJobs(f, *in.warehouse)
	}
	return j
}

// bucketPrefix is one area of a bucket.
type bucketPrefix struct {
	bucket awss3.IBucket
	prefix string
}

func (b bucketPrefix) uri() string {
	return "s3://" + *b.bucket.BucketName() + "/" + b.prefix
}

// roles are the roles of every job defined.
func (j jobs) roles() []awsiam.Role {
	list := []*gluejob.Job{j.landingAudit, j.landingToStaging, j.stagingAudit}
	if w := j.warehouse; w != nil {
		list = append(list, w.stagingToRedshift, w.redshiftStagingAudit, w.redshiftStagingToFinal, w.redshiftFinalAudit)
	}
	roles := make([]awsiam.Role, len(list))
	for i, job := range list {
		roles[i] = job.Role
	}
	return roles
}
