package main

import (
	"strings"
	"testing"
)

func TestParseLabels(t *testing.T) {
	tests := []struct {
		in   string
		want map[int]string
	}{
		{"cat\ndog\n", map[int]string{0: "cat", 1: "dog"}},
		{"0,tench, Tinca tinca\n2,shark\r\n", map[int]string{0: "tench, Tinca tinca", 2: "shark"}},
		{"a,b\nc", map[int]string{0: "a,b", 1: "c"}},
	}
	for _, tc := range tests {
		got, err := parseLabels(strings.NewReader(tc.in))
		if err != nil || len(got) != len(tc.want) {
			t.Errorf("parseLabels(%q) = %v, %v; want %v", tc.in, got, err, tc.want)
			continue
		}
		for k, v := range tc.want {
			if got[k] != v {
				t.Errorf("parseLabels(%q)[%d] = %q, want %q", tc.in, k, got[k], v)
			}
		}
	}
}

func FuzzParseLabels(f *testing.F) {
	f.Add("0,tench\n1,goldfish")
	f.Add("cat\ndog")
	f.Fuzz(func(t *testing.T, s string) {
		labels, err := parseLabels(strings.NewReader(s))
		if err != nil {
			return
		}
		for k := range labels {
			if k < 0 {
				t.Fatalf("negative class %d", k)
			}
		}
	})
}
