package main

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	mrand "math/rand/v2"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/patentledger/ledger/domain"
)

// The demo data set: a realistic picture of open licensing in Guangzhou,
// loaded through the command service (never by writing events directly), so
// that every fact passes the rules of DOMAIN.md. The plan is generated from
// a fixed seed: two loads write the same facts (IDs, key secrets and the
// interleaving of different patents' facts in the global log aside).

// demoSeed seeds the demo's random source.
const demoSeed uint64 = 20240520

// demoWorkers is how many patent groups are loaded concurrently: the groups
// touch disjoint streams, and concurrent appends share the store's commits.
const demoWorkers = 4

// Dates bounding the demo's story, which runs from 2023 to 2025.
var (
	demoEnd      = domain.NewDate(2025, 12, 31)
	demoLastDecl = domain.NewDate(2025, 11, 30)
)

// errDemoNotEmpty is returned when the ledger already holds events.
var errDemoNotEmpty = errors.New("the ledger is not empty; the demo loads only into an empty ledger")

// demoKey is an API key the demo issued, with an example request.
type demoKey struct {
	Role    string // university, sme, bank or regulator
	OrgID   string
	OrgName string
	Key     string // lk_<org id>_<key id>_<secret>
	Example string // a curl command using the key
}

// demoKeys are the keys the demo issued, one per role.
type demoKeys struct {
	University, SME, Bank, Regulator demoKey
}

// All returns the keys in role order.
func (k demoKeys) All() []demoKey { return []demoKey{k.University, k.SME, k.Bank, k.Regulator} }

// loadDemo loads the demo data set into an empty ledger through svc and
// prints a summary, the keys and an example curl command per role to out.
// baseURL is where the server will listen (e.g. "http://127.0.0.1:8080"),
// used only in the examples. It refuses with an error wrapping
// errDemoNotEmpty when the store already holds events, and stops at the
// first command that fails, naming it.
func loadDemo(ctx context.Context, svc *domain.Service, baseURL string, out io.Writer) (demoKeys, error) {
	return loadDemoSeeded(ctx, svc, demoSeed, baseURL, out)
}

// loadDemoSeeded is loadDemo with the plan drawn from seed.
func loadDemoSeeded(ctx context.Context, svc *domain.Service, seed uint64, baseURL string, out io.Writer) (demoKeys, error) {
	start := time.Now()
	head, err := svc.Store().Head(ctx)
	if err != nil {
		return demoKeys{}, fmt.Errorf("demo: read the ledger head: %w", err)
	}
	if head.Position > 0 {
		return demoKeys{}, fmt.Errorf("demo: %w (head position %d)", errDemoNotEmpty, head.Position)
	}
	plan, err := newDemoPlan(seed)
	if err != nil {
		return demoKeys{}, err
	}
	x := &demoExec{svc: svc, plan: plan}
	if err := x.registerOrgs(ctx); err != nil {
		return demoKeys{}, err
	}
	keys, err := x.issueKeys(ctx)
	if err != nil {
		return demoKeys{}, err
	}
	if err := x.runGroups(ctx, demoWorkers); err != nil {
		return demoKeys{}, err
	}
	if baseURL == "" {
		baseURL = "http://127.0.0.1:8080"
	}
	baseURL = strings.TrimRight(baseURL, "/")
	if err := x.examples(ctx, &keys, baseURL); err != nil {
		return demoKeys{}, err
	}
	head, err = svc.Store().Head(ctx)
	if err != nil {
		return demoKeys{}, fmt.Errorf("demo: read the ledger head: %w", err)
	}
	plan.stats.print(out, head.Position, time.Since(start))
	fmt.Fprintln(out, "\nAPI keys (shown once; keep them):")
	for _, k := range keys.All() {
		fmt.Fprintf(out, "  %-10s %s\n             %s\n             %s\n", k.Role, k.OrgName, k.Key, k.Example)
	}
	return keys, nil
}

// ---------------------------------------------------------------------------
// The plan.

// demoOrgPlan is an organisation of the plan with its generated credit code.
type demoOrgPlan struct {
	demoOrg
	credit domain.CreditCode
}

// demoSpan is a closed range of days; a zero to means open-ended.
type demoSpan struct{ from, to domain.Date }

func (s demoSpan) contains(d domain.Date) bool {
	return !d.Before(s.from) && (s.to.IsZero() || !d.After(s.to))
}

// demoPatent is a patent of the plan and the facts its story depends on.
type demoPatent struct {
	number         domain.PatentNumber
	kind           domain.PatentKind
	field          *techField
	title          string
	abstract       string
	ipc            []string
	locarno        string
	owners         []int // organisation indexes at registration
	filed, granted domain.Date
	expires        domain.Date
	group          int

	transferOn domain.Date // zero when never transferred
	transferTo []int
	blocked    []demoSpan  // days no declaration or licence may take effect
	dead       domain.Date // from this day nothing more happens (lapse, invalidation)
	reserved   bool        // taken by a special story (exclusive, transfer, pledge…)
	noDecl     bool        // never declared (a sole or exclusive licence)
	forceDecl  domain.Date // when set, declared on or after this day
	declared   bool
	actions    int          // commands beyond the registration
	licensees  map[int]bool // every licensee, for the ≥ 2 licensees figure
	reviewer   int          // reviewing university, -1 when not reviewed
	reviewedOn domain.Date  // review date in campaign 2024
	pledgedTo  int          // bank of the first pledge, -1 when none
}

// ownersOn returns the patentees on day d.
func (p *demoPatent) ownersOn(d domain.Date) []int {
	if !p.transferOn.IsZero() && !d.Before(p.transferOn) {
		return p.transferTo
	}
	return p.owners
}

// open reports whether a declaration or licence may take effect on d.
func (p *demoPatent) open(d domain.Date) bool {
	if !p.dead.IsZero() && !d.Before(p.dead) {
		return false
	}
	for _, s := range p.blocked {
		if s.contains(d) {
			return false
		}
	}
	return true
}

// demoExec runs a plan against the service.
type demoExec struct {
	svc  *domain.Service
	plan *demoPlan
	ids  []string // organisation IDs by index, once registered
}

// demoOp is one command of the plan. Ops of one group run in (on, prio,
// seq) order; groups run concurrently.
type demoOp struct {
	on   domain.Date
	prio int
	seq  int
	what string
	run  func(ctx context.Context, x *demoExec) error
}

// Priorities order the commands of one day.
const (
	prioRegister = iota
	prioStatus
	prioTransfer
	prioPledge
	prioDeclare
	prioLicense
	prioRecord
	prioRoyalty
	prioReview
)

// demoPlan is the whole demo: organisations, patents and the commands.
type demoPlan struct {
	r       *mrand.Rand
	orgs    []demoOrgPlan
	fields  map[string]*techField
	patents []*demoPatent
	groups  map[int][]*demoOp
	seq     int
	titles  map[string]bool
	serials map[string]bool
	regNo   int
	stats   demoStats
	ents    []int // enterprise indexes
}

