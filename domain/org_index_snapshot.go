package domain

import (
	"bytes"
	"context"
	"encoding/gob"
	"fmt"
)

// orgIndexSnapshotKey starts the key of the organisation index's snapshot
// in the snapshot store, which ends in the ID of the log's first event: a
// snapshot store kept beside another ledger's log holds another key. No
// stream of the log has a name with a space.
const orgIndexSnapshotKey = "index organisations "

// orgIndexSnapshotEvery is how many events of the log the index must have
// read past its last snapshot, when it has caught up, to save another: a
// restart then reads only those, not the whole log (9 s over 1,000,000
// events).
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
// its position is the one it names). It returns the event store's error
// when the log cannot be read, for the caller to try again at its next
// lookup; a snapshot store that fails is reported and passed over. The
// caller holds x.mu.
func (x *OrgNameIndex) loadSnapshot(ctx context.Context) error {
	key, err := x.snapshotKey(ctx)
	if err != nil || key == "" {
		return err
	}
	snap, ok, err := x.snapshots.LoadSnapshot(ctx, key)
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err() // a lookup given up on is no failure of the snapshot
		}
		x.onSnapErr(fmt.Errorf("load the organisation index's snapshot: %w", err))
		return nil
	}
	if !ok || snap.Format != orgIndexFormat || snap.Version <= 0 {
		return nil
	}
	at, err := x.store.ReadAll(ctx, snap.Version-1, 1)
	if err != nil {
		return err
	}
	if len(at) != 1 || at[0].Position != snap.Version || at[0].ID != snap.LastEventID {
		return nil
	}
	var state orgIndexState
	if err := gob.NewDecoder(bytes.NewReader(snap.Data)).Decode(&state); err != nil {
		x.onSnapErr(fmt.Errorf("decode the organisation index's snapshot: %w", err))
		return nil
	}
	if state.ByName == nil || state.ByCredit == nil {
		return nil
	}
	x.byName, x.byCredit = state.ByName, state.ByCredit
	x.after, x.lastID, x.savedAt = snap.Version, snap.LastEventID, snap.Version
	return nil
}

// snapshotKey returns the key of the index's snapshot (orgIndexSnapshotKey
// and the ID of the log's first event), "" while the log is empty. The
// caller holds x.mu.
func (x *OrgNameIndex) snapshotKey(ctx context.Context) (string, error) {
	if x.key == "" {
		first, err := x.store.ReadAll(ctx, 0, 1)
		if err != nil || len(first) == 0 {
			return "", err
		}
		x.key = orgIndexSnapshotKey + first[0].ID
	}
	return x.key, nil
}

// maybeSaveSnapshot saves the index once it has read orgIndexSnapshotEvery
// events past its last snapshot. The caller holds x.mu.
func (x *OrgNameIndex) maybeSaveSnapshot(ctx context.Context) {
	if x.after-x.savedAt < orgIndexSnapshotEvery {
		return
	}
	key, err := x.snapshotKey(ctx)
	if err != nil || key == "" {
		return // the log cannot be read: the next catch-up saves it
	}
	var buf bytes.Buffer
	err = gob.NewEncoder(&buf).Encode(orgIndexState{ByName: x.byName, ByCredit: x.byCredit})
	if err == nil {
		err = x.snapshots.SaveSnapshot(ctx, Snapshot{Stream: key, Version: x.after,
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
