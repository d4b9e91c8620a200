package projections

import (
	"cmp"
	"context"
	"errors"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/ThreeDotsLabs/watermill"
	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/ThreeDotsLabs/watermill/pubsub/gochannel"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/patentledger/ledger/domain"
	"github.com/patentledger/ledger/projections/natsbus"
)

// Options configure Start.
type Options struct {
	// Logger receives the read side's logs; slog.Default() when nil.
	// Watermill's own informational logs are logged at debug level.
	Logger *slog.Logger
	// Registerer, when not nil, gets the collector of NewCollector.
	Registerer prometheus.Registerer
	// Runner and Relay tune the runner and the relay; their loggers
	// default to Logger.
	Runner RunnerOptions
	Relay  RelayOptions
	// Bus, when not nil, replaces the in-process GoChannel with the NATS
	// JetStream bus (distributed mode): the projections consume the
	// node's durable consumer on it, and the relay runs only while this
	// node holds the bus's relay lease (natsbus.Bus.RunAsRelay), each term
	// starting after the stream's last event, or at the lowest checkpoint
	// when the stream is empty. The caller owns Bus and closes it after
	// the pipeline.
	Bus *natsbus.Bus
	// Node names this node on Bus (its consumer and its lease); required
	// with Bus, ignored without.
	Node string
	// SQLOnly leaves the in-memory indexes unloaded (DB.WarmUp is not
	// called): every query runs in SQL, slower, and the node saves the
	// indexes' memory (about 3 KB per listed patent).
	SQLOnly bool
	// StallCheck is how often the pipeline checks that no projection is
	// stuck behind the log, and that the in-memory indexes are loaded;
	// DefaultStallCheck when zero or negative.
	StallCheck time.Duration
}

// DefaultStallCheck is how often a pipeline checks, by default, that its
// projections have reached the head of the log it saw at the previous
// check. A projection that keeps up with the bus is never that far behind.
const DefaultStallCheck = 5 * time.Second

// Pipeline is the read side of one node: the read-model file, the runner,
// a watermill router with one handler per projection, a bus, and the relay
// publishing the store's log on it. In embedded mode the bus is an
// in-process GoChannel and the relay always runs; with Options.Bus it is
// NATS JetStream and the relay runs while the node holds the relay lease.
// It answers the read-model queries. It is safe for concurrent use.
type Pipeline struct {
	db         *DB
	store      domain.EventStore
	runner     *Runner
	relay      *Relay // the embedded relay; in NATS mode, it only holds the event counter every term shares
	relayOpts  RelayOptions
	publisher  message.Publisher
	closers    []func() error // the bus's subscriber and publisher, closed by Close
	nats       *natsbus.Bus
	node       string
	sqlOnly    bool // the in-memory indexes stay unloaded
	stallEvery time.Duration
	stalls     prometheus.Counter // catch-ups of the stall check
	behind     chan struct{}      // a read waits for a position the bus has not delivered (see WaitFor)
	relaying   atomic.Bool        // this node holds the NATS relay lease and runs a relay term
	catchingUp atomic.Bool        // the first catch-up, to the runner's startHead, is running (Status.CatchingUp)
	router     *message.Router
	log        *slog.Logger
	cancel     context.CancelFunc
	done       chan struct{}
}

