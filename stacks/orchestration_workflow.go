package stacks

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsglue"
	"github.com/aws/aws-cdk-go/awscdk/v2/interfaces/interfacesawsglue"
	"github.com/aws/jsii-runtime-go"
	"github.com/orders-pipeline/orders-pipeline/internal/construct/gluejob"
)

// Step is one crawler or job of the workflow.
type Step struct {
	// ID names the step's trigger construct.
	ID string
	// Name is the crawler's or job's name.
	Name    string
	crawler awsglue.CfnCrawler
	job     awsglue.IJob
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

func crawlerStep(id string, c awsglue.CfnCrawler) Step {
	return Step{ID: id, Name: *c.Name(), crawler: c}
}

func jobStep(id string, j *gluejob.Job) Step {
	return Step{ID: id, Name: j.Name, job: j.Job}
}

// chainSteps is the one place that orders the workflow, as in the seed's
// layer 3: each step starts when the one before it has succeeded.
func chainSteps(c crawlers, j jobs) []Step {
	steps := []Step{
		crawlerStep("LandingCrawler", c.landing),
		jobStep("LandingAuditJob", j.landingAudit),
		jobStep("LandingToStagingJob", j.landingToStaging),
		crawlerStep("StagingCrawler", c.staging),
		jobStep("StagingAuditJob", j.stagingAudit),
	}
	if w := j.warehouse; w != nil {
		steps = append(steps,
			jobStep("StagingToRedshiftJob", w.stagingToRedshift),
			jobStep("RedshiftStagingAuditJob", w.redshiftStagingAudit),
			jobStep("RedshiftStagingToFinalJob", w.redshiftStagingToFinal),
			jobStep("RedshiftFinalAuditJob", w.redshiftFinalAudit),
		)
	}
	return steps
}

// lastJob is the job whose success ends a workflow run; the continuous
// loop restarts the workflow on it.
func lastJob(steps []Step) string {
	last := steps[len(steps)-1]
	if !last.IsJob() {
		panic("the workflow must end with a job, not the crawler " + last.Name)
	}
	return last.Name
}

// newWorkflow defines `orders-workflow`: an EVENT trigger (the only way it
// starts) runs the first step, then one conditional trigger per step.
// Each trigger depends on the one before it: CloudFormation would
// otherwise create them in parallel and Glue rejects concurrent updates of
// one workflow's graph.
func newWorkflow(stack awscdk.Stack, in orchestrationInputs, steps []Step) awsglue.Workflow {
	name := in.names.Workflow
	wf := awsglue.NewWorkflow(stack, jsii.String("Workflow"), &awsglue.WorkflowProps{
		WorkflowName: jsii.String(name),
		Description:  jsii.String("Layer 3: landing crawler and audit, landing to staging, staging crawler and audit, then the Redshift loads and audits"),
	})
	// The batch window lets Firehose flush the records of the run that the
	// completion event closed before the first crawler lists the landing area.
	var prev interfacesawsglue.ITriggerRef = wf.AddEventTrigger(jsii.String("StartTrigger"), &awsglue.EventTriggerOptions{
		Name:        jsii.String(name + "-start"),
		Description: jsii.String("Starts a run on completion events from EventBridge"),
		Actions:     &[]awsglue.Action{steps[0].action()},
		EventBatchingCondition: &awsglue.EventBatchingCondition{
			BatchSize:   jsii.Number(float64(in.cfg.WorkflowBatchSize)),
			BatchWindow: awscdk.Duration_Seconds(jsii.Number(float64(in.cfg.WorkflowBatchWindowSeconds))),
		},
	})
	for i := 1; i < len(steps); i++ {
		trigger := wf.AddConditionalTrigger(jsii.String(steps[i].ID+"Trigger"), &awsglue.ConditionalTriggerOptions{
			Name:            jsii.String(name + "-then-" + steps[i].Name),
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
	return wf
}
