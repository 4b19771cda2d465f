package main

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"

	"github.com/cutmixcam/cutmix-cam/cam"
	"github.com/cutmixcam/cutmix-cam/robust"
	"github.com/cutmixcam/cutmix-cam/wsol"
)

// jnum is a float64 that encodes NaN and ±Inf as JSON null.
type jnum float64

func (n jnum) MarshalJSON() ([]byte, error) {
	f := float64(n)
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return []byte("null"), nil
	}
	return json.Marshal(f)
}

func (n *jnum) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		*n = jnum(math.NaN())
		return nil
	}
	var f float64
	if err := json.Unmarshal(b, &f); err != nil {
		return err
	}
	*n = jnum(f)
	return nil
}

// compareResults is results.json.
type compareResults struct {
	SchemaVersion int               `json:"schema_version"`
	Tool          string            `json:"tool"`
	ToolVersion   string            `json:"tool_version"`
	Seed          uint64            `json:"seed"`
	Bootstrap     int               `json:"bootstrap"`
	Data          dataInfo          `json:"data"`
	Options       compareConfig     `json:"options"`
	Conventions   map[string]string `json:"conventions"`
	Models        []modelResult     `json:"models"`
	Comparisons   []comparison      `json:"comparisons"`
}

type dataInfo struct {
	Dir         string   `json:"dir"`
	Layout      string   `json:"layout"`
	Images      int      `json:"images"`
	Limit       int      `json:"limit"`
	Fingerprint string   `json:"fingerprint"`
	IDs         []string `json:"ids"`
	Labels      []int    `json:"labels"`
}

type compareConfig struct {
	Methods    []string   `json:"methods"`
	FGSM       []float64  `json:"fgsm_epsilons"`
	PGD        *pgdConfig `json:"pgd,omitempty"`
	Occlusion  []string   `json:"occlusion"`
	InBetween  bool       `json:"inbetween"`
	Steps      int        `json:"steps"`
	Norm       string     `json:"norm"`
	Resize     string     `json:"resize"`
	Batch      int        `json:"batch"`
	FaithSteps int        `json:"faith_steps"`
	FaithLimit int        `json:"faith_limit"`
	Interval   float64    `json:"wsol_interval"`
	IoU        []int      `json:"wsol_iou"`
	Sigma      float64    `json:"wsol_sigma"`
}

// pgdConfig records --pgd with its defaults filled in; the random start
// is seeded by --seed.
type pgdConfig struct {
	Epsilon     float64 `json:"epsilon"`
	Step        float64 `json:"step"`
	Steps       int     `json:"steps"`
	RandomStart bool    `json:"random_start"`
}

// metricValue is one headline number of one model with its bootstrap
// 95% interval. Percentages are in [0, 100]; AUCs in [0, 1].
type metricValue struct {
	Key    string  `json:"key"`
	Label  string  `json:"label"`
	Better string  `json:"better"` // "higher" or "lower"
	Value  float64 `json:"value"`
	CILow  jnum    `json:"ci_low"`
	CIHigh jnum    `json:"ci_high"`
	Images int     `json:"images"`
}

type faithSummary struct {
	Images         int       `json:"images"`
	Steps          int       `json:"steps"`
	DeletionAUC    float64   `json:"deletion_auc"`
	InsertionAUC   float64   `json:"insertion_auc"`
	AverageDrop    float64   `json:"average_drop_pct"`
	Increase       float64   `json:"increase_in_confidence_pct"`
	DeletionCurve  []float64 `json:"mean_deletion_curve"`
	InsertionCurve []float64 `json:"mean_insertion_curve"`
	PerImage       []float64 `json:"per_image_deletion_auc"`
	PerImageIns    []float64 `json:"per_image_insertion_auc"`
}

type modelResult struct {
	Name         string                  `json:"name"`
	Path         string                  `json:"path"`
	SHA256       string                  `json:"sha256"`
	Input        [3]int                  `json:"input_chw"`
	Classes      int                     `json:"classes"`
	Layer        string                  `json:"layer"`
	Images       int                     `json:"images"`
	Correct      int                     `json:"correct"`
	Accuracy     float64                 `json:"accuracy_pct"`
	Metrics      []metricValue           `json:"metrics"`
	WSOL         map[string]wsol.Result  `json:"wsol,omitempty"`
	FGSM         *robust.AttackResult    `json:"fgsm,omitempty"`
	FGSMSkipped  string                  `json:"fgsm_skipped,omitempty"`
	PGD          *robust.AttackResult    `json:"pgd,omitempty"`
	PGDSkipped   string                  `json:"pgd_skipped,omitempty"`
	Occlusion    *robust.OcclusionResult `json:"occlusion,omitempty"`
	Between      *robust.BetweenResult   `json:"between,omitempty"`
	Faithfulness map[string]faithSummary `json:"faithfulness,omitempty"`
	Pred         []int                   `json:"per_image_pred"`
	FGSMCorrect  [][]bool                `json:"per_image_fgsm_correct,omitempty"`
	PGDCorrect   []bool                  `json:"per_image_pgd_correct,omitempty"`
}

