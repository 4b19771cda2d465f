#!/usr/bin/python3
"""Regenerates opencv_golden.json, the OpenCV/NumPy vectors of wsol's tests.

Needs NumPy and OpenCV 4.6 (Debian bookworm: apt-get install python3-numpy
python3-opencv). Run from this folder: /usr/bin/python3 gen_opencv_golden.py (the system
python, where apt installs cv2)

It re-implements the documented conventions of clovaai/wsolevaluation
(shared/REFERENCE.md A.4-A.8) on top of cv2 and numpy; the Go tests check
that wsol gives the same boxes, contour areas, accuracies and PxAP, bit for
bit. Maps are stored as integer levels k (score k/255) or as explicit floats.
"""
import json

import cv2
import numpy as np

rng = np.random.default_rng(20261129)


def boxes_at(scoremap, tau, multi):
    h, w = scoremap.shape
    img = np.expand_dims((scoremap * 255).astype(np.uint8), 2)
    _, thr = cv2.threshold(img, int(tau * np.max(img)), 255, cv2.THRESH_BINARY)
    contours = cv2.findContours(thr, cv2.RETR_TREE, cv2.CHAIN_APPROX_SIMPLE)[0]
    if len(contours) == 0:
        return [[0, 0, 0, 0]], []
    areas = [float(cv2.contourArea(c)) for c in contours]
    if not multi:
        contours = [max(contours, key=cv2.contourArea)]
    out = []
    for c in contours:
        x, y, bw, bh = cv2.boundingRect(c)
        out.append([int(x), int(y), int(min(x + bw, w - 1)), int(min(y + bh, h - 1))])
    return out, areas


def iou_matrix(a, b):
    a = np.array(a)
    b = np.array(b)
    x0 = np.maximum(a[:, None, 0], b[None, :, 0])
    y0 = np.maximum(a[:, None, 1], b[None, :, 1])
    x1 = np.minimum(a[:, None, 2], b[None, :, 2])
    y1 = np.minimum(a[:, None, 3], b[None, :, 3])
    inter = np.maximum(0, x1 - x0 + 1) * np.maximum(0, y1 - y0 + 1)
    aa = (a[:, 2] - a[:, 0] + 1) * (a[:, 3] - a[:, 1] + 1)
    ab = (b[:, 2] - b[:, 0] + 1) * (b[:, 3] - b[:, 1] + 1)
    return inter / (aa[:, None] + ab[None, :] - inter)


