"""Reference vectors for Beryl's CLIP tokenizer, from OpenAI's reference tokenizer (the PyPI package openai-clip,
clip/simple_tokenizer.py, loaded by path so that torch is not needed).

  vocab.json, merges.txt  the tokenizer files in diffusers' layout, written from the reference's own BPE data
                          (exactly the vocabulary and merges its SimpleTokenizer builds)
  prompts.json            200 varied prompts and the reference's ids (no start/end tokens, no truncation)

usage: python gen.py <out-dir>   (regenerate.sh sets up the environment)
"""
import importlib.util
import json
import os
import random
import sys

OUT = sys.argv[1]
spec = importlib.util.find_spec("clip")  # finds the package without running its __init__ (which imports torch)
path = os.path.join(os.path.dirname(spec.origin), "simple_tokenizer.py")
mod_spec = importlib.util.spec_from_file_location("clip_simple_tokenizer", path)
st = importlib.util.module_from_spec(mod_spec)
mod_spec.loader.exec_module(st)
tok = st.SimpleTokenizer()

with open(f"{OUT}/vocab.json", "w", encoding="utf-8") as f:
    json.dump(tok.encoder, f, ensure_ascii=False, separators=(",", ":"))
merges = sorted(tok.bpe_ranks.items(), key=lambda kv: kv[1])
with open(f"{OUT}/merges.txt", "w", encoding="utf-8") as f:
    f.write("#version: 0.2\n")
    for (a, b), _ in merges:
        f.write(f"{a} {b}\n")

SUBJECTS = ["a lighthouse", "an astronaut", "a red fox", "the Eiffel Tower", "a bowl of ramen", "two cats", "a robot", "a castle",
            "a portrait of a woman", "a cyberpunk city", "a sailing ship", "mount fuji", "a hummingbird", "an old library"]
STYLES = ["at dusk", "in the style of Van Gogh", "oil painting", "8k, highly detailed", "trending on artstation", "unreal engine",
          "(masterpiece:1.2)", "[blurry]", "photorealistic, 35mm", "watercolor", "low-poly 3D render", "studio lighting, bokeh"]
EXTRAS = ["café", "naïve", "Straße", "東京の夜景", "Москва зимой", "🌸🌸", "🔥", "&amp; friends", "&quot;quoted&quot;", "“curly” quotes",
          "don't", "it's", "WE'LL", "１２３ fullwidth", "ﬁne ﬂowers", "1920s", "3.5mm", "100%", "v2.0", "C'est la vie", "  extra   spaces  ",
          "tab\tseparated", "line\nbreak", "<|endoftext|>", "x" * 30, "α β γ", "ñandú", "İstanbul", "ǅemal", "\u00a0nbsp\u00a0"]
rng = random.Random(77)
prompts = ["", "a", "A photo of a cat", "a photo of a cat.", "Hello, World!", "hello world", "1234567890"]
while len(prompts) < 200:
    k = rng.randrange(4)
    parts = [rng.choice(SUBJECTS)]
    parts += rng.sample(STYLES, rng.randint(0, 3))
    if k >= 1:
        parts.insert(rng.randrange(len(parts) + 1), rng.choice(EXTRAS))
    if k == 3:
        parts = parts * rng.randint(3, 8)  # long prompts: more than 77 tokens
    p = rng.choice([", ", " ", ",", " | "]).join(parts)
    if rng.random() < 0.3:
        p = p.upper() if rng.random() < 0.5 else p.title()
    if p not in prompts:
        prompts.append(p)
cases = [{"text": p, "ids": tok.encode(p)} for p in prompts]
with open(f"{OUT}/prompts.json", "w", encoding="utf-8") as f:
    json.dump({"reference": "openai-clip 1.0.1 clip/simple_tokenizer.py", "sot": tok.encoder["<|startoftext|>"], "eot": tok.encoder["<|endoftext|>"], "cases": cases}, f, ensure_ascii=False, indent=0)
    f.write("\n")
print(f"wrote vocab.json ({len(tok.encoder)} tokens), merges.txt ({len(merges)} merges), prompts.json ({len(cases)} prompts)")
