// Package gluechain is a Glue workflow that runs its crawlers and jobs one
// after the other: an EVENT trigger (the only way a run starts) runs the
// first step, then one conditional trigger per step runs it when the step
// before it has succeeded.
//
// Each trigger depends on the one before it: CloudFormation would
// otherwise create them in parallel, and Glue rejects concurrent updates of
// one workflow's graph.
package gluechain

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsglue"
	"github.com/aws/aws-cdk-go/awscdk/v2/interfaces/interfacesawsglue"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
)

// Step is one crawler or job of the chain.
type Step struct {
	// ID names the step's trigger construct, "<ID>Trigger".
	ID string
	// Name is the crawler's or job's name.
	Name    string
	crawler awsglue.CfnCrawler
	job     awsglue.IJob
}

// Crawler is a crawler step.
func Crawler(id string, c awsglue.CfnCrawler) Step {
	return Step{ID: id, Name: *c.Name(), crawler: c}
}

// Job is a job step; name is the job's name (an awsglue.IJob's JobName is
// a token).
func Job(id, name string, j awsglue.IJob) Step {
	return Step{ID: id, Name: name, job: j}
}

// IsJob reports whether the step is a Glue job (and not a crawler).
func (s Step) IsJob() bool { return s.job != nil }

func (s Step) action() awsglue.Action {
	if s.IsJob() {
		return awsglue.Action_Job(s.job, nil)
	}
	return awsglue.Action_Crawler(s.crawler, nil)
}

func (s Step) succeeded() awsglue.Condition {
	if s.IsJob() {
		return awsglue.Condition_Job(s.job, awsglue.JobState_SUCCEEDED, nil)
	}
	return awsglue.Condition_Crawler(s.crawler, awsglue.CrawlerState_SUCCEEDED, nil)
}

// Props configure the chain.
type Props struct {
	WorkflowName, Description string
	// StartTriggerName names the EVENT trigger; StartDescription describes it.
	StartTriggerName, StartDescription string
	// StepTriggerName names the trigger that runs a step, by the step's name.
	StepTriggerName func(step string) string
	// Steps run in this order; the chain must end with a job.
	Steps []Step
	// BatchSize events, or the first event and BatchWindow, start a run,
	// whichever comes first.
	BatchSize   int
	BatchWindow awscdk.Duration
}

// Chain is the workflow and its steps in the order they run.
type Chain struct {
	Workflow awsglue.Workflow
	Steps    []Step
}

// New defines the workflow as id under scope, and its triggers under it.
func New(scope constructs.Construct, id string, props Props) *Chain {
	if len(props.Steps) == 0 || !props.Steps[len(props.Steps)-1].IsJob() {
		panic("gluechain " + id + ": the chain must end with a job")
	}
	steps := props.Steps
	wf := awsglue.NewWorkflow(scope, jsii.String(id), &awsglue.WorkflowProps{
		WorkflowName: jsii.String(props.WorkflowName),
		Description:  jsii.String(props.Description),
	})
	var prev interfacesawsglue.ITriggerRef = wf.AddEventTrigger(jsii.String("StartTrigger"), &awsglue.EventTriggerOptions{
		Name:        jsii.String(props.StartTriggerName),
		Description: jsii.String(props.StartDescription),
		Actions:     &[]awsglue.Action{steps[0].action()},
		EventBatchingCondition: &awsglue.EventBatchingCondition{
			BatchSize:   jsii.Number(float64(props.BatchSize)),
			BatchWindow: props.BatchWindow,
		},
	})
	for i := 1; i < len(steps); i++ {
		trigger := wf.AddConditionalTrigger(jsii.String(steps[i].ID+"Trigger"), &awsglue.ConditionalTriggerOptions{
			Name:            jsii.String(props.StepTriggerName(steps[i].Name)),
			Description:     jsii.String("Runs " + steps[i].Name + " when " + steps[i-1].Name + " succeeded"),
			Actions:         &[]awsglue.Action{steps[i].action()},
			Predicate:       &awsglue.Predicate{Conditions: &[]awsglue.Condition{steps[i-1].succeeded()}, Logical: awsglue.PredicateLogical_AND},
			StartOnCreation: jsii.Bool(true),
		})
		// The L2 gives conditional triggers the EVENT trigger's batching
		// condition too; it only belongs on the start trigger.
		trigger.(awsglue.CfnTrigger).AddPropertyDeletionOverride(jsii.String("EventBatchingCondition"))
		trigger.Node().AddDependency(prev)
		prev = trigger
	}
	return &Chain{Workflow: wf, Steps: steps}
}

// LastJob is the job whose success ends a run.
func (c *Chain) LastJob() string { return c.Steps[len(c.Steps)-1].Name }
