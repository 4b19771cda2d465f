"""Export small torchvision-style classifiers to ONNX and save PyTorch
autograd gradients for fixed inputs, as references for the Go gradient
graphs (onnx/grad_torch_test.go).

Run from the repository root with Debian's python3-torch and
python3-torchvision (CPU):

    /usr/bin/python3 testdata/torchref/export.py testdata/torchref

writes, for every model, NAME.onnx, NAME.x.npy (the input batch),
NAME.gx.npy (d objective / d input) and NAME.ga.npy (d objective / d the
target layer), plus manifest.json. The target layer is the input of the
last AdaptiveAvgPool2d module ("pool_input"), or, for models that pool
functionally, the output of model.features ("features"; DenseNet's
in-place ReLU rebinds it to the pooling's input). With --full, it exports torchvision's own resnet18,
mobilenet_v2, vgg11_bn, densenet121, squeezenet1_1 and efficientnet_b0
(random, deterministic weights; 224 px) instead; those are large and meant
for a local folder named by CUTMIX_CAM_TORCH_REF, never for the repository.

Weights come from torch.manual_seed; BatchNorm running statistics are made
non-trivial by a few train-mode passes over random batches before eval().
The objective is the sum over the batch of each sample's logit of its
class (Logit) or its cross-entropy (CE); the --full models use their top-1
class, whose gradient is never identically zero.

Deep ReLU networks are only piecewise differentiable, and at a random
input some pre-activation usually lies within float32 rounding of a kink,
so float32 PyTorch and ONNX Runtime can take different branches there (and
float32 PyTorch already differs from float64 PyTorch by up to 1.2e-2 of the
largest gradient on vgg11_bn). For the --full models the comparison that
isolates the backward rules therefore takes the branch decisions from ORT:

    /usr/bin/python3 testdata/torchref/export.py DIR --full
    go run ./testdata/torchref/kinks DIR
    /usr/bin/python3 testdata/torchref/export.py DIR --forced
    CUTMIX_CAM_TORCH_REF=DIR go test ./onnx -run TestGradientTorch -v

The second step records the inputs of every Relu, Clip and MaxPool node as
ORT computes them; --forced recomputes the gradients in float64 with those
decisions and writes NAME.fgx.npy and NAME.fga.npy. export.py DIR
--precision prints how far float32 PyTorch's own input gradients are from
float64 PyTorch's.
"""
import json
import os
import sys

import numpy as np
import torch
import torch.nn as nn
import torchvision


class BasicBlock(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.relu = nn.ReLU()
        self.down = None
        if stride != 1 or cin != cout:
            self.down = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x):
        y = self.relu(self.bn1(self.conv1(x)))
        y = self.bn2(self.conv2(y))
        return self.relu(y + (x if self.down is None else self.down(x)))


class TinyResNet(nn.Module):
    """ResNet layout: conv-bn-relu stem, overlapping MaxPool, two basic
    blocks, adaptive average pooling, linear head."""

    def __init__(self, classes=7):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, 8, 5, 2, 2, bias=False), nn.BatchNorm2d(8), nn.ReLU())
        self.pool = nn.MaxPool2d(3, 2, 1)
        self.layer1 = BasicBlock(8, 8, 1)
        self.layer2 = BasicBlock(8, 16, 2)
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(16, classes)

    def forward(self, x):
        x = self.layer2(self.layer1(self.pool(self.stem(x))))
        return self.fc(torch.flatten(self.avgpool(x), 1))


