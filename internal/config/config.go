// Package config is the pipeline's one typed configuration. Every knob a user
// can turn is a field here, with its default in the struct tags below, set in an optional
// config/<stage>.json file or with `-c key=value` (cdk.json holds only the
// CDK's own context), and
// validated before any construct is created, so a bad value stops synth with
// an error that names the key.
package config

// Config holds every setting of the pipeline. The struct tags are the single
// source of truth for keys, defaults, allowed values and documentation:
//
//	key     context key (camelCase)
//	default default value as it would be written after -c
//	enum    comma-separated allowed values
//	min/max inclusive numeric bounds
//	format  extra checks: email, name (lower-case resource name), cron, az, cidr
//	doc     one line for the README's configuration reference
type Config struct {
	// General
	Stage          string        `key:"stage" default:"dev" format:"name" doc:"Stage name; part of every stack name and selects the optional config/<stage>.json file."`
	ResourcePrefix string        `key:"resourcePrefix" default:"" format:"prefix" doc:"Prefix put before every seed resource name instead of '<stage>-' (e.g. 'acme-' gives 'acme-orders'). Empty: the default stage (dev) keeps the seed's names, any other stage prefixes them with '<stage>-'."`
	RemovalPolicy  RemovalPolicy `key:"removalPolicy" default:"retain" enum:"retain,destroy" doc:"What happens to stateful resources (buckets, stream, tables, warehouse, secret) when their stack is deleted. 'destroy' is for throwaway environments and empties buckets first."`

	// Storage (stateful)
	BucketNameSuffix      string     `key:"bucketNameSuffix" default:"" format:"prefix" doc:"Suffix that makes the seed's bucket names globally unique. Empty uses '<account>-<region>' at deploy time."`
	LandingBucketName     string     `key:"landingBucketName" default:"" format:"bucket" doc:"Full name of the S3 landing bucket; overrides the seed name plus suffix."`
	StagingBucketName     string     `key:"stagingBucketName" default:"" format:"bucket" doc:"Full name of the S3 staging bucket; overrides the seed name plus suffix."`
	LandingExpirationDays int        `key:"landingExpirationDays" default:"0" min:"0" max:"3650" doc:"Days after which landing objects expire; 0 keeps them."`
	StagingExpirationDays int        `key:"stagingExpirationDays" default:"0" min:"0" max:"3650" doc:"Days after which staging objects expire; 0 keeps them."`
	NoncurrentVersionDays int        `key:"noncurrentVersionDays" default:"30" min:"1" max:"3650" doc:"Days a replaced or deleted object version is kept in the versioned buckets."`
	StreamMode            StreamMode `key:"streamMode" default:"provisioned" enum:"provisioned,on-demand" doc:"Capacity mode of the Kinesis stream."`
	StreamShardCount      int        `key:"streamShardCount" default:"1" min:"1" max:"500" doc:"Shards of the stream in provisioned mode."`
	StreamRetentionHours  int        `key:"streamRetentionHours" default:"24" min:"24" max:"8760" doc:"How long the stream keeps records."`

	// Ingestion (stateless)
	FirehoseBufferIntervalSeconds    int `key:"firehoseBufferIntervalSeconds" default:"300" min:"60" max:"900" doc:"Firehose buffering interval before it writes to the landing area."`
	FirehoseBufferSizeMiB            int `key:"firehoseBufferSizeMiB" default:"128" min:"64" max:"128" doc:"Firehose buffering size; Parquet conversion needs at least 64 MiB."`
	TransformerBufferSizeMiB         int `key:"transformerBufferSizeMiB" default:"1" min:"1" max:"1" doc:"Data Firehose hands the transformer Lambda per invocation; at most 1: with base64, Kinesis metadata, the stamp and the partition keys, 2 MiB of the smallest orders would exceed Lambda's 6 MB response."`
	TransformerBufferIntervalSeconds int `key:"transformerBufferIntervalSeconds" default:"60" min:"0" max:"900" doc:"Longest Firehose waits before invoking the transformer Lambda."`
	RunIDCacheSeconds                int `key:"runIdCacheSeconds" default:"5" min:"0" max:"60" doc:"How long the transformer caches the current run id before reading it again."`

	// Orchestration (stateless)
	TriggerMode                TriggerMode   `key:"triggerMode" default:"batch-completion" enum:"batch-completion,continuous" doc:"'batch-completion': the workflow starts when a completion object lands under batch-completion/ (seed option 1). 'continuous': it also restarts when its last job succeeds (seed option 2)."`
	ContinuousLoopEnableCron   string        `key:"continuousLoopEnableCron" default:"" format:"cron" doc:"EventBridge Scheduler cron expression that enables the continuous-loop rule, e.g. 'cron(0 6 ? * MON-FRI *)'. Empty: no schedule."`
	ContinuousLoopDisableCron  string        `key:"continuousLoopDisableCron" default:"" format:"cron" doc:"EventBridge Scheduler cron expression that disables the continuous-loop rule. Empty: no schedule."`
	ContinuousLoopTimezone     string        `key:"continuousLoopTimezone" default:"UTC" doc:"IANA time zone of the continuous-loop schedules."`
	WorkflowBatchSize          int           `key:"workflowBatchSize" default:"100" min:"1" max:"100" doc:"Completion events that start a workflow run before the batch window ends. The trigger fires at whichever comes first, so a size of 1 would start at once, before Firehose has flushed the closing run."`
	WorkflowBatchWindowSeconds int           `key:"workflowBatchWindowSeconds" default:"900" min:"1" max:"900" doc:"Seconds the EVENT trigger waits after the first completion event before it starts the workflow; must cover 1.5 x Firehose's buffer interval (dynamic partitioning) plus runIdCacheSeconds so the closing run is flushed."`
	SparkWorkerType            string        `key:"sparkWorkerType" default:"G.1X" enum:"G.1X,G.2X,G.4X,G.8X" doc:"Worker type of the Spark jobs."`
	SparkWorkers               int           `key:"sparkWorkers" default:"2" min:"2" max:"299" doc:"Workers per Spark job run."`
	PythonShellCapacity        ShellCapacity `key:"pythonShellCapacity" default:"0.0625" enum:"0.0625,1" doc:"DPUs per Python-shell job run."`
	JobTimeoutMinutes          int           `key:"jobTimeoutMinutes" default:"60" min:"1" max:"2880" doc:"Timeout of every Glue job run."`

	// Warehouse (stateful)
	WarehouseMode              WarehouseMode `key:"warehouseMode" default:"serverless" enum:"serverless,existing-serverless,existing-cluster" doc:"'serverless' creates a VPC and a Redshift Serverless namespace and workgroup; the 'existing-*' modes use a warehouse you already have."`
	RedshiftDatabase           string        `key:"redshiftDatabase" default:"dev" format:"identifier" doc:"Database that holds the staging and final schemas."`
	RedshiftAdminUsername      string        `key:"redshiftAdminUsername" default:"orders_admin" format:"identifier" doc:"Admin user of the created namespace; its password is generated into Secrets Manager."`
	RedshiftBaseCapacityRpu    int           `key:"redshiftBaseCapacityRpu" default:"8" min:"8" max:"1024" doc:"Base capacity of the created workgroup in RPUs (multiple of 8)."`
	RedshiftDailyUsageLimitRpu int           `key:"redshiftDailyUsageLimitRpuHours" default:"8" min:"1" max:"100000" doc:"Daily RPU-hour limit of the created workgroup; further queries are refused past it. triggerMode=continuous needs at least 6.4 per base RPU (52 at 8 RPUs) or synth stops."`
	AvailabilityZones          []string      `key:"availabilityZones" default:"" format:"az" doc:"Three availability zones for the warehouse VPC. Empty picks the first three: from the CDK's zone lookup (cdk.context.json) for a known account and region, else from Fn::GetAZs at deploy time."`
	VpcCidr                    string        `key:"vpcCidr" default:"10.40.0.0/16" format:"cidr" doc:"CIDR of the warehouse VPC."`
	ExistingWorkgroupName      string        `key:"existingWorkgroupName" default:"" doc:"Redshift Serverless workgroup to use with warehouseMode=existing-serverless."`
	ExistingClusterIdentifier  string        `key:"existingClusterIdentifier" default:"" doc:"Provisioned cluster to use with warehouseMode=existing-cluster."`
	ExistingSecretArn          string        `key:"existingSecretArn" default:"" doc:"Secrets Manager ARN of the database credentials for an existing warehouse (the Data API authenticates with it)."`

	// Audit and notifications
	SuccessEmails            []string `key:"successEmails" default:"" format:"email" doc:"Email addresses subscribed to SUCCESS notifications."`
	FailureEmails            []string `key:"failureEmails" default:"" format:"email" doc:"Email addresses subscribed to FAILURE notifications."`
	SingleNotificationTopic  bool     `key:"singleNotificationTopic" default:"false" doc:"Send SUCCESS and FAILURE to one topic instead of two."`
	AuditRetryAttempts       int      `key:"auditRetryAttempts" default:"5" min:"0" max:"10000" doc:"Retries of a failing audit stream batch before it goes to the on-failure queue."`
	AuditMaxRecordAgeSeconds int      `key:"auditMaxRecordAgeSeconds" default:"3600" min:"60" max:"604800" doc:"Oldest audit stream record the scanner still processes."`

	// Publisher
	PublisherInstance     bool   `key:"publisherInstance" default:"false" doc:"Deploy the optional EC2 publisher instance (reachable through SSM Session Manager only)."`
	PublisherInstanceType string `key:"publisherInstanceType" default:"t4g.nano" format:"instancetype" doc:"Instance type of the publisher; must be an ARM (Graviton) type."`

	// Operations
	OperationsEmails          []string `key:"operationsEmails" default:"" format:"email" doc:"Email addresses subscribed to the operations alarms topic."`
	AlarmFreshnessSeconds     int      `key:"alarmFreshnessSeconds" default:"1800" min:"60" max:"86400" doc:"Firehose data freshness above which an alarm fires."`
	AlarmIteratorAgeSeconds   int      `key:"alarmIteratorAgeSeconds" default:"900" min:"60" max:"604800" doc:"Kinesis iterator age above which an alarm fires."`
	AlarmRedshiftUsagePercent int      `key:"alarmRedshiftUsagePercent" default:"80" min:"1" max:"100" doc:"Share of the daily RPU-hour limit above which an alarm fires."`
}
