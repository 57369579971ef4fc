#!/usr/bin/env python3
"""Moves RoleMapper model weights to and from the lent GPU machine within its
transfer limits (what travels: 64 MiB in all; what comes back: at most 8 files,
16 MiB each, 64 MiB together). Standard library only (runs here and there).

  vocab-ids --tokenizer TOKENIZER_JSON --out FILE DATA_JSONL...
      Here (needs the `tokenizers` Python package). The sub-word ids the
      trainer can look up for these sentences (their `words`, encoded as
      WordPieces::encode does: pre-tokenized, no special tokens), plus each
      word alone, plus [PAD] [UNK] [CLS] [SEP] [MASK].
  init-f16 SRC_DIR OUT_FILE [--keep-ids FILE] [--full-out F16_SAFETENSORS]
      Here. Converts SRC_DIR/model.safetensors (F32) to F16 (round to nearest
      even), then writes it byte-plane-shuffled and xz-compressed to OUT_FILE
      (a ".sfz" file: magic, sha256, xz of a safetensors file, shuffled per
      tensor). With --keep-ids only those rows of the word-embedding table
      travel; unpack puts zeros in the others (rows no training or dev
      sentence looks up, so training is unchanged; merge restores them from
      the full table). --full-out also writes the full F16 safetensors.
  unpack SFZ_FILE OUT_SAFETENSORS
      There (or here). Inverse of init-f16: writes the plain F16 safetensors
      (full shapes), which `rolemapper train --init` loads (candle converts it
      to F32).
  pack --best DIR --init F16_SAFETENSORS --out DIR [--part-mib 15.75]
      There, after training. Splits DIR/model.safetensors (F32) into
      zlib-compressed, byte-plane-shuffled parts model.partNN plus
      model.manifest.json:
        - a tensor equal bit for bit to the F16 init converted to F32 (the
          frozen word embeddings) is not sent ("init");
        - embeddings.word_embeddings.weight, when it was trained, is sent as
          F16(trained - init), the difference to the F16 init ("delta16"): all
          F32 does not fit the return limit. Reassembled as init + delta in
          F32; the manifest records the largest absolute error;
        - every other tensor is sent as exact F32 ("f32").
  merge --manifest FILE --init F16_SAFETENSORS [--full-init F16_SAFETENSORS] --out DIR
      Here. Reassembles DIR/model.safetensors with the original header and
      tensor order, checking every tensor's SHA-256 against the manifest
      (--init: the F16 file exactly as the device unpacked it). With
      --full-init, word-embedding rows that were zero on the device (left
      out by --keep-ids) are taken from the full table (+ their delta).
"""
import argparse
import hashlib
import json
import lzma
import os
import struct
import sys
import zlib

MAGIC = b"RMSFZ1\n"
WIDTH = {"F32": 4, "F16": 2, "BF16": 2, "F64": 8, "I64": 8, "U32": 4, "I32": 4, "U8": 1}
WORDS = "embeddings.word_embeddings.weight"
ROWS, IDS = "__rows__.", "__ids__."
VOCAB = 30522


def read_st(path):
    """(header bytes, header dict without __metadata__, metadata, data bytes)."""
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        hb = f.read(n)
        data = f.read()
    h = json.loads(hb)
    meta = h.pop("__metadata__", None)
    return hb, h, meta, data


def tensor_bytes(h, data, name):
    s, e = h[name]["data_offsets"]
    return data[s:e]


def write_st(path, tensors, meta=None):
    """tensors: list of (name, dtype, shape, bytes) in file order."""
    h = {}
    if meta:
        h["__metadata__"] = meta
    off = 0
    for name, dt, shape, b in tensors:
        h[name] = {"dtype": dt, "shape": shape, "data_offsets": [off, off + len(b)]}
        off += len(b)
    hb = json.dumps(h, separators=(",", ":")).encode()
    hb += b" " * (-len(hb) % 8)
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(struct.pack("<Q", len(hb)))
        f.write(hb)
        for t in tensors:
            f.write(t[3])
    os.replace(tmp, path)


def shuffle(b, w):
    return b if w == 1 else b"".join(b[i::w] for i in range(w))


def unshuffle(b, w):
    if w == 1:
        return bytes(b)
    n = len(b) // w
    out = bytearray(len(b))
    for i in range(w):
        out[i::w] = b[i * n:(i + 1) * n]
    return bytes(out)


def f32_to_f16(b):
    n = len(b) // 4
    return struct.pack("<%de" % n, *struct.unpack("<%df" % n, b))


def f16_to_f32(b):
    n = len(b) // 2
    return struct.pack("<%df" % n, *struct.unpack("<%de" % n, b))


def in_file_order(h):
    return sorted(h, key=lambda k: h[k]["data_offsets"][0])


