package importer

import (
	"archive/zip"
	"bufio"
	"bytes"
	"cmp"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"path"
	"slices"
	"strconv"
	"strings"

	"github.com/xuri/excelize/v2"

	"github.com/patentledger/ledger/domain"
)

// maxMerges is how many merged ranges the sheet of a list may have: one
// for each row of the largest sheet, far more than a list of patents
// grouped by patentee or date needs. They are held in memory (12 bytes
// each) to be sorted by row.
const maxMerges = 1 << 20

// maxMergeCellsBytes bounds the XML of a sheet's list of merged ranges,
// which is decoded as tokens held in memory.
const maxMergeCellsBytes = 64 * maxMerges

// mergedRange is a range of merged cells; rows and columns count from 1.
type mergedRange struct {
	top, bottom int32
	first, last int16
}

// ref names the range as a spreadsheet does (B5:B7).
func (m mergedRange) ref() string {
	return fmt.Sprintf("%s%d:%s%d", columnName(int(m.first)-1), m.top, columnName(int(m.last)-1), m.bottom)
}

// parseMergeRef parses the ref attribute of a mergeCell element (B5:B7, or
// a single cell), whichever corners it names.
func parseMergeRef(ref string) (mergedRange, error) {
	from, to, ok := strings.Cut(ref, ":")
	if !ok {
		to = from
	}
	c1, r1, err := excelize.CellNameToCoordinates(from)
	if err != nil {
		return mergedRange{}, err
	}
	c2, r2, err := excelize.CellNameToCoordinates(to)
	if err != nil {
		return mergedRange{}, err
	}
	return mergedRange{top: int32(min(r1, r2)), bottom: int32(max(r1, r2)), first: int16(min(c1, c2)), last: int16(max(c1, c2))}, nil
}

// readMerges reads the merged ranges of the sheet named sheet from the
// workbook's archive, sorted by top row. The worksheet part is streamed: its
// rows are skipped without being decoded, since the mergeCells element
// comes after them. More than maxMerges ranges, or a range that names no
// cells, is an invalid_argument *domain.Error naming the field "file".
func readMerges(zr *zip.Reader, sheet string) ([]mergedRange, error) {
	part, err := sheetPart(zr, sheet)
	if err != nil {
		return nil, err
	}
	rc, err := openPart(zr, part)
	if err != nil {
		return nil, readError(sheet, err)
	}
	defer rc.Close()
	br := bufio.NewReaderSize(rc, 64<<10)
	found, err := skipToMergeCells(br)
	if err != nil || !found {
		return nil, readError(sheet, err)
	}
	lr := &io.LimitedReader{R: io.MultiReader(strings.NewReader("<"), br), N: maxMergeCellsBytes}
	merges, err := decodeMergeCells(xml.NewDecoder(lr), sheet, maxMerges)
	if lr.N <= 0 {
		return nil, tooManyMerges(sheet, maxMerges)
	}
	if err != nil {
		return nil, err
	}
	slices.SortFunc(merges, func(a, b mergedRange) int { return cmp.Compare(a.top, b.top) })
	return merges, nil
}

// decodeMergeCells decodes a mergeCells element up to its end, refusing
// more than limit ranges, whether it declares them or holds them.
func decodeMergeCells(d *xml.Decoder, sheet string, limit int) ([]mergedRange, error) {
	var merges []mergedRange
	for {
		tok, err := d.Token()
		if err != nil {
			return nil, readError(sheet, err)
		}
		switch e := tok.(type) {
		case xml.StartElement:
			if count, _ := strconv.Atoi(attr(e, "count")); e.Name.Local == "mergeCells" && count > limit {
				return nil, tooManyMerges(sheet, limit)
			}
			if e.Name.Local != "mergeCell" {
				continue
			}
			if len(merges) == limit {
				return nil, tooManyMerges(sheet, limit)
			}
			m, err := parseMergeRef(attr(e, "ref"))
			if err != nil {
				return nil, domain.Invalid("file", "sheet %s: the merged cells %s name no range of cells (%v); the workbook is damaged: open it in Excel, save it again and import it again", domain.Quote(sheet), domain.Quote(attr(e, "ref")), err)
			}
			merges = append(merges, m)
		case xml.EndElement:
			if e.Name.Local == "mergeCells" {
				return merges, nil
			}
		}
	}
}