// comparison is Value − Baseline for one metric, with the paired
// bootstrap 95% interval of the difference.
type comparison struct {
	Model       string  `json:"model"`
	Baseline    string  `json:"baseline"`
	Key         string  `json:"key"`
	Label       string  `json:"label"`
	Better      string  `json:"better"`
	BaseValue   float64 `json:"baseline_value"`
	Value       float64 `json:"value"`
	Diff        float64 `json:"diff"`
	CILow       jnum    `json:"ci_low"`
	CIHigh      jnum    `json:"ci_high"`
	Significant bool    `json:"significant"`
	Comparable  bool    `json:"comparable"`
	Note        string  `json:"note,omitempty"`
}

var compareConventions = map[string]string{
	"accuracy":     "top-1 (argmax, first index on ties) equal to the label, percent",
	"wsol":         wsolConventions + "; maps of the ground-truth class; threshold grid 0.001; IoU 30,50,70; sigma 0.15",
	"fgsm":         robust.Space + "; " + robust.Normalization + "; " + robust.Loss + "; untargeted; accuracy in percent over all images",
	"pgd":          robust.Space + "; " + robust.Normalization + "; " + robust.Loss + "; untargeted L-inf PGD with sign steps, projection and clipping to [0,1] after every step; random start of image i from PCG(--seed, i) as robust.PGD; accuracy in percent over all images",
	"curves":       "robust.Evaluate: occlusion top-1 error and in-between neither-class error, fractions",
	"faithfulness": "map of the predicted class, bilinear to the input size, min-max; probability = softmax; deletion to black pixels, insertion from a Gaussian blur (sigma 5 px per 224), ceil(HW/steps) pixels per step, AUC by RISE's trapezoid rule; average drop = mean max(0,Y-O)/Y and increase = percent O>Y with O on black + map*(image - black) (Grad-CAM++)",
	"bootstrap":    "paired: each resample draws the images with replacement (PCG seed --seed, stream 0xb0075742) and scores every model on the same draw; dataset-level WSOL metrics are recomputed from the summed per-image statistics; per-image means for the rest (faithfulness over the first faith_limit images, with those images' multiplicities); 95% percentile intervals (linear interpolation); a difference is significant when its interval excludes 0",
}

// buildResults assembles results.json, including the bootstrap.
func buildResults(o *compareOptions, d *compareData, evals []*modelEval) *compareResults {
	res := &compareResults{SchemaVersion: compareSchema, Tool: "cutmix-cam", ToolVersion: toolVersion(), Seed: o.g.seed,
		Bootstrap: o.bootstrap, Conventions: compareConventions,
		Data: dataInfo{Dir: d.dir, Layout: d.layout, Images: len(d.paths), Limit: o.limit, Fingerprint: d.fingerprint, IDs: d.ids, Labels: d.labels},
		Options: compareConfig{FGSM: o.eps, PGD: o.pgdConfig(), InBetween: o.inbetween, Steps: o.steps, Norm: o.norm, Resize: o.resize, Batch: o.batch,
			FaithSteps: o.faithSteps, FaithLimit: o.faithLimit, Interval: 0.001, IoU: []int{30, 50, 70}, Sigma: 0.15}}
	for _, m := range o.meths {
		res.Options.Methods = append(res.Options.Methods, m.Name())
	}
	for _, oc := range o.occluders {
		res.Options.Occlusion = append(res.Options.Occlusion, oc.String())
	}
	draws := resamples(len(d.paths), o.bootstrap, o.g.seed)
	boots := make([][][]float64, len(evals)) // [model][draw][metric]
	for i, ev := range evals {
		mr, defs := modelMetrics(o, ev)
		boots[i] = bootMap(draws, func(w []int32) []float64 { return bootMetrics(o, ev, w) })
		for k := range mr.Metrics {
			col := make([]float64, len(draws))
			for r := range draws {
				col[r] = boots[i][r][k]
			}
			lo, hi := interval(col)
			mr.Metrics[k].CILow, mr.Metrics[k].CIHigh = jnum(lo), jnum(hi)
		}
		_ = defs
		res.Models = append(res.Models, mr)
	}
	if len(evals) < 2 {
		return res
	}
	base := res.Models[0]
	for i := 1; i < len(evals); i++ {
		m := res.Models[i]
		comparable, note := true, ""
		if m.Classes != base.Classes || m.Input != base.Input {
			comparable = false
			note = fmt.Sprintf("not comparable: %d classes, input %v; baseline %d classes, input %v", m.Classes, m.Input, base.Classes, base.Input)
		}
		for k, mv := range m.Metrics {
			bk := -1
			for j, b := range base.Metrics {
				if b.Key == mv.Key {
					bk = j
				}
			}
			if bk < 0 {
				continue
			}
			c := comparison{Model: m.Name, Baseline: base.Name, Key: mv.Key, Label: mv.Label, Better: mv.Better,
				BaseValue: base.Metrics[bk].Value, Value: mv.Value, Diff: mv.Value - base.Metrics[bk].Value,
				CILow: jnum(math.NaN()), CIHigh: jnum(math.NaN()), Comparable: comparable, Note: note}
			if comparable && len(draws) > 0 {
				diffs := make([]float64, len(draws))
				for r := range draws {
					diffs[r] = boots[i][r][k] - boots[0][r][bk]
				}
				lo, hi := interval(diffs)
				c.CILow, c.CIHigh = jnum(lo), jnum(hi)
				c.Significant = lo > 0 || hi < 0
			}
			res.Comparisons = append(res.Comparisons, c)
		}
	}
	return res
}

