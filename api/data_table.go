package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"reflect"
	"slices"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/patentledger/ledger/domain"
)

// Download layouts: layout=data (the default) gives a program the JSON
// answer's own figures as a table; layout=report gives a person a titled,
// translated report with money in yuan.
const (
	layoutData   = "data"
	layoutReport = "report"
)

// downloadLayout parses the layout query parameter.
func downloadLayout(c echo.Context) (string, error) {
	switch l := c.QueryParam("layout"); l {
	case "", layoutData:
		return layoutData, nil
	case layoutReport:
		return layoutReport, nil
	}
	return "", domain.Invalid("layout", "want data or report")
}

// dataTable lays a JSON answer out as the rows of a data download: a
// header of the JSON field names (a nested field as "by_grade.high"), one
// row per item of the answer's list (the answer itself when it is a list,
// else its first list field: buckets, regions, items), then its total
// row: the total's fields when it has one, and the answer's other figures
// (its fields outside the list and the total but its text, such as the
// review coverage's universities) in columns of their own, empty on the
// other rows. Cells are the JSON values themselves: integers (money in
// fen) as int64, text as string, true/false as bool, null as "". So a
// data download holds exactly the figures of the JSON answer; the
// answer's text fields repeat the query (period, from, to, campaign,
// as_of, level), which the file name names.
func dataTable(figures any) ([][]any, error) {
	raw, err := json.Marshal(figures)
	if err != nil {
		return nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	root, err := readOrdered(dec)
	if err != nil {
		return nil, err
	}
	items, total := answerList(root)
	var t flatTable
	if len(items) == 0 {
		if err := t.headerFromZeroItem(figures); err != nil {
			return nil, err
		}
	}
	for _, item := range items {
		t.add(item)
	}
	if last := totalRow(root, total); last != nil {
		t.add(last)
	}
	return t.rows(), nil
}

// totalRow returns the fields of the total row of an answer: those of its
// total object, then its other figures, the fields of the answer outside
// its list and its total that are not text; nil when there are none.
func totalRow(root any, total *orderedObject) *orderedObject {
	row := &orderedObject{}
	if total != nil {
		row.keys, row.values = slices.Clone(total.keys), slices.Clone(total.values)
	}
	if obj, ok := root.(*orderedObject); ok {
		for i, k := range obj.keys {
			switch v := obj.values[i]; v.(type) {
			case json.Number, bool:
				row.keys, row.values = append(row.keys, k), append(row.values, v)
			case *orderedObject:
				if k != "total" {
					row.keys, row.values = append(row.keys, k), append(row.values, v)
				}
			}
		}
	}
	if total == nil && len(row.keys) == 0 {
		return nil
	}
	return row
}

// orderedObject is a JSON object with its fields in the order written.
type orderedObject struct {
	keys   []string
	values []any
}

// field returns the value of the named field and whether it is there.
func (o *orderedObject) field(name string) (any, bool) {
	for i, k := range o.keys {
		if k == name {
			return o.values[i], true
		}
	}
	return nil, false
}

// readOrdered reads one JSON value: an object as *orderedObject, an array
// as []any, a number as json.Number, and strings, booleans and null as
// encoding/json gives them.
func readOrdered(dec *json.Decoder) (any, error) {
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	delim, ok := tok.(json.Delim)
	if !ok {
		return tok, nil
	}
	switch delim {
	case '{':
		o := &orderedObject{}
		for dec.More() {
			key, err := dec.Token()
			if err != nil {
				return nil, err
			}
			v, err := readOrdered(dec)
			if err != nil {
				return nil, err
			}
			o.keys, o.values = append(o.keys, key.(string)), append(o.values, v)
		}
		_, err = dec.Token()
		return o, err
	case '[':
		list := []any{}
		for dec.More() {
			v, err := readOrdered(dec)
			if err != nil {
				return nil, err
			}
			list = append(list, v)
		}
		_, err = dec.Token()
		return list, err
	}
	return nil, errors.New("unexpected " + delim.String())
}

// answerList returns the objects of an answer's list and its total
// object, nil when it has none.
func answerList(root any) (items []*orderedObject, total *orderedObject) {
	list, isList := root.([]any)
	if obj, ok := root.(*orderedObject); ok {
		for _, v := range obj.values {
			if l, ok := v.([]any); ok {
				list, isList = l, true
				break
			}
		}
		if t, ok := obj.field("total"); ok {
			total, _ = t.(*orderedObject)
		}
	}
	if !isList {
		return nil, total
	}
	for _, v := range list {
		if o, ok := v.(*orderedObject); ok {
			items = append(items, o)
		}
	}
	return items, total
}

// flatTable collects flattened objects: their columns in the order first
// seen, and each row's cells by column.
type flatTable struct {
	columns []string
	index   map[string]int
	cells   []map[string]any
}

// add flattens an object into a row.
func (t *flatTable) add(o *orderedObject) {
	row := map[string]any{}
	t.flatten("", o, row)
	t.cells = append(t.cells, row)
}

// flatten puts the fields of o into row, nested objects' fields under
// "name.field", and notes new columns.
func (t *flatTable) flatten(prefix string, o *orderedObject, row map[string]any) {
	for i, k := range o.keys {
		name := prefix + k
		if nested, ok := o.values[i].(*orderedObject); ok {
			t.flatten(name+".", nested, row)
			continue
		}
		t.column(name)
		row[name] = dataCell(o.values[i])
	}
}

// column notes a column, once.
func (t *flatTable) column(name string) {
	if t.index == nil {
		t.index = map[string]int{}
	}
	if _, ok := t.index[name]; !ok {
		t.index[name] = len(t.columns)
		t.columns = append(t.columns, name)
	}
}

// headerFromZeroItem takes the columns of an empty list from the JSON of a
// zero item of the answer's list type, so that an empty download still
// names its columns.
func (t *flatTable) headerFromZeroItem(figures any) error {
	elem, ok := listElemType(reflect.TypeOf(figures))
	if !ok {
		return nil
	}
	raw, err := json.Marshal(reflect.New(elem).Elem().Interface())
	if err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	zero, err := readOrdered(dec)
	if err != nil {
		return err
	}
	if o, ok := zero.(*orderedObject); ok {
		t.flatten("", o, map[string]any{})
	}
	return nil
}

// listElemType returns the element type of typ when it is a slice, or of
// its first slice field when it is a struct.
func listElemType(typ reflect.Type) (reflect.Type, bool) {
	switch typ.Kind() {
	case reflect.Slice:
		return typ.Elem(), true
	case reflect.Struct:
		for i := range typ.NumField() {
			if f := typ.Field(i); f.IsExported() && f.Type.Kind() == reflect.Slice {
				return f.Type.Elem(), true
			}
		}
	}
	return nil, false
}

// rows returns the header and one row per object, "" where an object
// lacks a column.
func (t *flatTable) rows() [][]any {
	header := make([]any, len(t.columns))
	for i, c := range t.columns {
		header[i] = c
	}
	out := [][]any{header}
	for _, cells := range t.cells {
		row := make([]any, len(t.columns))
		for i, c := range t.columns {
			v, ok := cells[c]
			if !ok {
				v = ""
			}
			row[i] = v
		}
		out = append(out, row)
	}
	return out
}

// dataCell converts a JSON scalar to a download cell: an integer to int64,
// another number to its text, null to "".
func dataCell(v any) any {
	switch v := v.(type) {
	case json.Number:
		if n, err := strconv.ParseInt(string(v), 10, 64); err == nil {
			return n
		}
		return string(v)
	case nil:
		return ""
	case []any:
		raw, err := json.Marshal(v)
		if err != nil {
			return ""
		}
		return string(raw)
	}
	return v
}

// MarshalJSON writes the object with its fields in order, so that a list
// inside an item keeps its JSON text in its cell.
func (o *orderedObject) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, k := range o.keys {
		if i > 0 {
			b.WriteByte(',')
		}
		key, err := json.Marshal(k)
		if err != nil {
			return nil, err
		}
		value, err := json.Marshal(o.values[i])
		if err != nil {
			return nil, err
		}
		b.Write(key)
		b.WriteByte(':')
		b.Write(value)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}
