//go:build amd64 && !purego

#include "textflag.h"

// The union-find kernels (addFgFast, addHoleFast) share registers: SI
// px, CX n, DI lab, R8 parent, R9 nodes, R10 tab, R11 the pixel index;
// per pixel AX the entry (then x), DX its padded index q, R13 the
// representative's index, R15 the label or root.

// PASS_ARGS loads the kernels' common arguments and zeroes the index.
#define PASS_ARGS \
	MOVQ px+0(FP), SI; MOVQ n+8(FP), CX; MOVQ lab+16(FP), DI \
	MOVQ parent+24(FP), R8; MOVQ nodes+32(FP), R9; MOVQ tab+40(FP), R10 \
	XORQ R11, R11

// HALVE is one step of find with path halving, from BX = parent[R15] !=
// R15: parent[R15] = parent[BX], R15 moves there and BX = parent[R15];
// the flags say whether R15 is a root (equal).
#define HALVE \
	MOVL (R8)(BX*4), R14; MOVL R14, (R8)(R15*4); MOVL R14, R15 \
	MOVL (R8)(R15*4), BX; CMPL BX, R15

// NODE_OF_ROOT points BX at nodes[R15] and turns AX into the column x.
#define NODE_OF_ROOT \
	MOVQ R15, BX; SHLQ $5, BX; ADDQ R9, BX; SHRQ $48, AX

// OUTSIDE_BOX jumps to grow if column AX or padded index DX lies outside
// the box of the node at BX.
#define OUTSIDE_BOX(grow) \
	CMPL AX, 4(BX); JLT grow; CMPL AX, 8(BX); JGT grow \
	CMPL DX, 12(BX); JLT grow; CMPL DX, 16(BX); JGT grow

// GROW_BOX widens the box of the node at BX (x0, x1, q0, q1 at 4, 8, 12,
// 16; dirty at 20) to hold column AX and padded index DX; R13 is
// clobbered.
#define GROW_BOX \
	MOVL 4(BX), R13; CMPL AX, R13; CMOVLLT AX, R13; MOVL R13, 4(BX) \
	MOVL 8(BX), R13; CMPL AX, R13; CMOVLGT AX, R13; MOVL R13, 8(BX) \
	MOVL 12(BX), R13; CMPL DX, R13; CMOVLLT DX, R13; MOVL R13, 12(BX) \
	MOVL 16(BX), R13; CMPL DX, R13; CMOVLGT DX, R13; MOVL R13, 16(BX) \
	MOVB $1, 20(BX)

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

// func scanAVX2(pix *float64, n int, u8 *byte, bins *int32, inv, step, top, one float64) bool
//
// For 4 scores at a time (n a multiple of 4): false at once if one is NaN
// or outside [0, 1]; else u8 gets trunc(s*255) and, with bins non-nil,
// bins gets the PxAP bin: k = min(trunc(s*inv), top), moved up one if
// (k+1)*step <= s and down one if k*step > s (the edges are k*step, so
// this is the largest k with edge k <= s), and one for s = 1.
TEXT ·scanAVX2(SB), NOSPLIT, $0-65
	MOVQ pix+0(FP), SI
	MOVQ n+8(FP), CX
	MOVQ u8+16(FP), DI
	MOVQ bins+24(FP), R9
	VBROADCASTSD inv+32(FP), Y10
	VBROADCASTSD step+40(FP), Y11
	VBROADCASTSD top+48(FP), Y12
	VBROADCASTSD one+56(FP), Y13
	MOVQ $0x3FF0000000000000, AX // 1.0
	MOVQ AX, X15
	VBROADCASTSD X15, Y15
	MOVQ $0x406FE00000000000, AX // 255.0
	MOVQ AX, X9
	VBROADCASTSD X9, Y9
	VXORPD Y14, Y14, Y14
	TESTQ CX, CX
	JLE done

loop:
	VMOVUPD (SI), Y0
	VCMPPD $0x1D, Y14, Y0, Y1 // s >= 0 (false for NaN)
	VCMPPD $0x12, Y15, Y0, Y2 // s <= 1
	VANDPD Y1, Y2, Y1
	VMOVMSKPD Y1, AX
	CMPQ AX, $15
	JNE bad

	VMULPD Y9, Y0, Y3
	VCVTTPD2DQY Y3, X3
	VPACKUSDW X3, X3, X3
	VPACKUSWB X3, X3, X3
	MOVQ X3, AX
	MOVL AX, (DI)

	TESTQ R9, R9
	JZ next
	VMULPD Y10, Y0, Y4
	VROUNDPD $3, Y4, Y4
	VMINPD Y12, Y4, Y4
	VADDPD Y15, Y4, Y5
	VMULPD Y11, Y5, Y6
	VCMPPD $0x12, Y0, Y6, Y6 // (k+1)*step <= s
	VANDPD Y15, Y6, Y6
	VADDPD Y6, Y4, Y4
	VMULPD Y11, Y4, Y6
	VCMPPD $0x1E, Y0, Y6, Y6 // k*step > s
	VANDPD Y15, Y6, Y6
	VSUBPD Y6, Y4, Y4
	VCMPPD $0x1D, Y15, Y0, Y6 // s >= 1
	VBLENDVPD Y6, Y13, Y4, Y4
	VCVTTPD2DQY Y4, X4
	VMOVDQU X4, (R9)
	ADDQ $16, R9

