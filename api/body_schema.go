package api

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
)

// bodySchema is what decodeBody checks of a JSON request body beyond its
// Go type: the fields that must be present (and not null or blank), and
// the schemas of nested objects, and of the objects a list holds, by field
// name.
type bodySchema struct {
	required []string
	nested   map[string]*bodySchema
}

// bodySchemas returns the JSON request-body schema of each operation of the
// OpenAPI document, by method and path as echo writes them ("POST
// /v1/patents/:number/licenses"). The document's required lists are the
// one source of which fields a write needs.
var bodySchemas = sync.OnceValue(func() map[string]*bodySchema { return mustBodySchemas(openAPIDocument) })

// oasSchema is the part of an OpenAPI schema object bodySchemas reads.
type oasSchema struct {
	Ref        string                `json:"$ref"`
	AllOf      []oasSchema           `json:"allOf"`
	Required   []string              `json:"required"`
	Properties map[string]*oasSchema `json:"properties"`
	Items      *oasSchema            `json:"items"`
}

// mustBodySchemas reads the JSON request bodies of every operation of an
// OpenAPI document, resolving references to its components; it panics on
// a document it cannot read, which the tests would catch.
func mustBodySchemas(doc []byte) map[string]*bodySchema {
	var d struct {
		Paths map[string]map[string]struct {
			RequestBody struct {
				Content map[string]struct {
					Schema *oasSchema `json:"schema"`
				} `json:"content"`
			} `json:"requestBody"`
		} `json:"paths"`
		Components struct {
			Schemas map[string]*oasSchema `json:"schemas"`
		} `json:"components"`
	}
	if err := json.Unmarshal(doc, &d); err != nil {
		panic(fmt.Sprintf("the OpenAPI document: %v", err))
	}
	resolve := func(s *oasSchema) *oasSchema {
		for s != nil && (s.Ref != "" || len(s.AllOf) == 1 && s.Properties == nil) {
			if s.Ref == "" {
				s = &s.AllOf[0]
				continue
			}
			s = d.Components.Schemas[strings.TrimPrefix(s.Ref, "#/components/schemas/")]
		}
		return s
	}
	out := map[string]*bodySchema{}
	for path, item := range d.Paths {
		for method, op := range item {
			if media, ok := op.RequestBody.Content["application/json"]; ok {
				out[routeKey(method, path)] = newBodySchema(media.Schema, resolve)
			}
		}
	}
	return out
}

// newBodySchema builds the bodySchema of an object schema, nested objects
// included, or of the objects a list schema holds; nil when s is neither.
func newBodySchema(s *oasSchema, resolve func(*oasSchema) *oasSchema) *bodySchema {
	s = resolve(s)
	if s != nil && s.Items != nil {
		return newBodySchema(s.Items, resolve)
	}
	if s == nil || s.Properties == nil {
		return nil
	}
	b := &bodySchema{required: s.Required, nested: map[string]*bodySchema{}}
	for name, p := range s.Properties {
		if n := newBodySchema(p, resolve); n != nil {
			b.nested[name] = n
		}
	}
	return b
}

// child returns the schema of the nested object under name, or of the
// objects of the list under name; nil when there is none.
func (b *bodySchema) child(name string) *bodySchema {
	if b == nil {
		return nil
	}
	return b.nested[name]
}

// missing returns the required fields of b that raw lacks, holds as null,
// or holds as a blank string, in the document's order.
func (b *bodySchema) missing(raw map[string]json.RawMessage) []string {
	if b == nil {
		return nil
	}
	var out []string
	for _, name := range b.required {
		v, ok := raw[name]
		var s string
		if !ok || string(bytes.TrimSpace(v)) == "null" || json.Unmarshal(v, &s) == nil && strings.TrimSpace(s) == "" {
			out = append(out, name)
		}
	}
	return out
}
