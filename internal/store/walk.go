package store

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"os"
)

// walk checks a bbolt file's structure by reading it, page by page, with
// bounds-checked reads: the newest valid meta page, the freelist, and
// every page and element reachable from the root, in bounds, reached once,
// keys in order, no value longer than maxValue. bbolt trusts all of it
// when it maps the file, and a damaged page there faults the process;
// here it is an error. Nothing is mapped or written.
func walk(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("store: %w", err)
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return fmt.Errorf("store: %w", err)
	}
	if info.Size() == 0 {
		return damaged(path, "the file is empty (cut to 0 bytes); nothing of the charge point's data is left in it")
	}
	m0, ok0 := readMeta(f, 0)
	ps := int64(os.Getpagesize())
	if ok0 {
		ps = int64(m0.pageSize)
	}
	m1, ok1 := readMeta(f, ps)
	switch {
	case !ok0 && !ok1:
		return damaged(path, "neither of its two meta pages is valid; it is not a readable store")
	case !ok0 || !ok1:
		good := m0
		if ok1 {
			good = m1
		}
		return damaged(path, "one of its two meta pages is damaged: the newest commit may be lost (going on from transaction %d would undo what came after)", good.txid)
	}
	m := m0
	if m1.txid > m0.txid {
		m = m1
	}
	if m.pageSize < 1024 || m.pageSize > 1<<20 || m.pages < 4 {
		return damaged(path, "its meta page says %d pages of %d bytes", m.pages, m.pageSize)
	}
	if need := int64(m.pages) * int64(m.pageSize); info.Size() < need {
		return damaged(path, "the file is %d bytes, its pages need %d: it was cut short", info.Size(), need)
	}
	w := &walker{f: f, path: path, ps: int64(m.pageSize), pages: m.pages, seen: make([]bool, m.pages)}
	w.seen[0], w.seen[1] = true, true
	if err := w.freelist(m.freelist); err != nil {
		return err
	}
	return w.page(m.root, 0)
}

type walker struct {
	f     *os.File
	path  string
	ps    int64
	pages uint64
	seen  []bool // pages reached
}

const (
	branchPage   = 0x01
	leafPage     = 0x02
	freelistPage = 0x10
	bucketLeaf   = 0x01
	elemSize     = 16
	maxDepth     = 64
)

// read reads page id with its overflow pages, checking its header.
func (w *walker) read(id uint64, flags uint16) ([]byte, error) {
	if id < 2 || id >= w.pages {
		return nil, damaged(w.path, "a reference to page %d of %d", id, w.pages)
	}
	head := make([]byte, pageHeaderSize)
	if _, err := w.f.ReadAt(head, int64(id)*w.ps); err != nil {
		return nil, damaged(w.path, "page %d cannot be read: %v", id, err)
	}
	le := binary.LittleEndian
	overflow := uint64(le.Uint32(head[12:]))
	if le.Uint64(head) != id || le.Uint16(head[8:])&flags == 0 || id+overflow >= w.pages {
		return nil, damaged(w.path, "page %d has a header of another page (id %d, flags %#x, overflow %d)", id, le.Uint64(head), le.Uint16(head[8:]), overflow)
	}
	for p := id; p <= id+overflow; p++ {
		if w.seen[p] {
			return nil, damaged(w.path, "page %d is reached twice", p)
		}
		w.seen[p] = true
	}
	b := make([]byte, int64(overflow+1)*w.ps)
	if _, err := w.f.ReadAt(b, int64(id)*w.ps); err != nil && err != io.EOF {
		return nil, damaged(w.path, "page %d cannot be read: %v", id, err)
	}
	return b, nil
}

// freelist checks the freelist page: in bounds, naming pages that exist.
func (w *walker) freelist(id uint64) error {
	if id == 0xFFFFFFFFFFFFFFFF {
		return nil // not kept on disk
	}
	b, err := w.read(id, freelistPage)
	if err != nil {
		return err
	}
	le := binary.LittleEndian
	idx, count := 0, int(le.Uint16(b[10:]))
	if count == 0xFFFF {
		idx, count = 1, int(le.Uint64(b[pageHeaderSize:]))
	}
	if count < 0 || count > (len(b)-pageHeaderSize)/8-idx { // no overflow of (idx+count)*8
		return damaged(w.path, "its freelist of %d pages does not fit its page", count)
	}
	for i := idx; i < idx+count; i++ {
		if p := le.Uint64(b[pageHeaderSize+i*8:]); p < 2 || p >= w.pages {
			return damaged(w.path, "its freelist names page %d of %d", p, w.pages)
		}
	}
	return nil
}

// page checks the branch or leaf page id and what it leads to.
func (w *walker) page(id uint64, depth int) error {
	if depth > maxDepth {
		return damaged(w.path, "its pages nest more than %d deep", maxDepth)
	}
	b, err := w.read(id, branchPage|leafPage)
	if err != nil {
		return err
	}
	return w.elements(b, depth, fmt.Sprintf("page %d", id))
}

// elements checks the elements of a branch or leaf page held in b (a page
// of the file, or an inline bucket's).
func (w *walker) elements(b []byte, depth int, where string) error {
	le := binary.LittleEndian
	if len(b) < pageHeaderSize {
		return damaged(w.path, "%s is too short", where)
	}
	flags, count := le.Uint16(b[8:]), int(le.Uint16(b[10:]))
	if pageHeaderSize+count*elemSize > len(b) {
		return damaged(w.path, "%s holds %d elements, more than fit", where, count)
	}
	var prev []byte
	for i := range count {
		ea := pageHeaderSize + i*elemSize
		var pos, ksize, vsize, eflags uint64
		if flags == branchPage {
			pos, ksize = uint64(le.Uint32(b[ea:])), uint64(le.Uint32(b[ea+4:]))
		} else if flags == leafPage {
			eflags, pos, ksize, vsize = uint64(le.Uint32(b[ea:])), uint64(le.Uint32(b[ea+4:])), uint64(le.Uint32(b[ea+8:])), uint64(le.Uint32(b[ea+12:]))
		} else {
			return damaged(w.path, "%s is neither a branch nor a leaf (flags %#x)", where, flags)
		}
		if vsize > maxValue {
			return damaged(w.path, "a value of %d bytes in %s", vsize, where)
		}
		kStart := uint64(ea) + pos
		if kStart+ksize+vsize > uint64(len(b)) {
			return damaged(w.path, "element %d of %s lies beyond its page", i, where)
		}
		key := b[kStart : kStart+ksize]
		if prev != nil && bytes.Compare(prev, key) >= 0 {
			return damaged(w.path, "the keys of %s are out of order", where)
		}
		prev = key
		switch {
		case flags == branchPage:
			if err := w.page(le.Uint64(b[ea+8:]), depth+1); err != nil {
				return err
			}
		case eflags&bucketLeaf != 0:
			v := b[kStart+ksize : kStart+ksize+vsize]
			if len(v) < 16 {
				return damaged(w.path, "bucket %q in %s has a header of %d bytes", key, where, len(v))
			}
			if root := le.Uint64(v); root != 0 {
				if err := w.page(root, depth+1); err != nil {
					return err
				}
			} else if err := w.elements(v[16:], depth+1, fmt.Sprintf("bucket %q", key)); err != nil {
				return err
			}
		}
	}
	return nil
}
