package api

import (
	"context"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/patentledger/ledger/domain"
)

func (s *Server) recordLicense(c echo.Context) error {
	return runWrite(c, http.StatusOK, "", func(ctx context.Context, req domain.Request, cmd domain.RecordLicense) (domain.Result, error) {
		cmd.LicenseID = c.Param("license_id")
		return s.svc.RecordLicense(ctx, req, cmd)
	})
}

func (s *Server) payRoyalty(c echo.Context) error {
	return runWrite(c, http.StatusCreated, "", func(ctx context.Context, req domain.Request, cmd domain.PayRoyalty) (domain.Result, error) {
		cmd.LicenseID = c.Param("license_id")
		return s.svc.PayRoyalty(ctx, req, cmd)
	})
}
