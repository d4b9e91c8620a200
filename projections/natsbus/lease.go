package natsbus

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// ErrLeaseTaken is the cause of a lost lease whose key another holder
// changed or that expired before it was renewed.
var ErrLeaseTaken = errors.New("natsbus: lease taken over or expired")

// ErrLeaseReleased is the cause of a lease ended by Release.
var ErrLeaseReleased = errors.New("natsbus: lease released")

// LeaseOptions configure AcquireRelayLease. The zero value is a sensible
// default.
type LeaseOptions struct {
	// TTL is the lease's lifetime without renewal; DefaultLeaseTTL when
	// zero. Every candidate of a namespace should use the same TTL: it is
	// the lock bucket's, and the last candidate to start sets it.
	TTL time.Duration
	// Replicas is the number of copies of the lock bucket; 1 when zero.
	Replicas int
}

// Lease is a lease of a namespace's lock bucket (the relay lease, or a
// node's name: see Bus.ClaimNodeName), held by one node: while a node
// holds it no other can acquire it. The holder renews it every TTL/3 with
// an update that names the revision it last wrote, and loses it when an
// update is refused (the key changed or expired) or when it could not renew
// for 2/3 of the TTL: the lease is then lost before the server lets it
// expire, so a holder stops before another can start. A relay that loses
// its lease may still finish the publish in hand; the stream drops what a
// successor republishes (the event ID is the Nats-Msg-Id) and projections
// skip what they have applied. A Lease is safe for concurrent use.
type Lease struct {
	kv    jetstream.KeyValue
	key   string // RelayLeaseKey, or NodeLeaseKey of the node
	what  string // "relay lease" or "node name lease", for messages
	node  string
	value []byte
	ttl   time.Duration

	stop     chan struct{} // closed by Release
	done     chan struct{} // closed when the renewal loop ends
	lost     chan struct{} // closed when the lease ends
	stopOnce sync.Once
	lostOnce sync.Once

	mu  sync.Mutex // guards the fields below
	rev uint64
	err error
}

// AcquireRelayLease blocks until node holds the relay lease of namespace ns,
// and returns it. The lease lives in the key RelayLeaseKey of the
// key-value bucket Names.LocksBucket, created (or updated to opts) first; a
// lease nobody renews expires after opts.TTL, and the candidates, which
// retry every TTL/6, take it over. It returns ctx.Err() when ctx ends
// first, and an error when ns or node is invalid or the server fails (the
// caller retries; see Bus.RunAsRelay).
func AcquireRelayLease(ctx context.Context, js jetstream.JetStream, ns, node string, opts LeaseOptions) (*Lease, error) {
	names, err := NamesFor(ns)
	if err != nil {
		return nil, err
	}
	if node == "" {
		return nil, errors.New("natsbus: a lease needs a node name")
	}
	return acquireLease(ctx, js, names, RelayLeaseKey, "relay lease", node, opts)
}

// acquireLease blocks until node holds the lease in key of the namespace's
// lock bucket, as AcquireRelayLease does; what names the lease in errors.
func acquireLease(ctx context.Context, js jetstream.JetStream, names Names, key, what, node string, opts LeaseOptions) (*Lease, error) {
	ttl := opts.TTL
	if ttl <= 0 {
		ttl = DefaultLeaseTTL
	}
	kv, err := js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{
		Bucket:      names.LocksBucket,
		Description: "patent ledger " + names.Namespace + ": the relay lease and the nodes' names",
		History:     1,
		TTL:         ttl,
		Storage:     jetstream.MemoryStorage,
		Replicas:    max(opts.Replicas, 1),
	})
	if err != nil {
		return nil, fmt.Errorf("natsbus: lock bucket %s: %w", names.LocksBucket, err)
	}
	var nonce [8]byte
	_, _ = rand.Read(nonce[:])
	value := []byte(node + " " + hex.EncodeToString(nonce[:]))
	poll := min(max(ttl/6, 50*time.Millisecond), 2*time.Second)
	for {
		sent := time.Now()
		rev, err := kv.Create(ctx, key, value)
		if err == nil {
			l := &Lease{kv: kv, key: key, what: what, node: node, value: value, ttl: ttl, rev: rev,
				stop: make(chan struct{}), done: make(chan struct{}), lost: make(chan struct{})}
			go l.renew(sent)
			return l, nil
		}
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		if !isConflict(err) {
			return nil, fmt.Errorf("natsbus: acquire the %s of %s: %w", what, names.Namespace, err)
		}
		t := time.NewTimer(poll)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, fmt.Errorf("%w: %w", errLeaseHeld, ctx.Err())
		case <-t.C:
		}
	}
}

