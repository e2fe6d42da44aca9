// Gemma's final logit soft-capping, cap·tanh(logits/cap), applied in place wherever logits leave
// the LM head outside the head graph (native head, the early-exit shortlist), so every path gives
// the model's own final transform.

export function softcapInPlace(logits: Float32Array, cap: number | undefined): Float32Array {
  if (cap) for (let i = 0; i < logits.length; i++) logits[i] = cap * Math.tanh(logits[i] / cap);
  return logits;
}
