package policy

import (
	"fmt"
	"strconv"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/lantern-safeguarding/lantern/pkg/calendar"
	"github.com/lantern-safeguarding/lantern/pkg/events"
)

// reader collects the problems of one file while its fields are read.
type reader struct {
	file     string
	lines    []string
	problems []Problem
	compiler *compiler
}

func (r *reader) add(line int, field, format string, args ...any) {
	r.problems = append(r.problems, Problem{File: r.file, Line: line, Field: field, Message: fmt.Sprintf(format, args...)})
}

// object is one YAML mapping being read. Every key must be read exactly
// once; finish reports the keys nobody asked for, which are most often
// misspellings of a setting that would otherwise silently keep its old
// value.
type object struct {
	r      *reader
	path   string
	line   int
	values map[string]*yaml.Node
	keys   map[string]*yaml.Node
	order  []string
	used   map[string]bool
}

// newObject reads node as a mapping at path. A node that is not a mapping
// is reported and read as an empty one, so that reading carries on and
// every other problem is found too.
func (r *reader) newObject(node *yaml.Node, path string) *object {
	o := &object{r: r, path: path, values: map[string]*yaml.Node{}, keys: map[string]*yaml.Node{}, used: map[string]bool{}}
	if node == nil {
		return o
	}
	o.line = node.Line
	if node.Kind != yaml.MappingNode {
		r.add(node.Line, path, "must be a mapping of settings")
		return o
	}
	for i := 0; i+1 < len(node.Content); i += 2 {
		key, value := node.Content[i], node.Content[i+1]
		if _, dup := o.values[key.Value]; dup {
			r.add(key.Line, o.field(key.Value), "is set more than once")
			continue
		}
		o.values[key.Value], o.keys[key.Value] = value, key
		o.order = append(o.order, key.Value)
	}
	return o
}

func (o *object) field(key string) string {
	if o.path == "" {
		return key
	}
	return o.path + "." + key
}

// take returns the value of a required key, reporting it when missing.
func (o *object) take(key string) (*yaml.Node, bool) {
	o.used[key] = true
	v, ok := o.values[key]
	if !ok {
		o.r.add(o.line, o.field(key), "is required")
		return nil, false
	}
	return v, true
}

// optional returns the value of a key that may be left out.
func (o *object) optional(key string) (*yaml.Node, bool) {
	o.used[key] = true
	v, ok := o.values[key]
	return v, ok
}

// finish reports every key that was not read.
func (o *object) finish() {
	for _, key := range o.order {
		if !o.used[key] {
			o.r.add(o.keys[key].Line, o.field(key), "is not a known setting")
		}
	}
}

// scalar returns the text of a required scalar value.
func (o *object) scalar(key string) (*yaml.Node, bool) {
	v, ok := o.take(key)
	if !ok {
		return nil, false
	}
	if v.Kind != yaml.ScalarNode {
		o.r.add(v.Line, o.field(key), "must be a single value")
		return nil, false
	}
	return v, true
}

func (o *object) sub(key string) *object {
	v, _ := o.take(key)
	return o.r.newObject(v, o.field(key))
}

// optionalSub is sub for a key that may be left out.
func (o *object) optionalSub(key string) (*object, bool) {
	v, ok := o.optional(key)
	if !ok {
		return nil, false
	}
	return o.r.newObject(v, o.field(key)), true
}

func (o *object) text(key string, maxLen int) string {
	v, ok := o.scalar(key)
	if !ok {
		return ""
	}
	return o.checkText(v, o.field(key), maxLen)
}

func (o *object) checkText(v *yaml.Node, field string, maxLen int) string {
	switch {
	case v.Kind != yaml.ScalarNode:
		o.r.add(v.Line, field, "must be a single value")
	case v.Value == "":
		o.r.add(v.Line, field, "must not be empty")
	case len(v.Value) > maxLen:
		o.r.add(v.Line, field, "must be at most %d characters", maxLen)
	}
	return v.Value
}

