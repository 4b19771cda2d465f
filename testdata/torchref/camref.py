#!/usr/bin/python3
"""PyTorch references for package cam (the CAM family) and package robust
(FGSM, PGD), checked by onnx/cam_torch_test.go and onnx/robust_torch_test.go.

Run from the repository root with Debian's python3-torch 1.13,
python3-torchvision 0.14 and python3-onnx (CPU):

    /usr/bin/python3 testdata/torchref/camref.py testdata/torchref/ref

or, for export.py --full's torchvision models in DIR (written to DIR/cams
unless OUT is given; CAMREF_MODELS=a,b limits the models; see main_full):

    /usr/bin/python3 testdata/torchref/camref.py --full DIR [OUT]

Models: testdata/torchref/tiny_{resnet,mobilenet}.onnx (export.py) and the
fixture classifiers testdata/models/fmnist_*.onnx (testdata/train/train.py).
Each is rebuilt as its PyTorch module (export.py's TinyResNet and
TinyMobileNet, train.py's Net with its BatchNorms folded into the
convolutions, as torch.onnx.export folded them) and loaded with the ONNX
file's initializers, so the ONNX file is the only source of weights; the
test checks that ONNX Runtime gives the logits PyTorch gives.

CAMs. pytorch-grad-cam is PyPI-only, so this is an independent
re-implementation of its formulas on torch autograd (grad_cam.py,
grad_cam_plusplus.py, xgrad_cam.py, hirescam.py, layer_cam.py,
eigen_cam.py, eigen_grad_cam.py, score_cam.py, ablation_cam.py with
ablation_layer.py; base_cam.py applies the ReLU) and of wsolevaluation's
CAM (mean over channels of fc weight x activation, no ReLU). Gradients
come from loss.backward() on the sum of each image's target logit
(ClassifierOutputTarget) with a hook on the target layer, Score-CAM runs the
masked inputs through the model in batches of 16, and Ablation-CAM runs the
rest of the network on the ablated activations. The maps are raw (after
the ReLU, before pytorch-grad-cam's min-max scaling and resize). Two
conventions are fixed where pytorch-grad-cam leaves them open: the SVD's
sign in Eigen-CAM / EigenGrad-CAM is chosen so that the projection
correlates non-negatively with the channel mean (LAPACK's sign is
arbitrary), and Ablation-CAM's fill is min - 1e7 per channel without
pytorch-grad-cam's batch-dependent cumulative lowering (see cam/ablationcam.go).

Writes into OUT: NAME.cams.npy (methods x N x H x W float32, methods in
the manifest's order), the inputs (tiny models: export.py's NAME.x.npy;
fmnist: fmnist_x.npy, uint8 pixels, x = p/255), and for the attacks
NAME.adv_x.npy (uint8 pixels; fmnist: the first image of fmnist_x.npy), NAME.fgsm_sign.npy (int8 sign of the
FGSM input gradient, 0 where |g| <= 1e-6 max|g| of that image),
NAME.fgsm.npy (uint8 x_adv*255) and NAME.pgd.npy (steps x N x C x H x W
uint8 x_adv*255 after each PGD step), plus manifest.json. Every x_adv is
on the 1/255 grid (x, eps and the step are multiples of 1/255); the script
asserts that PyTorch's float32 x_adv is within 1e-6 of it before storing it
as uint8.
"""
import json
import os
import sys

import numpy as np
import onnx
import torch
import torch.nn as nn
import torch.nn.functional as F
from onnx import numpy_helper

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(ROOT, "testdata", "train"))
import export  # noqa: E402  (TinyResNet, TinyMobileNet)
import train  # noqa: E402  (Net)

METHODS = ["cam", "cam-relu", "gradcam", "gradcam++", "xgradcam", "hirescam", "layercam",
           "eigengradcam", "eigencam", "scorecam", "ablationcam"]
IMAGENET_MEAN = [0.485, 0.456, 0.406]
IMAGENET_STD = [0.229, 0.224, 0.225]
FGSM_EPS = 4          # in 1/255 units
PGD_EPS, PGD_STEP, PGD_STEPS = 4, 2, 4


def initializers(path):
    m = onnx.load(path)
    w = {i.name: torch.from_numpy(numpy_helper.to_array(i).copy()) for i in m.graph.initializer}
    for n in m.graph.node:  # deduplicated parameters
        if n.op_type == "Identity" and n.input[0] in w:
            w[n.output[0]] = w[n.input[0]]
    return m, w


