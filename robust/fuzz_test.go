package robust_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/cutmixcam/cutmix-cam/robust"
)

// FuzzParseEpsilons checks that the parser either fails with ErrEpsilon or
// returns one value in (0, 1] per comma-separated item.
func FuzzParseEpsilons(f *testing.F) {
	for _, s := range []string{"1/255,2/255,4/255,8/255", "0.03", "8/255", " 1 / 255 ", "0", "1e-3", "2/0", "nan", "inf", "1,", "-1/255", "255/255", "0x1p-3", "1/-255"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		eps, err := robust.ParseEpsilons(s)
		if err != nil {
			if !errors.Is(err, robust.ErrEpsilon) {
				t.Fatalf("ParseEpsilons(%q) error %v does not wrap ErrEpsilon", s, err)
			}
			return
		}
		if len(eps) != strings.Count(s, ",")+1 {
			t.Fatalf("ParseEpsilons(%q) = %d values for %d items", s, len(eps), strings.Count(s, ",")+1)
		}
		for _, e := range eps {
			if !(e > 0 && e <= 1) {
				t.Fatalf("ParseEpsilons(%q) gave %v outside (0, 1]", s, e)
			}
		}
	})
}
