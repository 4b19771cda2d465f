#!/usr/bin/python3
"""Regenerates opencv_resize.json, cv2.resize vectors for resample's tests.

Needs NumPy and OpenCV 4.6 (Debian bookworm: apt-get install python3-numpy
python3-opencv). Run from this folder with the system python:
/usr/bin/python3 gen_opencv_resize.py

Each case is a float64 source map and cv2.resize of it with INTER_CUBIC,
INTER_LINEAR and INTER_NEAREST; large outputs keep a deterministic sample of
positions. "nearest" lists INTER_NEAREST source indices for the image sizes
of REFERENCE.md D.8.
"""
import json

import cv2
import numpy as np

rng = np.random.default_rng(7)
SIZES = [
    ((7, 7), (224, 224)), ((14, 14), (224, 224)), ((28, 28), (224, 224)),
    ((13, 9), (31, 17)), ((5, 4), (8, 12)), ((2, 1), (4, 1)), ((1, 3), (5, 2)),
    ((30, 20), (7, 9)), ((14, 14), (100, 37)), ((10, 10), (5, 5)),
    ((9, 7), (9, 7)),
]
METHODS = {"cubic": cv2.INTER_CUBIC, "linear": cv2.INTER_LINEAR, "nearest": cv2.INTER_NEAREST}

cases = []
for (sw, sh), (dw, dh) in SIZES:
    src = rng.normal(size=(sh, sw))
    case = {"sw": sw, "sh": sh, "dw": dw, "dh": dh, "src": src.flatten().tolist()}
    n = dw * dh
    idx = list(range(n)) if n <= 2000 else sorted(rng.choice(n, 500, replace=False).tolist())
    case["idx"] = idx
    for name, flag in METHODS.items():
        out = cv2.resize(src, (dw, dh), interpolation=flag).flatten()
        case[name] = [float(out[i]) for i in idx]
    cases.append(case)
# INTER_NEAREST source indices: resize a row holding its own indices.
nearest = []
for n_in, n_out in [(375, 224), (500, 224), (333, 224), (517, 224), (100, 224), (60, 224), (224, 1000), (7, 3)]:
    row = np.arange(n_in, dtype=np.float64).reshape(1, n_in)
    out = cv2.resize(row, (n_out, 1), interpolation=cv2.INTER_NEAREST)
    nearest.append({"in": n_in, "out": n_out, "idx": [int(v) for v in out.flatten()]})
with open("opencv_resize.json", "w") as f:
    json.dump({"opencv": cv2.__version__, "cases": cases, "nearest": nearest}, f, separators=(",", ":"))
