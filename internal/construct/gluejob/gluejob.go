// Package gluejob defines the pipeline's Glue jobs the same way every time:
// each job gets its own role (the caller grants it its data), the shared
// security configuration, continuous CloudWatch logging, a timeout, and its
// script as an asset.
package gluejob

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsglue"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
)

// Props configure one job.
type Props struct {
	JobName     string
	Description string
	// Script is the path of the job's entry point.
	Script string
	// ExtraPythonFiles are modules passed in --extra-py-files. Glue imports
	// each by its object name, so they cannot be CDK assets (whose objects
	// are named by hash).
	ExtraPythonFiles []awsglue.Code
	// Arguments are the job's own arguments, keys with their leading "--".
	Arguments             map[string]*string
	SecurityConfiguration awsglue.ISecurityConfiguration
	Timeout               awscdk.Duration
	// MaxConcurrentRuns; 0 means 1.
	MaxConcurrentRuns int
}

// SparkProps configure a Glue 5.0 PySpark ETL job.
type SparkProps struct {
	Props
	// Bookmarks makes the job process only data it has not seen.
	Bookmarks  bool
	WorkerType awsglue.WorkerType
	Workers    int
}

// PythonShellProps configure a Python 3.9 shell job.
type PythonShellProps struct {
	Props
	Capacity awsglue.MaxCapacity
}

// PythonShellSDK is the AWS SDK every Python shell job installs with
// --additional-python-modules, the way Glue documents for changing a
// provided module. Python shell 3.9 ships boto3 1.21.21 / botocore 1.24.21
// (library set "analytics"), whose Redshift Data API model has no
// WorkgroupName, so the Redshift jobs could not address a Serverless
// workgroup. These are the versions Glue 5.0 provides to the Spark jobs, so
// every job runs the SDK the Glue-script tests run (requirements.txt pins
// the same; a stacks test compares them).
const PythonShellSDK = "boto3==1.34.131,botocore==1.34.131"

// maxRetries retries a run once after a transient failure (throttling, a
// lost worker): every job of the pipeline is safe to re-run (bookmarks,
// conditional audit writes, per-run replacement in Redshift final).
const maxRetries = 1

// Job is one Glue job and the role it runs as.
type Job struct {
	Job  awsglue.IJob
	Role awsiam.Role
	Name string
}

// NewSpark defines a PySpark ETL job.
func NewSpark(scope constructs.Construct, id string, props SparkProps) *Job {
	c := constructs.NewConstruct(scope, jsii.String(id))
	role := newRole(c, SparkLogs)
	bookmark := "job-bookmark-disable"
	if props.Bookmarks {
		bookmark = "job-bookmark-enable"
	}
	job := awsglue.NewPySparkEtlJob(c, jsii.String("Job"), &awsglue.PySparkEtlJobProps{
		JobName:               jsii.String(props.JobName),
		Description:           jsii.String(props.Description),
		Role:                  role,
		Script:                awsglue.Code_FromAsset(jsii.String(props.Script), nil),
		ExtraPythonFiles:      extraFiles(props.Props),
		GlueVersion:           awsglue.GlueVersion_V5_0,
		WorkerConfiguration:   &awsglue.WorkerConfiguration{WorkerType: props.WorkerType, NumberOfWorkers: jsii.Number(float64(props.Workers))},
		DefaultArguments:      arguments(props.Props, map[string]string{"--job-bookmark-option": bookmark}),
		ContinuousLogging:     &awsglue.ContinuousLoggingProps{Enabled: jsii.Bool(true)},
		EnableMetrics:         jsii.Bool(true),
		SecurityConfiguration: props.SecurityConfiguration,
		Timeout:               props.Timeout,
		MaxConcurrentRuns:     concurrency(props.MaxConcurrentRuns),
		MaxRetries:            jsii.Number(maxRetries),
	})
	return &Job{Job: job, Role: role, Name: props.JobName}
}

