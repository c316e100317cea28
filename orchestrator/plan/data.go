package plan

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/stampede-load/stampede/engine"
	"gopkg.in/yaml.v3"
)

// Data set keys.
const (
	KeyFile    = "file"
	KeyRandom  = "random"
	KeyColumns = "columns"
	KeyRows    = "rows"
)

var dataKeys = []string{KeyFile, KeyRandom, KeyColumns, KeyRows}

// parseData reads the data sets: {file: users.csv, random: false} (a CSV
// file relative to the plan, first row = column names) or inline
// {columns: [...], rows: [[...], ...]}. A bare string is a file name.
func (p *parser) parseData(n *yaml.Node, path string) {
	keys, vals, ok := p.pairs(n, path)
	if !ok {
		return
	}
	if len(keys) == 0 {
		return // "data: {}" is no data (nil, as a plan without the key)
	}
	p.plan.Engine.Data = map[string]engine.DataSet{}
	for i, k := range keys {
		name, v := k.Value, vals[i]
		at := join(path, name)
		if !isIdent(name) {
			p.at(k, at, "use letters, digits and _", "%q is not a valid data set name", clip(name))
			continue
		}
		if v.Kind == yaml.ScalarNode && !isNull(v) {
			p.loadCSV(name, v, at, false)
			continue
		}
		f := p.mapping(v, at, dataKeys)
		if f == nil {
			continue
		}
		random := false
		if r := f.get(KeyRandom); r != nil {
			random, _ = p.boolean(r, f.at(KeyRandom))
		}
		switch file, cols := f.get(KeyFile), f.get(KeyColumns); {
		case file != nil && (cols != nil || f.has(KeyRows)):
			p.at(f.keys[KeyColumns], f.at(KeyColumns), "give either file or columns and rows", "columns and rows cannot go with file")
		case file != nil:
			p.loadCSV(name, file, f.at(KeyFile), random)
		case cols != nil:
			p.inlineData(name, f, random)
		default:
			p.at(v, at, "give file: NAME.csv, or columns: and rows:", "a data set needs a file or inline columns and rows")
		}
	}
}

// loadCSV reads the CSV file named by n into data set name.
func (p *parser) loadCSV(name string, n *yaml.Node, path string, random bool) {
	file, ok := p.str(n, path)
	if !ok {
		return
	}
	full := file
	if !filepath.IsAbs(full) {
		full = filepath.Join(p.dir, file)
	}
	b, err := os.ReadFile(full)
	if err != nil {
		hint := "data files are read relative to the plan's directory"
		if !errors.Is(err, os.ErrNotExist) {
			hint = ""
		}
		p.at(n, path, hint, "cannot read data file %q: %v", clip(file), unwrapPath(err))
		return
	}
	cols, rows, msg := readCSV(b)
	if msg != "" {
		p.at(n, path, "", "data file %q: %s", clip(file), msg)
		return
	}
	p.plan.Engine.Data[name] = engine.DataSet{Columns: cols, Rows: rows, Random: random}
	p.plan.dataFiles[name] = file
}

// unwrapPath drops the path from an *os.PathError (the message names it).
func unwrapPath(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// readCSV parses a CSV file whose first row names the columns. Every row
// must have as many fields as there are columns; there must be at least one
// row. msg says what is wrong.
func readCSV(b []byte) (cols []string, rows [][]string, msg string) {
	b = bytes.TrimPrefix(b, []byte("\xef\xbb\xbf"))
	r := csv.NewReader(bytes.NewReader(b))
	recs, err := r.ReadAll()
	if err != nil {
		var pe *csv.ParseError
		if errors.As(err, &pe) && errors.Is(pe.Err, csv.ErrFieldCount) {
			return nil, nil, fmt.Sprintf("line %d: the columns are not consistent (the header has a different number of fields)", pe.Line)
		}
		return nil, nil, err.Error()
	}
	if len(recs) == 0 {
		return nil, nil, "the file is empty (the first row must name the columns)"
	}
	if len(recs) == 1 {
		return nil, nil, "no rows after the header"
	}
	if msg := checkColumns(recs[0]); msg != "" {
		return nil, nil, msg
	}
	return recs[0], recs[1:], ""
}

// checkColumns requires column names that are non-empty and unique.
func checkColumns(cols []string) string {
	seen := map[string]bool{}
	for i, c := range cols {
		if c == "" {
			return fmt.Sprintf("column %d has no name", i+1)
		}
		if seen[c] {
			return fmt.Sprintf("column %q appears twice", clip(c))
		}
		seen[c] = true
	}
	return ""
}

// inlineData reads {columns: [...], rows: [[...]]}.
func (p *parser) inlineData(name string, f *fields, random bool) {
	var ds engine.DataSet
	ds.Random = random
	items, ok := p.list(f.get(KeyColumns), f.at(KeyColumns))
	if !ok {
		return
	}
	for i, c := range items {
		s, ok := p.str(c, index(f.at(KeyColumns), i))
		if !ok {
			return
		}
		ds.Columns = append(ds.Columns, s)
	}
	if msg := checkColumns(ds.Columns); msg != "" || len(ds.Columns) == 0 {
		if msg == "" {
			msg = "no columns"
		}
		p.at(f.get(KeyColumns), f.at(KeyColumns), "", "%s", msg)
		return
	}
	rows := f.get(KeyRows)
	if rows == nil {
		p.at(f.node, f.at(KeyRows), "list the rows, e.g. rows: [[alice, secret1]]", "is required with columns")
		return
	}
	list, ok := p.list(rows, f.at(KeyRows))
	if !ok {
		return
	}
	if len(list) == 0 {
		p.at(rows, f.at(KeyRows), "", "no rows")
		return
	}
	for i, r := range list {
		at := index(f.at(KeyRows), i)
		cells, ok := p.list(r, at)
		if !ok {
			return
		}
		if len(cells) != len(ds.Columns) {
			p.at(r, at, "", "has %d values for %d columns", len(cells), len(ds.Columns))
			return
		}
		row := make([]string, len(cells))
		for j, c := range cells {
			if row[j], ok = p.str(c, index(at, j)); !ok {
				return
			}
		}
		ds.Rows = append(ds.Rows, row)
	}
	p.plan.Engine.Data[name] = ds
}
