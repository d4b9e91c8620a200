package domain

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
)

// commandHashes are the fingerprints of a command that a repeat under the
// same idempotency key must match: current, recorded with the command's
// events, and the legacy form recorded before 2026-11-29 (see
// legacyFieldsJSON), which a repeat of a command recorded then still
// matches. The legacy form is computed only when a recorded hash is not
// the current one: every command hashes, few are repeats.
type commandHashes struct {
	current      string
	kind, target string
	fields       any
}

// legacy returns the hash in the form recorded before 2026-11-29.
func (h commandHashes) legacy() string {
	return hashFields(h.kind, h.target, legacyFieldsJSON(h.fields))
}

// matches reports whether recorded, the hash an earlier command under the
// same key recorded, is this command's.
func (h commandHashes) matches(recorded string) bool {
	return recorded == h.current || recorded == h.legacy()
}

// commandHash fingerprints a command's kind, target and fields. The
// current form hashes the fields' canonical JSON (canonicalFields), in
// which a field left at its zero value is absent: a field added to a
// command in a later version, which a repeat of a command recorded before
// leaves at zero, does not change the hash, so the repeat still answers
// the first result.
func commandHash(kind, target string, fields any) commandHashes {
	return commandHashes{current: hashFields(kind, target, canonicalFields(fields)), kind: kind, target: target, fields: fields}
}

func hashFields(kind, target string, data []byte) string {
	sum := sha256.Sum256([]byte(kind + "\x00" + target + "\x00" + string(data)))
	return hex.EncodeToString(sum[:])
}

// legacyFieldsJSON is what the hash covered before 2026-11-29: the
// fields' JSON as encoding/json writes it, every field present, so that a
// field added later (as co_owner_consent, "null" when absent) changed the
// hash of the same request.
func legacyFieldsJSON(fields any) []byte {
	data, err := json.Marshal(fields)
	if err != nil {
		data = []byte(fmt.Sprintf("%#v", fields))
	}
	return data
}

// canonicalFields returns the JSON of v with every struct field at its
// zero value left out, as the option omitzero would: an absent slice,
// string, number, false or zero date, and a nil pointer; a pointer to a
// zero value (a status set to false) stays. Values with a JSON encoding of
// their own (dates, enums), maps and []byte are written as encoding/json
// writes them; a struct's fields keep their order and JSON names.
func canonicalFields(v any) []byte {
	var b bytes.Buffer
	if err := writeCanonical(&b, reflect.ValueOf(v)); err != nil {
		return []byte(fmt.Sprintf("%#v", v))
	}
	return b.Bytes()
}

var jsonMarshaler = reflect.TypeFor[json.Marshaler]()

func writeCanonical(b *bytes.Buffer, v reflect.Value) error {
	switch {
	case !v.IsValid():
		b.WriteString("null")
		return nil
	case v.Type().Implements(jsonMarshaler) || reflect.PointerTo(v.Type()).Implements(jsonMarshaler):
		return writeJSON(b, v)
	}
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if v.IsNil() {
			b.WriteString("null")
			return nil
		}
		return writeCanonical(b, v.Elem())
	case reflect.Struct:
		return writeStruct(b, v)
	case reflect.Slice, reflect.Array:
		if v.Kind() == reflect.Slice && v.Type().Elem().Kind() == reflect.Uint8 {
			return writeJSON(b, v) // base64, as encoding/json writes []byte
		}
		b.WriteByte('[')
		for i := range v.Len() {
			if i > 0 {
				b.WriteByte(',')
			}
			if err := writeCanonical(b, v.Index(i)); err != nil {
				return err
			}
		}
		b.WriteByte(']')
		return nil
	}
	return writeJSON(b, v)
}

// writeStruct writes the exported fields of the struct v that are not at
// their zero value, under their JSON names, as one object; the fields of
// an embedded struct without a JSON name are written among its own, as
// encoding/json does.
func writeStruct(b *bytes.Buffer, v reflect.Value) error {
	b.WriteByte('{')
	first := true
	var fields func(v reflect.Value) error
	fields = func(v reflect.Value) error {
		for i := range v.NumField() {
			f, fv := v.Type().Field(i), v.Field(i)
			name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			switch {
			case name == "-" || !f.IsExported() && !f.Anonymous:
				continue
			case f.Anonymous && name == "" && fv.Kind() == reflect.Struct:
				if err := fields(fv); err != nil {
					return err
				}
				continue
			case fv.IsZero():
				continue
			case name == "":
				name = f.Name
			}
			if !first {
				b.WriteByte(',')
			}
			first = false
			if err := writeJSON(b, reflect.ValueOf(name)); err != nil {
				return err
			}
			b.WriteByte(':')
			if err := writeCanonical(b, fv); err != nil {
				return err
			}
		}
		return nil
	}
	if err := fields(v); err != nil {
		return err
	}
	b.WriteByte('}')
	return nil
}

// writeJSON writes v as encoding/json writes it.
func writeJSON(b *bytes.Buffer, v reflect.Value) error {
	data, err := json.Marshal(v.Interface())
	if err != nil {
		return err
	}
	b.Write(data)
	return nil
}
