package npy

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// handFile builds a .npy file byte by byte from the format specification.
func handFile(version byte, dict string, data []byte) []byte {
	var b []byte
	b = append(b, 0x93, 'N', 'U', 'M', 'P', 'Y', version, 0)
	pre := 10
	if version > 1 {
		pre = 12
	}
	pad := (64 - (pre+len(dict)+1)%64) % 64
	hlen := len(dict) + pad + 1
	if version == 1 {
		b = append(b, byte(hlen), byte(hlen>>8))
	} else {
		b = append(b, byte(hlen), byte(hlen>>8), byte(hlen>>16), byte(hlen>>24))
	}
	b = append(b, dict...)
	b = append(b, strings.Repeat(" ", pad)...)
	b = append(b, '\n')
	return append(b, data...)
}

func f8(v ...float64) []byte {
	var b []byte
	for _, x := range v {
		b = binary.LittleEndian.AppendUint64(b, math.Float64bits(x))
	}
	return b
}

func f4(v ...float32) []byte {
	var b []byte
	for _, x := range v {
		b = binary.LittleEndian.AppendUint32(b, math.Float32bits(x))
	}
	return b
}

func TestReadHandMade(t *testing.T) {
	tests := []struct {
		name string
		file []byte
		want Array
	}{
		{"f8_2d_v1", handFile(1, "{'descr': '<f8', 'fortran_order': False, 'shape': (2, 3), }",
			f8(0, 1, 2, 3, 4, 5)), Array{Shape: []int{2, 3}, Data: []float64{0, 1, 2, 3, 4, 5}, DType: Float64}},
		{"f4_2d_v2", handFile(2, "{'descr': '<f4', 'fortran_order': False, 'shape': (1, 2), }",
			f4(0.5, -2)), Array{Shape: []int{1, 2}, Data: []float64{0.5, -2}, DType: Float32}},
		{"f8_3d_v3", handFile(3, "{'descr': '<f8', 'fortran_order': False, 'shape': (2, 1, 2), }",
			f8(1, 2, 3, 4)), Array{Shape: []int{2, 1, 2}, Data: []float64{1, 2, 3, 4}, DType: Float64}},
		{"1d", handFile(1, "{'descr': '<f8', 'fortran_order': False, 'shape': (3,), }",
			f8(7, 8, 9)), Array{Shape: []int{3}, Data: []float64{7, 8, 9}, DType: Float64}},
		{"0d", handFile(1, "{'descr': '<f8', 'fortran_order': False, 'shape': (), }",
			f8(42)), Array{Shape: []int{}, Data: []float64{42}, DType: Float64}},
		{"key_order", handFile(1, "{'shape': (1, 1), 'fortran_order': False, 'descr': '<f8'}",
			f8(3)), Array{Shape: []int{1, 1}, Data: []float64{3}, DType: Float64}},
		{"nan", handFile(1, "{'descr': '<f8', 'fortran_order': False, 'shape': (1,), }",
			f8(math.Inf(1))), Array{Shape: []int{1}, Data: []float64{math.Inf(1)}, DType: Float64}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Read(bytes.NewReader(tc.file))
			if err != nil {
				t.Fatalf("Read() error = %v", err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("Read() mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestReadErrors(t *testing.T) {
	tests := []struct {
		name string
		file []byte
		want error
	}{
		{"fortran", handFile(1, "{'descr': '<f8', 'fortran_order': True, 'shape': (2, 1), }", f8(1, 2)), ErrFortranOrder},
		{"big_endian", handFile(1, "{'descr': '>f8', 'fortran_order': False, 'shape': (1,), }", f8(1)), ErrDType},
		{"int", handFile(1, "{'descr': '<i8', 'fortran_order': False, 'shape': (1,), }", f8(1)), ErrDType},
		{"short_data", handFile(1, "{'descr': '<f8', 'fortran_order': False, 'shape': (3,), }", f8(1)), ErrFormat},
		{"magic", append([]byte("NOTNPY\x01\x00"), 0, 0), ErrFormat},
		{"version", handFile(4, "{}", nil), ErrFormat},
		{"no_shape", handFile(1, "{'descr': '<f8', 'fortran_order': False, }", nil), ErrFormat},
		{"bad_tuple", handFile(1, "{'descr': '<f8', 'fortran_order': False, 'shape': (2, x), }", nil), ErrFormat},
		{"huge_shape", handFile(1, "{'descr': '<f8', 'fortran_order': False, 'shape': (100000, 100000, 100000), }", nil), ErrFormat},
		{"truncated", []byte("\x93NUMPY\x01\x00\x10"), ErrFormat},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Read(bytes.NewReader(tc.file))
			if !errors.Is(err, tc.want) {
				t.Errorf("Read() error = %v, want %v", err, tc.want)
			}
		})
	}
}

func TestWriteHandMade(t *testing.T) {
	tests := []struct {
		name string
		a    Array
		want []byte
	}{
		{"f8", Array{Shape: []int{2, 3}, Data: []float64{0, 1, 2, 3, 4, 5}},
			handFile(1, "{'descr': '<f8', 'fortran_order': False, 'shape': (2, 3), }", f8(0, 1, 2, 3, 4, 5))},
		{"f4_1d", Array{Shape: []int{2}, Data: []float64{0.25, 3}, DType: Float32},
			handFile(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }", f4(0.25, 3))},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			if err := Write(&buf, tc.a); err != nil {
				t.Fatalf("Write() error = %v", err)
			}
			if !bytes.Equal(buf.Bytes(), tc.want) {
				t.Errorf("Write() = %q, want %q", buf.Bytes(), tc.want)
			}
			if buf.Len()-len(tc.a.Data)*tc.a.DType.size() != 128 {
				t.Errorf("Write() header length = %d, want 128", buf.Len()-len(tc.a.Data)*tc.a.DType.size())
			}
		})
	}
}

func TestWriteErrors(t *testing.T) {
	if err := Write(&bytes.Buffer{}, Array{Shape: []int{2, 2}, Data: []float64{1}}); err == nil {
		t.Error("Write(shape mismatch) error = nil, want error")
	}
	if err := Write(&bytes.Buffer{}, Array{Shape: []int{-1}, Data: nil}); err == nil {
		t.Error("Write(negative dim) error = nil, want error")
	}
}

func TestRoundTripLargeHeader(t *testing.T) {
	// A shape with many dimensions forces a version 2.0 header.
	shape := make([]int, 25000)
	for i := range shape {
		shape[i] = 1
	}
	a := Array{Shape: shape, Data: []float64{1.5}}
	var buf bytes.Buffer
	if err := Write(&buf, a); err != nil {
		t.Fatal(err)
	}
	if v := buf.Bytes()[6]; v != 2 {
		t.Errorf("version = %d, want 2", v)
	}
	got, err := Read(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(a, got); diff != "" {
		t.Errorf("round trip mismatch (-want +got):\n%s", diff)
	}
}

func FuzzRead(f *testing.F) {
	f.Add(handFile(1, "{'descr': '<f8', 'fortran_order': False, 'shape': (2, 3), }", f8(0, 1, 2, 3, 4, 5)))
	f.Add(handFile(2, "{'descr': '<f4', 'fortran_order': False, 'shape': (1, 2), }", f4(0.5, -2)))
	f.Add(handFile(1, "{'descr': '<f8', 'fortran_order': True, 'shape': (1,), }", f8(1)))
	files, _ := filepath.Glob(filepath.Join("testdata", "*.npy"))
	for _, p := range files {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b)
		}
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		a, err := Read(bytes.NewReader(b))
		if err != nil {
			return
		}
		n := 1
		for _, d := range a.Shape {
			n *= d
		}
		if n != len(a.Data) {
			t.Fatalf("Read() shape %v with %d elements", a.Shape, len(a.Data))
		}
		var buf bytes.Buffer
		if err := Write(&buf, a); err != nil {
			t.Fatalf("Write(Read()) error = %v", err)
		}
		b2, err := Read(&buf)
		if err != nil {
			t.Fatalf("Read(Write(Read())) error = %v", err)
		}
		if !cmp.Equal(a.Shape, b2.Shape) || len(a.Data) != len(b2.Data) {
			t.Fatalf("round trip changed shape %v -> %v", a.Shape, b2.Shape)
		}
	})
}

