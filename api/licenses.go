package api

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/patentledger/ledger/domain"
)

func (s *Server) recordLicense(c echo.Context) error {
	var cmd domain.RecordLicense
	req, err := writeContext(c, &cmd)
	if err != nil {
		return err
	}
	cmd.LicenseID = c.Param("license_id")
	res, err := s.svc.RecordLicense(c.Request().Context(), req, cmd)
	if err != nil {
		return err
	}
	return written(c, http.StatusOK, res, nil)
}

func (s *Server) payRoyalty(c echo.Context) error {
	var cmd domain.PayRoyalty
	req, err := writeContext(c, &cmd)
	if err != nil {
		return err
	}
	cmd.LicenseID = c.Param("license_id")
	res, err := s.svc.PayRoyalty(c.Request().Context(), req, cmd)
	if err != nil {
		return err
	}
	return written(c, http.StatusCreated, res, nil)
}
