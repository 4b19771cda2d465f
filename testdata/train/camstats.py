#!/usr/bin/python3
"""Indicative CAM statistics of the fmnist_*.onnx fixtures on testdata/fmnist-wsol.

A cross-check written from ../shared/REFERENCE.md A.1-A.8 (wsolevaluation),
not the toolkit's implementation: the Go `wsol` package is the reference
port. Differences from wsolevaluation: maps and ground truth stay at the
native 64x64 (no warp to 224x224), and the threshold grid is 0.01.

For each model it prints top-1 accuracy, GT-known MaxBoxAcc (IoU 0.5,
largest contour), MaxBoxAccV2 (all contours, mean over IoU 0.3/0.5/0.7),
PxAP over the instance masks (exact AP over sorted pixel scores rather than
wsolevaluation's binned histogram), and the mean fraction of the image where the
normalised CAM is >= 0.5 (the GT mask covers the "mask area" fraction).

    /usr/bin/python3 testdata/train/camstats.py [MODELS_DIR]

Runs the ONNX graph with a small torch interpreter (Conv, Relu, Add,
GlobalAveragePool, Flatten, Gemm), since python3-onnxruntime is not in Debian.
"""

import os
import sys

import cv2
import numpy as np
import onnx
import torch
import torch.nn.functional as F
from onnx import numpy_helper
from PIL import Image

ROOT = "testdata/fmnist-wsol"
MODELS = ["fmnist_baseline", "fmnist_cutmix", "fmnist_mixup", "fmnist_cutout"]


def run_onnx(path, x):
    m = onnx.load(path)
    env = {t.name: torch.from_numpy(numpy_helper.to_array(t).copy()) for t in m.graph.initializer}
    env["input"] = x
    for n in m.graph.node:
        a = {at.name: onnx.helper.get_attribute_value(at) for at in n.attribute}
        i = [env[k] for k in n.input]
        if n.op_type == "Conv":
            p = a.get("pads", [0, 0, 0, 0])
            assert p[:2] == p[2:], "asymmetric pads"
            y = F.conv2d(i[0], i[1], i[2] if len(i) > 2 else None, a.get("strides", 1), p[:2],
                         a.get("dilations", 1), a.get("group", 1))
        elif n.op_type == "Relu":
            y = F.relu(i[0])
        elif n.op_type == "Add":
            y = i[0] + i[1]
        elif n.op_type == "GlobalAveragePool":
            y = i[0].mean((2, 3), keepdim=True)
        elif n.op_type == "Flatten":
            y = i[0].flatten(a.get("axis", 1))
        elif n.op_type == "Gemm":
            w = i[1].t() if a.get("transB", 0) else i[1]
            y = a.get("alpha", 1.0) * i[0] @ w + a.get("beta", 1.0) * i[2]
        else:
            sys.exit(f"{path}: op {n.op_type} not handled")
        env[n.output[0]] = y
    gemm = [n for n in m.graph.node if n.op_type == "Gemm"][0]
    return env["logits"], env["features"], env[gemm.input[1]]


def boxes(cam, tau, multi):
    u8 = (cam * 255).astype(np.uint8)
    _, th = cv2.threshold(u8, int(tau * u8.max()), 255, cv2.THRESH_BINARY)
    cs = cv2.findContours(th, cv2.RETR_TREE, cv2.CHAIN_APPROX_SIMPLE)[-2]
    if not cs:
        return [(0, 0, 0, 0)]
    if not multi:
        cs = [max(cs, key=cv2.contourArea)]
    out = []
    for c in cs:
        x, y, w, h = cv2.boundingRect(c)
        out.append((x, y, min(x + w, cam.shape[1] - 1), min(y + h, cam.shape[0] - 1)))
    return out


def iou(a, b):
    iw = max(0, min(a[2], b[2]) - max(a[0], b[0]) + 1)
    ih = max(0, min(a[3], b[3]) - max(a[1], b[1]) + 1)
    inter = iw * ih
    area = lambda r: (r[2] - r[0] + 1) * (r[3] - r[1] + 1)
    return inter / (area(a) + area(b) - inter)


def main():
    md = os.path.join(ROOT, "metadata")
    ids = open(os.path.join(md, "image_ids.txt")).read().split("\n")
    lab = dict(l.split(",") for l in open(os.path.join(md, "class_labels.txt")).read().split("\n"))
    gt = {l.split(",")[0]: tuple(int(v) for v in l.split(",")[1:])
          for l in open(os.path.join(md, "localization.txt")).read().split("\n")}
    mk = {l.split(",")[0]: l.split(",")[1]
          for l in open(os.path.join(ROOT, "masks", "localization.txt")).read().split("\n")}
    x = torch.from_numpy(np.stack([np.asarray(Image.open(os.path.join(ROOT, i)).convert("RGB")) for i in ids]))
    x = x.permute(0, 3, 1, 2).float() / 255
    y = np.array([int(lab[i]) for i in ids])
    masks = np.stack([np.asarray(Image.open(os.path.join(ROOT, "masks", mk[i]))) > 0 for i in ids])
    taus = np.arange(0, 1, 0.01)
    print(f"{len(ids)} images; mask area {100 * masks.mean():.1f}% of the image")
    print("model            acc%  MaxBoxAcc  MaxBoxAccV2  PxAP  CAM>=0.5 area%")
    mdir = sys.argv[1] if len(sys.argv) > 1 else "testdata/models"
    for name in MODELS:
        path = os.path.join(mdir, name + ".onnx")
        if not os.path.exists(path):
            print(f"{name:16s} (no {path})")
            continue
        with torch.no_grad():
            logits, feats, w = run_onnx(path, x)
        acc = (logits.argmax(1).numpy() == y).mean()
        cams = (w[torch.from_numpy(y)][:, :, None, None] * feats).mean(1).numpy()
        v1 = np.zeros(len(taus))
        v2 = np.zeros((3, len(taus)))
        scores, area = [], []
        for k, c in enumerate(cams):
            c = cv2.resize(c.astype(np.float32), (64, 64), interpolation=cv2.INTER_CUBIC).astype(np.float64)
            c = (c - c.min()) / (c.max() - c.min()) if c.max() > c.min() else np.zeros_like(c)
            scores.append(c.ravel())
            area.append((c >= 0.5).mean())
            g = gt[ids[k]]
            for t, tau in enumerate(taus):
                v1[t] += iou(boxes(c, tau, False)[0], g) >= 0.5
                best = max(iou(b, g) for b in boxes(c, tau, True))
                v2[:, t] += [best >= 0.3, best >= 0.5, best >= 0.7]
        s = np.concatenate(scores)
        fg = masks.reshape(-1)
        order = np.argsort(-s, kind="stable")
        tp = np.cumsum(fg[order])
        fp = np.cumsum(~fg[order])
        prec, rec = tp / (tp + fp), tp / fg.sum()
        pxap = np.sum(prec * np.diff(np.concatenate([[0], rec])))
        n = len(ids)
        print(f"{name:16s} {100 * acc:5.1f}  {100 * v1.max() / n:9.1f}  {100 * v2.max(1).mean() / n:11.1f}"
              f"  {100 * pxap:4.1f}  {100 * np.mean(area):5.1f}")


if __name__ == "__main__":
    main()
