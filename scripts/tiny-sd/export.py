"""A tiny random-weight Stable Diffusion pipeline, exported to ONNX in diffusers' layout by the official exporter.

  1. Builds a diffusers StableDiffusionPipeline from tiny configs (CLIP text encoder, UNet2DConditionModel,
     AutoencoderKL; DDIM scheduler with Stable Diffusion 1.x's noise schedule) with seeded random weights. Its
     tokenizer is CLIP's BPE cut to the first MERGES merges of CLIP's own merges.txt (test/vectors/clip), so the
     vocabulary (and the text encoder's embedding) stays small while the tokenizer is a real CLIP tokenizer.
  2. Saves it with save_pretrained (the PyTorch layout) into a temporary folder.
  3. Exports it with Optimum's ONNX exporter (optimum.exporters.onnx.main_export, task text-to-image: what
     `optimum-cli export onnx --model <dir> --task text-to-image <out>` runs) into <out>/: model_index.json,
     text_encoder/, unet/, vae_decoder/, vae_encoder/, tokenizer/ (vocab.json, merges.txt, ...), scheduler/.
  4. Writes <out>/reference.json and reference.png: for a few prompts, the ids of transformers' CLIPTokenizer (the
     pipeline's own tokenizer, padded to 77); and the image Optimum's ONNX Runtime pipeline
     (ORTStableDiffusionPipeline) makes from the exported files for the initial latents Beryl's runner draws for
     a task seed (given as a JSON file by scripts/tiny-sd/latents.ts).

usage: python export.py <out-dir> <latents.json>   (scripts/tiny-sd/regenerate.sh sets up the pinned environment)
"""
import hashlib
import json
import os
import shutil
import sys
import tempfile

import numpy as np
import torch

OUT = os.path.abspath(sys.argv[1])
LATENTS = os.path.abspath(sys.argv[2])
NAME = "beryl-tiny-sd-export"
HERE = os.path.dirname(os.path.abspath(__file__))
CLIP = os.path.join(HERE, "..", "..", "test", "vectors", "clip")
MERGES = 2000
SEED = 20261130
PROMPTS = ["a lighthouse on a cliff at dusk", "A photo of a cat!", "", "pixels & words: 1234, tokens... 'quoted'"]
# The image both Beryl's runner and the reference pipeline make (from the latents of the task seed in the latents file).
IMAGE = {"prompt": PROMPTS[0], "negative_prompt": "", "height": 64, "width": 64, "steps": 4, "guidance_scale": 7.5}


def tiny_clip_tokenizer_files(dst: str) -> None:
    """vocab.json and merges.txt of CLIP's BPE with its first MERGES merges (ids as CLIP assigns them)."""
    with open(os.path.join(CLIP, "merges.txt"), encoding="utf-8") as f:
        lines = f.read().split("\n")
    header, merges = lines[0], [m for m in lines[1:] if m][:MERGES]
    with open(os.path.join(CLIP, "vocab.json"), encoding="utf-8") as f:
        full = json.load(f)
    base = [t for t, i in sorted(full.items(), key=lambda kv: kv[1]) if i < 512]  # the 256 bytes, then with </w>
    tokens = base + ["".join(m.split(" ")) for m in merges] + ["<|startoftext|>", "<|endoftext|>"]
    assert len(set(tokens)) == len(tokens)
    for t in tokens[:-2]:
        assert full[t] == tokens.index(t), t  # the same ids as CLIP's full vocabulary
    with open(os.path.join(dst, "vocab.json"), "w", encoding="utf-8") as f:
        json.dump({t: i for i, t in enumerate(tokens)}, f, ensure_ascii=False)
    with open(os.path.join(dst, "merges.txt"), "w", encoding="utf-8") as f:
        f.write("\n".join([header] + merges) + "\n")


