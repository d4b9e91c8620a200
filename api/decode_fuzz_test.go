package api

import (
	"errors"
	"maps"
	"net/http"
	"net/http/httptest"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"

	"github.com/patentledger/ledger/domain"
)

// FuzzDecodeBody decodes arbitrary bodies as each JSON write route does: it
// never panics; a refusal is invalid_argument naming each offending field
// (or 413/415); and a body it accepts is one JSON object (or blank) whose
// text is valid UTF-8 and whose objects give no key twice.
func FuzzDecodeBody(f *testing.F) {
	routes := slices.Sorted(maps.Keys(inputCommands))
	for i, body := range []string{
		`{"campaign":"2024","reviewed_on":"2024-06-30","grade":"high","disposition":"open_license","feedback":[{"org_id":"o1","interest":"high"}]}`,
		`{"fee":{"mode":"lump_sum","lump_sum_fen":100,"mode":"free"},"term_months":12,"declared_on":"2024-06-01"}`,
		`{"number":"ZL202010123456.2","ipc":["H01M 10/0562",7],"patentee_ids":[null]}`,
		`{"name":"中山\ud800大学","sme":true,"sme":false}`, `[{}]`, `{"a":1}x`, `{"fee_paid_fen":1.5,"amount_fen":9223372036854775808}`,
		"{\"reason\":\"a\xffb\"}", `{"feedback":[{"org_id":"o1","interest":"high","zz":1},null,7]}`, ``, `  `, `null`,
	} {
		f.Add(uint8(i), body)
	}
	e := echo.New()
	f.Fuzz(func(t *testing.T, route uint8, body string) {
		key := routes[int(route)%len(routes)]
		method, path, _ := strings.Cut(key, " ")
		req := httptest.NewRequest(method, "/", strings.NewReader(body))
		req.Header.Set(echo.HeaderContentType, echo.MIMEApplicationJSON)
		c := e.NewContext(req, httptest.NewRecorder())
		c.SetPath(path)
		cmd := reflect.New(reflect.TypeOf(inputCommands[key]))
		err := decodeBody(c, cmd.Interface())
		var de *domain.Error
		var he *echo.HTTPError
		switch {
		case err == nil:
			if strings.TrimSpace(body) != "" && (!validText([]byte(body)) || len(duplicateKeys([]byte(body))) > 0) {
				t.Fatalf("%s accepted %q", key, body)
			}
		case errors.As(err, &de):
			if de.Code != domain.CodeInvalidArgument || len(de.Fields) == 0 || slices.ContainsFunc(de.Fields, func(f domain.FieldError) bool { return f.Field == "" }) {
				t.Fatalf("%s refused %q as %v", key, body, de)
			}
		case errors.As(err, &he) && (he.Code == http.StatusRequestEntityTooLarge || he.Code == http.StatusUnsupportedMediaType):
		default:
			t.Fatalf("%s refused %q with %T %v", key, body, err, err)
		}
	})
}