def load_tiny(model, path):
    """Loads every float tensor of model's state_dict from the ONNX file."""
    _, w = initializers(path)
    sd = model.state_dict()
    for k, v in sd.items():
        if k.endswith("num_batches_tracked"):
            continue
        assert k in w, f"{path}: {k} missing"
        assert tuple(w[k].shape) == tuple(v.shape), k
        sd[k] = w[k]
    model.load_state_dict(sd)
    return model.eval()


FMNIST_CONVS = {"/stem/stem.0/": "stem.0", "/layer1/conv1/": "layer1.conv1", "/layer1/conv2/": "layer1.conv2",
                "/layer1/short/short.0/": "layer1.short.0", "/layer2/conv1/": "layer2.conv1",
                "/layer2/conv2/": "layer2.conv2", "/layer2/short/short.0/": "layer2.short.0"}


def load_fmnist(path):
    """train.Net with BatchNorm folded into the convolutions (as exported)."""
    m, w = initializers(path)
    net = train.Net()
    mods = dict(net.named_modules())
    done = set()
    for n in m.graph.node:
        if n.op_type != "Conv":
            continue
        key = [v for k, v in FMNIST_CONVS.items() if n.output[0].startswith(k)]
        assert len(key) == 1, n.output[0]
        conv = mods[key[0]]
        assert tuple(conv.weight.shape) == tuple(w[n.input[1]].shape)
        conv.weight = nn.Parameter(w[n.input[1]].clone())
        conv.bias = nn.Parameter(w[n.input[2]].clone())
        done.add(key[0])
    assert done == set(FMNIST_CONVS.values())
    for name in ["stem.1", "layer1.bn1", "layer1.bn2", "layer1.short.1", "layer2.bn1", "layer2.bn2", "layer2.short.1"]:
        parent, _, child = name.rpartition(".")
        setattr(mods[parent], child, nn.Identity())
    net.fc.weight = nn.Parameter(w["fc.weight"].clone())
    net.fc.bias = nn.Parameter(w["fc.bias"].clone())
    return net.eval()


class Hooked:
    """Keeps the target layer's output (a module's output) and lets a
    replacement override it, like pytorch-grad-cam's hooks and
    AblationLayer."""

    def __init__(self, module):
        self.acts = None
        self.replace = None
        module.register_forward_hook(self.hook)

    def hook(self, _m, _inp, out):
        if self.replace is not None:
            return self.replace
        self.acts = out
        if out.requires_grad:
            out.retain_grad()
        return None


def projection(a):
    """pytorch-grad-cam's get_2d_projection for one C x H x W array, with
    the sign fixed to correlate non-negatively with the channel mean."""
    a = np.nan_to_num(a.astype(np.float64), nan=0.0)
    c = a.shape[0]
    x = a.reshape(c, -1).T
    row_mean = x.mean(axis=1)
    x = x - x.mean(axis=0)
    _, _, vt = np.linalg.svd(x, full_matrices=True)
    p = x @ vt[0, :]
    if np.dot(p, row_mean) < 0:
        p = -p
    return p.reshape(a.shape[1:])


def layer_cams(model, holder, x, classes, fc_weight):
    """Runs model on x and back-propagates the scores of classes to the
    layer whose activations holder keeps. Returns the maps made from those
    activations A and gradients G (a dict by method: every method of
    METHODS but Score-CAM and Ablation-CAM, with CAM and the ReLU'd CAM only
    where fc_weight, the linear head's weight, is given), the activations
    and the logits (float64)."""
    n = x.shape[0]
    xg = x.clone().requires_grad_(True)
    logits = model(xg)
    a_t = holder.acts
    logits[torch.arange(n), torch.tensor(classes)].sum().backward()
    A = a_t.detach().double().numpy()
    G = a_t.grad.double().numpy()
    out = {}
    if fc_weight is not None:
        W = fc_weight.detach().double().numpy()
        wk = W[classes][:, :, None, None]
        out["cam"] = (wk * A).mean(1)
        out["cam-relu"] = np.maximum((wk * A).sum(1), 0)
    wts = G.mean(axis=(2, 3))
    out["gradcam"] = np.maximum((wts[:, :, None, None] * A).sum(1), 0)
    g2 = G ** 2
    g3 = g2 * G
    sum_a = A.sum(axis=(2, 3))
    aij = g2 / (2 * g2 + sum_a[:, :, None, None] * g3 + 1e-6)
    aij = np.where(G != 0, aij, 0)
    wts = (np.maximum(G, 0) * aij).sum(axis=(2, 3))
    out["gradcam++"] = np.maximum((wts[:, :, None, None] * A).sum(1), 0)
    wts = (G * A / (sum_a[:, :, None, None] + 1e-7)).sum(axis=(2, 3))
    out["xgradcam"] = np.maximum((wts[:, :, None, None] * A).sum(1), 0)
    out["hirescam"] = np.maximum((G * A).sum(1), 0)
    out["layercam"] = np.maximum((np.maximum(G, 0) * A).sum(1), 0)
    out["eigengradcam"] = np.maximum(np.stack([projection(G[i] * A[i]) for i in range(n)]), 0)
    out["eigencam"] = np.maximum(np.stack([projection(A[i]) for i in range(n)]), 0)
    return out, a_t.detach(), logits.detach().double().numpy()


