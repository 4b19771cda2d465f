package main

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"
	"go.yaml.in/yaml/v3"

	"github.com/cutmixcam/cutmix-cam/internal/atomicfile"
)

type auditOptions struct {
	g        *globalOptions
	model    string
	data     string
	config   string
	baseline string
	junit    string
	cfg      auditConfig
	cmp      *compareOptions
}

// auditConfig is the YAML configuration. Percentages are in [0, 100].
type auditConfig struct {
	// Methods are the CAM methods scored; default [cam].
	Methods []string `yaml:"methods"`
	// Norm and Resize as the flags of compare; defaults imagenet, warp.
	Norm   string `yaml:"norm"`
	Resize string `yaml:"resize"`
	// Limit uses the first N images; 0 all.
	Limit int `yaml:"limit"`
	// FGSM lists the ε values; max_fgsm_drop reads the largest. Default
	// [8/255].
	FGSM []string `yaml:"fgsm"`
	// Bootstrap resamples for the regression intervals; default 1000.
	Bootstrap *int `yaml:"bootstrap"`
	// BaselineModel names the model of --baseline to compare with;
	// default its first model.
	BaselineModel string      `yaml:"baseline_model"`
	Checks        auditChecks `yaml:"checks"`
}

type auditChecks struct {
	MinAccuracy    *float64        `yaml:"min_accuracy"`
	MinMaxBoxAccV2 *float64        `yaml:"min_maxboxacc_v2"`
	MinPxAP        *float64        `yaml:"min_pxap"`
	MaxFGSMDrop    *float64        `yaml:"max_fgsm_drop"`
	MaxRegression  *auditRegresion `yaml:"max_regression"`
}

// auditRegresion holds the allowed drop, in percentage points, below the
// baseline run for each metric.
type auditRegresion struct {
	Accuracy    *float64 `yaml:"accuracy"`
	MaxBoxAccV2 *float64 `yaml:"maxboxacc_v2"`
	MaxBoxAcc   *float64 `yaml:"maxboxacc"`
	PxAP        *float64 `yaml:"pxap"`
	Top1Loc     *float64 `yaml:"top1_loc"`
	GTKnownLoc  *float64 `yaml:"gt_known_loc"`
}

func newAuditCmd(g *globalOptions, runF func(*auditOptions) error) *cobra.Command {
	o := &auditOptions{g: g}
	cmd := &cobra.Command{
		Use:   "audit MODEL --data DIR --config audit.yaml",
		Short: "Check a model against localization, accuracy and robustness thresholds (a CI gate)",
		Long: `Evaluate MODEL as "cutmix-cam compare" does and check the thresholds of the
YAML --config (percentages in [0, 100]):

  methods: [cam]          # CAM methods scored
  norm: imagenet          # imagenet, unit, none or MEAN/STD
  resize: warp
  limit: 0                # first N images (0: all)
  fgsm: [8/255]
  bootstrap: 1000         # resamples for the regression intervals
  baseline_model: NAME    # model of --baseline (default: its first)
  checks:
    min_accuracy: 60
    min_maxboxacc_v2: 50  # every method
    min_pxap: 50          # every method; the data needs masks
    max_fgsm_drop: 40     # clean minus FGSM accuracy at the largest ε
    max_regression:       # points below the --baseline run
      accuracy: 2
      maxboxacc_v2: 3     # also maxboxacc, pxap, top1_loc, gt_known_loc

A regression check is CI-aware: it fails only when the whole bootstrap 95%
interval of this run's value lies below the baseline's value minus the
allowed drop, so noise from a small data set does not fail a build. The
baseline (a compare results.json) must come from the same data set.

Exit status: 0 when every check holds, 3 when one fails, 1 when the work
fails, 2 for bad flags or configuration. --junit writes JUnit XML with one
test case per check.`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) != 1 {
				return usagef("audit takes one MODEL, got %d arguments", len(args))
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			o.model = args[0]
			if err := o.validate(); err != nil {
				return err
			}
			if runF != nil {
				return runF(o)
			}
			return runAudit(cmd.Context(), o)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.data, "data", "", "labelled images (wsolevaluation layout for the WSOL checks)")
	f.StringVar(&o.config, "config", "", "YAML thresholds (see above)")
	f.StringVar(&o.baseline, "baseline", "", "results.json of an earlier compare run for max_regression")
	f.StringVar(&o.junit, "junit", "", "write JUnit XML here")
	return cmd
}

