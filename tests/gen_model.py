#!/usr/bin/env python3
"""gen_model.py DIR SHARD_BYTES - write a small model-shaped folder.

Two safetensors shards (valid 8-byte header length, JSON header, F16
tensors of random bytes), config.json, tokenizer.json, tokenizer_config.json
and generation_config.json, like a Hugging Face snapshot.  Deterministic for
a given DIR name and size, so two calls with the same arguments agree.
"""
import hashlib, json, os, random, struct, sys

def shard(path, nbytes, rng, prefix):
    tensors, off, meta = {}, 0, {"__metadata__": {"format": "pt"}}
    n = 4
    per = max(2, (nbytes // n) // 2 * 2)
    for i in range(n):
        elems = per // 2
        meta[f"{prefix}.layers.{i}.weight"] = {
            "dtype": "F16", "shape": [elems], "data_offsets": [off, off + per]}
        off += per
    header = json.dumps(meta, separators=(",", ":")).encode()
    header += b" " * (-len(header) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(header)))
        f.write(header)
        f.write(rng.randbytes(off))

def main():
    d, size = sys.argv[1], int(sys.argv[2])
    os.makedirs(d, exist_ok=True)
    rng = random.Random(hashlib.sha256(f"{os.path.basename(d)}:{size}".encode()).digest())
    shard(os.path.join(d, "model-00001-of-00002.safetensors"), size, rng, "model.a")
    shard(os.path.join(d, "model-00002-of-00002.safetensors"), size // 2, rng, "model.b")
    json.dump({"architectures": ["LlamaForCausalLM"], "hidden_size": 64,
               "num_hidden_layers": 4, "model_type": "llama"},
              open(os.path.join(d, "config.json"), "w"), indent=2)
    json.dump({"version": "1.0", "model": {"type": "BPE",
               "vocab": {f"t{i}": i for i in range(200)}}},
              open(os.path.join(d, "tokenizer.json"), "w"))
    json.dump({"bos_token": "<s>", "eos_token": "</s>"},
              open(os.path.join(d, "tokenizer_config.json"), "w"))
    json.dump({"do_sample": True, "temperature": 0.6},
              open(os.path.join(d, "generation_config.json"), "w"))

main()
