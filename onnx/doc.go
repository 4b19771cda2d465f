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
package onnx
