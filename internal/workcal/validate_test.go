package workcal

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/custos-crm/custos/ent/schema/caldate"
)

// setting builds a calendar setting from the valid example, with the given
// members replaced (a nil value removes the member).
func setting(t testing.TB, replace map[string]any) []byte {
	t.Helper()
	s := map[string]any{
		"timeZone": "Asia/Shanghai",
		"weekdays": []string{"mon", "tue", "wed", "thu", "fri"},
		"hours":    []map[string]string{{"start": "09:00", "end": "12:00"}, {"start": "13:30", "end": "18:00"}},
		"holidays": []string{"2026-10-01", "2026-10-02"},
		"workdays": []string{"2026-09-27"},
	}
	for k, v := range replace {
		if v == nil {
			delete(s, k)
		} else {
			s[k] = v
		}
	}
	data, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// hours builds a list of hour ranges from start, end pairs.
func hours(pairs ...string) []map[string]string {
	var out []map[string]string
	for i := 0; i < len(pairs); i += 2 {
		out = append(out, map[string]string{"start": pairs[i], "end": pairs[i+1]})
	}
	return out
}

// dates returns n consecutive dates from 2026-01-01, repeating none.
func dates(n int) []string {
	var out []string
	for i := range n {
		out = append(out, caldate.New(2026, time.January, 1+i).String())
	}
	return out
}

func TestParseValid(t *testing.T) {
	example := `{"timeZone":"Asia/Shanghai","weekdays":["mon","tue","wed","thu","fri"],` +
		`"hours":[{"start":"09:00","end":"12:00"},{"start":"13:30","end":"18:00"}],` +
		`"holidays":["2026-10-01","2026-10-02"],"workdays":["2026-09-27"]}`
	c, err := Parse([]byte(example))
	if err != nil {
		t.Fatal(err)
	}
	want := Calendar{
		TimeZone: "Asia/Shanghai",
		Weekdays: []string{"mon", "tue", "wed", "thu", "fri"},
		Hours:    []Range{{"09:00", "12:00"}, {"13:30", "18:00"}},
		Holidays: []caldate.Date{caldate.New(2026, 10, 1), caldate.New(2026, 10, 2)},
		Workdays: []caldate.Date{caldate.New(2026, 9, 27)},
	}
	got := *c
	got.rules = nil
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Parse = %+v, want %+v", got, want)
	}
	out, err := json.Marshal(c)
	if err != nil || string(out) != example {
		t.Errorf("Marshal = %s, %v, want %s", out, err, example)
	}

	for _, tc := range []struct {
		name    string
		replace map[string]any
	}{
		{"24:00 as an end", map[string]any{"hours": hours("00:00", "24:00")}},
		{"ranges that touch", map[string]any{"hours": hours("09:00", "12:00", "12:00", "18:00")}},
		{"8 ranges", map[string]any{"hours": hours("01:00", "02:00", "03:00", "04:00", "05:00", "06:00", "07:00", "08:00",
			"09:00", "10:00", "11:00", "12:00", "13:00", "14:00", "15:00", "16:00")}},
		{"no weekdays but workdays", map[string]any{"weekdays": []string{}}},
		{"weekdays in any order", map[string]any{"weekdays": []string{"sun", "sat", "mon"}}},
		{"no holidays or workdays", map[string]any{"holidays": nil, "workdays": nil}},
		{"null lists", map[string]any{"holidays": json.RawMessage("null"), "workdays": json.RawMessage("null")}},
		{"1000 holidays", map[string]any{"holidays": dates(MaxDates), "workdays": nil}},
		{"a holiday on a weekend", map[string]any{"holidays": []string{"2026-10-03"}}},
		{"UTC", map[string]any{"timeZone": "UTC"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := Parse(setting(t, tc.replace)); err != nil {
				t.Errorf("Parse: %v", err)
			}
		})
	}
}

