package projections

import (
	"cmp"
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/ThreeDotsLabs/watermill"
	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/ThreeDotsLabs/watermill/pubsub/gochannel"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/patentledger/ledger/domain"
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
}

// Pipeline is the read side of one node in embedded mode: the read-model
// file, the runner, a watermill router with one handler per projection, an
// in-process GoChannel bus, and the relay publishing the store's log on it.
// It answers the read-model queries. It is safe for concurrent use.
type Pipeline struct {
	db     *DB
	runner *Runner
	relay  *Relay
	bus    *gochannel.GoChannel
	router *message.Router
	log    *slog.Logger
	cancel context.CancelFunc
	done   chan struct{}
}

// Start opens the read models at path and starts the pipeline: the router
// subscribes, the projections catch up with the store, then the relay
// follows the log from the lowest checkpoint. Queries are served at once,
// from whatever the read models hold (use WaitFor to read one's writes).
// It returns an error when the file cannot be opened or the router built.
func Start(ctx context.Context, store domain.EventStore, path string, opts Options) (_ *Pipeline, err error) {
	log := opts.Logger
	if log == nil {
		log = slog.Default()
	}
	db, err := OpenDB(ctx, path)
	if err != nil {
		return nil, err
	}
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
	wlog := watermill.NewSlogLoggerWithLevelMapping(log, map[slog.Level]slog.Level{slog.LevelInfo: slog.LevelDebug})
	bus := gochannel.NewGoChannel(gochannel.Config{BlockPublishUntilSubscriberAck: true}, wlog)
	router, err := message.NewRouter(message.RouterConfig{CloseTimeout: 10 * time.Second}, wlog)
	if err != nil {
		return nil, err
	}
	runner.AddHandlers(router, bus)
	p := &Pipeline{db: db, runner: runner, relay: NewRelay(store, bus, relayOpts), bus: bus, router: router,
		log: log, done: make(chan struct{})}
	if opts.Registerer != nil {
		if err := opts.Registerer.Register(NewCollector(store, runner, p.relay)); err != nil {
			return nil, err
		}
	}
	runCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	p.cancel = cancel
	go p.run(runCtx)
	return p, nil
}

// run runs the router, catches the projections up and runs the relay until
// ctx is done.
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
	if err != nil && ctx.Err() == nil {
		p.log.Error("projections: catch-up failed; the relay heals the gap", "error", err)
		from = lowestCheckpoint(p.runner.Statuses())
	}
	if ctx.Err() == nil {
		_ = p.relay.Run(ctx, from) // returns nil when ctx is done
	}
}

func lowestCheckpoint(statuses []Status) int64 {
	lowest := statuses[0].Checkpoint
	for _, s := range statuses[1:] {
		lowest = min(lowest, s.Checkpoint)
	}
	return lowest
}

// Close stops the relay and the router, lets the messages in hand finish,
// and closes the bus and the read models.
func (p *Pipeline) Close() error {
	p.cancel()
	errs := []error{p.router.Close()}
	<-p.done
	return errors.Join(append(errs, p.bus.Close(), p.db.Close())...)
}

// Listings answers a listing query; see DB.Listings.
func (p *Pipeline) Listings(ctx context.Context, q ListingQuery) (ListingPage, error) {
	return p.db.Listings(ctx, q)
}

// Tally answers a tally query; see DB.Tally.
func (p *Pipeline) Tally(ctx context.Context, q TallyQuery) (Tally, error) { return p.db.Tally(ctx, q) }

// Rankings answers a ranking query; see DB.Rankings.
func (p *Pipeline) Rankings(ctx context.Context, q RankingQuery) ([]Ranking, error) {
	return p.db.Rankings(ctx, q)
}

// WaitFor waits until the named projections reach position; see
// Runner.WaitFor.
func (p *Pipeline) WaitFor(ctx context.Context, position int64, names ...string) error {
	return p.runner.WaitFor(ctx, position, names...)
}

// Statuses returns the state of every projection; see Runner.Statuses.
func (p *Pipeline) Statuses() []Status { return p.runner.Statuses() }