// newDemoPlan generates the plan from seed.
func newDemoPlan(seed uint64) (*demoPlan, error) {
	g := &demoPlan{r: mrand.New(mrand.NewPCG(seed, seed^0x9e3779b97f4a7c15)),
		fields: map[string]*techField{}, groups: map[int][]*demoOp{},
		titles: map[string]bool{}, serials: map[string]bool{}}
	g.stats.init()
	for i := range demoFields {
		f := &demoFields[i]
		codes := demoSplit(f.ipc)
		for _, d := range demoSplit(f.devices) {
			name, code, ok := strings.Cut(d, "@")
			if !ok || name == "" {
				return nil, fmt.Errorf("demo: device %q of field %s has no IPC group", d, f.key)
			}
			codes = append(codes, code)
		}
		for _, m := range demoSplit(f.materials) {
			if n := len(strings.Split(m, "@")); n != 2 {
				return nil, fmt.Errorf("demo: material %q of field %s is not name@description", m, f.key)
			}
		}
		for _, m := range demoSplit(f.methods) {
			if parts := strings.Split(m, "@"); len(parts) != 3 || parts[2] == "" {
				return nil, fmt.Errorf("demo: method %q of field %s is not name@description@techniques", m, f.key)
			}
		}
		for _, c := range codes {
			code, err := domain.ParseIPC(c)
			if err != nil || !domain.KnownIPC(code) {
				return nil, fmt.Errorf("demo: IPC code %q of field %s is not in the IPC reference list", c, f.key)
			}
		}
		g.fields[f.key] = f
	}
	for _, t := range demoOtherTerms {
		if w := domain.PromotionalWord(t); w != "" {
			return nil, fmt.Errorf("demo: other terms %q contain the advertising word %q", t, w)
		}
	}
	if err := g.makeOrgs(); err != nil {
		return nil, err
	}
	if err := g.makePatents(); err != nil {
		return nil, err
	}
	for _, story := range []func() error{g.exclusives, g.suspensions, g.lapses, g.transfers, g.pledges} {
		if err := story(); err != nil {
			return nil, err
		}
	}
	for _, p := range g.patents {
		g.declarations(p)
		g.ordinaryLicences(p)
	}
	g.reviews()
	g.stats.commands = len(g.orgs) + 4 + g.seq
	for _, p := range g.patents {
		if len(p.licensees) > 0 {
			g.stats.licensedPatents++
			if len(p.licensees) >= 2 {
				g.stats.multiLicensee++
			}
		}
	}
	return g, nil
}

// Random helpers.

func (g *demoPlan) intn(lo, hi int) int   { return lo + g.r.IntN(hi-lo+1) }
func (g *demoPlan) chance(p float64) bool { return g.r.Float64() < p }

func demoPick[T any](g *demoPlan, list []T) T { return list[g.r.IntN(len(list))] }

// day returns a random day in [from, to]; false when the range is empty.
func (g *demoPlan) day(from, to domain.Date) (domain.Date, bool) {
	n := to.DaysSince(from)
	if n < 0 {
		return domain.Date{}, false
	}
	return from.AddDays(g.r.IntN(n + 1)), true
}

// openDay returns a random day in [from, to] on which p is open.
func (g *demoPlan) openDay(p *demoPatent, from, to domain.Date) (domain.Date, bool) {
	for range 40 {
		d, ok := g.day(from, to)
		if !ok {
			return d, false
		}
		if p.open(d) {
			return d, true
		}
	}
	return domain.Date{}, false
}

// uptakeDay returns a day in [from, to] on which p is open, most often
// within months of from: licences are mostly taken soon after a
// declaration is published.
func (g *demoPlan) uptakeDay(p *demoPatent, from, to domain.Date) (domain.Date, bool) {
	for range 40 {
		d := from.AddDays(int(g.r.ExpFloat64() * 150))
		if !d.After(to) && p.open(d) {
			return d, true
		}
	}
	return g.openDay(p, from, to)
}

// yuan returns a random amount in fen: step × [lo, hi] yuan.
func (g *demoPlan) yuan(lo, hi, step int) domain.Fen {
	return domain.Fen(g.intn(lo, hi)*step) * 100
}

func (g *demoPlan) weighted(ws []int) int {
	total := 0
	for _, w := range ws {
		total += w
	}
	n := g.r.IntN(total)
	for i, w := range ws {
		if n < w {
			return i
		}
		n -= w
	}
	return len(ws) - 1
}

func demoMaxDate(a, b domain.Date) domain.Date {
	if a.After(b) {
		return a
	}
	return b
}

func demoMinDate(a, b domain.Date) domain.Date {
	if a.Before(b) {
		return a
	}
	return b
}

// lastLiveDay returns the day before p's dead day, or limit when earlier.
func (p *demoPatent) lastLiveDay(limit domain.Date) domain.Date {
	if !p.dead.IsZero() {
		return demoMinDate(limit, p.dead.AddDays(-1))
	}
	return limit
}

// add appends a command to the group of p.
func (g *demoPlan) add(p *demoPatent, on domain.Date, prio int, what string, run func(ctx context.Context, x *demoExec) error) {
	g.seq++
	if prio != prioRegister {
		p.actions++
	}
	g.groups[p.group] = append(g.groups[p.group], &demoOp{on: on, prio: prio, seq: g.seq, what: what, run: run})
}

// Organisations.

func (g *demoPlan) makeOrgs() error {
	const tail = "0123456789ABCDEFGHJKLMNPQRTUWXY"
	for i, o := range demoOrgs {
		var b strings.Builder
		b.WriteString(o.prefix)
		if o.kind == domain.OrgEnterprise {
			b.WriteString("MA5")
		}
		for b.Len() < 17 {
			if o.kind == domain.OrgEnterprise {
				b.WriteByte(tail[g.r.IntN(len(tail))])
			} else {
				b.WriteByte(tail[g.r.IntN(10)])
			}
		}
		c, err := domain.CreditCheckChar(b.String())
		if err != nil {
			return fmt.Errorf("demo: credit code of %s: %w", o.name, err)
		}
		g.orgs = append(g.orgs, demoOrgPlan{demoOrg: o, credit: domain.CreditCode(b.String() + string(c))})
		if o.kind == domain.OrgEnterprise {
			g.ents = append(g.ents, i)
		}
		g.stats.orgs[o.kind]++
	}
	return nil
}

func (g *demoPlan) orgIndex(name string) int {
	for i, o := range g.orgs {
		if o.name == name {
			return i
		}
	}
	panic("demo: no organisation " + name)
}

func (g *demoPlan) isUniversity(i int) bool { return g.orgs[i].kind == domain.OrgUniversity }

func (g *demoPlan) fieldMatch(org int, f *techField) bool {
	return slices.Contains(g.orgs[org].fields, f.key)
}

// pickEnterprise returns an enterprise not in exclude, preferring those
// working in field f.
func (g *demoPlan) pickEnterprise(f *techField, exclude func(int) bool) (int, bool) {
	var cands, ws []int
	for _, e := range g.ents {
		if exclude != nil && exclude(e) {
			continue
		}
		w := 1
		if g.fieldMatch(e, f) {
			w = 6
		}
		if !g.orgs[e].sme {
			w++
		}
		cands, ws = append(cands, e), append(ws, w)
	}
	if len(cands) == 0 {
		return 0, false
	}
	return cands[g.weighted(ws)], true
}

// Patents.

func (g *demoPlan) makePatents() error {
	for oi, o := range g.orgs {
		for range o.weight {
			if err := g.makePatent(oi); err != nil {
				return err
			}
		}
	}
	return nil
}