func (o *object) boolean(key string) bool {
	v, ok := o.scalar(key)
	if !ok {
		return false
	}
	b, err := strconv.ParseBool(v.Value)
	if err != nil || v.Tag != "!!bool" {
		o.r.add(v.Line, o.field(key), "%q is not true or false", v.Value)
	}
	return b
}

func (o *object) integer(key string, lo, hi int) int {
	v, ok := o.scalar(key)
	if !ok {
		return 0
	}
	n, err := strconv.Atoi(v.Value)
	if err != nil {
		o.r.add(v.Line, o.field(key), "%q is not a whole number", v.Value)
		return 0
	}
	if n < lo || n > hi {
		o.r.add(v.Line, o.field(key), "%d is outside %d to %d", n, lo, hi)
	}
	return n
}

// duration reads a positive Go duration such as 24h or 90m.
func (o *object) duration(key string) time.Duration {
	v, ok := o.scalar(key)
	if !ok {
		return 0
	}
	d, err := time.ParseDuration(v.Value)
	if err != nil {
		o.r.add(v.Line, o.field(key), "%q is not a duration such as 24h or 90m", v.Value)
		return 0
	}
	if d <= 0 || d > 366*24*time.Hour {
		o.r.add(v.Line, o.field(key), "%s must be more than 0 and at most a year", v.Value)
	}
	return d
}

func (o *object) timeOfDay(key string) calendar.TimeOfDay {
	v, ok := o.scalar(key)
	if !ok {
		return calendar.TimeOfDay{}
	}
	t, err := calendar.ParseTimeOfDay(v.Value)
	if err != nil {
		o.r.add(v.Line, o.field(key), "%q is not a time such as 06:00", v.Value)
	}
	return t
}

func (o *object) rag(key string) RAG {
	v, ok := o.scalar(key)
	if !ok {
		return ""
	}
	r := RAG(v.Value)
	if r.Rank() == 0 {
		o.r.add(v.Line, o.field(key), "%q is not red, amber or green", v.Value)
	}
	return r
}

func (o *object) profile(key string, allowed ...events.Profile) events.Profile {
	v, ok := o.scalar(key)
	if !ok {
		return ""
	}
	return o.checkProfile(v, o.field(key), allowed)
}

func (o *object) checkProfile(v *yaml.Node, field string, allowed []events.Profile) events.Profile {
	p := events.Profile(v.Value)
	for _, a := range allowed {
		if p == a {
			return p
		}
	}
	o.r.add(v.Line, field, "%q is not one of %v", v.Value, allowed)
	return p
}

// deadline reads {calendar: clock|mash_hours, limit: 4h},
// {calendar: working_day, days: 1} or {calendar: school_day}, the last only
// where allowed says so.
func (o *object) deadline(key string, allowed ...calendar.Kind) Deadline {
	d := o.sub(key)
	defer d.finish()
	return d.deadlineFields(allowed)
}

// deadlineFields reads calendar and limit or days from the object itself.
func (d *object) deadlineFields(allowed []calendar.Kind) Deadline {
	v, ok := d.scalar("calendar")
	if !ok {
		return Deadline{}
	}
	dl := Deadline{Calendar: calendar.Kind(v.Value)}
	if !kindAllowed(dl.Calendar, allowed) {
		d.r.add(v.Line, d.field("calendar"), "%q is not one of %v", v.Value, allowed)
		return dl
	}
	switch dl.Calendar {
	case calendar.Clock, calendar.MASHHours:
		dl.Limit = d.duration("limit")
	case calendar.WorkingDay:
		dl.Days = d.integer("days", 0, 60)
	}
	return dl
}

func kindAllowed(k calendar.Kind, allowed []calendar.Kind) bool {
	for _, a := range allowed {
		if k == a {
			return true
		}
	}
	return false
}

// timed lists the calendars a deadline counted in time or days may use.
var timed = []calendar.Kind{calendar.Clock, calendar.MASHHours, calendar.WorkingDay}
