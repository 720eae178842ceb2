"""Reference vectors for Beryl's SmolLM2 tokenizer and model, from llama.cpp (llama-cpp-python)
loading the same GGUF file.

  tokenizer.json  500 varied strings: llama.cpp's token ids (no BOS, special tokens not parsed)
                  and whether detokenizing them gives the string back
  dequant.json    sha256 of the float32 (little-endian) dequantization of some tensors, by the gguf
                  package (llama.cpp's own Python reader) — one per ggml type in the file
  greedy.json     5 chat prompts: the ChatML prompt ids (special tokens parsed) and the first 32
                  greedy tokens (argmax of llama.cpp's logits, stopping at end of turn), with the
                  gap between the two best logits at each step (and the two best tokens) and the
                  smallest such gap, twice:
                  `q4_1` loads the GGUF as shipped with llama.cpp's defaults (Q4_1 weights times
                  8-bit-quantized activations, F16 KV cache), `f32` loads the same weights dequantized
                  by the gguf package into an F32 GGUF with the same metadata and runs with an F32 KV
                  cache (float32 throughout, the arithmetic Beryl's ONNX graph does)

usage: python gen.py <gguf> <out-dir> [dequant,tokenizer,greedy]   (regenerate.sh sets up the environment)
"""
import hashlib
import json
import os
import random
import sys
import tempfile

import gguf
import llama_cpp
import numpy as np

GGUF, OUT = sys.argv[1], sys.argv[2]
PARTS = (sys.argv[3] if len(sys.argv) > 3 else "dequant,tokenizer,greedy").split(",")

WORDS = ("the rain falls softly on a quiet town while children run to school and teachers open "
         "windows to hear birds sing about spring summer autumn winter river mountain cloud light "
         "model token chain block validator worker network compute verify").split()
UNICODE = [
    "café naïve résumé façade jalapeño", "Straße größer Übung", "Καλημέρα κόσμε", "Привет, как дела?",
    "مرحبا بالعالم", "שלום עולם", "नमस्ते दुनिया", "你好，世界！今天天气很好。", "こんにちは、カタカナとひらがな",
    "안녕하세요 세계", "สวัสดีชาวโลก", "Ελληνικά ΑΒΓ αβγ", "Ǆemal ǅ ǆ", "ﬁne ﬂow", "½ ¼ ² ³ Ⅻ ⅷ ①②", "١٢٣ ۴۵۶ १२३ １２３",
    "Ω ≈ ∑ ∫ √ ∞ ≠ ≤", "“quotes” ‘single’ «guillemets» — – …", "€£¥₹₿ $100", "\u00a0non\u00a0breaking\u2009thin\u3000ideographic",
]
EMOJI = ["😀", "👍🏽", "👨‍👩‍👧‍👦", "🇫🇷🇯🇵", "1️⃣", "❤️", "🏳️‍🌈", "🤖🧠", "🔥🔥🔥", "☕"]
CODE = [
    "def add(a, b):\n    return a + b\n",
    "for (let i = 0; i < n; i++) {\n\tsum += xs[i];\n}",
    '{"key": [1, 2.5, -3e10], "ok": true, "name": null}',
    "<div class=\"x\">&amp; &lt;tag&gt;</div>",
    "SELECT id, name FROM users WHERE age >= 18 ORDER BY name;",
    "#include <stdio.h>\nint main(void) { printf(\"%d\\n\", 42); }",
    "$ npm ci && ./bin/beryld devnet --demo 2>&1 | tee log.txt",
    "fn main() -> Result<(), Box<dyn Error>> { Ok(()) }",
    "x = [i**2 for i in range(10) if i % 2 == 0]",
    "git commit -m 'fix: don't panic'",
]
SPACES = [" ", "  ", "   ", "\t", "\n", "\n\n", "\r\n", " \n ", "\t\t  ", "      ", "\n   \n"]
CONTRACTIONS = ["it's", "don't", "we're", "I've", "I'm", "you'll", "she'd", "IT'S", "O'Neil", "rock'n'roll"]
NUMBERS = ["3.14159", "1,000,000", "2024-11-30", "0x1F", "12:30", "-42", "1e-5", "007", "99%", "v1.2.3"]
SPECIALS = ["<|im_start|>user", "<|im_end|>", "<|endoftext|>", "<repo_name>", "<|not_a_token|>"]


