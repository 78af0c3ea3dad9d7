#!/usr/bin/env bash
# A stand-in for a GPU renderer, for `reelbase worker --exec scripts/effect-example.sh`.
# Gets JOB_ID, EFFECT_ID and VIDEO_URL; prints progress, then the output URL as its last line.
# Fails (exit 1, message on stderr) for effect ids starting with "broken", to show refunds.
set -euo pipefail
echo "rendering $EFFECT_ID on $VIDEO_URL (job $JOB_ID)"
if [[ "$EFFECT_ID" == broken* ]]; then
  echo "renderer crashed: out of GPU memory" >&2
  exit 1
fi
sleep 1
echo "https://cdn.example.com/renders/$JOB_ID.mp4"