// NewPythonShell defines a Python shell job.
func NewPythonShell(scope constructs.Construct, id string, props PythonShellProps) *Job {
	c := constructs.NewConstruct(scope, jsii.String(id))
	role := newRole(c, PythonShellLogs)
	job := awsglue.NewPythonShellJob(c, jsii.String("Job"), &awsglue.PythonShellJobProps{
		JobName:               jsii.String(props.JobName),
		Description:           jsii.String(props.Description),
		Role:                  role,
		Script:                awsglue.Code_FromAsset(jsii.String(props.Script), nil),
		ExtraPythonFiles:      extraFiles(props.Props),
		PythonVersion:         awsglue.PythonVersion_THREE_NINE,
		GlueVersion:           awsglue.GlueVersion_V3_0,
		MaxCapacity:           props.Capacity,
		DefaultArguments:      arguments(props.Props, map[string]string{"--additional-python-modules": PythonShellSDK}),
		ContinuousLogging:     &awsglue.ContinuousLoggingProps{Enabled: jsii.Bool(true)},
		SecurityConfiguration: props.SecurityConfiguration,
		Timeout:               props.Timeout,
		MaxConcurrentRuns:     concurrency(props.MaxConcurrentRuns),
		MaxRetries:            jsii.Number(maxRetries),
	})
	return &Job{Job: job, Role: role, Name: props.JobName}
}

// The log group families under /aws-glue/ that Glue writes for each kind
// of run: Spark jobs log to /aws-glue/jobs/{output,error,logs-v2}, Python
// shell jobs to /aws-glue/python-jobs/{output,error}, crawlers to
// /aws-glue/crawlers.
const (
	SparkLogs       = "jobs"
	PythonShellLogs = "python-jobs"
	CrawlerLogs     = "crawlers"
)

// newRole is the job's own role: it may write the log groups of its kind
// of job and Glue's metrics, nothing else until the caller grants its data.
func newRole(scope constructs.Construct, logs string) awsiam.Role {
	role := awsiam.NewRole(scope, jsii.String("Role"), &awsiam.RoleProps{
		AssumedBy: awsiam.NewServicePrincipal(jsii.String("glue.amazonaws.com"), nil),
	})
	AllowGlueLogs(role, logs)
	role.AddToPrincipalPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Actions:    jsii.Strings("cloudwatch:PutMetricData"),
		Resources:  jsii.Strings("*"),
		Conditions: &map[string]interface{}{"StringEquals": map[string]interface{}{"cloudwatch:namespace": "Glue"}},
	}))
	return role
}

// AllowGlueLogs lets a job or crawler role write the Glue log groups of
// one family (SparkLogs, PythonShellLogs, CrawlerLogs) and encrypt them
// (logs:AssociateKmsKey, for the security configuration's CloudWatch
// encryption). With a security configuration the group names contain the
// configuration and role names, so only the prefix is known here.
func AllowGlueLogs(role awsiam.IRole, kind string) {
	stack := awscdk.Stack_Of(role)
	role.AddToPrincipalPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Actions: jsii.Strings("logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents", "logs:AssociateKmsKey"),
		Resources: &[]*string{stack.FormatArn(&awscdk.ArnComponents{
			Service:      jsii.String("logs"),
			Resource:     jsii.String("log-group"),
			ResourceName: jsii.String("/aws-glue/" + kind + "*"),
			ArnFormat:    awscdk.ArnFormat_COLON_RESOURCE_NAME,
		})},
	}))
}

func extraFiles(props Props) *[]awsglue.Code {
	if len(props.ExtraPythonFiles) == 0 {
		return nil
	}
	return &props.ExtraPythonFiles
}

// arguments are the job's own arguments and the fixed ones.
func arguments(props Props, fixed map[string]string) *map[string]*string {
	out := map[string]*string{}
	for k, v := range fixed {
		out[k] = jsii.String(v)
	}
	for k, v := range props.Arguments {
		out[k] = v
	}
	return &out
}

func concurrency(n int) *float64 {
	if n == 0 {
		n = 1
	}
	return jsii.Number(float64(n))
}
