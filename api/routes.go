package api

import "github.com/patentledger/ledger/projections"

// routes registers every route of the server. This is the one place routes
// are registered; the OpenAPI test checks the document against it.
func (s *Server) routes() {
	e := s.echo
	e.GET("/healthz", s.health)
	e.GET("/readyz", s.readiness)
	e.GET("/openapi.json", s.openAPI)

	// Web pages (server-rendered, no JavaScript needed).
	e.GET("/static/*", staticFiles())
	e.GET("/", s.searchPageHandler)
	e.GET("/dashboard", s.dashboardPage)
	e.GET("/patents/:number", s.patentPage)
	e.POST("/patents/:number/declare", s.webDeclare)
	e.POST("/patents/:number/withdraw", s.webWithdraw)
	e.GET("/signin", s.signinPage)
	e.POST("/signin", s.signin)
	e.POST("/signout", s.signout)
	e.GET("/me", s.mePage)

	v1 := e.Group("/v1")
	v1.POST("/orgs", s.createOrg)
	v1.GET("/orgs/:id", s.getOrg)
	v1.POST("/orgs/:id/keys", s.createKey)
	v1.POST("/orgs/:id/keys/:key_id/revocation", s.revokeKey)

	v1.POST("/patents", s.registerPatent)
	v1.GET("/patents/:number", s.getPatent)
	v1.GET("/patents/:number/history", s.patentHistory)
	v1.POST("/patents/:number/status", s.changeStatus)
	v1.POST("/patents/:number/declarations", s.fileDeclaration)
	v1.POST("/patents/:number/declarations/:declaration_id/withdrawal", s.withdrawDeclaration)
	v1.POST("/patents/:number/licenses", s.grantLicense)
	v1.POST("/patents/:number/transfers", s.transferPatent)
	v1.POST("/patents/:number/reviews", s.recordReview)
	v1.PUT("/patents/:number/reviews/:campaign", s.correctReview)
	v1.POST("/imports/patents", s.importPatents)

	v1.POST("/licenses/:license_id/recordal", s.recordLicense)
	v1.POST("/licenses/:license_id/royalties", s.payRoyalty)

	v1.POST("/pledges", s.registerPledge)
	v1.POST("/pledges/:pledge_id/consent", s.consentPledge)
	v1.POST("/pledges/:pledge_id/release", s.releasePledge)

	v1.GET("/ledger/head", s.ledgerHead)
	v1.GET("/ledger/events", s.ledgerEvents)

	// Reads served by the projections (listings, tallies, rankings).
	v1.GET("/listings", s.listings)
	for _, subject := range projections.Subjects {
		v1.GET("/tallies/"+subject, s.tally(subject))
	}
	v1.GET("/tallies/"+projections.Recordals, s.extraTally(projections.Recordals))
	v1.GET("/tallies/"+projections.MultiLicensee, s.extraTally(projections.MultiLicensee))
	v1.GET("/tallies/"+projections.FeeReductions, s.extraTally(projections.FeeReductions))
	v1.GET("/tallies/"+projections.TimeToFirstLicence, s.extraTally(projections.TimeToFirstLicence))
	v1.GET("/tallies/"+projections.Fees, s.extraTally(projections.Fees))
	v1.GET("/tallies/"+reviewCoverageSubject, s.reviewCoverage)
	v1.GET("/tallies/"+dealsByRegionSubject, s.dealsByRegion)
	v1.GET("/rankings/patentees", s.rankings)
	e.GET("/metrics", s.metrics)
}
