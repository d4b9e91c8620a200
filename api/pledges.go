package api

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/patentledger/ledger/domain"
)

func (s *Server) registerPledge(c echo.Context) error {
	var cmd domain.RegisterPledge
	req, err := writeContext(c, &cmd)
	if err != nil {
		return err
	}
	res, err := s.svc.RegisterPledge(c.Request().Context(), req, cmd)
	if err != nil {
		return err
	}
	return written(c, http.StatusCreated, res, map[string]any{"pledge_id": res.ID})
}

func (s *Server) consentPledge(c echo.Context) error {
	var cmd domain.ConsentPledge
	req, err := writeContext(c, &cmd)
	if err != nil {
		return err
	}
	cmd.PledgeID = c.Param("pledge_id")
	res, err := s.svc.ConsentPledge(c.Request().Context(), req, cmd)
	if err != nil {
		return err
	}
	return written(c, http.StatusOK, res, nil)
}

func (s *Server) releasePledge(c echo.Context) error {
	var cmd domain.ReleasePledge
	req, err := writeContext(c, &cmd)
	if err != nil {
		return err
	}
	cmd.PledgeID = c.Param("pledge_id")
	res, err := s.svc.ReleasePledge(c.Request().Context(), req, cmd)
	if err != nil {
		return err
	}
	return written(c, http.StatusOK, res, nil)
}