func (g *demoPlan) makePatent(owner int) error {
	o := g.orgs[owner]
	f := g.fields[demoPick(g, o.fields)]
	academic := o.kind == domain.OrgUniversity || o.kind == domain.OrgResearchInstitute
	kind := domain.KindInvention
	switch x := g.r.Float64(); {
	case academic && x >= 0.98, !academic && x >= 0.92:
		kind = domain.KindDesign
	case academic && x >= 0.86, !academic && x >= 0.55:
		kind = domain.KindUtilityModel
	}
	p := &demoPatent{kind: kind, field: f, owners: []int{owner}, group: owner, reviewer: -1, pledgedTo: -1,
		licensees: map[int]bool{}}
	var year, digit int
	switch kind {
	case domain.KindInvention:
		year, digit = g.intn(2014, 2022), 1
	case domain.KindUtilityModel:
		year, digit = g.intn(2017, 2022), 2
	default:
		year, digit = g.intn(2019, 2022), 3
	}
	p.filed, _ = g.day(domain.NewDate(year, 1, 4), domain.NewDate(year, 12, 28))
	if kind == domain.KindInvention {
		p.granted = p.filed.AddDays(g.intn(365, 1095))
	} else {
		p.granted = p.filed.AddDays(g.intn(150, 400))
	}
	p.expires = domain.ExpiryDate(kind, p.filed)
	for {
		digits := fmt.Sprintf("%04d%d%07d", year, digit, g.r.IntN(1_500_000))
		if g.serials[digits] {
			continue
		}
		g.serials[digits] = true
		c, err := domain.PatentCheckChar(digits)
		if err != nil {
			return fmt.Errorf("demo: patent number %s: %w", digits, err)
		}
		p.number = domain.PatentNumber("ZL" + digits + "." + string(c))
		break
	}
	if o.kind == domain.OrgUniversity && g.chance(0.16) {
		if e, ok := g.pickEnterprise(f, nil); ok {
			p.owners = append(p.owners, e)
			g.stats.coOwned++
		}
	}
	var deviceIPC string
	p.title, p.abstract, deviceIPC = g.describe(p)
	switch {
	case kind == domain.KindDesign:
		p.locarno = f.locarno
	case deviceIPC != "":
		p.ipc = []string{deviceIPC}
	default:
		codes := demoSplit(f.ipc)
		main := codes[g.weighted([]int{4, 2, 2})] // the first three are main groups of the field
		p.ipc = []string{main}
		if g.chance(0.4) {
			if extra := demoPick(g, codes); extra != main {
				p.ipc = append(p.ipc, extra)
			}
		}
	}
	g.patents = append(g.patents, p)
	g.stats.patents[kind]++
	g.registerPatent(p)
	return nil
}

// describe draws a title not used before and a matching abstract; for a
// utility model also the device's IPC group.
func (g *demoPlan) describe(p *demoPatent) (title, abstract, ipc string) {
	for try := 0; ; try++ {
		title, abstract, ipc = g.draft(p)
		if try > 50 {
			variant := title + fmt.Sprintf("（%d）", try-50)
			title, abstract = variant, strings.Replace(abstract, title, variant, 1)
		}
		if !g.titles[title] {
			g.titles[title] = true
			return title, abstract, ipc
		}
	}
}

// draft draws a title and its abstract for p's kind and field.
func (g *demoPlan) draft(p *demoPatent) (title, abstract, ipc string) {
	f := p.field
	switch p.kind {
	case domain.KindUtilityModel:
		device, code, _ := strings.Cut(demoPick(g, demoSplit(f.devices)), "@")
		title = "一种" + device
		if g.chance(0.5) {
			title = "一种" + demoPick(g, []string{"新型", "改进型", "高可靠性", "低成本", "轻量化"}) + device
		}
		return title, fmt.Sprintf("本实用新型公开了%s，结构简单、安装维护方便，%s。", title, demoPick(g, demoDeviceEffects)), code
	case domain.KindDesign:
		title = demoPick(g, demoSplit(f.designs)) + "（" + demoPick(g, []string{"A", "B", "C", "S", "X", "Pro"}) + fmt.Sprint(g.intn(1, 9)) + "）"
		return title, fmt.Sprintf("1.本外观设计产品的名称：%s。2.本外观设计产品的设计要点：在于形状。3.指定立体图用于出版。", title), ""
	}
	if f.materials != "" && g.chance(0.5) {
		name, how, _ := strings.Cut(demoPick(g, demoSplit(f.materials)), "@")
		title = "一种" + name + demoPick(g, []string{"的制备方法", "的制备方法", "及其制备方法", "及其制备方法", "及其应用"})
		return title, fmt.Sprintf("本发明公开了%s。%s。", title, how), ""
	}
	// Method titles name their application themselves; a method often
	// claims the apparatus and the storage medium as well.
	parts := strings.Split(demoPick(g, demoSplit(f.methods)), "@")
	name, how, techs := parts[0], parts[1], strings.Split(parts[2], "/")
	if strings.HasSuffix(name, "方法") && g.chance(0.35) {
		suffixes := []string{"及装置", "及系统"}
		if demoComputational(name) {
			suffixes = append(suffixes, "、装置及存储介质", "、装置、电子设备及存储介质")
		}
		name += demoPick(g, suffixes)
	}
	if g.chance(0.45) {
		tech := demoPick(g, techs)
		title = "基于" + tech + "的" + name
		return title, fmt.Sprintf("本发明公开了%s。该方案引入%s，%s。", title, tech, how), ""
	}
	title = "一种" + name
	return title, fmt.Sprintf("本发明公开了%s。%s。", title, how), ""
}

// demoComputational reports whether a method title names a data-processing
// method, whose claims usually cover the program's storage medium too.
func demoComputational(name string) bool {
	for _, w := range []string{"估计", "预测", "预警", "识别", "调度", "规划", "诊断", "分析", "控制", "赋形", "标定", "分割", "分类", "评价", "评估", "检测方法"} {
		if strings.Contains(name, w) {
			return true
		}
	}
	return false
}

func (g *demoPlan) registerPatent(p *demoPatent) {
	c := domain.RegisterPatent{Number: string(p.number), Title: p.title, Abstract: p.abstract,
		IPC: p.ipc, Locarno: p.locarno, FiledOn: p.filed, GrantedOn: p.granted}
	owners := slices.Clone(p.owners)
	g.add(p, p.granted, prioRegister, "register patent "+string(p.number), func(ctx context.Context, x *demoExec) error {
		c.PatenteeIDs = x.orgIDs(owners)
		_, err := x.svc.RegisterPatent(ctx, x.as(owners[0]), c)
		return err
	})
}

// Special stories. Each takes its patents out of the pool of the others.

// pool returns the patents not yet reserved that satisfy ok, in a random
// order.
func (g *demoPlan) pool(ok func(p *demoPatent) bool) []*demoPatent {
	var out []*demoPatent
	for _, p := range g.patents {
		if !p.reserved && ok(p) {
			out = append(out, p)
		}
	}
	g.r.Shuffle(len(out), func(i, j int) { out[i], out[j] = out[j], out[i] })
	return out
}

// take returns n patents of the pool of ok, or an error naming the story
// that needs them.
func (g *demoPlan) take(n int, story string, ok func(p *demoPatent) bool) ([]*demoPatent, error) {
	cands := g.pool(ok)
	if len(cands) < n {
		return nil, fmt.Errorf("demo: %s needs %d patents, only %d are eligible", story, n, len(cands))
	}
	return cands[:n], nil
}

func (g *demoPlan) soleUniversityInvention(p *demoPatent) bool {
	return len(p.owners) == 1 && g.isUniversity(p.owners[0]) && p.kind == domain.KindInvention &&
		p.granted.Before(domain.NewDate(2023, 1, 1))
}

// exclusives grants one sole and one exclusive licence on undeclared
// university patents.
func (g *demoPlan) exclusives() error {
	cands, err := g.take(2, "the sole and exclusive licences", g.soleUniversityInvention)
	if err != nil {
		return err
	}
	for i, typ := range []domain.LicenseType{domain.LicenseSole, domain.LicenseExclusive} {
		p := cands[i]
		p.reserved, p.noDecl = true, true
		eff, _ := g.day(domain.NewDate(2023, 3, 1), domain.NewDate(2024, 9, 30))
		ends := demoMinDate(domain.TermEndsOn(eff, demoPick(g, []int{36, 48, 60})), p.expires)
		licensee, _ := g.pickEnterprise(p.field, nil) // never fails without exclusions
		g.license(p, typ, licensee, eff, ends, g.yuan(30, 200, 10_000), nil, nil)
	}
	return nil
}

