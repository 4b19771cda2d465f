// Package resample resizes float64 maps exactly as OpenCV's cv::resize does
// for CV_64F single-channel images.
//
// Maps are row-major: element (x, y) of a w×h map is src[y*w+x].
//
// # Conventions
//
// Cubic (INTER_CUBIC) and Linear (INTER_LINEAR) use OpenCV's half-pixel
// source coordinate: for destination index d the source coordinate is
// f = float32((d+0.5)*scale - 0.5) with scale = 1/(out/in) computed in
// float64, the integer part floor(f) and the fraction f-floor(f) in float32.
// Cubic weights are the Keys kernel with a = -0.75 evaluated in float32 (the
// fourth weight is 1 minus the other three); the sums are taken in float64 in
// OpenCV's order, first along x and then along y. Border indices are clamped
// (replicate). Linear uses the weights 1-f and f; at the left and right
// borders it takes the edge pixel with weight 1, at the top and bottom it
// keeps f and clamps both rows, as OpenCV does.
//
// Nearest (INTER_NEAREST) takes source index min(floor(d*scale), in-1), with
// no half-pixel offset.
//
// The float32 rounding of the coordinate and weights is what OpenCV does; for
// scale factors that are powers of two (7→224, 14→224, 28→224) it is exact,
// so the result is then also the float64 Keys interpolation.
//
// OpenCV turns an INTER_LINEAR downscale by exactly 2 in both axes into
// INTER_AREA; Linear does not, so its last bit may differ from OpenCV there.
// Everywhere else the tests find the three resizers bit-identical to
// cv2.resize of OpenCV 4.6 (testdata/opencv_resize.json).
package resample
