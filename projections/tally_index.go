package projections

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"math/bits"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/patentledger/ledger/domain"
)

// tallyIndex mirrors in memory the facts every tally and the rankings
// read: the licences by effective date with their recordals, the fees and
// royalties by payment date, the declarations with their dates and first
// open licence, the pledges, the transfers, the reviews, and the
// organisations and patents their filters look at. A tally over years of deals is then a
// scan of arrays instead of a scan of SQLite rows.
//
// The tables stay the record. The index answers a query only while it
// mirrors exactly the tallies checkpoint that the query's read sees; when
// it is not loaded, or another process changed the file under it, the
// query runs in SQL. It changes only when a write transaction of the
// tallies projection commits (DB.Update calls committed), with the events
// that transaction applied, and DB.WarmUp loads it from the tables.
type tallyIndex struct {
	mirror[*tallyFacts]
}

// tallyFacts are the facts of the deals tally at one tallies checkpoint.
type tallyFacts struct {
	position   int64            // the tallies checkpoint mirrored
	orgIDs     map[string]int32 // organisation ID → index in orgs
	orgs       []orgFacts
	patentIDs  map[string]int32 // patent number → index in patents
	patents    []patentFacts
	licenceIDs map[string]int32 // licence ID → index in deals
	deals      []dealFact       // loaded by effective date, then in order of arrival
	// licensorOf holds, by deal, its one licensor, or noLicensor or
	// severalLicensors: 4 bytes a deal that the deals by region and the
	// rankings read, in day order, instead of each deal's record from all
	// over memory.
	licensorOf  []int32
	payments    []dealPayment    // in order of arrival
	declIDs     map[string]int32 // declaration ID → index in decls
	decls       []declFact
	transfers   []transferFact      // in order of arrival
	transferIDs map[string]int32    // transfer ID → index in transfers
	reviews     []reviewFact        // the latest review of each patent and campaign
	reviewKeys  map[[2]string]int32 // (patent number, campaign) → index in reviews
	pledges     []pledgeFact        // in order of arrival
	pledgeIDs   map[string]int32    // pledge ID → index in pledges
	// statusChanges and transfersOf hold, for the few patents that have
	// them, their register status changes and the indexes of their
	// transfers. Transfers are in the order they were recorded; status
	// changes effective on the same day too (the load reads them by day).
	statusChanges map[int32][]statusChange
	// inactive holds, by patent, the spells a patent with status changes
	// is not active (see inactiveSpells), kept with the changes; hasInactive
	// has a bit for each such patent, which a scan of the declarations
	// tests without leaving the processor's cache.
	inactive    [][]dayRange
	hasInactive []uint64
	transfersOf map[int32][]int32
	// dealsByDay and paymentsByDay hold the first deals and payments
	// sorted by day, as columns that a tally scans from memory in order;
	// the later ones (the tail) are sorted when a tally reads them, until
	// there are enough to sort everything again (see sortIfDue).
	dealsByDay    dealColumns
	paymentsByDay paymentColumns
	// codes holds the compact IPC codes of the patents, each with its
	// patents, and codesInOrder the indexes of the first of them sorted in
	// byte order: an IPC filter finds its codes by a binary search instead
	// of testing every patent's codes (the later codes, few, are tested one
	// by one until sortIfDue sorts them all).
	codeIDs      map[string]int32 // compact IPC code → index in codes
	codes        []ipcCode
	codesInOrder []int32
	// ofKind has, by patent kind, a bit per registered patent of that kind.
	ofKind map[domain.PatentKind][]uint64
}

// ipcCode is a compact IPC code and the patents classified under it.
type ipcCode struct {
	code    string
	patents []int32
}

// orgFacts are the attributes of an organisation the filters read; known
// is false for an ID seen in a licence but never registered.
type orgFacts struct {
	id, name, region string
	kind             domain.OrgKind
	sme, known       bool
}

// patentFacts are the attributes of a patent the filters and the review
// coverage read; known is false for a number seen in a licence but never
// registered; changed is whether it has status changes or transfers.
type patentFacts struct {
	kind             domain.PatentKind
	codes            []int32 // indexes of its compact IPC codes in tallyFacts.codes
	owners           []int32 // the registered patentees
	granted, expires int32
	known, changed   bool
}

// statusChange is a register status change of a patent, effective on day.
type statusChange struct {
	day    int32
	active bool
}

// dealFact is one licence, and its recordal when recorded; instalments
// is whether it is paid by instalments (tly_licenses.instalments).
type dealFact struct {
	day, licensee, patent int32
	licensor              int32 // the first of licensors, held here too for the filters
	typ                   domain.LicenseType
	licensors             []int32
	recorded, instalments bool
	recordedOn, dueBy     int32
}

// declFact is one declaration: its patent and declaring patentees, the
// day it was declared, the first day it is no longer in effect (stop), the
// effective day of its withdrawal, if any, and of its first open licence,
// if any; instalments is whether its fee mode is instalment.
type declFact struct {
	patent                           int32
	patentee                         int32 // the first of patentees, held here too for the filters
	patentees                        []int32
	declared, stop, withdrawal       int32
	firstLicence                     int32
	withdrawn, licensed, instalments bool
}

// dealPayment is a fee or royalty paid under the licence deals[deal]; kind
// is the index of its kind in paymentKinds.
type dealPayment struct {
	day, deal int32
	amountFen int64
	kind      uint8
}

// dealColumns are deals sorted by day: deals[deal[i]] is effective on
// day[i], with licensee[i] and patent[i].
type dealColumns struct{ day, licensee, patent, deal []int32 }

// paymentColumns are payments sorted by day: amountFen[i] of kind[i] paid
// on day[i] under deals[deal[i]].
type paymentColumns struct {
	day, deal []int32
	amountFen []int64
	kind      []uint8
}

// epoch is day number 0.
var epoch = domain.NewDate(1970, 1, 1)

// dayNumber returns the number of days from 1970-01-01 to d.
func dayNumber(d domain.Date) int32 { return int32(d.DaysSince(epoch)) }

// dayDate is the date of a day number.
func dayDate(day int32) domain.Date { return epoch.AddDays(int(day)) }

