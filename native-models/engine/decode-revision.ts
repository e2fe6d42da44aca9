// Which engine a calibration's speeds describe. A calibration stores the curve of agreement and
// speedup per knob, and the strategies it chose (lossless self-drafting, exit thresholds), all
// measured against full depth on this engine. A change that moves the speed of full depth against
// early exit or lossless decoding makes stored curves describe an engine users no longer run: it
// bumps this number, and the app measures every older calibration again (they show as stale until
// then).
//
// 2: decode steps of every kind reuse their buffers (full depth +4-5% on kjv16, exit steps and
//    lossless rounds after them).
export const DECODE_REVISION = 2;
