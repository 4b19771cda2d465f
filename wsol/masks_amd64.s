//go:build amd64 && !purego

#include "textflag.h"

// func nbMasksRowAVX2(p *byte, pw, n int, fg, ho *byte)
//
// For 32 pixels at a time: c is the pixels, and each neighbour row is
// loaded at the neighbour's offset. For unsigned bytes a >= b exactly where
// max(a, b) == a, so one VPMAXUB per neighbour serves both directions. The
// bits are those of nbMasks: fg bit 0 NW, 1 SW, 2 W, 3 N, 4 S, 5 NE, 6 SE,
// 7 E; ho bit 0 N, 1 W, 2 E, 3 S.
TEXT ·nbMasksRowAVX2(SB), NOSPLIT, $0-40
	MOVQ p+0(FP), SI
	MOVQ pw+8(FP), DX
	MOVQ n+16(FP), CX
	MOVQ fg+24(FP), DI
	MOVQ ho+32(FP), R8
	MOVQ SI, AX
	SUBQ DX, AX          // the row above
	LEAQ (SI)(DX*1), BX  // the row below

	// Y15..Y8: bytes of 1<<0 .. 1<<7 (16-bit shifts of 0x0101 do not
	// carry across bytes).
	MOVL $0x01010101, R9
	MOVQ R9, X15
	VPBROADCASTD X15, Y15
	VPSLLW $1, Y15, Y14
	VPSLLW $2, Y15, Y13
	VPSLLW $3, Y15, Y12
	VPSLLW $4, Y15, Y11
	VPSLLW $5, Y15, Y10
	VPSLLW $6, Y15, Y9
	VPSLLW $7, Y15, Y8

loop:
	VMOVDQU (SI), Y0     // c

	// NW: fg bit 0 if NW >= c.
	VMOVDQU -1(AX), Y1
	VPMAXUB Y0, Y1, Y2
	VPCMPEQB Y1, Y2, Y2
	VPAND Y15, Y2, Y3

	// SW: fg bit 1 if SW > c, that is not c >= SW.
	VMOVDQU -1(BX), Y1
	VPMAXUB Y0, Y1, Y2
	VPCMPEQB Y0, Y2, Y2
	VPANDN Y14, Y2, Y2
	VPOR Y2, Y3, Y3

	// W: fg bit 2 if W >= c; ho bit 1 if c >= W.
	VMOVDQU -1(SI), Y1
	VPMAXUB Y0, Y1, Y2
	VPCMPEQB Y1, Y2, Y5
	VPAND Y13, Y5, Y5
	VPOR Y5, Y3, Y3
	VPCMPEQB Y0, Y2, Y2
	VPAND Y14, Y2, Y4

	// N: fg bit 3 if N >= c; ho bit 0 if c >= N.
	VMOVDQU (AX), Y1
	VPMAXUB Y0, Y1, Y2
	VPCMPEQB Y1, Y2, Y5
	VPAND Y12, Y5, Y5
	VPOR Y5, Y3, Y3
	VPCMPEQB Y0, Y2, Y2
	VPAND Y15, Y2, Y2
	VPOR Y2, Y4, Y4

	// S: fg bit 4 if not c >= S; ho bit 3 if not S >= c.
	VMOVDQU (BX), Y1
	VPMAXUB Y0, Y1, Y2
	VPCMPEQB Y0, Y2, Y5
	VPANDN Y11, Y5, Y5
	VPOR Y5, Y3, Y3
	VPCMPEQB Y1, Y2, Y2
	VPANDN Y12, Y2, Y2
	VPOR Y2, Y4, Y4

	// NE: fg bit 5 if NE >= c.
	VMOVDQU 1(AX), Y1
	VPMAXUB Y0, Y1, Y2
	VPCMPEQB Y1, Y2, Y2
	VPAND Y10, Y2, Y2
	VPOR Y2, Y3, Y3

	// SE: fg bit 6 if not c >= SE.
	VMOVDQU 1(BX), Y1
	VPMAXUB Y0, Y1, Y2
	VPCMPEQB Y0, Y2, Y2
	VPANDN Y9, Y2, Y2
	VPOR Y2, Y3, Y3

	// E: fg bit 7 if not c >= E; ho bit 2 if not E >= c.
	VMOVDQU 1(SI), Y1
	VPMAXUB Y0, Y1, Y2
	VPCMPEQB Y0, Y2, Y5
	VPANDN Y8, Y5, Y5
	VPOR Y5, Y3, Y3
	VPCMPEQB Y1, Y2, Y2
	VPANDN Y13, Y2, Y2
	VPOR Y2, Y4, Y4

	VMOVDQU Y3, (DI)
	VMOVDQU Y4, (R8)
	ADDQ $32, SI
	ADDQ $32, AX
	ADDQ $32, BX
	ADDQ $32, DI
	ADDQ $32, R8
	SUBQ $32, CX
	JGT loop

	VZEROUPPER
	RET
