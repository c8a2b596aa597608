package stacks

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsathena"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsdynamodb"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsevents"
	"github.com/aws/aws-cdk-go/awscdk/v2/awseventstargets"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsglue"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3assets"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsscheduler"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsschedulertargets"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssqs"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/orders-pipeline/orders-pipeline/internal/audit"
	"github.com/orders-pipeline/orders-pipeline/internal/config"
	"github.com/orders-pipeline/orders-pipeline/internal/construct/eventqueue"
	"github.com/orders-pipeline/orders-pipeline/internal/construct/finalqueue"
	"github.com/orders-pipeline/orders-pipeline/internal/construct/gluechain"
	"github.com/orders-pipeline/orders-pipeline/internal/construct/gluejob"
	"github.com/orders-pipeline/orders-pipeline/internal/construct/gluemodules"
	"github.com/orders-pipeline/orders-pipeline/internal/construct/gofunction"
	"github.com/orders-pipeline/orders-pipeline/internal/construct/nag"
	"github.com/orders-pipeline/orders-pipeline/internal/construct/workflowtarget"
)

// OrchestrationStackProps configure the orchestration stack.
type OrchestrationStackProps struct {
	awscdk.StackProps
	Config config.Config
	// DataKey encrypts the areas, and what the crawlers and jobs write
	// outside them (logs, bookmarks).
	DataKey awskms.IKey
	// LandingBucket and StagingBucket are the areas the workflow reads and
	// writes; AthenaResults receives the S3 audits' query results; GlueCode
	// receives the jobs' shared modules.
	LandingBucket, StagingBucket, AthenaResults, GlueCode awss3.IBucket
	// AuditTable receives every layer's counts.
	AuditTable awsdynamodb.ITable
	// RunState holds the closed runs (run#<id>) the landing audit chooses
	// from and marks counted.
	RunState awsdynamodb.ITable
	// LandingCrawlerEvents and StagingCrawlerEvents receive the object
	// events of the areas the crawlers read.
	LandingCrawlerEvents, StagingCrawlerEvents *eventqueue.EventQueue
	// Warehouse is where the Redshift jobs load.
	Warehouse WarehouseTarget
	// RunRotator closes the open run whenever the workflow starts.
	RunRotator awslambda.IFunction
}

// OrchestrationStack holds the EventBridge trigger, the Glue workflow
// `orders-workflow`, its crawlers and jobs.
type OrchestrationStack struct {
	// Stack is kept as a field, not embedded: jsii cannot pass a Go struct
	// that embeds a construct back into the CDK.
	Stack    awscdk.Stack
	Workflow awsglue.Workflow
	// Steps are the workflow's crawlers and jobs in the order they run.
	Steps []gluechain.Step
	// Rule starts the workflow: `orders-eventbridge-rule` or, in the
	// continuous mode, `orders-infinite-loop-rule`.
	Rule awsevents.Rule
	// TriggerDeadLetters holds the start events EventBridge could not
	// deliver to the workflow or the run-id rotator; worth an alarm.
	TriggerDeadLetters awssqs.IQueue
	// AthenaWorkgroup is the workgroup the S3 audit jobs query in.
	AthenaWorkgroup string
}

// A lost start event delays a run until the next completion file, so
// EventBridge retries for a long time before giving an event to the
// dead-letter queue.
const (
	triggerRetryAttempts = 20
	triggerMaxEventHours = 6
)

// sharedModulesPrefix is where the jobs' shared modules live in GlueCode.
const sharedModulesPrefix = "common/"

// orchestration defines the stack's crawlers and jobs with what they share.
type orchestration struct {
	*OrchestrationStackProps
	stack     awscdk.Stack
	names     config.Names
	security  awsglue.SecurityConfiguration
	workgroup string
	modules   *gluemodules.Modules
	// steps are the crawlers and jobs by name, in no order yet.
	steps map[string]gluechain.Step
	// roles are every crawler and job role, for their common findings.
	roles []awsiam.Role
	// landingEvents receives the landing bucket's Object Created events
	// under orders/; the landing audit drains it after writing its counts.
	landingEvents *eventqueue.EventQueue
}

