// Package onnx runs ONNX image classifiers with ONNX Runtime and looks inside
// them: it loads the runtime library, opens models with one reusable session
// each, reads their graphs through typed protobuf messages, finds the CAM
// target layer and the classifier head, and exposes intermediate tensors as
// extra outputs.
//
// # Runtime
//
// The ONNX Runtime shared library is found by FindLibrary (the
// ONNXRUNTIME_SHARED_LIBRARY_PATH variable, the user cache, a Python
// onnxruntime install, the system library folders) or fetched once by
// InstallLibrary from the pinned onnxruntime-node npm package, whose tarball
// is checked against a pinned sha512. Init loads it; the Runtime it returns
// is the only process-global state and must be closed last.
//
// # Models
//
// Open takes a model with one float input of shape N×C×H×W (C = 1 or 3).
// Run feeds a float32 batch and returns float32 outputs; a dynamic batch
// dimension takes the whole batch at once, a fixed one is filled in chunks.
// Extra tensor names given to Run become graph outputs of a rewritten copy
// of the model, whose session is cached in the Model.
//
// # Target layer and head
//
// The CAM target layer is the last 4-D activation that a global pooling
// reduces to one value per channel: GlobalAveragePool, ReduceMean over axes
// 2 and 3, or an AveragePool whose window covers the map (decided from the
// shapes of one zero-input run). The tensor feeding the pooling is taken,
// looking through Identity and Dropout; "the last Conv" is not used, since
// activations, normalisation and concatenations often follow it. The head
// is found by following the pooled tensor through Flatten, Reshape, Squeeze
// and similar nodes to a Gemm or a MatMul (with an optional Add) whose
// weights are constant; its weight matrix is returned as classes×channels
// with Gemm's alpha, beta and transB applied. When no linear layer follows,
// the pooled values are the scores and the head is the identity.
//
// # Gradients
//
// ONNX Runtime's inference build computes no gradients, so Model.Gradient
// and Model.GradientModel append a reverse-mode backward pass to the graph
// as standard ONNX nodes of the model's own opset (8 or later; 13 to 15
// are declared as 16, which changes none of their nodes) and run it
// like any model. The objective, per sample, is a class's score (Logit), its
// softmax probability (Probability), the cross-entropy against a label
// (CrossEntropy) or a seed-weighted sum of the scores (Weighted); the batch
// objective is their sum, so each sample gets its own gradient. The class,
// label or seed is a graph input fed at run time (a negative class means the
// top-1 class, resolved in the graph), so one built graph serves every
// class. The scores are the named or only output, or the input of the
// Softmax or LogSoftmax that produces it. The outputs are the original
// outputs, the flattened scores, the classes used, and each target's value
// and gradient.
//
// Only nodes on a path from a target to the scores are differentiated; no
// gradient flows through Shape, Size, ConstantOfShape, comparisons or other
// index-valued ops. An op on the path without a backward rule is an error
// wrapping ErrNoRule that names the op and node, a non-float tensor on the
// path wraps ErrIntegerPath, and a target the scores do not depend on wraps
// ErrNotDependent. Backward rules exist for Conv (groups, strides, pads,
// auto_pad, dilations), BatchNormalization (inference), Relu, LeakyRelu,
// PRelu, Elu, Clip, Sigmoid, HardSigmoid, HardSwish, Tanh, Erf, Gelu (exact
// and tanh), Softplus, Exp, Log, Sqrt, Reciprocal, Abs, Pow (exponent
// constant), Neg, Add, Sub, Mul, Div and Sum with full broadcasting, MaxPool
// and GlobalMaxPool (to the first arg-max, overlapping windows, pads,
// ceil_mode, dilations), AveragePool (count_include_pad either way,
// ceil_mode, dilations), GlobalAveragePool, ReduceSum, ReduceMean,
// ReduceMax, Gemm, MatMul (batched, 1-D operands), Flatten, Reshape,
// Squeeze, Unsqueeze, Expand, Transpose, Concat, Split, Slice (any step),
// Gather (constant indices), Pad (constant, reflect, edge and wrap modes,
// negative pads), Identity, Dropout, Cast, Softmax, LogSoftmax, LRN,
// LayerNormalization, InstanceNormalization, and Resize and Upsample of the
// spatial axes (nearest, linear and cubic, any coordinate mapping but
// tf_crop_and_resize, scales or sizes, without antialias).
//
// Shapes are learnt once per graph by running the model on zeros (at batch
// size 2 when the batch is dynamic, so that broadcasting along the batch
// axis shows, or 1 if the model refuses 2); every node that restores a
// tensor's shape reads it at run time with Shape, so a graph serves any
// batch size. Convolution and pooling adjoints are Conv nodes on the
// gradient spread out by the strides (ConvTranspose before opset 10).
// Built graphs are cached in memory per model hash, input size, targets,
// objective and scores output, and on disk too when Options.GradCache
// names a directory.
package onnx
