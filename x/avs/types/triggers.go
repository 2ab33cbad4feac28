package types

import (
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

	abci "github.com/cometbft/cometbft/abci/types"
	"github.com/robfig/cron/v3"
)

// ParseCron parses a standard five-field cron schedule (minute hour
// day-of-month month day-of-week) or a descriptor (@hourly, @every 1h), as
// robfig/cron does, on UTC (security review H-4): robfig reads a spec in the
// host's time.Local, and loads tz data for a TZ=/CRON_TZ= prefix, so the same
// schedule would fire at different blocks on validators in different zones.
// Such prefixes are refused, the schedule's zone is always UTC, and a
// malformed spec is an error, never a panic.
func ParseCron(schedule string) (s cron.Schedule, err error) {
	if strings.HasPrefix(schedule, "TZ=") || strings.HasPrefix(schedule, "CRON_TZ=") {
		return nil, errors.New("time zones are refused: cron schedules run on UTC block time (drop the TZ=/CRON_TZ= prefix and write the time in UTC)")
	}
	defer func() {
		if r := recover(); r != nil {
			s, err = nil, fmt.Errorf("malformed schedule: %v", r)
		}
	}()
	s, err = cron.ParseStandard(schedule)
	if err != nil {
		return nil, err
	}
	if spec, ok := s.(*cron.SpecSchedule); ok {
		spec.Location = time.UTC
	}
	return s, nil
}

// Validate checks one trigger.
func (t Trigger) Validate() error {
	switch k := t.Kind.(type) {
	case *Trigger_BlockInterval:
		b := k.BlockInterval
		if b == nil || b.Every == 0 {
			return errors.New("block_interval.every must be positive")
		}
		if b.Start < 0 || b.End < 0 || (b.End != 0 && b.End < b.Start) {
			return fmt.Errorf("block_interval: start %d and end %d must be heights with end 0 (none) or at least start", b.Start, b.End)
		}
	case *Trigger_Cron:
		if k.Cron == nil {
			return errors.New("cron needs a schedule")
		}
		if len(k.Cron.Schedule) > MaxCronLength {
			return fmt.Errorf("cron schedule is %d bytes, at most %d", len(k.Cron.Schedule), MaxCronLength)
		}
		if _, err := ParseCron(k.Cron.Schedule); err != nil {
			return fmt.Errorf("cron schedule %q: %w", k.Cron.Schedule, err)
		}
	case *Trigger_Event:
		if k.Event == nil || k.Event.Type == "" {
			return errors.New("event.type is required")
		}
		if len(k.Event.Type) > MaxEventFieldLength {
			return fmt.Errorf("event.type is %d bytes, at most %d", len(k.Event.Type), MaxEventFieldLength)
		}
		if len(k.Event.Attributes) > MaxEventFilters {
			return fmt.Errorf("event: %d attribute filters, at most %d", len(k.Event.Attributes), MaxEventFilters)
		}
		for i, a := range k.Event.Attributes {
			if a.Key == "" {
				return fmt.Errorf("event.attributes[%d]: key is required", i)
			}
			if len(a.Key) > MaxEventFieldLength || len(a.Value) > MaxEventFieldLength {
				return fmt.Errorf("event.attributes[%d]: key and value are at most %d bytes each", i, MaxEventFieldLength)
			}
		}
	default:
		return errors.New("a trigger is one of block_interval, cron or event")
	}
	return nil
}

// MaxEventFilters bounds the attribute filters of one event trigger.
const MaxEventFilters = 16

// Matches reports whether a chain event matches the trigger: the same type,
// and for every filter an attribute with its key and, unless the filter's
// value is empty (any value), its value.
func (t EventTrigger) Matches(e abci.Event) bool {
	if e.Type != t.Type {
		return false
	}
	for _, f := range t.Attributes {
		found := false
		for _, a := range e.Attributes {
			if a.Key == f.Key && (f.Value == "" || a.Value == f.Value) {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	return true
}

// EventTriggers returns the manifest's event triggers.
func (m ServiceManifest) EventTriggers() []EventTrigger {
	var out []EventTrigger
	for _, t := range m.Triggers {
		if e, ok := t.Kind.(*Trigger_Event); ok && e.Event != nil {
			out = append(out, *e.Event)
		}
	}
	return out
}

// IsEventOrigin reports whether a task was opened by an event-trigger vote.
func (o Origin) IsEventOrigin() bool {
	return o.Kind == ORIGIN_KIND_TRIGGER && strings.HasPrefix(o.Ref, EventRefPrefix)
}

// EventRefPrefix marks the origin ref of tasks opened by event triggers:
// "event:service/height/tx_hash/event_index".
const EventRefPrefix = "event:"

// Key is the event's key in the tasks' ByEvent index: "service/height/tx_hash/event_index".
func (r EventRef) Key() string {
	return fmt.Sprintf("%d/%d/%s/%d", r.ServiceId, r.Height, r.TxHash, r.EventIndex)
}

// HasScheduledTriggers reports whether the manifest has interval or cron
// triggers (scheduled by height or time, unlike event triggers), which the
// chain keeps in its trigger schedule.
func (m ServiceManifest) HasScheduledTriggers() bool {
	for _, t := range m.Triggers {
		switch t.Kind.(type) {
		case *Trigger_BlockInterval, *Trigger_Cron:
			return true
		}
	}
	return false
}

// NextHeight returns the first height at or after from at which the trigger
// fires; ok is false when there is none (past its end, or beyond int64).
func (b BlockIntervalTrigger) NextHeight(from int64) (int64, bool) {
	if b.Every == 0 || b.Every > math.MaxInt64 {
		if b.Every != 0 && from <= b.Start {
			return b.Start, b.End == 0 || b.Start <= b.End
		}
		return 0, false
	}
	h := b.Start
	if from > b.Start {
		every := int64(b.Every)
		steps := (from - b.Start + every - 1) / every
		if steps > (math.MaxInt64-b.Start)/every {
			return 0, false
		}
		h = b.Start + steps*every
	}
	if b.End != 0 && h > b.End {
		return 0, false
	}
	return h, true
}

// CronNext returns the first tick of a cron schedule strictly after now, in
// unix ns; ok is false when the schedule has none (in the next five years, as
// robfig/cron searches) or it does not parse.
func CronNext(schedule string, now time.Time) (int64, bool) {
	s, err := ParseCron(schedule)
	if err != nil {
		return 0, false
	}
	next := s.Next(now.UTC())
	if next.IsZero() || next.Year() > 2261 {
		return 0, false
	}
	return next.UnixNano(), true
}
