// Package securebucket is the one way this project makes an S3 bucket:
// public access blocked, TLS-only, KMS-encrypted with bucket keys,
// versioned, access-logged, with lifecycle rules from config, object
// events sent to EventBridge and S3 Object Lock switched on (except on the
// access-log destination, see Props.AccessLogDestination).
package securebucket

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
)

// Props configure a bucket.
type Props struct {
	// BucketName; nil lets CloudFormation choose.
	BucketName *string
	// Key encrypts every object (SSE-KMS with an S3 bucket key, which keeps
	// KMS request costs low). Nil means S3-managed keys.
	Key awskms.IKey
	// AccessLogDestination marks the bucket that receives the other
	// buckets' S3 server access logs. S3 delivers no access logs to a bucket
	// with Object Lock enabled or with SSE-KMS default encryption, so this
	// one bucket has neither (Key must be nil).
	AccessLogDestination bool
	// AccessLogs receives the server access logs under AccessLogsPrefix.
	AccessLogs       awss3.IBucket
	AccessLogsPrefix string
	// ExpirationDays expires current objects; 0 keeps them.
	ExpirationDays int
	// NoncurrentVersionDays expires replaced or deleted versions; 0 means 30.
	NoncurrentVersionDays int
	// RemovalPolicy is what happens to the bucket with its stack: DESTROY
	// empties and deletes it (throwaway environments); empty retains it.
	RemovalPolicy awscdk.RemovalPolicy
}

// New defines the bucket.
func New(scope constructs.Construct, id string, props Props) awss3.Bucket {
	noncurrent := props.NoncurrentVersionDays
	if noncurrent == 0 {
		noncurrent = 30
	}
	rule := &awss3.LifecycleRule{
		Id:                                  jsii.String("housekeeping"),
		AbortIncompleteMultipartUploadAfter: awscdk.Duration_Days(jsii.Number(7)),
		NoncurrentVersionExpiration:         awscdk.Duration_Days(jsii.Number(float64(noncurrent))),
	}
	if props.ExpirationDays > 0 {
		rule.Expiration = awscdk.Duration_Days(jsii.Number(float64(props.ExpirationDays)))
	}
	if props.AccessLogDestination && props.Key != nil {
		panic("securebucket " + id + ": S3 delivers no server access logs to an SSE-KMS bucket; leave Key nil")
	}
	removal := props.RemovalPolicy
	if removal == "" {
		removal = awscdk.RemovalPolicy_RETAIN
	}
	bp := &awss3.BucketProps{
		BucketName:        props.BucketName,
		BlockPublicAccess: awss3.BlockPublicAccess_BLOCK_ALL(),
		EnforceSSL:        jsii.Bool(true),
		MinimumTLSVersion: jsii.Number(1.2),
		Versioned:         jsii.Bool(true),
		ObjectOwnership:   awss3.ObjectOwnership_BUCKET_OWNER_ENFORCED,
		LifecycleRules:    &[]*awss3.LifecycleRule{rule},
		// Object Lock without a default retention: nothing is locked unless a
		// writer asks for it per object, so versions are still deleted by the
		// lifecycle rules and auto-delete in destroy mode still empties the
		// bucket. It is there so the switch (best set when a bucket is
		// created) is already on if a retention is ever required.
		ObjectLockEnabled: jsii.Bool(!props.AccessLogDestination),
		RemovalPolicy:     removal,
		AutoDeleteObjects: jsii.Bool(removal == awscdk.RemovalPolicy_DESTROY),
	}
	if props.Key != nil {
		bp.Encryption = awss3.BucketEncryption_KMS
		bp.EncryptionKey = props.Key
		bp.BucketKeyEnabled = jsii.Bool(true)
	} else {
		bp.Encryption = awss3.BucketEncryption_S3_MANAGED
	}
	if props.AccessLogs != nil {
		bp.ServerAccessLogsBucket = props.AccessLogs
		bp.ServerAccessLogsPrefix = jsii.String(props.AccessLogsPrefix)
	}
	bucket := awss3.NewBucket(scope, jsii.String(id), bp)
	// Object events go to the account's default EventBridge bus (AWS service
	// events there are free). Set on the CloudFormation bucket itself: the
	// L2 EventBridgeEnabled prop would switch it on through the CDK's
	// bucket-notifications custom-resource Lambda instead.
	bucket.Node().DefaultChild().(awss3.CfnBucket).AddPropertyOverride(
		jsii.String("NotificationConfiguration.EventBridgeConfiguration.EventBridgeEnabled"), jsii.Bool(true))
	return bucket
}
