package notify_test

import (
	"strings"
	"testing"
	"time"

	"github.com/custos-crm/custos/ent"
	_ "github.com/custos-crm/custos/ent/runtime"
	"github.com/custos-crm/custos/ent/schema/caldate"
	"github.com/custos-crm/custos/internal/apptest"
	"github.com/custos-crm/custos/internal/mail"
	"github.com/custos-crm/custos/internal/mail/mailtest"
	"github.com/custos-crm/custos/internal/store/storetest"
)

// office is a tenant with a sales user whose follow-up is due on a date.
type office struct {
	slug, tz, locale string
	hour             int
	sales            string // the sales user's e-mail
	token, admin     string
	customer         string
	loc              *time.Location
}

func TestRemindersInTwoTimeZones(t *testing.T) {
	storetest.EachDialect(t, func(t *testing.T, dialect string) {
		smtp := mailtest.Start(t, mailtest.Options{})
		cfg, err := mail.ParseURL("smtp://" + smtp.Addr() + "?from=noreply@custos.test&tls=none")
		if err != nil {
			t.Fatal(err)
		}
		a := apptest.NewWith(t, dialect, apptest.Options{Mail: mail.NewSMTP(cfg, time.Now)})
		offices := []*office{
			{slug: "shanghai", tz: "Asia/Shanghai", locale: "zh-CN", hour: 9, sales: "li@shanghai.test"},
			{slug: "newyork", tz: "America/New_York", locale: "en", hour: 8, sales: "ann@newyork.test"},
		}
		// The follow-ups are due two days from now in Shanghai.
		sh, _ := time.LoadLocation("Asia/Shanghai")
		due := caldate.Of(a.Clock.Now(), sh).AddDays(2)
		for _, o := range offices {
			o.loc, _ = time.LoadLocation(o.tz)
			tn := a.NewTenant(t, o.slug)
			o.admin = a.Login(t, o.slug, "admin@"+o.slug+".test")
			a.GraphQL(t, o.admin, `mutation($in: TenantSettingsInput!) { updateTenantSettings(input: $in) { id } }`,
				map[string]any{"in": map[string]any{"timeZone": o.tz, "locale": o.locale, "reminderHour": o.hour}}).MustSucceed(t)
			a.NewUser(t, tn, apptest.UserSpec{Email: o.sales, Roles: []*ent.Role{tn.Role("sales")}})
			o.token = a.Login(t, o.slug, o.sales)
			var c struct{ CreateCustomer struct{ ID string } }
			a.GraphQL(t, o.token, `mutation { createCustomer(input: {name: "Customer of `+o.slug+`"}) { id } }`, nil).MustSucceed(t).Decode(t, &c)
			o.customer = c.CreateCustomer.ID
			a.GraphQL(t, o.token, `mutation($c: ID!, $d: Date!) { createFollowUp(input: {customerID: $c, type: "call", nextFollowUpOn: $d}) { id } }`,
				map[string]any{"c": c.CreateCustomer.ID, "d": due.String()}).MustSucceed(t)
		}
		bad := a.GraphQL(t, offices[0].admin, `mutation { updateTenantSettings(input: {reminderHour: 24}) { id } }`, nil)
		if len(bad.Errors) != 1 || strings.Join(bad.Errors[0].Pointers(), ",") != "/input/reminderHour" {
			t.Fatalf("an hour of 24 was accepted: %s", bad.Raw)
		}

		inbox := func(o *office) []notice {
			var out struct {
				MyNotifications struct{ Edges []struct{ Node notice } }
			}
			a.GraphQL(t, o.token, `{ myNotifications { edges { node { id kind title body link readAt } } } }`, nil).MustSucceed(t).Decode(t, &out)
			var ns []notice
			for _, e := range out.MyNotifications.Edges {
				ns = append(ns, e.Node)
			}
			return ns
		}
		schedule := func(at time.Time) {
			t.Helper()
			a.Clock.Set(at)
			// Sessions expire while days pass: sign in again.
			for _, o := range offices {
				o.token = a.Login(t, o.slug, o.sales)
			}
			if err := a.Background.Reminders.Schedule(a.System(""), at); err != nil {
				t.Fatal(err)
			}
		}
		settle := func() { time.Sleep(400 * time.Millisecond) }

		// A minute before each office's hour on the due date: nothing.
		shanghai, newyork := offices[0], offices[1]
		schedule(due.Start(sh).Add(8*time.Hour + 59*time.Minute))
		settle()
		if n := len(inbox(shanghai)); n != 0 {
			t.Fatalf("Shanghai was reminded at 08:59: %d", n)
		}

		// 09:00 in Shanghai: Li is reminded, in the inbox and by e-mail, in
		// Chinese; New York (still the day before) is not.
		schedule(due.Start(sh).Add(9 * time.Hour))
		msgs := smtp.WaitFor(t, 1, 10*time.Second)
		ns := inbox(shanghai)
		if len(ns) != 1 || ns[0].Kind != "followup.due" || !strings.Contains(ns[0].Title, "Customer of shanghai") ||
			!strings.Contains(ns[0].Title, "电话") || !strings.Contains(ns[0].Body, due.String()) {
			t.Fatalf("Shanghai inbox %+v", ns)
		}
		if msgs[0].To[0] != shanghai.sales || !strings.Contains(msgs[0].Body, "Customer of shanghai") ||
			msgs[0].Header.Get("Content-Language") != "zh-CN" {
			t.Fatalf("e-mail to %v: %s", msgs[0].To, msgs[0].Data)
		}
		if n := len(inbox(newyork)); n != 0 {
			t.Fatalf("New York was reminded the evening before: %d", n)
		}

		// Running the scheduler again sends nothing twice.
		schedule(due.Start(sh).Add(9*time.Hour + 30*time.Minute))
		settle()
		if len(inbox(shanghai)) != 1 || len(smtp.Messages()) != 1 {
			t.Fatalf("a second run notified again: %d e-mails", len(smtp.Messages()))
		}

		// Ann turns e-mail off for reminders; at 08:00 in New York she gets
		// the inbox entry, in English, and no e-mail.
		a.GraphQL(t, newyork.token, `mutation { setNotificationPreference(input: {kind: "followup.due", inbox: true, email: false}) { kind email } }`, nil).MustSucceed(t)
		nyStart := due.Start(newyork.loc)
		schedule(nyStart.Add(7*time.Hour + 59*time.Minute))
		settle()
		if n := len(inbox(newyork)); n != 0 {
			t.Fatalf("New York was reminded at 07:59: %d", n)
		}
		// A later follow-up supersedes the first: one reminder, for it.
		a.GraphQL(t, newyork.token, `mutation($c: ID!, $d: Date!) { createFollowUp(input: {customerID: $c, type: "visit", nextFollowUpOn: $d}) { id } }`,
			map[string]any{"c": newyork.customer, "d": due.String()}).MustSucceed(t)
		schedule(nyStart.Add(8 * time.Hour))
		var ny []notice
		waitFor(t, func() bool { ny = inbox(newyork); return len(ny) == 1 })
		if !strings.HasPrefix(ny[0].Title, "Follow-up due today: Visit") || !strings.Contains(ny[0].Link, "/customers/") {
			t.Fatalf("New York inbox %+v", ny)
		}
		settle()
		if ny = inbox(newyork); len(ny) != 1 {
			t.Fatalf("a superseded follow-up was reminded too: %+v", ny)
		}
		if n := len(smtp.Messages()); n != 1 {
			t.Fatalf("%d e-mails, want only Shanghai's", n)
		}

		// Reading: unread count, mark read.
		var count struct{ UnreadNotificationCount int }
		a.GraphQL(t, newyork.token, `{ unreadNotificationCount }`, nil).MustSucceed(t).Decode(t, &count)
		if count.UnreadNotificationCount != 1 {
			t.Fatalf("unread %d", count.UnreadNotificationCount)
		}
		var marked struct{ MarkNotificationsRead int }
		// Ann cannot mark Li's notification read.
		a.GraphQL(t, newyork.token, `mutation($ids: [ID!]!) { markNotificationsRead(ids: $ids) }`,
			map[string]any{"ids": []string{inbox(shanghai)[0].ID, ny[0].ID}}).MustSucceed(t).Decode(t, &marked)
		if marked.MarkNotificationsRead != 1 || inbox(shanghai)[0].ReadAt != nil || inbox(newyork)[0].ReadAt == nil {
			t.Fatalf("marked %d", marked.MarkNotificationsRead)
		}

		// Due follow-ups: on the due date in New York, Ann's is due; a
		// later follow-up on the same customer supersedes it.
		var dueList struct {
			MyFollowUpsDue struct {
				Edges []struct {
					Node struct{ ID, NextFollowUpOn string }
				}
			}
		}
		a.GraphQL(t, newyork.token, `{ myFollowUpsDue { edges { node { id nextFollowUpOn } } } }`, nil).MustSucceed(t).Decode(t, &dueList)
		if e := dueList.MyFollowUpsDue.Edges; len(e) != 1 || e[0].Node.NextFollowUpOn != due.String() {
			t.Fatalf("due %+v", dueList)
		}
		a.GraphQL(t, shanghai.token, `{ myFollowUpsDue { edges { node { id } } } }`, nil).MustSucceed(t).Decode(t, &dueList)
		if len(dueList.MyFollowUpsDue.Edges) != 1 {
			t.Fatalf("Li's due list %+v", dueList)
		}
		var cs struct {
			Customers struct {
				Edges []struct{ Node struct{ ID string } }
			}
		}
		a.GraphQL(t, shanghai.token, `{ customers { edges { node { id } } } }`, nil).MustSucceed(t).Decode(t, &cs)
		a.Clock.Advance(time.Minute)
		a.GraphQL(t, shanghai.token, `mutation($c: ID!) { createFollowUp(input: {customerID: $c, type: "visit"}) { id } }`,
			map[string]any{"c": cs.Customers.Edges[0].Node.ID}).MustSucceed(t)
		a.GraphQL(t, shanghai.token, `{ myFollowUpsDue { edges { node { id } } } }`, nil).MustSucceed(t).Decode(t, &dueList)
		if len(dueList.MyFollowUpsDue.Edges) != 0 {
			t.Fatalf("a superseded follow-up is still due: %+v", dueList)
		}
	})
}

type notice struct {
	ID, Kind, Title, Body, Link string
	ReadAt                      *string
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("timed out")
		}
		time.Sleep(20 * time.Millisecond)
	}
}
