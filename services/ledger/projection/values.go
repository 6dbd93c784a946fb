package projection

import (
	"encoding/json"
	"fmt"
	"time"
)

// values dereferences field pointers into the values the database and the
// digest take. A nil time pointer becomes nil, stored as NULL.
func values(ptrs []any) []any {
	out := make([]any, len(ptrs))
	for i, p := range ptrs {
		switch v := p.(type) {
		case *string:
			out[i] = *v
		case *int:
			out[i] = *v
		case *bool:
			out[i] = *v
		case *time.Time:
			out[i] = *v
		case **time.Time:
			if *v != nil {
				out[i] = **v
			}
		case *[]string:
			out[i] = nonNil(*v)
		default:
			panic(fmt.Sprintf("projection: no value for field of type %T", p))
		}
	}
	return out
}

// normalise puts times read from the database into UTC, as projected.
func normalise(ptrs []any) {
	for _, p := range ptrs {
		switch v := p.(type) {
		case *time.Time:
			*v = v.UTC()
		case **time.Time:
			if *v != nil {
				t := (*v).UTC()
				*v = &t
			}
		case *[]string:
			*v = nonNil(*v)
		}
	}
}

// canonical writes one row as a JSON array, times in RFC 3339 UTC with
// microseconds, so that equal rows always give equal bytes.
func canonical(ptrs []any) []byte {
	vals := values(ptrs)
	for i, v := range vals {
		if t, ok := v.(time.Time); ok {
			vals[i] = t.UTC().Format("2006-01-02T15:04:05.000000Z")
		}
	}
	b, err := json.Marshal(vals)
	if err != nil {
		panic(fmt.Sprintf("projection: encoding a row: %v", err))
	}
	return b
}
