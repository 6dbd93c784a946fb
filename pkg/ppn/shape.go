package ppn

import (
	"reflect"
	"strings"
	"sync"
	"time"
)

// shape is what the Go types say may appear at one place in a notice: the
// member names of an object, the element of an array, or an integer. It is
// derived from Incident by reflection, so the decoder's idea of a known
// field can never drift from the struct it fills.
type shape struct {
	fields  map[string]*shape // object members, by exact JSON name; nil if not an object
	elem    *shape            // array element; nil if not an array
	integer bool              // a Go integer, which must be written as a plain integer
}

// incidentShape is the shape of a whole notice.
var incidentShape = sync.OnceValue(func() *shape { return shapeOf(reflect.TypeFor[Incident]()) })

func shapeOf(t reflect.Type) *shape {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch {
	case t == reflect.TypeFor[time.Time]():
		return &shape{}
	case t.Kind() == reflect.Struct:
		return structShape(t)
	case t.Kind() == reflect.Slice:
		return &shape{elem: shapeOf(t.Elem())}
	case t.Kind() >= reflect.Int && t.Kind() <= reflect.Uint64:
		return &shape{integer: true}
	default:
		return &shape{}
	}
}

func structShape(t reflect.Type) *shape {
	s := &shape{fields: map[string]*shape{}}
	for f := range t.Fields() {
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if !f.IsExported() || name == "-" {
			continue
		}
		if name == "" {
			name = f.Name
		}
		s.fields[name] = shapeOf(f.Type)
	}
	return s
}

// isObject reports whether s describes a JSON object; a nil shape (a place
// whose type is already wrong) describes nothing.
func (s *shape) isObject() bool { return s != nil && s.fields != nil }

func (s *shape) isArray() bool { return s != nil && s.elem != nil }

// member returns the shape of the member called name, or nil when the
// object has no such member.
func (s *shape) member(name string) *shape {
	if !s.isObject() {
		return nil
	}
	return s.fields[name]
}

// lookalike returns the known member that name was probably meant to be:
// one equal to it ignoring letter case, underscores and hyphens. It is used
// only to word the refusal; any name that is not exactly known is refused.
func (s *shape) lookalike(name string) (string, bool) {
	want := looseName(name)
	for known := range s.fields {
		if looseName(known) == want {
			return known, true
		}
	}
	return "", false
}

func looseName(name string) string {
	return strings.ToLower(strings.NewReplacer("_", "", "-", "").Replace(name))
}