// TestNumPyFixtures reads files written by np.save (testdata/gen_numpy.py)
// and checks that Write reproduces them byte for byte.
func TestNumPyFixtures(t *testing.T) {
	data := []float64{-1, -0.875, -0.75, -0.625, -0.5, -0.375}
	tests := []struct {
		file string
		want Array
	}{
		{"c_f8_2x3.npy", Array{Shape: []int{2, 3}, Data: data, DType: Float64}},
		{"c_f4_2x3.npy", Array{Shape: []int{2, 3}, Data: data, DType: Float32}},
		{"c_f8_2x1x3.npy", Array{Shape: []int{2, 1, 3}, Data: data, DType: Float64}},
		{"c_f8_4.npy", Array{Shape: []int{6}, Data: data, DType: Float64}},
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			raw, err := os.ReadFile(filepath.Join("testdata", tc.file))
			if err != nil {
				t.Fatal(err)
			}
			got, err := Read(bytes.NewReader(raw))
			if err != nil {
				t.Fatalf("Read() error = %v", err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("Read() mismatch (-want +got):\n%s", diff)
			}
			var buf bytes.Buffer
			if err := Write(&buf, tc.want); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(buf.Bytes(), raw) {
				t.Errorf("Write() = %q, np.save wrote %q", buf.Bytes(), raw)
			}
		})
	}
	raw, err := os.ReadFile(filepath.Join("testdata", "fortran_f8.npy"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Read(bytes.NewReader(raw)); !errors.Is(err, ErrFortranOrder) {
		t.Errorf("Read(fortran) error = %v, want ErrFortranOrder", err)
	}
}

func BenchmarkRead(b *testing.B) {
	for _, n := range []int{224, 512} {
		b.Run(fmt.Sprintf("%dpx", n), func(b *testing.B) {
			var buf bytes.Buffer
			if err := Write(&buf, Array{Shape: []int{n, n}, Data: make([]float64, n*n)}); err != nil {
				b.Fatal(err)
			}
			raw := buf.Bytes()
			b.ReportAllocs()
			for b.Loop() {
				if _, err := Read(bytes.NewReader(raw)); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