// suspensions suspends two patents for an ownership dispute; one
// suspension is lifted.
func (g *demoPlan) suspensions() error {
	cands, err := g.take(2, "the suspensions", func(p *demoPatent) bool { return p.granted.Before(domain.NewDate(2023, 6, 1)) })
	if err != nil {
		return err
	}
	for i := range 2 {
		p := cands[i]
		p.reserved = true
		s, _ := g.day(domain.NewDate(2024, 1, 15), domain.NewDate(2025, 3, 31))
		g.status(p, s, domain.ChangeStatus{Suspended: demoPtr(true), Reason: "专利权权属纠纷，依当事人请求中止有关程序"})
		span := demoSpan{from: s}
		if i == 0 {
			lift := s.AddDays(g.intn(120, 240))
			g.status(p, lift, domain.ChangeStatus{Suspended: demoPtr(false), Reason: "权属纠纷已调解结案，恢复有关程序"})
			span.to = lift.AddDays(-1)
		}
		p.blocked = append(p.blocked, span)
	}
	return nil
}

// lapses lets an annual fee run overdue: two patents lapse six months
// later, one fee is paid late; one patent is invalidated.
func (g *demoPlan) lapses() error {
	cands, err := g.take(4, "the lapses and the invalidation", func(p *demoPatent) bool { return p.granted.Before(domain.NewDate(2023, 1, 1)) })
	if err != nil {
		return err
	}
	for i := range 3 {
		p := cands[i]
		p.reserved = true
		o, _ := g.day(domain.NewDate(2024, 2, 1), domain.NewDate(2025, 4, 30))
		year := o.Year() - p.filed.Year() + 1
		g.status(p, o, domain.ChangeStatus{AnnualFeeOverdue: demoPtr(true), Reason: fmt.Sprintf("第%d年度年费逾期未缴纳", year)})
		if i < 2 {
			g.status(p, o.AddMonths(6), domain.ChangeStatus{Status: demoPtr(domain.StatusLapsed), Reason: "未在宽限期内缴纳年费及滞纳金，专利权终止"})
			p.dead = o
			continue
		}
		paid := o.AddDays(g.intn(20, 60))
		g.status(p, paid, domain.ChangeStatus{AnnualFeeOverdue: demoPtr(false), Reason: "已补缴年费及滞纳金"})
		p.blocked = append(p.blocked, demoSpan{from: o, to: paid.AddDays(-1)})
	}
	p := cands[3]
	p.reserved = true
	v, _ := g.day(domain.NewDate(2024, 6, 1), domain.NewDate(2025, 6, 30))
	g.status(p, v, domain.ChangeStatus{Status: demoPtr(domain.StatusInvalidated), Reason: "无效宣告请求审查决定宣告专利权全部无效"})
	p.dead = v
	return nil
}

// demoPtr returns a pointer to a copy of v.
func demoPtr[T any](v T) *T { return &v }

func (g *demoPlan) status(p *demoPatent, on domain.Date, c domain.ChangeStatus) {
	c.EffectiveOn = on
	g.stats.statusChanges++
	g.add(p, on, prioStatus, fmt.Sprintf("change status of %s on %s", p.number, on), func(ctx context.Context, x *demoExec) error {
		_, err := x.svc.ChangeStatus(ctx, x.admin(), p.number, c)
		return err
	})
}

// transfers assigns six university patents to enterprises, and one
// university's share of a co-owned patent to its co-owner.
func (g *demoPlan) transfers() error {
	cands, err := g.take(6, "the transfers", g.soleUniversityInvention)
	if err != nil {
		return err
	}
	for i := range 6 {
		p := cands[i]
		var t domain.Date
		if i < 2 {
			t, _ = g.day(domain.NewDate(2024, 3, 1), domain.NewDate(2024, 10, 31))
		} else {
			t, _ = g.day(domain.NewDate(2025, 1, 10), domain.NewDate(2025, 10, 31))
		}
		to, _ := g.pickEnterprise(p.field, nil)
		price := g.yuan(20, 300, 10_000)
		if i == 5 {
			price = 0 // assigned free of charge to a spin-off
		}
		g.transfer(p, t, []int{to}, price)
	}
	co, err := g.take(1, "the transfer of a co-owned share", func(p *demoPatent) bool {
		return len(p.owners) == 2 && g.isUniversity(p.owners[0]) && p.granted.Before(domain.NewDate(2023, 1, 1))
	})
	if err != nil {
		return err
	}
	t, _ := g.day(domain.NewDate(2025, 1, 10), domain.NewDate(2025, 9, 30))
	g.transfer(co[0], t, []int{co[0].owners[1]}, g.yuan(10, 100, 10_000))
	return nil
}

func (g *demoPlan) transfer(p *demoPatent, on domain.Date, to []int, price domain.Fen) {
	p.reserved = true
	from := slices.Clone(p.owners)
	p.transferOn, p.transferTo = on, to
	g.stats.transfers++
	g.add(p, on, prioTransfer, fmt.Sprintf("transfer %s on %s", p.number, on), func(ctx context.Context, x *demoExec) error {
		_, err := x.svc.TransferPatent(ctx, x.as(from[0]), p.number, domain.TransferPatent{ToIDs: x.orgIDs(to),
			EffectiveOn: on, PriceFen: price, CoOwnerConsent: x.orgIDs(from[1:])})
		return err
	})
}

// demoPledgeSpec describes one pledge of the demo.
type demoPledgeSpec struct {
	bank         string
	large        bool // the pledgor is a large enterprise
	patents      int
	consent      bool
	consentLater bool
	release      domain.ReleaseReason
}

var demoPledgeSpecs = []demoPledgeSpec{
	{bank: "中国工商银行股份有限公司广州分行", patents: 3, consent: true, release: domain.ReleaseRepaid},
	{bank: "中国工商银行股份有限公司广州分行", patents: 1},
	{bank: "招商银行股份有限公司广州分行", patents: 2, consentLater: true},
	{bank: "招商银行股份有限公司广州分行", large: true, patents: 4, consent: true},
	{bank: "中国工商银行股份有限公司广州分行", patents: 2, release: domain.ReleaseRepaid},
	{bank: "招商银行股份有限公司广州分行", patents: 1, consent: true, release: domain.ReleaseRepaid},
	{bank: "中国工商银行股份有限公司广州分行", large: true, patents: 3},
	{bank: "招商银行股份有限公司广州分行", patents: 2, consent: true},
	{bank: "中国工商银行股份有限公司广州分行", patents: 1, release: domain.ReleaseWaived},
}

// pledges registers the banks' pledges over enterprises' patents.
func (g *demoPlan) pledges() error {
	for i, spec := range demoPledgeSpecs {
		last := domain.NewDate(2025, 6, 30)
		if spec.consentLater {
			last = domain.NewDate(2024, 6, 30)
		}
		reg, _ := g.day(domain.NewDate(2023, 3, 1), last)
		eligible := func(p *demoPatent) bool {
			return len(p.owners) == 1 && g.orgs[p.owners[0]].kind == domain.OrgEnterprise &&
				g.orgs[p.owners[0]].sme != spec.large && p.granted.AddDays(30).Before(reg) &&
				p.expires.After(reg.AddMonths(40))
		}
		byOwner := map[int][]*demoPatent{}
		var owners []int
		for _, p := range g.pool(eligible) {
			if len(byOwner[p.owners[0]]) == 0 {
				owners = append(owners, p.owners[0])
			}
			byOwner[p.owners[0]] = append(byOwner[p.owners[0]], p)
		}
		pledgor := -1
		for _, o := range owners {
			if len(byOwner[o]) >= spec.patents {
				pledgor = o
				break
			}
		}
		if pledgor < 0 {
			return fmt.Errorf("demo: pledge %d needs an enterprise with %d unpledged patents registered on %s", i+1, spec.patents, reg)
		}
		g.pledge(spec, pledgor, byOwner[pledgor][:spec.patents], reg)
	}
	return nil
}