def build_pipeline(tok_dir: str):
    from diffusers import AutoencoderKL, DDIMScheduler, StableDiffusionPipeline, UNet2DConditionModel
    from transformers import CLIPTextConfig, CLIPTextModel, CLIPTokenizer

    tokenizer = CLIPTokenizer(os.path.join(tok_dir, "vocab.json"), os.path.join(tok_dir, "merges.txt"), model_max_length=77)
    torch.manual_seed(SEED)
    text_encoder = CLIPTextModel(
        CLIPTextConfig(
            vocab_size=len(tokenizer),
            hidden_size=32,
            intermediate_size=37,
            num_hidden_layers=2,
            num_attention_heads=4,
            max_position_embeddings=77,
            bos_token_id=tokenizer.bos_token_id,
            eos_token_id=tokenizer.eos_token_id,
            pad_token_id=tokenizer.pad_token_id,
        )
    )
    torch.manual_seed(SEED + 1)
    unet = UNet2DConditionModel(
        sample_size=8,
        in_channels=4,
        out_channels=4,
        block_out_channels=(8, 16),
        layers_per_block=1,
        down_block_types=("CrossAttnDownBlock2D", "DownBlock2D"),
        up_block_types=("UpBlock2D", "CrossAttnUpBlock2D"),
        cross_attention_dim=32,
        attention_head_dim=4,
        norm_num_groups=4,
    )
    torch.manual_seed(SEED + 2)
    # Four blocks: latents are 1/8 of the image's width and height, as in Stable Diffusion.
    vae = AutoencoderKL(
        in_channels=3,
        out_channels=3,
        latent_channels=4,
        block_out_channels=(4, 4, 4, 4),
        down_block_types=("DownEncoderBlock2D",) * 4,
        up_block_types=("UpDecoderBlock2D",) * 4,
        layers_per_block=1,
        norm_num_groups=2,
        sample_size=64,
    )
    scheduler = DDIMScheduler(
        beta_start=0.00085,
        beta_end=0.012,
        beta_schedule="scaled_linear",
        clip_sample=False,
        set_alpha_to_one=False,
        steps_offset=1,
    )
    return StableDiffusionPipeline(
        vae=vae,
        text_encoder=text_encoder,
        tokenizer=tokenizer,
        unet=unet,
        scheduler=scheduler,
        safety_checker=None,
        feature_extractor=None,
        requires_safety_checker=False,
    )


def reference(out: str, tokenizer, latents_file: str) -> dict:
    """Reference outputs on the exported files: the pipeline tokenizer's ids, and Optimum's ONNX Runtime pipeline's
    image (DDIM, classifier-free guidance, diffusers' post-processing) from the initial latents Beryl draws for
    the task seed (scripts/tiny-sd/latents.ts), written as reference.png."""
    import onnxruntime
    from optimum.onnxruntime import ORTStableDiffusionPipeline

    cases = []
    for p in PROMPTS:
        ids = tokenizer(p, padding="max_length", max_length=tokenizer.model_max_length, truncation=True).input_ids
        cases.append({"text": p, "ids": ids})
    with open(latents_file, encoding="utf-8") as f:
        lat = json.load(f)
    latents = np.array(lat["values"], dtype=np.float32).reshape(lat["shape"])
    image = dict(IMAGE, seed=lat["seed"])
    # One thread, as Beryl's workers run ONNX Runtime.
    so = onnxruntime.SessionOptions()
    so.intra_op_num_threads = 1
    so.inter_op_num_threads = 1
    pipe = ORTStableDiffusionPipeline.from_pretrained(out, provider="CPUExecutionProvider", session_options=so)
    img = pipe(
        image["prompt"],
        height=image["height"],
        width=image["width"],
        num_inference_steps=image["steps"],
        guidance_scale=image["guidance_scale"],
        latents=torch.from_numpy(latents),
        output_type="pil",
    ).images[0]
    img.save(os.path.join(out, "reference.png"))
    return {
        "exporter": f"optimum-onnx {version('optimum-onnx')} (optimum {version('optimum')}) on diffusers {version('diffusers')}, "
        f"transformers {version('transformers')}, torch {torch.__version__}; reference pipeline: "
        f"optimum.onnxruntime.ORTStableDiffusionPipeline on onnxruntime {onnxruntime.__version__}",
        "tokenizer": cases,
        "image": dict(image, file="reference.png", latents_sha256=hashlib.sha256(latents.tobytes()).hexdigest()),
    }


def version(pkg: str) -> str:
    from importlib.metadata import version as v

    return v(pkg)


def main() -> None:
    from optimum.exporters.onnx import main_export

    with tempfile.TemporaryDirectory() as tmp:
        tok_dir = os.path.join(tmp, "tok")
        os.makedirs(tok_dir)
        tiny_clip_tokenizer_files(tok_dir)
        pipe = build_pipeline(tok_dir)
        # Saved and exported from a relative path: the configs' _name_or_path is then the pipeline's name, not a
        # temporary folder (Beryl names the model after model_index.json's _name_or_path).
        cwd = os.getcwd()
        os.chdir(tmp)
        try:
            pipe.save_pretrained(NAME, safe_serialization=True)
            if os.path.exists(OUT):
                shutil.rmtree(OUT)
            main_export(model_name_or_path=NAME, output=OUT, task="text-to-image", device="cpu", do_validation=True)
        finally:
            os.chdir(cwd)
        ref = reference(OUT, pipe.tokenizer, LATENTS)
    with open(os.path.join(OUT, "reference.json"), "w", encoding="utf-8") as f:
        json.dump(ref, f, ensure_ascii=False, indent=1)
        f.write("\n")
    total = 0
    for root, _, files in os.walk(OUT):
        for name in sorted(files):
            total += os.path.getsize(os.path.join(root, name))
    print(f"exported the tiny pipeline into {OUT} ({total} bytes)")


main()