// noAnswer reports whether err, of a lease, says that NATS is not
// connected or, connected, did not answer in time (a frozen connection
// before its pings fail), rather than that the lease is another node's or
// that the server refused.
func (b *Bus) noAnswer(err error) bool {
	timedOut := errors.Is(err, context.DeadlineExceeded) || errors.Is(err, nats.ErrTimeout)
	return !b.Connected() || timedOut && !errors.Is(err, errLeaseHeld) && !errors.Is(err, ErrNodeNameTaken)
}

// errLeaseHeld is the error of acquireLease when its context ended while
// another node held the lease (the server's last answer), as opposed to
// while the server did not answer.
var errLeaseHeld = errors.New("natsbus: another node holds the lease")

// AcquireRelayLease is AcquireRelayLease for the bus's namespace, with the
// TTL and replicas of its Config.
func (b *Bus) AcquireRelayLease(ctx context.Context, node string) (*Lease, error) {
	return AcquireRelayLease(ctx, b.js, b.names.Namespace, node,
		LeaseOptions{TTL: b.cfg.LeaseTTL, Replicas: b.cfg.Replicas})
}

// isConflict reports whether err says that a key's revision was not the one
// expected (a create of an existing key, an update of a changed one).
func isConflict(err error) bool {
	if errors.Is(err, jetstream.ErrKeyExists) || errors.Is(err, jetstream.ErrKeyRevisionMismatch) {
		return true
	}
	var apiErr *jetstream.APIError
	return errors.As(err, &apiErr) && (apiErr.ErrorCode == jetstream.JSErrCodeStreamWrongLastSequence ||
		apiErr.ErrorCode == jetstream.JSErrCodeStreamWrongLastSequenceConstant)
}

// renewalTooLate is the loss of a lease not renewed within limit: the last
// renewal's failure, or, when no renewal had failed, that taking or
// renewing the lease was answered too late for the next one to be in time.
func renewalTooLate(what string, limit time.Duration, lastErr error) error {
	if lastErr == nil {
		return fmt.Errorf("natsbus: could not renew the %s within %s: taking or renewing it was answered too late", what, limit)
	}
	return fmt.Errorf("natsbus: could not renew the %s within %s: %w", what, limit, lastErr)
}

// renew renews the lease until Release or until it is lost; lastOK is when
// the last successful write was sent.
func (l *Lease) renew(lastOK time.Time) {
	defer close(l.done)
	interval := l.ttl / 3
	next := lastOK.Add(interval)
	var lastErr error
	for {
		t := time.NewTimer(time.Until(next))
		select {
		case <-l.stop:
			t.Stop()
			return
		case <-t.C:
		}
		deadline := lastOK.Add(l.ttl * 2 / 3)
		sent := time.Now()
		if !sent.Before(deadline) {
			l.lose(renewalTooLate(l.what, l.ttl*2/3, lastErr))
			return
		}
		reqDeadline := sent.Add(interval)
		if deadline.Before(reqDeadline) {
			reqDeadline = deadline
		}
		ctx, cancel := context.WithDeadline(context.Background(), reqDeadline)
		err := l.update(ctx)
		cancel()
		switch {
		case err == nil:
			lastOK, next = sent, sent.Add(interval)
		case errors.Is(err, ErrLeaseTaken):
			l.lose(err)
			return
		default:
			lastErr, next = err, time.Now().Add(l.ttl/10)
		}
	}
}