func (g *demoPlan) pledge(spec demoPledgeSpec, pledgor int, ps []*demoPatent, reg domain.Date) {
	bank := g.orgIndex(spec.bank)
	due := domain.TermEndsOn(reg, demoPick(g, []int{12, 24, 36}))
	g.regNo++
	c := domain.RegisterPledge{RegistrationNo: fmt.Sprintf("Y%d440%06d", reg.Year(), 1200+g.regNo*37),
		SecuredAmountFen: g.yuan(20, 300, 100_000), RegisteredOn: reg, DebtDueOn: due, OpenLicenseConsent: spec.consent}
	var numbers []string
	for _, p := range ps {
		p.reserved = true
		p.pledgedTo = bank
		numbers = append(numbers, string(p.number))
	}
	c.Patents = numbers
	var end domain.Date // end of the pledgee's veto on licensing
	var consentOn, releaseOn domain.Date
	if spec.consentLater {
		consentOn, _ = g.day(reg.AddDays(90), demoMinDate(reg.AddDays(300), domain.NewDate(2025, 10, 31)))
		end = consentOn
		ps[0].forceDecl = consentOn.AddDays(10)
	}
	if spec.release != "" {
		releaseOn, _ = g.day(reg.AddDays(270), demoMinDate(due, domain.NewDate(2025, 12, 15)))
		if releaseOn.IsZero() {
			releaseOn = demoMinDate(due, domain.NewDate(2025, 12, 15))
		}
		if end.IsZero() {
			end = releaseOn
		}
	}
	if !spec.consent {
		for _, p := range ps {
			span := demoSpan{from: reg}
			if !end.IsZero() {
				span.to = end.AddDays(-1)
			}
			p.blocked = append(p.blocked, span)
		}
	} else if g.chance(0.7) {
		ps[0].forceDecl = domain.NewDate(2023, 1, 1)
	}
	g.stats.pledges++
	if spec.consent {
		g.stats.pledgesConsent++
	}
	var id string
	first := ps[0]
	g.add(first, reg, prioPledge, fmt.Sprintf("register pledge %s over %s", c.RegistrationNo, strings.Join(numbers, ", ")), func(ctx context.Context, x *demoExec) error {
		c := c
		c.PledgorID, c.PledgeeID = x.ids[pledgor], x.ids[bank]
		res, err := x.svc.RegisterPledge(ctx, x.as(bank), c)
		id = res.ID
		return err
	})
	for _, p := range ps[1:] {
		p.actions++
	}
	if !consentOn.IsZero() {
		g.stats.pledgesConsentLater++
		g.add(first, consentOn, prioPledge, "consent to open licensing under pledge "+c.RegistrationNo, func(ctx context.Context, x *demoExec) error {
			_, err := x.svc.ConsentPledge(ctx, x.as(bank), domain.ConsentPledge{PledgeID: id, ConsentedOn: consentOn})
			return err
		})
	}
	if !releaseOn.IsZero() {
		g.stats.releases++
		g.add(first, releaseOn, prioPledge, "release pledge "+c.RegistrationNo, func(ctx context.Context, x *demoExec) error {
			_, err := x.svc.ReleasePledge(ctx, x.as(bank), domain.ReleasePledge{PledgeID: id, ReleasedOn: releaseOn, Reason: spec.release})
			return err
		})
	}
}

// Declarations and licences.

// declarations gives p its chain of open-licence declarations, if any, with
// the licences taken under them.
func (g *demoPlan) declarations(p *demoPatent) {
	if p.noDecl {
		return
	}
	prob := 0.35
	if g.orgs[p.owners[0]].kind != domain.OrgEnterprise {
		prob = 0.64
	}
	from := demoMaxDate(p.granted.AddDays(20), domain.NewDate(2023, 1, 5))
	if !p.forceDecl.IsZero() {
		from = demoMaxDate(from, p.forceDecl)
	} else if !g.chance(prob) {
		return
	}
	for range 3 {
		next, ok := g.declare(p, from)
		if !ok || next.IsZero() {
			return
		}
		from = next
	}
}

// declare files one declaration on or after from and returns the day a
// following declaration may be filed, or a zero date when none follows.
func (g *demoPlan) declare(p *demoPatent, from domain.Date) (domain.Date, bool) {
	on, ok := g.openDay(p, from, p.lastLiveDay(demoLastDecl))
	if !ok {
		return domain.Date{}, false
	}
	months := 0
	for _, m := range []int{60, 48, 36, 24, 12} {
		if !domain.TermEndsOn(on, m).After(p.expires) {
			months = m
			break
		}
	}
	if months == 0 {
		return domain.Date{}, false
	}
	var choices []int
	for _, m := range []int{12, 24, 36, 36, 48, 60, 60} {
		if m <= months {
			choices = append(choices, m)
		}
	}
	months = demoPick(g, choices)
	if g.chance(0.15) && months > 12 {
		months -= g.intn(1, 11) // an odd term such as 30 months
	}
	ends := domain.TermEndsOn(on, months)
	c := domain.FileDeclaration{Fee: g.fee(), TermMonths: months, DeclaredOn: on,
		OtherTerms: demoPick(g, demoOtherTerms)}
	if p.kind != domain.KindInvention {
		c.EvaluationReportRef = fmt.Sprintf("PJ%s-%d", strings.TrimPrefix(string(p.number[:14]), "ZL"), on.Year()-1)
	}
	owners := p.ownersOn(on)
	p.declared = true
	g.stats.decls[c.Fee.Mode]++
	declID := new(string)
	g.add(p, on, prioDeclare, fmt.Sprintf("declare %s open (%s) on %s", p.number, c.Fee.Mode, on), func(ctx context.Context, x *demoExec) error {
		c := c
		c.CoOwnerConsent = x.orgIDs(owners[1:])
		res, err := x.svc.FileDeclaration(ctx, x.as(owners[0]), p.number, c)
		*declID = res.ID
		return err
	})
	last := ends
	var withdrawn domain.Date
	if g.chance(0.13) {
		if w, ok := g.day(on.AddDays(150), demoMinDate(demoMinDate(on.AddDays(540), ends), p.lastLiveDay(demoLastDecl))); ok {
			withdrawn, last = w, w.AddDays(-1)
		}
	}
	// Licences taken under the declaration.
	// About 40% of licensed patents have two or more licensees (DOMAIN.md
	// calibration).
	n := 0
	switch x := g.r.Float64(); {
	case x < 0.26:
	case x < 0.73:
		n = 1
	case x < 0.87:
		n = 2
	case x < 0.95:
		n = 3
	case x < 0.99:
		n = 4
	default:
		n = 5
	}
	var days []domain.Date
	for range n {
		if d, ok := g.uptakeDay(p, on.AddDays(7), p.lastLiveDay(demoMinDate(last, demoEnd))); ok {
			days = append(days, d)
		}
	}
	slices.SortFunc(days, func(a, b domain.Date) int { return a.DaysSince(b) })
	taken := map[int]bool{}
	for _, d := range days {
		owners := p.ownersOn(d)
		licensee, ok := g.pickEnterprise(p.field, func(e int) bool { return taken[e] || slices.Contains(owners, e) })
		if !ok {
			break
		}
		taken[licensee] = true
		g.license(p, domain.LicenseOpen, licensee, d, ends, c.Fee.FirstPayment(), declID, &c.Fee)
	}
	if !withdrawn.IsZero() {
		g.stats.withdrawals++
		reason := demoPick(g, demoWithdrawReasons)
		wOwners := p.ownersOn(withdrawn)
		g.add(p, withdrawn, prioDeclare, fmt.Sprintf("withdraw the declaration of %s on %s", p.number, withdrawn), func(ctx context.Context, x *demoExec) error {
			_, err := x.svc.WithdrawDeclaration(ctx, x.as(wOwners[0]), p.number, domain.WithdrawDeclaration{DeclarationID: *declID,
				EffectiveOn: withdrawn, Reason: reason, CoOwnerConsent: x.orgIDs(wOwners[1:])})
			return err
		})
		if g.chance(0.6) {
			return withdrawn.AddDays(g.intn(0, 60)), true
		}
		return domain.Date{}, true
	}
	if ends.Before(domain.NewDate(2025, 6, 30)) && g.chance(0.5) {
		return ends.AddDays(g.intn(1, 60)), true // renewed on new terms
	}
	return domain.Date{}, true
}

