package onnx

// ResetGradCache empties the gradient graph cache, for benchmarks of the
// build.
func ResetGradCache() {
	gradCache.Lock()
	clear(gradCache.m)
	gradCache.Unlock()
}