def cams(model, hooked, x, classes, fc_weight):
    """Raw maps of every method in METHODS: methods x N x H x W float64."""
    out, acts, s = layer_cams(model, hooked, x, classes, fc_weight)
    out["scorecam"] = scorecam(model, x, acts, classes)
    out["ablationcam"] = ablationcam(model, hooked, x, acts, classes, s)
    return np.stack([out[k] for k in METHODS])


def scorecam(model, x, acts, classes, batch=16):
    """pytorch-grad-cam's ScoreCAM.get_cam_weights, then the weighted sum
    and the ReLU."""
    with torch.no_grad():
        up = nn.UpsamplingBilinear2d(size=x.shape[-2:])(acts)
        flat = up.view(up.size(0), up.size(1), -1)
        maxs, mins = flat.max(dim=-1)[0][:, :, None, None], flat.min(dim=-1)[0][:, :, None, None]
        up = (up - mins) / (maxs - mins + 1e-8)
        inputs = x[:, None, :, :] * up[:, :, None, :, :]
        scores = []
        for k, t in zip(classes, inputs):
            for i in range(0, t.size(0), batch):
                scores.extend(o[k].item() for o in model(t[i:i + batch]))
        scores = torch.tensor(scores).view(acts.shape[0], acts.shape[1])
        w = torch.softmax(scores, dim=-1).double().numpy()
    A = acts.double().numpy()
    return np.maximum((w[:, :, None, None] * A).sum(1), 0)


def ablationcam(model, hooked, x, acts, classes, s):
    """pytorch-grad-cam's AblationCAM: the network after the target layer
    re-run with each channel replaced by the fill value (0 when the
    image's smallest activation is 0, else that minimum - 1e7),
    w_c = (s - s_c)/s, then the weighted sum and the ReLU."""
    n, c = acts.shape[:2]
    maps = []
    with torch.no_grad():
        for i in range(n):
            a = acts[i]
            lo = a.min()
            fill = 0.0 if lo.item() == 0 else lo.item() - 1e7
            rep = a.unsqueeze(0).repeat(c, 1, 1, 1).clone()
            for ch in range(c):
                rep[ch, ch] = fill
            hooked.replace = rep
            out = model(x[i:i + 1].repeat(c, 1, 1, 1))
            hooked.replace = None
            sc = out[:, classes[i]].double().numpy()
            w = (s[i, classes[i]] - sc) / s[i, classes[i]]
            maps.append(np.maximum((w[:, None, None] * a.double().numpy()).sum(0), 0))
    return np.stack(maps)


def normalize(x, mean, std):
    if mean is None:
        return x
    m = torch.tensor(mean, dtype=torch.float32)[None, :, None, None]
    sd = torch.tensor(std, dtype=torch.float32)[None, :, None, None]
    return (x - m) / sd


def loss_grad(model, x, y, mean, std):
    x = x.clone().requires_grad_(True)
    loss = F.cross_entropy(model(normalize(x, mean, std)), y, reduction="sum")
    return torch.autograd.grad(loss, x)[0]


def to_grid(t, what):
    """x_adv * 255 as uint8, asserting it is on the 1/255 grid."""
    v = t.double().numpy() * 255
    r = np.rint(v)
    assert np.abs(v - r).max() / 255 < 1e-6, f"{what}: off the 1/255 grid by {np.abs(v - r).max() / 255}"
    return r.astype(np.uint8)