// update writes the lease again. When the revision does not match, an
// earlier update whose answer was lost may have succeeded: if the key still
// holds this lease's value, it adopts the key's revision and writes again.
// It returns an error matching ErrLeaseTaken when the key is another's or
// gone.
func (l *Lease) update(ctx context.Context) error {
	l.mu.Lock()
	rev := l.rev
	l.mu.Unlock()
	newRev, err := l.kv.Update(ctx, l.key, l.value, rev)
	if err != nil && isConflict(err) {
		entry, getErr := l.kv.Get(ctx, l.key)
		switch {
		case errors.Is(getErr, jetstream.ErrKeyNotFound) || errors.Is(getErr, jetstream.ErrKeyDeleted) ||
			(getErr == nil && !bytes.Equal(entry.Value(), l.value)):
			return fmt.Errorf("%w: %w", ErrLeaseTaken, err)
		case getErr != nil:
			return getErr
		}
		newRev, err = l.kv.Update(ctx, l.key, l.value, entry.Revision())
		if err != nil && isConflict(err) {
			return fmt.Errorf("%w: %w", ErrLeaseTaken, err)
		}
	}
	if err != nil {
		return err
	}
	l.mu.Lock()
	l.rev = newRev
	l.mu.Unlock()
	return nil
}

// lose ends the lease with cause err.
func (l *Lease) lose(err error) {
	l.lostOnce.Do(func() {
		l.mu.Lock()
		l.err = err
		l.mu.Unlock()
		close(l.lost)
	})
}

// Node returns the name of the node that holds the lease.
func (l *Lease) Node() string { return l.node }

// Lost returns a channel that is closed when the lease ends: when it could
// not be renewed (see Lease) or after Release. The relay must stop then.
func (l *Lease) Lost() <-chan struct{} { return l.lost }

// Err returns why the lease ended (ErrLeaseReleased after Release; an error
// matching ErrLeaseTaken, or a renewal error), or nil while it is held.
func (l *Lease) Err() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.err
}

// Release stops renewing the lease and, unless it was already lost, deletes
// its key so that another node takes over at once; Lost is closed. It
// returns the error of the deletion, or nil; the lease expires anyway.
// Calling it again does nothing.
func (l *Lease) Release(ctx context.Context) error {
	first := false
	l.stopOnce.Do(func() { first = true; close(l.stop) })
	if !first {
		return nil
	}
	<-l.done
	select {
	case <-l.lost:
		return nil
	default:
	}
	l.mu.Lock()
	rev := l.rev
	l.mu.Unlock()
	l.lose(ErrLeaseReleased)
	err := l.kv.Delete(ctx, l.key, jetstream.LastRevision(rev))
	if err != nil && !isConflict(err) {
		return fmt.Errorf("natsbus: release the %s: %w", l.what, err)
	}
	return nil
}

// RelayHolder returns the node that holds the relay lease of namespace ns,
// or "" when none does. It returns an error when ns is invalid or the
// bucket cannot be read.
func RelayHolder(ctx context.Context, js jetstream.JetStream, ns string) (string, error) {
	names, err := NamesFor(ns)
	if err != nil {
		return "", err
	}
	kv, err := js.KeyValue(ctx, names.LocksBucket)
	if errors.Is(err, jetstream.ErrBucketNotFound) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("natsbus: lock bucket %s: %w", names.LocksBucket, err)
	}
	entry, err := kv.Get(ctx, RelayLeaseKey)
	if errors.Is(err, jetstream.ErrKeyNotFound) || errors.Is(err, jetstream.ErrKeyDeleted) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("natsbus: read the relay lease: %w", err)
	}
	v := string(entry.Value())
	if i := strings.LastIndexByte(v, ' '); i >= 0 {
		v = v[:i]
	}
	return v, nil
}