def varied(rng: random.Random) -> str:
    kind = rng.randrange(9)
    if kind == 0:
        return " ".join(rng.choice(WORDS) for _ in range(rng.randint(1, 12))).capitalize() + rng.choice([".", "!", "?", "", "..."])
    if kind == 1:
        return rng.choice(UNICODE)
    if kind == 2:
        return rng.choice(WORDS) + rng.choice(["", " "]) + "".join(rng.choice(EMOJI) for _ in range(rng.randint(1, 3))) + rng.choice(["", " ok", "!"])
    if kind == 3:
        return rng.choice(CODE)
    if kind == 4:
        return rng.choice(SPACES) + rng.choice(WORDS) + rng.choice(SPACES) + rng.choice(WORDS) + rng.choice(SPACES)
    if kind == 5:
        return " ".join(rng.choice(CONTRACTIONS + NUMBERS + WORDS) for _ in range(rng.randint(1, 6)))
    if kind == 6:
        return rng.choice(SPECIALS) + rng.choice(["", " ", "\n"]) + rng.choice(WORDS)
    if kind == 7:
        # Random code points from assorted blocks (no surrogates, no NUL).
        blocks = [(0x21, 0x7E), (0xA0, 0x24F), (0x370, 0x3FF), (0x400, 0x4FF), (0x590, 0x6FF), (0x900, 0x97F),
                  (0x3040, 0x30FF), (0x4E00, 0x4FFF), (0xAC00, 0xAD00), (0x2000, 0x206F), (0x1F300, 0x1F64F)]
        out = []
        for _ in range(rng.randint(1, 16)):
            lo, hi = rng.choice(blocks)
            out.append(chr(rng.randint(lo, hi)))
            if rng.random() < 0.2:
                out.append(rng.choice(SPACES))
        return "".join(out)
    return rng.choice(UNICODE).split()[0] + rng.choice(SPACES) + rng.choice(CODE).split("\n")[0] + rng.choice(EMOJI)


def dequant_vectors() -> None:
    reader = gguf.GGUFReader(GGUF)
    wanted = ["token_embd.weight", "blk.0.attn_q.weight", "blk.0.ffn_down.weight", "blk.29.attn_v.weight", "blk.0.attn_norm.weight", "output_norm.weight"]
    out = []
    for t in reader.tensors:
        if t.name not in wanted:
            continue
        w = gguf.quants.dequantize(t.data, t.tensor_type).astype("<f4").reshape(-1)
        out.append({"name": t.name, "type": t.tensor_type.name, "count": int(w.size), "sha256": hashlib.sha256(w.tobytes()).hexdigest(),
                    "first": [float(x) for x in w[:8]]})
    with open(f"{OUT}/dequant.json", "w", encoding="utf-8") as f:
        json.dump({"reference": f"gguf {gguf.__version__ if hasattr(gguf, '__version__') else ''}".strip(), "model": GGUF.split("/")[-1], "tensors": out}, f, indent=1)
        f.write("\n")


def f32_copy(src: str, dst: str) -> None:
    """The same file with every tensor dequantized to F32 (metadata copied, file type ALL_F32)."""
    r = gguf.GGUFReader(src)
    w = gguf.GGUFWriter(dst, arch=str(r.fields["general.architecture"].contents()))
    for f in r.fields.values():
        if f.name == "general.architecture" or f.name.startswith("GGUF."):
            continue
        if f.name == "general.file_type":
            w.add_key_value(f.name, 0, gguf.GGUFValueType.UINT32)
            continue
        vtype = f.types[0]
        w.add_key_value(f.name, f.contents(), vtype, sub_type=f.types[-1] if vtype == gguf.GGUFValueType.ARRAY else None)
    for t in r.tensors:
        w.add_tensor(t.name, np.ascontiguousarray(gguf.quants.dequantize(t.data, t.tensor_type).astype(np.float32)))
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


def greedy(path: str, prompts: list, kv_f32: bool = False) -> tuple:
    # Flash attention off (llama-cpp-python's default, stated): the KV cache is then read by plain matrix products.
    kv = {"type_k": GGML_TYPE_F32, "type_v": GGML_TYPE_F32} if kv_f32 else {}
    llm = llama_cpp.Llama(model_path=path, n_ctx=512, n_threads=2, logits_all=True, flash_attn=False, verbose=False, **kv)
    eog = {llm.token_eos()} | {i for i in range(llm.n_vocab()) if llama_cpp.llama_vocab_is_eog(llama_cpp.llama_model_get_vocab(llm.model), i)}
    out_cases = []
    for messages in prompts:
        msgs = messages if messages[0]["role"] == "system" else [{"role": "system", "content": DEFAULT_SYSTEM}] + messages
        text = "".join(f"<|im_start|>{m['role']}\n{m['content']}<|im_end|>\n" for m in msgs) + "<|im_start|>assistant\n"
        prompt = llm.tokenize(text.encode("utf-8"), add_bos=False, special=True)
        llm.reset()
        llm.eval(prompt)
        out, gaps, top = [], [], []
        for _ in range(32):
            row = np.array(llm.scores[llm.n_tokens - 1], dtype=np.float64)
            nxt = int(np.argmax(row))
            top2 = np.sort(row)[-2:]
            gaps.append(round(float(top2[1] - top2[0]), 4))
            top.append([[int(i), round(float(row[i]), 4)] for i in np.argsort(-row, kind="stable")[:2]])
            out.append(nxt)
            if nxt in eog:
                break
            llm.eval([nxt])
        k = int(np.argmin(gaps))
        out_cases.append({"prompt_ids": prompt, "greedy": out, "top2_gap": gaps, "min_top2_gap": {"step": k, "gap": gaps[k]}, "top2": top,
                          "text": llm.detokenize([t for t in out if t not in eog]).decode("utf-8", errors="replace")})
    return sorted(eog), out_cases