def attacks(name, model, x_u8, labels, mean, std, out, pgd_all_steps, x_file=None):
    """FGSM and a step-by-step PGD without random start (torchattacks'
    loop), in pixel space with the normalisation inside the model."""
    x = torch.from_numpy(x_u8).float() / 255
    y = torch.tensor(labels)
    g = loss_grad(model, x, y, mean, std)
    gm = g.abs().flatten(1).max(dim=1)[0][:, None, None, None]
    sgn = torch.sign(g)
    sgn[g.abs() <= 1e-6 * gm] = 0
    fgsm = torch.clamp(x + (FGSM_EPS / 255) * g.sign(), 0, 1)
    adv, steps = x.clone(), []
    eps, step = PGD_EPS / 255, PGD_STEP / 255
    ties = []
    for t in range(PGD_STEPS):
        gt = loss_grad(model, adv, y, mean, std)
        gmt = gt.abs().flatten(1).max(dim=1)[0][:, None, None, None]
        ties.append(int((gt.abs() <= 1e-6 * gmt).sum()))
        adv = adv.detach() + step * gt.sign()
        delta = torch.clamp(adv - x, min=-eps, max=eps)
        adv = torch.clamp(x + delta, 0, 1).detach()
        steps.append(to_grid(adv, f"{name} pgd step {t + 1}"))
    if x_file is None:
        x_file = name + ".adv_x.npy"
        np.save(os.path.join(out, x_file), x_u8)
    np.save(os.path.join(out, name + ".fgsm_sign.npy"), sgn.numpy().astype(np.int8))
    np.save(os.path.join(out, name + ".fgsm.npy"), to_grid(fgsm, name + " fgsm"))
    np.save(os.path.join(out, name + ".pgd.npy"), np.stack(steps if pgd_all_steps else steps[-1:]))
    return {"adv_x": x_file, "adv_images": len(labels), "labels": labels, "norm": "imagenet" if mean else "unit",
            "fgsm_eps_255": FGSM_EPS, "fgsm_sign": name + ".fgsm_sign.npy", "fgsm": name + ".fgsm.npy",
            "fgsm_ties": int((sgn == 0).sum()), "pgd_eps_255": PGD_EPS, "pgd_step_255": PGD_STEP,
            "pgd_steps": PGD_STEPS, "pgd": name + ".pgd.npy", "pgd_stored_steps": PGD_STEPS if pgd_all_steps else 1,
            "pgd_ties_per_step": ties}


# --full DIR [OUT]: torchvision classifiers exported by export.py --full.
# The model splits at the CAM target layer (the input of the global average
# pooling, what onnx.Model.TargetLayer detects): backbone(x) -> A,
# head(A) -> logits, head being the rest of the network.
# "linear" marks a GAP -> Linear head (CAM and Ablation-CAM apply).
FULL_SCORECAM_CHANNELS = 128
FULL_IMAGES = 2


def full_split(name, model):
    """(backbone, head, fc weight or None) for torchvision model name."""
    flat = torch.flatten
    if name == "resnet18":
        def backbone(x):
            m = model
            x = m.maxpool(m.relu(m.bn1(m.conv1(x))))
            return m.layer4(m.layer3(m.layer2(m.layer1(x))))
        return backbone, lambda a: model.fc(flat(model.avgpool(a), 1)), model.fc.weight
    if name in ("mobilenet_v2", "efficientnet_b0"):
        return (model.features, lambda a: model.classifier(flat(F.adaptive_avg_pool2d(a, 1), 1)),
                model.classifier[-1].weight)
    if name == "densenet121":
        return (lambda x: F.relu(model.features(x)),
                lambda a: model.classifier(flat(F.adaptive_avg_pool2d(a, 1), 1)), model.classifier.weight)
    if name == "vgg11_bn":  # AdaptiveAvgPool2d(7) then a 3-layer MLP: no linear head
        return model.features, lambda a: model.classifier(flat(model.avgpool(a), 1)), None
    if name == "squeezenet1_1":  # conv -> ReLU -> GAP, no linear layer after the pooling
        return (lambda x: model.classifier[:3](model.features(x)),
                lambda a: flat(model.classifier[3](a), 1), None)
    raise ValueError(name)


class Split(nn.Module):
    """backbone then head, keeping the target activations like Hooked;
    replace substitutes the activations (Ablation-CAM)."""

    def __init__(self, backbone, head):
        super().__init__()
        self.backbone, self.head = backbone, head
        self.acts = None

    def forward(self, x):
        a = self.backbone(x)
        if a.requires_grad:
            a.retain_grad()
        self.acts = a
        return self.head(a)