// newTallyFacts returns empty facts at a tallies checkpoint.
func newTallyFacts(position int64) *tallyFacts {
	return &tallyFacts{position: position, orgIDs: map[string]int32{}, patentIDs: map[string]int32{},
		licenceIDs: map[string]int32{}, declIDs: map[string]int32{}, transferIDs: map[string]int32{},
		pledgeIDs: map[string]int32{}, reviewKeys: map[[2]string]int32{}, statusChanges: map[int32][]statusChange{},
		transfersOf: map[int32][]int32{}, codeIDs: map[string]int32{}, ofKind: map[domain.PatentKind][]uint64{}}
}

// checkpoint implements mirrored.
func (f *tallyFacts) checkpoint() int64 { return f.position }

// advance implements mirrored.
func (f *tallyFacts) advance(events []domain.Event, to int64) {
	for _, ev := range events {
		f.apply(ev)
	}
	f.position = to
	f.sortIfDue()
}

// apply mirrors one event the way Tallies.Apply writes it into the tables.
func (f *tallyFacts) apply(ev domain.Event) {
	switch v := ev.(type) {
	case domain.OrgRegistered:
		f.org(v.OrgID, v.Name, string(v.Kind), string(v.RegionCode), v.SME)
	case domain.ReviewRecorded:
		f.review(string(v.Number), v.Campaign, v.ReviewerID, dayNumber(v.ReviewedOn), string(v.Grade), string(v.Disposition))
	case domain.ReviewCorrected:
		f.apply(domain.ReviewRecorded(v)) // a correction replaces the campaign's review
	case domain.PatentTransferred:
		i := f.transfer(v.TransferID, string(v.Number), dayNumber(v.EffectiveOn), int64(v.PriceFen))
		for _, o := range v.FromIDs {
			f.transferParty(i, "from", o)
		}
		for _, o := range v.ToIDs {
			f.transferParty(i, "to", o)
		}
	case domain.PatentRegistered:
		f.patent(string(v.Number), string(v.Kind), dayNumber(v.GrantedOn), dayNumber(v.ExpiresOn))
		for _, c := range v.IPC {
			f.ipc(string(v.Number), compactIPC(c))
		}
		for _, o := range v.PatenteeIDs {
			f.patentOwner(string(v.Number), o)
		}
	case domain.PatentStatusChanged:
		f.statusChange(string(v.Number), dayNumber(v.EffectiveOn), v.Status)
	case domain.LicenseGranted:
		decl, ok := f.declIDs[v.DeclarationID]
		instalments := ok && v.Type == domain.LicenseOpen && f.decls[decl].instalments
		deal := f.licence(v.LicenseID, string(v.Number), string(v.Type), v.LicenseeID, dayNumber(v.EffectiveOn), instalments)
		for _, o := range v.LicensorIDs {
			f.licensor(deal, o)
		}
		if v.FeePaidFen != 0 {
			f.pay(deal, dayNumber(v.EffectiveOn), int64(v.FeePaidFen), paymentKind(instalments, paidLumpSum))
		}
		if v.Type == domain.LicenseOpen && v.DeclarationID != "" {
			f.openLicence(v.DeclarationID, dayNumber(v.EffectiveOn))
		}
	case domain.LicenseRecorded:
		f.recordal(v.LicenseID, dayNumber(v.RecordedOn), dayNumber(v.DueBy))
	case domain.RoyaltyPaid:
		if deal, ok := f.licenceIDs[v.LicenseID]; ok {
			f.pay(deal, dayNumber(v.PaidOn), int64(v.AmountFen), paymentKind(f.deals[deal].instalments, paidRoyalty))
		}
	case domain.DeclarationFiled:
		i := f.declaration(v.DeclarationID, string(v.Number), dayNumber(v.DeclaredOn), dayNumber(v.TermEndsOn.AddDays(1)),
			v.Fee.Mode == domain.FeeInstalment)
		for _, o := range v.PatenteeIDs {
			f.declarant(i, o)
		}
	case domain.DeclarationWithdrawn:
		if i, ok := f.declIDs[v.DeclarationID]; ok {
			f.withdraw(i, dayNumber(v.EffectiveOn))
		}
	case domain.PledgeRegistered:
		i := f.pledge(v.PledgeID, v.PledgorID, dayNumber(v.RegisteredOn), int64(v.SecuredAmountFen))
		f.pledgePatent(i, string(v.Number))
	case domain.PledgeReleased:
		f.releasePledge(v.PledgeID, dayNumber(v.ReleasedOn))
	}
}

// orgIndex returns the index of an organisation, adding it unknown.
func (f *tallyFacts) orgIndex(id string) int32 {
	if i, ok := f.orgIDs[id]; ok {
		return i
	}
	i := intern(f.orgIDs, &f.orgs, id)
	f.orgs[i].id = id
	return i
}

// patentIndex returns the index of a patent, adding it unknown.
func (f *tallyFacts) patentIndex(number string) int32 { return intern(f.patentIDs, &f.patents, number) }

// intern returns the index of key in ids, first appending a zero item for
// a new key and giving it that item's index.
func intern[T any](ids map[string]int32, items *[]T, key string) int32 {
	i, ok := ids[key]
	if !ok {
		i = int32(len(*items))
		ids[key] = i
		*items = append(*items, *new(T))
	}
	return i
}

func (f *tallyFacts) org(id, name, kind, region string, sme bool) {
	f.orgs[f.orgIndex(id)] = orgFacts{id: id, name: name, kind: domain.OrgKind(kind), region: region, sme: sme, known: true}
}

func (f *tallyFacts) patent(number, kind string, granted, expires int32) {
	i := f.patentIndex(number)
	p := &f.patents[i]
	p.kind, p.granted, p.expires, p.known = domain.PatentKind(kind), granted, expires, true
	f.ofKind[p.kind] = withBit(f.ofKind[p.kind], i)
}

// withBit returns bits with bit i set, grown to hold it.
func withBit(bits []uint64, i int32) []uint64 {
	if w := int(i >> 6); w >= len(bits) {
		bits = append(bits, make([]uint64, w+1-len(bits))...)
	}
	bits[i>>6] |= 1 << (i & 63)
	return bits
}