func tooManyMerges(sheet string, limit int) error {
	return domain.Invalid("file", "sheet %s merges more than %d ranges of cells; unmerge them (select the sheet, Merge & Center off) and import it again", domain.Quote(sheet), limit)
}

// readError is the problem of a worksheet part that cannot be read to its
// list of merged ranges; nil for nil.
func readError(sheet string, err error) error {
	if err == nil {
		return nil
	}
	return domain.Invalid("file", "sheet %s cannot be read: %v", domain.Quote(sheet), err)
}

// skipToMergeCells reads the worksheet XML of br up to the start tag of its
// mergeCells element, whatever its namespace prefix, and past the tag's
// '<'; found is false when the part has none. Comments, CDATA sections and
// processing instructions are skipped whole, so that no text in them is
// taken for the tag; text and attribute values cannot hold a '<'.
func skipToMergeCells(br *bufio.Reader) (found bool, err error) {
	for {
		if _, err := br.ReadSlice('<'); errors.Is(err, bufio.ErrBufferFull) {
			continue
		} else if err != nil {
			return false, eofIsEnd(err)
		}
		head, _ := br.Peek(len("![CDATA["))
		switch {
		case bytes.HasPrefix(head, []byte("!--")):
			err = skipPast(br, "-->")
		case bytes.HasPrefix(head, []byte("![CDATA[")):
			err = skipPast(br, "]]>")
		case bytes.HasPrefix(head, []byte("?")):
			err = skipPast(br, "?>")
		default:
			if isMergeCellsTag(br) {
				return true, nil
			}
		}
		if err != nil {
			return false, eofIsEnd(err)
		}
	}
}

// eofIsEnd returns nil for io.EOF: a part that ends without a mergeCells
// element has no merged cells.
func eofIsEnd(err error) error {
	if errors.Is(err, io.EOF) {
		return nil
	}
	return err
}

// isMergeCellsTag reports whether the tag that br starts with (after its
// '<') is a mergeCells start tag, without reading it.
func isMergeCellsTag(br *bufio.Reader) bool {
	head, _ := br.Peek(256)
	end := bytes.IndexAny(head, " \t\r\n/>")
	if end < 0 {
		return false
	}
	name := head[:end]
	return bytes.Equal(name[bytes.LastIndexByte(name, ':')+1:], []byte("mergeCells"))
}

// skipPast reads br past the next occurrence of end (at most 3 bytes).
func skipPast(br *bufio.Reader, end string) error {
	var tail [3]byte
	for {
		c, err := br.ReadByte()
		if err != nil {
			return err
		}
		tail = [3]byte{tail[1], tail[2], c}
		if strings.HasSuffix(string(tail[:]), end) {
			return nil
		}
	}
}

