#!/usr/bin/env bash
# Robustness probe for the seq2seq command-line tool: a table of bad inputs, then a seeded fuzz loop.
#
#   bash scripts/probe.sh [N]        N fuzz iterations (default 2000)
#
# Environment: SEQ2SEQ (the binary; default .build/release/seq2seq), PROBE_TIMEOUT (seconds a run may
# take before it counts as a hang; default 20), PROBE_CORE (the core every run, table and fuzz, is
# pinned to with taskset; default 1), PROBE_VMEM_KB (address-space limit of every run, so a tool that trusts a size read from
# a file fails instead of exhausting the machine; default 4 GiB), PROBE_SAVE (a folder: the inputs of
# every failing fuzz run are copied there, to reproduce them), PROBE_VERBOSE (print every run),
# PROBE_SEED (the fuzz loop's seed; default 1: another seed gives other mutations).
#
# Every run is checked against three rules:
#   1. no trap: the process exits (is not killed by a signal) with a status < 128; 130/143 only when
#      the probe sent SIGINT/SIGTERM, 141 only when the probe closed the reading end of a pipe early;
#      a run that takes longer than PROBE_TIMEOUT is a hang.
#   2. a refusal (non-zero exit) prints exactly one line on stderr, starting with "seq2seq: error: "
#      (before it, "<command>: warning:" lines; for train, also progress lines; for shard --verify,
#      its "shard: FILE: problem" lines), and nothing on
#      stdout when the command writes files.
#   3. nothing half-written: no *.tmp*, *.partial* or *.lock is left in the work folder, and a failed
#      command did not create the --output it was asked to write.
# Table cases also state an expected outcome (refusal, success, either, an exact status, or a quiet
# exit on a closed pipe) and, for some, a pattern the error line must match; a case that does not
# get it is an "unexpected outcome".
#
# Output: one FAIL line per failing case, then the summary line. Exit status 0 only when every count
# (including unexpected outcomes) is 0.

set -u
shopt -s nullglob

N=${1:-2000}
[[ $N =~ ^[0-9]+$ ]] || { echo "usage: bash scripts/probe.sh [FUZZ_ITERATIONS]" >&2; exit 2; }
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BIN=${SEQ2SEQ:-$ROOT/.build/release/seq2seq}
TIMEOUT=${PROBE_TIMEOUT:-20}
CORE=${PROBE_CORE:-1}
VMEM_KB=${PROBE_VMEM_KB:-4194304}
SAVE=${PROBE_SAVE:-}
SEED=${PROBE_SEED:-1}
[[ $SEED =~ ^[0-9]+$ ]] || { echo "PROBE_SEED must be a number" >&2; exit 2; }

for tool in perl taskset gzip zstd awk find; do
  command -v "$tool" >/dev/null || { echo "probe: needs $tool" >&2; exit 2; }
done
[[ -x $BIN ]] || { echo "probe: no binary at $BIN (build it, or set SEQ2SEQ)" >&2; exit 2; }
taskset -c "$CORE" true 2>/dev/null || CORE=0          # a one-core machine has no core 1

W=$(mktemp -d "${TMPDIR:-/tmp}/seq2seq-probe.XXXXXX")  # the work folder: fixtures, runs, scratch
P=$W/.probe                                            # the probe's own files (captured output)
F=$W/fz                                                # fuzz scratch, emptied every iteration
mkdir -p "$P" "$F" "$W/tempdir"
cleanup() { chmod -R u+w "$W" 2>/dev/null; rm -rf "$W"; }
trap cleanup EXIT
trap 'exit 130' INT TERM
# run a snapshot of the binary, so that a rebuild in the tree during the run changes nothing
BIN_INFO="$BIN, built $(date -u -r "$BIN" '+%F %T UTC')"
cp "$BIN" "$P/seq2seq" || exit 2
BIN=$P/seq2seq
cd "$W" || exit 2
export TMPDIR=$W/tempdir                               # temporary files of the tool stay inside $W
ulimit -c 0
ulimit -v "$VMEM_KB" 2>/dev/null

TABLE=0 FUZZ=0 TRAPS=0 HANGS=0 MULTI=0 LEFT=0 UNEXPECTED=0

# ---------------------------------------------------------------------------------------------------
# The runner: runs one command with stdin/stdout/stderr taken from PROBE_IN/PROBE_OUT/PROBE_ERR
# (a path, CLOSED, or unset to inherit), SIGPIPE at its default, and a time limit; writes
# "exit N", "signal N" or "hang" to STATUSFILE and the child's pid to STATUSFILE.pid. Perl, because
# bash reports a death by signal N and an exit with status 128+N alike.
# ---------------------------------------------------------------------------------------------------
RUNNER='
use POSIX ();
my ($sf, $limit) = splice @ARGV, 0, 2;
sub redirect {
  my ($fd, $spec, $flags) = @_;
  return unless defined $spec && length $spec;
  if ($spec eq "CLOSED") { POSIX::close($fd); return }
  my $f = POSIX::open($spec, $flags, 0644);
  defined $f or die "probe runner: $spec: $!\n";
  if ($f != $fd) { POSIX::dup2($f, $fd); POSIX::close($f) }
}
my $pid = fork // die "probe runner: fork: $!\n";
if (!$pid) {
  $SIG{$_} = "DEFAULT" for qw(PIPE INT TERM XFSZ);
  redirect(0, $ENV{PROBE_IN}, POSIX::O_RDONLY);
  redirect(2, $ENV{PROBE_ERR}, POSIX::O_WRONLY | POSIX::O_CREAT | POSIX::O_TRUNC);
  redirect(1, $ENV{PROBE_OUT}, POSIX::O_WRONLY | POSIX::O_CREAT | POSIX::O_TRUNC);
  exec { $ARGV[0] } @ARGV or POSIX::_exit(127);
}
if (open my $p, ">", "$sf.pid") { print $p $pid; close $p }
my $hung = 0;
$SIG{ALRM} = sub { $hung = 1; kill "KILL", $pid };
alarm $limit;
waitpid $pid, 0;
my $st = $?;
alarm 0;
open my $o, ">", $sf or die;
print $o ($hung ? "hang" : ($st & 127) ? "signal " . ($st & 127) : "exit " . ($st >> 8)), "\n";
close $o;
'

# The mutator: perl -e "$MUTATOR" OP FILE ARGS... edits FILE in place (the random choices are made
# by bash, seeded by RANDOM=$PROBE_SEED, and passed as ARGS).
#   flip OFF:XOR...   xor bytes          trunc OFF          cut the file at OFF
#   dup FROM LEN AT   copy a range to AT insert AT HEX      insert bytes
#   insnum AT TEXT    insert a number    repnum K TEXT      replace the K-th digit run (in a
#                                        .safetensors file: in its JSON header, whose length is
#                                        then rewritten, so the header still parses as far as it can)
MUTATOR='
my ($op, $f, @a) = @ARGV;
open my $h, "<:raw", $f or die "$f: $!"; local $/; my $d = <$h> // ""; close $h;
my $n = length $d;
if ($op eq "flip") {
  for (@a) { my ($o, $x) = split /:/; last unless $n; $o %= $n;
             substr($d, $o, 1) = chr(ord(substr($d, $o, 1)) ^ ($x || 1)) }
} elsif ($op eq "trunc") { $d = substr($d, 0, $a[0] % ($n + 1)) }
elsif ($op eq "dup") {
  my ($from, $len, $at) = @a;
  if ($n) { $from %= $n; $len = 1 + $len % ($n - $from); substr($d, $at % ($n + 1), 0) = substr($d, $from, $len) }
} elsif ($op eq "insert") { substr($d, $a[0] % ($n + 1), 0) = pack("H*", $a[1]) }
elsif ($op eq "insnum") { substr($d, $a[0] % ($n + 1), 0) = $a[1] }
elsif ($op eq "repnum") {
  my ($k, $s) = @a;
  my ($start, $end, $st) = (0, $n, 0);
  if ($f =~ /\.safetensors$/ && $n >= 8) {
    $st = 1; $start = 8; $end = 8 + unpack("Q<", substr($d, 0, 8)); $end = $n if $end > $n;
  }
  my $region = substr($d, $start, $end - $start);
  my @runs; while ($region =~ /\d+/g) { push @runs, [$-[0], $+[0] - $-[0]] }
  if (@runs) {
    my ($p, $l) = @{$runs[$k % @runs]};
    substr($region, $p, $l) = $s;
    $d = $st ? pack("Q<", length $region) . $region . substr($d, $end)
             : substr($d, 0, $start) . $region . substr($d, $end);
  }
}
open $h, ">:raw", $f or die "$f: $!"; print $h $d; close $h;
'

# ---------------------------------------------------------------------------------------------------
# Fixtures: a tiny digit-word corpus, vocabularies, shards, BPE codes, models, and broken copies.
# ---------------------------------------------------------------------------------------------------
die() { echo "probe: setup failed: $*" >&2; exit 2; }
s2s() { "$BIN" "$@" 2>>"$P/setup.log" || die "seq2seq $* (see the messages above)"; }

# gen_corpus N NAME: N random pairs "one two three" / "un deux trois ."
gen_corpus() {
  awk -v n="$1" -v seed="$3" -v en="$2.en" -v fr="$2.fr" 'BEGIN {
    split("zero one two three four five six seven eight nine", E, " ")
    split("zéro un deux trois quatre cinq six sept huit neuf", R, " ")
    srand(seed)
    for (i = 0; i < n; i++) {
      k = 1 + int(rand() * 6); e = ""; f = ""
      for (j = 0; j < k; j++) { d = 1 + int(rand() * 10); e = e (j ? " " : "") E[d]; f = f R[d] " " }
      print e > en; print f "." > fr
    }
  }'
}