// readAuditConfig decodes YAML strictly: unknown keys are errors that name
// the key and its line.
func readAuditConfig(b []byte) (auditConfig, error) {
	var c auditConfig
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(&c); err != nil && !errors.Is(err, io.EOF) {
		return c, err
	}
	return c, nil
}

func (o *auditOptions) validate() error {
	if o.data == "" || o.config == "" {
		return usagef("audit needs --data DIR and --config FILE")
	}
	b, err := os.ReadFile(o.config)
	if err != nil {
		return usageError{fmt.Errorf("--config %w", checkFile(o.config))}
	}
	c, err := readAuditConfig(b)
	if err != nil {
		return usageError{fmt.Errorf("--config %s: %w", o.config, err)}
	}
	o.cfg = c
	cmp := &compareOptions{g: o.g, models: []string{o.model}, data: o.data, out: ".", methods: "cam", fgsm: "8/255", occlusion: "none",
		steps: 1, norm: "imagenet", resize: "warp", limit: c.Limit, bootstrap: 1000, batch: 32, faithSteps: 1, grid: 0, maxPixels: 50_000_000}
	if len(c.Methods) > 0 {
		cmp.methods = strings.Join(c.Methods, ",")
	}
	if c.Norm != "" {
		cmp.norm = c.Norm
	}
	if c.Resize != "" {
		cmp.resize = c.Resize
	}
	if len(c.FGSM) > 0 {
		cmp.fgsm = strings.Join(c.FGSM, ",")
	}
	if c.Bootstrap != nil {
		cmp.bootstrap = *c.Bootstrap
	}
	if err := cmp.validate(); err != nil {
		return usageError{fmt.Errorf("--config %s: %w", o.config, err)}
	}
	cmp.noFaith = true
	o.cmp = cmp
	if c.Checks.MaxRegression != nil && o.baseline == "" {
		return usagef("--config %s sets max_regression: pass --baseline results.json", o.config)
	}
	return nil
}

// auditCheck is the outcome of one threshold.
type auditCheck struct {
	Name      string  `json:"name"`
	Passed    bool    `json:"passed"`
	Value     jnum    `json:"value"`
	Threshold float64 `json:"threshold"`
	Message   string  `json:"message"`
}

type auditReport struct {
	SchemaVersion int          `json:"schema_version"`
	Seed          uint64       `json:"seed"`
	Model         string       `json:"model"`
	SHA256        string       `json:"model_sha256"`
	Data          string       `json:"data"`
	Fingerprint   string       `json:"data_fingerprint"`
	Baseline      string       `json:"baseline,omitempty"`
	Passed        bool         `json:"passed"`
	Checks        []auditCheck `json:"checks"`
	Metrics       modelResult  `json:"metrics"`
}

// failedError reports failed checks; it exits with exitFailed.
type failedError struct{ n int }

func (e failedError) Error() string { return fmt.Sprintf("%d checks failed", e.n) }

