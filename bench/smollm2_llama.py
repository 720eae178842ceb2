"""The anchor of bench/smollm2.ts: llama.cpp (llama-cpp-python) on the same GGUF and the same token ids.

usage: python smollm2_llama.py <gguf> <threads> <prompt ids, comma-separated> <new tokens>
prints one JSON line: prompt_ms, gen_ms (greedy, one token per eval, the first from the prompt's logits)
"""
import json
import sys
import time

import llama_cpp
import numpy as np

gguf, threads, prompt, n_new = sys.argv[1], int(sys.argv[2]), [int(x) for x in sys.argv[3].split(",")], int(sys.argv[4])
llm = llama_cpp.Llama(model_path=gguf, n_ctx=1024, n_threads=threads, n_threads_batch=threads, n_batch=512, logits_all=True, verbose=False)
best = None
for _ in range(3):
    llm.reset()
    t0 = time.perf_counter()
    llm.eval(prompt)
    t1 = time.perf_counter()
    for _ in range(n_new):
        nxt = int(np.argmax(llm.scores[llm.n_tokens - 1]))
        llm.eval([nxt])
    t2 = time.perf_counter()
    r = {"prompt_ms": (t1 - t0) * 1000, "gen_ms": (t2 - t1) * 1000}
    best = r if best is None or r["prompt_ms"] + r["gen_ms"] < best["prompt_ms"] + best["gen_ms"] else best
print(json.dumps({"threads": threads, **best}))