// sheetPart returns the name of the archive part that holds the worksheet
// named sheet, found as excelize finds it: the workbook part that
// _rels/.rels names, the sheet's relationship id in it, and that
// relationship's target in the workbook's relationships.
func sheetPart(zr *zip.Reader, sheet string) (string, error) {
	workbook := "xl/workbook.xml"
	err := eachElement(zr, "_rels/.rels", "Relationship", func(e xml.StartElement) bool {
		if strings.HasSuffix(attr(e, "Type"), "/officeDocument") {
			workbook = strings.TrimPrefix(attr(e, "Target"), "/")
			return false
		}
		return true
	})
	id := ""
	if err == nil {
		err = eachElement(zr, workbook, "sheet", func(e xml.StartElement) bool {
			if strings.EqualFold(attr(e, "name"), sheet) {
				id = attr(e, "id")
			}
			return id == ""
		})
	}
	target := ""
	if err == nil {
		err = eachElement(zr, path.Join(path.Dir(workbook), "_rels", path.Base(workbook)+".rels"), "Relationship", func(e xml.StartElement) bool {
			if attr(e, "Id") == id {
				target = attr(e, "Target")
			}
			return target == ""
		})
	}
	if err == nil && target == "" {
		err = fmt.Errorf("no relationship of %s names it", workbook)
	}
	if err != nil {
		return "", domain.Invalid("file", "sheet %s cannot be found in the workbook's parts (%v); open it in Excel, save it again and import it again", domain.Quote(sheet), err)
	}
	if strings.HasPrefix(target, "/") {
		return strings.TrimPrefix(path.Clean(target), "/"), nil
	}
	return path.Join(path.Dir(workbook), target), nil
}

// eachElement calls fn with each start tag named local (in any namespace)
// of the archive part name, until fn returns false.
func eachElement(zr *zip.Reader, name, local string, fn func(xml.StartElement) bool) error {
	rc, err := openPart(zr, name)
	if err != nil {
		return err
	}
	defer rc.Close()
	d := xml.NewDecoder(rc)
	for {
		tok, err := d.Token()
		if err != nil {
			return eofIsEnd(err)
		}
		if e, ok := tok.(xml.StartElement); ok && e.Name.Local == local && !fn(e) {
			return nil
		}
	}
}

// openPart opens the archive part name, as excelize names parts (with
// forward slashes).
func openPart(zr *zip.Reader, name string) (io.ReadCloser, error) {
	for _, f := range zr.File {
		if strings.ReplaceAll(f.Name, "\\", "/") == name {
			return f.Open()
		}
	}
	return nil, fmt.Errorf("the workbook has no part %s", name)
}

// attr returns the value of the attribute named local, in any namespace
// (r:id is "id"), "" for none.
func attr(e xml.StartElement, local string) string {
	for _, a := range e.Attr {
		if a.Name.Local == local {
			return a.Value
		}
	}
	return ""
}

// mergeFiller gives the top-left value of each merged range in the data
// rows to the rows below it that the range spans, in its first column.
type mergeFiller struct {
	pending []mergedRange // by top row, not reached yet
	active  []activeMerge
	// filledFrom maps the cells fill filled in the last row it filled to
	// the top row of their range.
	filledFrom map[int]int
}

// activeMerge is a merged range whose top row has been read.
type activeMerge struct {
	top, bottom int
	col         int // index of the cell
	value       string
}

// fill fills the cells of row (numbered as the sheet numbers it), growing
// cells to reach a column if need be. A row with no value of its own (every
// cell blank) stays empty: it is not a data row, even where a merged range
// covers it.
func (m *mergeFiller) fill(row int, cells []string) []string {
	m.active = slices.DeleteFunc(m.active, func(a activeMerge) bool { return a.bottom < row })
	for len(m.pending) > 0 && int(m.pending[0].top) <= row {
		p := m.pending[0]
		m.pending = m.pending[1:]
		a := activeMerge{top: int(p.top), bottom: int(p.bottom), col: int(p.first) - 1}
		if a.top == row && a.col < len(cells) {
			a.value = cells[a.col]
		}
		m.active = append(m.active, a)
	}
	clear(m.filledFrom)
	if !slices.ContainsFunc(cells, func(c string) bool { return strings.TrimSpace(c) != "" }) {
		return cells
	}
	for _, a := range m.active {
		if a.top < row && row <= a.bottom {
			for len(cells) <= a.col {
				cells = append(cells, "")
			}
			cells[a.col] = a.value
			if m.filledFrom == nil {
				m.filledFrom = map[int]int{}
			}
			m.filledFrom[a.col] = a.top
		}
	}
	return cells
}
