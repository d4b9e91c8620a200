package api

import (
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"mime"
	"net"
	"net/http"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/labstack/echo/v4"

	"github.com/patentledger/ledger/domain"
)

// decodeBody reads the request's JSON object into v, a pointer to a struct
// with json tags. Every problem becomes one invalid_argument error naming
// the fields: malformed JSON, an unknown field, a field given twice, a
// missing required field (as the route's request body in the OpenAPI
// document lists them), a value of the wrong type or format (dates, enums),
// in the body, its nested objects and the items of its lists. An empty
// body decodes as {}. A Content-Type other than JSON in UTF-8 answers 415.
func decodeBody(c echo.Context, v any) error {
	req := c.Request()
	if ct := req.Header.Get(echo.HeaderContentType); ct != "" {
		mt, params, err := mime.ParseMediaType(ct)
		charset := params["charset"]
		if err != nil || (mt != "application/json" && !strings.HasSuffix(mt, "+json")) || charset != "" && !strings.EqualFold(charset, "utf-8") {
			return echo.NewHTTPError(http.StatusUnsupportedMediaType, "send the body as application/json in UTF-8")
		}
	}
	data, err := io.ReadAll(req.Body)
	if err != nil {
		return bodyReadError(err)
	}
	if len(strings.TrimSpace(string(data))) == 0 {
		data = []byte("{}")
	}
	var fe domain.FieldErrors
	if !validText(data) {
		fe.Addf(invalidTextField(data, ""), notUTF8)
		return fe.Err()
	}
	if depth := jsonDepth(data); depth > maxBodyDepth {
		fe.Addf("body", "nests objects and lists %d deep; a write body nests them at most %d deep", depth, maxBodyDepth)
		return fe.Err()
	}
	if json.Valid(data) {
		for _, path := range duplicateKeys(data) {
			fe.Addf(cmp.Or(path, "body"), "is given more than once; give it once")
		}
	}
	schema := bodySchemas()[req.Method+" "+c.Path()]
	decodeObject(&fe, data, reflect.ValueOf(v).Elem(), "", schema)
	return fe.Err()
}

// bodyReadError is the answer to a request whose body could not be read
// or parsed: 413 when it is over the size limit, 400 naming the body
// otherwise.
func bodyReadError(err error) error {
	var tooLarge *http.MaxBytesError
	var he *echo.HTTPError
	if errors.As(err, &tooLarge) || errors.As(err, &he) && he.Code == http.StatusRequestEntityTooLarge {
		return echo.NewHTTPError(http.StatusRequestEntityTooLarge)
	}
	return domain.Invalid("body", "could not be read: %s; send it again", readFailure(err))
}

// readFailure says why a request body could not be read, without the
// addresses of the server's socket that a *net.OpError names.
func readFailure(err error) string {
	var ne net.Error
	var op *net.OpError
	switch {
	case errors.As(err, &ne) && ne.Timeout():
		return "it stopped arriving, and the server waits a limited time for each part of a request"
	case errors.As(err, &op) && op.Err != nil:
		return op.Err.Error()
	}
	return err.Error()
}

// decodeObject decodes a JSON object field by field into the struct rv so
// that each error is reported under its field's name (prefix + name); a
// field schema requires and the object lacks is reported as required.
func decodeObject(fe *domain.FieldErrors, data []byte, rv reflect.Value, prefix string, schema *bodySchema) {
	var raw map[string]json.RawMessage
	object := cmp.Or(strings.TrimSuffix(prefix, "."), "body")
	if err := json.Unmarshal(data, &raw); err != nil || raw == nil {
		fe.Addf(object, "must be a JSON object%s", syntaxDetail(err))
		return
	}
	fields := jsonFields(rv.Type())
	for _, key := range slices.Sorted(maps.Keys(raw)) { // in name order, so that the errors come in the same order every time
		msg := raw[key]
		idx, ok := fields[key]
		switch {
		case key == "":
			fe.Addf(object, "has a field with an empty name")
			continue
		case !ok:
			fe.Addf(prefix+domain.Shorten(key), "unknown field")
			continue
		}
		decodeValue(fe, msg, rv.Field(idx), prefix+key, schema.child(key))
	}
	for _, name := range schema.missing(raw) {
		fe.Addf(prefix+name, "is required")
	}
}