// Start opens the read models at path and starts the pipeline: the router
// subscribes, the projections catch up with the store, then the relay
// follows the log from the lowest checkpoint (with Options.Bus: whenever
// this node holds the relay lease, from the stream's last event). Queries
// are served at once, from whatever the read models hold (use WaitFor to
// read one's writes). It returns an error when the file cannot be opened,
// the router built, or the NATS subscriber or publisher made.
func Start(ctx context.Context, store domain.EventStore, path string, opts Options) (_ *Pipeline, err error) {
	log := opts.Logger
	if log == nil {
		log = slog.Default()
	}
	db, err := OpenDB(ctx, path)
	if err != nil {
		return nil, err
	}
	db.log = log
	defer func() {
		if err != nil {
			err = errors.Join(err, db.Close())
		}
	}()
	runnerOpts, relayOpts := opts.Runner, opts.Relay
	runnerOpts.Logger, relayOpts.Logger = cmp.Or(runnerOpts.Logger, log), cmp.Or(relayOpts.Logger, log)
	runner, err := NewRunner(ctx, db, store, runnerOpts)
	if err != nil {
		return nil, err
	}
	wlog := quietRedeliveries{watermill.NewSlogLoggerWithLevelMapping(log, map[slog.Level]slog.Level{slog.LevelInfo: slog.LevelDebug})}
	p := &Pipeline{db: db, store: store, runner: runner, relayOpts: relayOpts, nats: opts.Bus, node: opts.Node,
		sqlOnly: opts.SQLOnly, stallEvery: cmp.Or(max(opts.StallCheck, 0), DefaultStallCheck), log: log, done: make(chan struct{}),
		behind: make(chan struct{}, 1)}
	defer func() {
		if err != nil {
			err = errors.Join(err, p.closeBus())
		}
	}()
	var sub message.Subscriber
	if opts.Bus == nil {
		bus := gochannel.NewGoChannel(gochannel.Config{BlockPublishUntilSubscriberAck: true}, wlog)
		sub, p.publisher = bus, bus
		p.closers = append(p.closers, bus.Close)
	} else {
		if opts.Node == "" {
			return nil, errors.New("projections: the NATS bus needs a node name")
		}
		nsub, err := opts.Bus.NewSubscriber(ctx, opts.Node)
		if err != nil {
			return nil, err
		}
		sub = nsub
		p.closers = append(p.closers, nsub.Close)
		if p.publisher, err = opts.Bus.NewPublisher(); err != nil {
			return nil, err
		}
		p.closers = append(p.closers, p.publisher.Close)
	}
	p.relay = NewRelay(store, p.publisher, relayOpts)
	p.router, err = message.NewRouter(message.RouterConfig{CloseTimeout: 10 * time.Second}, wlog)
	if err != nil {
		return nil, err
	}
	runner.AddHandlers(p.router, sub)
	p.stalls = prometheus.NewCounter(prometheus.CounterOpts{Name: "ledger_projection_stall_catchups_total",
		Help: "Catch-ups from the store of projections the bus left behind the log's head for a stall check's interval."})
	if opts.Registerer != nil {
		for _, c := range append([]prometheus.Collector{NewCollector(store, runner, p.relay), p.stalls}, p.busGauges()...) {
			if err := opts.Registerer.Register(c); err != nil {
				return nil, err
			}
		}
	}
	p.catchingUp.Store(true)
	runCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	p.cancel = cancel
	go p.run(runCtx)
	return p, nil
}

// run runs the router, catches the projections up, then loads the
// in-memory indexes while it runs the relay, until ctx is done.
func (p *Pipeline) run(ctx context.Context) {
	defer close(p.done)
	routerDone := make(chan struct{})
	go func() {
		defer close(routerDone)
		if err := p.router.Run(ctx); err != nil {
			p.log.Error("projections: router failed", "error", err)
		}
	}()
	defer func() { <-routerDone }()
	select {
	case <-p.router.Running():
	case <-routerDone:
		return
	}
	from, err := p.runner.CatchUp(ctx, nil)
	p.catchingUp.Store(false)
	if err != nil && ctx.Err() == nil {
		p.log.Log(ctx, catchUpFailureLevel(err), "projections: catch-up failed; the relay heals the gap", "error", err)
		from = lowestCheckpoint(p.runner.Statuses())
	}
	if ctx.Err() != nil {
		return
	}
	warmed := make(chan struct{})
	go func() {
		defer close(warmed)
		if !p.sqlOnly {
			p.keepWarm(ctx)
		}
	}()
	defer func() { <-warmed }()
	watching := make(chan struct{})
	go func() {
		defer close(watching)
		p.watchStalls(ctx)
	}()
	defer func() { <-watching }()
	if p.nats == nil {
		_ = p.relay.Run(ctx, from) // returns nil when ctx is done
		return
	}
	_ = p.nats.RunAsRelay(ctx, p.node, p.relayTerm) // returns nil when ctx is done
}

// catchUpFailureLevel is the level at which a failed catch-up is logged:
// an error, but a warning when the read-model file, not an event, is at
// fault (locked, its disk full), as the runner logs that wait itself.
func catchUpFailureLevel(err error) slog.Level {
	if lockedOut(err) || diskTrouble(err) {
		return slog.LevelWarn
	}
	return slog.LevelError
}

// maxWarmRetry is the longest keepWarm waits before it tries again to load
// an index that failed to load.
const maxWarmRetry = 5 * time.Minute

