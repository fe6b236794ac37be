#!/usr/bin/env bash
# Packaging check: packs trellis, installs the tarball into a fresh temporary project with a plain
# `npm install <tarball>` (as a user would), imports every exported subpath there, and runs
# examples/quickstart.mjs against a local upstream, so a broken `exports` map or a file missing
# from the tarball fails CI. Then runs the demo from the built package with stdout piped (not a
# TTY), as CI sees it, and checks it leaves no process behind. Removes everything it created.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

echo "-- npm pack"
tarball=$(npm pack --json --pack-destination "$work" | node -e \
  'let s="";process.stdin.on("data",(c)=>s+=c).on("end",()=>console.log(JSON.parse(s)[0].filename))')

echo "-- install $tarball into a fresh project"
mkdir "$work/app"
cd "$work/app"
npm init -y >/dev/null
npm install --no-audit --no-fund --silent "$work/$tarball"

echo "-- import every exported subpath"
node "$repo/.ci/check-exports.mjs"

echo "-- run the trellis command from the installed package (package.json bin)"
npx --no-install trellis --help >/dev/null
npx --no-install trellis rules check /dev/null

echo "-- run the quickstart against the installed package"
cp "$repo/examples/quickstart.mjs" .
timeout 60 node quickstart.mjs

echo "-- run the demo (stdout not a TTY)"
cd "$repo"
demo_out=$(timeout 60 node examples/demo/run.mjs --seconds 4 | cat)
echo "$demo_out" | tail -n 20
if ! grep -q '^Summary:' <<<"$demo_out"; then
  echo "the demo printed no summary" >&2
  exit 1
fi
if pgrep -f "$repo/examples/demo/upstream.mjs" >/dev/null; then
  echo "the demo left upstream processes running" >&2
  exit 1
fi
echo "-- packaging check passed"