def full_cams(net, x, classes, fc_weight, methods, budget):
    """Raw maps of methods: methods x N x H x W float64. Score-CAM uses the
    first budget channels of the layer only (the Go test restricts its
    activations the same way); Ablation-CAM re-runs the head (the rest of
    the network) on the ablated activations."""
    n = x.shape[0]
    out, acts, s = layer_cams(net, net, x, classes, fc_weight)
    if "scorecam" in methods:
        out["scorecam"] = scorecam(net, x, acts[:, :budget], classes)
    if "ablationcam" in methods:
        c = acts.shape[1]
        maps = []
        with torch.no_grad():
            for i in range(n):
                a = acts[i]
                lo = a.min()
                fill = 0.0 if lo.item() == 0 else lo.item() - 1e7
                sc = []
                for c0 in range(0, c, 128):
                    rep = a.unsqueeze(0).repeat(min(128, c - c0), 1, 1, 1).clone()
                    for j in range(rep.shape[0]):
                        rep[j, c0 + j] = fill
                    sc.append(net.head(rep)[:, classes[i]].double())
                sc = torch.cat(sc).numpy()
                w = (s[i, classes[i]] - sc) / s[i, classes[i]]
                maps.append(np.maximum((w[:, None, None] * a.double().numpy()).sum(0), 0))
        out["ablationcam"] = np.stack(maps)
    return np.stack([out[k] for k in methods]), s


def main_full(src, out):
    """CAM references for export.py --full's models in src, written to out
    (default src/cams): NAME.x.npy (FULL_IMAGES inputs: export.py's input
    then seeded N(0,1) images), NAME.cams.npy, NAME.logits.npy and
    manifest.json, whose model paths are relative to out.

    Each model is torchvision's constructor with every state_dict tensor
    replaced by the ONNX file's initializer of the same name (so the ONNX
    file is the only source of weights; the Go test checks the logits),
    split at the input of the global average pooling (full_split). The
    classes are PyTorch's top-1. Score-CAM uses only the first
    FULL_SCORECAM_CHANNELS channels; Ablation-CAM re-runs only the head
    (everything after the target layer, what AblationLayer's re-run
    changes); CAM, the ReLU'd CAM and Ablation-CAM only where the head is
    GAP -> Linear. manifest.json lists, per model, the methods whose map is
    constant (all clipped by the ReLU) for some image."""
    import torchvision
    os.makedirs(out, exist_ok=True)
    torch.set_num_threads(max(1, os.cpu_count() or 1))
    with open(os.path.join(src, "manifest.json")) as f:
        exported = json.load(f)
    only = os.environ.get("CAMREF_MODELS", "")
    entries = []
    for ex in exported["models"]:
        name = ex["name"]
        if only and name not in only.split(","):
            continue
        path = os.path.join(src, ex["model"])
        model = load_tiny(getattr(torchvision.models, name)(), path)
        backbone, head, fc = full_split(name, model)
        net = Split(backbone, head).eval()
        x0 = torch.from_numpy(np.load(os.path.join(src, name + ".x.npy")))
        g = torch.Generator().manual_seed(5)
        x = torch.cat([x0, torch.randn((FULL_IMAGES - 1,) + tuple(x0.shape[1:]), generator=g)])
        with torch.no_grad():
            logits = net(x)
        shape = list(net.acts.shape)
        classes = logits.argmax(1).tolist()
        methods = (["cam", "cam-relu"] if fc is not None else []) + [
            "gradcam", "gradcam++", "xgradcam", "hirescam", "layercam", "eigengradcam", "eigencam", "scorecam"] + (
            ["ablationcam"] if fc is not None else [])
        maps, s = full_cams(net, x, classes, fc, methods, FULL_SCORECAM_CHANNELS)
        np.save(os.path.join(out, name + ".x.npy"), x.numpy().astype(np.float32))
        np.save(os.path.join(out, name + ".cams.npy"), maps.astype(np.float32))
        np.save(os.path.join(out, name + ".logits.npy"), s.astype(np.float32))
        flat = maps.reshape(len(methods), x.shape[0], -1)
        const = {m: [bool(np.all(flat[i, j] == flat[i, j, 0])) for j in range(x.shape[0])] for i, m in enumerate(methods)}
        entries.append({"name": name, "model": os.path.relpath(path, out), "x": name + ".x.npy", "x_uint8": False,
                        "classes": classes, "methods": methods, "cams": name + ".cams.npy", "logits": name + ".logits.npy",
                        "target_shape": shape, "scorecam_channels": FULL_SCORECAM_CHANNELS,
                        "constant_maps": {m: v for m, v in const.items() if any(v)}})
        print(name, "done", classes, "constant:", entries[-1]["constant_maps"], flush=True)
    with open(os.path.join(out, "manifest.json"), "w") as f:
        json.dump({"torch": torch.__version__, "torchvision": torchvision.__version__,
                   "scorecam_channels": FULL_SCORECAM_CHANNELS, "models": entries}, f, indent=1)
        f.write("\n")


