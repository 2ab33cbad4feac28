package types

// MaxEventInputBytes bounds the input an EventTaskCreated carries: a task
// whose input is longer announces it without (input_in_event false) and
// sidecars read it with Query/Task, so that a block's events stay small.
const MaxEventInputBytes = 1024

// NewEventTaskCreated is the event a new task is announced with: what an
// operator needs to run it without a query (the input only up to
// MaxEventInputBytes).
func NewEventTaskCreated(task Task) *EventTaskCreated {
	ev := &EventTaskCreated{
		TaskId: task.Id, ServiceId: task.ServiceId, Creator: task.Creator, ComponentDigest: task.ComponentDigest,
		DeadlineHeight: task.DeadlineHeight, Fee: task.Fee, Epoch: task.Epoch,
		ServiceRevision: task.ServiceRevision, Origin: task.Origin, CreatedTime: task.CreatedTime,
		CommitDeadlineHeight: task.CommitDeadlineHeight,
	}
	if len(task.Input) <= MaxEventInputBytes {
		ev.Input, ev.InputInEvent = task.Input, true
	}
	return ev
}
