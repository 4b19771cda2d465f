package npy

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
)

// Sentinel errors; Read wraps them with details.
var (
	// ErrFormat reports a malformed file: bad magic, version or header.
	ErrFormat = errors.New("npy: malformed file")
	// ErrDType reports an element type other than '<f4' or '<f8'.
	ErrDType = errors.New("npy: unsupported dtype")
	// ErrFortranOrder reports a file stored in Fortran (column-major) order.
	ErrFortranOrder = errors.New("npy: fortran_order arrays are not supported")
)

// DType is the element type of a file.
// DType values are constants, safe to share.
type DType int

// Supported element types.
const (
	Float64 DType = iota // '<f8'
	Float32              // '<f4'
)

// descr returns the NumPy descriptor of d.
func (d DType) descr() string {
	if d == Float32 {
		return "<f4"
	}
	return "<f8"
}

func (d DType) size() int {
	if d == Float32 {
		return 4
	}
	return 8
}

// Array is an N-dimensional array in C (row-major) order: for a 2-D array of
// Shape [h, w], element (x, y) is Data[y*w+x]. DType records the element type
// the file had or should have; Data always holds float64 values.
// An Array is plain data.
type Array struct {
	Shape []int
	Data  []float64
	DType DType
}

const magic = "\x93NUMPY"

// maxHeader bounds the header length accepted by Read.
const maxHeader = 1 << 20

// Read decodes one .npy array from r.
func Read(r io.Reader) (Array, error) {
	var pre [8]byte
	if _, err := io.ReadFull(r, pre[:]); err != nil {
		return Array{}, fmt.Errorf("%w: read preamble: %w", ErrFormat, err)
	}
	if string(pre[:6]) != magic {
		return Array{}, fmt.Errorf("%w: bad magic", ErrFormat)
	}
	var hlen int
	switch pre[6] {
	case 1:
		var b [2]byte
		if _, err := io.ReadFull(r, b[:]); err != nil {
			return Array{}, fmt.Errorf("%w: read header length: %w", ErrFormat, err)
		}
		hlen = int(binary.LittleEndian.Uint16(b[:]))
	case 2, 3:
		var b [4]byte
		if _, err := io.ReadFull(r, b[:]); err != nil {
			return Array{}, fmt.Errorf("%w: read header length: %w", ErrFormat, err)
		}
		n := binary.LittleEndian.Uint32(b[:])
		if n > maxHeader {
			return Array{}, fmt.Errorf("%w: header length %d too large", ErrFormat, n)
		}
		hlen = int(n)
	default:
		return Array{}, fmt.Errorf("%w: version %d.%d", ErrFormat, pre[6], pre[7])
	}
	hdr := make([]byte, hlen)
	if _, err := io.ReadFull(r, hdr); err != nil {
		return Array{}, fmt.Errorf("%w: read header: %w", ErrFormat, err)
	}
	dt, shape, err := parseHeader(string(hdr))
	if err != nil {
		return Array{}, err
	}
	n := 1
	for _, d := range shape {
		if d != 0 && n > math.MaxInt32/d {
			return Array{}, fmt.Errorf("%w: shape %v too large", ErrFormat, shape)
		}
		n *= d
	}
	size := dt.size()
	want := n * size
	// Read in chunks so that a bogus shape cannot force a huge allocation
	// before the data runs out.
	const chunk = 4 << 20
	raw := make([]byte, 0, min(want, chunk))
	for len(raw) < want {
		k := min(want-len(raw), chunk)
		raw = slices.Grow(raw, k)
		got, err := io.ReadFull(r, raw[len(raw):len(raw)+k])
		raw = raw[:len(raw)+got]
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			return Array{}, fmt.Errorf("%w: data has %d bytes, shape %v needs %d", ErrFormat, len(raw), shape, want)
		}
		if err != nil {
			return Array{}, fmt.Errorf("npy: read data: %w", err)
		}
	}
	data := make([]float64, n)
	if dt == Float32 {
		for i := range data {
			data[i] = float64(math.Float32frombits(binary.LittleEndian.Uint32(raw[4*i:])))
		}
	} else {
		for i := range data {
			data[i] = math.Float64frombits(binary.LittleEndian.Uint64(raw[8*i:]))
		}
	}
	return Array{Shape: shape, Data: data, DType: dt}, nil
}

// parseHeader parses the Python dict literal of a header.
func parseHeader(h string) (DType, []int, error) {
	p := &parser{s: strings.TrimRight(h, " \n\x00")}
	p.space()
	if !p.eat('{') {
		return 0, nil, fmt.Errorf("%w: header is not a dict", ErrFormat)
	}
	var (
		dt                  DType
		shape               []int
		haveD, haveF, haveS bool
		fortran             bool
	)
	for {
		p.space()
		if p.eat('}') {
			break
		}
		key, ok := p.str()
		if !ok {
			return 0, nil, fmt.Errorf("%w: bad key in header %q", ErrFormat, h)
		}
		p.space()
		if !p.eat(':') {
			return 0, nil, fmt.Errorf("%w: missing ':' after %q", ErrFormat, key)
		}
		p.space()
		switch key {
		case "descr":
			s, ok := p.str()
			if !ok {
				return 0, nil, fmt.Errorf("%w: bad descr", ErrFormat)
			}
			switch s {
			case "<f8":
				dt = Float64
			case "<f4":
				dt = Float32
			default:
				return 0, nil, fmt.Errorf("%w: %q", ErrDType, s)
			}
			haveD = true
		case "fortran_order":
			switch {
			case p.word("True"):
				fortran = true
			case p.word("False"):
				fortran = false
			default:
				return 0, nil, fmt.Errorf("%w: bad fortran_order", ErrFormat)
			}
			haveF = true
		case "shape":
			s, ok := p.tuple()
			if !ok {
				return 0, nil, fmt.Errorf("%w: bad shape", ErrFormat)
			}
			shape, haveS = s, true
		default:
			return 0, nil, fmt.Errorf("%w: unknown header key %q", ErrFormat, key)
		}
		p.space()
		if p.eat(',') {
			continue
		}
		p.space()
		if p.eat('}') {
			break
		}
		return 0, nil, fmt.Errorf("%w: expected ',' or '}' in header", ErrFormat)
	}
	p.space()
	if p.i != len(p.s) {
		return 0, nil, fmt.Errorf("%w: trailing bytes after header dict", ErrFormat)
	}
	if !haveD || !haveF || !haveS {
		return 0, nil, fmt.Errorf("%w: header lacks descr, fortran_order or shape", ErrFormat)
	}
	if fortran {
		return 0, nil, ErrFortranOrder
	}
	return dt, shape, nil
}