def main():
    if len(sys.argv) > 2 and sys.argv[1] == "--full":
        main_full(sys.argv[2], sys.argv[3] if len(sys.argv) > 3 else os.path.join(sys.argv[2], "cams"))
        return
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join("testdata", "torchref", "ref")
    os.makedirs(out, exist_ok=True)
    torch.set_num_threads(1)
    entries = []
    # Tiny torchvision-style models: export.py's inputs for the CAMs, a
    # seeded [0,1] batch on the 1/255 grid with ImageNet normalisation for
    # the attacks.
    for name, ctor, cls_mod in [("tiny_resnet", export.TinyResNet, "layer2"),
                                ("tiny_mobilenet", export.TinyMobileNet, "features")]:
        path = os.path.join(HERE, name + ".onnx")
        model = load_tiny(ctor(), path)
        hooked = Hooked(dict(model.named_modules())[cls_mod])
        x = torch.from_numpy(np.load(os.path.join(HERE, name + ".x.npy")))
        with torch.no_grad():
            logits = model(x)
        classes = logits.argmax(1).tolist()
        fc = model.fc.weight if name == "tiny_resnet" else model.classifier[1].weight
        maps = cams(model, hooked, x, classes, fc.detach())
        np.save(os.path.join(out, name + ".cams.npy"), maps.astype(np.float32))
        np.save(os.path.join(out, name + ".logits.npy"), logits.numpy().astype(np.float32))
        e = {"name": name, "model": "testdata/torchref/" + name + ".onnx", "x": "testdata/torchref/" + name + ".x.npy",
             "x_uint8": False, "classes": classes, "methods": METHODS, "cams": name + ".cams.npy",
             "logits": name + ".logits.npy"}
        g = torch.Generator().manual_seed(3)
        xu = torch.randint(0, 256, (2, 3, 32, 32), generator=g, dtype=torch.uint8).numpy()
        with torch.no_grad():
            lab = model(normalize(torch.from_numpy(xu).float() / 255, IMAGENET_MEAN, IMAGENET_STD)).argmax(1).tolist()
        e.update(attacks(name, model, xu, lab, IMAGENET_MEAN, IMAGENET_STD, out, True))
        entries.append(e)
    # Fixture classifiers: two evaluation scenes (CAMs) and the first (attacks), unit normalisation.
    from PIL import Image
    wsol = os.path.join(ROOT, "testdata", "fmnist-wsol")
    ids = ["test/0/00000.png", "test/7/00007.png"]
    labels = [0, 7]
    xu = np.stack([np.asarray(Image.open(os.path.join(wsol, i)).convert("RGB")).transpose(2, 0, 1) for i in ids])
    np.save(os.path.join(out, "fmnist_x.npy"), xu)
    x = torch.from_numpy(xu).float() / 255
    for aug in ["baseline", "cutmix", "mixup", "cutout"]:
        name = "fmnist_" + aug
        model = load_fmnist(os.path.join(ROOT, "testdata", "models", name + ".onnx"))
        hooked = Hooked(model.layer2)
        with torch.no_grad():
            logits = model(x)
        classes = logits.argmax(1).tolist()
        maps = cams(model, hooked, x, classes, model.fc.weight.detach())
        np.save(os.path.join(out, name + ".cams.npy"), maps.astype(np.float32))
        np.save(os.path.join(out, name + ".logits.npy"), logits.numpy().astype(np.float32))
        e = {"name": name, "model": "testdata/models/" + name + ".onnx", "x": "fmnist_x.npy", "x_uint8": True,
             "images": ids, "classes": classes, "methods": METHODS, "cams": name + ".cams.npy",
             "logits": name + ".logits.npy"}
        e.update(attacks(name, model, xu[:1], labels[:1], None, None, out, False, "fmnist_x.npy"))
        entries.append(e)
        print(name, "done", flush=True)
    with open(os.path.join(out, "manifest.json"), "w") as f:
        json.dump({"torch": torch.__version__, "methods": METHODS, "models": entries}, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
