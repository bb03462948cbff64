#!/bin/bash
# gpu-run.sh — one call on a lent GPU machine (see gpu-bundle.sh):
#   OUT=$OUT bash .gpu/run.sh
# runs the cuda suite (test-cuda-device, test-cuda-ops), then trains from
# the shipped nano-t2v until BUDGET seconds (565) after it began:
#   MODE=split (the default): the TAE decoder alone (train_tae_gpu.py,
#     encoder frozen) and the text encoder + DiT (train_t2v_gpu.py) side by
#     side, the latent space kept. Into $OUT: cuda.txt, log.txt, log-tae.txt,
#     ema-*.safetensors (3), tae-dec-*.safetensors (2).
#   MODE=joint: one train_t2v_gpu.py run that trains the TAE,
#     encoder and decoder together (from the tae.* weights of TAE_INIT, by
#     default .gpu/tae-init.safetensors where gpu-bundle.sh put one),
#     until TAE_UNTIL seconds (220) after the start while the clips render,
#     then the text encoder + DiT on the new latents, in bf16 autocast.
#     Into $OUT: cuda.txt, log.txt, tae-*.safetensors, ema-*.safetensors (3).
#     On an H200 (2026-11-27) its TAE beat the shipped one on every round-trip
#     grade, but the DiT's 225 s on the new latents gave a far worse
#     generator than the shipped one (resources/models/nano-t2v.md, run 12):
#     a new latent space needs more DiT time than one loan leaves, hence
#     split by default.
# Both modes draw the DiT's samples as the shipped CPU recipe does
# (resources/train/nano-t2v-continue11-plain.json): 15 % from clips with a
# bouncing shape, 20 % from clips with a diagonal one (MIX).
# At most 8 files come back. PY, TAE_X and DIT_X (extra trainer options) let
# it run small on a CPU machine.
START=$(date +%s)
cd "$(dirname "$0")/.."
G=$PWD/.gpu
OUT=${OUT:-/tmp/out}
mkdir -p $OUT
rm -f /tmp/dit.out /tmp/tae.out
C=$OUT/cuda.txt
{
  nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv
  nproc; free -g | head -2; ${PY:-python3} -c "import torch; print('torch', torch.__version__, torch.cuda.is_available())"
} > $C 2>&1
python3 -c "import lzma,shutil; shutil.copyfileobj(lzma.open('$G/lib/libopenblas.so.0.xz'), open('$G/lib/libopenblas.so.0','wb'))" >> $C 2>&1
CUBLAS=$(find / -xdev -name 'libcublas.so.13' 2>/dev/null | head -1)
CUDART=$(find / -xdev -name 'libcudart.so.13' 2>/dev/null | head -1)
echo "cublas: $CUBLAS cudart: $CUDART" >> $C
LIBS=$G/lib:$(dirname "${CUBLAS:-/x/x}"):$(dirname "${CUDART:-/x/x}"):/usr/local/cuda/lib64
# the dump needs GLib and OpenBLAS from the bundle; keep them away from python
cat > $G/dump.sh <<EOS
#!/bin/sh
LD_LIBRARY_PATH=$G/lib exec $G/shapes-dump "\$@"
EOS
chmod +x $G/dump.sh
for t in test-cuda-device test-cuda-ops; do
  echo "== $t" >> $C
  LD_LIBRARY_PATH=$LIBS RG_NUM_THREADS=4 timeout 90 $G/$t --verbose >> $C 2>&1
  echo "== $t rc $?" >> $C
done
NOW=$(date +%s)
DL=$(( ${BUDGET:-565} - (NOW - START) ))
echo "training deadline ${DL}s" >> $C
export PYTHONUNBUFFERED=1
M=resources/models/nano-t2v.safetensors
MIX="--bounce-clips 0.15 --diagonal-clips 0.2"
[ -z "${TAE_INIT:-}" ] && [ -f $G/tae-init.safetensors ] && TAE_INIT=$G/tae-init.safetensors
if [ "${MODE:-split}" = joint ]; then
  # bf16 autocast unless its preflight step fails here (seconds, not the run)
  AMP=--amp
  ${PY:-python3} tests/reference/train_t2v_gpu.py --init $M --dump $G/dump.sh --out $OUT/preflight \
    --amp --tae-until 1 --preflight-only >> $C 2>&1 || AMP=
  echo "autocast: ${AMP:-off}; TAE from ${TAE_INIT:-the shipped model}" >> $C
  rm -rf $OUT/preflight
  ${PY:-python3} tests/reference/train_t2v_gpu.py --init $M --dump $G/dump.sh --out $OUT \
    --scratch /tmp/rg-dit --clips 100000 --val 1024 --procs 12 --enc-batch 256 --data-seconds 180 \
    --batch 512 --lr 3e-4 --min-lr 1e-5 --warmup 200 --eval-every 1000 --deadline $DL $AMP $MIX \
    --tae-until $(( ${TAE_UNTIL:-220} - (NOW - START) )) ${TAE_INIT:+--tae-init $TAE_INIT} \
    --tae-batch 16 --tae-lr 2e-4 --tae-min-lr 1e-5 $TAE_X $DIT_X > /tmp/dit.out 2>&1 &
  DIT=$!
  TAE=
else
  ${PY:-python3} tests/reference/train_tae_gpu.py --init $M --dump $G/dump.sh --out $OUT \
    --scratch /tmp/rg-tae --clips 16384 --val 256 --procs 4 --data-seconds 90 --batch 16 --lr 2e-4 \
    --deadline $DL $TAE_X > /tmp/tae.out 2>&1 &
  TAE=$!
  ${PY:-python3} tests/reference/train_t2v_gpu.py --init $M --dump $G/dump.sh --out $OUT \
    --scratch /tmp/rg-dit --clips 100000 --val 1024 --procs 14 --enc-batch 256 --data-seconds 150 \
    --batch 512 --lr 3e-4 --min-lr 1e-5 --warmup 200 --eval-every 1000 --deadline $DL $MIX $DIT_X > /tmp/dit.out 2>&1 &
  DIT=$!
fi
# an early failure ends the call at once, leaving device time for a rerun
declare -A RC
PROCS="$DIT $TAE"
while [ ${#RC[@]} -lt $(echo $PROCS | wc -w) ]; do
  sleep 3
  for p in $PROCS; do
    [ -n "${RC[$p]}" ] && continue
    kill -0 $p 2>/dev/null && continue
    wait $p; RC[$p]=$?
    echo "process $p ended rc ${RC[$p]} at $(( $(date +%s) - START ))s" >> $C
    if [ ${RC[$p]} -ne 0 ] && [ $(( $(date +%s) - START )) -lt 200 ]; then
      kill $PROCS 2>/dev/null; pkill -f shapes-dump
      tail -c 3000 /tmp/dit.out >> $C; tail -c 3000 /tmp/tae.out >> $C 2>/dev/null; cat $C; exit 1
    fi
  done
done
echo "dit $DIT, tae $TAE" >> $C
tail -c 3000 /tmp/dit.out >> $C; tail -c 3000 /tmp/tae.out >> $C 2>/dev/null
tail -n 40 $OUT/log.txt
tail -n 12 $OUT/log-tae.txt 2>/dev/null
cat $C | head -60