// decodeValue decodes the JSON value msg into fv, reporting each error
// under its path from name: a plain struct field by field, a list item by
// item ("feedback[1].interest"), with schema the struct's or the items'.
func decodeValue(fe *domain.FieldErrors, msg json.RawMessage, fv reflect.Value, name string, schema *bodySchema) {
	switch {
	case isPlainStruct(fv.Type()):
		decodeObject(fe, msg, fv, name+".", schema)
	case fv.Kind() == reflect.Slice && string(bytes.TrimSpace(msg)) != "null":
		decodeList(fe, msg, fv, name, schema)
	default:
		if err := json.Unmarshal(msg, fv.Addr().Interface()); err != nil {
			fe.Add(name, describeJSONError(err))
		}
	}
}

// decodeList decodes the JSON list msg into the slice fv item by item, so
// that an item's error names it ("ipc[2]") and the items of a list of
// objects are checked as objects are: unknown and required fields.
func decodeList(fe *domain.FieldErrors, msg json.RawMessage, fv reflect.Value, name string, items *bodySchema) {
	var raw []json.RawMessage
	if err := json.Unmarshal(msg, &raw); err != nil {
		fe.Add(name, describeJSONError(err))
		return
	}
	list := reflect.MakeSlice(fv.Type(), len(raw), len(raw))
	for i, item := range raw {
		if fe.Full() {
			return // a list of a million bad items: the first ones say it
		}
		decodeValue(fe, item, list.Index(i), fmt.Sprintf("%s[%d]", name, i), items)
	}
	fv.Set(list)
}

// notUTF8 is the message for text that is not valid UTF-8.
const notUTF8 = "is not valid UTF-8 text (invalid bytes or a lone surrogate escape like \\ud800)"

// validText reports whether the JSON text data is valid UTF-8 and its
// string escapes name no lone UTF-16 surrogate; encoding/json would
// silently turn either into U+FFFD.
func validText(data []byte) bool {
	if !utf8.Valid(data) {
		return false
	}
	inString, pendingHigh := false, false
	for i := 0; i < len(data); i++ {
		switch b := data[i]; {
		case !inString:
			inString = b == '"'
		case b == '"':
			inString = false
		case b == '\\' && i+1 < len(data) && data[i+1] == 'u':
			r := hexRune(data[i+2 : min(i+6, len(data))])
			if pendingHigh != (r >= 0xDC00 && r <= 0xDFFF) {
				return false
			}
			pendingHigh = r >= 0xD800 && r <= 0xDBFF
			i += 5
			continue
		case b == '\\':
			i++ // an escaped character: never a quote that ends the string
		}
		if pendingHigh {
			return false
		}
	}
	return !pendingHigh
}

// invalidTextField names the field of the JSON value data (at path, "" at
// the top) whose value holds the text validText refuses, looking into
// nested objects and lists ("feedback[1].org_id"); the object itself
// ("body" at the top) when it is in a key.
func invalidTextField(data []byte, path string) string {
	var obj map[string]json.RawMessage
	var list []json.RawMessage
	switch {
	case json.Unmarshal(data, &obj) == nil:
		for _, key := range slices.Sorted(maps.Keys(obj)) {
			if !validText(obj[key]) {
				return invalidTextField(obj[key], joinPath(path, key))
			}
		}
	case json.Unmarshal(data, &list) == nil:
		for i, item := range list {
			if !validText(item) {
				return invalidTextField(item, fmt.Sprintf("%s[%d]", path, i))
			}
		}
	}
	if path == "" {
		return "body"
	}
	return path
}

// joinPath returns the path of the field key of the object at path ("" at
// the top of the body); the object's own for an empty key, which would
// name nothing a client could find.
func joinPath(path, key string) string {
	switch {
	case key == "":
		return path
	case path == "":
		return key
	}
	return path + "." + key
}

// duplicateKeys returns, once each, the path of every key that the JSON
// text data, which must be valid, gives twice in one object ("fee.mode"),
// in the order they come; encoding/json would silently keep the last.
func duplicateKeys(data []byte) []string {
	var out []string
	var at []pathStep
	_ = walkDuplicateKeys(json.NewDecoder(bytes.NewReader(data)), &at, &out)
	return out
}

// pathStep is one step of the path to a value in a JSON body: a field of
// an object, or an item of a list.
type pathStep struct {
	key   string
	index int // of a list item; -1 for a field
}

