#!/usr/bin/python3
"""Train the fixture classifiers in testdata/models/fmnist_*.onnx.

One small ResNet-style CNN with a CAM-compatible head (last conv block ->
GlobalAveragePool -> Flatten -> Gemm) is trained on the Fashion-MNIST scenes
written by testdata/gen/fmnistscenes, once per augmentation: none, CutMix,
Mixup, Cutout. The runs share the seed, the weight initialisation, the data
order and every hyperparameter; only the augmentation differs. Augmentation
draws come from their own generator, so they do not shift the data order.

Inputs are the PNG pixels scaled to [0, 1] (the CLI's `--norm unit`), 64x64,
no resize and no mean/std normalisation.

Run from the repository root (see testdata/models/README.md):

    go run ./testdata/gen/fmnistscenes -split train -n 20000 -seed 2 -out out/fmnist-wsol-train
    nice -n 10 /usr/bin/python3 testdata/train/train.py --aug none,cutmix &
    nice -n 10 /usr/bin/python3 testdata/train/train.py --aug mixup,cutout

CPU only; Debian python3-torch 1.13, python3-onnx.
"""

import argparse
import hashlib
import json
import os
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from PIL import Image

CLASSES = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
           "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]
AUGS = ["none", "cutmix", "mixup", "cutout"]
MODEL_NAME = {"none": "baseline", "cutmix": "cutmix", "mixup": "mixup", "cutout": "cutout"}


def load_split(root, limit=0):
    """Read a split in wsolevaluation's layout: uint8 NCHW images, labels."""
    meta = os.path.join(root, "metadata")
    with open(os.path.join(meta, "image_ids.txt")) as f:
        ids = f.read().split("\n")
    labels = {}
    with open(os.path.join(meta, "class_labels.txt")) as f:
        for line in f.read().split("\n"):
            i, k = line.split(",")
            labels[i] = int(k)
    if limit:
        ids = ids[:limit]
    x = np.stack([np.asarray(Image.open(os.path.join(root, i)).convert("RGB")) for i in ids])
    x = torch.from_numpy(x).permute(0, 3, 1, 2).contiguous()
    y = torch.tensor([labels[i] for i in ids], dtype=torch.long)
    return x, y


class Block(nn.Module):
    """Basic residual block: 3x3 conv, BN, ReLU, 3x3 conv, BN, add, ReLU."""

    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.short = None
        if stride != 1 or cin != cout:
            self.short = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return F.relu(out + (x if self.short is None else self.short(x)))


class Net(nn.Module):
    """3x64x64 -> stem 16@32x32 -> block 32@16x16 -> block 64@16x16 (CAM
    layer) -> GlobalAveragePool -> Flatten -> Linear(64, 10)."""

    def __init__(self, classes=10):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, 16, 3, 2, 1, bias=False), nn.BatchNorm2d(16), nn.ReLU())
        self.layer1 = Block(16, 32, 2)
        self.layer2 = Block(32, 64, 1)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.flatten = nn.Flatten()
        self.fc = nn.Linear(64, classes)

    def forward(self, x):
        return self.fc(self.flatten(self.pool(self.layer2(self.layer1(self.stem(x))))))