// NewOrchestrationStack defines the orchestration layer.
func NewOrchestrationStack(scope constructs.Construct, id string, props *OrchestrationStackProps) *OrchestrationStack {
	stack := awscdk.NewStack(scope, jsii.String(id), &props.StackProps)
	o := &orchestration{OrchestrationStackProps: props, stack: stack, names: props.Config.Names(), steps: map[string]gluechain.Step{}}
	o.security = o.newGlueSecurity()
	o.workgroup = o.newAthenaWorkgroup()
	o.addCrawlers()
	o.modules = gluemodules.New(stack, "SharedModules", gluemodules.Props{
		Dir:          filepath.Join(glueScriptsDir(), "common"),
		Bucket:       props.GlueCode,
		Prefix:       sharedModulesPrefix,
		LogGroupName: o.names.LogGroup(config.LambdaLogs, "shared-modules-deployment"),
		LogKey:       props.DataKey,
	})
	o.landingEvents = o.newLandingEvents()
	o.addS3Jobs()
	o.addWarehouseJobs()

	// The batch window lets Firehose flush the records of the run that the
	// completion event closed before the first crawler lists the landing area.
	chain := gluechain.New(stack, "Workflow", gluechain.Props{
		WorkflowName:     o.names.Workflow,
		Description:      "Layer 3: landing crawler and audit, landing to staging, staging crawler and audit, then the Redshift loads and audits",
		StartTriggerName: o.names.StartTrigger(),
		StartDescription: "Starts a run on completion events from EventBridge",
		StepTriggerName:  o.names.StepTrigger,
		Steps:            o.chainSteps(),
		BatchSize:        props.Config.WorkflowBatchSize,
		BatchWindow:      awscdk.Duration_Seconds(jsii.Number(float64(props.Config.WorkflowBatchWindowSeconds))),
	})
	s := &OrchestrationStack{Stack: stack, Workflow: chain.Workflow, Steps: chain.Steps, AthenaWorkgroup: o.workgroup}
	s.Rule, s.TriggerDeadLetters = o.newTriggerRule(chain.Workflow, chain.LastJob())
	for _, role := range o.roles {
		suppressGlueRoleFindings(role)
	}
	return s
}

// chainSteps puts the crawlers and jobs in the order config.Names defines.
func (o *orchestration) chainSteps() []gluechain.Step {
	var steps []gluechain.Step
	for _, s := range o.names.WorkflowSteps() {
		step, ok := o.steps[s.Name]
		if !ok {
			panic("the workflow has no crawler or job " + s.Name)
		}
		steps = append(steps, step)
	}
	if len(steps) != len(o.steps) {
		panic(fmt.Sprintf("%d crawlers and jobs defined, %d in the workflow", len(o.steps), len(steps)))
	}
	return steps
}

// newGlueSecurity encrypts what the crawlers and jobs write outside the
// buckets' own encryption: S3 output, CloudWatch logs and job bookmarks,
// all with the data key.
//
// The Glue L2 retains it, but it holds no data (the key it names lives in
// the storage stack), and a retained configuration keeps its fixed name
// taken: redeploying this stack after a destroy would fail on it.
func (o *orchestration) newGlueSecurity() awsglue.SecurityConfiguration {
	sc := awsglue.NewSecurityConfiguration(o.stack, jsii.String("GlueSecurity"), &awsglue.SecurityConfigurationProps{
		SecurityConfigurationName: jsii.String(o.names.GlueSecurity),
		S3Encryption:              awsglue.S3Encryption_Kms(o.DataKey),
		CloudWatchEncryption:      awsglue.CloudWatchEncryption_Kms(o.DataKey),
		JobBookmarksEncryption:    awsglue.JobBookmarksEncryption_ClientSideKms(o.DataKey),
	})
	sc.ApplyRemovalPolicy(awscdk.RemovalPolicy_DESTROY)
	return sc
}

// newAthenaWorkgroup is where the S3 audit jobs query; its configuration
// is enforced so every result lands encrypted in the results bucket.
func (o *orchestration) newAthenaWorkgroup() string {
	name := o.names.AthenaWorkgroup
	awsathena.NewCfnWorkGroup(o.stack, jsii.String("AthenaWorkgroup"), &awsathena.CfnWorkGroupProps{
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
				OutputLocation: jsii.String(s3URI(o.AthenaResults, name+"/")),
				EncryptionConfiguration: &awsathena.CfnWorkGroup_EncryptionConfigurationProperty{
					EncryptionOption: jsii.String("SSE_KMS"),
					// The key by its alias, a literal: a cross-stack import
					// of the key ARN is a value CT.ATHENA.PR.2 cannot read.
					KmsKey: jsii.String(o.names.DataKeyAlias()),
				},
			},
		},
	})
	return name
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