setup() {
  gen_corpus 200 train 1
  gen_corpus 20 valid 2
  # a larger random-letter corpus, whose vocabulary, shards and codes exceed `ulimit -f 4`
  awk 'BEGIN { srand(7); for (i = 0; i < 3000; i++) { n = 2 + int(rand() * 6); l = ""
         for (j = 0; j < n; j++) { w = ""; k = 3 + int(rand() * 6)
           for (c = 0; c < k; c++) w = w sprintf("%c", 97 + int(rand() * 26)); l = l (j ? " " : "") w }
         print l } }' > big.en
  cp big.en big.fr
  for i in $(seq 100); do cat valid.en; done > many.en                 # 2000 lines, for | head -1
  : > empty.txt
  head -c 4096 /dev/urandom > garbage.bin
  printf 'one two\nthree\nfour \xff\xfe five\nsix\n' > bad.en            # invalid UTF-8 on line 3
  printf 'un deux .\ntrois .\nquatre \xc3 cinq .\nsix .\n' > bad.fr
  head -4 valid.en > four.en; head -4 valid.fr > four.fr
  sed 's/$/\r/' valid.en > crlf.en; sed 's/$/\r/' valid.fr > crlf.fr
  printf '\xef\xbb\xbf' | cat - valid.en > bom.en
  printf 'one two\nthree\x00four\nfive\n' > nul.en
  head -c -1 valid.en > nonl.en                                          # no final newline
  awk 'BEGIN { s = ""; while (length(s) < 2097152) s = s "one two three four five six seven eight nine zero "
               printf "%s", s }' > long.en                               # a 2 MB line, no newline
  { head -4 valid.fr; cat long.en; echo; tail -n +6 valid.fr; } > long5.fr # a 2 MiB segment on line 5
  gzip -c valid.en > valid.en.gz; zstd -q -c valid.en > valid.en.zst
  gzip -c valid.en > gzbytes.txt                                         # gzip bytes, plain name
  paste train.en train.fr > train.tsv
  mkdir adir victimdir; echo keep > victimdir/file; echo keep > victim.txt; echo file > afile

  s2s vocab --input train.en --output en.vocab
  s2s vocab --input train.fr --output fr.vocab
  s2s shard --source train.en --target train.fr --output shards
  s2s train --shards shards --source-vocab en.vocab --target-vocab fr.vocab --output model \
      --hidden 16 --embedding 8 --layers 1 --batch-size 8 --max-steps 20 --threads 1 \
      --valid-source valid.en --valid-target valid.fr
  # a model with attention, kept checkpoints, a shortlist and an int8 copy (average, int8, alignment)
  s2s train --shards shards --source-vocab en.vocab --target-vocab fr.vocab --output ck \
      --hidden 16 --embedding 8 --layers 1 --batch-size 8 --max-steps 20 --threads 1 \
      --attention dot --save-every 5 --keep-checkpoints 3 --valid-source valid.en --valid-target valid.fr
  s2s shortlist --model ck --shards shards >/dev/null
  s2s quantize --model ck >/dev/null
  s2s bpe learn --input train.en train.fr --output codes.bpe --merges 30
  "$BIN" bpe apply --codes codes.bpe --input train.en > bpe.en 2>>"$P/setup.log" || die "bpe apply"
  s2s bpe vocab --input bpe.en --output bpe.vocab
  "$BIN" tokenize --input train.fr > tok.fr 2>>"$P/setup.log" || die tokenize
  "$BIN" translate --model model --input valid.en > valid.hyp 2>>"$P/setup.log" || die translate
  [[ -s model/best.safetensors && -s ck/checkpoint-20.safetensors ]] || die "no model weights"

  # broken models (each a copy of model/)
  local m
  for m in m_trunc m_cfgflip m_novocab m_emptycfg m_nobest m_garbage m_swapvocab m_cfgbig m_badlog \
           m_lastcut m_tvocabgarbage; do cp -r model "$m"; done
  truncate -s 7000 m_trunc/best.safetensors
  perl -e "$MUTATOR" flip m_cfgflip/config.json 0:32                     # '{' becomes '['
  rm m_novocab/source.vocab
  : > m_emptycfg/config.json
  rm m_nobest/best.safetensors
  cp -r m_nobest scratch-nobest                                           # quantize writes into it
  cp garbage.bin m_garbage/best.safetensors
  cp model/target.vocab m_swapvocab/source.vocab; cp model/source.vocab m_swapvocab/target.vocab
  sed -i 's/"hidden" : 16/"hidden" : 99999999999/' m_cfgbig/config.json
  cp garbage.bin m_badlog/log.jsonl
  truncate -s 9000 m_lastcut/last.safetensors
  cp garbage.bin m_tvocabgarbage/target.vocab
  cp -r ck ck_cut; truncate -s 3000 ck_cut/checkpoint-15.safetensors
  cp -r ck ck_int8cut; truncate -s 2000 ck_int8cut/best.int8.safetensors
  cp -r ck ck_slgarbage; cp garbage.bin ck_slgarbage/shortlist.bin
  cp -r ck scratch-ck                                                     # shortlist/quantize write here
  cp -r model scratch-model

  # broken shard folders (each a copy of shards/)
  for m in s_trunc s_manifest s_extra s_missing s_emptymanifest s_garbage; do cp -r shards "$m"; done
  truncate -s 1000 s_trunc/shard-00000.zst
  sed -i 's/"totalPairs" : 200/"totalPairs" : 201/' s_manifest/manifest.json
  cp shards/shard-00000.zst s_extra/shard-00001.zst
  rm s_missing/shard-00000.zst
  : > s_emptymanifest/manifest.json
  cp garbage.bin s_garbage/shard-00000.zst
  touch "$P/stamp"
}

# ---------------------------------------------------------------------------------------------------
# Running and checking one case
# ---------------------------------------------------------------------------------------------------
# show_cmd ARGS...: the command line as a shell would read it, with the case's redirections
show_cmd() {
  local s="seq2seq" a
  for a in "$@"; do s+=" $(printf '%q' "$a")"; done
  [[ -n ${IN:-} && $IN != /dev/null ]] && s+=" < $IN"
  [[ -n ${PIPE_IN:-} ]] && s="cat $PIPE_IN | $s"
  case ${MODE:-} in
    closed) s+=" >&-" ;;  full) s+=" > /dev/full" ;;  head) s+=" | head -1" ;;
    fsize) s="(ulimit -f 4; $s)" ;;
  esac
  [[ -n ${STDIN_DESC:-} ]] && s="$STDIN_DESC | $s"
  printf '%s' "$s"
}

# output_paths ARGS...: the paths the command is asked to write (--output, and OUTS)
output_paths() {
  local prev="" a
  for a in "$@"; do [[ $prev == --output ]] && printf '%s\n' "$a"; prev=$a; done
  for a in ${OUTS:-}; do printf '%s\n' "$a"; done
}

# writes_files ARGS...: true for commands whose results are files (rule 2: silent stdout on refusal)
writes_files() {
  case "$1 ${2:-}" in
    vocab*|shard*|train*|average*|shortlist*|quantize*|plot*|"bpe learn") return 0 ;;
  esac
  local a; for a in "$@"; do [[ $a == --output ]] && return 0; done
  return 1
}

# report KIND LABEL CMD STATUS: one FAIL line with the first stderr lines
report() {
  local kind=$1 label=$2 cmd=$3 st=$4 errs
  errs=$(head -c 2000 "$P/err" 2>/dev/null | tr -d '\000' | head -3 | cut -c1-300 | tr '\n' '\r' | sed 's/\r$//; s/\r/ ⏎ /g')
  printf 'FAIL [%s] %s: %s  => %s | stderr: %s\n' "$kind" "$label" "$cmd" "$st" "${errs:-(empty)}"
}

# save_fuzz_inputs: keep the fuzz scratch folder of a failing run (PROBE_SAVE)
save_fuzz_inputs() {
  [[ -n $SAVE && ${KIND:-} == fuzz ]] || return 0
  mkdir -p "$SAVE/$1" && cp -r "$F/." "$SAVE/$1/" 2>/dev/null
  { show_cmd "${@:2}"; echo; } > "$SAVE/$1/command.txt"
}

# run_case EXPECT LABEL ARGS...: run seq2seq ARGS with the case settings below, then check rules 1-3
# and the expectation. EXPECT: ok | refuse | any | pipe (quiet 0/141) | a number (exact status).
# Settings (prefix assignments): IN (stdin file; default /dev/null), PIPE_IN (a file fed through a
# pipe, `cat FILE | seq2seq ...`), MODE (closed|full|head|fsize),
# PAT (extended regex the stderr must match), OUTS (more output paths), KIND (table|fuzz).
run_case() {
  local expect=$1 label=$2; shift 2
  local cmd; cmd=$(show_cmd "$@")
  local outs=() pre=() o
  mapfile -t outs < <(output_paths "$@")
  for o in "${outs[@]}"; do [[ -e $o || -L $o ]] && pre+=(1) || pre+=(0); done
  rm -f "$P/out" "$P/err" "$P/status" "$P/status.pid"
  : > "$P/out"

  local in=${IN:-/dev/null}
  case ${MODE:-} in
    closed) PROBE_IN=$in PROBE_OUT=CLOSED PROBE_ERR=$P/err runner "$@" ;;
    full)   PROBE_IN=$in PROBE_OUT=/dev/full PROBE_ERR=$P/err runner "$@" ;;
    head)   PROBE_IN=$in PROBE_OUT= PROBE_ERR=$P/err runner "$@" | head -1 > "$P/out" ;;
    fsize)  ( ulimit -f 4; PROBE_IN=$in PROBE_OUT=$P/out PROBE_ERR=$P/err runner "$@" ) ;;
    *)      if [[ -n ${PIPE_IN:-} ]]; then        # stdin is a pipe, not a file
              cat "$PIPE_IN" | PROBE_IN= PROBE_OUT=$P/out PROBE_ERR=$P/err runner "$@"
            else
              PROBE_IN=$in PROBE_OUT=$P/out PROBE_ERR=$P/err runner "$@"
            fi ;;
  esac
  judge "$expect" "$label" "$cmd" "${outs[*]}" "${pre[*]}" "$@"
}

runner() { perl -e "$RUNNER" "$P/status" "$TIMEOUT" taskset -c "$CORE" "$BIN" "$@"; }
export PROBE_IN PROBE_OUT PROBE_ERR