def random_levels(w, h):
    kind = rng.integers(5)
    if kind == 0:  # few levels: ties, holes, nesting
        lv = int(rng.integers(2, 6))
        u = rng.integers(0, lv, size=(h, w)) * (255 // (lv - 1))
    elif kind == 1:  # noise
        u = rng.integers(0, 256, size=(h, w))
    elif kind == 2:  # sparse
        u = rng.integers(0, 256, size=(h, w)) * (rng.integers(0, 4, size=(h, w)) == 0)
    elif kind == 3:  # concentric rings: deep contour trees
        yy, xx = np.mgrid[0:h, 0:w]
        cx, cy = rng.uniform(0, w), rng.uniform(0, h)
        r = np.hypot(xx - cx, yy - cy)
        u = ((np.floor(r / rng.uniform(1.0, 2.5)) % 2) * 255).astype(int)
        u = np.where(rng.integers(0, 9, size=(h, w)) == 0, 255 - u, u)
    else:  # smooth, cubic-upsampled
        c = rng.normal(size=(int(rng.integers(2, 6)), int(rng.integers(2, 6))))
        s = cv2.resize(c, (w, h), interpolation=cv2.INTER_CUBIC)
        s = (s - s.min()) / (s.max() - s.min())
        u = (s * 255).astype(int)
    return u.astype(int)


def contour_cases():
    cases = []
    taus = [float(t) for t in np.arange(0, 1, 0.05)]
    for i in range(80):
        w, h = int(rng.integers(1, 21)), int(rng.integers(1, 21))
        if i % 10 == 0:
            w, h = 32, 28
        u = random_levels(w, h)
        s = u / 255.0
        case = {"w": w, "h": h, "u": u.flatten().tolist(), "taus": taus, "v1": [], "v2": [], "areas": []}
        for tau in taus:
            b1, areas = boxes_at(s, tau, False)
            b2, _ = boxes_at(s, tau, True)
            case["v1"].append(b1[0])
            case["v2"].append(b2)
            case["areas"].append(areas)
        gts = []
        for _ in range(int(rng.integers(1, 4))):
            x0, y0 = int(rng.integers(w)), int(rng.integers(h))
            gts.append([x0, y0, int(rng.integers(x0, w)), int(rng.integers(y0, h))])
        case["gt"] = gts
        cases.append(case)
    # Maps with hundreds of contours: OpenCV recycles its 7-bit border
    # labels past 125 contours when it rebuilds the hierarchy.
    for kind in range(3):
        w, h = 60, 50
        if kind == 0:  # isolated pixels and specks
            u = (rng.integers(0, 256, size=(h, w)) * (rng.integers(0, 5, size=(h, w)) == 0)).astype(int)
        elif kind == 1:  # nested rings with noise
            yy, xx = np.mgrid[0:h, 0:w]
            r = np.hypot(xx - 31.3, yy - 24.7)
            u = ((np.floor(r / 1.5) % 2) * 255).astype(int)
            u = np.where(rng.integers(0, 6, size=(h, w)) == 0, 255 - u, u)
        else:  # few-level noise
            u = rng.integers(0, 3, size=(h, w)) * 127
        s = u / 255.0
        btaus = [float(t) for t in np.arange(0, 1, 0.25)]
        case = {"w": w, "h": h, "u": u.flatten().tolist(), "taus": btaus, "v1": [], "v2": [], "areas": []}
        for tau in btaus:
            b1, areas = boxes_at(s, tau, False)
            b2, _ = boxes_at(s, tau, True)
            case["v1"].append(b1[0])
            case["v2"].append(b2)
            case["areas"].append(areas)
        case["gt"] = [[10, 10, 40, 30]]
        cases.append(case)
    return cases


def box_acc(cases, interval):
    """BoxEvaluator over all cases at one interval: curves per IoU."""
    taus = np.arange(0, 1, interval)
    out = {"interval": interval, "v1": {}, "v2": {}}
    for multi, key in ((False, "v1"), (True, "v2")):
        correct = {d: np.zeros(len(taus)) for d in (30, 50, 70)}
        for c in cases:
            s = np.array(c["u"]).reshape(c["h"], c["w"]) / 255.0
            best = []
            for tau in taus:
                bs, _ = boxes_at(s, tau, multi)
                best.append(iou_matrix(bs, c["gt"]).max())
            for d in correct:
                correct[d][np.where(np.asarray(best) >= d / 100)[0]] += 1
        accs = {d: (correct[d] * 100.0 / float(len(cases))) for d in correct}
        out[key] = {str(d): accs[d].tolist() for d in accs}
        out[key + "_max"] = {str(d): float(accs[d].max()) for d in accs}
        out[key + "_mean"] = float(np.average([accs[d].max() for d in (30, 50, 70)]))
    return out


def pxap_cases():
    out = []
    for i in range(6):
        interval = [0.001, 0.01][i % 2]
        taus = list(np.arange(0, 1, interval))
        edges = taus + [1.0, 2.0, 3.0]
        fg_hist = np.zeros(len(taus) + 2)
        bg_hist = np.zeros(len(taus) + 2)
        maps = []
        for _ in range(3):
            w, h = 17, 13
            kind = rng.integers(3)
            if kind == 0:
                s = rng.uniform(size=(h, w))
            elif kind == 1:  # scores exactly on bin edges
                s = rng.integers(0, len(taus), size=(h, w)) * interval
                s[0, 0] = 1.0
            else:
                s = rng.integers(0, 256, size=(h, w)) / 255.0
            mask = rng.integers(0, 3, size=(h, w))
            mask = np.where(mask == 2, 255, mask).astype(np.uint8)
            fg_hist += np.histogram(s[mask == 1], bins=edges)[0].astype(float)
            bg_hist += np.histogram(s[mask == 0], bins=edges)[0].astype(float)
            maps.append({"w": w, "h": h, "s": s.flatten().tolist(), "mask": mask.flatten().tolist()})
        num_gt_true = fg_hist.sum()
        tp = fg_hist[::-1].cumsum()
        fn = num_gt_true - tp
        fp = bg_hist[::-1].cumsum()
        non_zero = (tp + fp) != 0
        with np.errstate(divide="ignore", invalid="ignore"):
            precision = tp / (tp + fp)
            recall = tp / (tp + fn)
        auc = (precision[1:] * np.diff(recall))[non_zero[1:]].sum()
        auc *= 100
        out.append({"interval": interval, "maps": maps, "pxap": float(auc)})
    return out


def main():
    cases = contour_cases()
    golden = {
        "opencv": cv2.__version__,
        "numpy": np.__version__,
        "contours": cases,
        "box_acc": [box_acc(cases, 0.05), box_acc(cases, 0.01)],
        "pxap": pxap_cases(),
    }
    with open("opencv_golden.json", "w") as f:
        json.dump(golden, f, separators=(",", ":"))


if __name__ == "__main__":
    main()
