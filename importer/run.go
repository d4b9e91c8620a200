package importer

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/patentledger/ledger/domain"
)

// ChunkRows is how many rows Run reads and hands to the import at a time:
// one store append's worth.
const ChunkRows = domain.DefaultImportBatch

// Run reads rd to its end into im and flushes it, chunk by chunk: the next
// chunk is read and parsed while im prepares the current one and writes the
// one before, so a few chunks are in memory at a time. The report warns,
// on the header's row, of the columns rd does not import. progress, when
// not nil, is called after each chunk with the number of rows handed over
// so far and how many bytes of the input had been read once they were
// (not the chunk read ahead meanwhile). Run returns the first error of the input or of the import; rows
// of batches already written stay written, and rows waiting for a batch
// when the input fails are dropped.
func Run(ctx context.Context, rd *Reader, im *domain.Import, progress func(rows int, bytesRead int64)) (err error) {
	if cols := rd.Ignored(); len(cols) > 0 {
		quoted := make([]string, len(cols))
		for i, c := range cols {
			quoted[i] = domain.Quote(c)
		}
		im.Warn(rd.HeaderRow(), fmt.Sprintf("the columns %s are not imported: the import knows no such headers (see the columns of POST /v1/imports/patents)", strings.Join(quoted, ", ")))
	}
	ctx, cancel := context.WithCancel(ctx)
	type chunk struct {
		rows      []domain.ImportRow
		err       error
		bytesRead int64
	}
	chunks := make(chan chunk, 1)
	go func() {
		defer close(chunks)
		for {
			rows, err := rd.Next(ChunkRows)
			select {
			case chunks <- chunk{rows, err, rd.BytesRead()}:
			case <-ctx.Done():
				return
			}
			if err != nil {
				return
			}
		}
	}()
	defer func() {
		cancel()
		for range chunks { // the reader must be done before rd is closed
		}
	}()
	done := 0
	for c := range chunks {
		if len(c.rows) > 0 {
			if err := im.Add(ctx, c.rows); err != nil {
				im.Abandon()
				return err
			}
			done += len(c.rows)
			if progress != nil {
				progress(done, c.bytesRead)
			}
		}
		switch {
		case errors.Is(c.err, io.EOF):
			return im.Flush(ctx)
		case c.err != nil:
			im.Abandon()
			return c.err
		}
	}
	im.Abandon()
	return ctx.Err()
}