DEFAULT_SYSTEM = "You are a helpful AI assistant named SmolLM, trained by Hugging Face"
GGML_TYPE_F32 = 0


def main() -> None:
    if "dequant" in PARTS:
        dequant_vectors()
    if "tokenizer" in PARTS:
        tokenizer_vectors()
    if "greedy" in PARTS:
        greedy_vectors()


def tokenizer_vectors() -> None:
    llm = llama_cpp.Llama(model_path=GGUF, n_ctx=512, n_threads=2, logits_all=True, verbose=False)
    rng = random.Random(20261130)
    fixed = ["", " ", "Hello", "Hello world", " Hello", "hello  world", "What is the capital of France?", "12345", " 1 2 3 ",
             "a\nb", "a\n\nb", "a \n b", "   leading", "trailing   ", "tabs\tand\tmore", "I'm here, aren't I?"]
    strings = list(fixed)
    seen = set(strings)
    while len(strings) < 500:
        s = varied(rng)
        if s not in seen:
            seen.add(s)
            strings.append(s)
    tok_cases = []
    for s in strings:
        ids = llm.tokenize(s.encode("utf-8"), add_bos=False, special=False)
        back = llm.detokenize(ids, special=False).decode("utf-8", errors="replace")
        tok_cases.append({"text": s, "ids": ids, "roundtrip": back == s})
    with open(f"{OUT}/tokenizer.json", "w", encoding="utf-8") as f:
        json.dump({"reference": f"llama-cpp-python {llama_cpp.__version__}", "model": GGUF.split("/")[-1], "cases": tok_cases}, f, ensure_ascii=False, indent=0)
        f.write("\n")

    print(f"wrote {len(tok_cases)} tokenizer cases into {OUT}")


def greedy_vectors() -> None:
    prompts = [
        [{"role": "user", "content": "What is the capital of France?"}],
        [{"role": "user", "content": "Write a haiku about rain"}],
        [{"role": "user", "content": "Explain photosynthesis in one paragraph."}],
        [{"role": "user", "content": "List three uses of a paperclip."}],
        [{"role": "system", "content": "You are a pirate. Answer like one."}, {"role": "user", "content": "Tell me about the sea."}],
    ]
    eog, q4 = greedy(GGUF, prompts)
    with tempfile.TemporaryDirectory() as tmp:
        f32 = os.path.join(tmp, "f32.gguf")
        f32_copy(GGUF, f32)
        # All in float32: F32 weights, and an F32 KV cache (its default is F16, which also rounds Q and the
        # attention weights to F16 in the products that read it).
        _, f32_cases = greedy(f32, prompts, kv_f32=True)
    cases = []
    for m, a, b in zip(prompts, q4, f32_cases):
        assert a["prompt_ids"] == b["prompt_ids"]
        cases.append({"messages": m, "prompt_ids": a["prompt_ids"], "q4_1": {k: a[k] for k in ("greedy", "top2_gap", "min_top2_gap", "top2", "text")}, "f32": {k: b[k] for k in ("greedy", "top2_gap", "min_top2_gap", "top2", "text")}})
    with open(f"{OUT}/greedy.json", "w", encoding="utf-8") as f:
        json.dump({"reference": f"llama-cpp-python {llama_cpp.__version__}", "model": GGUF.split("/")[-1],
                   "settings": {"q4_1": "the GGUF as shipped; KV cache F16 (default); flash attention off; 2 threads",
                                "f32": "an F32 copy of the GGUF (gguf package); KV cache F32; flash attention off; 2 threads"},
                   "system_info": llama_cpp.llama_print_system_info().decode().strip(),
                   "eog": eog, "cases": cases}, f, ensure_ascii=False, indent=1)
        f.write("\n")
    print(f"wrote {len(cases)} greedy cases into {OUT}")



main()