// addCrawlers defines the landing and staging crawlers, both in S3 event
// mode: after a first full listing, a crawl lists only the folders that the
// area's object events (a queue each) name, so its work follows what is new
// and a crawl with no events costs nothing.
//
// The landing crawler targets the declared `orders` table (a catalog
// target) so the schema Firehose converts against is never rewritten: it
// only logs schema changes and adds partitions. The staging crawler has an
// S3 target and creates staging_orders from the first data.
func (o *orchestration) addCrawlers() {
	n := o.names
	db := n.Database

	landingRole := o.addCrawler("LandingCrawler", o.LandingBucket, o.LandingCrawlerEvents, &awsglue.CfnCrawlerProps{
		Name:        jsii.String(n.LandingCrawler),
		Description: jsii.String("Adds the new processing-time and run partitions of the S3 landing area to the declared orders table"),
		Targets: &awsglue.CfnCrawler_TargetsProperty{
			CatalogTargets: []any{&awsglue.CfnCrawler_CatalogTargetProperty{
				DatabaseName:     jsii.String(db),
				Tables:           jsii.Strings(n.LandingTable),
				EventQueueArn:    o.LandingCrawlerEvents.Queue.QueueArn(),
				DlqEventQueueArn: o.LandingCrawlerEvents.DeadLetters.QueueArn(),
			}},
		},
	})
	grantPartitionsAdd(landingRole, db, n.LandingTable)

	stagingRole := o.addCrawler("StagingCrawler", o.StagingBucket, o.StagingCrawlerEvents, &awsglue.CfnCrawlerProps{
		Name:         jsii.String(n.StagingCrawler),
		Description:  jsii.String("Catalogs the S3 staging area as staging_orders (the prefix keeps it apart from the landing orders table)"),
		DatabaseName: jsii.String(db),
		TablePrefix:  jsii.String(n.StagingTablePrefix),
		Targets: &awsglue.CfnCrawler_TargetsProperty{
			S3Targets: []any{&awsglue.CfnCrawler_S3TargetProperty{
				Path:             jsii.String(s3URI(o.StagingBucket, config.OrdersPrefix)),
				EventQueueArn:    o.StagingCrawlerEvents.Queue.QueueArn(),
				DlqEventQueueArn: o.StagingCrawlerEvents.DeadLetters.QueueArn(),
			}},
		},
	})
	grantTablesWrite(stagingRole, db, n.StagingTable)
}

// addCrawler defines a crawler step and its role (<id>Role) with what both
// crawlers share: event mode, schema changes only logged (the landing table
// is declared, and the staging schema is the Spark job's), the crawler and
// security configurations. The role may write the crawler logs, use the data
// key (the areas are SSE-KMS, the logs are encrypted with it), read the
// area's orders/ and consume its events; callers grant the catalog.
func (o *orchestration) addCrawler(id string, area awss3.IBucket, events *eventqueue.EventQueue, props *awsglue.CfnCrawlerProps) awsiam.Role {
	role := awsiam.NewRole(o.stack, jsii.String(id+"Role"), &awsiam.RoleProps{
		AssumedBy: awsiam.NewServicePrincipal(jsii.String("glue.amazonaws.com"), nil),
	})
	gluejob.AllowGlueLogs(role, gluejob.CrawlerLogs)
	o.DataKey.GrantEncryptDecrypt(role)
	grantPrefixRead(role, area, config.OrdersPrefix)
	events.GrantCrawler(role)
	o.roles = append(o.roles, role)

	props.Role = role.RoleArn()
	props.RecrawlPolicy = &awsglue.CfnCrawler_RecrawlPolicyProperty{RecrawlBehavior: jsii.String("CRAWL_EVENT_MODE")}
	props.SchemaChangePolicy = &awsglue.CfnCrawler_SchemaChangePolicyProperty{UpdateBehavior: jsii.String("LOG"), DeleteBehavior: jsii.String("LOG")}
	props.Configuration = jsii.String(crawlerConfiguration)
	props.CrawlerSecurityConfiguration = o.security.SecurityConfigurationName()
	o.addStep(gluechain.Crawler(id, awsglue.NewCfnCrawler(o.stack, jsii.String(id), props)))
	return role
}

func (o *orchestration) addStep(s gluechain.Step) {
	o.steps[s.Name] = s
}

func mustJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return string(b)
}

// glueScriptsDir holds the Glue job scripts, their shared modules and the
// warehouse SQL.
func glueScriptsDir() string {
	return filepath.Join(gofunction.MustModuleRoot(), "glue-scripts")
}

// glueScript is the path of one file under glue-scripts/; a missing file
// stops synth here rather than as an asset error without the job's name.
func glueScript(rel string) string {
	p := filepath.Join(glueScriptsDir(), filepath.FromSlash(rel))
	if _, err := os.Stat(p); err != nil {
		panic(fmt.Sprintf("glue script %s: %v", rel, err))
	}
	return p
}

func (o *orchestration) jobProps(name, description, script string, args map[string]*string) gluejob.Props {
	return gluejob.Props{
		JobName:               name,
		Description:           description,
		Script:                glueScript(script),
		ExtraPythonFiles:      o.modules.Code,
		Arguments:             args,
		SecurityConfiguration: o.security,
		Timeout:               awscdk.Duration_Minutes(jsii.Number(float64(o.Config.JobTimeoutMinutes))),
	}
}

// addJob makes job a step of the workflow that waits for the shared
// modules and may use the data key.
func (o *orchestration) addJob(id string, job *gluejob.Job) *gluejob.Job {
	o.DataKey.GrantEncryptDecrypt(job.Role)
	o.modules.AwaitedBy(job.Job)
	o.roles = append(o.roles, job.Role)
	o.addStep(gluechain.Job(id, job.Name, job.Job))
	return job
}

