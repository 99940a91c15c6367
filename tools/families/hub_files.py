"""Files every hub fixture writes: bf16 safetensors as the hub ships them, JSON, and a PNG.

Written by hand (no safetensors, PIL or json5 packages on these machines).
"""
import argparse
import json
import os
import struct
import sys
import zlib

import numpy as np
import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "train"))
import safetensors_io  # noqa: E402  (tools/train: the one safetensors file writer)


def to_bf16(t):
    """Round f32 to the nearest bf16 (ties to even, as torch does) and back to f32."""
    return t.detach().to(torch.float32).to(torch.bfloat16).to(torch.float32)


def save_bf16_safetensors(path, tensors, metadata=None):
    """safetensors: 8-byte header length, JSON header, then little-endian tensor bytes, each 8-aligned."""
    header, blobs, offset = {}, [], 0
    for name in sorted(tensors):
        t = tensors[name].detach().contiguous().to(torch.bfloat16)
        data = t.view(torch.int16).numpy().astype("<i2").tobytes()
        header[name] = {"dtype": "BF16", "shape": list(t.shape), "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    header["__metadata__"] = metadata or {"format": "pt"}
    safetensors_io.write_file(path, header, blobs)


def load_bf16_safetensors(path):
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        body = f.read()
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        b, e = info["data_offsets"]
        raw = np.frombuffer(body[b:e], dtype="<i2").astype(np.int32) << 16
        out[name] = torch.from_numpy(raw.view(np.float32).reshape(info["shape"]).copy())
    return out


def write_json(path, obj):
    with open(path, "w") as f:
        json.dump(obj, f, indent=2, ensure_ascii=False)
        f.write("\n")


def write_png(path, rgb):
    """(H, W, 3) uint8 -> an 8-bit RGB PNG, no filtering."""
    h, w, _ = rgb.shape
    raw = b"".join(b"\x00" + rgb[y].tobytes() for y in range(h))

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n")
        f.write(chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)))
        f.write(chunk(b"IDAT", zlib.compress(raw, 9)))
        f.write(chunk(b"IEND", b""))


def file_sizes(folder):
    sizes = {}
    for root, _, files in os.walk(folder):
        for name in files:
            p = os.path.join(root, name)
            sizes[os.path.relpath(p, folder)] = os.path.getsize(p)
    return dict(sorted(sizes.items()))


def begin(description, default_out, seed):
    """A generator's start: --out parsed, torch seeded and single-threaded (so the bytes repeat), the folder made."""
    ap = argparse.ArgumentParser(description=description)
    ap.add_argument("--out", default=default_out)
    args = ap.parse_args()
    torch.manual_seed(seed)
    torch.set_num_threads(1)
    os.makedirs(args.out, exist_ok=True)
    return args
