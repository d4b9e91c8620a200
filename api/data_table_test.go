package api

import (
	"reflect"
	"testing"
)

// tableAnswer is an answer shaped to reach every path of dataTable: a
// nested object, a list inside an item, a pointer that may be null, a
// fraction, and a total.
type tableAnswer struct {
	Period string       `json:"period"`
	Items  []tableItem  `json:"items"`
	Total  *tableTotals `json:"total,omitempty"`
}

type tableItem struct {
	Name    string      `json:"name"`
	FeesFen int64       `json:"fees_fen"`
	ByGrade tableGrades `json:"by_grade"`
	Codes   []string    `json:"codes"`
	Owners  []tableItem `json:"owners,omitempty"`
	SME     bool        `json:"sme"`
	Share   float64     `json:"share"`
	Region  *string     `json:"region"`
}

type tableGrades struct {
	High int `json:"high"`
	Low  int `json:"low"`
}

type tableTotals struct {
	Name    string `json:"name"`
	FeesFen int64  `json:"fees_fen"`
}

func TestDataTableFlattensEveryKindOfField(t *testing.T) {
	region := "440106"
	answer := tableAnswer{Period: "2025", Items: []tableItem{
		{Name: "甲大学", FeesFen: 123456789, ByGrade: tableGrades{High: 2, Low: 1}, Codes: []string{"H01M", "G06F"},
			Owners: []tableItem{{Name: "乙公司", Codes: []string{}}}, SME: true, Share: 0.25, Region: &region},
		{Name: "=cmd", FeesFen: 0, Codes: nil},
	}, Total: &tableTotals{Name: "total", FeesFen: 123456789}}

	got, err := dataTable(answer)
	if err != nil {
		t.Fatal(err)
	}
	want := [][]any{
		{"name", "fees_fen", "by_grade.high", "by_grade.low", "codes", "owners", "sme", "share", "region"},
		{"甲大学", int64(123456789), int64(2), int64(1), `["H01M","G06F"]`,
			`[{"name":"乙公司","fees_fen":0,"by_grade":{"high":0,"low":0},"codes":[],"sme":false,"share":0,"region":null}]`,
			true, "0.25", "440106"},
		{"=cmd", int64(0), int64(0), int64(0), "", "", false, int64(0), ""},
		{"total", int64(123456789), "", "", "", "", "", "", ""},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("dataTable:\n got %#v\nwant %#v", got, want)
	}
}

func TestDataTableOfAnEmptyListNamesItsColumns(t *testing.T) {
	got, err := dataTable([]tableItem{})
	if err != nil {
		t.Fatal(err)
	}
	want := [][]any{{"name", "fees_fen", "by_grade.high", "by_grade.low", "codes", "sme", "share", "region"}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("dataTable of an empty list:\n got %#v\nwant %#v", got, want)
	}
}

// coverageLikeAnswer is an answer with figures outside its list and its
// total, as the review coverage's universities, and text fields that echo
// the query.
type coverageLikeAnswer struct {
	Campaign     string        `json:"campaign"`
	Items        []tableTotals `json:"items"`
	Universities int           `json:"universities"`
	Total        tableTotals   `json:"total"`
	Complete     bool          `json:"complete"`
}

// TestDataTableHoldsTheAnswersOtherFigures: the figures of the answer
// outside its list and total (the review coverage's universities) are
// columns of the total row, so that the file holds every figure of the
// JSON answer; its text fields (the query's campaign, period, range…),
// which the file name names, are not.
func TestDataTableHoldsTheAnswersOtherFigures(t *testing.T) {
	got, err := dataTable(coverageLikeAnswer{Campaign: "2024", Items: []tableTotals{{Name: "甲", FeesFen: 2}, {Name: "乙", FeesFen: 3}},
		Universities: 7, Total: tableTotals{FeesFen: 5}, Complete: true})
	if err != nil {
		t.Fatal(err)
	}
	want := [][]any{
		{"name", "fees_fen", "universities", "complete"},
		{"甲", int64(2), "", ""},
		{"乙", int64(3), "", ""},
		{"", int64(5), int64(7), true},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("dataTable:\n got %#v\nwant %#v", got, want)
	}
	got, err = dataTable(coverageLikeAnswer{Campaign: "2024", Universities: 0})
	if err != nil {
		t.Fatal(err)
	}
	want = [][]any{{"name", "fees_fen", "universities", "complete"}, {"", int64(0), int64(0), false}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("dataTable of no items:\n got %#v\nwant %#v", got, want)
	}
}
