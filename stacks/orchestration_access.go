package stacks

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsdynamodb"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	"github.com/aws/jsii-runtime-go"
)

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

func grantCatalogRead(role awsiam.IRole, database string, tables ...string) {
	allow(role, catalogReadActions, catalogResources(awscdk.Stack_Of(role), database, tables...)...)
}

// grantPartitionsAdd lets a crawler add the partitions it finds to tables
// whose columns it must leave alone.
func grantPartitionsAdd(role awsiam.IRole, database string, tables ...string) {
	allow(role, append(catalogReadActions, "glue:CreatePartition", "glue:BatchCreatePartition", "glue:UpdatePartition", "glue:BatchUpdatePartition"),
		catalogResources(awscdk.Stack_Of(role), database, tables...)...)
}

// grantTablesWrite lets a crawler create and update its tables too.
func grantTablesWrite(role awsiam.IRole, database string, tables ...string) {
	allow(role, append(catalogReadActions, "glue:CreateTable", "glue:UpdateTable",
		"glue:CreatePartition", "glue:BatchCreatePartition", "glue:UpdatePartition", "glue:BatchUpdatePartition"),
		catalogResources(awscdk.Stack_Of(role), database, tables...)...)
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