// keepWarm loads the in-memory indexes, then checks every p.stallEvery,
// until ctx is done, that they are still loaded, and loads again one that
// is not: its load failed (the file was locked for too long, or its
// projection was reset meanwhile), or a rebuild of its projection emptied
// it. Meanwhile the queries it answers run in SQL. A load that keeps
// failing is tried at doubling intervals, up to maxWarmRetry, and logged
// once until one succeeds.
func (p *Pipeline) keepWarm(ctx context.Context) {
	wait, failing := p.stallEvery, false
	for {
		var err error
		if !p.db.indexesLoaded() {
			err = p.loadIndexes(ctx)
		}
		switch {
		case err == nil:
			wait, failing = p.stallEvery, false
		case ctx.Err() != nil:
			return
		case failing:
			wait = min(2*wait, maxWarmRetry)
		default:
			failing = true
			p.log.Warn("projections: the in-memory indexes are not loaded; their queries run in SQL until a later load succeeds",
				"error", err, "retry_in", wait.String())
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
	}
}

// loadIndexes loads the in-memory indexes that are not loaded (DB.WarmUp)
// and logs how long that took.
func (p *Pipeline) loadIndexes(ctx context.Context) error {
	start := time.Now()
	if err := p.db.WarmUp(ctx); err != nil {
		return err
	}
	p.log.Info("projections: the in-memory indexes are loaded", "took_ms", time.Since(start).Milliseconds())
	return nil
}

// watchStalls checks every p.stallEvery, until ctx is done, that each
// running projection has reached the head of the log seen at the previous
// check or is at least moving, and catches up from the store those that
// are neither: their bus lost or withheld the events (a NATS server started
// again on empty storage, its stream or the node's consumer deleted), and
// without this they would wait for the next event to heal the gap. A
// projection busy with a long backlog (a large import) moves, so it is
// left to its bus. A check costs one read of the head. It also catches the
// projections up at once when a read waits for a position the bus has not
// delivered within busGrace (see WaitFor).
func (p *Pipeline) watchStalls(ctx context.Context) {
	tick := time.NewTicker(p.stallEvery)
	defer tick.Stop()
	var seen int64                // the head at the previous check
	before := p.runner.Statuses() // the projections at the previous check
	for {
		select {
		case <-ctx.Done():
			return
		case <-p.behind:
			if _, err := p.runner.CatchUp(ctx, nil); err != nil && ctx.Err() == nil {
				p.log.Warn("projections: cannot catch up from the store for a read waiting for a position", "error", err)
			}
			continue
		case <-tick.C:
		}
		now := p.runner.Statuses()
		if stalled(before, now, seen) {
			p.log.Warn("projections: a projection stood still behind the log's head; catching it up from the store",
				"head", seen, "waited", p.stallEvery)
			p.stalls.Inc()
			if _, err := p.runner.CatchUp(ctx, nil); err != nil && ctx.Err() == nil {
				p.log.Log(ctx, catchUpFailureLevel(err), "projections: catching up a stalled projection failed", "error", err)
			}
		}
		before = now
		if head, err := p.store.Head(ctx); err == nil {
			seen = head.Position
		}
	}
}

// stalled reports whether a projection that has not stopped is behind
// position and has not moved since before (statuses in the runner's
// order).
func stalled(before, now []Status, position int64) bool {
	for i, s := range now {
		if s.Healthy && s.Checkpoint < position && i < len(before) && before[i].Checkpoint == s.Checkpoint {
			return true
		}
	}
	return false
}

// relayTerm runs the relay for one term of this node as the holder of the
// NATS relay lease, until ctx ends (the lease is lost or the pipeline
// closes): after the stream's last event, or after the lowest checkpoint
// when the stream is empty (the projections read any gap from the store).
// Each term has a Relay of its own, sharing the embedded one's event
// counter so that the metrics add up across terms.
func (p *Pipeline) relayTerm(ctx context.Context) error {
	from, err := p.nats.LastPosition(ctx)
	if err != nil {
		return err
	}
	if from == 0 {
		from = lowestCheckpoint(p.runner.Statuses())
	}
	relay := NewRelay(p.store, p.publisher, p.relayOpts)
	relay.events = p.relay.events
	p.relaying.Store(true)
	defer p.relaying.Store(false)
	p.log.Info("projections: relaying the log on NATS", "node", p.node, "after_position", from)
	return relay.Run(ctx, from)
}

// BusStatus is how a node stands on the NATS bus.
type BusStatus struct {
	// Connected says that the node's connection to NATS is up.
	Connected bool `json:"connected"`
	// Relay says that this node holds the relay lease and publishes the log.
	Relay bool `json:"relay"`
	// NameTaken, when not empty, says that another node holds the lease on
	// this node's name, which this node lost (natsbus.Bus.NodeNameTaken);
	// /healthz then answers 503 naming it rather than this status.
	NameTaken string `json:"-"`
}

// BusStatus returns how the node stands on the NATS bus; ok is false in
// embedded mode, which has no bus to lose.
func (p *Pipeline) BusStatus() (status BusStatus, ok bool) {
	if p.nats == nil {
		return BusStatus{}, false
	}
	status = BusStatus{Connected: p.nats.Connected(), Relay: p.relaying.Load()}
	if err := p.nats.NodeNameTaken(); err != nil {
		status.NameTaken = err.Error()
	}
	return status, true
}

// busGauges returns the metrics of BusStatus, none in embedded mode.
func (p *Pipeline) busGauges() []prometheus.Collector {
	if p.nats == nil {
		return nil
	}
	gauge := func(name, help string, value func(BusStatus) bool) prometheus.Collector {
		return prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: name, Help: help}, func() float64 {
			status, _ := p.BusStatus()
			return boolFloat(value(status))
		})
	}
	return []prometheus.Collector{
		gauge("ledger_bus_connected", "1 while the node's connection to NATS is up, 0 while it is down (reads then catch up from the store).",
			func(s BusStatus) bool { return s.Connected }),
		gauge("ledger_relay_active", "1 while this node holds the relay lease and publishes the log on NATS.",
			func(s BusStatus) bool { return s.Relay }),
	}
}

