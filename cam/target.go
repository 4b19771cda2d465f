package cam

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// Target selects the classes each image's maps explain. The zero value is
// the top-1 class of each image (pytorch-grad-cam's targets=None).
//
// A Target is an immutable value, safe for concurrent use.
type Target struct {
	kind    targetKind
	k       int
	classes []int
}

type targetKind int

const (
	targetTopK targetKind = iota
	targetClass
	targetPerImage
)

// TopK explains each of the k highest-scoring classes of every image, in
// decreasing score order (ties: lower class index first). k ≤ 0 means 1;
// k larger than the number of classes is clipped to it.
func TopK(k int) Target { return Target{kind: targetTopK, k: k} }

// Class explains class c for every image.
func Class(c int) Target { return Target{kind: targetClass, classes: []int{c}} }

// PerImage explains classes[n] for image n, e.g. the ground-truth labels
// of a data set (the wsolevaluation "GT-known" protocol). The slice is
// copied.
func PerImage(classes []int) Target {
	return Target{kind: targetPerImage, classes: slices.Clone(classes)}
}

// ParseTarget parses the CLI form: "top1" (or ""), "topK" such as "top5",
// or a class index such as "281".
func ParseTarget(s string) (Target, error) {
	s = strings.TrimSpace(strings.ToLower(s))
	if s == "" {
		return Target{}, nil
	}
	if rest, ok := strings.CutPrefix(s, "top"); ok {
		k, err := strconv.Atoi(rest)
		if err != nil || k < 1 {
			return Target{}, fmt.Errorf("%w: %q: want top1, topK or a class index", ErrTarget, s)
		}
		return TopK(k), nil
	}
	c, err := strconv.Atoi(s)
	if err != nil || c < 0 {
		return Target{}, fmt.Errorf("%w: %q: want top1, topK or a class index", ErrTarget, s)
	}
	return Class(c), nil
}

// String returns the form ParseTarget reads; a PerImage target prints as
// "per-image".
func (t Target) String() string {
	switch t.kind {
	case targetClass:
		return strconv.Itoa(t.classes[0])
	case targetPerImage:
		return "per-image"
	}
	return "top" + strconv.Itoa(max(t.k, 1))
}

// needsScores reports whether resolving t needs the model's scores.
func (t Target) needsScores() bool { return t.kind == targetTopK }

// perImage returns how many classes each image gets, given K classes.
func (t Target) perImage(k int) int {
	if t.kind == targetTopK {
		return min(max(t.k, 1), k)
	}
	return 1
}

// resolve returns, for each of n images, the classes to explain. logits
// (n×k) is only read for top-k targets and may be nil otherwise. Every
// image gets the same number of classes.
func (t Target) resolve(n, k int, logits []float32) ([][]int, error) {
	out := make([][]int, n)
	switch t.kind {
	case targetClass:
		c := t.classes[0]
		if c < 0 || c >= k {
			return nil, fmt.Errorf("%w: class %d, model has %d classes", ErrClassRange, c, k)
		}
		for i := range out {
			out[i] = []int{c}
		}
	case targetPerImage:
		if len(t.classes) != n {
			return nil, fmt.Errorf("%w: %d classes for %d images", ErrTarget, len(t.classes), n)
		}
		for i, c := range t.classes {
			if c < 0 || c >= k {
				return nil, fmt.Errorf("%w: class %d for image %d, model has %d classes", ErrClassRange, c, i, k)
			}
			out[i] = []int{c}
		}
	default:
		kk := t.perImage(k)
		for i := range out {
			out[i] = topK(logits[i*k:(i+1)*k], kk)
		}
	}
	return out, nil
}

// topK returns the indices of the k largest scores, largest first, ties to
// the lower index (stable). NaN scores sort last.
func topK(s []float32, k int) []int {
	idx := make([]int, len(s))
	for i := range idx {
		idx[i] = i
	}
	slices.SortStableFunc(idx, func(a, b int) int {
		x, y := s[a], s[b]
		switch {
		case x > y || (y != y && x == x):
			return -1
		case x < y || (x != x && y == y):
			return 1
		}
		return 0
	})
	return idx[:k]
}
