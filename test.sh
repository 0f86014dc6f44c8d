#!/usr/bin/env bash
# Builds everything (warnings are errors) and runs every test suite, each test project on net10.0 and net8.0 (net8.0
# self-contained on the .NET 8 runtime pack), and the package tests, whose build packs the four packages (dotnet pack,
# warnings are errors) and reads them back. CI runs exactly this (see .ci/run), with CI=true: a ContinuousIntegrationBuild.
set -euo pipefail
cd "$(dirname "$0")"

export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1
# Tests never reach real AWS: no instance metadata lookups, no ambient profile.
export AWS_EC2_METADATA_DISABLED=true

for setup in scripts/setup-*.sh; do
  [ -e "$setup" ] && bash "$setup"
done

dotnet build SecretsCache.sln -c Release -nologo -clp:ErrorsOnly

# The Lambda sample's deployable bootstrap, published with Native AOT: any trim or AOT warning fails CI (-warnaserror;
# TrimmerSingleWarn=false names each one). The Lambda tests run this binary (SECRETSCACHE_LAMBDA_BOOTSTRAP).
aot_started=$SECONDS
aot_out="$PWD/samples/LambdaFunction/bin/publish/aot-net10.0"
aot_cc=clang; command -v clang >/dev/null 2>&1 || aot_cc=clang-14   # Native AOT links with clang; Debian may name it clang-14
dotnet publish samples/LambdaFunction/LambdaFunction.csproj -c Release -f net10.0 -r linux-x64 -p:PublishAot=true \
  -p:CppCompilerAndLinker="$aot_cc" -p:TrimmerSingleWarn=false -warnaserror -nologo -clp:ErrorsOnly -o "$aot_out"
echo "Native AOT publish of samples/LambdaFunction (net10.0): $((SECONDS - aot_started)) s"
export SECRETSCACHE_LAMBDA_BOOTSTRAP="$aot_out/bootstrap"

log=$(mktemp)
status=0
dotnet test SecretsCache.sln -c Release --no-build -nologo 2>&1 | tee "$log" || status=$?

# One plain summary line over all test assemblies.
awk '/^(Passed|Failed)!/ {
  for (i = 1; i <= NF; i++) {
    if ($i == "Failed:")  failed  += $(i+1)
    if ($i == "Passed:")  passed  += $(i+1)
    if ($i == "Skipped:") skipped += $(i+1)
  }
} END { gsub(",", "", failed); printf "tests: %d passed, %d failed, %d skipped\n", passed, failed, skipped }' "$log"
rm -f "$log"
exit $status
