#!/usr/bin/env bash
# Decoded-frame and audio hashes of the shipped lectures rendered by one source tree.
#
#   bench/frame_hashes.sh TREE NAME     e.g. bench/frame_hashes.sh "$PWD" after
#
# Renders forward-diffusion and diffusion-overview at tiny and preview with TREE's code
# (PYTHONPATH=TREE, so the render child is TREE's too), then writes per lecture and
# quality: ffmpeg framemd5 of the video stream and md5 of the decoded audio, into
# bench/results/hashes/NAME/. Compare two trees with `diff -r`.
set -u
tree=$(cd "$1" && pwd); name=$2
py=${PY:-$(cd "$(dirname "$0")/.." && pwd)/.venv/bin/python}
res=$(cd "$(dirname "$0")" && pwd)/results/hashes/$name
out=$(mktemp -d)
mkdir -p "$res"
cd "$tree"
for q in tiny preview; do
  for lec in forward-diffusion diffusion-overview; do
    PYTHONPATH=$tree "$py" render.py --lecture $lec --quality $q --out "$out/$q" \
      > "$out/$lec-$q.log" 2>&1 || { echo "render failed: $out/$lec-$q.log" >&2; exit 1; }
    f=$out/$q/$lec/lecture.mp4
    ffmpeg -v error -i "$f" -map 0:v -f framemd5 - > "$res/$lec-$q.video.framemd5"
    ffmpeg -v error -i "$f" -map 0:a -f md5 - > "$res/$lec-$q.audio.md5"
  done
done
rm -rf "$out"
echo "hashes in $res"
