package domain

import (
	"encoding/json"
	"reflect"
	"slices"
	"testing"
)

// sampleEvents returns one filled value of every event type.
func sampleEvents(t testing.TB) []Event {
	reg := registered(t, uni, firm)
	lic := licensed(t, "L1", LicenseOpen, sme, "2024-03-01", "2027-02-28")
	review := ReviewRecorded{Number: reg.Number, Campaign: "2024", ReviewerID: uni, ReviewedOn: day("2024-06-30"),
		Grade: GradeHigh, Disposition: DispositionOpenLicense, Notes: "有企业意向", Feedback: []Feedback{{OrgID: sme, Interest: InterestMedium}}}
	return []Event{
		OrgRegistered{OrgID: uni, Name: "华南理工大学", Kind: OrgUniversity, RegionCode: "440106", CreditCode: "12440000455416125X", SME: false},
		OrgKeyIssued{OrgID: uni, KeyID: "k1", KeyHash: HashKeySecret("s")},
		OrgKeyRevoked{OrgID: uni, KeyID: "k1"},
		CreditCodeClaimed{CreditCode: "12440000455416125X", OrgID: uni},
		reg,
		statusOn(t, StatusLapsed, "2024-03-01"),
		PatentSuspensionChanged{Number: reg.Number, Suspended: true, EffectiveOn: day("2024-03-01"), Reason: "权属纠纷"},
		AnnualFeeStatusChanged{Number: reg.Number, Overdue: true, EffectiveOn: day("2024-03-01")},
		declared(t, "D1", "2024-01-01"),
		withdrawn(t, "D1", "2024-06-01"),
		lic,
		LicenseRecorded{Number: reg.Number, LicenseID: "L1", RecordNo: "2024440000123", RecordedOn: day("2024-04-01"), DueBy: day("2024-05-31")},
		RoyaltyPaid{Number: reg.Number, LicenseID: "L1", PaidOn: day("2024-04-01"), AmountFen: 12_345, Period: "2024Q1"},
		PatentTransferred{Number: reg.Number, TransferID: "T1", FromIDs: []string{uni}, ToIDs: []string{firm}, EffectiveOn: day("2024-05-01"), PriceFen: 1},
		pledged(t, "P1", "2024-02-01", true),
		PledgeConsented{Number: reg.Number, PledgeID: "P1", ConsentedOn: day("2024-02-02")},
		PledgeReleased{Number: reg.Number, PledgeID: "P1", ReleasedOn: day("2024-09-01"), Reason: ReleaseWaived},
		review,
		ReviewCorrected(review),
		ImportStarted{ImportID: "0b6f7c57-3f7e-5d0e-9c1a-2f4b8e6d1a90", FileSHA256: "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
			Claimant: "5d2c1e0a-8f3b-4c6d-9e7f-1a2b3c4d5e6f"},
		ImportFailed{ImportID: "0b6f7c57-3f7e-5d0e-9c1a-2f4b8e6d1a90", Reason: "context canceled"},
		ImportCompleted{ImportID: "0b6f7c57-3f7e-5d0e-9c1a-2f4b8e6d1a90", Report: ImportReport{Rows: 3, Imported: 1, Unchanged: 1,
			RejectedRows: 1, Rejected: []ImportRejection{{Row: 4, Field: ColIPC, Column: "IPC分类号", Code: "invalid_argument", Message: "不是 IPC 分类号"}},
			Warnings: []ImportWarning{{Row: 2, Message: "fee above guidance"}}, Position: 42}},
	}
}

func TestEveryEventTypeRoundTrips(t *testing.T) {
	samples := sampleEvents(t)
	var seen []string
	for _, e := range samples {
		typ, data, err := DefaultCodec.Encode(e)
		if err != nil {
			t.Fatal(err)
		}
		got, err := DefaultCodec.Decode(typ, data)
		if err != nil {
			t.Fatalf("%s: %v", typ, err)
		}
		if !reflect.DeepEqual(got, e) {
			t.Fatalf("%s round trip:\n got %#v\nwant %#v", typ, got, e)
		}
		if SchemaVersion(typ) != 1 {
			t.Errorf("%s: schema version %d", typ, SchemaVersion(typ))
		}
		seen = append(seen, typ)
	}
	all := EventTypes()
	slices.Sort(all)
	slices.Sort(seen)
	if !slices.Equal(all, seen) {
		t.Fatalf("samples cover %v, types are %v", seen, all)
	}
}

func TestDecodeRejectsUnknownTypesAndBadPayloads(t *testing.T) {
	if _, err := DefaultCodec.Decode("patent.teleported.v1", []byte(`{}`)); err == nil {
		t.Fatal("an unknown type decoded")
	}
	if _, err := DefaultCodec.Decode(TypeLicenseGranted, []byte(`{"type":"perpetual"}`)); err == nil {
		t.Fatal("an unknown licence type decoded")
	}
	if _, err := DefaultCodec.Decode(TypeDeclarationFiled, []byte(`{"declared_on":"2024-02-30"}`)); err == nil {
		t.Fatal("an impossible date decoded")
	}
}