// fee draws the fee terms of a declaration.
func (g *demoPlan) fee() domain.FeeTerms {
	mode := []domain.FeeMode{domain.FeeFree, domain.FeeLumpSum, domain.FeeInstalment, domain.FeeRoyalty, domain.FeeEntryPlusRoyalty}[g.weighted([]int{17, 30, 13, 22, 18})]
	switch mode {
	case domain.FeeLumpSum:
		return domain.FeeTerms{Mode: mode, LumpSumFen: g.yuan(2, 60, 5_000)}
	case domain.FeeInstalment:
		return domain.FeeTerms{Mode: mode, InstalmentFen: g.yuan(2, 40, 2_500), Instalments: g.intn(2, 5)}
	case domain.FeeRoyalty:
		if g.chance(0.6) {
			return domain.FeeTerms{Mode: mode, RoyaltyBP: demoPick(g, []int{100, 150, 200, 300, 400, 500, 800}), RoyaltyBase: domain.BaseNetSales}
		}
		return domain.FeeTerms{Mode: mode, RoyaltyBP: demoPick(g, []int{500, 800, 1000, 1500, 2000, 2500}), RoyaltyBase: domain.BaseProfit}
	case domain.FeeEntryPlusRoyalty:
		if g.chance(0.75) {
			return domain.FeeTerms{Mode: mode, EntryFeeFen: g.yuan(1, 20, 5_000), RoyaltyBP: demoPick(g, []int{100, 200, 300, 500}), RoyaltyBase: domain.BaseNetSales}
		}
		return domain.FeeTerms{Mode: mode, EntryFeeFen: g.yuan(1, 20, 5_000), RoyaltyBP: demoPick(g, []int{500, 1000, 1500}), RoyaltyBase: domain.BaseProfit}
	}
	return domain.FeeTerms{Mode: domain.FeeFree}
}

// ordinaryLicences concludes a few negotiated non-exclusive licences.
func (g *demoPlan) ordinaryLicences(p *demoPatent) {
	if p.noDecl || !g.chance(0.11) {
		return
	}
	n := 1
	if g.chance(0.2) {
		n = 2
	}
	for range n {
		eff, ok := g.openDay(p, demoMaxDate(p.granted.AddDays(30), domain.NewDate(2023, 1, 10)), p.lastLiveDay(demoLastDecl))
		if !ok {
			return
		}
		ends := demoMinDate(domain.TermEndsOn(eff, demoPick(g, []int{12, 24, 36})), p.expires)
		owners := p.ownersOn(eff)
		licensee, ok := g.pickEnterprise(p.field, func(e int) bool { return slices.Contains(owners, e) })
		if !ok {
			return
		}
		g.license(p, domain.LicenseOrdinary, licensee, eff, ends, g.yuan(5, 80, 10_000), nil, nil)
	}
}

// license concludes a licence, records it (mostly in time, some late, some
// never) and, for royalty terms, pays royalties.
func (g *demoPlan) license(p *demoPatent, typ domain.LicenseType, licensee int, eff, ends domain.Date, fee domain.Fen, declID *string, terms *domain.FeeTerms) {
	p.licensees[licensee] = true
	g.stats.licences[typ]++
	g.stats.licByYear[eff.Year()]++
	c := domain.GrantLicense{Type: typ, EffectiveOn: eff, FeePaidFen: fee}
	if typ != domain.LicenseOpen {
		c.EndsOn = ends
	}
	licensors := p.ownersOn(eff)
	actor := licensors[0]
	if typ == domain.LicenseOpen {
		actor = licensee
	}
	id := new(string)
	g.add(p, eff, prioLicense, fmt.Sprintf("grant %s licence on %s to %s on %s", typ, p.number, g.orgs[licensee].name, eff), func(ctx context.Context, x *demoExec) error {
		c := c
		c.LicenseeID = x.ids[licensee]
		if declID != nil {
			c.DeclarationID = *declID
		}
		res, err := x.svc.GrantLicense(ctx, x.as(actor), p.number, c)
		*id = res.ID
		return err
	})
	// Recordal with CNIPA (IR 87): the licensee records open licences, the
	// licensor negotiated ones.
	var rec domain.Date
	switch x := g.r.Float64(); {
	case typ == domain.LicenseSole || typ == domain.LicenseExclusive || x < 0.78:
		rec = eff.AddDays(g.intn(5, 85))
	case x < 0.90:
		rec = eff.AddDays(g.intn(95, 300))
	}
	if rec.IsZero() || rec.After(demoEnd) {
		g.stats.recMissing++
	} else {
		if rec.After(domain.RecordalDeadline(eff)) {
			g.stats.recLate++
		} else {
			g.stats.recOnTime++
		}
		g.regNo++
		no := fmt.Sprintf("X%d440%06d", rec.Year(), 3000+g.regNo*13)
		recorder := licensors[0]
		if typ == domain.LicenseOpen {
			recorder = licensee
		}
		g.add(p, rec, prioRecord, fmt.Sprintf("record licence %s on %s", no, p.number), func(ctx context.Context, x *demoExec) error {
			_, err := x.svc.RecordLicense(ctx, x.as(recorder), domain.RecordLicense{LicenseID: *id, RecordNo: no, RecordedOn: rec})
			return err
		})
	}
	if terms == nil || terms.RoyaltyBP == 0 {
		return
	}
	g.royalties(p, licensee, eff, ends, id)
}

// royalties pays a licence's royalties quarterly or yearly, on the 15th of
// the month after the period, skipping a few periods.
func (g *demoPlan) royalties(p *demoPatent, licensee int, eff, ends domain.Date, id *string) {
	base := g.intn(30, 600) * 100
	limit := p.lastLiveDay(demoMinDate(demoEnd, ends.AddDays(45)))
	yearly := g.chance(0.5)
	for start := domain.NewDate(eff.Year(), time.Month((int(eff.Month())-1)/3*3+1), 1); ; {
		var period string
		var next domain.Date
		if yearly {
			period = fmt.Sprint(start.Year())
			next = domain.NewDate(start.Year()+1, 1, 1)
		} else {
			period = fmt.Sprintf("%d-Q%d", start.Year(), start.Quarter())
			next = start.AddMonths(3)
		}
		paid := next.AddDays(14)
		if paid.After(limit) {
			return
		}
		start = next
		if g.chance(0.15) {
			continue
		}
		amount := domain.Fen(base*g.intn(70, 130)/100) * 100
		if yearly {
			amount *= 3
		}
		g.stats.royalties++
		g.stats.royaltyFen += amount
		g.add(p, paid, prioRoyalty, fmt.Sprintf("pay royalty %s on %s for %s", amount, p.number, period), func(ctx context.Context, x *demoExec) error {
			_, err := x.svc.PayRoyalty(ctx, x.as(licensee), domain.PayRoyalty{LicenseID: *id, PaidOn: paid, AmountFen: amount, Period: period})
			return err
		})
	}
}

// Stock-patent reviews, campaign 2024.

