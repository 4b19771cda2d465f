# Times the per-image work of clovaai/wsolevaluation at a 0.001 threshold
# grid, for comparison with `go test ./wsol -bench 'Score$'`:
#
#     /usr/bin/python3 wsol/testdata/refbench.py
#
# or, on the CAMs of the fixture CutMix model (written by the Go benchmark):
#
#     CUTMIX_CAM_BENCH_MAPS=DIR go test ./cmd/cutmix-cam -run XXX -bench WSOLModelMaps
#     /usr/bin/python3 wsol/testdata/refbench.py --maps DIR
#
# Needs Debian's python3-opencv and python3-numpy. For every image it does
# what the reference does: for each tau in np.arange(0, 1, 0.001),
# cv2.threshold at int(tau * max), cv2.findContours (RETR_TREE,
# CHAIN_APPROX_SIMPLE), cv2.boundingRect of every contour (MaxBoxAccV2 keeps
# them all, hole borders included), the inclusive IoU against the
# ground-truth box, and the PxAP foreground and background histograms. The
# maps resemble the Go benchmark's camLike: two Gaussian bumps plus noise on
# a 14x14 grid, bicubic-upsampled to 224x224 and min-max normalised. OpenCV
# runs on one thread; the figures printed are CPU milliseconds per image.
#
# Two loops are timed. "as the reference runs it" repeats the reference's
# own per-image steps (BoxEvaluator.accumulate with
# compute_bboxes_from_scoremaps, MaskEvaluator.accumulate), including its
# costs: the uint8 map's maximum is taken again for every tau, and the best
# IoU per tau is taken in a Python loop over a fresh row-wise maximum of
# the whole IoU matrix. "lean" keeps only the OpenCV calls and vectorises
# the rest; it is the floor of any per-threshold Python + OpenCV loop.

import os
import sys
import time

import cv2
import numpy as np

SIZE = 224
GRID = 0.001
IMAGES = 8


def cam_like(rng):
    """Returns a CAM-like score map in [0, 1] and its ground-truth box."""
    c = 14
    cx, cy = 3 + rng.random() * 8, 3 + rng.random() * 8
    y, x = np.mgrid[0:c, 0:c].astype(np.float64)
    raw = (np.exp(-((x - cx) ** 2 + (y - cy) ** 2) / 8)
           + 0.4 * np.exp(-((x - 2) ** 2 + (y - 11) ** 2) / 3)
           + 0.1 * rng.random((c, c)))
    m = cv2.resize(raw, (SIZE, SIZE), interpolation=cv2.INTER_CUBIC)
    m -= m.min()
    m /= m.max()
    s = SIZE / c
    box = [int((cx - 3) * s), int((cy - 3) * s),
           min(int((cx + 3) * s), SIZE) - 1, min(int((cy + 3) * s), SIZE) - 1]
    return m, [max(box[0], 0), max(box[1], 0), box[2], box[3]]


def boxes_per_threshold(scoremap, taus):
    """Follows compute_bboxes_from_scoremaps with multi_contour_eval=True."""
    h, w = scoremap.shape
    u8 = np.expand_dims((scoremap * 255).astype(np.uint8), 2)
    mx = np.max(u8)
    out = []
    for tau in taus:
        _, binary = cv2.threshold(u8, int(tau * mx), 255, cv2.THRESH_BINARY)
        contours = cv2.findContours(binary, cv2.RETR_TREE,
                                    cv2.CHAIN_APPROX_SIMPLE)[0]
        if len(contours) == 0:
            out.append(np.zeros((1, 4)))
            continue
        out.append(np.asarray(contour_boxes(contours, w, h)))
    return out


def contour_boxes(contours, w, h):
    """The reference's boxes of contours: bounding rectangles whose far
    corner is clipped to the last column and row."""
    rects = []
    for c in contours:
        x, y, bw, bh = cv2.boundingRect(c)
        rects.append([x, y, min(x + bw, w - 1), min(y + bh, h - 1)])
    return rects


def iou(a, b):
    """Inclusive (+1) IoU matrix between box lists a and b."""
    a = np.asarray(a, dtype=np.float64)[:, None, :]
    b = np.asarray(b, dtype=np.float64)[None, :, :]
    iw = np.maximum(0, np.minimum(a[..., 2], b[..., 2])
                    - np.maximum(a[..., 0], b[..., 0]) + 1)
    ih = np.maximum(0, np.minimum(a[..., 3], b[..., 3])
                    - np.maximum(a[..., 1], b[..., 1]) + 1)
    inter = iw * ih
    area_a = (a[..., 2] - a[..., 0] + 1) * (a[..., 3] - a[..., 1] + 1)
    area_b = (b[..., 2] - b[..., 0] + 1) * (b[..., 3] - b[..., 1] + 1)
    return inter / (area_a + area_b - inter)