next:
	ADDQ $32, SI
	ADDQ $4, DI
	SUBQ $4, CX
	JGT loop

done:
	VZEROUPPER
	MOVB $1, ret+64(FP)
	RET

bad:
	VZEROUPPER
	MOVB $0, ret+64(FP)
	RET

// func addFgFast(px *uint64, n int, lab, parent *int32, nodes *node, tab *nbEntry) (done int, e4 int32)
//
// The common case of worker.addFg, pixel by pixel until one is not
// common: for an entry xy of byXY (padded index q in bits 0-31, fgMask in
// 32-39, x in 48-63) whose neighbour entry has one group, the pixel joins
// the set of the group's representative (find with path halving, the
// neighbour's label refreshed to the root), grows that set's box and gets
// its label. done is the number of pixels added, e4 the change of
// 4×(Euler number). Layouts: nbEntry {off [4]int32; n, e4 int32; 8 bytes
// of padding} (32 bytes); node {pos, x0, x1, q0, q1 int32; dirty bool; iou float64} (32
// bytes); TestKernelLayouts checks them.
TEXT ·addFgFast(SB), NOSPLIT, $0-60
	PASS_ARGS
	XORL R12, R12 // e4
	TESTQ CX, CX
	JLE fgdone

fgloop:
	MOVQ (SI)(R11*8), AX // xy
	MOVQ AX, BX
	SHRQ $27, BX
	ANDL $0x1FE0, BX     // fgMask * 32
	ADDQ R10, BX         // &tab[fgMask]
	CMPL 16(BX), $1
	JNE fgdone
	ADDL 20(BX), R12
	MOVL AX, DX          // q
	MOVLQSX (BX), R13
	ADDQ DX, R13         // nb = q + off[0]
	MOVL (DI)(R13*4), R15 // r = lab[nb]
	MOVL (R8)(R15*4), BX // p = parent[r]
	CMPL BX, R15
	JEQ fgroot           // lab[nb] is a root already: nothing to refresh

fgfind:
	HALVE
	JNE fgfind
	MOVL R15, (DI)(R13*4) // lab[nb] = r

fgroot:
	NODE_OF_ROOT
	OUTSIDE_BOX(fggrow)

fgstore:
	MOVL R15, (DI)(DX*4) // lab[q] = r
	INCQ R11
	CMPQ R11, CX
	JLT fgloop
	JMP fgdone

fggrow:
	GROW_BOX
	JMP fgstore

fgdone:
	MOVQ R11, done+48(FP)
	MOVL R12, e4+56(FP)
	RET

// func addHoleFast(px *uint64, n int, lab, parent *int32, nodes *node, tab *nbEntry) (done int)
//
// The common case of worker.addHole, pixel by pixel until one is not
// common: for an entry xy of byXY (holeMask in bits 40-43) with at least
// one added edge neighbour, all of them with one label (the unused offsets
// of tab repeat the first), the pixel joins that label's set (find with
// path halving, the label written back if it was not a root), grows the
// set's box unless it is the outside (label 0) and gets its label.
TEXT ·addHoleFast(SB), NOSPLIT, $0-56
	PASS_ARGS
	TESTQ CX, CX
	JLE hdone

hloop:
	MOVQ (SI)(R11*8), AX // xy
	MOVQ AX, BX
	SHRQ $35, BX
	ANDL $0x1E0, BX      // holeMask * 32
	ADDQ R10, BX         // &tab[holeMask]
	CMPL 16(BX), $0
	JEQ hdone
	MOVL AX, DX          // q
	MOVLQSX (BX), R13
	ADDQ DX, R13         // nb = q + off[0]
	MOVL (DI)(R13*4), R15 // l = lab[nb]
	MOVLQSX 4(BX), R14
	ADDQ DX, R14
	CMPL (DI)(R14*4), R15
	JNE hdone
	MOVLQSX 8(BX), R14
	ADDQ DX, R14
	CMPL (DI)(R14*4), R15
	JNE hdone
	MOVLQSX 12(BX), R14
	ADDQ DX, R14
	CMPL (DI)(R14*4), R15
	JNE hdone
	MOVL (R8)(R15*4), BX // p = parent[l]
	CMPL BX, R15
	JEQ hroot

hfind:
	HALVE
	JNE hfind
	MOVL R15, (DI)(R13*4) // lab[nb] = r

hroot:
	TESTL R15, R15
	JEQ hstore           // the outside's box is not kept
	NODE_OF_ROOT
	OUTSIDE_BOX(hgrow)

hstore:
	MOVL R15, (DI)(DX*4) // lab[q] = r
	INCQ R11
	CMPQ R11, CX
	JLT hloop
	JMP hdone

hgrow:
	GROW_BOX
	JMP hstore

hdone:
	MOVQ R11, done+48(FP)
	RET
