package config

// The settings with a fixed set of values are typed, so the stacks compare
// them with these constants rather than with strings. The enum tags in
// Config list the same values; TestEnumTagsListTheTypedValues keeps the
// two in step.

// RemovalPolicy is what happens to stateful resources when their stack is deleted.
type RemovalPolicy string

const (
	RemovalRetain  RemovalPolicy = "retain"
	RemovalDestroy RemovalPolicy = "destroy"
)

// StreamMode is the capacity mode of the Kinesis stream.
type StreamMode string

const (
	StreamProvisioned StreamMode = "provisioned"
	StreamOnDemand    StreamMode = "on-demand"
)

// TriggerMode is what starts the workflow.
type TriggerMode string

const (
	// TriggerBatchCompletion starts it on a completion object (seed option 1).
	TriggerBatchCompletion TriggerMode = "batch-completion"
	// TriggerContinuous also restarts it when its last job succeeds (seed option 2).
	TriggerContinuous TriggerMode = "continuous"
)

// WarehouseMode is where the Redshift layer loads.
type WarehouseMode string

const (
	WarehouseServerless         WarehouseMode = "serverless"
	WarehouseExistingServerless WarehouseMode = "existing-serverless"
	WarehouseExistingCluster    WarehouseMode = "existing-cluster"
)

// ShellCapacity is the DPUs of a Python-shell job run.
type ShellCapacity string

const (
	ShellCapacitySixteenth ShellCapacity = "0.0625"
	ShellCapacityOne       ShellCapacity = "1"
)
