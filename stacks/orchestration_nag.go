package stacks

import (
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"
)

// suppressMatching records an IAM5 suppression for the findings matching
// the regular expressions; used where a finding names a resource from
// another stack, whose logical ID is not known here.
func suppressMatching(c constructs.IConstruct, reason string, patterns ...string) {
	if len(reason) < 20 {
		panic("cdk-nag suppression AwsSolutions-IAM5 needs a specific reason")
	}
	applies := make([]interface{}, len(patterns))
	for i, p := range patterns {
		applies[i] = &cdknag.RegexAppliesTo{Regex: jsii.String("/" + p + "/")}
	}
	cdknag.NagSuppressions_AddResourceSuppressions(c, &[]*cdknag.NagPackSuppression{{
		Id: jsii.String("AwsSolutions-IAM5"), Reason: jsii.String(reason), AppliesTo: &applies,
	}}, jsii.Bool(true))
}

// suppressGlueRoleFindings documents the wildcards every crawler and job
// role of the workflow needs.
func suppressGlueRoleFindings(role constructs.IConstruct) {
	suppressMatching(role, "Glue names a run's log groups under /aws-glue/jobs/, /aws-glue/python-jobs/ or /aws-glue/crawlers with the security configuration and role in the name, so only the prefix is known before the run.",
		`^Resource::arn:<AWS::Partition>:logs:<AWS::Region>:<AWS::AccountId>:log-group:/aws-glue/(jobs|python-jobs|crawlers)\*$`)
	suppressMatching(role, "Object access is limited to one area's prefix (orders/, redshift-copy/, manifests/ or the Athena workgroup's result prefix); the objects under it are written by the pipeline at run time.",
		`^Resource::.*/(orders|redshift-copy|manifests|[a-z0-9-]*orders-audit-workgroup)/\*$`)
	suppressMatching(role, "The CDK's read grant on its bootstrap assets bucket, which holds this job's script, the shared Python modules and the SQL files.",
		`^Resource::arn:<AWS::Partition>:s3:::cdk-[a-z0-9]+-assets-<AWS::AccountId>-<AWS::Region>/\*$`, `^Action::s3:(GetObject|GetBucket|List)\*$`)
	suppressMatching(role, "The CDK's encrypt/decrypt grant on the one data key: Glue writes SSE-KMS objects, encrypted logs and bookmarks with it.",
		`^Action::kms:(GenerateDataKey|ReEncrypt)\*$`)
	suppressMatching(role, "cloudwatch:PutMetricData has no resource-level permissions (a condition limits it to the Glue namespace); redshift-data:DescribeStatement, GetStatementResult and CancelStatement address statement ids, which have no IAM resource.",
		`^Resource::\*$`)
}