func TestParseProblems(t *testing.T) {
	for _, tc := range []struct {
		name string
		data []byte
		want []Problem // Message is a part of the message
	}{
		{"not JSON", []byte(`{"timeZone":`), []Problem{{"", "not valid JSON"}}},
		{"null", []byte(`null`), []Problem{{"", "must be a JSON object"}}},
		{"an array", []byte(`[]`), []Problem{{"", "must be a JSON object"}}},
		{"an unknown key", setting(t, map[string]any{"colour": "red"}), []Problem{{"/colour", "unknown key"}}},
		{"an unknown key needing escapes", setting(t, map[string]any{"a/b~c": 1}), []Problem{{"/a~1b~0c", "unknown key"}}},
		{"a key in the wrong case", setting(t, map[string]any{"timeZone": nil, "TimeZone": "UTC"}),
			[]Problem{{"/TimeZone", "unknown key"}, {"/timeZone", "is required"}}},
		{"an unknown key in a range", setting(t, map[string]any{"hours": []map[string]string{{"start": "09:00", "end": "18:00", "break": "12:00"}}}),
			[]Problem{{"/hours/0/break", "unknown key"}}},

		{"a missing time zone", setting(t, map[string]any{"timeZone": nil}), []Problem{{"/timeZone", "is required"}}},
		{"an unknown time zone", setting(t, map[string]any{"timeZone": "Asia/Beijing"}), []Problem{{"/timeZone", `unknown time zone "Asia/Beijing"`}}},
		{"the server's zone", setting(t, map[string]any{"timeZone": "Local"}), []Problem{{"/timeZone", `not the server's "Local" zone`}}},
		{"a time zone that is not a string", setting(t, map[string]any{"timeZone": 8}), []Problem{{"/timeZone", "must be a string"}}},

		{"an unknown weekday", setting(t, map[string]any{"weekdays": []string{"mon", "Tuesday"}}), []Problem{{"/weekdays/1", `unknown weekday "Tuesday"`}}},
		{"a weekday in capitals", setting(t, map[string]any{"weekdays": []string{"MON"}}), []Problem{{"/weekdays/0", `unknown weekday "MON"`}}},
		{"a repeated weekday", setting(t, map[string]any{"weekdays": []string{"mon", "tue", "mon"}}), []Problem{{"/weekdays/2", "repeats /weekdays/0"}}},
		{"a weekday that is not a string", setting(t, map[string]any{"weekdays": []any{"mon", 2}}), []Problem{{"/weekdays/1", "must be a string"}}},
		{"weekdays that are not an array", setting(t, map[string]any{"weekdays": "mon"}), []Problem{{"/weekdays", "must be an array"}}},
		{"no weekdays and no workdays", setting(t, map[string]any{"weekdays": []string{}, "workdays": nil}),
			[]Problem{{"/weekdays", "at least one weekday is required when no workdays are listed"}}},

		{"no hours", setting(t, map[string]any{"hours": nil}), []Problem{{"/hours", "at least one range is required"}}},
		{"empty hours", setting(t, map[string]any{"hours": []string{}}), []Problem{{"/hours", "at least one range is required"}}},
		{"9 ranges", setting(t, map[string]any{"hours": hours("01:00", "02:00", "03:00", "04:00", "05:00", "06:00", "07:00", "08:00",
			"09:00", "10:00", "11:00", "12:00", "13:00", "14:00", "15:00", "16:00", "17:00", "18:00")}),
			[]Problem{{"/hours", "at most 8 ranges"}}},
		{"a one-digit hour", setting(t, map[string]any{"hours": hours("9:00", "18:00")}), []Problem{{"/hours/0/start", `must be a time "HH:MM"`}}},
		{"a one-digit end hour", setting(t, map[string]any{"hours": hours("09:00", "12:00", "13:30", "6:00")}), []Problem{{"/hours/1/end", `must be a time "HH:MM"`}}},
		{"seconds", setting(t, map[string]any{"hours": hours("09:00:00", "18:00")}), []Problem{{"/hours/0/start", `must be a time "HH:MM"`}}},
		{"no colon", setting(t, map[string]any{"hours": hours("0900", "18:00")}), []Problem{{"/hours/0/start", `must be a time "HH:MM"`}}},
		{"minute 60", setting(t, map[string]any{"hours": hours("09:60", "18:00")}), []Problem{{"/hours/0/start", `must be a time "HH:MM"`}}},
		{"hour 25", setting(t, map[string]any{"hours": hours("09:00", "25:00")}), []Problem{{"/hours/0/end", `must be a time "HH:MM"`}}},
		{"24:00 as a start", setting(t, map[string]any{"hours": hours("24:00", "24:00")}), []Problem{{"/hours/0/start", `must be a time "HH:MM"`}}},
		{"24:30 as an end", setting(t, map[string]any{"hours": hours("09:00", "24:30")}), []Problem{{"/hours/0/end", `must be a time "HH:MM"`}}},
		{"full-width digits", setting(t, map[string]any{"hours": hours("０９:００", "18:00")}), []Problem{{"/hours/0/start", `must be a time "HH:MM"`}}},
		{"a missing end", setting(t, map[string]any{"hours": []map[string]string{{"start": "09:00"}}}), []Problem{{"/hours/0/end", `must be a time "HH:MM"`}}},
		{"an end before the start", setting(t, map[string]any{"hours": hours("18:00", "09:00")}), []Problem{{"/hours/0/end", "must be after the start, 18:00"}}},
		{"an empty range", setting(t, map[string]any{"hours": hours("09:00", "09:00")}), []Problem{{"/hours/0/end", "must be after the start, 09:00"}}},
		{"overlapping ranges", setting(t, map[string]any{"hours": hours("09:00", "12:00", "11:00", "18:00")}),
			[]Problem{{"/hours/1/start", "must not be before 12:00, the end of /hours/0"}}},
		{"unsorted ranges", setting(t, map[string]any{"hours": hours("13:30", "18:00", "09:00", "12:00")}),
			[]Problem{{"/hours/1/start", "must not be before 18:00, the end of /hours/0"}}},
		{"a range inside another", setting(t, map[string]any{"hours": hours("09:00", "18:00", "10:00", "11:00")}),
			[]Problem{{"/hours/1/start", "must not be before 18:00, the end of /hours/0"}}},
		{"overlap past a bad range", setting(t, map[string]any{"hours": hours("09:00", "12:00", "x", "13:00", "11:00", "18:00")}),
			[]Problem{{"/hours/1/start", `must be a time "HH:MM"`}, {"/hours/2/start", "must not be before 12:00, the end of /hours/0"}}},
		{"a range that is not an object", setting(t, map[string]any{"hours": []any{"09:00-18:00"}}), []Problem{{"/hours/0", "must be an object"}}},
		{"a null range", setting(t, map[string]any{"hours": []any{nil}}), []Problem{{"/hours/0", "must be an object"}}},
		{"a time that is not a string", setting(t, map[string]any{"hours": []map[string]any{{"start": 9, "end": "18:00"}}}),
			[]Problem{{"/hours/0/start", "must be a string"}}},

		{"a bad holiday", setting(t, map[string]any{"holidays": []string{"2026-10-01", "2026-10-02", "2026-10-03", "2026-10-4"}}),
			[]Problem{{"/holidays/3", `must be a date "YYYY-MM-DD"`}}},
		{"a holiday that does not exist", setting(t, map[string]any{"holidays": []string{"2026-02-30"}}),
			[]Problem{{"/holidays/0", `must be a date "YYYY-MM-DD"`}}},
		{"a holiday that is not a string", setting(t, map[string]any{"holidays": []any{20261001}}),
			[]Problem{{"/holidays/0", "must be a string"}}},
		{"a repeated holiday", setting(t, map[string]any{"holidays": []string{"2026-10-01", "2026-10-02", "2026-10-01"}}),
			[]Problem{{"/holidays/2", "repeats /holidays/0"}}},
		{"a bad workday", setting(t, map[string]any{"workdays": []string{"27/09/2026"}}),
			[]Problem{{"/workdays/0", `must be a date "YYYY-MM-DD"`}}},
		{"a repeated workday", setting(t, map[string]any{"workdays": []string{"2026-09-27", "2026-09-27"}}),
			[]Problem{{"/workdays/1", "repeats /workdays/0"}}},
		{"a date both holiday and workday", setting(t, map[string]any{"workdays": []string{"2026-09-27", "2026-10-02"}}),
			[]Problem{{"/workdays/1", "is also a holiday, /holidays/1"}}},
		{"1001 holidays", setting(t, map[string]any{"holidays": dates(MaxDates + 1), "workdays": nil}),
			[]Problem{{"/holidays", "at most 1000 dates"}}},
		{"1001 workdays", setting(t, map[string]any{"workdays": dates(MaxDates + 1), "holidays": nil}),
			[]Problem{{"/workdays", "at most 1000 dates"}}},

		{"several problems at once", setting(t, map[string]any{
			"timeZone": "Mars/Olympus",
			"weekdays": []string{"mon", "mon"},
			"hours":    hours("9:00", "12:00", "13:00", "12:30"),
			"holidays": []string{"2026-10-01", "tomorrow"},
			"workdays": []string{"2026-10-01"},
			"extra":    true,
		}), []Problem{
			{"/extra", "unknown key"},
			{"/holidays/1", "must be a date"},
			{"/timeZone", "unknown time zone"},
			{"/weekdays/1", "repeats /weekdays/0"},
			{"/hours/0/start", `must be a time "HH:MM"`},
			{"/hours/1/end", "must be after the start, 13:00"},
			{"/workdays/0", "is also a holiday, /holidays/0"},
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := Parse(tc.data)
			if c != nil {
				t.Errorf("Parse returned a calendar with its error")
			}
			var got Problems
			if !errors.As(err, &got) {
				t.Fatalf("Parse error = %v, want Problems", err)
			}
			if len(got) != len(tc.want) {
				t.Fatalf("Parse problems = %q, want %q", got, tc.want)
			}
			for i, p := range got {
				if p.Pointer != tc.want[i].Pointer || !strings.Contains(p.Message, tc.want[i].Message) {
					t.Errorf("problem %d = %q, want pointer %q and a message containing %q", i, p, tc.want[i].Pointer, tc.want[i].Message)
				}
			}
		})
	}
}