// logLeaseFailure logs a failure to acquire the relay lease and reports
// whether NATS does not answer (noAnswer): that is logged once per outage,
// as a warning (the bus's health says so meanwhile), rather than as an
// error every lease TTL; any other failure is an error each time.
func (b *Bus) logLeaseFailure(log *slog.Logger, err error, waitingForNATS bool) bool {
	if b.noAnswer(err) {
		if !waitingForNATS {
			log.Warn("natsbus: NATS does not answer; the relay waits for it", "error", err)
		}
		return true
	}
	log.Error("natsbus: cannot acquire the relay lease; retrying", "error", err)
	return false
}

// RunAsRelay runs run whenever node holds the bus's relay lease, until ctx
// is done, and then returns nil. It acquires the lease, calls run with a
// context that ends when the lease is lost, releases the lease when run
// returns, and starts again. Before each run it makes the namespace's
// stream again if the server has lost it. An error of run or of the lease is logged and
// followed by a pause of one lease TTL. run is typically
//
//	func(ctx context.Context) error {
//		from, err := bus.LastPosition(ctx)
//		if err != nil {
//			return err
//		}
//		return relay.Run(ctx, from)
//	}
//
// possibly starting an empty stream (from == 0) at the node's lowest
// checkpoint instead, since projections read any gap from the store.
func (b *Bus) RunAsRelay(ctx context.Context, node string, run func(ctx context.Context) error) error {
	log := b.cfg.Logger.With("namespace", b.names.Namespace, "node", node)
	pause := func() {
		t := time.NewTimer(b.cfg.LeaseTTL)
		defer t.Stop()
		select {
		case <-ctx.Done():
		case <-t.C:
		}
	}
	waitingForNATS := false
	for ctx.Err() == nil {
		lease, err := b.AcquireRelayLease(ctx, node)
		if err != nil {
			if ctx.Err() == nil {
				waitingForNATS = b.logLeaseFailure(log, err, waitingForNATS)
				pause()
			}
			continue
		}
		waitingForNATS = false
		log.Info("natsbus: this node is the relay")
		runCtx, cancel := context.WithCancel(ctx)
		go func() {
			select {
			case <-lease.Lost():
				cancel()
			case <-runCtx.Done():
			}
		}()
		if err = b.ensureStream(runCtx); err == nil {
			err = run(runCtx)
		}
		cancel()
		lostErr := lease.Err()
		relCtx, relCancel := context.WithTimeout(context.WithoutCancel(ctx), b.cfg.LeaseTTL)
		relErr := lease.Release(relCtx)
		relCancel()
		switch {
		case lostErr != nil:
			log.Warn("natsbus: this node lost the relay lease", "cause", lostErr)
		case relErr != nil:
			log.Warn("natsbus: relay lease not released; it expires", "error", relErr)
		}
		if err != nil && ctx.Err() == nil {
			log.Error("natsbus: the relay failed; retrying", "error", err)
			pause()
		} else if lostErr != nil {
			pause()
		}
	}
	return nil
}

// ErrNodeNameTaken is the error of Bus.ClaimNodeName when another running
// node of the ledger uses the name.
var ErrNodeNameTaken = errors.New("natsbus: the node name is in use by another running node of this ledger")