// closeBus closes the bus's subscriber and publisher (or the GoChannel),
// last made first.
func (p *Pipeline) closeBus() error {
	var errs []error
	for i := len(p.closers) - 1; i >= 0; i-- {
		errs = append(errs, p.closers[i]())
	}
	p.closers = nil
	return errors.Join(errs...)
}

func lowestCheckpoint(statuses []Status) int64 {
	lowest := statuses[0].Checkpoint
	for _, s := range statuses[1:] {
		lowest = min(lowest, s.Checkpoint)
	}
	return lowest
}

// Close stops the relay (releasing the NATS relay lease, if held) and the
// router, lets the messages in hand finish, and closes the bus's
// subscriber and publisher (not Options.Bus itself) and the read models.
func (p *Pipeline) Close() error {
	p.cancel()
	errs := []error{p.router.Close()}
	<-p.done
	return errors.Join(append(errs, p.closeBus(), p.db.Close())...)
}

// Listings answers a listing query; see DB.Listings.
func (p *Pipeline) Listings(ctx context.Context, q ListingQuery) (ListingPage, error) {
	return p.db.Listings(ctx, q)
}

// PatenteeRegions lists the regions of the patentees; see
// DB.PatenteeRegions.
func (p *Pipeline) PatenteeRegions(ctx context.Context) ([]string, error) {
	return p.db.PatenteeRegions(ctx)
}

// Tally answers a tally query; see DB.Tally.
func (p *Pipeline) Tally(ctx context.Context, q TallyQuery) (Tally, error) { return p.db.Tally(ctx, q) }

// Rankings answers a ranking query; see DB.Rankings.
func (p *Pipeline) Rankings(ctx context.Context, q RankingQuery) ([]Ranking, error) {
	return p.db.Rankings(ctx, q)
}

// ReviewCoverage answers a review coverage query; see DB.ReviewCoverage.
func (p *Pipeline) ReviewCoverage(ctx context.Context, q ReviewCoverageQuery) (ReviewCoverage, error) {
	return p.db.ReviewCoverage(ctx, q)
}

// DealsByRegion answers a deals-by-region query; see DB.DealsByRegion.
func (p *Pipeline) DealsByRegion(ctx context.Context, q RegionDealsQuery) ([]RegionDeals, error) {
	return p.db.DealsByRegion(ctx, q)
}

// LatestCampaign returns the latest review campaign by asOf; see
// DB.LatestCampaign.
func (p *Pipeline) LatestCampaign(ctx context.Context, asOf domain.Date) (string, error) {
	return p.db.LatestCampaign(ctx, asOf)
}

// busGrace is how long WaitFor leaves a position to the bus before it asks
// for a catch-up from the store. The bus delivers within milliseconds; when
// it cannot (NATS unreachable, or its stream or the node's consumer lost),
// the position is in the store all the same, and a client must still read
// its write there and on every other node.
const busGrace = 250 * time.Millisecond

// WaitFor waits until the named projections reach position; see
// Runner.WaitFor. When they have not within busGrace, the pipeline catches
// them up from the store meanwhile, so that reading one's writes does not
// depend on the bus.
func (p *Pipeline) WaitFor(ctx context.Context, position int64, names ...string) error {
	early, cancel := context.WithTimeout(ctx, busGrace)
	err := p.runner.WaitFor(early, position, names...)
	cancel()
	if !errors.Is(err, context.DeadlineExceeded) || ctx.Err() != nil {
		return err
	}
	select {
	case p.behind <- struct{}{}:
	default: // a catch-up is asked for already
	}
	return p.runner.WaitFor(ctx, position, names...)
}

// Statuses returns the state of every projection (see Runner.Statuses),
// CatchingUp while the first catch-up after Start has not brought it to
// the head the store had then.
func (p *Pipeline) Statuses() []Status {
	out := p.runner.Statuses()
	if p.catchingUp.Load() {
		for i := range out {
			out[i].CatchingUp = out[i].Checkpoint < p.runner.startHead
		}
	}
	return out
}