// patentOwner adds a registered patentee to a patent once, as the
// owners of tly_patents hold it.
func (f *tallyFacts) patentOwner(number, org string) {
	o, p := f.orgIndex(org), &f.patents[f.patentIndex(number)]
	if !slices.Contains(p.owners, o) {
		p.owners = append(p.owners, o)
	}
}

// statusChange records a register status change of a patent.
func (f *tallyFacts) statusChange(number string, day int32, status domain.PatentStatus) {
	i := f.patentIndex(number)
	f.statusChanges[i] = append(f.statusChanges[i], statusChange{day: day, active: status == domain.StatusActive})
	if int(i) >= len(f.inactive) {
		f.inactive = slices.Grow(f.inactive, int(i)+1-len(f.inactive))[:i+1]
		f.hasInactive = slices.Grow(f.hasInactive, int(i>>6)+1-len(f.hasInactive))[:i>>6+1]
	}
	f.inactive[i] = inactiveSpells(f.statusChanges[i])
	f.hasInactive[i>>6] |= 1 << (i & 63)
	f.patents[i].changed = true
}

// ipc adds a compact code to a patent once, as the table's primary key
// does.
func (f *tallyFacts) ipc(number, code string) {
	patent, c := f.patentIndex(number), intern(f.codeIDs, &f.codes, code)
	p := &f.patents[patent]
	if slices.Contains(p.codes, c) {
		return
	}
	p.codes = append(p.codes, c)
	f.codes[c].code = code
	f.codes[c].patents = append(f.codes[c].patents, patent)
}

// licence adds a licence without licensors and returns its index.
func (f *tallyFacts) licence(id, number, typ, licensee string, day int32, instalments bool) int32 {
	i := int32(len(f.deals))
	f.deals = append(f.deals, dealFact{day: day, licensee: f.orgIndex(licensee), patent: f.patentIndex(number),
		typ: domain.LicenseType(typ), instalments: instalments})
	f.licenceIDs[id] = i
	f.licensorOf = append(f.licensorOf, noLicensor)
	return i
}

// The licensorOf a deal that has no licensor, or more than one (read its
// licensors).
const (
	noLicensor       = -1
	severalLicensors = -2
)

// licensorsOf returns the licensors of a deal, reading its record only
// when it has several: one licensor is a slice of licensorOf.
func (f *tallyFacts) licensorsOf(deal int32) []int32 {
	switch f.licensorOf[deal] {
	case noLicensor:
		return nil
	case severalLicensors:
		return f.deals[deal].licensors
	}
	return f.licensorOf[deal : deal+1]
}

// licensor adds a licensor to a licence once.
func (f *tallyFacts) licensor(deal int32, org string) {
	o := f.orgIndex(org)
	if d := &f.deals[deal]; !slices.Contains(d.licensors, o) {
		d.licensors = append(d.licensors, o)
		d.licensor = d.licensors[0]
		f.licensorOf[deal] = d.licensor
		if len(d.licensors) > 1 {
			f.licensorOf[deal] = severalLicensors
		}
	}
}

// declaration adds a declaration without patentees and returns its index.
func (f *tallyFacts) declaration(id, number string, declared, stop int32, instalments bool) int32 {
	i := int32(len(f.decls))
	f.decls = append(f.decls, declFact{patent: f.patentIndex(number), declared: declared, stop: stop, instalments: instalments})
	f.declIDs[id] = i
	return i
}

// declarant adds a declaring patentee to a declaration once.
func (f *tallyFacts) declarant(decl int32, org string) {
	o := f.orgIndex(org)
	if d := &f.decls[decl]; !slices.Contains(d.patentees, o) {
		d.patentees = append(d.patentees, o)
		d.patentee = d.patentees[0]
	}
}

// withdraw records the withdrawal of a declaration, effective on day: it
// stops then, if its term has not ended before.
func (f *tallyFacts) withdraw(decl, day int32) {
	d := &f.decls[decl]
	d.withdrawn, d.withdrawal, d.stop = true, day, min(d.stop, day)
}

// recordal records (again) the recordal of a licence, as INSERT OR
// REPLACE into tly_recordals does; the tallies join it to a licence, so
// one of an unknown licence is not kept.
func (f *tallyFacts) recordal(licence string, on, dueBy int32) {
	if i, ok := f.licenceIDs[licence]; ok {
		d := &f.deals[i]
		d.recorded, d.recordedOn, d.dueBy = true, on, dueBy
	}
}

// openLicence records an open licence under a declaration effective on
// day: the declaration's first licence is the earliest, as
// tly_first_licences keeps it; the tallies join it to a declaration, so
// one of an unknown declaration is not kept.
func (f *tallyFacts) openLicence(decl string, day int32) {
	if i, ok := f.declIDs[decl]; ok {
		d := &f.decls[i]
		if !d.licensed || day < d.firstLicence {
			d.licensed, d.firstLicence = true, day
		}
	}
}

func (f *tallyFacts) pay(deal, day int32, amountFen int64, kind uint8) {
	f.payments = append(f.payments, dealPayment{day: day, deal: deal, amountFen: amountFen, kind: kind})
}

// paymentKind returns the index in paymentKinds of an instalment when
// instalments, else of kind.
func paymentKind(instalments bool, kind string) uint8 {
	if instalments {
		kind = paidInstalment
	}
	return uint8(slices.Index(paymentKinds, kind))
}

// sortIfDue sorts every deal and payment by day again once the unsorted
// tails hold more than 1/64 of them (and at least 1,024): a counting
// sort, linear in their number, that keeps the tails a tally sorts small.
// It sorts the IPC codes again on the same terms.
func (f *tallyFacts) sortIfDue() {
	due := func(tail, all int) bool { return tail > max(1024, all/64) }
	if due(len(f.codes)-len(f.codesInOrder), len(f.codes)) {
		f.sortCodes()
	}
	if due(len(f.deals)-len(f.dealsByDay.day), len(f.deals)) || due(len(f.payments)-len(f.paymentsByDay.day), len(f.payments)) {
		f.sortByDay()
	}
}