// spark defines a Glue 5.0 PySpark job with bookmarks: every run reads only
// what earlier runs have not processed, and one run at a time keeps the
// bookmark consistent.
func (o *orchestration) spark(id string, props gluejob.Props) *gluejob.Job {
	props.MaxConcurrentRuns = 1
	return o.addJob(id, gluejob.NewSpark(o.stack, id, gluejob.SparkProps{
		Props:      props,
		Bookmarks:  true,
		WorkerType: awsglue.WorkerType(strings.ReplaceAll(o.Config.SparkWorkerType, ".", "_")),
		Workers:    o.Config.SparkWorkers,
	}))
}

// shell defines a Python 3.9 shell job.
func (o *orchestration) shell(id string, props gluejob.Props) *gluejob.Job {
	capacity := awsglue.MaxCapacity_DPU_1_16TH
	if o.Config.PythonShellCapacity == config.ShellCapacityOne {
		capacity = awsglue.MaxCapacity_DPU_1
	}
	return o.addJob(id, gluejob.NewPythonShell(o.stack, id, gluejob.PythonShellProps{Props: props, Capacity: capacity}))
}

// athenaAudit defines a job that counts one S3 layer per run id with
// Athena and upserts the counts into the audit table.
func (o *orchestration) athenaAudit(id, name, description string, layer audit.Layer, table string, area bucketPrefix) {
	n := o.names
	args := map[string]*string{
		"--layer":            jsii.String(string(layer)),
		"--database":         jsii.String(n.Database),
		"--table":            jsii.String(table),
		"--athena_workgroup": jsii.String(o.workgroup),
		"--audit_table":      o.AuditTable.TableName(),
		"--manifest_path":    jsii.String(o.manifestPath()),
	}
	if layer == audit.S3Landing {
		args["--run_state_table"] = o.RunState.TableName()
		args["--events_queue_url"] = o.landingEvents.Queue.QueueUrl()
	}
	job := o.shell(id, o.jobProps(name, description, "jobs/athena_audit_load.py", args))
	if layer == audit.S3Landing {
		o.grantLandingRunSelection(job)
	} else {
		o.grantManifestRead(job.Role)
	}
	grantCatalogRead(job.Role, n.Database, table)
	grantPrefixRead(job.Role, area.bucket, area.prefix)
	grantAthenaQueries(job.Role, o.workgroup, o.AthenaResults)
	grantAuditWrite(job.Role, o.AuditTable)
}

// addS3Jobs defines the S3 half of layer 3.
func (o *orchestration) addS3Jobs() {
	n := o.names
	landingOrders := bucketPrefix{o.LandingBucket, config.OrdersPrefix}
	stagingOrders := bucketPrefix{o.StagingBucket, config.OrdersPrefix}

	o.athenaAudit("LandingAuditJob", n.LandingAuditJob,
		"Counts the exploded products per run id in the S3 landing area into the audit table",
		audit.S3Landing, n.LandingTable, landingOrders)

	toStaging := o.spark("LandingToStagingJob", o.jobProps(n.LandingToStagingJob,
		"Explodes the new landing orders of the counted runs to one row per product into the S3 staging area (Parquet/Snappy, same partitions)",
		"jobs/orders_landing_to_staging.py", map[string]*string{
			"--database":      jsii.String(n.Database),
			"--landing_table": jsii.String(n.LandingTable),
			"--staging_path":  jsii.String(stagingOrders.uri()),
			"--manifest_path": jsii.String(o.manifestPath()),
		}))
	o.grantRunsMove(toStaging.Role, n.LandingTable, landingOrders, stagingOrders)

	o.athenaAudit("StagingAuditJob", n.StagingAuditJob,
		"Counts the rows per run id in the S3 staging area into the audit table",
		audit.S3Staging, n.StagingTable, stagingOrders)
}

// landingEventsMaxReceives is how many landing audits may read an event
// without deleting it (each failed before writing its counts).
const landingEventsMaxReceives = 50

// landingEventsRuleID is the construct id of the rule feeding the landing
// events queue (it has no physical name: nothing outside refers to it).
const landingEventsRuleID = "LandingEventsRule"

// newLandingEvents routes the landing objects' Object Created events (the
// bucket sends every event to EventBridge) to a queue only the landing
// audit reads: it learns the new objects, and so their runs, without
// listing the landing area. (The landing crawler has its own queue: an
// S3 notification reaches one queue per prefix.)
func (o *orchestration) newLandingEvents() *eventqueue.EventQueue {
	q := eventqueue.New(o.stack, "LandingEvents", eventqueue.Props{
		// A message read by this many landing audits that all failed before
		// deleting it is set aside for an operator (its objects are then
		// counted only when their run is next counted for another reason).
		MaxReceives: landingEventsMaxReceives,
		// Longer than the landing audit holds a message before it deletes it.
		VisibilityTimeout: awscdk.Duration_Minutes(jsii.Number(float64(o.Config.JobTimeoutMinutes + 5))),
		RemovalPolicy:     awscdk.RemovalPolicy_DESTROY,
	})
	r := awsevents.NewRule(o.stack, jsii.String(landingEventsRuleID), &awsevents.RuleProps{
		Description:  jsii.String("Landing objects created under orders/, for the landing audit"),
		EventPattern: &awsevents.EventPattern{Source: jsii.Strings("aws.s3")},
	})
	setEventPattern(r, map[string]any{
		"source":      []any{"aws.s3"},
		"detail-type": []any{"Object Created"},
		"detail": map[string]any{
			"bucket": map[string]any{"name": []any{o.LandingBucket.BucketName()}},
			"object": map[string]any{"key": []any{map[string]any{"prefix": config.OrdersPrefix}}},
		},
	})
	r.AddTarget(awseventstargets.NewSqsQueue(q.Queue, nil))
	return q
}