func (o *compareOptions) pgdConfig() *pgdConfig {
	if o.pgdAttack == nil {
		return nil
	}
	a := o.pgdAttack
	return &pgdConfig{Epsilon: a.Epsilon, Step: a.Step, Steps: a.Steps, RandomStart: !a.NoRandomStart}
}

func epsKey(eps float64) string {
	return "fgsm_" + strconv.FormatFloat(eps*255, 'g', 4, 64)
}

// modelMetrics returns the model's result with its headline metrics, in
// the order bootMetrics computes them.
func modelMetrics(o *compareOptions, ev *modelEval) (modelResult, int) {
	mr := ev.run
	r := modelResult{Name: mr.name, Path: mr.path, SHA256: mr.sha, Input: [3]int{mr.c, mr.h, mr.w}, Classes: mr.classes, Layer: mr.layer,
		Images: len(ev.predict.Correct), Pred: ev.predict.Pred}
	for _, c := range ev.predict.Correct {
		if c {
			r.Correct++
		}
	}
	r.Accuracy = 100 * frac(r.Correct, r.Images)
	add := func(key, label, better string, v float64, n int) {
		r.Metrics = append(r.Metrics, metricValue{Key: key, Label: label, Better: better, Value: v, Images: n})
	}
	add("accuracy", "Accuracy %", "higher", r.Accuracy, r.Images)
	for _, m := range o.meths {
		ws, ok := ev.wsol[m.Name()]
		if !ok {
			continue
		}
		if r.WSOL == nil {
			r.WSOL = map[string]wsol.Result{}
		}
		w := ws.Result
		r.WSOL[m.Name()] = w
		n := m.Name()
		add("maxboxacc_v2/"+n, "MaxBoxAccV2 ("+n+")", "higher", w.MaxBoxAccV2, w.BoxImages)
		add("maxboxacc/"+n, "MaxBoxAcc ("+n+")", "higher", w.MaxBoxAcc, w.BoxImages)
		if w.MaskImages > 0 {
			add("pxap/"+n, "PxAP ("+n+")", "higher", w.PxAP, w.MaskImages)
		}
		add("top1_loc/"+n, "Top-1 Loc σ0.15 ("+n+")", "higher", w.Top1Loc, w.LocImages)
		add("gt_known_loc/"+n, "GT-known Loc σ0.15 ("+n+")", "higher", w.GTKnownLoc, w.LocImages)
	}
	if ev.fgsm.Attack != nil {
		r.FGSM = ev.fgsm.Attack
		r.FGSMCorrect = ev.fgsm.Correct
		for i, p := range ev.fgsm.Attack.Points {
			add(epsKey(p.Epsilon), fmt.Sprintf("FGSM ε=%g/255 accuracy %%", p.Epsilon255), "higher", 100*frac(countTrue(ev.fgsm.Correct[i]), len(ev.fgsm.Correct[i])), len(ev.fgsm.Correct[i]))
		}
	}
	r.FGSMSkipped = ev.fgsm.Skipped
	if a := ev.pgd.Attack; a != nil {
		r.PGD, r.PGDCorrect = a, ev.pgd.Correct
		p := a.Points[0]
		add("pgd", fmt.Sprintf("PGD ε=%g/255 (%d×%g/255) accuracy %%", p.Epsilon255, a.Steps, a.Step*255), "higher", 100*frac(countTrue(ev.pgd.Correct), len(ev.pgd.Correct)), len(ev.pgd.Correct))
	}
	r.PGDSkipped = ev.pgd.Skipped
	if ev.curves.Report != nil {
		r.Occlusion, r.Between = ev.curves.Report.Occlusion, ev.curves.Report.Between
	}
	for _, m := range o.meths {
		fs, ok := ev.faith[m.Name()]
		if !ok || len(fs.Scores) == 0 {
			continue
		}
		if r.Faithfulness == nil {
			r.Faithfulness = map[string]faithSummary{}
		}
		s := summarizeFaith(fs.Scores, o.faithSteps)
		r.Faithfulness[m.Name()] = s
		n := m.Name()
		add("deletion_auc/"+n, "Deletion AUC ("+n+")", "lower", s.DeletionAUC, s.Images)
		add("insertion_auc/"+n, "Insertion AUC ("+n+")", "higher", s.InsertionAUC, s.Images)
		add("average_drop/"+n, "Average drop % ("+n+")", "lower", s.AverageDrop, s.Images)
		add("increase/"+n, "Increase in confidence % ("+n+")", "higher", s.Increase, s.Images)
	}
	return r, len(r.Metrics)
}

