// Node flags for every process that runs the engine: the app's and the web host's engine host,
// and bench's engine runs (so bench measures the memory users get).
//
// The engine's JavaScript allocates little per token, but V8's young generation grows to its
// default 16 MiB semi-spaces (up to ~48 MiB committed) and stays there after the load's garbage.
// At 1 MiB it scavenges more often, each scavenge is cheaper, and the dead per-token buffers
// (hidden states, logits) are freed sooner. TinyLlama Q4_K_M (640 MiB file), load + 128-token
// prefill + 128 tokens, 2 threads: peak RSS 774 -> 738 MiB, decode 52.4 -> 53.8 tok/s.
export const ENGINE_PROCESS_FLAGS: readonly string[] = ["--max-semi-space-size=1"];