// grantLandingRunSelection lets the landing audit choose the runs: read the
// run-state table and mark closed runs counted, drain the events queue,
// register the new partitions and write the manifest.
func (o *orchestration) grantLandingRunSelection(job *gluejob.Job) {
	o.RunState.Grant(job.Role, jsii.String("dynamodb:GetItem"), jsii.String("dynamodb:UpdateItem"))
	o.landingEvents.Queue.GrantConsumeMessages(job.Role)
	allow(job.Role, append(append([]string{}, catalogReadActions...), "glue:BatchCreatePartition"),
		catalogResources(o.stack, o.names.Database, o.names.LandingTable)...)
	grantPrefixWrite(job.Role, o.StagingBucket, config.ManifestPrefix)
	grantPrefixRead(job.Role, o.StagingBucket, config.ManifestPrefix)
}

// grantManifestRead lets a later step read the workflow run's manifest.
func (o *orchestration) grantManifestRead(role awsiam.IRole) {
	grantPrefixRead(role, o.StagingBucket, config.ManifestPrefix)
}

// grantRunsMove lets a job move the manifest's runs of a catalogued table
// from its area into the next one: read the manifest, the table's catalog
// entry and its area, and read and write the area it moves them into.
func (o *orchestration) grantRunsMove(role awsiam.IRole, table string, from, into bucketPrefix) {
	o.grantManifestRead(role)
	grantCatalogRead(role, o.names.Database, table)
	grantPrefixRead(role, from.bucket, from.prefix)
	grantPrefixRead(role, into.bucket, into.prefix)
	grantPrefixWrite(role, into.bucket, into.prefix)
}

