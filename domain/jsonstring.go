package domain

import "encoding/json"

// unmarshalJSONString decodes the JSON string b as json.Unmarshal does, and
// skips encoding/json for the common case of a string of printable ASCII
// with no escapes: every date and enum of a stored event is one, and a
// replay of the log decodes millions of them.
func unmarshalJSONString(b []byte) (string, error) {
	if inner, ok := plainJSONString(b); ok {
		return string(inner), nil
	}
	var s string
	err := json.Unmarshal(b, &s)
	return s, err
}

// plainJSONString returns the contents of b when b is a JSON string of
// printable ASCII characters other than a backslash, which decodes to
// exactly those bytes.
func plainJSONString(b []byte) ([]byte, bool) {
	if len(b) < 2 || b[0] != '"' || b[len(b)-1] != '"' {
		return nil, false
	}
	inner := b[1 : len(b)-1]
	for _, c := range inner {
		if c < ' ' || c > '~' || c == '"' || c == '\\' {
			return nil, false
		}
	}
	return inner, true
}
