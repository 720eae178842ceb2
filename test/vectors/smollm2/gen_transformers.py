"""Reference greedy tokens for Beryl's SmolLM2 from transformers, SmolLM2's reference implementation,
loading the same GGUF file (transformers dequantizes it with the gguf package and computes in float32).

  transformers.json  the versions; for six tensors the sha256 of the float32 (little-endian) weights
                     transformers loaded (attn_q permuted back into the GGUF's row order, since
                     transformers undoes llama.cpp's q/k permutation when it loads); and for the 5
                     prompts of greedy.json (their ChatML prompt ids, fed as ids so that tokenization
                     cannot differ): the first 32 greedy tokens (argmax of the float32 logits,
                     stopping at an end-of-generation token), each step's top-2 logit gap and top-2
                     tokens, and the smallest gap along the way

usage: python gen_transformers.py <gguf> <out-dir>   (regenerate.sh sets up the environment; greedy.json
       must exist: its prompt ids and end-of-generation ids are reused)
"""
import hashlib
import importlib.metadata as md
import json
import os
import sys

import numpy as np
import torch
from transformers import AutoModelForCausalLM

GGUF, OUT = sys.argv[1], sys.argv[2]
STEPS = 32

torch.set_num_threads(1)  # one thread: reproducible summation order, and a shared machine
torch.manual_seed(0)


def sha(t: torch.Tensor) -> str:
    return hashlib.sha256(t.detach().contiguous().to(torch.float32).numpy().astype("<f4").tobytes()).hexdigest()


def to_gguf_rows(w: torch.Tensor, heads: int) -> torch.Tensor:
    """llama.cpp's converter permutes the rows of q/k (per head, the two rotary halves interleaved);
    transformers undoes it on load. This applies it again, to compare with the GGUF's own order."""
    out_dim = w.shape[0]
    return w.reshape(heads, 2, out_dim // heads // 2, *w.shape[1:]).swapaxes(1, 2).reshape(w.shape)


def main() -> None:
    with open(os.path.join(OUT, "greedy.json"), encoding="utf-8") as f:
        llama_ref = json.load(f)
    eog = set(llama_ref["eog"])

    model = AutoModelForCausalLM.from_pretrained(
        os.path.dirname(os.path.abspath(GGUF)),
        gguf_file=os.path.basename(GGUF),
        dtype=torch.float32,
        attn_implementation="eager",
    )
    model.eval()
    cfg = model.config
    # The head is the token embedding (SmolLM2 ties them; the GGUF has no output.weight).
    assert cfg.tie_word_embeddings and torch.equal(model.lm_head.weight, model.model.embed_tokens.weight), "lm_head is not tied"
    assert all(p.dtype == torch.float32 for p in model.parameters())

    layers = model.model.layers
    weights = {
        "token_embd.weight": model.model.embed_tokens.weight,
        "blk.0.attn_q.weight": to_gguf_rows(layers[0].self_attn.q_proj.weight, cfg.num_attention_heads),
        "blk.0.ffn_down.weight": layers[0].mlp.down_proj.weight,
        "blk.29.attn_v.weight": layers[29].self_attn.v_proj.weight,
        "blk.0.attn_norm.weight": layers[0].input_layernorm.weight,
        "output_norm.weight": model.model.norm.weight,
    }
    tensors = [{"name": n, "count": int(w.numel()), "sha256": sha(w)} for n, w in weights.items()]

    cases = []
    with torch.no_grad():
        for c in llama_ref["cases"]:
            ids = list(c["prompt_ids"])
            out = model(input_ids=torch.tensor([ids]), use_cache=True)
            past = out.past_key_values
            tokens, gaps, top = [], [], []
            for _ in range(STEPS):
                row = out.logits[0, -1].to(torch.float32).numpy()
                order = np.argsort(-row, kind="stable")
                nxt = int(order[0])
                gaps.append(float(row[order[0]]) - float(row[order[1]]))
                top.append([[int(i), round(float(row[i]), 4)] for i in order[:2]])
                tokens.append(nxt)
                if nxt in eog:
                    break
                out = model(input_ids=torch.tensor([[nxt]]), past_key_values=past, use_cache=True)
                past = out.past_key_values
            # The same tokens from transformers' own greedy search (generate, do_sample=False).
            gen = model.generate(torch.tensor([ids]), attention_mask=torch.ones(1, len(ids), dtype=torch.long), do_sample=False, max_new_tokens=STEPS, eos_token_id=sorted(eog),
                                 pad_token_id=sorted(eog)[0], top_k=None, top_p=None, temperature=None)
            assert gen[0, len(ids):].tolist() == tokens, (gen[0, len(ids):].tolist(), tokens)
            k = int(np.argmin(gaps))
            cases.append({
                "messages": c["messages"],
                "prompt_ids": ids,
                "greedy": tokens,
                "top2_gap": [round(g, 5) for g in gaps],
                "min_top2_gap": {"step": k, "gap": round(gaps[k], 5)},
                "top2": top,
            })
            print(f"{c['messages'][-1]['content']!r}: {len(tokens)} tokens, smallest top-2 gap {gaps[k]:.5f} at step {k}")

    versions = {p: md.version(p) for p in ("torch", "transformers", "gguf", "numpy")}
    with open(os.path.join(OUT, "transformers.json"), "w", encoding="utf-8") as f:
        json.dump({
            "reference": " ".join(f"{p} {v}" for p, v in versions.items()),
            "model": os.path.basename(GGUF),
            "settings": "AutoModelForCausalLM.from_pretrained(dir, gguf_file=...): weights dequantized by the gguf package; "
                        "float32 weights and arithmetic, CPU, 1 thread, eager attention, KV cache; greedy = argmax of the last "
                        "position's logits (do_sample=False), stopping after an end-of-generation token",
            "eog": sorted(eog),
            "tensors": tensors,
            "cases": cases,
        }, f, ensure_ascii=False, indent=1)
        f.write("\n")
    print(f"wrote {len(cases)} greedy cases into {OUT}/transformers.json")


main()