func TestProblemsError(t *testing.T) {
	for _, tc := range []struct {
		ps   Problems
		want string
	}{
		{Problems{{"/timeZone", "is required"}}, "workcal: invalid calendar: /timeZone: is required"},
		{Problems{{"", "is not valid JSON"}}, "workcal: invalid calendar: is not valid JSON"},
		{Problems{{"/hours/1/start", "a"}, {"/holidays/3", "b"}}, "workcal: invalid calendar: /hours/1/start: a; /holidays/3: b"},
	} {
		if got := tc.ps.Error(); got != tc.want {
			t.Errorf("Error() = %q, want %q", got, tc.want)
		}
	}
}

func TestValidate(t *testing.T) {
	valid := func() *Calendar {
		return &Calendar{
			TimeZone: "America/New_York",
			Weekdays: []string{"mon", "tue", "wed", "thu", "fri"},
			Hours:    []Range{{"09:00", "17:00"}},
			Holidays: []caldate.Date{caldate.New(2026, 11, 26)},
		}
	}
	for _, tc := range []struct {
		name   string
		change func(c *Calendar)
		want   []string // pointers
	}{
		{"valid", func(*Calendar) {}, nil},
		{"a zero holiday", func(c *Calendar) { c.Holidays = append(c.Holidays, caldate.Date{}) }, []string{"/holidays/1"}},
		{"a zero workday", func(c *Calendar) { c.Workdays = []caldate.Date{{}} }, []string{"/workdays/0"}},
		{"a workday that is a holiday", func(c *Calendar) { c.Workdays = []caldate.Date{caldate.New(2026, 11, 26)} }, []string{"/workdays/0"}},
		{"no hours", func(c *Calendar) { c.Hours = nil }, []string{"/hours"}},
		{"no time zone", func(c *Calendar) { c.TimeZone = "" }, []string{"/timeZone"}},
		{"nothing at all", func(c *Calendar) { *c = Calendar{} }, []string{"/timeZone", "/weekdays", "/hours"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := valid()
			tc.change(c)
			err := c.Validate()
			var ps Problems
			if err != nil && !errors.As(err, &ps) {
				t.Fatalf("Validate error %v is not Problems", err)
			}
			var got []string
			for _, p := range ps {
				got = append(got, p.Pointer)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("Validate pointers = %q, want %q (%v)", got, tc.want, err)
			}
			thanksgivingEve := time.Date(2026, 11, 25, 20, 0, 0, 0, time.UTC) // 15:00 EST
			end, addErr := c.Add(thanksgivingEve, 4*time.Hour)
			if tc.want == nil {
				if want := time.Date(2026, 11, 27, 16, 0, 0, 0, time.UTC); addErr != nil || !end.Equal(want) {
					t.Errorf("Add after Validate = %s, %v, want %s", end, addErr, want)
				}
			} else if !errors.Is(addErr, ErrNoWorkingTime) {
				t.Errorf("Add after a failed Validate = %s, %v, want ErrNoWorkingTime", end, addErr)
			}
		})
	}
}

