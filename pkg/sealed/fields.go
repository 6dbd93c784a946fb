package sealed

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
)

// PersonalKeys are the JSON member names whose values are personal data
// wherever they appear in an event's data: people's names, dates of birth
// and NHS numbers, the child's voice, the narrative, the place, the
// officer's details and a recipient's minimised notice. Everything else
// (ids, kinds, rules, profiles, deadlines, timestamps, counts and flags)
// stays in clear, so that projections and reports never need a key.
var PersonalKeys = map[string]bool{
	"name": true, "date_of_birth": true, "expected_due_date": true, "nhs_number": true,
	"voice_of_child": true, "circumstances": true, "location": true, "officer": true,
	"notice": true, "rag_reason": true,
}

// ClearKeys are members whose contents are never personal even though
// they hold a personal key's name: a recipient's name is an
// organisation's.
var ClearKeys = map[string]bool{"recipient": true}

// Removed is what a sealed value reads as once its incident is shredded:
// still a non-empty string, so that "was a voice recorded" counts the same
// before and after.
const Removed = "[removed]"

// SealFields returns data (a JSON object) with every non-empty string
// under a personal key sealed for incidentID, at any depth (the strings of
// a location or a notice object too). Numbers, flags and empty strings
// stay as they are, so the shape, and "was a voice recorded", read the
// same sealed or not, and typed decoders still decode. The purpose of each
// value is its JSON path, so no sealed value can be moved elsewhere.
//
// An event that arrives after its incident was shredded (a late
// redelivery, a decision taken after the notices were closed) has its
// personal strings stored as Removed: its personal data is to be gone,
// and every consumer then stores and publishes it like any other instead
// of retrying it into the dead-letter stream.
func (s *Sealer) SealFields(ctx context.Context, incidentID string, data []byte) ([]byte, error) {
	gone := false
	return mapFields(ctx, data, func(path string, v any) (any, error) {
		if gone {
			return Removed, nil
		}
		ct, err := s.SealText(ctx, incidentID, path, []byte(v.(string)))
		if errors.Is(err, ErrShredded) {
			gone = true
			return Removed, nil
		}
		return ct, err
	})
}

// SealPlainFields seals the personal strings of data that are not sealed
// yet and leaves sealed ones as they are, for rows written before sealing
// was switched on; sealed reports how many it sealed, so that a second
// pass finds nothing to do. A shredded incident's plaintext strings are
// replaced by Removed, not sealed: its key is gone for good.
func (s *Sealer) SealPlainFields(ctx context.Context, incidentID string, data []byte) (out []byte, sealed int, err error) {
	gone := false
	out, err = mapFields(ctx, data, func(path string, v any) (any, error) {
		text := v.(string)
		if IsSealedText(text) || text == Removed {
			return v, nil
		}
		sealed++
		if gone {
			return Removed, nil
		}
		ct, err := s.SealText(ctx, incidentID, path, []byte(text))
		if errors.Is(err, ErrShredded) {
			gone = true
			return Removed, nil
		}
		return ct, err
	})
	return out, sealed, err
}

// OpenFields reverses SealFields. When the incident was shredded every
// sealed value reads as Removed and shredded is true. The first value
// found shredded settles it for the rest: the key is gone for all of
// them, so they are not looked up again.
func (s *Sealer) OpenFields(ctx context.Context, incidentID string, data []byte) (opened []byte, shredded bool, err error) {
	opened, err = mapFields(ctx, data, func(path string, v any) (any, error) {
		text, ok := v.(string)
		if !ok || !IsSealedText(text) {
			return v, nil
		}
		if shredded {
			return Removed, nil
		}
		plain, err := s.OpenText(ctx, incidentID, path, text)
		if errors.Is(err, ErrShredded) {
			shredded = true
			return Removed, nil
		}
		if err != nil {
			return nil, fmt.Errorf("sealed value at %s: %w", path, err)
		}
		return string(plain), nil
	})
	return opened, shredded, err
}

// HasPlaintext reports whether data has a personal string that is neither
// sealed nor Removed: one written before sealing was switched on.
func HasPlaintext(data []byte) (bool, error) {
	found := false
	_, err := mapFields(context.Background(), data, func(_ string, v any) (any, error) {
		if t := v.(string); !IsSealedText(t) && t != Removed {
			found = true
		}
		return v, nil
	})
	return found, err
}

// RemoveFields returns data with every sealed value read as Removed,
// without any key: what a reader that must not see personal data (or a
// shredded incident) is given.
func RemoveFields(data []byte) ([]byte, error) {
	return mapFields(context.Background(), data, func(_ string, v any) (any, error) {
		if text, ok := v.(string); ok && IsSealedText(text) {
			return Removed, nil
		}
		return v, nil
	})
}

// MapPersonal returns data with every non-empty string under a personal
// key replaced by fn's answer, for readers without a sealer: RemoveFields,
// or an event that arrives after its incident was shredded.
func MapPersonal(data []byte, fn func(path string) string) ([]byte, error) {
	return mapFields(context.Background(), data, func(path string, _ any) (any, error) { return fn(path), nil })
}

// mapFields applies fn to the value of each personal key in data. Numbers
// are decoded exactly (json.Number), so that clear values keep their form.
func mapFields(ctx context.Context, data []byte, fn func(path string, v any) (any, error)) ([]byte, error) {
	if len(bytes.TrimSpace(data)) == 0 {
		return data, nil
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var root any
	if err := dec.Decode(&root); err != nil {
		return nil, fmt.Errorf("reading event data: %w", err)
	}
	out, err := walk(ctx, "", root, false, fn)
	if err != nil {
		return nil, err
	}
	return json.Marshal(out)
}

func walk(ctx context.Context, path string, v any, personal bool, fn func(string, any) (any, error)) (any, error) {
	switch t := v.(type) {
	case map[string]any:
		for k, child := range t {
			if ClearKeys[k] && !personal {
				continue
			}
			var err error
			if t[k], err = walk(ctx, path+"/"+k, child, personal || PersonalKeys[k], fn); err != nil {
				return nil, err
			}
		}
	case []any:
		for i, child := range t {
			var err error
			if t[i], err = walk(ctx, path+"/"+strconv.Itoa(i), child, personal, fn); err != nil {
				return nil, err
			}
		}
	case string:
		if personal && t != "" {
			return fn(path, t)
		}
	}
	return v, nil
}
