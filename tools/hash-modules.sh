#!/bin/sh
# Trunk's post_build hook (Trunk.toml, [[hooks]]): names the wasm modules the
# page fetches on demand by their content.
#
# Usage: sh tools/hash-modules.sh BIN...   (trunk sets TRUNK_STAGING_DIR)
#
# Why: trunk builds each BIN (a `data-type="worker"` rust asset in
# index.html) as BIN.js + BIN_bg.wasm (+ BIN_loader.js with
# data-loader-shim), named after the binary, without a content hash. Hosted
# on a static server and redeployed, a browser may then pair a cached old
# JS glue with a new wasm (wasm-bindgen's glue and wasm must match exactly).
# This hook renames them BIN-<digest>.js, BIN-<digest>_bg.wasm and
# BIN-<digest>_loader.js, <digest> being the first 16 hex digits of the
# SHA-256 of what trunk wrote for BIN (its JS, wasm and loader, in that
# order), so every URL changes whenever any of them does. The loader is
# rewritten to load the renamed files, and index.html gets the names'
# common stem in place of its placeholder, `unhashed:BIN` in
# <meta name="raftlab-module-BIN" content="...">, which the page reads at
# run time (web/src/lib.rs, module_stem). The page refuses a stem that is
# not BIN-<16 hex digits>, so a build without this hook fails loudly.
#
# Runs in the staging folder, before trunk moves it into dist/; any failure
# (a file missing, no placeholder or two) fails the build. Needs only sh,
# sed, mv and sha256sum (coreutils; shasum on macOS).
set -eu

fail() {
    echo "hash-modules: $*" >&2
    exit 1
}

stage="${TRUNK_STAGING_DIR:-}"
[ -n "$stage" ] || fail "TRUNK_STAGING_DIR is not set (this is trunk's post_build hook)"
[ -d "$stage" ] || fail "no staging folder $stage"
html="$stage/index.html"
[ -f "$html" ] || fail "no index.html in $stage"
[ $# -gt 0 ] || fail "usage: hash-modules.sh BIN..."

digest() {
    if command -v sha256sum >/dev/null 2>&1; then
        sha256sum
    elif command -v shasum >/dev/null 2>&1; then
        shasum -a 256
    else
        fail "neither sha256sum nor shasum is installed"
    fi | cut -c1-16
}

for bin in "$@"; do
    case "$bin" in
        "" | *[!a-z0-9_-]*) fail "unexpected binary name '$bin' (a-z, 0-9, _ and - only)" ;;
    esac
    js="$stage/$bin.js"
    wasm="$stage/${bin}_bg.wasm"
    loader="$stage/${bin}_loader.js"
    [ -f "$js" ] || fail "trunk wrote no $bin.js (is $bin a data-type=\"worker\" asset in index.html?)"
    [ -f "$wasm" ] || fail "trunk wrote no ${bin}_bg.wasm"
    # Empty: another release build sharing target/wasm-opt raced this one.
    [ -s "$js" ] && [ -s "$wasm" ] || fail "$bin.js or ${bin}_bg.wasm is empty (two release builds at once?)"
    placeholder="unhashed:$bin"
    found=$(grep -o -F "$placeholder" "$html" | wc -l)
    [ "$found" -eq 1 ] ||
        fail "index.html must hold the placeholder $placeholder exactly once (<meta name=\"raftlab-module-$bin\" content=\"$placeholder\" />), found $found"

    if [ -f "$loader" ]; then
        hash=$(cat "$js" "$wasm" "$loader" | digest)
    else
        hash=$(cat "$js" "$wasm" | digest)
    fi
    [ ${#hash} -eq 16 ] || fail "could not digest $bin's files"
    stem="$bin-$hash"

    if [ -f "$loader" ]; then
        # Trunk's no-modules shim: importScripts("./BIN.js");wasm_bindgen("./BIN_bg.wasm");
        sed -e "s|\./$bin\.js\([\"']\)|./$stem.js\1|g" \
            -e "s|\./${bin}_bg\.wasm\([\"']\)|./${stem}_bg.wasm\1|g" \
            "$loader" >"$stage/${stem}_loader.js"
        grep -q -F "./$stem.js" "$stage/${stem}_loader.js" &&
            grep -q -F "./${stem}_bg.wasm" "$stage/${stem}_loader.js" ||
            fail "${bin}_loader.js does not load ./$bin.js and ./${bin}_bg.wasm as expected: $(cat "$loader")"
        rm "$loader"
    fi
    mv "$js" "$stage/$stem.js"
    mv "$wasm" "$stage/${stem}_bg.wasm"
    sed -e "s|$placeholder|$stem|" "$html" >"$html.tmp"
    mv "$html.tmp" "$html"
    echo "hash-modules: $bin -> $stem"
done
