package robust

import (
	"fmt"
	"strconv"
	"strings"
)

// DefaultEpsilon is 8/255, the ε of the CutMix paper's FGSM table and of
// torchattacks' FGSM and PGD defaults, in pixel units.
const DefaultEpsilon = 8.0 / 255

// ParseEpsilon parses one ε in pixel units: a decimal such as "0.03" or
// "3e-2", or a fraction "a/b" of two decimals such as "8/255", computed as
// the float64 quotient a/b (as Python's 8/255). Spaces around the value
// and around the slash are ignored. The result must lie in (0, 1];
// otherwise, or when s does not parse, the error wraps ErrEpsilon.
func ParseEpsilon(s string) (float64, error) {
	t := strings.TrimSpace(s)
	var v float64
	if num, den, ok := strings.Cut(t, "/"); ok {
		a, err1 := parseDecimal(num)
		b, err2 := parseDecimal(den)
		if err1 != nil || err2 != nil || b == 0 {
			return 0, fmt.Errorf("parse epsilon %q: %w", s, ErrEpsilon)
		}
		v = a / b
	} else {
		a, err := parseDecimal(t)
		if err != nil {
			return 0, fmt.Errorf("parse epsilon %q: %w", s, ErrEpsilon)
		}
		v = a
	}
	if !validUnit(v) {
		return 0, fmt.Errorf("parse epsilon %q = %v: %w", s, v, ErrEpsilon)
	}
	return v, nil
}

// parseDecimal parses a finite decimal number; it rejects the words
// strconv accepts (inf, nan) and hexadecimal forms.
func parseDecimal(s string) (float64, error) {
	s = strings.TrimSpace(s)
	if s == "" || strings.ContainsAny(s, "xXpPnNiI_") {
		return 0, strconv.ErrSyntax
	}
	return strconv.ParseFloat(s, 64)
}

// ParseEpsilons parses a comma-separated list of ε values, each as
// ParseEpsilon reads it: "1/255,2/255,4/255,8/255" or "0.01, 0.03". The
// order is kept and duplicates are allowed. An empty list or an empty
// item gives an error wrapping ErrEpsilon.
func ParseEpsilons(s string) ([]float64, error) {
	if strings.TrimSpace(s) == "" {
		return nil, fmt.Errorf("parse epsilons %q: empty list: %w", s, ErrEpsilon)
	}
	parts := strings.Split(s, ",")
	eps := make([]float64, 0, len(parts))
	for _, p := range parts {
		v, err := ParseEpsilon(p)
		if err != nil {
			return nil, err
		}
		eps = append(eps, v)
	}
	return eps, nil
}

// validUnit reports whether v lies in (0, 1].
func validUnit(v float64) bool { return v > 0 && v <= 1 }

// ParsePGD parses PGD settings written as comma-separated key=value
// pairs, as the CLI's --pgd flag takes them:
// "eps=8/255,step=2/255,steps=10,random-start=true,seed=0". Keys may come in
// any order and be omitted (torchattacks' defaults apply); eps and step
// are read by ParseEpsilon. Unlike the zero PGD field, steps=0 is an
// error (ErrSteps). Unknown keys and malformed values wrap ErrOption,
// ErrEpsilon or ErrSteps.
func ParsePGD(s string) (PGD, error) {
	var p PGD
	if strings.TrimSpace(s) == "" {
		return p, nil
	}
	for item := range strings.SplitSeq(s, ",") {
		key, val, ok := strings.Cut(item, "=")
		key, val = strings.ToLower(strings.TrimSpace(key)), strings.TrimSpace(val)
		if !ok || val == "" {
			return PGD{}, fmt.Errorf("parse pgd %q: item %q is not key=value: %w", s, item, ErrOption)
		}
		var err error
		switch key {
		case "eps", "epsilon":
			p.Epsilon, err = ParseEpsilon(val)
		case "step", "alpha":
			if p.Step, err = ParseEpsilon(val); err != nil {
				err = fmt.Errorf("pgd step: %w", err)
			}
		case "steps":
			n, perr := strconv.Atoi(val)
			switch {
			case perr != nil:
				err = fmt.Errorf("parse pgd steps %q: %w", val, ErrSteps)
			case n < 1:
				err = fmt.Errorf("parse pgd steps %d: %w", n, ErrSteps)
			}
			p.Steps = n
		case "random-start", "random_start":
			b, perr := strconv.ParseBool(val)
			if perr != nil {
				err = fmt.Errorf("parse pgd random-start %q: %w", val, ErrOption)
			}
			p.NoRandomStart = !b
		case "seed":
			v, perr := strconv.ParseUint(val, 10, 64)
			if perr != nil {
				err = fmt.Errorf("parse pgd seed %q: %w", val, ErrOption)
			}
			p.Seed = v
		default:
			err = fmt.Errorf("parse pgd %q: unknown key %q (want eps, step, steps, random-start, seed): %w", s, key, ErrOption)
		}
		if err != nil {
			return PGD{}, err
		}
	}
	return p, nil
}