// manifestPath is the folder of the workflow runs' manifests.
func (o *orchestration) manifestPath() string {
	return s3URI(o.StagingBucket, config.ManifestPrefix)
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

// addWarehouseJobs defines the Redshift half of layer 3. The SQL files are
// assets the jobs read by S3 URI, so the DDL and the enrichment are
// reviewed and tested as SQL, not as Python strings.
func (o *orchestration) addWarehouseJobs() {
	n, t := o.names, o.Warehouse
	ddl := awss3assets.NewAsset(o.stack, jsii.String("DdlSql"), &awss3assets.AssetProps{Path: jsii.String(glueScript("sql/ddl.sql"))})
	enrich := awss3assets.NewAsset(o.stack, jsii.String("EnrichFinalSql"), &awss3assets.AssetProps{Path: jsii.String(glueScript("sql/enrich_final.sql"))})
	stagingOrders := bucketPrefix{o.StagingBucket, config.OrdersPrefix}
	copyArea := bucketPrefix{o.StagingBucket, config.CopyPrefix}

	toRedshift := o.spark("StagingToRedshiftJob", o.jobProps(n.StagingToRedshiftJob,
		"Loads the S3 staging rows not loaded before into Redshift staging.orders (Parquet COPY through the Data API)",
		"jobs/orders_s3_staging_to_redshift_staging.py", warehouseArguments(t, map[string]*string{
			"--database":      jsii.String(n.Database),
			"--staging_table": jsii.String(n.StagingTable),
			"--copy_path":     jsii.String(copyArea.uri()),
			"--copy_role_arn": t.CopyRole.RoleArn(),
			"--ddl_sql_uri":   ddl.S3ObjectUrl(),
			"--manifest_path": jsii.String(o.manifestPath()),
		})))
	o.grantRunsMove(toRedshift.Role, n.StagingTable, stagingOrders, copyArea)
	t.GrantDataAPI(toRedshift.Role)
	acknowledgeSecretArn(toRedshift)
	ddl.GrantRead(toRedshift.Role)

	o.redshiftAudit("RedshiftStagingAuditJob", n.RedshiftStagingAuditJob,
		"Counts the rows per run id in Redshift staging.orders into the audit table", audit.RedshiftStaging)

	toFinal := o.shell("RedshiftStagingToFinalJob", o.jobProps(n.RedshiftStagingToFinalJob,
		"Enriches the Redshift staging rows into final.orders, replacing each run id's rows in one transaction",
		"jobs/orders_redshift_staging_to_redshift_final.py", warehouseArguments(t, map[string]*string{
			"--ddl_sql_uri":          ddl.S3ObjectUrl(),
			"--enrich_final_sql_uri": enrich.S3ObjectUrl(),
			"--manifest_path":        jsii.String(o.manifestPath()),
		})))
	o.grantManifestRead(toFinal.Role)
	t.GrantDataAPI(toFinal.Role)
	acknowledgeSecretArn(toFinal)
	ddl.GrantRead(toFinal.Role)
	enrich.GrantRead(toFinal.Role)

	o.redshiftAudit("RedshiftFinalAuditJob", n.RedshiftFinalAuditJob,
		"Counts the rows per run id in Redshift final.orders into the audit table", audit.RedshiftFinal)
}

// redshiftAudit defines a job that counts one Redshift layer per run id
// and upserts the counts into the audit table.
func (o *orchestration) redshiftAudit(id, name, description string, layer audit.Layer) {
	args := map[string]*string{
		"--layer":         jsii.String(string(layer)),
		"--audit_table":   o.AuditTable.TableName(),
		"--manifest_path": jsii.String(o.manifestPath()),
	}
	if layer == audit.RedshiftFinal {
		// The workflow's last step takes the runs it counted off the
		// pending runs the landing audit recorded.
		args["--run_state_table"] = o.RunState.TableName()
	}
	job := o.shell(id, o.jobProps(name, description, "jobs/redshift_audit_load.py", warehouseArguments(o.Warehouse, args)))
	if layer == audit.RedshiftFinal {
		o.RunState.Grant(job.Role, jsii.String("dynamodb:UpdateItem"))
	}
	o.grantManifestRead(job.Role)
	o.Warehouse.GrantDataAPI(job.Role)
	acknowledgeSecretArn(job)
	grantAuditWrite(job.Role, o.AuditTable)
}

// acknowledgeSecretArn answers the Glue construct's warning about an
// argument named like a secret: --secret_arn holds the ARN, not the value.
func acknowledgeSecretArn(job *gluejob.Job) {
	awscdk.Validations_Of(job.Job).Acknowledge(&awscdk.Acknowledgment{
		Id:     jsii.String("Annotation::@aws-cdk/aws-glue-alpha:plaintextJobArgumentSecret"),
		Reason: jsii.String("--secret_arn is the ARN of the warehouse secret; the job reads the value from Secrets Manager at run time"),
	})
}

// bucketPrefix is one area of a bucket.
type bucketPrefix struct {
	bucket awss3.IBucket
	prefix string
}

func (b bucketPrefix) uri() string { return s3URI(b.bucket, b.prefix) }

// batchCompletionPattern is the seed's orders-eventbridge-rule pattern: an
// object created under batch-completion/ of the landing bucket.
func batchCompletionPattern(landingBucket *string) map[string]any {
	return map[string]any{
		"source":      []any{"aws.s3"},
		"detail-type": []any{"Object Created"},
		"detail": map[string]any{
			"bucket": map[string]any{"name": []any{landingBucket}},
			"object": map[string]any{"key": []any{map[string]any{"prefix": config.CompletionPrefix}}},
		},
	}
}

// continuousLoopPattern is the seed's orders-infinite-loop-rule pattern:
// the workflow's last job succeeded, or a completion file arrived (the
// first run, and the restart after a failed run).
func continuousLoopPattern(landingBucket *string, lastJob string) map[string]any {
	return map[string]any{"$or": []any{
		map[string]any{
			"detail-type": []any{"Glue Job State Change"},
			"source":      []any{"aws.glue"},
			"detail": map[string]any{
				"jobName": []any{lastJob},
				"state":   []any{"SUCCEEDED"},
			},
		},
		batchCompletionPattern(landingBucket),
	}}
}

// newTriggerRule defines the rule that starts the workflow, in the variant
// triggerMode selects, its dead-letter queue, and the optional schedule of
// the continuous loop.
func (o *orchestration) newTriggerRule(wf awsglue.Workflow, lastJob string) (awsevents.Rule, awssqs.IQueue) {
	n, cfg := o.names, o.Config
	id, name := "BatchCompletionRule", n.EventBridgeRule
	description := "Starts orders-workflow when the source system drops its completion file under batch-completion/"
	pattern := batchCompletionPattern(o.LandingBucket.BucketName())
	continuous := cfg.TriggerMode == config.TriggerContinuous
	if continuous {
		id, name = "ContinuousLoopRule", n.InfiniteLoopRule
		description = "Restarts orders-workflow when " + lastJob + " succeeded, or starts it on a completion file"
		pattern = continuousLoopPattern(o.LandingBucket.BucketName(), lastJob)
	}
	r := awsevents.NewRule(o.stack, jsii.String(id), &awsevents.RuleProps{
		RuleName:    jsii.String(name),
		Description: jsii.String(description),
		// Replaced below: EventPattern cannot express the seed's top-level $or.
		EventPattern: &awsevents.EventPattern{Source: jsii.Strings("aws.s3")},
	})
	setEventPattern(r, pattern)

	deadLetters := finalqueue.New(o.stack, "TriggerDeadLetters", "the start events the workflow trigger rule could not deliver")
	maxAge := awscdk.Duration_Hours(jsii.Number(triggerMaxEventHours))

	role := awsiam.NewRole(o.stack, jsii.String("TriggerRole"), &awsiam.RoleProps{
		AssumedBy:   awsiam.NewServicePrincipal(jsii.String("events.amazonaws.com"), nil),
		Description: jsii.String("EventBridge notifies " + n.Workflow + "'s EVENT trigger"),
	})
	r.AddTarget(workflowtarget.New(workflowtarget.Props{
		WorkflowArn:     wf.WorkflowArn(),
		Role:            role,
		DeadLetterQueue: deadLetters,
		RetryAttempts:   triggerRetryAttempts,
		MaxEventAge:     maxAge,
	}))
	// The same event closes the open run id, so records after it belong to
	// the next run.
	r.AddTarget(awseventstargets.NewLambdaFunction(o.RunRotator, &awseventstargets.LambdaFunctionProps{
		DeadLetterQueue: deadLetters,
		RetryAttempts:   jsii.Number(triggerRetryAttempts),
		MaxEventAge:     maxAge,
	}))
	if continuous {
		o.newLoopSchedules(r)
	}
	return r, deadLetters
}

// setEventPattern replaces the rule's pattern with the seed's JSON. An
// override is merged into the rendered pattern, so the placeholder's
// "source" is deleted where the seed's pattern has none at the top.
func setEventPattern(r awsevents.Rule, pattern map[string]any) {
	cfn := r.Node().DefaultChild().(awsevents.CfnRule)
	cfn.AddPropertyOverride(jsii.String("EventPattern"), pattern)
	if _, ok := pattern["source"]; !ok {
		cfn.AddPropertyDeletionOverride(jsii.String("EventPattern.source"))
	}
}

// newLoopSchedules enable and disable the continuous-loop rule at the
// configured times, so the loop does not burn crawler and job time when no
// data is expected (the seed's warning about option 2).
func (o *orchestration) newLoopSchedules(rule awsevents.Rule) {
	cfg := o.Config
	for _, s := range []struct{ id, cron, action, iamAction string }{
		{"LoopEnableSchedule", cfg.ContinuousLoopEnableCron, "enableRule", "events:EnableRule"},
		{"LoopDisableSchedule", cfg.ContinuousLoopDisableCron, "disableRule", "events:DisableRule"},
	} {
		if s.cron == "" {
			continue
		}
		awsscheduler.NewSchedule(o.stack, jsii.String(s.id), &awsscheduler.ScheduleProps{
			Description: jsii.String("Calls " + s.iamAction + " on " + o.names.InfiniteLoopRule),
			Schedule:    awsscheduler.ScheduleExpression_Expression(jsii.String(s.cron), awscdk.TimeZone_Of(jsii.String(cfg.ContinuousLoopTimezone))),
			Target: awsschedulertargets.NewUniversal(&awsschedulertargets.UniversalTargetProps{
				Service: jsii.String("eventbridge"),
				Action:  jsii.String(s.action),
				Input:   awsscheduler.ScheduleTargetInput_FromObject(map[string]any{"Name": rule.RuleName()}),
				PolicyStatements: &[]awsiam.PolicyStatement{awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
					Actions:   jsii.Strings(s.iamAction),
					Resources: &[]*string{rule.RuleArn()},
				})},
			}),
		})
	}
}