// pathOf writes the steps as a field path ("feedback[1].interest"), as
// joinPath builds it.
func pathOf(steps []pathStep) string {
	path := ""
	for _, st := range steps {
		if st.index >= 0 {
			path += fmt.Sprintf("[%d]", st.index)
		} else {
			path = joinPath(path, st.key)
		}
	}
	return path
}

// walkDuplicateKeys reads the next JSON value of dec, at the path of the
// steps in at, adding the paths of the keys its objects repeat to out. A
// path is written out only for a key repeated, so that a deep body costs
// no more than its size.
func walkDuplicateKeys(dec *json.Decoder, at *[]pathStep, out *[]string) error {
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	switch tok {
	case json.Delim('{'):
		seen := map[string]int{}
		for dec.More() {
			tok, err := dec.Token()
			if err != nil {
				return err
			}
			key, _ := tok.(string)
			*at = append(*at, pathStep{key: key, index: -1})
			if n := seen[key]; n == 1 {
				*out = append(*out, pathOf(*at))
			}
			seen[key]++
			err = walkDuplicateKeys(dec, at, out)
			*at = (*at)[:len(*at)-1]
			if err != nil {
				return err
			}
		}
	case json.Delim('['):
		for i := 0; dec.More(); i++ {
			*at = append(*at, pathStep{index: i})
			err := walkDuplicateKeys(dec, at, out)
			*at = (*at)[:len(*at)-1]
			if err != nil {
				return err
			}
		}
	default:
		return nil
	}
	_, err = dec.Token() // the closing delimiter
	return err
}

// maxBodyDepth is how deep a write body may nest objects and lists: the
// deepest schema nests three (a review's feedback items), and a body built
// thousands deep only costs the server time and memory to refuse.
const maxBodyDepth = 32

// jsonDepth returns how deep data nests objects and lists, reading it
// once without decoding it (brackets inside strings do not count).
func jsonDepth(data []byte) int {
	depth, deepest, inString, escaped := 0, 0, false, false
	for _, b := range data {
		switch {
		case escaped:
			escaped = false
		case inString:
			escaped, inString = b == '\\', b != '"'
		case b == '"':
			inString = true
		case b == '{' || b == '[':
			depth++
			deepest = max(deepest, depth)
		case b == '}' || b == ']':
			depth--
		}
	}
	return deepest
}

// hexRune parses the four hex digits of a \u escape; -1 when they are not.
func hexRune(h []byte) rune {
	if len(h) != 4 {
		return -1
	}
	n, err := strconv.ParseUint(string(h), 16, 16)
	if err != nil {
		return -1
	}
	return rune(n)
}

// jsonFields maps the JSON names of a struct's fields to their indexes.
func jsonFields(t reflect.Type) map[string]int {
	out := map[string]int{}
	for i := range t.NumField() {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "-" || !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		out[name] = i
	}
	return out
}

var unmarshalerType = reflect.TypeFor[json.Unmarshaler]()

// isPlainStruct reports whether t is a struct decoded field by field, not
// one with its own JSON decoding (like domain.Date).
func isPlainStruct(t reflect.Type) bool {
	return t.Kind() == reflect.Struct && !reflect.PointerTo(t).Implements(unmarshalerType)
}

// describeJSONError turns a decoding error into a message for the client.
func describeJSONError(err error) error {
	var te *json.UnmarshalTypeError
	var de *domain.Error
	switch {
	case errors.As(err, &de):
		return de
	case errors.As(err, &te):
		return fmt.Errorf("want %s, got JSON %s", kindName(te.Type), te.Value)
	}
	return fmt.Errorf("invalid value%s", syntaxDetail(err))
}

func kindName(t reflect.Type) string {
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Slice, reflect.Array:
		return "a list"
	case reflect.Struct, reflect.Map:
		return "an object"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return "an integer"
	}
	return "a number"
}

func syntaxDetail(err error) string {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return fmt.Sprintf(" (malformed JSON at byte %d)", se.Offset)
	}
	return ""
}

// writeJSONBody encodes v as the response body without HTML escaping, so
// Chinese text and symbols stay readable.
func writeJSONBody(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}

// writeJSON answers status with v as JSON. The body is encoded before the
// status is sent, so that a value that cannot be encoded (a damaged
// stored payload) answers a 500 problem rather than a 200 with an empty
// body.
func writeJSON(c echo.Context, status int, v any) error {
	var body bytes.Buffer
	if err := writeJSONBody(&body, v); err != nil {
		return err
	}
	return c.Blob(status, echo.MIMEApplicationJSON, body.Bytes())
}
