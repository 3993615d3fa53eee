package jobs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/custos-crm/custos/ent/schema/pulid"
	"github.com/custos-crm/custos/ent/schema/viewer"
	"github.com/custos-crm/custos/internal/apierr"
)

// Job is a job as admins see it in the job list.
type Job struct {
	ID          string
	Kind        string
	State       string
	Attempt     int
	MaxAttempts int
	CreatedAt   time.Time
	ScheduledAt time.Time
	FinalizedAt *time.Time
	// LastError is the public text of the last failure: workers hand the
	// queue only messages a client may see.
	LastError *string
	// StartedBy is the user who started the job; nil for system jobs.
	StartedBy *pulid.ID
}

// Page is one page of the job list, newest first.
type Page struct {
	Jobs []Job
	// EndCursor continues the list after the last job; nil at the end.
	EndCursor *string
}

// States are the job states the list filters on.
var States = []string{"available", "scheduled", "running", "retryable", "completed", "discarded", "cancelled", "pending"}

// List returns the viewer's tenant's jobs, newest first, optionally only in
// one state. It needs tenant:manage.
func (q *Queue) List(ctx context.Context, state string, first int, after string) (*Page, error) {
	v := viewer.FromContext(ctx)
	if v == nil || !v.Authenticated() || !v.Can(viewer.PermTenantManage) {
		return nil, apierr.New(apierr.Forbidden)
	}
	if q.client == nil {
		return nil, errors.New("jobs: list before Open")
	}
	if first <= 0 {
		return &Page{}, nil
	}
	if state != "" && !slices.Contains(States, strings.ToLower(state)) {
		return nil, apierr.BadInput(apierr.Field("/state", "invalid"))
	}
	params := river.NewJobListParams().TagsAll(tenantTag(v.TenantID)).
		OrderBy(river.JobListOrderByID, river.SortOrderDesc).First(first)
	if state != "" {
		params = params.States(rivertype.JobState(strings.ToLower(state)))
	}
	if after != "" {
		var cursor river.JobListCursor
		if err := cursor.UnmarshalText([]byte(after)); err != nil {
			return nil, apierr.BadInput(apierr.Field("/after", "invalid"))
		}
		params = params.After(&cursor)
	}
	res, err := q.client.JobList(ctx, params)
	if err != nil {
		return nil, fmt.Errorf("jobs: listing: %w", err)
	}
	page := &Page{}
	for _, j := range res.Jobs {
		page.Jobs = append(page.Jobs, toJob(j))
	}
	if len(res.Jobs) == first && res.LastCursor != nil {
		text, err := res.LastCursor.MarshalText()
		if err != nil {
			return nil, fmt.Errorf("jobs: cursor: %w", err)
		}
		cursor := string(text)
		page.EndCursor = &cursor
	}
	return page, nil
}

func toJob(j *rivertype.JobRow) Job {
	out := Job{
		ID: fmt.Sprint(j.ID), Kind: j.Kind, State: string(j.State), Attempt: j.Attempt, MaxAttempts: j.MaxAttempts,
		CreatedAt: j.CreatedAt.UTC(), ScheduledAt: j.ScheduledAt.UTC(),
	}
	if j.FinalizedAt != nil {
		t := j.FinalizedAt.UTC()
		out.FinalizedAt = &t
	}
	if n := len(j.Errors); n > 0 {
		// River prefixes the text of a cancellation. Workers hand River
		// only "CODE: message" texts; anything else (River's own errors)
		// is shown as an internal error.
		msg := strings.TrimPrefix(j.Errors[n-1].Error, "JobCancelError: ")
		if !publicText(msg) {
			msg = PublicMessage(errors.New(msg))
		}
		out.LastError = &msg
	}
	var a Actor
	if err := json.Unmarshal(j.EncodedArgs, &a); err == nil && a.UserID != "" {
		out.StartedBy = &a.UserID
	}
	return out
}

// publicText reports whether msg is a message PublicMessage made: an error
// code, a colon, and the code's text.
func publicText(msg string) bool {
	code, _, ok := strings.Cut(msg, ": ")
	if !ok {
		return false
	}
	switch apierr.Code(code) {
	case apierr.Forbidden, apierr.NotFound, apierr.BadUserInput, apierr.Conflict, apierr.Internal, apierr.Unauthenticated, apierr.RateLimited, apierr.LimitExceeded:
		return true
	}
	return false
}
