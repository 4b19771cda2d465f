// Package npy reads and writes NumPy .npy files holding little-endian
// float32 ('<f4') or float64 ('<f8') arrays in C order.
//
// # Format
//
// A file is the magic string "\x93NUMPY", a major and a minor version byte,
// the header length (uint16 little-endian for version 1.0, uint32 for 2.0 and
// 3.0), an ASCII Python dict literal with the keys 'descr', 'fortran_order'
// and 'shape', padded with spaces and ended by a newline so that the data
// starts at a multiple of 64 bytes, then the raw elements.
//
// Read accepts versions 1.0, 2.0 and 3.0, any rank (a 0-d array has one
// element) and the descriptors '<f4', '<f8' (and '|f4'-style spellings are
// refused). Fortran-ordered files are refused with ErrFortranOrder rather
// than silently transposed. Write emits version 1.0, or 2.0 when the header
// does not fit in 65535 bytes.
package npy