// suppressGlueRoleFindings documents the wildcards every crawler and job
// role of the workflow needs.
func suppressGlueRoleFindings(role constructs.IConstruct) {
	for _, r := range []struct {
		reason   string
		patterns []string
	}{
		{"Glue names a run's log groups under /aws-glue/jobs/, /aws-glue/python-jobs/ or /aws-glue/crawlers with the security configuration and role in the name, so only the prefix is known before the run.",
			[]string{`^Resource::arn:<AWS::Partition>:logs:<AWS::Region>:<AWS::AccountId>:log-group:/aws-glue/(jobs|python-jobs|crawlers)\*$`}},
		{"Object access is limited to one area's prefix (orders/, redshift-copy/, manifests/ or the Athena workgroup's result prefix); the objects under it are written by the pipeline at run time.",
			[]string{`^Resource::.*/(orders|redshift-copy|manifests|[a-z0-9-]*orders-audit-workgroup)/\*$`}},
		{"The CDK's read grant on its bootstrap assets bucket, which holds this job's script, the shared Python modules and the SQL files.",
			[]string{`^Resource::arn:<AWS::Partition>:s3:::cdk-[a-z0-9]+-assets-<AWS::AccountId>-<AWS::Region>/\*$`, `^Action::s3:(GetObject|GetBucket|List)\*$`}},
		{"The CDK's encrypt/decrypt grant on the one data key: Glue writes SSE-KMS objects, encrypted logs and bookmarks with it.",
			[]string{`^Action::kms:(GenerateDataKey|ReEncrypt)\*$`}},
		{"cloudwatch:PutMetricData has no resource-level permissions (a condition limits it to the Glue namespace); redshift-data:DescribeStatement, GetStatementResult and CancelStatement address statement ids, which have no IAM resource.",
			[]string{`^Resource::\*$`}},
	} {
		var applies []string
		for _, p := range r.patterns {
			applies = append(applies, "regex:/"+p+"/")
		}
		nag.Suppress(role, nag.Suppression("AwsSolutions-IAM5", r.reason, applies...))
	}
}