def as_reference(scoremap, gts, taus, deltas, correct, edges, mask, hists):
    """One image, step by step as the reference's evaluators take it."""
    h, w = scoremap.shape
    u8 = np.expand_dims((scoremap * 255).astype(np.uint8), 2)
    per_tau, counts = [], []
    for tau in taus:
        _, binary = cv2.threshold(u8, int(tau * np.max(u8)), 255,
                                  cv2.THRESH_BINARY)
        contours = cv2.findContours(binary, cv2.RETR_TREE,
                                    cv2.CHAIN_APPROX_SIMPLE)[0]
        if len(contours) == 0:
            per_tau.append(np.asarray([[0, 0, 0, 0]]))
            counts.append(1)
            continue
        per_tau.append(np.asarray(contour_boxes(contours, w, h)))
        counts.append(len(contours))
    ious = iou(np.concatenate(per_tau, axis=0), gts)
    best, at = [], 0
    for k in counts:
        best.append(max(ious.max(1)[at:at + k]))
        at += k
    for i, d in enumerate(deltas):
        correct[i][np.where(np.asarray(best) >= d / 100)[0]] += 1
    hists[0] += np.histogram(scoremap[mask == 1], bins=edges)[0].astype(float)
    hists[1] += np.histogram(scoremap[mask == 0], bins=edges)[0].astype(float)


def lean(scoremap, gts, taus, deltas, correct, edges, mask, hists):
    """One image with the same OpenCV calls and vectorised bookkeeping."""
    per_tau = boxes_per_threshold(scoremap, taus)
    counts = [len(b) for b in per_tau]
    ious = iou(np.concatenate(per_tau, 0), gts).max(1)
    best = np.maximum.reduceat(ious, np.cumsum([0] + counts[:-1]))
    for i, d in enumerate(deltas):
        correct[i] += best >= d / 100
    hists[0] += np.histogram(scoremap[mask == 1], bins=edges)[0]
    hists[1] += np.histogram(scoremap[mask == 0], bins=edges)[0]


def like_maps():
    """The CAM-like maps, each with its box and a mask of the box."""
    rng = np.random.default_rng(0)
    samples = []
    for scoremap, gt in (cam_like(rng) for _ in range(IMAGES)):
        mask = np.zeros((SIZE, SIZE), np.uint8)
        mask[gt[1]:gt[3] + 1, gt[0]:gt[2] + 1] = 1
        mask[0, :] = 255  # an ignored row
        samples.append((scoremap, [gt], mask))
    return samples, "CAM-like maps"


def saved_maps(d):
    """The maps that BenchmarkWSOLModelMaps writes into d when
    CUTMIX_CAM_BENCH_MAPS=d is set: maps.npy, masks.npy and boxes.npy."""
    maps = np.load(os.path.join(d, "maps.npy"))
    masks = np.load(os.path.join(d, "masks.npy")).astype(np.uint8)
    boxes = np.load(os.path.join(d, "boxes.npy")).astype(int)
    samples = []
    for i, scoremap in enumerate(maps):
        gts = [list(b[1:]) for b in boxes if b[0] == i]
        samples.append((scoremap, gts, masks[i]))
    return samples, "maps of " + d


def main():
    cv2.setNumThreads(1)
    taus = np.arange(0, 1, GRID)
    edges = list(taus) + [1.0, 2.0, 3.0]
    if len(sys.argv) == 3 and sys.argv[1] == "--maps":
        samples, what = saved_maps(sys.argv[2])
    elif len(sys.argv) == 1:
        samples, what = like_maps()
    else:
        raise SystemExit("usage: refbench.py [--maps DIR]")
    n = len(samples)
    deltas = [30, 50, 70]
    print("MaxBoxAccV2 + PxAP at grid %g, %s, one thread, %d images:"
          % (GRID, what, n))
    results = []
    for name, run in (("as the reference runs it", as_reference),
                      ("lean", lean)):
        correct = np.zeros((len(deltas), len(taus)))
        hists = [np.zeros(len(edges) - 1), np.zeros(len(edges) - 1)]
        wall0, cpu0 = time.time(), time.process_time()
        for scoremap, gts, mask in samples:
            run(scoremap, gts, taus, deltas, correct, edges, mask, hists)
        wall, cpu = time.time() - wall0, time.process_time() - cpu0
        results.append((correct, hists))
        print("  %-25s %.1f cpu-ms/image, %.1f wall-ms/image"
              % (name + ":", cpu / n * 1000, wall / n * 1000))
    (c0, h0), (c1, h1) = results
    if not (np.array_equal(c0, c1) and np.array_equal(h0[0], h1[0])
            and np.array_equal(h0[1], h1[1])):
        raise SystemExit("the two loops disagree")


if __name__ == "__main__":
    main()
