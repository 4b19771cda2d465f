package onnx

// ResetGradCache empties the gradient graph cache, for benchmarks of the
// build.
func ResetGradCache() {
	gradCache.Lock()
	clear(gradCache.m)
	gradCache.Unlock()
}

// GradCacheFile returns the file that caches req's gradient graph of m in
// m's Options.GradCache directory.
func GradCacheFile(m *Model, req GradRequest) string {
	if len(req.Wrt) == 0 {
		req.Wrt = []string{m.input.Name}
	}
	return gradCachePath(m.opts.GradCache, m.gradKey(req))
}