class InvertedResidual(nn.Module):
    def __init__(self, cin, cout, stride, expand, act):
        super().__init__()
        hid = cin * expand
        self.use_res = stride == 1 and cin == cout
        self.block = nn.Sequential(
            nn.Conv2d(cin, hid, 1, bias=False), nn.BatchNorm2d(hid), act(),
            nn.Conv2d(hid, hid, 3, stride, 1, groups=hid, bias=False), nn.BatchNorm2d(hid), act(),
            SqueezeExcite(hid),
            nn.Conv2d(hid, cout, 1, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x):
        y = self.block(x)
        return x + y if self.use_res else y


class SqueezeExcite(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.fc1 = nn.Conv2d(c, max(c // 4, 2), 1)
        self.fc2 = nn.Conv2d(max(c // 4, 2), c, 1)

    def forward(self, x):
        s = x.mean((2, 3), keepdim=True)
        return x * torch.sigmoid(self.fc2(torch.relu(self.fc1(s))))


class TinyMobileNet(nn.Module):
    """MobileNetV2/V3 layout: ReLU6 and Hardswish, depthwise convolutions,
    squeeze-and-excite (broadcast Mul), residual Add, dropout head."""

    def __init__(self, classes=5):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(3, 8, 3, 2, 1, bias=False), nn.BatchNorm2d(8), nn.ReLU6(),
            InvertedResidual(8, 8, 1, 2, nn.ReLU6),
            InvertedResidual(8, 12, 2, 3, nn.Hardswish),
            InvertedResidual(12, 12, 1, 2, nn.Hardswish),
            nn.Conv2d(12, 24, 1, bias=False), nn.BatchNorm2d(24), nn.Hardswish())
        self.classifier = nn.Sequential(nn.Dropout(0.2), nn.Linear(24, classes))

    def forward(self, x):
        x = self.features(x)
        x = nn.functional.adaptive_avg_pool2d(x, 1)
        return self.classifier(torch.flatten(x, 1))


def settle(model, shape, passes=4):
    """Runs a few train-mode passes so BatchNorm statistics move, then
    switches to eval()."""
    model.train()
    g = torch.Generator().manual_seed(1)
    with torch.no_grad():
        for _ in range(passes):
            model(torch.randn(shape, generator=g) * 1.5 + 0.3)
    model.eval()
    return model


def pooled_input(model):
    """Registers a hook that keeps the input of the last global average
    pooling (the CAM target layer) with its gradient retained."""
    kept = {"target": "pool_input"}
    last = None
    for m in model.modules():
        if isinstance(m, nn.AdaptiveAvgPool2d):
            last = m
    if last is not None:
        def hook(_m, inp):
            inp[0].retain_grad()
            kept["a"] = inp[0]
        last.register_forward_pre_hook(hook)
    else:
        # functional pooling: hook the module before it
        feats = model.features
        kept["target"] = "features"

        def fhook(_m, _inp, out):
            out.retain_grad()
            kept["a"] = out
        feats.register_forward_hook(fhook)
    return kept


def export(name, model, shape, classes, objective, out, opset=13):
    torch.manual_seed(0)
    x = torch.randn(shape, generator=torch.Generator().manual_seed(2))
    path = os.path.join(out, name + ".onnx")
    torch.onnx.export(model, x, path, opset_version=opset, input_names=["input"], output_names=["logits"],
                      dynamic_axes={"input": {0: "N"}, "logits": {0: "N"}},
                      training=torch.onnx.TrainingMode.PRESERVE, do_constant_folding=False)
    kept = pooled_input(model)
    xg = x.clone().requires_grad_(True)
    logits = model(xg)
    if classes is None:
        classes = logits.argmax(1).tolist()  # top-1: its gradient is never all zero
    cls = torch.tensor(classes)
    if objective == "logit":
        obj = logits[torch.arange(len(classes)), cls].sum()
    else:
        obj = nn.functional.cross_entropy(logits, cls, reduction="sum")
    obj.backward()
    np.save(os.path.join(out, name + ".x.npy"), x.numpy().astype(np.float32))
    np.save(os.path.join(out, name + ".gx.npy"), xg.grad.numpy().astype(np.float32))
    np.save(os.path.join(out, name + ".ga.npy"), kept["a"].grad.numpy().astype(np.float32))
    return {"name": name, "model": name + ".onnx", "objective": objective, "classes": classes,
            "target": kept["target"], "target_shape": list(kept["a"].shape)}


FULL = ["resnet18", "mobilenet_v2", "vgg11_bn", "densenet121", "squeezenet1_1", "efficientnet_b0"]


def full_model(name):
    """Rebuilds torchvision model name with the weights --full exports."""
    torch.manual_seed(0)
    return settle(getattr(torchvision.models, name)(), (4, 3, 224, 224), passes=2)


class Forced:
    """Replaces torch.nn.functional's relu, hardtanh (ReLU6) and
    max_pool2d, while active, by versions whose branch decisions come from
    the tensors kinks/main.go recorded from ONNX Runtime (in the ONNX
    graph's node order, which is the order of execution). Values flow in
    the model's own precision; only the choice of branch is ORT's."""

    def __init__(self, folder):
        with open(os.path.join(folder, "index.json")) as f:
            self.index = json.load(f)
        self.folder = folder
        self.next = 0
        self.target = None
        self.saved = {}

    def decision(self, op, x):
        e = self.index[self.next]
        self.next += 1
        if e["op"] != op:
            raise SystemExit("%s: node %s is %s, PyTorch ran %s" % (self.folder, e["node"], e["op"], op))
        ref = torch.from_numpy(np.load(os.path.join(self.folder, e["file"]))).to(x.dtype)
        if ref.shape != x.shape:
            raise SystemExit("%s: node %s has shape %s, PyTorch's tensor %s" % (self.folder, e["node"], tuple(ref.shape), tuple(x.shape)))
        return ref

    def relu(self, x, inplace=False):
        ref = self.decision("Relu", x)
        return x * (ref > 0).to(x.dtype)

    def hardtanh(self, x, min_val=-1.0, max_val=1.0, inplace=False):
        ref = self.decision("Clip", x)
        inside = (ref > min_val) & (ref < max_val)
        return torch.where(inside, x, ref.clamp(min_val, max_val))

    def max_pool2d(self, x, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
        ref = self.decision("MaxPool", x)
        _, idx = self.saved["max_pool2d"](ref, kernel_size, stride, padding, dilation, ceil_mode, return_indices=True)
        y = x.flatten(2).gather(2, idx.flatten(2)).view(idx.shape)
        return (y, idx) if return_indices else y

    def adaptive_avg_pool2d(self, x, size):
        if x.requires_grad:
            x.retain_grad()
        self.target = x
        return self.saved["adaptive_avg_pool2d"](x, size)

    def __enter__(self):
        for k in ["relu", "hardtanh", "max_pool2d", "adaptive_avg_pool2d"]:
            self.saved[k] = getattr(nn.functional, k)
            setattr(nn.functional, k, getattr(self, k))
        return self

    def __exit__(self, *exc):
        for k, f in self.saved.items():
            setattr(nn.functional, k, f)
        if exc[0] is None and self.next != len(self.index):
            raise SystemExit("%s: PyTorch made %d decisions, ORT %d" % (self.folder, self.next, len(self.index)))


def full_float64(out):
    """Yields, for every --full model of out's manifest, its entry, the
    model rebuilt in float64, and its input batch as a float64 leaf that
    keeps its gradient."""
    with open(os.path.join(out, "manifest.json")) as f:
        man = json.load(f)
    for e in man["models"]:
        if e["name"] in FULL:
            x = torch.from_numpy(np.load(os.path.join(out, e["name"] + ".x.npy"))).double().requires_grad_(True)
            yield e, full_model(e["name"]).double(), x


def backward_logits(model, x, classes):
    """Back-propagates the sum over the batch of each sample's class logit."""
    logits = model(x)
    logits[torch.arange(len(classes)), torch.tensor(classes)].sum().backward()


def forced(out):
    """Writes NAME.fgx.npy and NAME.fga.npy for every --full model in out:
    float64 gradients of the logit objective taken with ORT's branch
    decisions (see kinks/main.go)."""
    for e, model, x in full_float64(out):
        with Forced(os.path.join(out, e["name"] + ".kinks")) as fc:
            backward_logits(model, x, e["classes"])
        np.save(os.path.join(out, e["name"] + ".fgx.npy"), x.grad.numpy())
        np.save(os.path.join(out, e["name"] + ".fga.npy"), fc.target.grad.numpy())
        print(e["name"], "forced done", flush=True)


def precision(out):
    """Prints, for every --full model in out, how far float32 PyTorch's
    input gradient (NAME.gx.npy) is from float64 PyTorch's, in the test's
    measure: max error over max |gradient|, and the cosine."""
    for e, model, x in full_float64(out):
        backward_logits(model, x, e["classes"])
        g64 = x.grad.numpy()
        g32 = np.load(os.path.join(out, e["name"] + ".gx.npy")).astype(np.float64)
        cos = (g32 * g64).sum() / np.sqrt((g32 * g32).sum() * (g64 * g64).sum())
        print("%s: float32 vs float64 PyTorch: max error / max |grad| = %.2g, cosine = %.9f"
              % (e["name"], np.abs(g32 - g64).max() / np.abs(g64).max(), cos), flush=True)


def main():
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    full = "--full" in sys.argv
    out = args[0] if args else "testdata/torchref"
    os.makedirs(out, exist_ok=True)
    torch.manual_seed(0)
    torch.set_num_threads(1)
    if "--forced" in sys.argv:
        forced(out)
        return
    if "--precision" in sys.argv:
        precision(out)
        return
    entries = []
    if not full:
        torch.manual_seed(10)
        entries.append(export("tiny_resnet", settle(TinyResNet(), (8, 3, 32, 32)), (2, 3, 32, 32), [3, 5], "logit", out))
        torch.manual_seed(11)
        entries.append(export("tiny_mobilenet", settle(TinyMobileNet(), (8, 3, 32, 32)), (2, 3, 32, 32), [1, 4], "ce", out))
    else:
        for name in FULL:
            entries.append(export(name, full_model(name), (1, 3, 224, 224), None, "logit", out))
            print(name, "done", flush=True)
    with open(os.path.join(out, "manifest.json"), "w") as f:
        json.dump({"torch": torch.__version__, "torchvision": torchvision.__version__, "models": entries}, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
