package domain

import (
	"bytes"
	"context"
	"encoding/gob"
	"fmt"
)

// Snapshot is an aggregate's state at a stream version, encoded by the
// domain. Snapshots are derived data: losing them costs only load time.
type Snapshot struct {
	Stream string
	// Version is the stream version the state reflects.
	Version int64
	// LastEventID is the ID of the event at Version, so a snapshot taken
	// from another store is recognised and ignored.
	LastEventID string
	// Format is the encoding's version; a snapshot of another format is
	// ignored.
	Format int
	Data   []byte
}

// SnapshotStore keeps the latest snapshot of each stream. Implementations
// are safe for concurrent use.
type SnapshotStore interface {
	// LoadSnapshot returns the stream's snapshot; ok is false when there is
	// none.
	LoadSnapshot(ctx context.Context, stream string) (s Snapshot, ok bool, err error)
	// SaveSnapshot replaces the stream's snapshot unless the stored one is
	// newer.
	SaveSnapshot(ctx context.Context, s Snapshot) error
}

// snapshotFormat is the version of the snapshot encoding below; bump it
// when patentSnapshot changes shape.
const snapshotFormat = 1

// patentSnapshot is the state of a Patent in exported fields for gob.
type patentSnapshot struct {
	Registered   PatentRegistered
	Status       []dated[PatentStatus]
	Suspended    []dated[bool]
	FeeOverdue   []dated[bool]
	Declarations []Declaration
	Licenses     []License
	Pledges      []Pledge
	Transfers    []PatentTransferred
	Reviews      map[string]*ReviewRecorded
	Commands     map[string]*commandRecord
	Version      int64
}

func init() {
	for _, e := range []Event{OrgRegistered{}, OrgKeyIssued{}, OrgKeyRevoked{}, CreditCodeClaimed{}, PatentRegistered{},
		PatentStatusChanged{}, PatentSuspensionChanged{}, AnnualFeeStatusChanged{}, DeclarationFiled{},
		DeclarationWithdrawn{}, LicenseGranted{}, LicenseRecorded{}, RoyaltyPaid{}, PatentTransferred{},
		PledgeRegistered{}, PledgeConsented{}, PledgeReleased{}, ReviewRecorded{}, ReviewCorrected{}} {
		gob.Register(e)
	}
}

// encodeSnapshot encodes a patent's state.
func (p *Patent) encodeSnapshot() ([]byte, error) {
	s := patentSnapshot{
		Registered: PatentRegistered{Number: p.Number, Kind: p.Kind, Title: p.Title, Abstract: p.Abstract,
			PatenteeIDs: p.PatenteeIDs, IPC: p.IPC, Locarno: p.Locarno, FiledOn: p.FiledOn,
			GrantedOn: p.GrantedOn, ExpiresOn: p.ExpiresOn},
		Status: p.status.changes, Suspended: p.suspended.changes, FeeOverdue: p.feeOverdue.changes,
		Transfers: p.Transfers, Reviews: p.Reviews, Commands: p.commands, Version: p.version,
	}
	for _, d := range p.Declarations {
		s.Declarations = append(s.Declarations, *d)
	}
	for _, l := range p.Licenses {
		s.Licenses = append(s.Licenses, *l)
	}
	for _, pl := range p.Pledges {
		s.Pledges = append(s.Pledges, *pl)
	}
	var buf bytes.Buffer
	if err := gob.NewEncoder(&buf).Encode(&s); err != nil {
		return nil, fmt.Errorf("encode snapshot of %s: %w", p.Number, err)
	}
	return buf.Bytes(), nil
}

// decodePatentSnapshot rebuilds a patent from its snapshot.
func decodePatentSnapshot(data []byte) (*Patent, error) {
	var s patentSnapshot
	if err := gob.NewDecoder(bytes.NewReader(data)).Decode(&s); err != nil {
		return nil, fmt.Errorf("decode patent snapshot: %w", err)
	}
	p := &Patent{}
	p.applyRegistered(s.Registered)
	p.status.changes, p.suspended.changes, p.feeOverdue.changes = s.Status, s.Suspended, s.FeeOverdue
	for i := range s.Declarations {
		p.Declarations = append(p.Declarations, &s.Declarations[i])
	}
	for i := range s.Licenses {
		p.applyLicense(s.Licenses[i].LicenseGranted)
		*p.Licenses[len(p.Licenses)-1] = s.Licenses[i]
	}
	for i := range s.Pledges {
		p.Pledges = append(p.Pledges, &s.Pledges[i])
	}
	p.Transfers, p.Reviews, p.commands, p.version = s.Transfers, s.Reviews, s.Commands, s.Version
	return p, nil
}

// fromSnapshot returns the state of a patent stream from its snapshot when
// there is a valid one, else empty. A snapshot is valid when its format is
// current and the event at its version is the one it names.
func (s *Service) fromSnapshot(ctx context.Context, stream string, empty aggregate) aggregate {
	if s.snapshots == nil || !isPatentStream(stream) {
		return empty
	}
	snap, ok, err := s.snapshots.LoadSnapshot(ctx, stream)
	if err != nil {
		s.onSnapErr(fmt.Errorf("load snapshot of %s: %w", stream, err))
	}
	if !ok || err != nil || snap.Format != snapshotFormat || snap.Version <= 0 {
		return empty
	}
	at, err := s.store.ReadStream(ctx, stream, snap.Version-1, 1)
	if err != nil || len(at) != 1 || at[0].ID != snap.LastEventID {
		return empty
	}
	p, err := decodePatentSnapshot(snap.Data)
	if err != nil {
		s.onSnapErr(err)
		return empty
	}
	p.snapshotVersion, p.lastEventID = snap.Version, snap.LastEventID
	return p
}

// maybeSnapshot saves a snapshot of a patent whose stream has grown by
// SnapshotEvery events since its last one.
func (s *Service) maybeSnapshot(ctx context.Context, stream string, state aggregate) {
	p, ok := state.(*Patent)
	if s.snapshots == nil || !ok || p.version-p.snapshotVersion < s.snapEvery {
		return
	}
	data, err := p.encodeSnapshot()
	if err == nil {
		err = s.snapshots.SaveSnapshot(ctx, Snapshot{Stream: stream, Version: p.version,
			LastEventID: p.lastEventID, Format: snapshotFormat, Data: data})
	}
	if err != nil {
		s.onSnapErr(fmt.Errorf("save snapshot of %s: %w", stream, err))
		return
	}
	p.snapshotVersion = p.version
}

func isPatentStream(stream string) bool { return len(stream) > 7 && stream[:7] == "patent-" }