type parser struct {
	s string
	i int
}

func (p *parser) space() {
	for p.i < len(p.s) && (p.s[p.i] == ' ' || p.s[p.i] == '\n' || p.s[p.i] == '\t') {
		p.i++
	}
}

func (p *parser) eat(c byte) bool {
	if p.i < len(p.s) && p.s[p.i] == c {
		p.i++
		return true
	}
	return false
}

func (p *parser) word(w string) bool {
	if strings.HasPrefix(p.s[p.i:], w) {
		p.i += len(w)
		return true
	}
	return false
}

// str parses a single- or double-quoted string without escapes.
func (p *parser) str() (string, bool) {
	if p.i >= len(p.s) || (p.s[p.i] != '\'' && p.s[p.i] != '"') {
		return "", false
	}
	q := p.s[p.i]
	end := strings.IndexByte(p.s[p.i+1:], q)
	if end < 0 {
		return "", false
	}
	s := p.s[p.i+1 : p.i+1+end]
	p.i += end + 2
	return s, true
}

// tuple parses "(a, b, ...)" of non-negative integers; "()" and "(a,)" too.
func (p *parser) tuple() ([]int, bool) {
	if !p.eat('(') {
		return nil, false
	}
	shape := []int{}
	for {
		p.space()
		if p.eat(')') {
			return shape, true
		}
		j := p.i
		for j < len(p.s) && p.s[j] >= '0' && p.s[j] <= '9' {
			j++
		}
		if j == p.i {
			return nil, false
		}
		v, err := strconv.Atoi(p.s[p.i:j])
		if err != nil || v > math.MaxInt32 {
			return nil, false
		}
		p.i = j
		p.word("L") // Python 2 long suffix
		shape = append(shape, v)
		p.space()
		if p.eat(',') {
			continue
		}
		p.space()
		if p.eat(')') {
			return shape, true
		}
		return nil, false
	}
}

// header returns the padded header dict for dtype and shape.
func header(dt DType, shape []int) string {
	var b strings.Builder
	fmt.Fprintf(&b, "{'descr': '%s', 'fortran_order': False, 'shape': (", dt.descr())
	for i, d := range shape {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(strconv.Itoa(d))
	}
	if len(shape) == 1 {
		b.WriteString(",")
	}
	b.WriteString("), }")
	return b.String()
}

// Write encodes a as a .npy file with element type a.DType. It returns an
// error if the product of a.Shape differs from len(a.Data) or a dimension is
// negative.
func Write(w io.Writer, a Array) error {
	n := 1
	for _, d := range a.Shape {
		if d < 0 {
			return fmt.Errorf("npy: negative dimension in shape %v", a.Shape)
		}
		n *= d
	}
	if n != len(a.Data) {
		return fmt.Errorf("npy: shape %v holds %d elements, data has %d", a.Shape, n, len(a.Data))
	}
	if a.DType != Float32 && a.DType != Float64 {
		return fmt.Errorf("%w: DType(%d)", ErrDType, int(a.DType))
	}
	h := header(a.DType, a.Shape)
	var buf bytes.Buffer
	buf.WriteString(magic)
	// Version 1.0: 10-byte preamble; 2.0: 12 bytes. Pad to a multiple of 64.
	pre := 10
	if len(h)+pre+1 > math.MaxUint16 {
		pre = 12
	}
	total := pre + len(h) + 1
	pad := (64 - total%64) % 64
	hlen := len(h) + pad + 1
	if pre == 10 {
		buf.Write([]byte{1, 0})
		buf.Write(binary.LittleEndian.AppendUint16(nil, uint16(hlen)))
	} else {
		buf.Write([]byte{2, 0})
		buf.Write(binary.LittleEndian.AppendUint32(nil, uint32(hlen)))
	}
	buf.WriteString(h)
	buf.WriteString(strings.Repeat(" ", pad))
	buf.WriteByte('\n')
	data := make([]byte, len(a.Data)*a.DType.size())
	for i, v := range a.Data {
		if a.DType == Float32 {
			binary.LittleEndian.PutUint32(data[4*i:], math.Float32bits(float32(v)))
		} else {
			binary.LittleEndian.PutUint64(data[8*i:], math.Float64bits(v))
		}
	}
	buf.Write(data)
	_, err := w.Write(buf.Bytes())
	if err != nil {
		return fmt.Errorf("npy: write: %w", err)
	}
	return nil
}
