package api

import (
	"context"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/patentledger/ledger/domain"
)

func (s *Server) registerPledge(c echo.Context) error {
	return runWrite(c, http.StatusCreated, "pledge_id", s.svc.RegisterPledge)
}

func (s *Server) consentPledge(c echo.Context) error {
	return runWrite(c, http.StatusOK, "", func(ctx context.Context, req domain.Request, cmd domain.ConsentPledge) (domain.Result, error) {
		cmd.PledgeID = c.Param("pledge_id")
		return s.svc.ConsentPledge(ctx, req, cmd)
	})
}

func (s *Server) releasePledge(c echo.Context) error {
	return runWrite(c, http.StatusOK, "", func(ctx context.Context, req domain.Request, cmd domain.ReleasePledge) (domain.Result, error) {
		cmd.PledgeID = c.Param("pledge_id")
		return s.svc.ReleasePledge(ctx, req, cmd)
	})
}
