package domain

import (
	"bytes"
	"context"
	"encoding/gob"
	"fmt"
)

// orgIndexSnapshotKey names the organisation index's snapshot in the
// snapshot store; no stream of the log has a name with a space.
const orgIndexSnapshotKey = "index organisations"

// orgIndexSnapshotEvery is how many events of the log the index reads
// past its last snapshot before it saves another: a restart then reads
// only those, not the whole log (9 s over 1,000,000 events).
const orgIndexSnapshotEvery = 10_000

// orgIndexFormat is the version of orgIndexState's encoding; bump it when
// the state changes shape.
const orgIndexFormat = 1

// orgIndexState is the index in exported fields for gob.
type orgIndexState struct {
	ByName   map[string][]string
	ByCredit map[CreditCode]string
}

// withSnapshots makes the index start from, and save, snapshots in snaps;
// onErr receives the failures to read or write them, which never fail a
// lookup.
func (x *OrgNameIndex) withSnapshots(snaps SnapshotStore, onErr func(error)) {
	x.snapshots, x.onSnapErr = snaps, onErr
}

// loadSnapshot starts a fresh index from its snapshot when there is a
// valid one: of the current format, and taken of this log (the event at
// its position is the one it names). The caller holds x.mu.
func (x *OrgNameIndex) loadSnapshot(ctx context.Context) {
	snap, ok, err := x.snapshots.LoadSnapshot(ctx, orgIndexSnapshotKey)
	if err != nil && ctx.Err() == nil { // a lookup given up on is no failure of the snapshot
		x.onSnapErr(fmt.Errorf("load the organisation index's snapshot: %w", err))
	}
	if !ok || err != nil || snap.Format != orgIndexFormat || snap.Version <= 0 {
		return
	}
	at, err := x.store.ReadAll(ctx, snap.Version-1, 1)
	if err != nil || len(at) != 1 || at[0].Position != snap.Version || at[0].ID != snap.LastEventID {
		return
	}
	var state orgIndexState
	if err := gob.NewDecoder(bytes.NewReader(snap.Data)).Decode(&state); err != nil {
		x.onSnapErr(fmt.Errorf("decode the organisation index's snapshot: %w", err))
		return
	}
	if state.ByName == nil || state.ByCredit == nil {
		return
	}
	x.byName, x.byCredit = state.ByName, state.ByCredit
	x.after, x.lastID, x.savedAt = snap.Version, snap.LastEventID, snap.Version
}

// maybeSaveSnapshot saves the index once it has read orgIndexSnapshotEvery
// events past its last snapshot. The caller holds x.mu.
func (x *OrgNameIndex) maybeSaveSnapshot(ctx context.Context) {
	if x.after-x.savedAt < orgIndexSnapshotEvery {
		return
	}
	var buf bytes.Buffer
	err := gob.NewEncoder(&buf).Encode(orgIndexState{ByName: x.byName, ByCredit: x.byCredit})
	if err == nil {
		err = x.snapshots.SaveSnapshot(ctx, Snapshot{Stream: orgIndexSnapshotKey, Version: x.after,
			LastEventID: x.lastID, Format: orgIndexFormat, Data: buf.Bytes()})
	}
	if err != nil {
		if ctx.Err() == nil {
			x.onSnapErr(fmt.Errorf("save the organisation index's snapshot: %w", err))
		}
		return
	}
	x.savedAt = x.after
}
