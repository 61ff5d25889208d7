"""Read and write safetensors files without the safetensors package.

The format is an 8-byte little-endian header length, a JSON header that maps each tensor
name to its dtype, shape and [begin, end) byte offsets in the data section, then the raw
little-endian tensor data. Debian bookworm ships no python3-safetensors, hence this module.
"""

import json
import struct

import numpy as np
import torch

_NUMPY_DTYPES = {"F32": np.float32, "F16": np.float16, "I64": np.int64, "I32": np.int32}


def read_safetensors(path):
    """Load every tensor of a safetensors file as a float32 (or integer) torch tensor."""
    with open(path, "rb") as file:
        header_length = struct.unpack("<Q", file.read(8))[0]
        header = json.loads(file.read(header_length))
        data = file.read()

    tensors = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        begin, end = info["data_offsets"]
        raw = data[begin:end]
        dtype = info["dtype"]
        if dtype == "BF16":
            # A bfloat16 value is the upper half of the float32 with the same bits.
            halves = np.frombuffer(raw, dtype="<u2").astype(np.uint32) << 16
            array = halves.view(np.float32)
        elif dtype in _NUMPY_DTYPES:
            array = np.frombuffer(raw, dtype=np.dtype(_NUMPY_DTYPES[dtype]).newbyteorder("<"))
        else:
            raise ValueError(f"unsupported dtype {dtype} for tensor {name} in {path}; "
                             f"expected BF16 or one of {sorted(_NUMPY_DTYPES)}")
        tensors[name] = torch.from_numpy(array.copy()).reshape(info["shape"])
    return tensors


def _tensor_bytes(tensor, dtype):
    tensor = tensor.detach().contiguous().cpu()
    if dtype == "BF16":
        # torch rounds float32 to bfloat16 to nearest, ties to even.
        return tensor.to(torch.bfloat16).view(torch.int16).numpy().astype("<i2").tobytes()
    if dtype == "F32":
        return tensor.to(torch.float32).numpy().astype("<f4").tobytes()
    raise ValueError(f"unsupported output dtype {dtype}; use BF16 or F32")


def write_safetensors(path, tensors, dtypes, metadata=None):
    """Write tensors (name -> torch tensor) with a per-name dtype (name -> "BF16" or "F32").

    Names are written in sorted order, as the safetensors package does.
    """
    header = {}
    chunks = []
    offset = 0
    for name in sorted(tensors):
        payload = _tensor_bytes(tensors[name], dtypes[name])
        header[name] = {"dtype": dtypes[name], "shape": list(tensors[name].shape),
                        "data_offsets": [offset, offset + len(payload)]}
        chunks.append(payload)
        offset += len(payload)
    header["__metadata__"] = dict(metadata or {"format": "pt"})

    header_bytes = json.dumps(header, separators=(",", ":")).encode("utf-8")
    # Pad the header with spaces so that the data section starts 8-byte aligned.
    header_bytes += b" " * (-len(header_bytes) % 8)
    with open(path, "wb") as file:
        file.write(struct.pack("<Q", len(header_bytes)))
        file.write(header_bytes)
        for chunk in chunks:
            file.write(chunk)
