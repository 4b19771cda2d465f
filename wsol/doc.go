// Package wsol scores weakly supervised object localization: MaxBoxAcc,
// MaxBoxAccV2, PxAP and the CutMix paper's Top-1 Loc, matching the
// reference implementation clovaai/wsolevaluation (Choe et al., CVPR 2020)
// bit for bit by default.
//
// The entry points are Evaluate (samples in memory), Run (a Source such as
// Files, sharded), Accumulator (one image at a time) and Merge (partial
// results of shards). Boxes computes the predicted boxes of one map at one
// threshold.
//
// # Conventions
//
// Score maps are Map values in [0, 1] at the evaluation size (224×224 in
// the reference; Prepare reproduces its bicubic resize and min-max
// normalisation). Boxes are image.Rectangle values with an exclusive Max:
// the reference's inclusive [x0, y0, x1, y1] is image.Rect(x0, y0, x1+1,
// y1+1), so IoU's plain rectangle arithmetic is the reference's "+1"
// convention and [0, 0, 0, 0] is NoBox(), a one-pixel box that matches itself
// with IoU 1. Ground-truth boxes are scaled per axis with int(c·224/size),
// computed as (c·224)/size (ScaleBox); images are warped, not cropped.
//
// # Thresholds and boxes
//
// The threshold grid is τ_i = i·Interval, i < ceil(1/Interval) (Thresholds).
// At τ a pixel is foreground iff uint8(trunc(s·255)) > int(τ·max), max being
// the largest uint8 value of the map (strict test on the truncated map).
// Contours are found as OpenCV's findContours(RETR_TREE,
// CHAIN_APPROX_SIMPLE) does: Suzuki–Abe border following over 8-connected
// foreground with the image framed by background, outer and hole borders.
// MaxBoxAcc keeps the contour of largest cv2.contourArea (the shoelace area
// of the simplified border polygon through pixel centres, not the pixel
// count; ties go to the first contour in OpenCV's order, a pre-order walk of
// the contour tree with the newest sibling first); MaxBoxAccV2 keeps every
// contour, hole borders included. A contour's box is [x, y, min(x+w, W-1),
// min(y+h, H-1)] from its bounding rectangle (x, y, w, h); with no contour
// the box is NoBox.
//
// # Metrics
//
// An image is correct at (τ, δ) if the best IoU between its predicted boxes
// and any of its ground-truth boxes is >= δ/100. BoxAcc(τ, δ) = 100·correct
// / images. MaxBoxAcc = max over τ of BoxAcc(τ, 50) with the largest
// contour. MaxBoxAccV2 = mean over δ in {30, 50, 70} of max over τ of
// BoxAcc(τ, δ) with all contours, τ chosen per δ.
//
// PxAP pools the pixels of all images (ignore pixels dropped) into
// histograms with edges grid + [1, 2, 3] (numpy.histogram semantics), forms
// tp and fp for "score >= T" over T = 2, 1, 1-Interval, ..., 0, and sums
// precision_k·(recall_k - recall_k-1) over the k >= 1 with tp_k+fp_k > 0
// (step AP, numpy's pairwise summation order), times 100. Masks are built
// by LoadMask: instance masks nearest-resized (OpenCV INTER_NEAREST) to
// 224, thresholded > 0.5 and OR-ed; ignore = ignore mask AND NOT
// foreground.
//
// TopLoc is the CutMix paper's protocol: the map is binarised at the fixed
// τ = Sigma (0.15) as above, the largest contour's box is kept, and the
// image counts for GT-known Loc if its IoU with a ground-truth box is
// strictly greater than 0.5, for Top-1 Loc if in addition the predicted
// class is the label. These numbers are not comparable with MaxBoxAcc.
//
// A map holding any NaN is scored as all-zero (the reference's
// normalize_scoremap) and counted in Result.NaNMaps; any other score
// outside [0, 1] is an error.
//
// # Single pass
//
// Because of the uint8 truncation a map has at most 256 distinct binary
// maps, one per uint8 value present. The evaluator sorts the pixels by
// value once (each score is converted once, to its uint8 value and its
// PxAP bin) and maps every threshold to its binary map. It then never
// rescans the image per threshold: an outer border's bounding box is its
// 8-connected foreground component's, and a hole border's is its
// 4-connected background hole's grown by one pixel, so components and holes
// are maintained incrementally with union–find (foreground pixels added in
// decreasing value, background pixels in increasing value), and MaxBoxAccV2
// reads every box from them. The Euler number, kept from 2×2 pixel quads as
// foreground pixels are added, gives the number of holes at every level, so
// the background pass stops after the last level that has a hole and puts
// the pixels of a level after which there is no hole straight into the
// outside. For MaxBoxAcc each border is followed alone
// from its start pixel (a component's first pixel in raster order, or the
// pixel left of a hole's first pixel), which gives its contourArea at a
// cost proportional to its length; only when several borders tie for the
// largest area does the evaluator trace the whole binary map to apply
// OpenCV's contour order. Tests check that the statistics equal those of the
// straightforward per-threshold evaluation exactly, and compare boxes,
// contour areas, accuracy curves and PxAP with OpenCV 4.6 and NumPy
// (testdata/opencv_golden.json). go test -bench 'Score$|Evaluate' times
// it, and testdata/refbench.py times the reference on like maps.
//
// On amd64 the neighbour masks and the conversion of scores to uint8
// values and PxAP bins use AVX2 where the CPU has it, and the common step
// of the foreground pass runs in assembly; elsewhere, or with the purego
// build tag, portable Go does the same work, and the tests run both.
//
// # Shards
//
// Stats are integer sufficient statistics (per-threshold correct counts
// per IoU threshold, per-bin pixel histograms, counts) that add exactly.
// Shard{Index, Count} selects the images i with i mod Count == Index; a
// Partial stores the statistics of some shards with a hash of the
// configuration and of the dataset, and Merge refuses partials whose hash
// or shard count differs, and duplicate shards. Run on a Kubernetes Indexed
// Job with Shard{Index: $JOB_COMPLETION_INDEX, Count: completions}, or on a
// Slurm array with Shard{Index: $SLURM_ARRAY_TASK_ID, Count: array size}.
//
// # Data
//
// ReadMetadata and WriteMetadata handle the reference's metadata folders
// (image_ids.txt, class_labels.txt, image_sizes.txt as id,width,height,
// localization.txt with inclusive boxes id,x0,y0,x1,y1 — one line per box —
// or mask lines id,mask,ignore with the ignore path on an image's first line
// only); files have no trailing newline. ReadManifest and WriteManifest
// handle a JSON alternative. Files reads score maps from
// <root>/<image id>.npy.
package wsol