// TestUpcasting shows the hook at work: version 0 of the royalty event
// carried the amount in yuan as "amount_yuan"; the upcaster turns it into
// version 1 with fen.
func TestUpcasting(t *testing.T) {
	codec := NewCodec(map[string]Upcaster{
		"patent.royalty_paid.v0": func(data []byte) (string, []byte, error) {
			var old map[string]any
			if err := json.Unmarshal(data, &old); err != nil {
				return "", nil, err
			}
			old["amount_fen"] = int64(old["amount_yuan"].(float64) * 100)
			delete(old, "amount_yuan")
			out, err := json.Marshal(old)
			return TypeRoyaltyPaid, out, err
		},
	})
	got, err := codec.Decode("patent.royalty_paid.v0", []byte(`{"license_id":"L1","paid_on":"2024-04-01","amount_yuan":123}`))
	if err != nil {
		t.Fatal(err)
	}
	want := RoyaltyPaid{LicenseID: "L1", PaidOn: day("2024-04-01"), AmountFen: 12_300}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("upcast %#v, want %#v", got, want)
	}
	if _, err := DefaultCodec.Decode("patent.royalty_paid.v0", []byte(`{}`)); err == nil {
		t.Fatal("the default codec has no v0 upcaster and must refuse")
	}
	loop := NewCodec(map[string]Upcaster{"x.v0": func(d []byte) (string, []byte, error) { return "x.v0", d, nil }})
	if _, err := loop.Decode("x.v0", nil); err == nil {
		t.Fatal("an upcasting cycle must end in an error")
	}
}

// FuzzDecodeEvent throws arbitrary payloads at every event type: decoding
// never panics, and what decodes re-encodes to a canonical form that
// survives another round unchanged.
func FuzzDecodeEvent(f *testing.F) {
	types := EventTypes()
	slices.Sort(types)
	for i, e := range sampleEvents(f) {
		_, data, _ := DefaultCodec.Encode(e)
		f.Add(uint8(i), data)
	}
	f.Add(uint8(0), []byte(`{"declared_on":"2024-13-01"}`))
	f.Add(uint8(3), []byte(`{"ipc":["H01M"],"number":"ZL1"}`))
	f.Add(uint8(9), []byte(`null`))
	f.Fuzz(func(t *testing.T, which uint8, data []byte) {
		typ := types[int(which)%len(types)]
		e, err := DefaultCodec.Decode(typ, data)
		if err != nil {
			return
		}
		typ2, data2, err := DefaultCodec.Encode(e)
		if err != nil || typ2 != typ {
			t.Fatalf("re-encode %s: %v", typ, err)
		}
		e2, err := DefaultCodec.Decode(typ2, data2)
		if err != nil {
			t.Fatalf("re-decode %s: %v", typ, err)
		}
		if _, data3, _ := DefaultCodec.Encode(e2); string(data3) != string(data2) {
			t.Fatalf("%s is not stable:\n%s\n%s", typ, data2, data3)
		}
		applyAnywhere(e)
	})
}

// applyAnywhere folds e into empty and populated aggregates: no event,
// however odd, may panic an aggregate.
func applyAnywhere(e Event) {
	(&Patent{}).Apply(e)
	(&Org{}).Apply(e)
}

// FuzzUnmarshalJSONString checks that the fast path for plain strings
// decodes every input exactly as encoding/json does, and fails where it
// fails.
func FuzzUnmarshalJSONString(f *testing.F) {
	for _, seed := range []string{`"2024-01-31"`, `"sole"`, `""`, `"a\"b"`, `"\u0041"`, `"专利"`, `"tab	"`, `12`, `null`, `"unterminated`, `"\x7f"`} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		got, err := unmarshalJSONString(b)
		var want string
		wantErr := json.Unmarshal(b, &want)
		if (err == nil) != (wantErr == nil) || got != want {
			t.Fatalf("unmarshalJSONString(%q) = %q, %v; encoding/json gives %q, %v", b, got, err, want, wantErr)
		}
		if inner, ok := plainJSONString(b); ok && string(inner) != want {
			t.Fatalf("plainJSONString(%q) = %q, want %q", b, inner, want)
		}
	})
}

// BenchmarkDecodeEvents decodes one stored payload of every event type per
// iteration, as a replay of the log does for each event it reads.
func BenchmarkDecodeEvents(b *testing.B) {
	type stored struct {
		typ  string
		data []byte
	}
	var payloads []stored
	for _, e := range sampleEvents(b) {
		typ, data, err := DefaultCodec.Encode(e)
		if err != nil {
			b.Fatal(err)
		}
		payloads = append(payloads, stored{typ, data})
	}
	b.ReportAllocs()
	for b.Loop() {
		for _, p := range payloads {
			if _, err := DefaultCodec.Decode(p.typ, p.data); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(payloads)), "ns/event")
}
