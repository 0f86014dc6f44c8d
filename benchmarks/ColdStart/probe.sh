#!/usr/bin/env bash
# Publishes benchmarks/ColdStart/Probe and the hello world as JIT, ReadyToRun and Native AOT (net10.0), then measures
# process start to the first secret value beside each floor, the phases from Main to the first value, and RSS at the
# first value; "credentials by the chain" is the same JIT build asking AWSSDK.Core's default chain as the provider did
# before (the before/after of the environment shortcut, in the same run). Usage: benchmarks/ColdStart/probe.sh [RUNS]
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
out="$here/bin/publish"
runs="${1:-15}"
probe="$here/Probe/ColdStartProbe.csproj"
hello="$here/Hello/Hello.csproj"
pub() { dotnet publish "$@" -c Release --nologo -v quiet; }
r2r() { pub "$@" -r linux-x64 --self-contained false -p:PublishReadyToRun=true; }
aot() { pub "$@" -r linux-x64 -p:PublishAot=true -p:CppCompilerAndLinker=clang-14; }

pub "$probe" -f net10.0 -o "$out/probe-jit"
r2r "$probe" -f net10.0 -o "$out/probe-r2r"
pub "$hello" -f net10.0 -o "$out/hello-jit"
r2r "$hello" -f net10.0 -o "$out/hello-r2r"
if [[ "${SKIP_AOT:-}" != 1 ]]; then
  aot "$probe" -f net10.0 -o "$out/probe-aot10"
  aot "$hello" -f net10.0 -o "$out/hello-aot10"
  aotcase=(--probe "Native AOT (net10.0)=$out/probe-aot10/ColdStartProbe" --floor "Native AOT (net10.0)=$out/hello-aot10/Hello")
else
  aotcase=()
fi
dotnet build "$here/ColdStart.csproj" -c Release --nologo -v quiet

dotnet "$here/bin/Release/net10.0/ColdStart.dll" --runs "$runs" --out "$here/bin/probe.md" \
  --probe "JIT (net10.0)=$out/probe-jit/ColdStartProbe" --floor "JIT (net10.0)=$out/hello-jit/Hello" \
  --probe "JIT (net10.0), credentials by the chain (before)|SECRETSCACHE_PROBE_CREDENTIALS=chain=$out/probe-jit/ColdStartProbe" \
  --probe "ReadyToRun (net10.0)=$out/probe-r2r/ColdStartProbe" --floor "ReadyToRun (net10.0)=$out/hello-r2r/Hello" \
  --probe "ReadyToRun (net10.0), credentials by the chain (before)|SECRETSCACHE_PROBE_CREDENTIALS=chain=$out/probe-r2r/ColdStartProbe" \
  "${aotcase[@]}"