// ClaimNodeName takes the lease on node's name (NodeLeaseKey) in the
// bus's lock bucket and keeps renewing it until release is called, so
// that two nodes never run under one name: they would share one durable
// consumer and each get about half of the events. It waits up to two
// lease TTLs for the lease of a node that died under the name to expire,
// and returns an error matching ErrNodeNameTaken when another node still
// renews it, or the server's error. A lease lost while the node runs
// (NATS unreachable for a TTL) is taken again as soon as it can be; a
// failure is logged.
func (b *Bus) ClaimNodeName(ctx context.Context, node string) (release func(), err error) {
	if node == "" {
		return nil, errors.New("natsbus: a lease needs a node name")
	}
	lease, err := b.acquireNodeName(ctx, node)
	if err != nil {
		return nil, err
	}
	keepCtx, stop := context.WithCancel(context.WithoutCancel(ctx))
	done := make(chan struct{})
	go func() {
		defer close(done)
		b.keepNodeName(keepCtx, node, lease)
	}()
	return func() { stop(); <-done }, nil
}

// NodeNameTaken returns an error matching ErrNodeNameTaken while this
// node, having lost the lease on its name (NATS cut off from it for longer
// than the lease TTL), finds it held by another node that took the name
// meanwhile: the two then share one durable consumer, and each gets only
// some of the events until one stops. It returns nil while the node holds
// its name or has found no other node holding it (a conflict found before
// NATS stopped answering stands until the node takes its name again).
func (b *Bus) NodeNameTaken() error {
	if err := b.nameTaken.Load(); err != nil {
		return *err
	}
	return nil
}

// acquireNodeName takes the lease on node's name, waiting up to two TTLs.
func (b *Bus) acquireNodeName(ctx context.Context, node string) (*Lease, error) {
	wait := 2*b.cfg.LeaseTTL + time.Second
	waitCtx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	lease, err := acquireLease(waitCtx, b.js, b.names, NodeLeaseKey(node), "node name lease", node,
		LeaseOptions{TTL: b.cfg.LeaseTTL, Replicas: b.cfg.Replicas})
	switch {
	case err == nil || ctx.Err() != nil:
	case errors.Is(err, errLeaseHeld):
		return nil, fmt.Errorf("%w: %q has been renewed by another node for %s; give each node its own --node", ErrNodeNameTaken, node, wait)
	case errors.Is(err, context.DeadlineExceeded):
		return nil, fmt.Errorf("natsbus: NATS did not answer within %s while this node took the lease on its name %q: %w", wait, node, err)
	}
	return lease, err
}

// keepNodeName holds the lease on node's name until ctx ends, taking it
// again whenever it is lost, and releases it then.
func (b *Bus) keepNodeName(ctx context.Context, node string, lease *Lease) {
	log := b.cfg.Logger.With("namespace", b.names.Namespace, "node", node)
	for {
		select {
		case <-ctx.Done():
			relCtx, cancel := context.WithTimeout(context.Background(), b.cfg.LeaseTTL)
			defer cancel()
			if err := lease.Release(relCtx); err != nil {
				log.Warn("natsbus: node name lease not released; it expires", "error", err)
			}
			return
		case <-lease.Lost():
		}
		log.Warn("natsbus: this node lost the lease on its name; taking it again", "cause", lease.Err())
		waitingForNATS := false
		for {
			var err error
			if lease, err = b.acquireNodeName(ctx, node); err == nil {
				b.nameTaken.Store(nil)
				break
			}
			if ctx.Err() != nil {
				return
			}
			if errors.Is(err, ErrNodeNameTaken) {
				b.nameTaken.Store(&err)
			}
			// NATS not connected, or connected but not answering (a frozen
			// connection before its pings fail), is an outage, logged once
			// per outage, which the bus's health shows meanwhile.
			outage := b.noAnswer(err)
			switch {
			case !outage:
				log.Error("natsbus: cannot take the lease on this node's name again; retrying", "error", err)
			case !waitingForNATS:
				log.Warn("natsbus: NATS does not answer; the node takes the lease on its name again once it does", "error", err)
			}
			waitingForNATS = outage
			t := time.NewTimer(b.cfg.LeaseTTL)
			select {
			case <-ctx.Done():
				t.Stop()
				return
			case <-t.C:
			}
		}
	}
}
