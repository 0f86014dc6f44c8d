#!/usr/bin/env bash
# Publishes samples/LambdaFunction and a hello world as JIT (net10.0), ReadyToRun (net10.0) and Native AOT (net10.0 and
# net8.0), then measures Init Duration (process start to the first /next) and the first response against a Runtime API
# stand-in and a loopback emulator. Usage: benchmarks/ColdStart/run.sh [RUNS]
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
out="$here/bin/publish"
runs="${1:-15}"
fn="$root/samples/LambdaFunction/LambdaFunction.csproj"
hello="$here/Hello/Hello.csproj"
pub() { dotnet publish "$@" -c Release --nologo -v quiet; }
aot() { pub "$@" -r linux-x64 -p:PublishAot=true -p:CppCompilerAndLinker=clang-14; }

pub "$fn" -f net10.0 -o "$out/fn-jit"
pub "$fn" -f net10.0 -r linux-x64 --self-contained false -p:PublishReadyToRun=true -o "$out/fn-r2r"
aot "$fn" -f net10.0 -o "$out/fn-aot10"
aot "$fn" -f net8.0 -o "$out/fn-aot8"
pub "$hello" -f net10.0 -o "$out/hello-jit"
pub "$hello" -f net10.0 -r linux-x64 --self-contained false -p:PublishReadyToRun=true -o "$out/hello-r2r"
aot "$hello" -f net10.0 -o "$out/hello-aot10"
aot "$hello" -f net8.0 -o "$out/hello-aot8"
dotnet build "$here/ColdStart.csproj" -c Release --nologo -v quiet

echo "Native AOT bootstrap: $(du -h "$out/fn-aot10/bootstrap" | cut -f1) (net10.0), $(du -h "$out/fn-aot8/bootstrap" | cut -f1) (net8.0)"
dotnet "$here/bin/Release/net10.0/ColdStart.dll" --runs "$runs" --out "$here/bin/cold-start.md" \
  --case "JIT (net10.0)=$out/fn-jit/bootstrap" --floor "JIT (net10.0)=$out/hello-jit/Hello" \
  --case "ReadyToRun (net10.0)=$out/fn-r2r/bootstrap" --floor "ReadyToRun (net10.0)=$out/hello-r2r/Hello" \
  --case "Native AOT (net10.0)=$out/fn-aot10/bootstrap" --floor "Native AOT (net10.0)=$out/hello-aot10/Hello" \
  --case "Native AOT (net8.0)=$out/fn-aot8/bootstrap" --floor "Native AOT (net8.0)=$out/hello-aot8/Hello"