func TestValidatePreparesFromCurrentFields(t *testing.T) {
	c := mustParse(t, shanghaiDay)
	saturday := at(t, c, "2026-09-19 10:00")
	if c.IsWorking(saturday) {
		t.Fatal("Saturday is working before the change")
	}
	c.Weekdays = append(c.Weekdays, "sat")
	if c.IsWorking(saturday) {
		t.Error("a field change took effect before Validate")
	}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	if !c.IsWorking(saturday) {
		t.Error("Saturday is not working after Validate")
	}
	c.TimeZone = "Nowhere/Special"
	if err := c.Validate(); err == nil {
		t.Fatal("Validate accepted an unknown zone")
	}
	if c.IsWorking(saturday) {
		t.Error("a calendar that failed Validate still has working time")
	}
}

func TestUnmarshalJSON(t *testing.T) {
	type tenantSettings struct {
		Name     string    `json:"name"`
		Calendar *Calendar `json:"calendar"`
	}
	for _, tc := range []struct {
		name        string
		data        string
		wantWorking bool
		wantPointer string
	}{
		{"a valid calendar", `{"name":"acme","calendar":` + shanghaiLunch + `}`, true, ""},
		{"no calendar", `{"name":"acme","calendar":null}`, false, ""},
		{"an invalid calendar", `{"name":"acme","calendar":{"timeZone":"Asia/Shanghai","weekdays":["mon"],"hours":[{"start":"9:00","end":"18:00"}]}}`, false, "/hours/0/start"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var s tenantSettings
			err := json.Unmarshal([]byte(tc.data), &s)
			var ps Problems
			switch {
			case tc.wantPointer == "" && err != nil:
				t.Fatalf("Unmarshal: %v", err)
			case tc.wantPointer != "":
				if !errors.As(err, &ps) || len(ps) != 1 || ps[0].Pointer != tc.wantPointer {
					t.Fatalf("Unmarshal error = %v, want one problem at %s", err, tc.wantPointer)
				}
				return
			}
			monday := time.Date(2026, 9, 21, 2, 0, 0, 0, time.UTC) // 10:00 in Shanghai
			if got := s.Calendar != nil && s.Calendar.IsWorking(monday); got != tc.wantWorking {
				t.Errorf("IsWorking(Monday 10:00) = %v, want %v", got, tc.wantWorking)
			}
		})
	}

	var c Calendar
	if err := c.UnmarshalJSON([]byte("null")); err != nil || !reflect.DeepEqual(c, Calendar{}) {
		t.Errorf("UnmarshalJSON(null) = %v and %+v, want no change", err, c)
	}
}