# ---------------------------------------------------------------------------
def cmd_init_f16(a):
    _, h, meta, data = read_st(os.path.join(a.src, "model.safetensors"))
    tensors = []
    for name in in_file_order(h):
        t = h[name]
        b = tensor_bytes(h, data, name)
        if t["dtype"] == "F32":
            vals = struct.unpack("<%df" % (len(b) // 4), b)
            m = max(map(abs, vals)) if vals else 0.0
            if m >= 65504:
                sys.exit(f"{name}: |x| up to {m} does not fit F16")
            b = struct.pack("<%de" % len(vals), *vals)
            tensors.append((name, "F16", t["shape"], b))
        else:
            tensors.append((name, t["dtype"], t["shape"], b))
    if a.full_out:
        write_st(a.full_out, tensors, meta)
    if a.keep_ids:
        ids = sorted(set(json.load(open(a.keep_ids))))
        i = [k for k, t in enumerate(tensors) if t[0] == WORDS][0]
        name, dt, shape, b = tensors[i]
        row = shape[1] * WIDTH[dt]
        rows = b"".join(b[j * row:(j + 1) * row] for j in ids)
        tensors[i:i + 1] = [
            (ROWS + name, dt, [len(ids), shape[1]], rows),
            (IDS + name, "U32", [len(ids)], struct.pack("<%dI" % len(ids), *ids)),
        ]
        print(f"{name}: {len(ids)} of {shape[0]} rows travel")
    raw = a.out + ".st.tmp"
    write_st(raw, tensors, meta)
    hb, h2, _, data2 = read_st(raw)
    os.remove(raw)
    body = b"".join(shuffle(tensor_bytes(h2, data2, k), WIDTH[h2[k]["dtype"]]) for k in in_file_order(h2))
    payload = struct.pack("<Q", len(hb)) + hb + body
    comp = lzma.compress(payload, preset=9 | lzma.PRESET_EXTREME)
    with open(a.out, "wb") as f:
        f.write(MAGIC + hashlib.sha256(payload).hexdigest().encode() + b"\n" + comp)
    print(f"{a.out}: {len(tensors)} tensors, F16 {len(payload)} bytes, compressed {len(comp) + 72} bytes")


def cmd_unpack(a):
    with open(a.sfz, "rb") as f:
        blob = f.read()
    if not blob.startswith(MAGIC):
        sys.exit(f"{a.sfz}: not a {MAGIC!r} file")
    digest = blob[len(MAGIC):len(MAGIC) + 64].decode()
    payload = lzma.decompress(blob[len(MAGIC) + 65:])
    if hashlib.sha256(payload).hexdigest() != digest:
        sys.exit(f"{a.sfz}: checksum mismatch")
    n = struct.unpack("<Q", payload[:8])[0]
    hb = payload[8:8 + n]
    h = json.loads(hb)
    h.pop("__metadata__", None)
    meta = json.loads(hb).get("__metadata__")
    body = payload[8 + n:]
    tensors, pos = [], 0
    for k in in_file_order(h):
        s, e = h[k]["data_offsets"]
        tensors.append([k, h[k]["dtype"], h[k]["shape"], unshuffle(body[pos:pos + e - s], WIDTH[h[k]["dtype"]])])
        pos += e - s
    byname = {t[0]: t for t in tensors}
    for t in list(tensors):
        if t[0].startswith(ROWS):
            name = t[0][len(ROWS):]
            ids_t = byname[IDS + name]
            ids = struct.unpack("<%dI" % ids_t[2][0], ids_t[3])
            row = t[2][1] * WIDTH[t[1]]
            full = bytearray(VOCAB * row)
            for r, j in enumerate(ids):
                full[j * row:(j + 1) * row] = t[3][r * row:(r + 1) * row]
            tensors[tensors.index(t)] = [name, t[1], [VOCAB, t[2][1]], bytes(full)]
            tensors.remove(ids_t)
            print(f"{name}: {len(ids)} of {VOCAB} rows given, the others zero")
    write_st(a.out, tensors, meta)
    print(f"{a.out}: {len(tensors)} tensors, {os.path.getsize(a.out)} bytes")


# ---------------------------------------------------------------------------
def cmd_pack(a):
    best = os.path.join(a.best, "model.safetensors")
    hb, h, _, data = read_st(best)
    _, ih, _, idata = read_st(a.init)
    os.makedirs(a.out, exist_ok=True)
    entries, stream = [], []
    pos = 0
    for name in in_file_order(h):
        t = h[name]
        b = tensor_bytes(h, data, name)
        e = {"name": name, "dtype": t["dtype"], "shape": t["shape"], "nbytes": len(b),
             "sha256": hashlib.sha256(b).hexdigest()}
        init32 = None
        if t["dtype"] == "F32" and name in ih and ih[name]["dtype"] == "F16" and ih[name]["shape"] == t["shape"]:
            init32 = f16_to_f32(tensor_bytes(ih, idata, name))
        if init32 is not None and init32 == b:
            e["enc"] = "init"
            payload, w = b"", 1
        elif init32 is not None and name == WORDS:
            n = len(b) // 4
            tr = struct.unpack("<%df" % n, b)
            ini = struct.unpack("<%df" % n, init32)
            d16 = struct.pack("<%de" % n, *[x - y for x, y in zip(tr, ini)])
            d = struct.unpack("<%de" % n, d16)
            rec = struct.pack("<%df" % n, *[y + z for y, z in zip(ini, d)])
            rv = struct.unpack("<%df" % n, rec)
            e["enc"] = "delta16"
            e["sha256"] = hashlib.sha256(rec).hexdigest()  # of what merge rebuilds
            e["sha256_trained"] = hashlib.sha256(b).hexdigest()
            e["max_abs_err"] = max(abs(x - y) for x, y in zip(tr, rv))
            e["max_abs_delta"] = max(map(abs, d))
            payload, w = d16, 2
        else:
            e["enc"] = "f32" if t["dtype"] == "F32" else "raw"
            payload, w = b, WIDTH[t["dtype"]]
        e["offset"], e["len"], e["width"] = pos, len(payload), w
        if payload:
            stream.append(shuffle(payload, w))
            pos += len(payload)
        entries.append(e)
    stream = b"".join(stream)
    part = int(a.part_mib * (1 << 20))
    parts = []
    for i in range(0, max(len(stream), 1), part):
        raw = stream[i:i + part]
        if not raw:
            break
        comp = zlib.compress(raw, 6)
        fn = "model.part%02d" % len(parts)
        with open(os.path.join(a.out, fn), "wb") as f:
            f.write(comp)
        parts.append({"file": fn, "raw_len": len(raw), "len": len(comp),
                      "sha256": hashlib.sha256(comp).hexdigest()})
    manifest = {
        "format": "rolemapper-gpu-pack-1",
        "header": hb.decode(),
        "file_sha256": hashlib.sha256(open(best, "rb").read()).hexdigest(),
        "tensors": entries,
        "parts": parts,
    }
    with open(os.path.join(a.out, "model.manifest.json"), "w") as f:
        json.dump(manifest, f, indent=1)
    encs = {}
    for e in entries:
        encs[e["enc"]] = encs.get(e["enc"], 0) + 1
    total = sum(p["len"] for p in parts)
    print(f"packed {best}: {len(entries)} tensors {encs}, {len(parts)} parts, "
          f"{total / 2**20:.1f} MiB compressed")
    for e in entries:
        if e["enc"] == "delta16":
            print(f"  {e['name']}: F16 delta, max |delta| {e['max_abs_delta']:.3g}, "
                  f"max abs reconstruction error {e['max_abs_err']:.3g}")


def fill_rows(b, dev16, full16, dim, from_init):
    """Rows that were all zero in the device's init take the full table's
    value (plus the delta the device applied to them, when trained)."""
    out = bytearray(b)
    row16, row32 = dim * 2, dim * 4
    zero = bytes(row16)
    n = 0
    for j in range(len(dev16) // row16):
        if dev16[j * row16:(j + 1) * row16] == zero:
            f = struct.unpack("<%de" % dim, full16[j * row16:(j + 1) * row16])
            if from_init:
                v = f
            else:
                d = struct.unpack("<%df" % dim, b[j * row32:(j + 1) * row32])
                v = [x + y for x, y in zip(f, d)]
            out[j * row32:(j + 1) * row32] = struct.pack("<%df" % dim, *v)
            n += 1
    print(f"{WORDS}: {n} rows absent on the device taken from the full table")
    return bytes(out)


def cmd_vocab_ids(a):
    from tokenizers import Tokenizer  # here only: pip install --target .cache/cuda/py tokenizers numpy

    tk = Tokenizer.from_file(a.tokenizer)
    tk.no_truncation()
    tk.no_padding()
    ids = {tk.token_to_id(t) for t in ("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]")}
    words = set()
    for path in a.data:
        recs = [json.loads(line) for line in open(path, encoding="utf-8") if line.strip()]
        sents = [r["words"] for r in recs if r["words"]]
        for w in sents:
            words.update(w)
        for e in tk.encode_batch(sents, is_pretokenized=True, add_special_tokens=False):
            ids.update(e.ids)
    for e in tk.encode_batch([[w] for w in sorted(words)], is_pretokenized=True, add_special_tokens=False):
        ids.update(e.ids)
    ids.discard(None)
    json.dump(sorted(ids), open(a.out, "w"))
    print(f"{a.out}: {len(ids)} of {tk.get_vocab_size(True)} ids")


def cmd_merge(a):
    man = json.load(open(a.manifest))
    src = os.path.dirname(os.path.abspath(a.manifest))
    stream = bytearray()
    for p in man["parts"]:
        comp = open(os.path.join(src, p["file"]), "rb").read()
        if hashlib.sha256(comp).hexdigest() != p["sha256"]:
            sys.exit(f"{p['file']}: checksum mismatch")
        raw = zlib.decompress(comp)
        if len(raw) != p["raw_len"]:
            sys.exit(f"{p['file']}: length mismatch")
        stream += raw
    _, ih, _, idata = read_st(a.init)
    full = read_st(a.full_init) if a.full_init else None
    hb = man["header"].encode()
    h = json.loads(hb)
    h.pop("__metadata__", None)
    out = []
    exact = True
    for e in man["tensors"]:
        name = e["name"]
        payload = unshuffle(bytes(stream[e["offset"]:e["offset"] + e["len"]]), e["width"])
        if e["enc"] in ("f32", "raw"):
            b = payload
        elif e["enc"] == "init":
            b = f16_to_f32(tensor_bytes(ih, idata, name))
        elif e["enc"] == "delta16":
            exact = False
            ini = struct.unpack("<%df" % (e["nbytes"] // 4), f16_to_f32(tensor_bytes(ih, idata, name)))
            d = struct.unpack("<%de" % (e["nbytes"] // 4), payload)
            b = struct.pack("<%df" % len(ini), *[y + z for y, z in zip(ini, d)])
        else:
            sys.exit(f"{name}: unknown encoding {e['enc']}")
        if len(b) != e["nbytes"] or hashlib.sha256(b).hexdigest() != e["sha256"]:
            sys.exit(f"{name}: checksum mismatch after reassembly ({e['enc']})")
        if full and name == WORDS and e["enc"] in ("init", "delta16"):
            b = fill_rows(b, tensor_bytes(ih, idata, name), tensor_bytes(full[1], full[3], name),
                          e["shape"][1], e["enc"] == "init")
            exact = False
        s, t = h[name]["data_offsets"]
        if t - s != len(b):
            sys.exit(f"{name}: header says {t - s} bytes, got {len(b)}")
        out.append((s, b))
    out.sort()
    os.makedirs(a.out, exist_ok=True)
    path = os.path.join(a.out, "model.safetensors")
    with open(path + ".tmp", "wb") as f:
        f.write(struct.pack("<Q", len(hb)))
        f.write(hb)
        for _, b in out:
            f.write(b)
    os.replace(path + ".tmp", path)
    whole = hashlib.sha256(open(path, "rb").read()).hexdigest()
    if exact and whole != man["file_sha256"]:
        sys.exit(f"{path}: file checksum differs from the trained file")
    encs = {e["enc"] for e in man["tensors"]}
    if whole == man["file_sha256"]:
        how = "bit-identical to the trained file"
    else:
        how = "identical to the trained file except " + ", ".join(
            ["word-embedding rows absent on the device (from the full F16 table)"] * bool(full)
            + ["the word embeddings, rebuilt from the F16 delta (error in the manifest)"] * ("delta16" in encs))
    print(f"{path}: {len(out)} tensors, {how}")


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("vocab-ids")
    s.add_argument("--tokenizer", required=True)
    s.add_argument("--out", required=True)
    s.add_argument("data", nargs="+")
    s.set_defaults(f=cmd_vocab_ids)
    s = sub.add_parser("init-f16")
    s.add_argument("src")
    s.add_argument("out")
    s.add_argument("--keep-ids")
    s.add_argument("--full-out")
    s.set_defaults(f=cmd_init_f16)
    s = sub.add_parser("unpack")
    s.add_argument("sfz")
    s.add_argument("out")
    s.set_defaults(f=cmd_unpack)
    s = sub.add_parser("pack")
    s.add_argument("--best", required=True)
    s.add_argument("--init", required=True, help="the F16 model.safetensors training started from")
    s.add_argument("--out", required=True)
    s.add_argument("--part-mib", type=float, default=15.75)
    s.set_defaults(f=cmd_pack)
    s = sub.add_parser("merge")
    s.add_argument("--manifest", required=True)
    s.add_argument("--init", required=True, help="the F16 model.safetensors training started from")
    s.add_argument("--full-init", help="the full F16 table, for rows left out of --init")
    s.add_argument("--out", required=True)
    s.set_defaults(f=cmd_merge)
    a = p.parse_args()
    a.f(a)


if __name__ == "__main__":
    main()