func (g *demoPlan) reviews() {
	var reviewed []*demoPatent
	for _, p := range g.patents {
		on, ok := g.day(domain.NewDate(2024, 3, 1), domain.NewDate(2024, 11, 30))
		if !ok || !p.granted.Before(on) || (!p.dead.IsZero() && !on.Before(p.dead)) || !g.chance(0.8) {
			continue
		}
		reviewer := -1
		for _, o := range p.ownersOn(on) {
			if g.isUniversity(o) {
				reviewer = o
				break
			}
		}
		if reviewer < 0 {
			continue
		}
		grade, disp := g.assess(p)
		c := domain.RecordReview{Campaign: "2024", ReviewedOn: on, Grade: grade, Disposition: disp,
			Notes: demoPick(g, demoReviewNotes[disp])}
		var firms []int
		if g.chance(0.3) {
			firms = g.feedbackFirms(p)
			for range firms {
				c.Feedback = append(c.Feedback, domain.Feedback{
					Interest: demoPick(g, []domain.Interest{domain.InterestHigh, domain.InterestMedium, domain.InterestMedium, domain.InterestLow})})
			}
		}
		abandon := disp == domain.DispositionAbandon && p.actions == 0 && !p.reserved && g.chance(0.5)
		p.reviewer, p.reviewedOn = reviewer, on
		g.stats.reviews++
		g.stats.grades[grade]++
		g.addReview(p, reviewer, c, firms, false)
		if abandon {
			g.status(p, domain.NewDate(2025, 1, 1).AddDays(g.r.IntN(150)), domain.ChangeStatus{Status: demoPtr(domain.StatusAbandoned),
				Reason: "经存量专利盘点评估，专利权人声明放弃专利权"})
			p.dead = domain.NewDate(2025, 1, 1)
		}
		reviewed = append(reviewed, p)
	}
	// A few reviews are corrected after a second look.
	g.r.Shuffle(len(reviewed), func(i, j int) { reviewed[i], reviewed[j] = reviewed[j], reviewed[i] })
	corrected := 0
	for _, p := range reviewed {
		if corrected == 6 {
			break
		}
		on := p.reviewedOn.AddDays(g.intn(15, 60))
		if on.After(domain.NewDate(2024, 12, 31)) || !slices.Contains(p.ownersOn(on), p.reviewer) || (!p.dead.IsZero() && !on.Before(p.dead)) {
			continue
		}
		grade := demoPick(g, []domain.Grade{domain.GradeHigh, domain.GradeMedium})
		disp := demoPick(g, []domain.Disposition{domain.DispositionOpenLicense, domain.DispositionLicense, domain.DispositionMaintain})
		c := domain.RecordReview{Campaign: "2024", ReviewedOn: on, Grade: grade, Disposition: disp,
			Notes: "复核后调整：" + demoPick(g, demoReviewNotes[disp])}
		corrected++
		g.stats.corrections++
		g.addReview(p, p.reviewer, c, nil, true)
	}
}

// assess grades a patent from what happens to it.
func (g *demoPlan) assess(p *demoPatent) (domain.Grade, domain.Disposition) {
	hi := demoPick(g, []domain.Grade{domain.GradeHigh, domain.GradeHigh, domain.GradeMedium})
	switch {
	case !p.transferOn.IsZero():
		return hi, domain.DispositionTransfer
	case p.declared:
		return hi, domain.DispositionOpenLicense
	case len(p.licensees) > 0:
		return hi, domain.DispositionLicense
	}
	switch x := g.r.Float64(); {
	case x < 0.45:
		return demoPick(g, []domain.Grade{domain.GradeMedium, domain.GradeLow}), domain.DispositionMaintain
	case x < 0.70:
		return demoPick(g, []domain.Grade{domain.GradeLow, domain.GradeNone, domain.GradeNone}), domain.DispositionAbandon
	case x < 0.90:
		return domain.GradeMedium, domain.DispositionOpenLicense
	}
	return domain.GradeMedium, domain.DispositionLicense
}

// feedbackFirms returns one or two enterprises that gave feedback on p.
func (g *demoPlan) feedbackFirms(p *demoPatent) []int {
	var out []int
	for range g.intn(1, 2) {
		e, ok := g.pickEnterprise(p.field, func(e int) bool { return slices.Contains(out, e) })
		if ok {
			out = append(out, e)
		}
	}
	return out
}

// addReview records (or, with correct, corrects) a review; firms are the
// organisation indexes of c.Feedback, resolved to IDs when it runs.
func (g *demoPlan) addReview(p *demoPatent, reviewer int, c domain.RecordReview, firms []int, correct bool) {
	what := fmt.Sprintf("review %s in campaign 2024 (%s, %s)", p.number, c.Grade, c.Disposition)
	if correct {
		what = "correct the " + what
	}
	g.add(p, c.ReviewedOn, prioReview, what, func(ctx context.Context, x *demoExec) error {
		c := c
		c.Feedback = slices.Clone(c.Feedback)
		for i, e := range firms {
			c.Feedback[i].OrgID = x.ids[e]
		}
		var err error
		if correct {
			_, err = x.svc.CorrectReview(ctx, x.as(reviewer), p.number, c)
		} else {
			_, err = x.svc.RecordReview(ctx, x.as(reviewer), p.number, c)
		}
		return err
	})
}

// ---------------------------------------------------------------------------
// Execution.

func (x *demoExec) admin() domain.Request { return domain.Request{Actor: domain.AdminActor} }

func (x *demoExec) as(org int) domain.Request {
	return domain.Request{Actor: domain.OrgActor(x.ids[org])}
}

func (x *demoExec) orgIDs(idx []int) []string {
	if len(idx) == 0 {
		return nil
	}
	out := make([]string, len(idx))
	for i, o := range idx {
		out[i] = x.ids[o]
	}
	return out
}

func (x *demoExec) registerOrgs(ctx context.Context) error {
	for _, o := range x.plan.orgs {
		res, err := x.svc.RegisterOrg(ctx, x.admin(), domain.RegisterOrg{Name: o.name, Kind: o.kind,
			RegionCode: domain.RegionCode(o.region), CreditCode: o.credit, SME: o.sme})
		if err != nil {
			return fmt.Errorf("demo: register organisation %s: %w", o.name, err)
		}
		x.ids = append(x.ids, res.ID)
	}
	return nil
}

// demoKeyFormat assembles an organisation key as api.formatKey does:
// "lk_<org id>_<key id>_<secret>".
func demoKeyFormat(orgID, keyID, secret string) string {
	return "lk_" + orgID + "_" + keyID + "_" + secret
}

func (x *demoExec) issueKeys(ctx context.Context) (demoKeys, error) {
	issue := func(role, name string) (demoKey, error) {
		i := x.plan.orgIndex(name)
		b := make([]byte, 24)
		if _, err := rand.Read(b); err != nil {
			return demoKey{}, fmt.Errorf("demo: key secret: %w", err)
		}
		secret := hex.EncodeToString(b)
		res, err := x.svc.IssueKey(ctx, x.admin(), x.ids[i], domain.HashKeySecret(secret))
		if err != nil {
			return demoKey{}, fmt.Errorf("demo: issue a key to %s: %w", name, err)
		}
		return demoKey{Role: role, OrgID: x.ids[i], OrgName: name, Key: demoKeyFormat(x.ids[i], res.ID, secret)}, nil
	}
	var k demoKeys
	var err error
	if k.University, err = issue("university", demoKeyUniversity); err != nil {
		return k, err
	}
	if k.SME, err = issue("sme", demoKeySME); err != nil {
		return k, err
	}
	if k.Bank, err = issue("bank", demoKeyBank); err != nil {
		return k, err
	}
	k.Regulator, err = issue("regulator", demoKeyRegulator)
	return k, err
}

// runGroups runs the groups' commands, each group in order, up to workers
// groups at a time, and returns the first failure.
func (x *demoExec) runGroups(ctx context.Context, workers int) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	keys := make([]int, 0, len(x.plan.groups))
	for k := range x.plan.groups {
		keys = append(keys, k)
	}
	// Largest groups first, so that the last one to finish is short.
	slices.SortFunc(keys, func(a, b int) int {
		return cmp.Or(cmp.Compare(len(x.plan.groups[b]), len(x.plan.groups[a])), cmp.Compare(a, b))
	})
	jobs := make(chan []*demoOp, len(keys))
	for _, k := range keys {
		ops := x.plan.groups[k]
		slices.SortStableFunc(ops, func(a, b *demoOp) int {
			return cmp.Or(a.on.DaysSince(b.on), cmp.Compare(a.prio, b.prio), cmp.Compare(a.seq, b.seq))
		})
		jobs <- ops
	}
	close(jobs)
	var (
		wg    sync.WaitGroup
		once  sync.Once
		first error
	)
	for range workers {
		wg.Go(func() {
			for ops := range jobs {
				for _, op := range ops {
					if ctx.Err() != nil {
						break
					}
					if err := op.run(ctx, x); err != nil {
						once.Do(func() { first = fmt.Errorf("demo: %s: %w", op.what, err); cancel() })
						break
					}
				}
			}
		})
	}
	wg.Wait()
	if first == nil && ctx.Err() != nil {
		return ctx.Err()
	}
	return first
}