def rand_bbox(size, lam, rng):
    """Official CutMix-PyTorch rand_bbox, including its W/H naming quirk."""
    W = size[2]
    H = size[3]
    cut_rat = np.sqrt(1. - lam)
    cut_w = int(W * cut_rat)
    cut_h = int(H * cut_rat)
    cx = rng.integers(W)
    cy = rng.integers(H)
    bbx1 = np.clip(cx - cut_w // 2, 0, W)
    bby1 = np.clip(cy - cut_h // 2, 0, H)
    bbx2 = np.clip(cx + cut_w // 2, 0, W)
    bby2 = np.clip(cy + cut_h // 2, 0, H)
    return bbx1, bby1, bbx2, bby2


def augment(aug, x, y, rng, args):
    """Returns (inputs, target_a, target_b, lam); lam = 1 means plain CE."""
    b = x.size(0)
    if aug == "cutmix":
        r = rng.random()
        if args.beta > 0 and r < args.cutmix_prob:
            lam = rng.beta(args.beta, args.beta)
            idx = torch.from_numpy(rng.permutation(b))
            bbx1, bby1, bbx2, bby2 = rand_bbox(x.size(), lam, rng)
            x = x.clone()
            x[:, :, bbx1:bbx2, bby1:bby2] = x[idx, :, bbx1:bbx2, bby1:bby2]
            lam = 1 - ((bbx2 - bbx1) * (bby2 - bby1) / (x.size()[-1] * x.size()[-2]))
            return x, y, y[idx], float(lam)
    elif aug == "mixup":
        lam = rng.beta(args.beta, args.beta)
        idx = torch.from_numpy(rng.permutation(b))
        return lam * x + (1 - lam) * x[idx], y, y[idx], float(lam)
    elif aug == "cutout":
        x = x.clone()
        h, w = x.size(2), x.size(3)
        half = args.cutout // 2
        for i in range(b):
            cy, cx = rng.integers(h), rng.integers(w)
            y1, y2 = max(0, cy - half), min(h, cy + half)
            x1, x2 = max(0, cx - half), min(w, cx + half)
            x[i, :, y1:y2, x1:x2] = 0
    return x, y, y, 1.0


def evaluate(model, x, y, bs=200):
    model.eval()
    correct = 0
    with torch.no_grad():
        for i in range(0, len(x), bs):
            out = model(x[i:i + bs].float() / 255)
            correct += (out.argmax(1) == y[i:i + bs]).sum().item()
    return correct / len(x)


def train(aug, xtr, ytr, xev, yev, args, log):
    torch.manual_seed(args.seed)
    model = Net()
    order = torch.Generator().manual_seed(args.seed)
    rng = np.random.default_rng(args.seed + 1)
    steps_per_epoch = len(xtr) // args.batch
    total = steps_per_epoch * args.epochs
    opt = torch.optim.SGD(model.parameters(), lr=args.lr, momentum=0.9, nesterov=True, weight_decay=args.wd)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=args.lr, total_steps=total, pct_start=0.15,
                                                anneal_strategy="cos", div_factor=10, final_div_factor=100)
    t0 = time.time()
    seen = 0
    for ep in range(args.epochs):
        model.train()
        perm = torch.randperm(len(xtr), generator=order)
        tot_loss = 0.0
        for s in range(steps_per_epoch):
            bi = perm[s * args.batch:(s + 1) * args.batch]
            xb = xtr[bi].float() / 255
            yb = ytr[bi]
            xb, ya, yb2, lam = augment(aug, xb, yb, rng, args)
            out = model(xb)
            if lam < 1.0:
                loss = F.cross_entropy(out, ya) * lam + F.cross_entropy(out, yb2) * (1. - lam)
            else:
                loss = F.cross_entropy(out, ya)
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            tot_loss += loss.item()
            seen += len(bi)
            if args.pilot and time.time() - t0 > args.pilot:
                dt = time.time() - t0
                log(f"pilot {aug}: {seen} images in {dt:.1f}s = {seen / dt:.1f} img/s")
                return None, {}
        acc = evaluate(model, xev, yev)
        log(f"{aug} epoch {ep + 1}/{args.epochs} loss {tot_loss / steps_per_epoch:.4f} "
            f"eval acc {100 * acc:.2f}% elapsed {time.time() - t0:.0f}s")
    dt = time.time() - t0
    return model, {"train_seconds": round(dt, 1), "images_per_second": round(seen / dt, 1),
                   "eval_accuracy": acc, "final_train_loss": round(tot_loss / steps_per_epoch, 4)}


def export(model, path):
    import onnx
    model.eval()
    tmp = path + ".tmp"
    torch.onnx.export(model, torch.zeros(1, 3, 64, 64), tmp, opset_version=13,
                      input_names=["input"], output_names=["logits"],
                      dynamic_axes={"input": {0: "N"}, "logits": {0: "N"}}, do_constant_folding=True)
    m = onnx.load(tmp)
    os.remove(tmp)
    # Name the CAM layer (the GlobalAveragePool input) "features".
    gap = [n for n in m.graph.node if n.op_type == "GlobalAveragePool"]
    assert len(gap) == 1, "want one GlobalAveragePool"
    old = gap[0].input[0]
    for n in m.graph.node:
        for field in (n.input, n.output):
            for i, name in enumerate(field):
                if name == old:
                    field[i] = "features"
    m.doc_string = "testdata/train/train.py; input [N,3,64,64] RGB in [0,1]; classes: " + ", ".join(CLASSES)
    onnx.checker.check_model(m)
    onnx.save(m, path)
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--aug", default="all", help="none, cutmix, mixup, cutout or all")
    p.add_argument("--train-dir", default="out/fmnist-wsol-train")
    p.add_argument("--eval-dir", default="testdata/fmnist-wsol")
    p.add_argument("--out-dir", default="testdata/models")
    p.add_argument("--json-dir", default="testdata/train", help="where to write <model>.json run records")
    p.add_argument("--n-train", type=int, default=0, help="use the first N training scenes (0 = all)")
    p.add_argument("--epochs", type=int, default=10)
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--lr", type=float, default=0.1, help="peak learning rate of the one-cycle schedule")
    p.add_argument("--wd", type=float, default=5e-4)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--beta", type=float, default=1.0, help="CutMix/Mixup Beta(alpha, alpha)")
    p.add_argument("--cutmix-prob", type=float, default=0.5)
    p.add_argument("--cutout", type=int, default=32, help="Cutout hole side in pixels")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--pilot", type=float, default=0, help="time this many seconds of training, then stop")
    args = p.parse_args()
    torch.set_num_threads(args.threads)

    def log(msg):
        print(time.strftime("%H:%M:%S"), msg, flush=True)

    os.makedirs(args.out_dir, exist_ok=True)
    os.makedirs(args.json_dir, exist_ok=True)
    augs = AUGS if args.aug == "all" else args.aug.split(",")
    t = time.time()
    xtr, ytr = load_split(args.train_dir, args.n_train)
    xev, yev = load_split(args.eval_dir)
    log(f"loaded {len(xtr)} train, {len(xev)} eval scenes in {time.time() - t:.1f}s; "
        f"torch {torch.__version__}, {torch.get_num_threads()} threads")
    for aug in augs:
        model, info = train(aug, xtr, ytr, xev, yev, args, log)
        if model is None:
            continue
        name = "fmnist_" + MODEL_NAME[aug]
        path = os.path.join(args.out_dir, name + ".onnx")
        info["sha256"] = export(model, path)
        info["bytes"] = os.path.getsize(path)
        info.update({"model": name, "aug": aug, "argv": sys.argv[1:], "n_train": len(xtr),
                     "n_eval": len(xev), "params": sum(p.numel() for p in model.parameters()),
                     "hyper": {k: v for k, v in vars(args).items() if k not in ("pilot", "threads")}})
        with open(os.path.join(args.json_dir, name + ".json"), "w") as f:
            json.dump(info, f, indent=1, sort_keys=True)
            f.write("\n")
        log(f"wrote {path} acc {100 * info['eval_accuracy']:.2f}% sha256 {info['sha256']}")


if __name__ == "__main__":
    main()