// sortAll sorts every deal and payment by day into the columns, and the
// IPC codes.
func (f *tallyFacts) sortAll() {
	f.sortByDay()
	f.sortCodes()
}

// sortCodes sorts every IPC code in byte order into codesInOrder.
func (f *tallyFacts) sortCodes() {
	order := make([]int32, len(f.codes))
	for i := range order {
		order[i] = int32(i)
	}
	slices.SortFunc(order, func(a, b int32) int { return strings.Compare(f.codes[a].code, f.codes[b].code) })
	f.codesInOrder = order
}

// sortByDay sorts every deal and payment by day into the columns.
func (f *tallyFacts) sortByDay() {
	order := orderBy(len(f.deals), func(i int) int32 { return f.deals[i].day })
	d := dealColumns{day: make([]int32, len(order)), licensee: make([]int32, len(order)), patent: make([]int32, len(order)), deal: order}
	for k, i := range order {
		deal := &f.deals[i]
		d.day[k], d.licensee[k], d.patent[k] = deal.day, deal.licensee, deal.patent
	}
	order = orderBy(len(f.payments), func(i int) int32 { return f.payments[i].day })
	p := paymentColumns{day: make([]int32, len(order)), deal: make([]int32, len(order)), amountFen: make([]int64, len(order)),
		kind: make([]uint8, len(order))}
	for k, i := range order {
		pay := &f.payments[i]
		p.day[k], p.deal[k], p.amountFen[k], p.kind[k] = pay.day, pay.deal, pay.amountFen, pay.kind
	}
	f.dealsByDay, f.paymentsByDay = d, p
}

// orderBy returns the indexes 0…n-1 sorted by key (a day, a patent),
// stably, by counting.
func orderBy(n int, keyOf func(i int) int32) []int32 {
	if n == 0 {
		return nil
	}
	lo, hi := keyOf(0), keyOf(0)
	for i := range n {
		lo, hi = min(lo, keyOf(i)), max(hi, keyOf(i))
	}
	starts := make([]int32, hi-lo+2)
	for i := range n {
		starts[keyOf(i)-lo+1]++
	}
	for d := 1; d < len(starts); d++ {
		starts[d] += starts[d-1]
	}
	order := make([]int32, n)
	for i := range n {
		d := keyOf(i) - lo
		order[starts[d]] = int32(i)
		starts[d]++
	}
	return order
}

// tailIn returns the indexes from first on whose day lies in from…to,
// sorted by day.
func tailIn(first, n int, dayOf func(i int) int32, from, to int32) []int32 {
	var out []int32
	for i := first; i < n; i++ {
		if d := dayOf(i); d >= from && d <= to {
			out = append(out, int32(i))
		}
	}
	slices.SortStableFunc(out, func(a, b int32) int { return int(dayOf(int(a)) - dayOf(int(b))) })
	return out
}

// loadTallyFacts reads the facts from the tables, in one read transaction.
func loadTallyFacts(ctx context.Context, tx *sql.Tx) (*tallyFacts, error) {
	position, err := readCheckpoint(ctx, tx, TalliesName)
	if err != nil {
		return nil, err
	}
	f := newTallyFacts(position)
	steps := []struct {
		query string
		row   func(c []string) error
	}{
		{"SELECT id, name, kind, region, sme FROM tly_orgs", func(c []string) error { f.org(c[0], c[1], c[2], c[3], c[4] == "1"); return nil }},
		{"SELECT number, kind, granted_on, expires_on, owners FROM tly_patents", func(c []string) error {
			days, err := parseDays(c[2], c[3])
			if err != nil {
				return err
			}
			f.patent(c[0], c[1], days[0], days[1])
			var owners []string
			err = json.Unmarshal([]byte(c[4]), &owners)
			for _, o := range owners {
				f.patentOwner(c[0], o)
			}
			return err
		}},
		{"SELECT number, effective_on, status FROM tly_patent_status ORDER BY number, effective_on, seq", func(c []string) error {
			days, err := parseDays(c[1])
			if err == nil {
				f.statusChange(c[0], days[0], domain.PatentStatus(c[2]))
			}
			return err
		}},
		{"SELECT number, code FROM tly_patent_ipc", func(c []string) error { f.ipc(c[0], c[1]); return nil }},
		// By effective date, from the covering index: a tally then reads
		// the deals in memory order, which keeps them in the processor's
		// cache (in key order they take three times as long).
		{"SELECT license_id, number, type, licensee_id, effective_on, instalments FROM tly_licenses ORDER BY effective_on", func(c []string) error {
			days, err := parseDays(c[4])
			if err == nil {
				f.licence(c[0], c[1], c[2], c[3], days[0], c[5] == "1")
			}
			return err
		}},
		{"SELECT license_id, org_id FROM tly_license_orgs", func(c []string) error {
			deal, err := f.licenceIndex(c[0])
			if err == nil {
				f.licensor(deal, c[1])
			}
			return err
		}},
		{"SELECT declaration_id, number, declared_on, stop_on, coalesce(withdrawn_on, ''), fee_mode FROM tly_declarations", func(c []string) error {
			days, err := parseDays(c[2], c[3])
			if err != nil {
				return err
			}
			i := f.declaration(c[0], c[1], days[0], days[1], c[5] == string(domain.FeeInstalment))
			if c[4] == "" {
				return nil
			}
			withdrawal, err := parseDays(c[4])
			if err == nil {
				d := &f.decls[i]
				d.withdrawn, d.withdrawal = true, withdrawal[0]
			}
			return err
		}},
		{"SELECT declaration_id, org_id FROM tly_declaration_orgs", func(c []string) error {
			i, ok := f.declIDs[c[0]]
			if !ok {
				return fmt.Errorf("declaration %s is not in tly_declarations", c[0])
			}
			f.declarant(i, c[1])
			return nil
		}},
		{"SELECT license_id, recorded_on, due_by FROM tly_recordals", func(c []string) error {
			days, err := parseDays(c[1], c[2])
			if err == nil {
				f.recordal(c[0], days[0], days[1])
			}
			return err
		}},
		{"SELECT declaration_id, first_on FROM tly_first_licences", func(c []string) error {
			days, err := parseDays(c[1])
			if err == nil {
				f.openLicence(c[0], days[0])
			}
			return err
		}},
		{"SELECT transfer_id, number, effective_on, price_fen FROM tly_transfers ORDER BY seq", func(c []string) error {
			days, err := parseDays(c[2])
			if err != nil {
				return err
			}
			price, err := strconv.ParseInt(c[3], 10, 64)
			f.transfer(c[0], c[1], days[0], price)
			return err
		}},
		{"SELECT transfer_id, role, org_id FROM tly_transfer_orgs", func(c []string) error {
			i, ok := f.transferIDs[c[0]]
			if !ok {
				return fmt.Errorf("transfer %s is not in tly_transfers", c[0])
			}
			f.transferParty(i, c[1], c[2])
			return nil
		}},
		{"SELECT number, campaign, reviewer_id, reviewed_on, grade, disposition FROM tly_reviews", func(c []string) error {
			days, err := parseDays(c[3])
			if err == nil {
				f.review(c[0], c[1], c[2], days[0], c[4], c[5])
			}
			return err
		}},
		{"SELECT pledge_id, pledgor_id, registered_on, secured_fen, coalesce(released_on, '') FROM tly_pledges", f.loadPledge},
		{"SELECT pledge_id, number FROM tly_pledge_patents", func(c []string) error {
			i, ok := f.pledgeIDs[c[0]]
			if !ok {
				return fmt.Errorf("pledge %s is not in tly_pledges", c[0])
			}
			f.pledgePatent(i, c[1])
			return nil
		}},
		{"SELECT license_id, paid_on, amount_fen, kind FROM tly_payments ORDER BY id", func(c []string) error {
			deal, err := f.licenceIndex(c[0])
			if err != nil {
				return err
			}
			days, err := parseDays(c[1])
			if err != nil {
				return err
			}
			amount, err := strconv.ParseInt(c[2], 10, 64)
			kind := slices.Index(paymentKinds, c[3])
			if err == nil && kind < 0 {
				err = fmt.Errorf("payment kind %q", c[3])
			}
			f.pay(deal, days[0], amount, uint8(kind))
			return err
		}},
	}
	for _, s := range steps {
		if err := scanStrings(ctx, tx, s.query, s.row); err != nil {
			return nil, fmt.Errorf("%s: %w", s.query, err)
		}
	}
	f.sortAll()
	return f, nil
}