func countTrue(b []bool) int {
	n := 0
	for _, x := range b {
		if x {
			n++
		}
	}
	return n
}

func faithColumns(sc []cam.FaithScore) (del, ins, drop, inc []float64) {
	for _, s := range sc {
		del = append(del, s.Deletion)
		ins = append(ins, s.Insertion)
		drop = append(drop, 100*s.Drop)
		v := 0.0
		if s.Increase {
			v = 100
		}
		inc = append(inc, v)
	}
	return
}

func summarizeFaith(sc []cam.FaithScore, steps int) faithSummary {
	del, ins, drop, inc := faithColumns(sc)
	s := faithSummary{Images: len(sc), Steps: steps, DeletionAUC: mean(del), InsertionAUC: mean(ins), AverageDrop: mean(drop), Increase: mean(inc),
		PerImage: del, PerImageIns: ins}
	if len(sc) > 0 {
		s.DeletionCurve = make([]float64, len(sc[0].DeletionCurve))
		s.InsertionCurve = make([]float64, len(sc[0].InsertionCurve))
		for _, x := range sc {
			for i := range s.DeletionCurve {
				s.DeletionCurve[i] += x.DeletionCurve[i] / float64(len(sc))
				s.InsertionCurve[i] += x.InsertionCurve[i] / float64(len(sc))
			}
		}
	}
	return s
}

// bootMetrics recomputes modelMetrics' headline numbers on the draw w.
func bootMetrics(o *compareOptions, ev *modelEval, w []int32) []float64 {
	var out []float64
	out = append(out, weightedMean(w, boolFloats(ev.predict.Correct)))
	for _, m := range o.meths {
		ws, ok := ev.wsol[m.Name()]
		if !ok {
			continue
		}
		r, err := ws.resampledResult(w)
		if err != nil {
			nan := math.NaN()
			r = wsol.Result{MaxBoxAccV2: nan, MaxBoxAcc: nan, PxAP: nan, Top1Loc: nan, GTKnownLoc: nan, MaskImages: ws.Result.MaskImages}
		}
		out = append(out, r.MaxBoxAccV2, r.MaxBoxAcc)
		if ws.Result.MaskImages > 0 {
			out = append(out, r.PxAP)
		}
		out = append(out, r.Top1Loc, r.GTKnownLoc)
	}
	if ev.fgsm.Attack != nil {
		for i := range ev.fgsm.Attack.Points {
			out = append(out, weightedMean(w, boolFloats(ev.fgsm.Correct[i])))
		}
	}
	if ev.pgd.Attack != nil {
		out = append(out, weightedMean(w, boolFloats(ev.pgd.Correct)))
	}
	for _, m := range o.meths {
		fs, ok := ev.faith[m.Name()]
		if !ok || len(fs.Scores) == 0 {
			continue
		}
		del, ins, drop, inc := faithColumns(fs.Scores)
		out = append(out, weightedMean(w, del), weightedMean(w, ins), weightedMean(w, drop), weightedMean(w, inc))
	}
	return out
}