// The grants of the orchestration roles: each names the exact bucket
// prefix, catalog table, workgroup, table or warehouse a role works on.

func allow(role awsiam.IRole, actions []string, resources ...*string) {
	role.AddToPrincipalPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Actions:   jsii.Strings(actions...),
		Resources: &resources,
	}))
}

// glueArn is a Data Catalog ARN: "catalog", "database/<db>" or
// "table/<db>/<table>".
func glueArn(stack awscdk.Stack, resource string) *string {
	return stack.FormatArn(&awscdk.ArnComponents{
		Service:   jsii.String("glue"),
		Resource:  jsii.String(resource),
		ArnFormat: awscdk.ArnFormat_NO_RESOURCE_NAME,
	})
}

// catalogResources are the catalog, the database and its named tables;
// Glue authorizes every table call on all three.
func catalogResources(stack awscdk.Stack, database string, tables ...string) []*string {
	out := []*string{glueArn(stack, "catalog"), glueArn(stack, "database/"+database)}
	for _, t := range tables {
		out = append(out, glueArn(stack, "table/"+database+"/"+t))
	}
	return out
}

var catalogReadActions = []string{
	"glue:GetDatabase", "glue:GetTable", "glue:GetTables", "glue:GetPartition", "glue:GetPartitions", "glue:BatchGetPartition",
}

var partitionWriteActions = []string{"glue:CreatePartition", "glue:BatchCreatePartition", "glue:UpdatePartition", "glue:BatchUpdatePartition"}

func grantCatalogRead(role awsiam.IRole, database string, tables ...string) {
	allow(role, catalogReadActions, catalogResources(awscdk.Stack_Of(role), database, tables...)...)
}

// grantPartitionsAdd lets a crawler add the partitions it finds to tables
// whose columns it must leave alone.
func grantPartitionsAdd(role awsiam.IRole, database string, tables ...string) {
	actions := append(append([]string{}, catalogReadActions...), partitionWriteActions...)
	allow(role, actions, catalogResources(awscdk.Stack_Of(role), database, tables...)...)
}

// grantTablesWrite lets a crawler create and update its tables too.
func grantTablesWrite(role awsiam.IRole, database string, tables ...string) {
	actions := append(append(append([]string{}, catalogReadActions...), "glue:CreateTable", "glue:UpdateTable"), partitionWriteActions...)
	allow(role, actions, catalogResources(awscdk.Stack_Of(role), database, tables...)...)
}

func objects(bucket awss3.IBucket, prefix string) *string {
	return bucket.ArnForObjects(jsii.String(prefix + "*"))
}

// grantPrefixRead lets role read the objects under prefix. Listing is
// granted on the whole bucket: S3 answers a HEAD of a missing key with 403
// instead of 404 without it (a HEAD carries no s3:prefix to match), which
// breaks Spark's and the crawlers' existence checks.
func grantPrefixRead(role awsiam.IRole, bucket awss3.IBucket, prefix string) {
	allow(role, []string{"s3:GetObject"}, objects(bucket, prefix))
	allow(role, []string{"s3:ListBucket", "s3:GetBucketLocation"}, bucket.BucketArn())
}

// grantPrefixWrite lets role write (and replace) objects under prefix only.
func grantPrefixWrite(role awsiam.IRole, bucket awss3.IBucket, prefix string) {
	allow(role, []string{"s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload"}, objects(bucket, prefix))
}

// grantAthenaQueries lets role run queries in the workgroup; Athena reads
// and writes S3 with the caller's credentials, so the role also writes the
// workgroup's result prefix.
func grantAthenaQueries(role awsiam.IRole, workgroup string, results awss3.IBucket) {
	stack := awscdk.Stack_Of(role)
	allow(role, []string{"athena:StartQueryExecution", "athena:GetQueryExecution", "athena:GetQueryResults", "athena:StopQueryExecution", "athena:GetWorkGroup"},
		stack.FormatArn(&awscdk.ArnComponents{Service: jsii.String("athena"), Resource: jsii.String("workgroup"), ResourceName: jsii.String(workgroup)}))
	grantPrefixRead(role, results, workgroup+"/")
	grantPrefixWrite(role, results, workgroup+"/")
}

// grantAuditWrite lets role upsert audit items; the jobs write with a
// conditional UpdateItem and never read, scan or delete.
func grantAuditWrite(role awsiam.IRole, table awsdynamodb.ITable) {
	table.Grant(role, jsii.String("dynamodb:UpdateItem"), jsii.String("dynamodb:PutItem"))
}