// licenceIndex returns the index of a licence loaded before.
func (f *tallyFacts) licenceIndex(id string) (int32, error) {
	i, ok := f.licenceIDs[id]
	if !ok {
		return 0, fmt.Errorf("licence %s is not in tly_licenses", id)
	}
	return i, nil
}

// parseDays returns the day numbers of 'YYYY-MM-DD' dates.
func parseDays(dates ...string) ([]int32, error) {
	days := make([]int32, len(dates))
	for i, s := range dates {
		d, err := domain.ParseDate(s)
		if err != nil {
			return nil, err
		}
		days[i] = dayNumber(d)
	}
	return days, nil
}

// scanStrings calls row with the columns of every row of query (with its
// args), as text, until it returns an error.
func scanStrings(ctx context.Context, tx *sql.Tx, query string, row func(c []string) error, args ...any) error {
	rows, err := tx.QueryContext(ctx, query, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	names, err := rows.Columns()
	if err != nil {
		return err
	}
	cols, dest := make([]string, len(names)), make([]any, len(names))
	for i := range cols {
		dest[i] = &cols[i]
	}
	for rows.Next() {
		if err := rows.Scan(dest...); err != nil {
			return err
		}
		if err := row(cols); err != nil {
			return err
		}
	}
	return rows.Err()
}

// tallyComputers compute, from the facts, the tallies of the subjects the
// index holds.
var tallyComputers = map[string]func(f *tallyFacts, q TallyQuery, spans []span, t *Tally){
	Deals:              (*tallyFacts).dealsTally,
	Declarations:       (*tallyFacts).declarationsTally,
	Recordals:          (*tallyFacts).recordalsTally,
	MultiLicensee:      (*tallyFacts).multiLicenseeTally,
	FeeReductions:      (*tallyFacts).feeReductionsTally,
	TimeToFirstLicence: (*tallyFacts).timeToFirstLicenceTally,
	Fees:               (*tallyFacts).feesTally,
	Pledges:            (*tallyFacts).pledgesTally,
	Transfers:          (*tallyFacts).transfersTally,
	Reviews:            (*tallyFacts).reviewsTally,
}

// holds reports whether the index answers tallies of subject.
func (idx *tallyIndex) holds(subject string) bool { return tallyComputers[subject] != nil }

// answer computes a tally from memory into t (made by newTally) when the
// index holds its subject and mirrors the tallies checkpoint position; it
// reports whether it did.
func (idx *tallyIndex) answer(q TallyQuery, spans []span, position int64, t *Tally) bool {
	compute := tallyComputers[q.Subject]
	if compute == nil {
		return false
	}
	return idx.readAt(position, func(f *tallyFacts) { compute(f, q, spans, t) })
}

// declarationsTally computes a declarations tally into t. Like the SQL tally,
// it counts the declarations declared and withdrawn in each bucket, and
// those in effect on its last day: declared on or before it, not stopped
// by then, on a patent active that day.
func (f *tallyFacts) declarationsTally(q TallyQuery, spans []span, t *Tally) {
	match := f.declFilter(q)
	from, to := dayNumber(q.From), dayNumber(q.To)
	bucketOf := bucketsByDay(spans, from)
	// started[i] and stopped[i] count the declarations that start or stop
	// in bucket i, and paused[i] how many more of them a patent not active
	// stops than it lets start again (see holes); before counts those in
	// effect the day before the range.
	started, stopped, paused := make([]int64, len(spans)), make([]int64, len(spans)), make([]int64, len(spans))
	var before int64
	var inactive []dayRange // the holes of one declaration, reused
	for i := range f.decls {
		d := &f.decls[i]
		if match != nil && !match(d) {
			continue
		}
		switch {
		case d.declared < from:
			before++
		case d.declared <= to:
			started[bucketOf[d.declared-from]]++
		}
		switch {
		case d.stop < from:
			before--
		case d.stop <= to:
			stopped[bucketOf[d.stop-from]]++
		}
		if spells := f.inactiveOf(d.patent); spells != nil {
			inactive = holes(inactive[:0], dayRange{first: d.declared, last: d.stop - 1}, spells)
			for _, h := range inactive {
				pause(h, from, to, bucketOf, paused, &before)
			}
		}
		if d.withdrawn && d.withdrawal >= from && d.withdrawal <= to {
			t.Buckets[bucketOf[d.withdrawal-from]].Values[1]++
		}
	}
	inEffect := before
	for i := range spans {
		b := t.Buckets[i].Values
		inEffect += started[i] - stopped[i] - paused[i]
		b[0], b[2] = started[i], inEffect
		t.Total.Values[0] += b[0]
		t.Total.Values[1] += b[1]
	}
	t.Total.Values[2] = inEffect
}

// pause counts a hole h in a declaration's days in effect: one fewer in
// effect from its first day, one more again from the day after its last,
// in paused by bucket of from..to, or in before when earlier.
func pause(h dayRange, from, to int32, bucketOf []int32, paused []int64, before *int64) {
	for _, c := range []struct {
		day int32
		by  int64
	}{{h.first, 1}, {h.last + 1, -1}} {
		switch {
		case c.day < from:
			*before -= c.by
		case c.day <= to:
			paused[bucketOf[c.day-from]] += c.by
		}
	}
}

// inactiveOf returns the spells a patent is not active, nil for one
// that always is.
func (f *tallyFacts) inactiveOf(patent int32) []dayRange {
	if w := int(patent >> 6); w < len(f.hasInactive) && f.hasInactive[w]&(1<<(patent&63)) != 0 {
		return f.inactive[patent]
	}
	return nil
}

// dealsTally computes a deals tally into t. The buckets are split in two
// halves computed on two goroutines (a scan of years of deals takes
// milliseconds); the distinct licensees and patents of the total are the
// union of the halves'. A filter is applied first to every deal, in
// arrival order: the scans by day then test a bit per deal instead of
// reading deals all over memory.
func (f *tallyFacts) dealsTally(q TallyQuery, spans []span, t *Tally) {
	passing := f.passingDeals(q)
	mid := len(spans) / 2
	halves := []dealsScan{{f: f, passing: passing, from: dayNumber(q.From), spans: spans[:mid], buckets: t.Buckets[:mid]},
		{f: f, passing: passing, spans: spans[mid:], buckets: t.Buckets[mid:]}}
	if mid == 0 {
		halves = halves[1:]
		halves[0].from = dayNumber(q.From)
	} else {
		halves[1].from = dayNumber(spans[mid-1].last) + 1
	}
	var wg sync.WaitGroup
	for i := range halves {
		wg.Go(halves[i].run)
	}
	wg.Wait()
	licensees, patents := halves[0].licensees, halves[0].patents
	for _, h := range halves[1:] {
		licensees.union(h.licensees)
		patents.union(h.patents)
	}
	t.Total.Values[1], t.Total.Values[2] = licensees.inTotal, patents.inTotal
	for _, b := range t.Buckets {
		t.Total.Values[0] += b.Values[0]
		t.Total.Values[3] += b.Values[3]
	}
}

// dealsScan counts the deals, distinct licensees and patents, and fees of
// consecutive buckets (spans, from their first day from on) into buckets,
// and keeps the distinct licensees and patents it saw for the total.
type dealsScan struct {
	f                  *tallyFacts
	passing            []uint64 // a bit per deal that passes the filter; nil without one
	from               int32
	spans              []span
	buckets            []Bucket
	licensees, patents *distinct
	// licenseeBuf and patentBuf hold a bucket's deals that pass the filter.
	licenseeBuf, patentBuf []int32
}

func (s *dealsScan) run() {
	f := s.f
	s.licensees, s.patents = newDistinct(len(f.orgs)), newDistinct(len(f.patents))
	from, to := s.from, dayNumber(s.spans[len(s.spans)-1].last)
	dealDay := func(i int) int32 { return f.deals[i].day }
	payDay := func(i int) int32 { return f.payments[i].day }
	dealTail := tailIn(len(f.dealsByDay.day), len(f.deals), dealDay, from, to)
	payTail := tailIn(len(f.paymentsByDay.day), len(f.payments), payDay, from, to)
	d, p := f.dealsByDay, f.paymentsByDay
	k, j := lowerBound(d.day, from), lowerBound(p.day, from)
	for i, sp := range s.spans {
		b, last := s.buckets[i].Values, dayNumber(sp.last)
		// The bucket's deals are counted in one call per column, not one
		// per deal: every deal without a filter, else those passing it.
		end := k + lowerBound(d.day[k:], last+1)
		licensees, patents := d.licensee[k:end], d.patent[k:end]
		if s.passing != nil {
			licensees, patents = s.passingIn(k, end)
		}
		b[0] += int64(len(licensees))
		s.licensees.addAll(licensees)
		s.patents.addAll(patents)
		k = end
		for ; len(dealTail) > 0 && dealDay(int(dealTail[0])) <= last; dealTail = dealTail[1:] {
			if deal := &f.deals[dealTail[0]]; s.passes(dealTail[0]) {
				b[0]++
				s.licensees.add(deal.licensee)
				s.patents.add(deal.patent)
			}
		}
		for ; j < len(p.day) && p.day[j] <= last; j++ {
			if s.passes(p.deal[j]) {
				b[3] += p.amountFen[j]
			}
		}
		for ; len(payTail) > 0 && payDay(int(payTail[0])) <= last; payTail = payTail[1:] {
			if pay := &f.payments[payTail[0]]; s.passes(pay.deal) {
				b[3] += pay.amountFen
			}
		}
		b[1], b[2] = s.licensees.endBucket(), s.patents.endBucket()
	}
}

// passes reports whether the deal passes the filter.
func (s *dealsScan) passes(deal int32) bool {
	return s.passing == nil || s.passing[deal>>6]&(1<<(deal&63)) != 0
}

// passingIn returns the licensees and patents of the deals k…end-1 of
// dealsByDay that pass the filter, in buffers of s reused bucket after
// bucket.
func (s *dealsScan) passingIn(k, end int) (licensees, patents []int32) {
	d := s.f.dealsByDay
	licensees, patents = s.licenseeBuf[:0], s.patentBuf[:0]
	for ; k < end; k++ {
		if s.passes(d.deal[k]) {
			licensees, patents = append(licensees, d.licensee[k]), append(patents, d.patent[k])
		}
	}
	s.licenseeBuf, s.patentBuf = licensees, patents
	return licensees, patents
}

// passingDeals returns a bit per deal, set when it passes the query's
// filters (see bitsOf); nil when the query has none. A filter on the
// patent alone (an IPC subclass, a patent kind) is read from the patent
// column of dealsByDay, 4 bytes a deal, rather than from each deal's record.
func (f *tallyFacts) passingDeals(q TallyQuery) []uint64 {
	test := f.factTest(q)
	if test != nil && test.onPatentsOnly() && q.Type == "" && q.LicenseeID == "" && q.SME == nil {
		return f.dealsOfPatents(test.patents)
	}
	if match := f.dealFilter(q, test); match != nil {
		return bitsOf(len(f.deals), func(i int) bool { return match(&f.deals[i]) })
	}
	return nil
}

// dealsOfPatents returns a bit per deal, set when the bit of its patent is.
func (f *tallyFacts) dealsOfPatents(patents []uint64) []uint64 {
	bits := make([]uint64, (len(f.deals)+63)/64)
	mark := func(deal, patent int32) {
		if patents[patent>>6]&(1<<(patent&63)) != 0 {
			bits[deal>>6] |= 1 << (deal & 63)
		}
	}
	d := f.dealsByDay
	for k, deal := range d.deal {
		mark(deal, d.patent[k])
	}
	for deal := len(d.deal); deal < len(f.deals); deal++ {
		mark(int32(deal), f.deals[deal].patent)
	}
	return bits
}

// bitsOf returns a bit for each of n items, set when it passes test. The
// items are tested in order, half of them on each of two goroutines (each
// half whole words of bits).
func bitsOf(n int, test func(i int) bool) []uint64 {
	bits := make([]uint64, (n+63)/64)
	mid := min(len(bits)/2*64, n)
	var wg sync.WaitGroup
	for _, part := range [][2]int{{0, mid}, {mid, n}} {
		wg.Go(func() {
			for i := part[0]; i < part[1]; i++ {
				if test(i) {
					bits[i>>6] |= 1 << (i & 63)
				}
			}
		})
	}
	wg.Wait()
	return bits
}

// lowerBound returns the index of the first day at or after day.
func lowerBound(days []int32, day int32) int {
	i, _ := slices.BinarySearch(days, day)
	return i
}

// distinct counts the distinct items of each bucket, visited one bucket
// after another, and of all of them, in bit sets small enough to stay in
// the processor's cache.
type distinct struct {
	inBucketSet, inTotalSet []uint64
	touched                 []int32 // the words of inBucketSet that are not zero
	inBucket, inTotal       int64
}

func newDistinct(items int) *distinct {
	words := (items + 63) / 64
	return &distinct{inBucketSet: make([]uint64, words), inTotalSet: make([]uint64, words)}
}

// add counts item once in the bucket and once in the total.
func (d *distinct) add(item int32) { d.addAll([]int32{item}) }

// addAll counts each item once in the bucket and once in the total. It
// counts without branching on whether an item is new (the answer is as
// random as the items), which the processor would often guess wrong.
func (d *distinct) addAll(items []int32) {
	for _, item := range items {
		w, shift := item>>6, uint(item&63)
		word, total := d.inBucketSet[w], d.inTotalSet[w]
		if word == 0 {
			d.touched = append(d.touched, w)
		}
		d.inBucketSet[w], d.inTotalSet[w] = word|1<<shift, total|1<<shift
		d.inBucket += int64(word>>shift&1 ^ 1)
		d.inTotal += int64(total>>shift&1 ^ 1)
	}
}

// union adds the items other saw in total to d's total.
func (d *distinct) union(other *distinct) {
	d.inTotal = 0
	for w := range d.inTotalSet {
		d.inTotalSet[w] |= other.inTotalSet[w]
		d.inTotal += int64(bits.OnesCount64(d.inTotalSet[w]))
	}
}

// endBucket returns the number of distinct items of the bucket and starts
// the next one. A bucket that touched more than an eighth of the set's
// words (a month of deals) clears the whole set, in one sweep of memory;
// a sparse one (a day) clears just the words it touched.
func (d *distinct) endBucket() int64 {
	if len(d.touched) > len(d.inBucketSet)/8 {
		clear(d.inBucketSet)
	} else {
		for _, w := range d.touched {
			d.inBucketSet[w] = 0
		}
	}
	n := d.inBucket
	d.touched, d.inBucket = d.touched[:0], 0
	return n
}

// filter returns whether a deal passes the query's filters, with the
// meaning the SQL conditions of TallyQuery.filters give them (the deal's
// patentees are its licensors); nil when the query has none.
func (f *tallyFacts) filter(q TallyQuery) func(*dealFact) bool {
	return f.dealFilter(q, f.factTest(q))
}

// dealFilter is filter with the query's fact test worked out.
func (f *tallyFacts) dealFilter(q TallyQuery, test *factTest) func(*dealFact) bool {
	var conds []func(*dealFact) bool
	if q.Type != "" {
		conds = append(conds, func(d *dealFact) bool { return d.typ == q.Type })
	}
	if q.LicenseeID != "" {
		id, ok := f.orgIDs[q.LicenseeID]
		conds = append(conds, func(d *dealFact) bool { return ok && d.licensee == id })
	}
	if q.SME != nil {
		conds = append(conds, func(d *dealFact) bool { o := f.orgs[d.licensee]; return o.known && o.sme == *q.SME })
	}
	if test != nil {
		conds = append(conds, func(d *dealFact) bool { return test.passesFirst(d.patent, d.licensor, d.licensors) })
	}
	return allOf(conds)
}

// declFilter returns whether a declaration passes the query's filters (its
// patentees are the declaring ones); nil when the query has none.
func (f *tallyFacts) declFilter(q TallyQuery) func(*declFact) bool {
	test := f.factTest(q)
	if test == nil {
		return nil
	}
	return func(d *declFact) bool { return test.passesFirst(d.patent, d.patentee, d.patentees) }
}

// factFilter returns whether a fact about a patent, with patentees, passes
// the query's patentee, region, IPC and kind filters; nil when the query
// has none of them.
func (f *tallyFacts) factFilter(q TallyQuery) func(patent int32, patentees []int32) bool {
	if t := f.factTest(q); t != nil {
		return t.passes
	}
	return nil
}

// factTest is what the query's patentee, region, IPC and kind filters
// select, worked out once per query (a flag per organisation, a bit per
// patent), so that testing a fact reads no string.
type factTest struct {
	patentee int32    // anyOrg without a patentee filter; unknownOrg for an ID never seen
	inRegion []bool   // per organisation; nil without a region filter
	patents  []uint64 // a bit per patent passing the IPC and kind filters; nil without them
}

// The patentee of a factTest without a patentee filter, and for an
// organisation ID never seen (no fact passes).
const (
	anyOrg     int32 = -1
	unknownOrg int32 = -2
)

// factTest returns the query's fact test, or nil when the query has none of
// its filters.
func (f *tallyFacts) factTest(q TallyQuery) *factTest {
	if q.PatenteeID == "" && q.Region == "" && q.IPCPrefix == "" && q.Kind == "" {
		return nil
	}
	t := &factTest{patentee: anyOrg}
	if q.PatenteeID != "" {
		id, ok := f.orgIDs[q.PatenteeID]
		t.patentee = id
		if !ok {
			t.patentee = unknownOrg
		}
	}
	if q.Region != "" {
		t.inRegion = make([]bool, len(f.orgs))
		for i, o := range f.orgs {
			t.inRegion[i] = o.known && inPrefixRange(o.region, q.Region)
		}
	}
	if q.IPCPrefix != "" || q.Kind != "" {
		t.patents = f.patentsPassing(q)
	}
	return t
}

// onPatentsOnly reports whether the test looks at the patent alone: no
// patentee and no region is asked for.
func (t *factTest) onPatentsOnly() bool { return t.patentee == anyOrg && t.inRegion == nil }

// passes reports whether a fact about patent with patentees passes: the
// patent passes, one patentee is the patentee asked for and one (maybe
// another) lies in the region.
func (t *factTest) passes(patent int32, patentees []int32) bool {
	return t.patentPasses(patent) && (t.patentee == anyOrg || slices.Contains(patentees, t.patentee)) &&
		(t.inRegion == nil || slices.ContainsFunc(patentees, func(o int32) bool { return t.inRegion[o] }))
}

// passesFirst is passes for a fact that holds its first patentee beside
// its patentees: most facts have one, and their slice, stored elsewhere in
// memory, is then not read.
func (t *factTest) passesFirst(patent, first int32, patentees []int32) bool {
	if len(patentees) == 1 {
		return t.passesOne(patent, first)
	}
	return t.passes(patent, patentees)
}

// passesOne is passes for a fact with the single patentee org.
func (t *factTest) passesOne(patent, org int32) bool {
	return t.patentPasses(patent) && (t.patentee == anyOrg || t.patentee == org) && (t.inRegion == nil || t.inRegion[org])
}

// patentPasses reports whether the patent passes the IPC and kind filters.
func (t *factTest) patentPasses(patent int32) bool {
	return t.patents == nil || t.patents[patent>>6]&(1<<(patent&63)) != 0
}

// patentsPassing returns a bit per patent, set when it passes the query's
// IPC and kind filters: a code in the IPC prefix's range, and a known
// patent of the kind; the query has one of them at least. It reads the
// patents of the codes in the range and of the kind, not every patent.
func (f *tallyFacts) patentsPassing(q TallyQuery) []uint64 {
	if q.Kind == "" {
		return f.patentsCoded(prefixRange(compactIPC(q.IPCPrefix)))
	}
	bits := make([]uint64, (len(f.patents)+63)/64)
	copy(bits, f.ofKind[q.Kind])
	if q.IPCPrefix != "" {
		inRange := f.patentsCoded(prefixRange(compactIPC(q.IPCPrefix)))
		for w := range bits {
			bits[w] &= inRange[w]
		}
	}
	return bits
}

// patentsCoded returns a bit per patent, set when one of its codes lies in
// lo…hi (hi excluded), comparing bytes as SQLite's BINARY collation does.
func (f *tallyFacts) patentsCoded(lo, hi string) []uint64 {
	bits := make([]uint64, (len(f.patents)+63)/64)
	add := func(c int32) {
		for _, p := range f.codes[c].patents {
			bits[p>>6] |= 1 << (p & 63)
		}
	}
	sorted := f.codesInOrder
	first, _ := slices.BinarySearchFunc(sorted, lo, func(c int32, lo string) int { return strings.Compare(f.codes[c].code, lo) })
	for _, c := range sorted[first:] {
		if f.codes[c].code >= hi {
			break
		}
		add(c)
	}
	for c := len(sorted); c < len(f.codes); c++ {
		if code := f.codes[c].code; code >= lo && code < hi {
			add(int32(c))
		}
	}
	return bits
}

// allOf returns a test that passes when every condition does; nil for no
// conditions.
func allOf[T any](conds []func(T) bool) func(T) bool {
	if len(conds) == 0 {
		return nil
	}
	return func(x T) bool {
		for _, c := range conds {
			if !c(x) {
				return false
			}
		}
		return true
	}
}

// inPrefixRange reports whether s lies in prefixRange(prefix), comparing
// bytes as SQLite's BINARY collation does.
func inPrefixRange(s, prefix string) bool {
	lo, hi := prefixRange(prefix)
	return s >= lo && s < hi
}
