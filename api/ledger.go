package api

import (
	"context"
	"encoding/hex"
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/patentledger/ledger/domain"
)

func (s *Server) ledgerHead(c echo.Context) error {
	if _, err := requireReader(c); err != nil {
		return err
	}
	h, err := s.store.Head(c.Request().Context())
	if err != nil {
		return err
	}
	return writeJSON(c, http.StatusOK, map[string]any{"position": h.Position, "hash": hex.EncodeToString(h.Hash)})
}

// health answers 200 while the server can read its store.
func (s *Server) health(c echo.Context) error {
	ctx, cancel := context.WithTimeout(c.Request().Context(), 2*time.Second)
	defer cancel()
	h, err := s.store.Head(ctx)
	if err != nil {
		return &unavailableError{detail: "the event store cannot be read: " + err.Error()}
	}
	return writeJSON(c, http.StatusOK, map[string]any{"status": "ok", "position": h.Position, "projections": []any{}})
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
