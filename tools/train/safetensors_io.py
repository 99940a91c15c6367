"""The safetensors file format, written and read by hand (no Python package for it here).

Layout: 8-byte little-endian header length N, N bytes of JSON
({name: {"dtype", "shape", "data_offsets": [begin, end]}, "__metadata__": {...}}),
then the raw little-endian tensor bytes, offsets relative to the end of the header.
"""
import json
import struct

import numpy as np
import torch

_DTYPES = {torch.float16: ("F16", np.float16), torch.float32: ("F32", np.float32)}
_BACK = {"F16": np.float16, "F32": np.float32}


def save(path, tensors, metadata=None):
    header, blobs, offset = {}, [], 0
    for name in sorted(tensors):
        t = tensors[name].detach().contiguous()
        code, np_type = _DTYPES[t.dtype]
        data = t.numpy().astype(np_type, copy=False).astype(np_type().dtype.newbyteorder("<")).tobytes()
        header[name] = {"dtype": code, "shape": list(t.shape), "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    if metadata:
        header["__metadata__"] = metadata
    write_file(path, header, blobs)


def write_file(path, header, blobs):
    """The file itself: 8-byte header length, the JSON header padded with spaces, then the tensor bytes."""
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)   # keeps every tensor 8-byte aligned for typed-array views
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for b in blobs:
            f.write(b)


def load(path):
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        body = f.read()
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        b, e = info["data_offsets"]
        arr = np.frombuffer(body[b:e], dtype=_BACK[info["dtype"]]).reshape(info["shape"])
        out[name] = torch.from_numpy(arr.astype(np.float32))
    return out
