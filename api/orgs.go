package api

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/patentledger/ledger/domain"
)

// orgView is an organisation as the API shows it.
type orgView struct {
	ID         string `json:"id"`
	Name       string `json:"name"`
	Kind       string `json:"kind"`
	RegionCode string `json:"region_code"`
	CreditCode string `json:"credit_code"`
	SME        bool   `json:"sme"`
	Keys       int    `json:"keys"`
}

func (s *Server) createOrg(c echo.Context) error {
	if err := requireAdmin(c); err != nil {
		return err
	}
	return runWrite(c, http.StatusCreated, "id", s.svc.RegisterOrg)
}

func (s *Server) getOrg(c echo.Context) error {
	if _, err := requireReader(c); err != nil {
		return err
	}
	if err := s.waitForStore(c); err != nil {
		return err
	}
	org, err := s.svc.Org(c.Request().Context(), c.Param("id"))
	if err != nil {
		return err
	}
	return writeJSON(c, http.StatusOK, orgView{ID: org.ID, Name: org.Name, Kind: string(org.Kind),
		RegionCode: string(org.RegionCode), CreditCode: string(org.CreditCode), SME: org.SME, Keys: len(org.KeyHashes)})
}

// createKey issues an API key for an organisation. The key is shown once;
// the ledger stores only its hash. A repeat with the same Idempotency-Key
// answers the same key.
func (s *Server) createKey(c echo.Context) error {
	if err := requireAdmin(c); err != nil {
		return err
	}
	req, err := writeContext(c, nil)
	if err != nil {
		return err
	}
	orgID := c.Param("id")
	secret := s.newKeySecret(orgID, req.IdempotencyKey)
	res, err := s.svc.IssueKey(c.Request().Context(), req, orgID, domain.HashKeySecret(secret))
	if err != nil {
		return err
	}
	return written(c, http.StatusCreated, res, map[string]any{"key": formatKey(orgID, res.ID, secret), "key_id": res.ID})
}

// revokeKey revokes an organisation's API key: from then on the key answers
// 401, in the API and in a web session signed in with it. The admin or the
// key's own organisation may revoke it; the domain checks which.
func (s *Server) revokeKey(c echo.Context) error {
	p, err := requireReader(c)
	if err != nil {
		return err
	}
	req, err := commandRequest(c, p)
	if err != nil {
		return err
	}
	if err := decodeBody(c, &noBody{}); err != nil {
		return err
	}
	res, err := s.svc.RevokeKey(c.Request().Context(), req, c.Param("id"), c.Param("key_id"))
	if err != nil {
		return err
	}
	return written(c, http.StatusOK, res, nil)
}