func ExampleParse() {
	c, err := Parse([]byte(`{"timeZone":"Asia/Shanghai","weekdays":["mon","tue","wed","thu","fri"],
		"hours":[{"start":"09:00","end":"12:00"},{"start":"13:30","end":"18:00"}],
		"holidays":["2026-10-01","2026-10-02","2026-10-03","2026-10-04","2026-10-05","2026-10-06","2026-10-07"],
		"workdays":["2026-09-27","2026-10-10"]}`))
	if err != nil {
		fmt.Println(err)
		return
	}
	shanghai, _ := time.LoadLocation("Asia/Shanghai")
	opened := time.Date(2026, 9, 30, 16, 0, 0, 0, shanghai)
	due, _ := c.Add(opened, 4*time.Hour)
	fmt.Println(due.In(shanghai).Format("2006-01-02 15:04 Mon"))

	_, err = Parse([]byte(`{"timeZone":"Asia/Shanghai","weekdays":["mon"],"hours":[{"start":"9:00","end":"18:00"}],"color":"red"}`))
	fmt.Println(err)
	// Output:
	// 2026-10-08 11:00 Thu
	// workcal: invalid calendar: /color: unknown key; /hours/0/start: must be a time "HH:MM" from "00:00" to "23:59", such as "09:00"
}
