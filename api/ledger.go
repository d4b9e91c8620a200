package api

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/patentledger/ledger/domain"
	"github.com/patentledger/ledger/projections"
)

func (s *Server) ledgerHead(c echo.Context) error {
	if _, err := requireReader(c); err != nil {
		return err
	}
	if err := s.waitForStore(c); err != nil {
		return err
	}
	h, err := s.store.Head(c.Request().Context())
	if err != nil {
		return err
	}
	return writeJSON(c, http.StatusOK, map[string]any{"position": h.Position, "hash": hex.EncodeToString(h.Hash)})
}

// health answers 200 while the server can read its store and every
// projection applies events, with each projection's checkpoint, lag
// (head − checkpoint) and whether it is catching up since the start, and
// whether the store takes appends (WriteHealth: a store that refuses them,
// its disk full, still serves reads, so the answer stays 200);
// 503 with Retry-After when the store cannot be read, and 503 naming the
// projections that stopped otherwise. With min_position it answers once
// every projection (the store, on a server without read models) has
// reached that position, as every read does.
func (s *Server) health(c echo.Context) error { return s.healthAnswer(c, false) }

// readiness answers GET /readyz as health does, but 503 with Retry-After
// also while a projection catches up with the log the store held when the
// server started (a rebuild, a new data folder): its answers are not yet
// current, and a load balancer should send reads elsewhere. /healthz stays
// 200 meanwhile, so that a liveness probe does not restart a server in the
// middle of a long rebuild.
func (s *Server) readiness(c echo.Context) error { return s.healthAnswer(c, true) }

// healthAnswer answers /healthz, or /readyz when ready is asked for.
func (s *Server) healthAnswer(c echo.Context, ready bool) error {
	wait := s.waitForStore
	if s.reads != nil {
		wait = func(c echo.Context) error { return s.waitForReadModels(c) }
	}
	if err := wait(c); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(c.Request().Context(), 2*time.Second)
	defer cancel()
	h, err := s.store.Head(ctx)
	if err != nil && c.Request().Context().Err() != nil {
		return c.Request().Context().Err() // the prober gave up (499): no news of the store
	}
	if err != nil {
		// The answer needs no key: the store's address and error stay in the log.
		if s.storeUnreadable.CompareAndSwap(false, true) {
			s.log.Warn("health: the event store cannot be read", "error", err)
		}
		return &unavailableError{detail: "the event store cannot be read; the server's log says why", retryAfter: storeRetryAfter}
	}
	if s.storeUnreadable.CompareAndSwap(true, false) {
		s.log.Info("health: the event store can be read again")
	}
	views := []map[string]any{}
	var stopped, catching []string
	retryAfter := "60" // a projection that waits for its disk goes on by itself
	if s.reads != nil {
		for _, st := range s.reads.Statuses() {
			views = append(views, map[string]any{"name": st.Name, "checkpoint": st.Checkpoint,
				"lag": max(0, h.Position-st.Checkpoint), "healthy": st.Healthy, "catching_up": st.CatchingUp})
			switch {
			case st.Waiting:
				stopped = append(stopped, fmt.Sprintf("projection %s waits at position %d: %s", st.Name, st.Checkpoint, st.Error))
			case st.Damaged: // the open answer names no file: the log does
				stopped = append(stopped, fmt.Sprintf("projection %s stopped at position %d: the read-model file is damaged; "+
					"the server's log names it and says how to mend it", st.Name, st.Checkpoint))
				retryAfter = "" // only the operator mends it
			case !st.Healthy:
				stopped = append(stopped, fmt.Sprintf("projection %s stopped at position %d: %s", st.Name, st.Checkpoint, st.Error))
				retryAfter = "" // it stays stopped until the server starts again
			}
			if st.CatchingUp {
				catching = append(catching, fmt.Sprintf("%s at position %d of %d", st.Name, st.Checkpoint, h.Position))
			}
		}
	}
	if len(stopped) > 0 {
		if w := s.writeStatus(); w.Failing {
			stopped = append(stopped, "writes to the event store fail since "+w.Since.Format(time.RFC3339)+": "+w.Detail)
		}
		return &unavailableError{detail: strings.Join(stopped, "; "), retryAfter: retryAfter}
	}
	if ready && len(catching) > 0 {
		return &unavailableError{detail: "the read models are catching up with the log since the server started (" +
			strings.Join(catching, "; ") + "); their answers are not yet current", retryAfter: "5"}
	}
	answer := map[string]any{"status": "ok", "position": h.Position, "projections": views}
	if s.writes != nil {
		answer["writes"] = s.writeStatus()
	}
	if bus, ok := s.reads.(BusReporter); ok {
		if status, ok := bus.BusStatus(); ok {
			if status.NameTaken != "" {
				return &unavailableError{detail: "another node runs under this node's name, which this node lost while NATS was cut off from it; " +
					"each gets only some of the events: stop one of them (" + status.NameTaken + ")", retryAfter: "60"}
			}
			answer["bus"] = status
		}
	}
	return writeJSON(c, http.StatusOK, answer)
}

// waitForStore honours min_position for reads served from the event store:
// it waits, up to the server's limit, until the store holds that position.
func (s *Server) waitForStore(c echo.Context) error {
	pos, err := intQuery(c, "min_position", 0, 0, 1<<62)
	if err != nil || pos == 0 {
		return err
	}
	ctx, cancel := context.WithTimeout(c.Request().Context(), s.readWait)
	defer cancel()
	for {
		h, err := s.store.Head(ctx)
		if err != nil {
			return err
		}
		if h.Position >= pos {
			return nil
		}
		if err := s.store.WaitForPosition(ctx, h.Position); err != nil {
			if errors.Is(err, context.DeadlineExceeded) {
				return &unavailableError{detail: "the ledger has not reached position " + strconv.FormatInt(pos, 10) + " yet", retryAfter: "1"}
			}
			return err
		}
	}
}

// waitForReadModels honours min_position for reads served by the named
// projections: it waits, up to the server's limit, until they have applied
// that position. It answers 503 when there are no read models or one of
// them has stopped.
func (s *Server) waitForReadModels(c echo.Context, names ...string) error {
	if s.reads == nil {
		return &unavailableError{detail: "this server has no read models", retryAfter: "60"}
	}
	pos, err := intQuery(c, "min_position", 0, 0, 1<<62)
	if err != nil || pos == 0 {
		return err
	}
	ctx, cancel := context.WithTimeout(c.Request().Context(), s.readWait)
	defer cancel()
	err = s.reads.WaitFor(ctx, pos, names...)
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		return &unavailableError{detail: "the read models have not reached position " + strconv.FormatInt(pos, 10) + " yet", retryAfter: "1"}
	case errors.Is(err, projections.ErrStopped):
		return &unavailableError{detail: err.Error(), retryAfter: "60"}
	}
	return err
}

// intQuery parses an integer query parameter within [lo, hi], def when
// absent.
func intQuery(c echo.Context, name string, def, lo, hi int64) (int64, error) {
	s := c.QueryParam(name)
	if s == "" {
		return def, nil
	}
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil || v < lo || v > hi {
		return 0, domain.Invalid(name, "must be an integer from %d to %d", lo, hi)
	}
	return v, nil
}