func runAudit(ctx context.Context, o *auditOptions) error {
	data, err := loadCompareData(ctx, o.data, o.cmp.limit)
	if err != nil {
		return err
	}
	var base *compareResults
	if o.baseline != "" {
		b, err := os.ReadFile(o.baseline)
		if err != nil {
			return fmt.Errorf("--baseline %w", checkFile(o.baseline))
		}
		base = &compareResults{}
		if err := json.Unmarshal(b, base); err != nil || base.SchemaVersion == 0 {
			return fmt.Errorf("--baseline %s: not a compare results.json (%v)", o.baseline, err)
		}
		if base.Data.Fingerprint != data.fingerprint {
			return fmt.Errorf("--baseline %s: computed on another data set (fingerprint %.12s, these %d images %.12s); rerun compare on --data %s", o.baseline, base.Data.Fingerprint, len(data.paths), data.fingerprint, o.data)
		}
	}
	rt, err := o.g.openRuntime()
	if err != nil {
		return err
	}
	defer rt.Close()
	e := &evaluator{g: o.g, o: o.cmp, data: data}
	ev, err := e.evaluate(ctx, o.model)
	if err != nil {
		return err
	}
	res := buildResults(o.cmp, data, []*modelEval{ev})
	m := res.Models[0]
	rep := auditReport{SchemaVersion: 1, Seed: o.g.seed, Model: o.model, SHA256: m.SHA256, Data: o.data, Fingerprint: data.fingerprint,
		Baseline: o.baseline, Metrics: m}
	rep.Checks = o.checks(m, base)
	failed := 0
	for _, c := range rep.Checks {
		if !c.Passed {
			failed++
		}
	}
	rep.Passed = failed == 0
	if o.junit != "" {
		if err := atomicfile.Write(o.junit, 0, func(w io.Writer) error { return writeJUnit(w, rep) }); err != nil {
			return err
		}
	}
	if o.g.json {
		if err := encodeJSON(o.g.out, rep); err != nil {
			return err
		}
	} else {
		tw := tabwriter.NewWriter(o.g.out, 0, 4, 2, ' ', 0)
		for _, c := range rep.Checks {
			st := "PASS"
			if !c.Passed {
				st = "FAIL"
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\n", st, c.Name, c.Message)
		}
		fmt.Fprintf(tw, "%d of %d checks passed (%s, %d images)\n", len(rep.Checks)-failed, len(rep.Checks), m.Name, m.Images)
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	if failed > 0 {
		return failedError{failed}
	}
	return nil
}

func (o *auditOptions) checks(m modelResult, base *compareResults) []auditCheck {
	var out []auditCheck
	metric := func(key string) (metricValue, bool) {
		for _, mv := range m.Metrics {
			if mv.Key == key {
				return mv, true
			}
		}
		return metricValue{}, false
	}
	minCheck := func(name, key string, th float64) {
		mv, ok := metric(key)
		if !ok {
			out = append(out, auditCheck{Name: name, Value: jnum(math.NaN()), Threshold: th, Message: "not measured: " + key + " needs the wsolevaluation layout (and masks for PxAP)"})
			return
		}
		c := auditCheck{Name: name, Value: jnum(mv.Value), Threshold: th, Passed: mv.Value >= th}
		c.Message = fmt.Sprintf("%.2f >= %.2f", mv.Value, th)
		if !c.Passed {
			c.Message = fmt.Sprintf("%.2f < %.2f", mv.Value, th)
		}
		out = append(out, c)
	}
	ck := o.cfg.Checks
	if ck.MinAccuracy != nil {
		minCheck("min_accuracy", "accuracy", *ck.MinAccuracy)
	}
	for _, meth := range o.cmp.meths {
		if ck.MinMaxBoxAccV2 != nil {
			minCheck("min_maxboxacc_v2/"+meth.Name(), "maxboxacc_v2/"+meth.Name(), *ck.MinMaxBoxAccV2)
		}
		if ck.MinPxAP != nil {
			minCheck("min_pxap/"+meth.Name(), "pxap/"+meth.Name(), *ck.MinPxAP)
		}
	}
	if th := ck.MaxFGSMDrop; th != nil {
		c := auditCheck{Name: "max_fgsm_drop", Threshold: *th, Value: jnum(math.NaN())}
		if m.FGSM == nil || len(m.FGSM.Points) == 0 {
			c.Message = "not measured: FGSM skipped (" + m.FGSMSkipped + ")"
		} else {
			p := m.FGSM.Points[0]
			for _, q := range m.FGSM.Points {
				if q.Epsilon > p.Epsilon {
					p = q
				}
			}
			drop := 100 * (m.FGSM.CleanAccuracy - p.Accuracy)
			c.Value, c.Passed = jnum(drop), drop <= *th
			c.Message = fmt.Sprintf("accuracy %.2f -> %.2f at ε=%g/255: drop %.2f, allowed %.2f", 100*m.FGSM.CleanAccuracy, 100*p.Accuracy, p.Epsilon255, drop, *th)
		}
		out = append(out, c)
	}
	if r := ck.MaxRegression; r != nil && base != nil {
		bm := base.Models[0]
		if o.cfg.BaselineModel != "" {
			for _, x := range base.Models {
				if x.Name == o.cfg.BaselineModel {
					bm = x
				}
			}
		}
		type reg struct {
			key string
			tol *float64
		}
		regs := []reg{{"accuracy", r.Accuracy}}
		for _, meth := range o.cmp.meths {
			n := meth.Name()
			regs = append(regs, reg{"maxboxacc_v2/" + n, r.MaxBoxAccV2}, reg{"maxboxacc/" + n, r.MaxBoxAcc}, reg{"pxap/" + n, r.PxAP},
				reg{"top1_loc/" + n, r.Top1Loc}, reg{"gt_known_loc/" + n, r.GTKnownLoc})
		}
		for _, rg := range regs {
			if rg.tol == nil {
				continue
			}
			name := "max_regression/" + rg.key
			cur, ok1 := metric(rg.key)
			var bv metricValue
			ok2 := false
			for _, x := range bm.Metrics {
				if x.Key == rg.key {
					bv, ok2 = x, true
				}
			}
			if !ok1 || !ok2 {
				out = append(out, auditCheck{Name: name, Value: jnum(math.NaN()), Threshold: *rg.tol, Message: "not measured in this run or in the baseline " + bm.Name})
				continue
			}
			floor := bv.Value - *rg.tol
			hi := float64(cur.CIHigh)
			if math.IsNaN(hi) {
				hi = cur.Value
			}
			c := auditCheck{Name: name, Value: jnum(cur.Value - bv.Value), Threshold: *rg.tol, Passed: hi >= floor}
			c.Message = fmt.Sprintf("%.2f (95%% CI up to %.2f) vs baseline %s %.2f, floor %.2f", cur.Value, hi, bm.Name, bv.Value, floor)
			out = append(out, c)
		}
	}
	return out
}

type junitSuite struct {
	XMLName  xml.Name    `xml:"testsuite"`
	Name     string      `xml:"name,attr"`
	Tests    int         `xml:"tests,attr"`
	Failures int         `xml:"failures,attr"`
	Cases    []junitCase `xml:"testcase"`
}

type junitCase struct {
	Name      string        `xml:"name,attr"`
	ClassName string        `xml:"classname,attr"`
	Failure   *junitFailure `xml:"failure,omitempty"`
	Output    string        `xml:"system-out,omitempty"`
}

type junitFailure struct {
	Message string `xml:"message,attr"`
	Text    string `xml:",chardata"`
}

func writeJUnit(w io.Writer, r auditReport) error {
	s := junitSuite{Name: "cutmix-cam audit " + modelName(r.Model), Tests: len(r.Checks)}
	for _, c := range r.Checks {
		jc := junitCase{Name: c.Name, ClassName: "cutmix-cam.audit." + modelName(r.Model), Output: c.Message}
		if !c.Passed {
			s.Failures++
			jc.Failure = &junitFailure{Message: c.Message, Text: c.Message}
		}
		s.Cases = append(s.Cases, jc)
	}
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(s); err != nil {
		return err
	}
	_, err := io.WriteString(w, "\n")
	return err
}
