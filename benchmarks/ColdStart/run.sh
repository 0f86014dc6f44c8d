#!/usr/bin/env bash
# Publishes samples/LambdaFunction and a hello world as JIT (net10.0), ReadyToRun (net10.0) and Native AOT (net8.0),
# then measures process start -> first secret value against a loopback emulator. Usage: benchmarks/ColdStart/run.sh [RUNS]
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
out="$here/bin/publish"
runs="${1:-15}"
fn="$root/samples/LambdaFunction/LambdaFunction.csproj"
hello="$here/Hello/Hello.csproj"
pub() { dotnet publish "$@" -c Release --nologo -v quiet; }

pub "$fn" -f net10.0 -o "$out/fn-jit"
pub "$fn" -f net10.0 -r linux-x64 --self-contained false -p:PublishReadyToRun=true -o "$out/fn-r2r"
pub "$fn" -f net8.0 -r linux-x64 -p:PublishAot=true -p:CppCompilerAndLinker=clang-14 -o "$out/fn-aot"
pub "$hello" -f net10.0 -o "$out/hello-jit"
pub "$hello" -f net10.0 -r linux-x64 --self-contained false -p:PublishReadyToRun=true -o "$out/hello-r2r"
pub "$hello" -f net8.0 -r linux-x64 -p:PublishAot=true -p:CppCompilerAndLinker=clang-14 -o "$out/hello-aot"
dotnet build "$here/ColdStart.csproj" -c Release --nologo -v quiet

echo "Native AOT bootstrap: $(du -h "$out/fn-aot/bootstrap" | cut -f1)"
dotnet "$here/bin/Release/net10.0/ColdStart.dll" --runs "$runs" --out "$here/bin/cold-start.md" \
  --case "JIT (net10.0)=$out/fn-jit/bootstrap" --floor "JIT (net10.0)=$out/hello-jit/Hello" \
  --case "ReadyToRun (net10.0)=$out/fn-r2r/bootstrap" --floor "ReadyToRun (net10.0)=$out/hello-r2r/Hello" \
  --case "Native AOT (net8.0)=$out/fn-aot/bootstrap" --floor "Native AOT (net8.0)=$out/hello-aot/Hello"