// examples writes a curl command per key: the university reviews a patent
// in a new campaign, the SME takes an open licence offered today, the bank
// reads a pledged patent, the regulator reads the deals tally.
func (x *demoExec) examples(ctx context.Context, k *demoKeys, base string) error {
	today := x.svc.Today()
	uni, sme, bank := x.plan.orgIndex(demoKeyUniversity), x.plan.orgIndex(demoKeySME), x.plan.orgIndex(demoKeyBank)
	auth := func(key string) string { return fmt.Sprintf("-H 'Authorization: Bearer %s'", key) }
	k.University.Example = fmt.Sprintf("curl %s %s/v1/orgs/%s", auth(k.University.Key), base, k.University.OrgID)
	k.SME.Example = fmt.Sprintf("curl %s '%s/v1/listings?ipc=H01M&limit=5'", auth(k.SME.Key), base)
	k.Bank.Example = fmt.Sprintf("curl %s '%s/v1/tallies/pledges?period=quarter&from=2023-01-01&to=2025-12-31'", auth(k.Bank.Key), base)
	k.Regulator.Example = fmt.Sprintf("curl %s '%s/v1/tallies/deals?period=year&from=2023-01-01&to=2025-12-31&region=4401'", auth(k.Regulator.Key), base)
	var uniDone, smeDone, bankDone bool
	for _, dp := range x.plan.patents {
		if uniDone && smeDone && bankDone {
			break
		}
		p, err := x.svc.LoadPatent(ctx, dp.number)
		if err != nil {
			return fmt.Errorf("demo: load %s: %w", dp.number, err)
		}
		active := p.StatusOn(today) == domain.StatusActive && !p.SuspendedOn(today)
		if !uniDone && active && p.IsPatentee(x.ids[uni]) && p.Reviews["2025"] == nil {
			uniDone = true
			k.University.Example = fmt.Sprintf(`curl -X POST %s -H 'Content-Type: application/json' %s/v1/patents/%s/reviews -d '{"campaign":"2025","reviewed_on":"%s","grade":"medium","disposition":"open_license"}'`,
				auth(k.University.Key), base, p.Number, today)
		}
		if !smeDone && active && demoCanTakeOpenLicence(p, x.ids[sme], today) {
			d := p.DeclarationInEffect(today)
			smeDone = true
			k.SME.Example = fmt.Sprintf(`curl -X POST %s -H 'Content-Type: application/json' %s/v1/patents/%s/licenses -d '{"type":"open","licensee_id":"%s","declaration_id":"%s","effective_on":"%s","fee_paid_fen":%d}'`,
				auth(k.SME.Key), base, p.Number, x.ids[sme], d.DeclarationID, today, d.Fee.FirstPayment())
		}
		if !bankDone && dp.pledgedTo == bank {
			bankDone = true
			k.Bank.Example = fmt.Sprintf("curl %s %s/v1/patents/%s", auth(k.Bank.Key), base, p.Number)
		}
	}
	return nil
}

// demoCanTakeOpenLicence reports whether org may take an open licence on p
// effective on day.
func demoCanTakeOpenLicence(p *domain.Patent, org string, day domain.Date) bool {
	d := p.DeclarationInEffect(day)
	if d == nil || p.IsPatentee(org) || p.ExclusiveLicenseOn(day) != nil || p.PledgeWithoutConsentOn(day) != nil {
		return false
	}
	for _, l := range p.Licenses {
		if l.DeclarationID == d.DeclarationID && l.LicenseeID == org {
			return false
		}
	}
	return true
}

// ---------------------------------------------------------------------------
// The summary.

// demoStats counts what the plan loads.
type demoStats struct {
	orgs                                map[domain.OrgKind]int
	patents                             map[domain.PatentKind]int
	coOwned                             int
	decls                               map[domain.FeeMode]int
	withdrawals                         int
	licences                            map[domain.LicenseType]int
	licByYear                           map[int]int
	licensedPatents, multiLicensee      int
	recOnTime, recLate, recMissing      int
	royalties                           int
	royaltyFen                          domain.Fen
	transfers                           int
	pledges, pledgesConsent             int
	pledgesConsentLater, releases       int
	statusChanges, reviews, corrections int
	grades                              map[domain.Grade]int
	commands                            int // every command the load runs
}

func (s *demoStats) init() {
	s.orgs = map[domain.OrgKind]int{}
	s.patents = map[domain.PatentKind]int{}
	s.decls = map[domain.FeeMode]int{}
	s.licences = map[domain.LicenseType]int{}
	s.licByYear = map[int]int{}
	s.grades = map[domain.Grade]int{}
}

func demoSum[K comparable](m map[K]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}

func (s *demoStats) print(w io.Writer, head int64, took time.Duration) {
	fmt.Fprintf(w, "Demo data loaded in %.1fs: %d commands, head position %d.\n", took.Seconds(), s.commands, head)
	fmt.Fprintf(w, "  organisations  %d: %d universities, %d research institute, %d enterprises, %d banks, %d regulator\n",
		demoSum(s.orgs), s.orgs[domain.OrgUniversity], s.orgs[domain.OrgResearchInstitute], s.orgs[domain.OrgEnterprise],
		s.orgs[domain.OrgBank], s.orgs[domain.OrgRegulator])
	fmt.Fprintf(w, "  patents        %d: %d inventions, %d utility models, %d designs; %d co-owned\n",
		demoSum(s.patents), s.patents[domain.KindInvention], s.patents[domain.KindUtilityModel], s.patents[domain.KindDesign], s.coOwned)
	fmt.Fprintf(w, "  declarations   %d: free %d, lump_sum %d, instalment %d, royalty %d, entry_plus_royalty %d; %d withdrawn\n",
		demoSum(s.decls), s.decls[domain.FeeFree], s.decls[domain.FeeLumpSum], s.decls[domain.FeeInstalment],
		s.decls[domain.FeeRoyalty], s.decls[domain.FeeEntryPlusRoyalty], s.withdrawals)
	fmt.Fprintf(w, "  licences       %d: open %d, ordinary %d, sole %d, exclusive %d; 2023 %d, 2024 %d, 2025 %d\n",
		demoSum(s.licences), s.licences[domain.LicenseOpen], s.licences[domain.LicenseOrdinary], s.licences[domain.LicenseSole],
		s.licences[domain.LicenseExclusive], s.licByYear[2023], s.licByYear[2024], s.licByYear[2025])
	fmt.Fprintf(w, "                 %d licensed patents, %d with two or more licensees\n", s.licensedPatents, s.multiLicensee)
	fmt.Fprintf(w, "  recordals      %d in time, %d late, %d not recorded\n", s.recOnTime, s.recLate, s.recMissing)
	fmt.Fprintf(w, "  royalties      %d payments, %s\n", s.royalties, s.royaltyFen)
	fmt.Fprintf(w, "  transfers      %d\n", s.transfers)
	fmt.Fprintf(w, "  pledges        %d: %d with consent to open licensing, %d consented later, %d released\n",
		s.pledges, s.pledgesConsent, s.pledgesConsentLater, s.releases)
	fmt.Fprintf(w, "  status changes %d (suspensions, overdue fees, lapses, invalidation, abandonment)\n", s.statusChanges)
	fmt.Fprintf(w, "  reviews        %d in campaign 2024 (high %d, medium %d, low %d, none %d), %d corrected\n",
		s.reviews, s.grades[domain.GradeHigh], s.grades[domain.GradeMedium], s.grades[domain.GradeLow], s.grades[domain.GradeNone], s.corrections)
}
