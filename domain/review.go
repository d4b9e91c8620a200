package domain

import (
	"fmt"
	"regexp"
	"strings"
)

// RecordReview is the command that records a stock-patent review
// (存量专利盘活) of a patent in a campaign; the same fields correct it.
type RecordReview struct {
	Campaign    string      `json:"campaign"`
	ReviewedOn  Date        `json:"reviewed_on"`
	Grade       Grade       `json:"grade"`
	Disposition Disposition `json:"disposition"`
	Notes       string      `json:"notes"`
	Feedback    []Feedback  `json:"feedback"`
	// ReviewerID names the reviewing patentee when the admin records the
	// review; an organisation's own key reviews as that organisation.
	ReviewerID string `json:"reviewer_id"`
}

// campaignPattern is a campaign name such as "2024" or "2025-h1".
var campaignPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_-]{0,31}$`)

// campaignRule is what campaignPattern asks for, in words.
const campaignRule = "must be 1–32 letters, digits, '-' or '_', like 2024"

// ParseCampaign returns s when it is a valid campaign name, else an
// invalid_argument *Error naming the field campaign.
func ParseCampaign(s string) (string, error) {
	if s == "" {
		return "", Invalid("campaign", "is required, like 2024")
	}
	if !campaignPattern.MatchString(s) {
		return "", Invalid("campaign", campaignRule)
	}
	return s, nil
}

// Validate checks the command's fields.
func (c RecordReview) Validate() error {
	var fe FieldErrors
	if !campaignPattern.MatchString(c.Campaign) {
		fe.Addf("campaign", campaignRule)
	}
	requireDate(&fe, "reviewed_on", c.ReviewedOn)
	if _, err := ParseEnum(string(c.Grade), Grades); err != nil {
		fe.Add("grade", err)
	}
	if _, err := ParseEnum(string(c.Disposition), Dispositions); err != nil {
		fe.Add("disposition", err)
	}
	fe.Add("notes", checkText(c.Notes, false, maxAbstractRunes))
	seen := map[string]bool{}
	for i, f := range c.Feedback {
		switch {
		case strings.TrimSpace(f.OrgID) == "":
			fe.Addf(fmt.Sprintf("feedback[%d].org_id", i), "is required")
		case seen[f.OrgID]:
			fe.Addf(fmt.Sprintf("feedback[%d].org_id", i), "%s is listed twice", Quote(f.OrgID))
		}
		seen[f.OrgID] = true
		if _, err := ParseEnum(string(f.Interest), Interests); err != nil {
			fe.Add(fmt.Sprintf("feedback[%d].interest", i), err)
		}
	}
	return fe.Err()
}

// reviewer returns who reviews: the acting organisation, or for the admin
// the named reviewer, or else the first patentee.
func (c RecordReview) reviewer(p *Patent, actor Actor) string {
	switch {
	case !actor.Admin:
		return actor.OrgID
	case c.ReviewerID != "":
		return c.ReviewerID
	default:
		return p.PatenteeIDs[0]
	}
}

func (p *Patent) reviewEvent(d decision, c RecordReview) (ReviewRecorded, error) {
	if err := c.Validate(); err != nil {
		return ReviewRecorded{}, err
	}
	if err := requirePatentee(p, d.actor); err != nil {
		return ReviewRecorded{}, err
	}
	if err := d.notInFuture("reviewed_on", c.ReviewedOn); err != nil {
		return ReviewRecorded{}, err
	}
	// A campaign reviews the university's valid patents: granted, in their
	// term and not lapsed on the day of the review.
	if s := p.StatusOn(c.ReviewedOn); s != StatusActive {
		return ReviewRecorded{}, Violation(RulePatentNotActive, "patent %s is %s on %s; a review grades a valid patent", p.Number, statusWord(s), c.ReviewedOn)
	}
	reviewer := c.reviewer(p, d.actor)
	if !p.IsPatentee(reviewer) {
		return ReviewRecorded{}, Violation(RuleNotPatentee, "reviewer %s is not a patentee of %s", reviewer, p.Number)
	}
	return ReviewRecorded{Number: p.Number, Campaign: c.Campaign, ReviewerID: reviewer,
		ReviewedOn: c.ReviewedOn, Grade: c.Grade, Disposition: c.Disposition,
		Notes: strings.TrimSpace(c.Notes), Feedback: c.Feedback}, nil
}

// RecordReview decides a review; one per patent and campaign.
func (p *Patent) RecordReview(d decision, c RecordReview) ([]Event, error) {
	ev, err := p.reviewEvent(d, c)
	if err != nil {
		return nil, err
	}
	if prev := p.Reviews[c.Campaign]; prev != nil {
		return nil, Violation(RuleReviewExists, "patent %s was reviewed in campaign %s on %s; correct it instead", p.Number, c.Campaign, prev.ReviewedOn)
	}
	return []Event{ev}, nil
}

// CorrectReview decides a correction of a campaign's review.
func (p *Patent) CorrectReview(d decision, c RecordReview) ([]Event, error) {
	ev, err := p.reviewEvent(d, c)
	if err != nil {
		return nil, err
	}
	if p.Reviews[c.Campaign] == nil {
		return nil, NotFound("campaign", "patent %s has no review in campaign %s", p.Number, c.Campaign)
	}
	return []Event{ReviewCorrected(ev)}, nil
}