# judge EXPECT LABEL CMD "OUTS" "PRE" ARGS...: apply rules 1-3 and the expectation to the last run
judge() {
  local expect=$1 label=$2 cmd=$3 outs=($4) pre=($5); shift 5
  local st code="" sig="" bad=0 allowed=0 i o
  st=$(cat "$P/status" 2>/dev/null); st=${st:-"no status (runner failed)"}
  case $st in
    "exit "*) code=${st#exit } ;;
    "signal "*) sig=${st#signal }; st="killed by signal $sig ($(kill -l "$sig" 2>/dev/null))" ;;
  esac
  # statuses the probe itself caused
  [[ ${MODE:-} == head && ( $code == 141 || $sig == 13 ) ]] && allowed=1
  [[ ${MODE:-} == sigterm && $code == 143 ]] && allowed=1
  [[ ${MODE:-} == sigint && $code == 130 ]] && allowed=1

  # rule 1: no trap, no hang
  if [[ $st == hang ]]; then
    HANGS=$((HANGS + 1)); bad=1; report hang "$label" "$cmd" "no exit after ${TIMEOUT}s (killed)"
  elif [[ -n $sig && $allowed == 0 ]] || [[ -z $code && -z $sig ]] || { [[ -n $code ]] && (( code >= 128 )) && [[ $allowed == 0 ]]; }; then
    TRAPS=$((TRAPS + 1)); bad=1; report trap "$label" "$cmd" "$st"
  fi

  # rule 2: a refusal is one error line (warnings, and train's progress lines, may precede it)
  local failed=0
  [[ $st != "exit 0" ]] && failed=1
  if [[ -n $code && $code != 0 && $allowed == 0 ]] && (( code < 128 )); then
    local lines n first
    lines=$(grep -a -v -E '^[a-z][a-z ]*: warning: ' "$P/err" 2>/dev/null | tr -d '\000')
    if [[ ${1:-} == train ]]; then            # progress lines before the error are allowed for train
      lines=$(printf '%s\n' "$lines" | awk '/^seq2seq: error: /{keep=1} keep')
    fi
    if [[ ${1:-} == shard && " $* " == *" --verify "* ]]; then   # verify lists its problems first
      lines=$(printf '%s\n' "$lines" | grep -a -v '^shard: ')
    fi
    n=$(printf '%s' "$lines" | grep -a -c '')
    first=$(printf '%s\n' "$lines" | head -1)
    if [[ $n != 1 || $first != "seq2seq: error: "* ]]; then
      MULTI=$((MULTI + 1)); bad=1
      report refusal "$label" "$cmd" "$st, $n stderr line(s) besides warnings, not one 'seq2seq: error:' line"
    elif [[ ${MODE:-} != closed && ${MODE:-} != full && ${MODE:-} != head && -s $P/out ]] && writes_files "${@:-}"; then
      MULTI=$((MULTI + 1)); bad=1
      report refusal "$label" "$cmd" "$st, and $(wc -c < "$P/out") bytes on stdout: $(head -c 120 "$P/out" | tr '\n' ' ')"
    fi
  fi
  # a quiet exit on a closed pipe, after a signal: at most one line
  if [[ $allowed == 1 ]]; then
    local n; n=$(grep -a -v -E '^[a-z][a-z ]*: warning: ' "$P/err" 2>/dev/null | grep -a -c '')
    if [[ ${MODE:-} == head && $n != 0 ]] || (( n > 1 )); then
      MULTI=$((MULTI + 1)); bad=1; report refusal "$label" "$cmd" "$st, but $n line(s) on stderr"
    fi
  fi

  # rule 3: nothing half-written
  local left
  left=$(find "$W" \( -name '*.tmp*' -o -name '*.partial*' -o -name '*.lock' \) -print 2>/dev/null | sed "s|^$W/||")
  if [[ -n $left ]]; then
    LEFT=$((LEFT + 1)); bad=1
    report left-behind "$label" "$cmd" "$st; left: $(echo $left | cut -c1-300)"
    find "$W" \( -name '*.tmp*' -o -name '*.partial*' -o -name '*.lock' \) -prune -exec rm -rf {} + 2>/dev/null
  fi
  for i in "${!outs[@]}"; do
    if [[ $failed == 1 && ${pre[i]} == 0 ]] && [[ -e ${outs[i]} || -L ${outs[i]} ]]; then
      LEFT=$((LEFT + 1)); bad=1
      report left-behind "$label" "$cmd" "$st; the output ${outs[i]} was created by a failed run"
    fi
  done

  # the expectation of a table case
  local why=""
  case $expect in
    ok) [[ $st == "exit 0" ]] || why="expected success" ;;
    refuse) [[ -n $code && $code != 0 ]] && (( code < 128 )) || why="expected a refusal" ;;
    pipe) [[ $st == "exit 0" || $allowed == 1 ]] || why="expected a quiet exit (0 or 141)" ;;
    any) ;;
    *) [[ $code == "$expect" ]] || why="expected exit status $expect" ;;
  esac
  if [[ -z $why && -n ${PAT:-} ]] && ! grep -a -q -E -- "$PAT" "$P/err" 2>/dev/null; then
    why="stderr does not match /$PAT/"
  fi
  if [[ -n $why && $bad == 0 ]]; then
    UNEXPECTED=$((UNEXPECTED + 1)); bad=1; report unexpected "$label" "$cmd" "$st; $why"
  fi
  [[ -n ${PROBE_VERBOSE:-} ]] && printf 'probe: %s: %s => %s | %s\n' "$label" "$cmd" "$st" \
    "$(grep -a -v '^[a-z][a-z ]*: \(wrote\|types\|running\)' "$P/err" 2>/dev/null | tr -d '\000' | head -2 | cut -c1-200 | tr '\n' ' ')" >&2
  [[ ${KIND:-} == fuzz ]] && tally "$st"
  [[ $bad == 1 ]] && save_fuzz_inputs "$(printf '%s' "$label" | tr -c 'A-Za-z0-9_-' _)" "$@"

  # remove what the run created at the output paths (only inside the work folder), so the next
  # case starts from the same state
  for i in "${!outs[@]}"; do
    o=${outs[i]}
    if [[ ${pre[i]} == 0 && ( -e $o || -L $o ) ]]; then
      case $(realpath -m -- "$o") in "$W"/*) chmod -R u+w -- "$o" 2>/dev/null; rm -rf -- "$o" ;; esac
    fi
  done
  rm -rf "$W/tempdir"/* "$W/tempdir"/.[!.]* 2>/dev/null
  # a table case must not change the fixtures it reads (only victim* and scratch-* may change)
  if [[ ${KIND:-} == table ]]; then
    local changed
    changed=$(find "$W" -type f -newer "$P/stamp" ! -path "$P/*" ! -path "$W/scratch-*" \
                ! -path "$W/victim*" ! -path "$F/*" ! -path "$W/tempdir/*" 2>/dev/null | sed "s|^$W/||")
    if [[ -n $changed ]]; then
      UNEXPECTED=$((UNEXPECTED + 1)); bad=1
      report unexpected "$label" "$cmd" "$st; it changed input files: $(echo $changed | cut -c1-200)"
    fi
    touch "$P/stamp"
  fi
  return 0
}

# t EXPECT DESCRIPTION ARGS...: one table case
t() {
  TABLE=$((TABLE + 1))
  KIND=table run_case "$1" "table #$TABLE ($2)" "${@:3}"
}

# num OPTION "VALUE=EXPECT ..." ARGS...: one table case per value of a numeric option, given as
# OPTION=VALUE (so that -1 reaches the tool's own check instead of being taken for an option).
# BADNUM: values every count or size must refuse; BIG: 2^32, which parses, so the tool must either
# cope or refuse it (a crash on allocating it is a trap).
BADNUM="-1=refuse 99999999999999999999=refuse nan=refuse inf=refuse abc=refuse"
BIG="4294967296=any"
num() {
  local opt=$1 spec=$2 ve; shift 2
  for ve in $spec; do t "${ve##*=}" "$1 $opt=${ve%=*}" "$@" "$opt=${ve%=*}"; done
}

# signal_case SIGNAL STATUS: translate reading a slow pipe gets SIGNAL after ~1.5 s; it must exit with
# STATUS having written whole lines, a prefix of the full output
signal_case() {
  local sig=$1 want=$2 label cmd
  TABLE=$((TABLE + 1)); label="table #$TABLE (translate, SIG$sig while reading a slow pipe)"
  rm -f "$P/out" "$P/err" "$P/status" "$P/status.pid"
  MODE=sig${sig,,} STDIN_DESC="(each line of valid.en, 0.3 s apart)"
  cmd=$(show_cmd translate --model model)
  { while IFS= read -r l; do printf '%s\n' "$l"; sleep 0.3; done < valid.en; } 2>/dev/null |
    PROBE_IN= PROBE_OUT=$P/out PROBE_ERR=$P/err runner translate --model model &
  local job=$! i
  for i in $(seq 50); do [[ -s $P/status.pid ]] && break; sleep 0.1; done
  sleep 1.5
  kill -"$sig" "$(cat "$P/status.pid")" 2>/dev/null
  wait "$job" 2>/dev/null
  MODE=$MODE judge "$want" "$label" "$cmd" "" ""  translate --model model
  # the lines written must be whole and a prefix of the full translation
  local lines; lines=$(grep -a -c '' "$P/out")
  if [[ -s $P/out && $(tail -c 1 "$P/out" | od -An -c | tr -d ' ') != '\n' ]] ||
     ! cmp -s "$P/out" <(head -n "$lines" valid.hyp); then
    UNEXPECTED=$((UNEXPECTED + 1))
    report unexpected "$label" "$cmd" "output is not whole lines of the full translation: $(head -c 200 "$P/out" | od -c | head -3 | tr '\n' ' ')"
  fi
  unset MODE STDIN_DESC
}

# ---------------------------------------------------------------------------------------------------
# Part A: the bad-input table
# ---------------------------------------------------------------------------------------------------
table() {
  # -- the command itself
  t any   "no subcommand"
  t refuse "unknown subcommand" nosuch
  t ok    "version" --version
  t refuse "unknown option before subcommand" --bogus tokenize

  # -- tokenize / detokenize: text filters
  local c
  for c in tokenize detokenize "bpe undo"; do
    # shellcheck disable=SC2086
    set -- $c
    PAT=nope.txt t refuse "$c: missing --input" "$@" --input nope.txt
    t refuse "$c: directory as --input" "$@" --input adir
    t ok     "$c: empty --input" "$@" --input empty.txt
    t refuse "$c: binary garbage" "$@" --input garbage.bin
    PAT='bad\.en:3' t refuse "$c: invalid UTF-8 on line 3 (file)" "$@" --input bad.en
    IN=bad.en PAT='stdin:3' t refuse "$c: invalid UTF-8 on line 3 (stdin)" "$@"
    PIPE_IN=valid.en.gz PAT='compressed input' t refuse "$c: gzip bytes on stdin" "$@"
    PIPE_IN=valid.en.zst PAT='compressed input' t refuse "$c: zstd bytes on stdin" "$@"
    t ok     "$c: .gz input file" "$@" --input valid.en.gz
    t ok     "$c: CRLF input" "$@" --input crlf.en
    t ok     "$c: 2 MB line without newline" "$@" --input long.en
    t refuse "$c: unknown option" "$@" --bogus
    IN=valid.en MODE=closed t 1 "$c: stdout closed" "$@"
    IN=valid.en MODE=full t 1 "$c: stdout is /dev/full" "$@"
    IN=big.en MODE=head t pipe "$c: reader closes the pipe after one line" "$@"
  done
  t ok     "tokenize: --replace-invalid" tokenize --input bad.en --replace-invalid
  t ok     "detokenize: --replace-invalid" detokenize --input bad.en --replace-invalid
  t ok     "tokenize: .zst input file" tokenize --input valid.en.zst
  t any    "tokenize: gzip bytes in a plain-named file" tokenize --input gzbytes.txt
  IN=valid.en.gz t any "tokenize: gzip bytes on stdin, a regular file" tokenize
  t any    "tokenize: NUL byte in a line" tokenize --input nul.en
  t ok     "tokenize: byte-order mark" tokenize --input bom.en
  t ok     "tokenize: no final newline" tokenize --input nonl.en
  t refuse "tokenize: --normalize bogus" tokenize --normalize bogus --input valid.en
  t any    "tokenize: --lang empty" tokenize --lang "" --input valid.en
  t any    "tokenize: --lang bogus" tokenize --lang "xx_NOPE@@" --input valid.en
  t any    "tokenize: --input given twice (the last wins?)" tokenize --input valid.en --input valid.en
  t refuse "tokenize: stray argument" tokenize valid.en
  t any    "bpe undo: --separator empty" bpe undo --separator "" --input bpe.en

  # -- bpe learn
  PAT=nope.txt t refuse "bpe learn: missing --input" bpe learn --input nope.txt --output o.codes
  t refuse "bpe learn: directory as --input" bpe learn --input adir --output o.codes
  t any    "bpe learn: empty input" bpe learn --input empty.txt --output o.codes
  t refuse "bpe learn: binary garbage" bpe learn --input garbage.bin --output o.codes
  PAT='bad\.en:3' t refuse "bpe learn: invalid UTF-8 on line 3" bpe learn --input bad.en --output o.codes
  t refuse "bpe learn: no --output" bpe learn --input train.en
  t ok     "bpe learn: CRLF input" bpe learn --input crlf.en --output o.codes
  t ok     "bpe learn: 2 MB line" bpe learn --input long.en --output o.codes
  t refuse "bpe learn: --output under a file" bpe learn --input train.en --output afile/o.codes
  t refuse "bpe learn: --output under /proc" bpe learn --input train.en --output /proc/o.codes
  t refuse "bpe learn: --output is a folder" bpe learn --input train.en --output adir
  t any    "bpe learn: --output is an existing file" bpe learn --input train.en --output victim.txt
  OUTS=newdir t any "bpe learn: --output in a missing folder" bpe learn --input train.en --output newdir/o.codes
  MODE=fsize t refuse "bpe learn: ulimit -f 4" bpe learn --input big.en --output o.codes --merges 2000
  t any    "bpe learn: --merges 0" bpe learn --input train.en --output o.codes --merges 0
  num --merges "$BADNUM $BIG" bpe learn --input train.en --output o.codes
  num --min-frequency "0=any $BADNUM" bpe learn --input train.en --output o.codes
  MODE=closed t ok "bpe learn: stdout closed" bpe learn --input train.en --output o.codes

  # -- bpe apply
  PAT=nope.codes t refuse "bpe apply: missing --codes" bpe apply --codes nope.codes --input train.en
  t refuse "bpe apply: directory as --codes" bpe apply --codes adir --input train.en
  t any    "bpe apply: empty codes" bpe apply --codes empty.txt --input train.en
  t refuse "bpe apply: garbage codes" bpe apply --codes garbage.bin --input train.en
  t any    "bpe apply: a text file as codes" bpe apply --codes train.en --input valid.en
  PAT='bad\.en:3' t refuse "bpe apply: invalid UTF-8 on line 3" bpe apply --codes codes.bpe --input bad.en
  PIPE_IN=valid.en.gz PAT='compressed input' t refuse "bpe apply: gzip bytes on stdin" bpe apply --codes codes.bpe
  t ok     "bpe apply: 2 MB line" bpe apply --codes codes.bpe --input long.en
  t refuse "bpe apply: missing --vocabulary" bpe apply --codes codes.bpe --input train.en --vocabulary nope.voc
  t refuse "bpe apply: garbage --vocabulary" bpe apply --codes codes.bpe --input train.en --vocabulary garbage.bin
  t refuse "bpe apply: invalid --glossaries regex" bpe apply --codes codes.bpe --input train.en --glossaries '('
  t any    "bpe apply: empty --separator" bpe apply --codes codes.bpe --input train.en --separator ""
  t any    "bpe apply: --merges 0" bpe apply --codes codes.bpe --input train.en --merges 0
  num --merges "$BADNUM" bpe apply --codes codes.bpe --input train.en
  num --vocabulary-threshold "-1=any 99999999999999999999=refuse nan=refuse inf=refuse abc=refuse" bpe apply --codes codes.bpe --input train.en --vocabulary bpe.vocab
  t refuse "bpe apply: --vocabulary-threshold without --vocabulary" bpe apply --codes codes.bpe --input train.en --vocabulary-threshold 2
  IN=many.en MODE=closed t 1 "bpe apply: stdout closed" bpe apply --codes codes.bpe
  IN=many.en MODE=full t 1 "bpe apply: stdout is /dev/full" bpe apply --codes codes.bpe
  IN=many.en MODE=head t pipe "bpe apply: reader closes the pipe" bpe apply --codes codes.bpe

  # -- bpe vocab
  t refuse "bpe vocab: missing --input" bpe vocab --input nope.txt
  t refuse "bpe vocab: directory as --input" bpe vocab --input adir
  t refuse "bpe vocab: binary garbage" bpe vocab --input garbage.bin
  PAT='bad\.en:3' t refuse "bpe vocab: invalid UTF-8" bpe vocab --input bad.en
  t refuse "bpe vocab: --output under a file" bpe vocab --input bpe.en --output afile/v
  t refuse "bpe vocab: --output is a folder" bpe vocab --input bpe.en --output adir
  MODE=fsize t refuse "bpe vocab: ulimit -f 4" bpe vocab --input big.en --output o.bvocab
  MODE=closed t 1 "bpe vocab: stdout closed" bpe vocab --input bpe.en
  MODE=full t 1 "bpe vocab: stdout is /dev/full" bpe vocab --input bpe.en
  MODE=head t pipe "bpe vocab: reader closes the pipe" bpe vocab --input big.en

  # -- vocab
  PAT=nope.txt t refuse "vocab: missing --input" vocab --input nope.txt --output o.vocab
  t refuse "vocab: directory as --input" vocab --input adir --output o.vocab
  t refuse "vocab: empty file" vocab --input empty.txt --output o.vocab
  t refuse "vocab: binary garbage" vocab --input garbage.bin --output o.vocab
  PAT='bad\.en:3' t refuse "vocab: invalid UTF-8 on line 3" vocab --input bad.en --output o.vocab
  t ok     "vocab: --replace-invalid" vocab --input bad.en --output o.vocab --replace-invalid
  t ok     "vocab: .gz input" vocab --input valid.en.gz --output o.vocab
  t ok     "vocab: .zst input" vocab --input valid.en.zst --output o.vocab
  t any    "vocab: gzip bytes in a plain-named file" vocab --input gzbytes.txt --output o.vocab
  t ok     "vocab: CRLF input" vocab --input crlf.en --output o.vocab
  t ok     "vocab: 2 MB line" vocab --input long.en --output o.vocab
  t refuse "vocab: no --output" vocab --input train.en
  t refuse "vocab: no --input" vocab --output o.vocab
  t refuse "vocab: second input missing" vocab --input train.en nope.txt --output o.vocab
  OUTS=newdir t ok "vocab: --output in a missing folder (created)" vocab --input train.en --output newdir/o.vocab
  t refuse "vocab: --output under a file" vocab --input train.en --output afile/o.vocab
  t refuse "vocab: --output under /proc" vocab --input train.en --output /proc/o.vocab
  t refuse "vocab: --output is a folder" vocab --input train.en --output adir
  t refuse "vocab: --output empty" vocab --input train.en --output ""
  t any    "vocab: --output is an existing file" vocab --input train.en --output victim.txt
  t any    "vocab: --output is its own --input" vocab --input victim.txt --output victim.txt
  MODE=fsize t refuse "vocab: ulimit -f 4" vocab --input big.en --output o.vocab
  t any    "vocab: --min-count 0" vocab --input train.en --output o.vocab --min-count 0
  num --min-count "$BADNUM" vocab --input train.en --output o.vocab
  num --max-size "0=refuse 3=refuse 4=any $BADNUM $BIG" vocab --input train.en --output o.vocab
  t refuse "vocab: --min-count above every count" vocab --input train.en --output o.vocab --min-count 100000
  t refuse "vocab: --normalize bogus" vocab --input train.en --output o.vocab --normalize bogus
  t refuse "vocab: missing --bpe-codes" vocab --input train.en --output o.vocab --bpe-codes nope.codes
  t refuse "vocab: garbage --bpe-codes" vocab --input train.en --output o.vocab --bpe-codes garbage.bin
  t refuse "vocab: garbage --spm-model" vocab --input train.en --output o.vocab --spm-model garbage.bin
  t refuse "vocab: empty --spm-model" vocab --input train.en --output o.vocab --spm-model empty.txt
  t refuse "vocab: --bpe-codes and --spm-model together" vocab --input train.en --output o.vocab --bpe-codes codes.bpe --spm-model garbage.bin
  t refuse "vocab: missing --report" vocab --input train.en --output o.vocab --report nope.txt
  PAT='bad\.en:3' t refuse "vocab: invalid UTF-8 in --report" vocab --input train.en --output o.vocab --report bad.en
  MODE=closed t ok "vocab: stdout closed" vocab --input train.en --output o.vocab

  # -- shard: pack
  local S=(--output o.shards)
  PAT=nope.en t refuse "shard: missing --source" shard --source nope.en --target train.fr "${S[@]}"
  PAT=nope.fr t refuse "shard: missing --target" shard --source train.en --target nope.fr "${S[@]}"
  t refuse "shard: directory as --source" shard --source adir --target train.fr "${S[@]}"
  t refuse "shard: empty inputs" shard --source empty.txt --target empty.txt "${S[@]}"
  t refuse "shard: binary garbage" shard --source garbage.bin --target garbage.bin "${S[@]}"
  PAT='bad\.en:3' t refuse "shard: invalid UTF-8 on line 3" shard --source bad.en --target four.fr "${S[@]}"
  t refuse "shard: line counts differ" shard --source train.en --target valid.fr "${S[@]}"
  t ok     "shard: CRLF inputs" shard --source crlf.en --target crlf.fr "${S[@]}"
  t ok     "shard: .gz source" shard --source valid.en.gz --target valid.fr "${S[@]}"
  t ok     "shard: 2 MB line pair" shard --source long.en --target long.en "${S[@]}"
  t refuse "shard: nothing to do (no inputs)" shard "${S[@]}"
  t refuse "shard: --tsv with --source (conflict)" shard --tsv train.tsv --source train.en --target train.fr "${S[@]}"
  t refuse "shard: --tsv without tabs" shard --tsv train.en "${S[@]}"
  t refuse "shard: --tsv garbage" shard --tsv garbage.bin "${S[@]}"
  t ok     "shard: --tsv" shard --tsv train.tsv "${S[@]}"
  t refuse "shard: --output is an existing file" shard --source train.en --target train.fr --output victim.txt
  t refuse "shard: --output is a non-empty folder" shard --source train.en --target train.fr --output victimdir
  t refuse "shard: --output is a shard folder, no --overwrite" shard --source train.en --target train.fr --output shards
  t refuse "shard: --overwrite on a model folder" shard --source train.en --target train.fr --output model --overwrite
  t refuse "shard: --output under a file" shard --source train.en --target train.fr --output afile/s
  t refuse "shard: --output under /proc" shard --source train.en --target train.fr --output /proc/s
  MODE=fsize t refuse "shard: ulimit -f 4" shard --source big.en --target big.fr "${S[@]}"
  num --pairs-per-shard "0=refuse $BADNUM $BIG" shard --source train.en --target train.fr "${S[@]}"
  num --level "0=refuse 23=refuse $BADNUM 4294967296=refuse" shard --source train.en --target train.fr "${S[@]}"
  num --max-length "0=refuse $BADNUM" shard --source train.en --target train.fr "${S[@]}"
  num --shuffle "$BADNUM" shard --source train.en --target train.fr "${S[@]}"
  MODE=closed t ok "shard: stdout closed" shard --source train.en --target train.fr "${S[@]}"
  # -- shard: verify / export
  t ok     "shard --verify: good folder" shard --verify shards
  t refuse "shard --verify: missing folder" shard --verify nope
  t refuse "shard --verify: empty folder" shard --verify adir
  t refuse "shard --verify: a file" shard --verify train.en
  t refuse "shard --verify: a model folder" shard --verify model
  PAT=shard-00000 t refuse "shard --verify: truncated shard" shard --verify s_trunc
  t refuse "shard --verify: edited manifest" shard --verify s_manifest
  PAT=shard-00001 t refuse "shard --verify: unlisted shard file" shard --verify s_extra
  PAT=shard-00000 t refuse "shard --verify: missing shard file" shard --verify s_missing
  t refuse "shard --verify: empty manifest" shard --verify s_emptymanifest
  t refuse "shard --verify: garbage shard" shard --verify s_garbage
  t refuse "shard: --verify with --export (conflict)" shard --verify shards --export shards --source o.en --target o.fr
  t refuse "shard: --verify with --output (conflict)" shard --verify shards --output o.shards
  OUTS="o.en o.fr" t ok "shard --export: good folder" shard --export shards --source o.en --target o.fr
  OUTS="o.en o.fr" t refuse "shard --export: truncated shard" shard --export s_trunc --source o.en --target o.fr
  OUTS="o.en o.fr" t refuse "shard --export: garbage shard" shard --export s_garbage --source o.en --target o.fr
  OUTS="o.en" t refuse "shard --export: no --target" shard --export shards --source o.en
  OUTS="o.fr" t refuse "shard --export: --source under a file" shard --export shards --source afile/o.en --target o.fr
  t refuse "shard --export: --source is a folder" shard --export shards --source adir --target o.fr

  # -- train
  local T=(--shards shards --source-vocab en.vocab --target-vocab fr.vocab --hidden 16 --embedding 8
           --layers 1 --batch-size 8 --max-steps 20 --threads 1 --output o.model)
  local V=(--valid-source valid.en --valid-target valid.fr)
  t ok     "train: the setup command again" train "${T[@]}" "${V[@]}"
  PAT=nope t refuse "train: missing --shards" train "${T[@]}" --shards nope
  t refuse "train: a file as --shards" train "${T[@]}" --shards train.en
  t refuse "train: an empty folder as --shards" train "${T[@]}" --shards adir
  t refuse "train: truncated shard" train "${T[@]}" --shards s_trunc
  t refuse "train: edited manifest" train "${T[@]}" --shards s_manifest
  t refuse "train: garbage shard" train "${T[@]}" --shards s_garbage
  t refuse "train: missing shard file" train "${T[@]}" --shards s_missing
  PAT=nope.vocab t refuse "train: missing --source-vocab" train "${T[@]}" --source-vocab nope.vocab
  t refuse "train: a folder as --source-vocab" train "${T[@]}" --source-vocab adir
  t refuse "train: garbage --source-vocab" train "${T[@]}" --source-vocab garbage.bin
  t refuse "train: empty --target-vocab" train "${T[@]}" --target-vocab empty.txt
  t refuse "train: a text file as --target-vocab" train "${T[@]}" --target-vocab train.fr
  PAT='<unk>.*--allow-unk|--allow-unk.*<unk>' t refuse "train: swapped vocabularies" train "${T[@]}" --source-vocab fr.vocab --target-vocab en.vocab
  t ok     "train: swapped vocabularies with --allow-unk" train "${T[@]}" --source-vocab fr.vocab --target-vocab en.vocab --allow-unk
  t refuse "train: no vocabularies for a new model" train --shards shards --output o.model --max-steps 2
  t refuse "train: --valid-source without --valid-target" train "${T[@]}" --valid-source valid.en
  t refuse "train: validation line counts differ" train "${T[@]}" --valid-source valid.en --valid-target train.fr
  t refuse "train: empty validation set" train "${T[@]}" --valid-source empty.txt --valid-target empty.txt
  PAT='bad\.en:3' t refuse "train: invalid UTF-8 in validation" train "${T[@]}" --valid-source bad.en --valid-target four.fr
  t refuse "train: missing validation file" train "${T[@]}" --valid-source nope.en --valid-target valid.fr
  t refuse "train: --select-by bleu without --valid-bleu" train "${T[@]}" "${V[@]}" --select-by bleu
  t refuse "train: --early-stopping without validation" train "${T[@]}" --early-stopping 2
  t refuse "train: --lr-schedule plateau without validation" train "${T[@]}" --lr-schedule plateau
  t refuse "train: --valid-bleu-lowercase without --valid-bleu" train "${T[@]}" "${V[@]}" --valid-bleu-lowercase
  t refuse "train: --accumulate 5 with one shard" train "${T[@]}" --accumulate 5
  t refuse "train: --max-length 0 (no pair left)" train "${T[@]}" --max-length 0
  t refuse "train: --cell bogus" train "${T[@]}" --cell bogus
  t refuse "train: --attention bogus" train "${T[@]}" --attention bogus
  t refuse "train: missing --bpe-codes" train "${T[@]}" --bpe-codes nope.codes
  t refuse "train: --bpe-codes the vocabularies were not built with" train "${T[@]}" --bpe-codes codes.bpe
  t refuse "train: garbage --spm-model" train "${T[@]}" --spm-model garbage.bin
  t refuse "train: --output is an existing model (no --resume)" train "${T[@]}" --output model
  t refuse "train: --output is a non-model folder" train "${T[@]}" --output victimdir
  t refuse "train: --output is a non-model folder, --overwrite" train "${T[@]}" --output victimdir --overwrite
  t refuse "train: --output is a shard folder, --overwrite" train "${T[@]}" --output shards --overwrite
  t refuse "train: --output is a file" train "${T[@]}" --output victim.txt
  t refuse "train: --output under a file" train "${T[@]}" --output afile/m
  t refuse "train: --output under /proc" train "${T[@]}" --output /proc/m
  t refuse "train: --resume on a non-model folder" train --shards shards --output victimdir --resume
  t refuse "train: --resume on a shard folder" train --shards shards --output shards --resume
  t refuse "train: --resume on a missing folder" train --shards shards --output nope.model --resume
  t refuse "train: --resume on a file" train --shards shards --output victim.txt --resume
  t refuse "train: --resume with a truncated last.safetensors" train --shards shards --output m_lastcut --resume --max-steps 30
  t refuse "train: --resume with a garbage target.vocab" train --shards shards --output m_tvocabgarbage --resume --max-steps 30
  t refuse "train: --resume and --overwrite together" train --shards shards --output scratch-model --resume --overwrite
  MODE=fsize t refuse "train: ulimit -f 4 (checkpoint too large)" train "${T[@]}"
  t ok     "train: --dry-run writes nothing" train "${T[@]}" --dry-run
  for c in --hidden --embedding --layers; do num "$c" "0=refuse $BADNUM $BIG" train "${T[@]}"; done
  num --batch-size "0=refuse $BADNUM $BIG" train "${T[@]}"
  num --max-steps "0=any $BADNUM" train "${T[@]}"
  num --epochs "0=any $BADNUM" train "${T[@]}"
  num --lr "0=any -1=refuse nan=refuse inf=refuse abc=refuse" train "${T[@]}"
  num --dropout "1=refuse -0.5=refuse nan=refuse inf=refuse" train "${T[@]}"
  num --clip "-1=refuse nan=refuse inf=any" train "${T[@]}"
  num --label-smoothing "1=refuse -0.1=refuse nan=refuse" train "${T[@]}"
  num --bpe-dropout "1=refuse -0.1=refuse nan=refuse" train "${T[@]}"
  num --threads "0=refuse -1=refuse 99999999999999999999=refuse abc=refuse $BIG" train "${T[@]}"
  num --window "0=refuse -1=refuse $BIG" train "${T[@]}"
  num --accumulate "0=refuse -1=refuse" train "${T[@]}"
  num --token-budget "0=refuse -1=refuse" train "${T[@]}"
  num --save-every "0=refuse -1=refuse" train "${T[@]}"
  num --log-every "0=refuse -1=refuse" train "${T[@]}"
  num --valid-every "0=refuse -1=refuse" train "${T[@]}" "${V[@]}"
  num --keep-checkpoints "0=any -1=refuse" train "${T[@]}"
  num --max-minutes "0=any -1=refuse nan=refuse" train "${T[@]}"
  num --lr-decay-factor "0=refuse 1=refuse nan=refuse" train "${T[@]}" "${V[@]}" --lr-schedule plateau
  num --seed "-1=refuse abc=refuse 99999999999999999999=refuse" train "${T[@]}"
  num --log-every-seconds "-1=refuse nan=refuse" train "${T[@]}"

  # -- average
  local A=(--model ck --last 2 --output o.avg)
  t ok     "average: good" average "${A[@]}"
  PAT=nope t refuse "average: missing --model" average "${A[@]}" --model nope
  t refuse "average: a file as --model" average "${A[@]}" --model en.vocab
  t refuse "average: a model without checkpoints" average "${A[@]}" --model model
  t refuse "average: --last more than kept" average "${A[@]}" --last 5
  num --last "0=refuse $BADNUM $BIG" average "${A[@]}"
  PAT=checkpoint-15 t refuse "average: a truncated checkpoint" average "${A[@]}" --model ck_cut
  t refuse "average: --output is an existing model" average "${A[@]}" --output model
  t refuse "average: --output is the --model folder" average "${A[@]}" --output ck
  t refuse "average: --output is a non-empty folder" average "${A[@]}" --output victimdir
  t refuse "average: --output is a file" average "${A[@]}" --output victim.txt
  t refuse "average: --output under a file" average "${A[@]}" --output afile/avg
  t refuse "average: --output under /proc" average "${A[@]}" --output /proc/avg

  # -- shortlist, quantize (they write into the model folder: a scratch copy)
  t ok     "shortlist: good" shortlist --model scratch-ck --shards shards
  t refuse "shortlist: missing --model" shortlist --model nope --shards shards
  t refuse "shortlist: a file as --model" shortlist --model en.vocab --shards shards
  t refuse "shortlist: missing --shards" shortlist --model scratch-ck --shards nope
  t refuse "shortlist: a file as --shards" shortlist --model scratch-ck --shards train.en
  t refuse "shortlist: truncated shard" shortlist --model scratch-ck --shards s_trunc
  num --top-k "0=refuse $BADNUM $BIG" shortlist --model scratch-ck --shards shards
  num --frequent "-1=refuse abc=refuse $BIG" shortlist --model scratch-ck --shards shards
  num --iterations "0=any -1=refuse abc=refuse 99999999999999999999=refuse" shortlist --model scratch-ck --shards shards
  t refuse "shortlist: missing --report-on" shortlist --model scratch-ck --shards shards --report-on nope.txt
  PAT='bad\.en:3' t refuse "shortlist: invalid UTF-8 in --report-on" shortlist --model scratch-ck --shards shards --report-on bad.en
  t ok     "quantize: good" quantize --model scratch-ck
  t refuse "quantize: missing --model" quantize --model nope
  t refuse "quantize: a file as --model" quantize --model en.vocab
  t refuse "quantize: truncated best.safetensors" quantize --model m_trunc
  t ok     "quantize: no best.safetensors (falls back to last, as SavedModel.checkpointPath says)" quantize --model scratch-nobest
  t refuse "quantize: --checkpoint bogus" quantize --model scratch-ck --checkpoint bogus

  # -- translate
  local R=(translate --model model)
  PAT=nope t refuse "translate: missing --model" translate --model nope
  IN=valid.en t refuse "translate: a file as --model" translate --model en.vocab
  IN=valid.en t refuse "translate: an empty folder as --model" translate --model adir
  IN=valid.en t refuse "translate: a shard folder as --model" translate --model shards
  IN=valid.en t refuse "translate: truncated best.safetensors" translate --model m_trunc
  IN=valid.en t refuse "translate: a byte flipped in config.json" translate --model m_cfgflip
  IN=valid.en t refuse "translate: source.vocab deleted" translate --model m_novocab
  IN=valid.en t refuse "translate: empty config.json" translate --model m_emptycfg
  IN=valid.en t ok     "translate: no best.safetensors (falls back to last)" translate --model m_nobest
  IN=valid.en t refuse "translate: garbage best.safetensors" translate --model m_garbage
  IN=valid.en t refuse "translate: vocabularies swapped in the folder" translate --model m_swapvocab
  IN=valid.en t refuse "translate: hidden 99999999999 in config.json" translate --model m_cfgbig
  IN=valid.en t refuse "translate: garbage target.vocab" translate --model m_tvocabgarbage
  IN=valid.en t ok     "translate: --checkpoint last" "${R[@]}" --checkpoint last
  IN=valid.en t refuse "translate: --checkpoint last truncated" translate --model m_lastcut --checkpoint last
  IN=valid.en t ok     "translate: --precision int8" "${R[@]}" --precision int8
  IN=valid.en t ok     "translate: int8 copy in the folder" translate --model ck --precision int8
  IN=valid.en t refuse "translate: truncated int8 copy" translate --model ck_int8cut --precision int8
  IN=valid.en t refuse "translate: garbage shortlist.bin" translate --model ck_slgarbage
  IN=valid.en t ok     "translate: --alignment with attention" translate --model ck --alignment
  IN=valid.en t refuse "translate: --alignment without attention" "${R[@]}" --alignment
  IN=valid.en t refuse "translate: --replace-unk without attention" "${R[@]}" --replace-unk
  IN=valid.en t refuse "translate: --unk keep with --replace-unk (conflict)" translate --model ck --unk keep --replace-unk
  IN=valid.en t any    "translate: --flush with --batch-size (conflict)" "${R[@]}" --flush --batch-size 8
  IN=valid.en t refuse "translate: --gemm bogus" "${R[@]}" --gemm bogus
  IN=valid.en t refuse "translate: --checkpoint bogus" "${R[@]}" --checkpoint bogus
  PAT=nope.en t refuse "translate: missing --input" "${R[@]}" --input nope.en
  t refuse "translate: a folder as --input" "${R[@]}" --input adir
  t refuse "translate: binary garbage" "${R[@]}" --input garbage.bin
  PAT='bad\.en:3' t refuse "translate: invalid UTF-8 on line 3 (file)" "${R[@]}" --input bad.en
  IN=bad.en PAT='stdin:3' t refuse "translate: invalid UTF-8 on line 3 (stdin)" "${R[@]}"
  IN=bad.en PAT='warning' t ok "translate: --on-invalid skip" "${R[@]}" --on-invalid skip
  IN=bad.en t ok     "translate: --on-invalid replace" "${R[@]}" --on-invalid replace
  IN=bad.en t refuse "translate: --on-invalid bogus" "${R[@]}" --on-invalid bogus
  PIPE_IN=valid.en.gz PAT='compressed input' t refuse "translate: gzip bytes on stdin" "${R[@]}"
  PIPE_IN=valid.en.zst PAT='compressed input' t refuse "translate: zstd bytes on stdin" "${R[@]}"
  t ok     "translate: .gz --input" "${R[@]}" --input valid.en.gz
  IN=valid.en.gz t any "translate: gzip bytes on stdin, a regular file" "${R[@]}"
  t ok     "translate: empty input" "${R[@]}" --input empty.txt
  t ok     "translate: CRLF input" "${R[@]}" --input crlf.en
  t ok     "translate: 2 MB line" "${R[@]}" --input long.en
  t any    "translate: NUL byte in a line" "${R[@]}" --input nul.en
  IN=valid.en num --n-best "0=refuse 6=any $BADNUM $BIG" "${R[@]}"
  IN=valid.en num --beam "0=refuse $BADNUM $BIG" "${R[@]}"
  IN=valid.en num --batch-size "0=refuse $BADNUM $BIG" "${R[@]}"
  IN=valid.en num --threads "0=refuse -1=refuse abc=refuse $BIG" "${R[@]}"
  IN=valid.en num --max-length "0=any $BADNUM $BIG" "${R[@]}"
  IN=valid.en num --max-length-ratio "0=any -1=refuse nan=refuse inf=refuse 1e300=any" "${R[@]}"
  IN=valid.en num --length-penalty "0=ok -1=refuse nan=refuse inf=refuse" "${R[@]}"
  IN=valid.en t refuse "translate: unknown option" "${R[@]}" --bogus
  IN=many.en MODE=closed t 1 "translate: stdout closed" "${R[@]}"
  IN=many.en MODE=full t 1 "translate: stdout is /dev/full" "${R[@]}"
  IN=many.en MODE=head t pipe "translate: reader closes the pipe after one line" "${R[@]}"
  signal_case TERM 143
  signal_case INT 130

  # -- evaluate
  local E=(evaluate --model model --source valid.en --reference valid.fr)
  t ok     "evaluate: good" "${E[@]}"
  PAT=nope t refuse "evaluate: missing --model" evaluate --model nope --source valid.en --reference valid.fr
  t refuse "evaluate: truncated best.safetensors" evaluate --model m_trunc --source valid.en --reference valid.fr
  t refuse "evaluate: a byte flipped in config.json" evaluate --model m_cfgflip --source valid.en --reference valid.fr
  PAT=nope.en t refuse "evaluate: missing --source" evaluate --model model --source nope.en --reference valid.fr
  PAT=nope.fr t refuse "evaluate: missing --reference" evaluate --model model --source valid.en --reference nope.fr
  t refuse "evaluate: line counts differ" evaluate --model model --source valid.en --reference train.fr
  PAT='bad\.fr:3' t refuse "evaluate: invalid UTF-8 in the reference" evaluate --model model --source four.en --reference bad.fr
  PAT='bad\.en:3' t refuse "evaluate: invalid UTF-8 in the source" evaluate --model model --source bad.en --reference four.fr
  t any    "evaluate: empty test set" evaluate --model model --source empty.txt --reference empty.txt
  t refuse "evaluate: a folder as --source" evaluate --model model --source adir --reference valid.fr
  t refuse "evaluate: --output under a file" "${E[@]}" --output afile/hyp
  t refuse "evaluate: --output under /proc" "${E[@]}" --output /proc/hyp
  t refuse "evaluate: --output is a folder" "${E[@]}" --output adir
  num --beam "0=refuse abc=refuse" "${E[@]}"
  num --batch-size "0=refuse -1=refuse" "${E[@]}"
  MODE=closed t 1 "evaluate: stdout closed" "${E[@]}"
  MODE=full t 1 "evaluate: stdout is /dev/full" "${E[@]}"

  # -- bleu
  t ok     "bleu: good" bleu valid.fr -i valid.hyp
  PAT=nope.fr t refuse "bleu: missing reference" bleu nope.fr -i valid.hyp
  t refuse "bleu: a folder as reference" bleu adir -i valid.hyp
  PAT=nope.hyp t refuse "bleu: missing -i" bleu valid.fr -i nope.hyp
  t refuse "bleu: binary garbage hypotheses" bleu valid.fr -i garbage.bin
  PAT='bad\.fr:3' t refuse "bleu: invalid UTF-8 on line 3" bleu four.fr -i bad.fr
  IN=bad.fr PAT='stdin:3' t refuse "bleu: invalid UTF-8 on stdin line 3" bleu four.fr
  t refuse "bleu: line counts differ" bleu train.fr -i valid.hyp
  PAT='long5\.fr:5' t refuse "bleu: a 2 MiB line (hypotheses)" bleu valid.fr -i long5.fr
  PAT='long5\.fr:5' t refuse "bleu: a 2 MiB line (reference)" bleu long5.fr -i valid.fr
  IN=long5.fr PAT='stdin:5' t refuse "bleu: a 2 MiB line (stdin)" bleu valid.fr
  PIPE_IN=valid.en.gz PAT='compressed input' t refuse "bleu: gzip bytes on stdin" bleu valid.en
  t ok     "bleu: CRLF" bleu crlf.fr -i valid.fr
  t any    "bleu: empty files" bleu empty.txt -i empty.txt
  t refuse "bleu: -m bogus" bleu valid.fr -i valid.hyp -m bogus
  t refuse "bleu: -tok bogus" bleu valid.fr -i valid.hyp -tok bogus
  t refuse "bleu: -s bogus" bleu valid.fr -i valid.hyp -s bogus
  t refuse "bleu: -f bogus" bleu valid.fr -i valid.hyp -f bogus
  t refuse "bleu: -sl with two metrics" bleu valid.fr -i valid.hyp -sl -m bleu chrf
  num -w "-1=refuse 99999999999999999999=refuse abc=refuse 1000=any" bleu valid.fr -i valid.hyp
  num -cc "0=refuse -1=refuse abc=refuse $BIG" bleu valid.fr -i valid.hyp -m chrf
  num -cw "-1=refuse abc=refuse" bleu valid.fr -i valid.hyp -m chrf
  num --chrf-beta "0=any -1=refuse nan=refuse" bleu valid.fr -i valid.hyp -m chrf
  num -sv "-1=refuse nan=refuse" bleu valid.fr -i valid.hyp -s floor
  num -sv "-1=refuse nan=refuse inf=refuse" bleu valid.fr -i valid.hyp -s add-k
  t refuse "bleu: -sv with -s exp" bleu valid.fr -i valid.hyp -sv 0.5
  IN=valid.hyp MODE=closed t 1 "bleu: stdout closed" bleu valid.fr
  IN=valid.hyp MODE=full t 1 "bleu: stdout is /dev/full" bleu valid.fr
  IN=valid.hyp MODE=head t pipe "bleu -sl: reader closes the pipe" bleu valid.fr -sl

  # -- plot
  t ok     "plot: good" plot --model model --output o.svg
  PAT=nope t refuse "plot: missing --model" plot --model nope --output o.svg
  t refuse "plot: a file as --model" plot --model en.vocab --output o.svg
  t refuse "plot: a folder without log.jsonl" plot --model adir --output o.svg
  t refuse "plot: garbage log.jsonl" plot --model m_badlog --output o.svg
  t refuse "plot: --output under a file" plot --model model --output afile/o.svg
  t refuse "plot: --output under /proc" plot --model model --output /proc/o.svg
  t refuse "plot: --output is a folder" plot --model model --output adir
  MODE=closed t 1 "plot: stdout closed (refused before writing)" plot --model model --output o.svg

  # -- doctor, bench (cheap cases only)
  t ok     "doctor: --no-timings" doctor --no-timings
  t refuse "doctor: --format bogus" doctor --no-timings --format bogus
  t refuse "doctor: --preset bogus" doctor --no-timings --preset bogus
  num --threads "0=refuse -1=refuse abc=refuse $BIG" doctor --no-timings
  MODE=closed t 1 "doctor: stdout closed" doctor --no-timings
  MODE=full t 1 "doctor: stdout is /dev/full" doctor --no-timings
  t refuse "bench: unknown benchmark" bench nosuch
  t refuse "bench shards: missing --shards" bench shards --shards nope
  t refuse "bench shards: truncated shard" bench shards --shards s_trunc
  num --repeat "0=refuse -1=refuse" bench shards --shards shards
  t refuse "bench bpe: garbage codes" bench bpe --codes garbage.bin --input bpe.en --passes 1
  num --passes "0=refuse -1=refuse" bench bpe --codes codes.bpe --input train.en
}

# tally STATUS: count the fuzz outcomes per target (printed at the end: how much each target
# exercised the success and the refusal paths)
declare -A TALLY_OK TALLY_REFUSED TALLY_OTHER
tally() {
  case $1 in
    "exit 0") TALLY_OK[$TARGET]=$(( ${TALLY_OK[$TARGET]:-0} + 1 )) ;;
    "exit "[1-9]|"exit "[1-9][0-9]|"exit 1"[01][0-9]|"exit 12"[0-7]) TALLY_REFUSED[$TARGET]=$(( ${TALLY_REFUSED[$TARGET]:-0} + 1 )) ;;
    *) TALLY_OTHER[$TARGET]=$(( ${TALLY_OTHER[$TARGET]:-0} + 1 )) ;;
  esac
}

# ---------------------------------------------------------------------------------------------------
# Part B: the fuzz loop
# ---------------------------------------------------------------------------------------------------
# rnd N: R = a number in 0 .. N-1 from the seeded RANDOM (never in a $(...) subshell: a subshell
# reseeds RANDOM, which would make the run irreproducible)
rnd() { R=$(( ((RANDOM << 15) | RANDOM) % $1 )); }
NUMBERS=(0 -1 99999999999999999999 18446744073709551616 9223372036854775808 4294967296 2147483648
         65536 1e309 -1e309 NaN 1.5 "" 00000000000000000001 3)

# mutate FILE: apply one random mutation; sets MUT to what was done
mutate() {
  local f=$1 size op a b c hex="" byte k
  size=$(stat -c %s "$f")
  local ops=(flip trunc dup insert insnum)
  case $f in *.json|*.safetensors|*.vocab|*.bpe|*.jsonl|*.bvocab) ops+=(repnum repnum) ;; esac
  op=${ops[RANDOM % ${#ops[@]}]}
  (( size == 0 )) && op=insert
  case $op in
    flip)
      local args=() n=$((1 + RANDOM % 8))
      for ((k = 0; k < n; k++)); do rnd "$size"; args+=("$R:$((1 + RANDOM % 255))"); done
      MUT="flip ${args[*]}"; perl -e "$MUTATOR" flip "$f" "${args[@]}" ;;
    trunc) rnd "$size"; a=$R; MUT="truncate at $a of $size"; perl -e "$MUTATOR" trunc "$f" "$a" ;;
    dup)
      rnd "$size"; a=$R; b=$((RANDOM % 4096)); rnd $((size + 1)); c=$R
      MUT="duplicate $b bytes from $a at $c"; perl -e "$MUTATOR" dup "$f" "$a" "$b" "$c" ;;
    insert)
      for ((k = 1 + RANDOM % 32; k > 0; k--)); do printf -v byte '%02x' $((RANDOM % 256)); hex+=$byte; done
      rnd $((size + 1)); a=$R; MUT="insert bytes $hex at $a"; perl -e "$MUTATOR" insert "$f" "$a" "$hex" ;;
    insnum)
      b=${NUMBERS[RANDOM % ${#NUMBERS[@]}]}; rnd $((size + 1)); a=$R
      MUT="insert '$b' at $a"; perl -e "$MUTATOR" insnum "$f" "$a" "$b" ;;
    repnum)
      b=${NUMBERS[RANDOM % ${#NUMBERS[@]}]}; a=$RANDOM
      MUT="replace digit run #$a (mod count) by '$b'"; perl -e "$MUTATOR" repnum "$f" "$a" "$b" ;;
  esac
}

# Fuzz targets: each fuzz_NAME makes a mutated copy of one valid input in $F and sets ARGS (the
# matching command) and, when it reads stdin, IN or PIPE_IN; OUTS for outputs other than --output.
fuzz_tokenize()   { cp train.en "$F/in.en"; mutate "$F/in.en"; ARGS=(tokenize --input "$F/in.en"); }
fuzz_detokenize() { cp tok.fr "$F/in.fr"; mutate "$F/in.fr"; IN=$F/in.fr; ARGS=(detokenize); }
fuzz_bpe_apply()  { cp train.en "$F/in.en"; mutate "$F/in.en"; ARGS=(bpe apply --codes codes.bpe --input "$F/in.en"); }
fuzz_bpe_undo()   { cp bpe.en "$F/in.en"; mutate "$F/in.en"; IN=$F/in.en; ARGS=(bpe undo); }
fuzz_bpe_learn()  { cp train.en "$F/in.en"; mutate "$F/in.en"; ARGS=(bpe learn --input "$F/in.en" --output "$F/o.codes" --merges 50); }
fuzz_bpe_vocab()  { cp bpe.en "$F/in.en"; mutate "$F/in.en"; ARGS=(bpe vocab --input "$F/in.en" --output "$F/o.bvocab"); }
fuzz_codes_apply(){ cp codes.bpe "$F/c.bpe"; mutate "$F/c.bpe"; ARGS=(bpe apply --codes "$F/c.bpe" --input valid.en); }
fuzz_codes_vocab(){ cp codes.bpe "$F/c.bpe"; mutate "$F/c.bpe"; ARGS=(vocab --input train.en --bpe-codes "$F/c.bpe" --output "$F/o.vocab"); }
fuzz_bpevocab_apply() { cp bpe.vocab "$F/v.bvocab"; mutate "$F/v.bvocab"; ARGS=(bpe apply --codes codes.bpe --vocabulary "$F/v.bvocab" --input valid.en); }
fuzz_vocab()      { cp train.en "$F/in.en"; mutate "$F/in.en"; ARGS=(vocab --input "$F/in.en" --output "$F/o.vocab"); }
fuzz_bleu_hyp()   { cp valid.hyp "$F/h.txt"; mutate "$F/h.txt"; ARGS=(bleu valid.fr -i "$F/h.txt" -m bleu chrf); }
fuzz_bleu_ref()   { cp valid.fr "$F/r.txt"; mutate "$F/r.txt"; IN=valid.hyp; ARGS=(bleu "$F/r.txt" -sl); }
fuzz_translate()  { cp valid.en "$F/in.en"; mutate "$F/in.en"; IN=$F/in.en; ARGS=(translate --model model); }
fuzz_translate_pipe() { cp valid.en "$F/in.en"; mutate "$F/in.en"; PIPE_IN=$F/in.en; ARGS=(translate --model model --beam 2); }
fuzz_evaluate()   { cp valid.en "$F/in.en"; mutate "$F/in.en"; ARGS=(evaluate --model model --source "$F/in.en" --reference valid.fr); }
fuzz_shard_tsv()  { cp train.tsv "$F/in.tsv"; mutate "$F/in.tsv"; ARGS=(shard --tsv "$F/in.tsv" --output "$F/o.shards"); }
fuzz_shard_pack() { cp train.fr "$F/in.fr"; mutate "$F/in.fr"; ARGS=(shard --source train.en --target "$F/in.fr" --output "$F/o.shards"); }
# model folder files
model_copy()      { cp -r "$1" "$F/m"; mutate "$F/m/$2"; }
fuzz_model_best() { model_copy model best.safetensors; IN=valid.en; ARGS=(translate --model "$F/m"); }
fuzz_model_best_eval() { model_copy model best.safetensors; ARGS=(evaluate --model "$F/m" --source valid.en --reference valid.fr); }
fuzz_model_last() { model_copy model last.safetensors; IN=valid.en; ARGS=(translate --model "$F/m" --checkpoint last); }
fuzz_model_resume() { model_copy model last.safetensors; ARGS=(train --shards shards --output "$F/m" --resume --max-steps 25 --threads 1); }
fuzz_model_config() { model_copy model config.json; IN=valid.en; ARGS=(translate --model "$F/m"); }
fuzz_model_config_eval() { model_copy model config.json; ARGS=(evaluate --model "$F/m" --source valid.en --reference valid.fr); }
fuzz_att_config() { model_copy ck config.json; IN=valid.en; ARGS=(translate --model "$F/m" --alignment); }
fuzz_model_svocab() { model_copy model source.vocab; IN=valid.en; ARGS=(translate --model "$F/m"); }
fuzz_model_tvocab() { model_copy model target.vocab; IN=valid.en; ARGS=(translate --model "$F/m" --n-best 2); }
fuzz_train_vocab() { cp en.vocab "$F/s.vocab"; mutate "$F/s.vocab"; ARGS=(train --shards shards --source-vocab "$F/s.vocab" --target-vocab fr.vocab --output "$F/o.model" --hidden 8 --embedding 4 --layers 1 --batch-size 8 --max-steps 2 --threads 1); }
fuzz_checkpoint() { model_copy ck checkpoint-20.safetensors; ARGS=(average --model "$F/m" --last 2 --output "$F/o.avg"); }
fuzz_shortlist_bin() { model_copy ck shortlist.bin; IN=valid.en; ARGS=(translate --model "$F/m"); }
fuzz_int8()       { model_copy ck best.int8.safetensors; IN=valid.en; ARGS=(translate --model "$F/m" --precision int8); }
fuzz_log()        { model_copy model log.jsonl; ARGS=(plot --model "$F/m" --output "$F/o.svg"); }
# shard folder files
shard_copy()      { cp -r shards "$F/s"; mutate "$F/s/$1"; }
fuzz_manifest_verify() { shard_copy manifest.json; ARGS=(shard --verify "$F/s"); }
fuzz_manifest_train()  { shard_copy manifest.json; ARGS=(train --shards "$F/s" --source-vocab en.vocab --target-vocab fr.vocab --output "$F/o.model" --hidden 8 --embedding 4 --layers 1 --batch-size 8 --max-steps 2 --threads 1); }
fuzz_shard_verify()    { shard_copy shard-00000.zst; ARGS=(shard --verify "$F/s"); }
fuzz_shard_export()    { shard_copy shard-00000.zst; OUTS="$F/o.en $F/o.fr"; ARGS=(shard --export "$F/s" --source "$F/o.en" --target "$F/o.fr"); }
fuzz_shard_train()     { shard_copy shard-00000.zst; ARGS=(train --shards "$F/s" --source-vocab en.vocab --target-vocab fr.vocab --output "$F/o.model" --hidden 8 --embedding 4 --layers 1 --batch-size 8 --max-steps 2 --threads 1); }
fuzz_manifest_shortlist() { shard_copy manifest.json; cp -r ck "$F/m"; ARGS=(shortlist --model "$F/m" --shards "$F/s"); }

FUZZ_TARGETS=(tokenize detokenize bpe_apply bpe_undo bpe_learn bpe_vocab codes_apply codes_vocab
  bpevocab_apply vocab bleu_hyp bleu_ref translate translate_pipe evaluate shard_tsv shard_pack
  model_best model_best_eval model_last model_resume model_config model_config_eval att_config
  model_svocab model_tvocab train_vocab checkpoint shortlist_bin int8 log
  manifest_verify manifest_train shard_verify shard_export shard_train manifest_shortlist)

fuzz() {
  local i target
  RANDOM=$SEED
  for ((i = 1; i <= N; i++)); do
    rm -rf "${F:?}"/* "$F"/.[!.]* 2>/dev/null
    target=${FUZZ_TARGETS[RANDOM % ${#FUZZ_TARGETS[@]}]}
    IN=/dev/null PIPE_IN="" OUTS="" MUT="" ARGS=()
    TARGET=$target
    "fuzz_$target"
    FUZZ=$((FUZZ + 1))
    KIND=fuzz IN=$IN PIPE_IN=$PIPE_IN OUTS=$OUTS run_case any "fuzz #$i ($target: $MUT)" "${ARGS[@]}"
    (( i % 250 == 0 )) && echo "probe: $i fuzz runs done" >&2
  done
  rm -rf "${F:?}"/*
  local line="probe: fuzz outcomes per target (succeeded/refused/other):"
  for target in "${FUZZ_TARGETS[@]}"; do
    line+=" $target ${TALLY_OK[$target]:-0}/${TALLY_REFUSED[$target]:-0}/${TALLY_OTHER[$target]:-0}"
  done
  echo "$line" | fold -s -w 100 >&2
}

# ---------------------------------------------------------------------------------------------------
setup
echo "probe: work folder $W, binary $BIN_INFO, runs on core $CORE" >&2
table
echo "probe: $TABLE table cases done" >&2
fuzz
if [[ $UNEXPECTED != 0 ]]; then
  echo "probe: $UNEXPECTED table cases did not get the expected outcome (lines 'FAIL [unexpected]')"
fi
echo "probe: $TABLE table cases, $FUZZ fuzz runs: $TRAPS traps, $HANGS hangs, $MULTI multi-line refusals, $LEFT files left behind"
(( TRAPS + HANGS + MULTI + LEFT + UNEXPECTED == 0 ))
