package postgres

import (
	"context"
	"errors"
	"fmt"
	"hash/crc32"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/patentledger/ledger/eventstore/internal/headwatch"
)

// listener keeps a notifier up to date with commits made by any node: it
// LISTENs on the schema's channel over a connection of its own and, when no
// notification comes for a poll interval, reads the last position itself.
// A broken connection is replaced; meanwhile polling goes on.
type listener struct {
	cfg      *pgx.ConnConfig
	pool     *pgxpool.Pool
	channel  channel
	interval time.Duration
	conn     *pgx.Conn // nil while disconnected; used by run only

	ctx    context.Context // ends at stop
	cancel context.CancelFunc
	done   chan struct{} // closed when run returns
}

// listen connects, LISTENs on channel and starts passing every position it
// learns of to notify until stop.
func listen(ctx context.Context, cfg *pgx.ConnConfig, pool *pgxpool.Pool, channel channel, interval time.Duration, notify *headwatch.Notifier) (*listener, error) {
	l := &listener{cfg: cfg, pool: pool, channel: channel, interval: interval, done: make(chan struct{})}
	if err := l.connect(ctx); err != nil {
		return nil, err
	}
	l.ctx, l.cancel = context.WithCancel(context.Background())
	go l.run(notify)
	return l, nil
}

// connect opens the listening connection and LISTENs on the channel.
func (l *listener) connect(ctx context.Context) error {
	conn, err := pgx.ConnectConfig(ctx, l.cfg)
	if err != nil {
		return err
	}
	if _, err := conn.Exec(ctx, "LISTEN "+pgx.Identifier{l.channel.name}.Sanitize()); err != nil {
		return errors.Join(err, conn.Close(ctx))
	}
	l.conn = conn
	return nil
}

// stop ends run and waits until it has closed the connection.
func (l *listener) stop() {
	l.cancel()
	<-l.done
}

// run passes every position it learns of to notify until stop.
func (l *listener) run(notify *headwatch.Notifier) {
	defer close(l.done)
	for l.ctx.Err() == nil {
		l.step(notify)
	}
	if l.conn != nil {
		_ = l.conn.Close(context.Background())
	}
}

// step waits up to one poll interval for a notification and polls when none
// came. While disconnected it tries to reconnect, and polls after waiting
// out the interval when that fails.
func (l *listener) step(notify *headwatch.Notifier) {
	if l.conn == nil {
		if err := l.connect(l.ctx); err != nil {
			l.sleep()
			l.poll(notify)
			return
		}
		l.poll(notify) // notifications sent while disconnected are lost
	}
	wait, cancel := context.WithTimeout(l.ctx, l.interval)
	n, err := l.conn.WaitForNotification(wait)
	cancel()
	if err == nil {
		if pos, ok := l.channel.position(n.Payload); ok {
			notify.Advance(pos)
			return
		}
	} else if l.conn.IsClosed() {
		l.conn = nil
	}
	l.poll(notify)
}

// poll reads the last position and passes it to notify. A failure is left
// for the next poll to mend.
func (l *listener) poll(notify *headwatch.Notifier) {
	if pos, err := lastPosition(l.ctx, l.pool); err == nil {
		notify.Advance(pos)
	}
}

// sleep waits for one poll interval or until stop.
func (l *listener) sleep() {
	t := time.NewTimer(l.interval)
	defer t.Stop()
	select {
	case <-t.C:
	case <-l.ctx.Done():
	}
}

// channel is the notification channel of a schema. A schema's name may be
// too long for a channel's, so the channel's name carries a checksum of it
// instead; the payload, "<position> <schema>", names the schema in full, so
// that a listener can ignore a schema whose checksum collides.
type channel struct{ name, schema string }

// newChannel returns the channel of schema.
func newChannel(schema string) channel {
	return channel{name: fmt.Sprintf("ledger_events_%08x", crc32.ChecksumIEEE([]byte(schema))), schema: schema}
}

// payload returns the payload that announces position.
func (c channel) payload(position int64) string {
	return strconv.FormatInt(position, 10) + " " + c.schema
}

// position returns the position payload announces, and false when payload
// is not an announcement of c's schema.
func (c channel) position(payload string) (int64, bool) {
	pos, schema, ok := strings.Cut(payload, " ")
	if !ok || schema != c.schema {
		return 0, false
	}
	p, err := strconv.ParseInt(pos, 10, 64)
	return p, err == nil
}
